/* ni_run.h — the embedding API's implementation module (lib/api/ni_run.c).
 * Its declarations are public and live in include/netintel/run.h (included
 * by netintel/netintel.h); this header adds the internals the other modules
 * of lib/api (the collector, the look-ups) share with it. */
#ifndef NI_RUN_H
#define NI_RUN_H

#include <signal.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"
#include "enrich/ni_enrich.h"
#include "session/ni_target.h"

/* The run's enrichment (loaded once).  NULL with err set on failure. */
ni_enrich *ni_run_enrich(ni_run *r, ni_error *err);
/* The run's target, NULL without specs. */
const ni_target *ni_run_target(const ni_run *r);

/* A session from a source outside the engine (the flow collector): its
 * direction by the run's target, then what every session of the run gets
 * (target matches, enrichment, the profile, the session callback). */
ni_err ni_run_deliver(ni_run *r, ni_session *s, ni_error *err);
/* Passes a warning to the run's warning callback. */
void ni_run_warn(ni_run *r, const char *msg);
/* Set by ni_run_interrupt (a sig_atomic_t, for loops that poll it). */
const volatile sig_atomic_t *ni_run_stop_flag(ni_run *r);
/* The run's buffer for look-up results (ni_run_lookup_json). */
ni_buf *ni_run_lookup_buf(ni_run *r);

#endif
