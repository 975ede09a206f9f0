/* ni_run.h — the embedding API's implementation module (lib/api/ni_run.c).
 * Its declarations are public and live in include/netintel/run.h (included
 * by netintel/netintel.h); this header adds the two internals that the
 * commands not yet written on the API alone (`collect`) still need. */
#ifndef NI_RUN_H
#define NI_RUN_H

#include "netintel/netintel.h"
#include "enrich/ni_enrich.h"
#include "session/ni_target.h"

/* The run's enrichment (loaded once).  NULL with err set on failure. */
ni_enrich *ni_run_enrich(ni_run *r, ni_error *err);
/* The run's target, NULL without specs. */
const ni_target *ni_run_target(const ni_run *r);

#endif
