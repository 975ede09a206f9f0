/* ni_profile.h — the profile of a target space: every analysis of the study
 * as one aggregator over enriched sessions (add → finish → JSON).
 * Sections: overview, activity by local hour/weekday (tz database), services
 * and categories, devices (makers, form factors, models and release lag),
 * software (OS, Windows versions, browsers and their age, outdated software),
 * VPN and proxy use, a per-host view (each target host's makers, models,
 * OS, browsers, services and VPN providers), visitors of the target's sites (by site, country,
 * continent × month, with level shifts detected), vendor exposure, and
 * findings in ICD 203 estimative language, and the limits (what could not be
 * counted, when a cap was reached).  Units are explicit: hosts =
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

/* Caps on what the aggregator holds (0 = the default of core/ni_limits.h). */
typedef struct ni_profile_caps {
    size_t names;       /* reported only (limits.names.cap): sections keep their busiest
                           `rows` names and refuse none (issue 11) */
    size_t hosts;       /* reported only (limits.hosts.cap): distinct counts are estimated past
                           `distinct`, never refused */
    size_t clients;     /* the same for limits.clients.cap */
    size_t versions;    /* OS versions per OS family */
    size_t evidence;    /* evidence items per vendor, items per host of the host view */
    size_t host_view;   /* target hosts of the per-host view ("hosts"); past it, those of
                           smallest address hash */
    size_t distinct;    /* distinct counts exact up to this many values, then estimated */
    size_t rows;        /* names per section (services, sites, models...): past it the busiest
                           (Space-Saving, core/ni_topk), what left counted in limits.rows */
    size_t dns_pairs;   /* (client, suffix) pairs of dns_tunnels: past it the most queried */
} ni_profile_caps;

/* What could not be counted: insertions refused because a cap was reached
 * (per cap) or memory ran out.  All zero = every count is exact; host_view
 * (hosts left out of the per-host view) makes no other count inexact. */
typedef struct ni_profile_losses {
    ni_profile_caps caps;                       /* the caps in force */
    uint64_t names, hosts, clients, versions, evidence, host_view, out_of_memory;
} ni_profile_losses;

/* A live capture: written as "capture" in report.json. */
typedef struct ni_profile_capture {
    const char *interface;           /* the interface(s) read */
    uint64_t received, dropped, if_dropped;     /* the kernel's counters (pcap_stats) */
    bool in_progress;                /* a report of a run still capturing (--every) */
} ni_profile_capture;

typedef struct ni_profile_config {
    const char *const *target_spec;  /* as given on the command line */
    size_t n_target_spec;
    const ni_tz *tz;                 /* local time; required */
    int64_t since_us, until_us;      /* window filter; 0 = open */
    ni_profile_lookups lookups;
    const ni_event *events;          /* --events annotations (sorted or not) */
    size_t n_events;
    bool interrupted;                /* the run was stopped early: "interrupted": true */
    const ni_profile_capture *capture;  /* NULL: not a live capture; read when the JSON is written */
} ni_profile_config;

typedef struct ni_profile ni_profile;

/* The config (and what it points to) must outlive the profile. */
ni_profile *ni_profile_new(const ni_profile_config *cfg, ni_error *err);
/* The same with other caps (NULL or a zero field: the default). */
ni_profile *ni_profile_new_capped(const ni_profile_config *cfg, const ni_profile_caps *caps, ni_error *err);
void ni_profile_free(ni_profile *p);

/* Adds one enriched session (its strings are copied as needed). */
void ni_profile_add(ni_profile *p, const ni_session *s);

/* Adds everything src counted into dst (same config). */
ni_err ni_profile_merge(ni_profile *dst, const ni_profile *src);

/* Writes report.json (indented, deterministic) into out. */
ni_err ni_profile_json(ni_profile *p, ni_buf *out);

/* Sessions counted (after the window filter). */
uint64_t ni_profile_sessions(const ni_profile *p);

/* ICD 203 estimative language: the term of the probability band of pr
 * ("almost no chance", "very unlikely", "unlikely", "roughly even odds",
 * "likely", "very likely", "almost certain") and the clause that opens a
 * judgement with it ("there is almost no chance", "it is likely"; + " that ..."). */
const char *ni_profile_icd203(double pr);
const char *ni_profile_icd203_phrase(double pr);

/* The shape of a week of activity (sessions per local weekday, Monday
 * first): each weekend day quiet (below half the mean Monday-Friday rate)
 * or busy; p = probability that both lie on the side found. */
typedef enum ni_week_kind {
    NI_WEEK_UNKNOWN,    /* no Monday-Friday session */
    NI_WEEK_FIVE_DAY,   /* Saturday and Sunday quiet */
    NI_WEEK_SIX_DAY,    /* Saturday busy, Sunday quiet */
    NI_WEEK_NONE,       /* both busy: no weekly pattern */
    NI_WEEK_OTHER       /* Saturday quiet, Sunday busy */
} ni_week_kind;
typedef struct ni_week_shape {
    ni_week_kind kind;
    const char *name;       /* "five-day week", "six-day week", "no weekly pattern", ... */
    double weekday_mean;    /* sessions per Monday-Friday day */
    double ratio[2];        /* Saturday, Sunday against weekday_mean */
    double p;               /* probability of the shape (both days on their side) */
} ni_week_shape;
void ni_profile_week_shape(const uint64_t by_weekday[7], ni_week_shape *out);

/* The caps in force and the insertions refused so far (also written to
 * report.json as "limits"); complete = nothing was refused. */
const ni_profile_losses *ni_profile_lost(const ni_profile *p);
bool ni_profile_complete(const ni_profile *p);

#endif
