/* ni_netflow.h — flow records exported by routers, decoded into sessions:
 * NetFlow v5 (Cisco's fixed format), NetFlow v9 (RFC 3954) and IPFIX
 * (RFC 7011 protocol, RFC 7012 information elements, RFC 5103 biflows).
 *
 * One decoder holds the state of every exporter it has heard: templates per
 * (exporter address, version, observation domain / source id, template id),
 * with withdrawal (IPFIX), refresh (a template sent again replaces the old
 * one) and expiry (not refreshed within the template TTL); options data
 * (sampling interval, systemInitTimeMilliseconds) per domain; sequence
 * numbers per domain, gaps counted as lost records (v5, IPFIX: the sequence
 * counts records) or lost export datagrams (v9: it counts datagrams).
 *
 * Records become sessions: the two unidirectional records of one
 * conversation from one exporter, arriving within the pairing window, are
 * joined into one session (client by the SYN flag, else the first sender,
 * else the ephemeral-port rule, as lib/session/ni_flow does for packets); an
 * IPFIX biflow record is a session by itself (its source is the initiator);
 * a record whose reverse never comes is emitted alone when the window
 * passes.  A sampled record's packets and bytes are multiplied by the
 * sampling interval and the session says `sampled: N` (its counts are
 * estimates).  Sessions carry `source` ("netflow5", "netflow9", "ipfix")
 * and never any payload evidence.
 *
 * Hostile datagrams are counters, never crashes: every byte is read through
 * ni_cursor; templates, domains and unpaired records are bounded
 * (lib/core/ni_limits.h).  The decoder never prints: an optional warning
 * callback gets one line per malformed datagram ("offset 20: IPFIX set
 * length 3 < 4").  It holds no global state; the clock is the receive time
 * the caller passes with each datagram (capture timestamp or wall clock).
 *
 * Sessions leave with direction "unknown": the target is the caller's
 * (the engine or the collector's sink sets it).  Ownership: sessions handed
 * to the sink are valid only during the call (their strings live in an arena
 * reset after it). */
#ifndef NI_NETFLOW_H
#define NI_NETFLOW_H

#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

typedef struct ni_netflow ni_netflow;

typedef struct ni_netflow_config {
    int64_t pair_timeout_us;        /* pairing window; 0 = NI_NETFLOW_PAIR_US */
    int64_t template_ttl_us;        /* template expiry; 0 = NI_NETFLOW_TEMPLATE_TTL_US */
    size_t pending_max;             /* unpaired records held; 0 = NI_NETFLOW_PENDING_MAX */
} ni_netflow_config;

typedef struct ni_netflow_stats {
    uint64_t datagrams, bytes;      /* handed to the decoder */
    uint64_t v5, v9, ipfix;         /* datagrams per version */
    uint64_t not_export;            /* not a v5/v9/IPFIX header */
    uint64_t malformed;             /* datagrams with a header or set that contradicts itself */
    uint64_t records;               /* flow records decoded */
    uint64_t records_short;         /* data records cut short (shorter than their template) */
    uint64_t no_template;           /* data sets skipped: template unknown, withdrawn or expired */
    uint64_t templates;             /* template records accepted (new or refreshed) */
    uint64_t templates_bad;         /* template records rejected (zero length, too long...) */
    uint64_t template_withdrawals;  /* IPFIX withdrawals (each template removed) */
    uint64_t templates_expired;     /* dropped after the TTL without refresh */
    uint64_t template_limit;        /* templates refused: per-exporter or memory limit */
    uint64_t domain_limit;          /* datagrams from domains beyond NI_NETFLOW_DOMAINS_MAX */
    uint64_t options_records;       /* options data records read */
    uint64_t lost_records;          /* sequence gaps, v5 and IPFIX */
    uint64_t lost_datagrams;        /* sequence gaps, v9 */
    uint64_t sessions;              /* emitted */
    uint64_t paired;                /* sessions made of two records */
    uint64_t biflows;               /* sessions from one RFC 5103 biflow record */
    uint64_t sampled;               /* sessions whose counts are scaled estimates */
    uint64_t pending_evicted;       /* unpaired records emitted early: pending table full */
} ni_netflow_stats;

/* Output: an error stops the current datagram and is returned. */
typedef ni_err (*ni_netflow_sink)(void *ud, ni_session *s, ni_error *err);
/* One line describing why a datagram was (partly) rejected. */
typedef void (*ni_netflow_warn)(void *ud, const char *msg);

/* cfg NULL = defaults.  NULL on OOM (err says). */
ni_netflow *ni_netflow_new(const ni_netflow_config *cfg, ni_error *err);
/* Frees everything; pending records are dropped unless _finish ran. */
void ni_netflow_free(ni_netflow *nf);
void ni_netflow_set_sink(ni_netflow *nf, ni_netflow_sink fn, void *ud);
void ni_netflow_set_warn(ni_netflow *nf, ni_netflow_warn fn, void *ud);

/* One export datagram (the UDP payload) from `exporter`, received at now_us
 * (µs since the epoch).  Malformed input only counts; returns NI_OK unless
 * the sink failed.  Pending records older than the pairing window are
 * emitted first. */
ni_err ni_netflow_datagram(ni_netflow *nf, const ni_addr *exporter, const uint8_t *p, size_t len,
                           int64_t now_us, ni_error *err);
/* Emits pending records older than the pairing window at now_us (call it
 * when no datagram arrives for a while). */
ni_err ni_netflow_expire(ni_netflow *nf, int64_t now_us, ni_error *err);
/* Emits every pending record (end of input, shutdown). */
ni_err ni_netflow_finish(ni_netflow *nf, ni_error *err);
/* Emits the oldest pending record: 1, or 0 when none is left, -1 when the
 * sink failed (for readers that hand out one session at a time). */
int ni_netflow_finish_one(ni_netflow *nf, ni_error *err);

const ni_netflow_stats *ni_netflow_stats_get(const ni_netflow *nf);

/* Per exporter stream (address, version, observation domain / source id /
 * v5 engine type<<8|id): what it sent and what its sequence numbers say was
 * lost.  Fills out[0..max) in order of first datagram; returns the number of
 * streams (which may exceed max). */
typedef struct ni_netflow_exporter {
    ni_addr address;
    unsigned version;               /* 5, 9, 10 */
    uint32_t domain;
    uint64_t datagrams, records;
    uint64_t lost;                  /* records (v5, IPFIX) or datagrams (v9) */
    size_t templates;               /* held now */
    uint32_t sampling;              /* from options data, 0 = none */
} ni_netflow_exporter;
size_t ni_netflow_exporters(const ni_netflow *nf, ni_netflow_exporter *out, size_t max);
/* Templates currently held (all exporters). */
size_t ni_netflow_template_count(const ni_netflow *nf);

/* "netflow5", "netflow9", "ipfix" for version 5, 9, 10; NULL otherwise. */
const char *ni_netflow_source_name(unsigned version);

#endif
