/* run.h — the embedding API of libnetintel: one run reads inputs (captures,
 * standard input, stored sessions) in the order given, turns them into
 * enriched sessions, hands each to the caller's callback and, when asked,
 * to a profile; the profile is written as report.json/html/md; single
 * addresses, domains and User-Agents can be looked up with the same data.
 * Included by netintel.h; documented in docs/API.md; examples/ shows a
 * complete program.
 *
 * Lifetimes: ni_run_new/ni_run_free; a profile made by ni_run_profile
 * belongs to the run (freed with it); ni_profile_new_like/ni_profile_free for
 * profiles of one's own (merging).  Callbacks get sessions that are valid
 * only during the call.  When a function that takes a callback fails, the
 * callback is not called again. */
#ifndef NETINTEL_RUN_H
#define NETINTEL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a run does; ni_options_init gives the defaults of the CLI. */
typedef struct ni_options {
    const char *const *targets;  /* target specs (CIDR, @FILE, preset, country:CC, asn:N) */
    size_t n_targets;            /* 0: no target, every session's direction is "unknown" */
    const char *data_dir;        /* NULL: $NETINTEL_DATA, else the defaults (netintel(1)) */
    const char *geoip_path;      /* NULL: $NETINTEL_GEOIP, else the defaults */
    const char *asn_path;        /* NULL: the ASN data in the data directory */
    bool enrich;                 /* GeoIP, ASN, User-Agent, service, VPN fields (default true) */
    bool ndpi;                   /* nDPI's second opinion (default true) */
    size_t max_flows;            /* live flows kept at once */
    int64_t tcp_idle_us, udp_idle_us, active_us;   /* flow timeouts */
    /* profile only */
    const char *tz;              /* local time zone; NULL: the target preset's, else UTC */
    int64_t since_us, until_us;  /* window [since, until); 0 = open */
    const char *events_path;     /* TSV annotations (date, label[, region, site]); NULL none */
} ni_options;

void ni_options_init(ni_options *o);

typedef struct ni_run ni_run;
typedef struct ni_profile ni_profile;

/* A session as it ends (enriched when options.enrich).  A non-OK return
 * stops the run with that error. */
typedef ni_err (*ni_session_fn)(void *ud, const ni_session *s, ni_error *err);
/* A one-line warning "<file>: <problem>" the run goes on after. */
typedef void (*ni_warning_fn)(void *ud, const char *msg);
/* Progress of the current input: bytes done of total (0 = unknown). */
typedef void (*ni_progress_fn)(void *ud, const char *input, uint64_t done, uint64_t total,
                               const ni_stats *stats);

/* Loads the data the options need (targets, GeoIP, ASN, User-Agents,
 * catalogues).  NULL with err set: NI_ERR_ARG for a bad target spec or time
 * zone, NI_ERR_DATA for missing or corrupt data, NI_ERR_NOMEM. */
ni_run *ni_run_new(const ni_options *o, ni_error *err);
void ni_run_free(ni_run *r);

void ni_run_on_session(ni_run *r, ni_session_fn fn, void *ud);
void ni_run_on_warning(ni_run *r, ni_warning_fn fn, void *ud);
void ni_run_on_progress(ni_run *r, ni_progress_fn fn, void *ud);

/* Also counts every session into a profile owned by the run (created on
 * the first call, the same one after).  NULL with err set on failure. */
ni_profile *ni_run_profile(ni_run *r, ni_error *err);

/* Reads one input to its end: a capture (pcap/pcapng, .gz/.zst), "-" for
 * standard input, or stored sessions (JSON Lines of `netintel sessions`),
 * recognised by content.  Sessions still open stay open across inputs. On
 * a damaged input, returns its error after using what came before. */
ni_err ni_run_read(ni_run *r, const char *input, ni_error *err);

/* Asks a run in progress to stop at the next packet (safe from a signal
 * handler); ni_run_read then returns NI_ERR_INTERRUPTED. */
void ni_run_interrupt(ni_run *r);

/* Ends the open sessions (they are passed to the callback) and completes
 * the profile. */
ni_err ni_run_finish(ni_run *r, ni_error *err);

const ni_stats *ni_run_stats(const ni_run *r);

/* ---- profiles ----------------------------------------------------------- */
/* An empty profile with the same configuration as like (for merging). */
ni_profile *ni_profile_new_like(const ni_profile *like, ni_error *err);
void ni_profile_free(ni_profile *p);
/* Adds one enriched session. */
void ni_profile_add(ni_profile *p, const ni_session *s);
/* Adds everything src counted into dst (same configuration). */
ni_err ni_profile_merge(ni_profile *dst, const ni_profile *src);
/* Writes DIR/report.json, report.html and report.md, each atomically. */
ni_err ni_profile_write(ni_profile *p, const char *dir, ni_error *err);

/* Renders DIR/report.html and DIR/report.md again from a report.json. */
ni_err ni_report_render(const char *report_json, const char *dir, ni_error *err);

/* ---- look-ups ------------------------------------------------------------- */
/* Fills out's server_* fields (country, continent, ASN, organisation) and
 * service/category/VPN fields for an address or a domain name, as a session
 * to that server would have them.  NI_ERR_ARG if text is neither. */
ni_err ni_run_lookup(ni_run *r, const char *text, ni_session *out, ni_error *err);
/* Fills out's ua_* fields and windows_version for one User-Agent (client
 * hints may be NULL), as a session carrying it would have them. */
ni_err ni_run_lookup_ua(ni_run *r, const char *ua, const char *platform,
                        const char *platform_version, const char *model,
                        ni_session *out, ni_error *err);

#ifdef __cplusplus
}
#endif
#endif
