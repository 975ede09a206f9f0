/* run.h — the embedding API of libnetintel: one run reads inputs (captures,
 * standard input, stored sessions) in the order given, turns them into
 * enriched sessions, hands each to the caller's callback and, when asked,
 * to a profile; the profile is written as report.json/html/md; single
 * addresses, domains and User-Agents can be looked up with the same data.
 * Included by netintel.h; documented in docs/API.md; examples/ shows a
 * complete program.
 *
 * Lifetimes: ni_run_new/ni_run_free; a profile made by ni_run_profile
 * belongs to the run (freed with it); ni_run_new_profile/ni_profile_free for
 * profiles of one's own (merging), freed before their run.  Callbacks get
 * sessions that are valid only during the call.  A run is used by one
 * thread at a time (ni_run_interrupt excepted); separate runs are
 * independent. */
#ifndef NETINTEL_RUN_H
#define NETINTEL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel.h"

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
    size_t max_inputs;           /* inputs one run reads (ni_run_read: NI_ERR_LIMIT past it) */
    int64_t tcp_idle_us, udp_idle_us, active_us;   /* flow timeouts */
    /* profile only */
    const char *tz;              /* local time zone; NULL: the target preset's, else UTC */
    int64_t since_us, until_us;  /* window [since, until); 0 = open */
    const char *events_path;     /* TSV annotations (date, label[, region, site]); NULL none */
    /* inputs (added in 0.2: after the fields above) */
    const char *filter;          /* BPF expression (pcap-filter(7)) for the frames of captures;
                                    NULL none; other inputs are refused (NI_ERR_UNSUPPORTED) */
    bool flows;                  /* read every input as a capture of NetFlow/IPFIX export
                                    datagrams, whatever its content (default false) */
    /* live capture (added in 0.3: after the fields above) */
    bool live;                   /* every input is a network interface to capture from
                                    (libpcap, promiscuous; needs root or CAP_NET_RAW to
                                    open); a stop request (ni_run_interrupt) is its normal
                                    end, not an interruption.  Default false */
    int snaplen;                 /* bytes kept of each frame; 0: 262144 */
    size_t buffer;               /* kernel capture buffer in bytes; 0: libpcap's (2 MiB) */
    uint64_t count;              /* end a capture after this many frames; 0: no limit */
    int64_t duration_us;         /* end a capture this long after it starts; 0: no limit */
    unsigned threads;            /* CPUs for the frames of captures (0 or 1, the default:
                                    no thread; at most NETINTEL_THREADS_MAX): N gives the
                                    reader (the caller's thread) and N - 1 worker threads;
                                    a live capture runs without threads.  With N > 1 the
                                    callbacks of ni_run_on_session run in whichever of
                                    these threads merges at the time, one call at a time,
                                    in the order one thread gives (docs/API.md) */
} ni_options;

#define NETINTEL_THREADS_MAX 64

/* The defaults: no target, the default data, enrich and nDPI on, the flow
 * table's default limits and timeouts, UTC unless a preset names a zone. */

void ni_options_init(ni_options *o);

typedef struct ni_run ni_run;
typedef struct ni_profile ni_profile;

/* A session as it ends (enriched when options.enrich).  A non-OK return
 * stops the run with that error. */
typedef ni_err (*ni_session_fn)(void *ud, const ni_session *s, ni_error *err);
/* A one-line warning "<file>: <problem>" the run goes on after. */
typedef void (*ni_warning_fn)(void *ud, const char *msg);
/* Progress of the current input, every 16384 frames: bytes done of total
 * (0 = unknown) and the run's counters so far. */
typedef void (*ni_progress_fn)(void *ud, const char *input, uint64_t done, uint64_t total,
                               const ni_stats *stats);

/* Checks the options and builds the target (loading the GeoIP/ASN data when
 * a country:/asn: spec needs it); the options and what they point to are
 * copied (o NULL: the defaults).  NULL with err set: NI_ERR_ARG for a bad
 * target spec ("--target: 'x': ...") or option (a filter libpcap cannot
 * compile: "filter 'x': <libpcap's message>"), NI_ERR_NOTFOUND/NI_ERR_DATA
 * for missing or corrupt data, NI_ERR_NOMEM. */
ni_run *ni_run_new(const ni_options *o, ni_error *err);
void ni_run_free(ni_run *r);
/* For a process that exits next: ends what the run still does in the
 * background (an enrichment load in progress, which may be writing a
 * start-up cache) and leaves its memory to the exit, which gives it back at
 * once; freeing nDPI's tables, the caches and the aggregates block by block
 * costs about a tenth of a 300 MB profile run.  The run is not to be used
 * again.  Builds with AddressSanitizer or ThreadSanitizer free it, as
 * ni_run_free does, so that their leak and race checks cover the freeing. */
void ni_run_exit(ni_run *r);

/* Loads the enrichment data (GeoIP, ASN, User-Agents, catalogues) now, so
 * that its errors come before any input; otherwise the first ni_run_read
 * (options.enrich), ni_run_profile or look-up loads it.  NI_ERR_DATA,
 * NI_ERR_NOTFOUND, NI_ERR_NOMEM. */
ni_err ni_run_load(ni_run *r, ni_error *err);

void ni_run_on_session(ni_run *r, ni_session_fn fn, void *ud);
void ni_run_on_warning(ni_run *r, ni_warning_fn fn, void *ud);
void ni_run_on_progress(ni_run *r, ni_progress_fn fn, void *ud);

/* Also counts every session into a profile owned by the run (created on
 * the first call, the same one after; call it before the first
 * ni_run_read).  Loads the events, the time zone and the enrichment data.
 * NULL with err set on failure: NI_ERR_DATA for a bad events file,
 * NI_ERR_ARG for an unknown time zone, the codes of ni_run_load. */
ni_profile *ni_run_profile(ni_run *r, ni_error *err);

/* Whether some session so far had an end in the i-th target spec
 * (i < n_targets); false for i out of range. */
bool ni_run_target_matched(const ni_run *r, size_t i);

/* Reads one input to its end: a capture (pcap/pcapng, .gz/.zst), "-" for
 * standard input, stored sessions (JSON Lines of `netintel sessions`), Zeek
 * logs or a capture of flow exports, recognised by content (options.flows:
 * always flow exports).  Sessions still open stay open across inputs. On
 * a damaged input, returns its error after using what came before.  With
 * options.filter, only the frames it accepts are read; an input that is not
 * a packet capture is NI_ERR_UNSUPPORTED ("<input>: a packet filter applies
 * to packet captures, not to stored sessions"), a filter that cannot be
 * compiled for the capture's link type NI_ERR_ARG. */
ni_err ni_run_read(ni_run *r, const char *input, ni_error *err);

/* Opens an input now (options.live: the network interface, while the
 * caller still has the privileges to capture, which it may drop before
 * ni_run_read); the next ni_run_read of the same input reads it.  One at a
 * time.  The errors of ni_run_read's opening: "<iface>: no such interface"
 * (NI_ERR_NOTFOUND), "<iface>: permission denied: capturing needs root or
 * CAP_NET_RAW" (NI_ERR_IO), a filter that cannot be compiled (NI_ERR_ARG). */
ni_err ni_run_open(ni_run *r, const char *input, ni_error *err);

/* Calls fn about every every_us of wall time while ni_run_read reads
 * (between items; a live capture returns to the run at least every 200 ms
 * when idle), for example to write the profile so far (ni_profile_write
 * does not end the run).  Before each call the run's profile learns the
 * capture's counters so far ("capture" in report.json, in_progress).
 * fn NULL: none. */
typedef void (*ni_tick_fn)(void *ud);
void ni_run_every(ni_run *r, int64_t every_us, ni_tick_fn fn, void *ud);

/* Asks a run in progress to stop at the next packet (async-signal-safe:
 * it only sets a flag; may be called from a signal handler or another
 * thread); ni_run_read then returns NI_ERR_INTERRUPTED
 * (and so does every later ni_run_read).  The profile is marked
 * "interrupted". */
void ni_run_interrupt(ni_run *r);

/* Ends the open sessions (they are passed to the callback and the
 * profile).  Call it once, after the last ni_run_read.  The profile is
 * "interrupted" when ni_run_interrupt stopped a read of a file; a live
 * capture (options.live) ends that way normally and is not. */
ni_err ni_run_finish(ni_run *r, ni_error *err);

/* The run's counters (valid until ni_run_free) and the most flows live at
 * once. */
const ni_stats *ni_run_stats(const ni_run *r);
size_t ni_run_peak_flows(const ni_run *r);

/* ---- profiles ----------------------------------------------------------- */
/* An empty profile with the run's configuration (target, time zone,
 * window, events), owned by the caller, to be freed before the run: for
 * counting sessions of one's own (ni_profile_add) or merging. */
ni_profile *ni_run_new_profile(ni_run *r, ni_error *err);
void ni_profile_free(ni_profile *p);
/* Adds one enriched session. */
void ni_profile_add(ni_profile *p, const ni_session *s);
/* Adds everything src counted into dst (both of the same run).
 * NI_ERR_NOMEM leaves dst with some of src's counts. */
ni_err ni_profile_merge(ni_profile *dst, const ni_profile *src);
/* Sessions counted so far; whether every count is exact (false: a cap of
 * the aggregator was reached, see "limits" in report.json). */
uint64_t ni_profile_sessions(const ni_profile *p);
bool ni_profile_complete(const ni_profile *p);
/* What could not be counted: insertions refused because a cap was reached
 * (per cap) or memory ran out; all zero when ni_profile_complete. */
typedef struct ni_profile_loss {
    uint64_t names, hosts, clients, versions, evidence, out_of_memory;
} ni_profile_loss;
void ni_profile_get_losses(const ni_profile *p, ni_profile_loss *out);
/* Writes DIR/report.json, report.html and report.md (DIR is created if
 * missing), each atomically; report.json is checked against its schema
 * before anything is written.  NI_ERR_OUTPUT/NI_ERR_LIMIT/NI_ERR_NOMEM;
 * the message names the file inside DIR or the problem, not DIR itself
 * (the caller prefixes it: "out: cannot create the folder: ..."). */
ni_err ni_profile_write(ni_profile *p, const char *dir, ni_error *err);

/* Renders DIR/report.html and DIR/report.md again from a report.json (as
 * `netintel report`): both are rendered in memory first, so a bad document
 * never replaces a good report, then written, each atomically.  dir NULL:
 * the directory holding report_json; created if missing.  Errors name the
 * file: NI_ERR_NOTFOUND/NI_ERR_IO, NI_ERR_LIMIT (too large), NI_ERR_FORMAT
 * (not a report.json of this schema), NI_ERR_OUTPUT. */
ni_err ni_report_render(const char *report_json, const char *dir, ni_error *err);

/* The figures `netintel profile` prints after writing a report: read from
 * a report.json, checked against its schema like `report` and `diff` read
 * it.  Strings are copies owned by s (ni_report_summary_release). */
typedef struct ni_report_summary {
    uint64_t sessions, outbound, inbound, internal;     /* totals.* */
    uint64_t hosts;                                     /* totals.hosts: target hosts */
    char *first, *last;         /* window.first/last (RFC 3339), NULL when there is none */
    char **findings;            /* findings[].text, in the report's order */
    size_t n_findings;
} ni_report_summary;
/* NI_ERR_NOTFOUND/NI_ERR_IO, NI_ERR_LIMIT, NI_ERR_FORMAT (not a report.json
 * of this schema: the key named), NI_ERR_NOMEM; s is left empty on error. */
ni_err ni_report_summary_load(const char *report_json, ni_report_summary *s, ni_error *err);
/* ni_profile_write, and the summary of the report it wrote (what
 * ni_report_summary_load would read back from DIR/report.json) taken from
 * the document in memory, without reading the file again.  sum NULL: as
 * ni_profile_write.  On any error sum is left empty; NI_ERR_NOMEM after the
 * reports were written means only the summary could not be copied. */
ni_err ni_profile_write_summary(ni_profile *p, const char *dir, ni_report_summary *sum, ni_error *err);
void ni_report_summary_release(ni_report_summary *s);

/* Compares two report.json files (`netintel diff`): writes the changes as
 * Markdown to md_path (NULL or "-": standard output) and, when json_path
 * is not NULL, as JSON there (each by the rules of netintel/output.h);
 * *changed is false when the two carry the same figures.  Errors name the
 * file: NI_ERR_NOTFOUND, NI_ERR_IO, NI_ERR_LIMIT, NI_ERR_FORMAT (not a
 * report.json), NI_ERR_OUTPUT, NI_ERR_PIPE. */
ni_err ni_report_diff(const char *old_json, const char *new_json, const char *md_path, const char *json_path,
                      bool *changed, ni_error *err);

/* ---- times ---------------------------------------------------------------- */
/* Parses "YYYY-MM-DD" or RFC 3339 ("YYYY-MM-DDTHH:MM[:SS[.ffffff]]Z" or with
 * a ±HH:MM offset) into µs since the epoch (for since_us/until_us);
 * NI_OK or NI_ERR_ARG. */
ni_err ni_time_parse(const char *s, int64_t *us);

/* ---- look-ups ------------------------------------------------------------- */
/* Fills out's server_* fields (country, continent, ASN, organisation) and
 * service/category/VPN fields for an address or a domain name, as a session
 * to that server would have them.  out is cleared first; its strings belong
 * to the run and stay valid until the next look-up or ni_run_free.
 * NI_ERR_ARG if text is neither. */
ni_err ni_run_lookup(ni_run *r, const char *text, ni_session *out, ni_error *err);
/* Fills out's ua_* fields and windows_version for one User-Agent (client
 * hints may be NULL), as a session carrying it would have them; out as for
 * ni_run_lookup. */
ni_err ni_run_lookup_ua(ni_run *r, const char *ua, const char *platform,
                        const char *platform_version, const char *model,
                        ni_session *out, ni_error *err);

#ifdef __cplusplus
}
#endif
#endif
