/* ni_profile.h — the profile of a target space: every analysis of the study
 * as one aggregator over enriched sessions (add → finish → JSON).
 * Sections: overview, activity by local hour/weekday (tz database), services
 * and categories, devices (makers, form factors, models and release lag),
 * software (OS, Windows versions, browsers and their age, outdated software),
 * VPN and proxy use, visitors of the target's sites (by site, country,
 * continent × month, with level shifts detected), vendor exposure, and
 * findings in ICD 203 estimative language.  Units are explicit: hosts =
 * distinct target addresses, clients = distinct (address, User-Agent) pairs,
 * sessions.  The JSON is deterministic: the same sessions give the same bytes. */
#ifndef NI_PROFILE_H
#define NI_PROFILE_H

#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"
#include "analyze/ni_tz.h"
#include "enrich/ni_enrich.h"

/* Look-ups the profile needs from the enrichment catalogues (device names,
 * release dates, lifecycles, vendors): ni_enrich_lookups, enrich/ni_enrich.h. */
typedef ni_enrich_lookups ni_profile_lookups;

typedef struct ni_event {
    int64_t at_us;
    const char *label, *region, *site;
} ni_event;

typedef struct ni_profile_config {
    const char *const *target_spec;  /* as given on the command line */
    size_t n_target_spec;
    const ni_tz *tz;                 /* local time; required */
    int64_t since_us, until_us;      /* window filter; 0 = open */
    ni_profile_lookups lookups;
    const ni_event *events;          /* --events annotations (sorted or not) */
    size_t n_events;
} ni_profile_config;

typedef struct ni_profile ni_profile;

/* The config (and what it points to) must outlive the profile. */
ni_profile *ni_profile_new(const ni_profile_config *cfg, ni_error *err);
void ni_profile_free(ni_profile *p);

/* Adds one enriched session (its strings are copied as needed). */
void ni_profile_add(ni_profile *p, const ni_session *s);

/* Adds everything src counted into dst (same config). */
ni_err ni_profile_merge(ni_profile *dst, const ni_profile *src);

/* Writes report.json (indented, deterministic) into out. */
ni_err ni_profile_json(ni_profile *p, ni_buf *out);

/* Sessions counted (after the window filter). */
uint64_t ni_profile_sessions(const ni_profile *p);

#endif
