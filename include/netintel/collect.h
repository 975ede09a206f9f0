/* collect.h — a flow collector in the embedding API (`netintel collect`):
 * NetFlow v5/v9 and IPFIX exports, received on UDP sockets or read from
 * captures of export datagrams, become sessions (the two directions of a
 * conversation paired into one) that go through a run like any other
 * session: direction by the run's target, enrichment (options.enrich), the
 * run's session callback and profile.  Included by netintel.h; documented
 * in docs/API.md ("A flow collector"); flow sessions: docs/flows.md. */
#ifndef NETINTEL_COLLECT_H
#define NETINTEL_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include "netintel.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ni_run;                  /* run.h (this header may be read before it) */

#define NI_COLLECTOR_LISTEN_MAX 16u     /* sockets one collector listens on */

typedef struct ni_collector_options {
    int64_t pair_timeout_us;    /* join the two directions arriving within this window */
    int64_t template_ttl_us;    /* forget templates not refreshed for this long */
} ni_collector_options;

/* The defaults (the values `netintel collect --help` shows). */
void ni_collector_options_init(ni_collector_options *o);

typedef struct ni_collector ni_collector;

/* A collector whose sessions go through run r (which must outlive it);
 * o NULL: the defaults.  Warnings about bad datagrams ("<where>: <problem>")
 * go to the run's warning callback.  NULL with err set: NI_ERR_ARG (a
 * timeout <= 0), NI_ERR_NOMEM. */
ni_collector *ni_collector_new(struct ni_run *r, const ni_collector_options *o, ni_error *err);
void ni_collector_free(ni_collector *c);

/* Opens and binds one socket: "udp://HOST:PORT" (HOST an IPv4 address, an
 * IPv6 address in brackets, or a name; PORT 0: any free port).  NI_ERR_ARG
 * ("udp://x: <problem>"), NI_ERR_IO, NI_ERR_LIMIT past
 * NI_COLLECTOR_LISTEN_MAX. */
ni_err ni_collector_listen(ni_collector *c, const char *spec, ni_error *err);
size_t ni_collector_sockets(const ni_collector *c);
/* The port socket i is bound to (useful after PORT 0). */
uint16_t ni_collector_port(const ni_collector *c, size_t i);

/* Receives on the sockets until ni_run_interrupt is called on the run or
 * duration_us has passed (0: no limit), then reads what the sockets hold.
 * NI_OK, or the session callback's error. */
ni_err ni_collector_run(ni_collector *c, int64_t duration_us, ni_error *err);
/* Reads a capture of export datagrams ("-": standard input): every UDP
 * payload is an export datagram.  Errors are the capture's ("<path>:
 * <problem>"), after everything before the damage was used. */
ni_err ni_collector_read(ni_collector *c, const char *path, ni_error *err);
/* Emits every record still waiting for its reverse direction.  Call it
 * once, at the end. */
ni_err ni_collector_finish(ni_collector *c, ni_error *err);

/* What the collector saw. */
typedef struct ni_collector_stats {
    uint64_t datagrams, v5, v9, ipfix;      /* export datagrams, per version */
    uint64_t not_export, malformed;         /* not a v5/v9/IPFIX header; contradicting itself */
    uint64_t records, records_short;        /* flow records; cut shorter than their template */
    uint64_t no_template;                   /* data sets skipped: template unknown */
    uint64_t templates, templates_bad;      /* template records accepted / rejected */
    uint64_t template_withdrawals, templates_expired;
    uint64_t template_limit, domain_limit;  /* refused at a limit */
    uint64_t options_records;
    uint64_t lost_records, lost_datagrams;  /* sequence gaps (v5/IPFIX records, v9 datagrams) */
    uint64_t sessions, paired, biflows, sampled, pending_evicted;
    uint64_t kernel_drops;                  /* dropped by the kernel: receive queue full */
    uint64_t oversized, recv_errors;
    uint64_t capture_frames, capture_not_udp;   /* captures: frames, frames not UDP (skipped) */
} ni_collector_stats;
void ni_collector_get_stats(const ni_collector *c, ni_collector_stats *out);

/* One exporter stream (address, version, observation domain). */
typedef struct ni_collector_exporter {
    ni_addr address;
    const char *source;         /* "netflow5", "netflow9", "ipfix" (static) */
    uint32_t domain;
    uint64_t datagrams, records;
    uint64_t lost;              /* records (v5, IPFIX) or export datagrams (netflow9) */
    size_t templates;           /* held now */
    uint32_t sampling;          /* sampling interval from options data, 0 none */
} ni_collector_exporter;
/* Fills out[0..max) in order of first datagram; returns the number of
 * streams (which may exceed max). */
size_t ni_collector_exporters(const ni_collector *c, ni_collector_exporter *out, size_t max);

/* The summary as the JSON of `netintel collect --stats` (the counters,
 * "estimates", "exporter_streams" and the first 256 exporters), with a
 * final newline; *text (len bytes) stays valid until the next call or
 * ni_collector_free. */
ni_err ni_collector_stats_json(ni_collector *c, const char **text, size_t *len, ni_error *err);

#ifdef __cplusplus
}
#endif
#endif
