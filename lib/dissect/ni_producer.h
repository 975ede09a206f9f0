/* ni_producer.h — evidence producers behind one table (after Suricata's
 * app-layer registration).  A producer looks at a flow — its in-order TCP
 * bytes, its datagrams or its raw packets — and records *evidence* on the
 * session: names, fingerprints, protocol verdicts.  It never assigns meaning
 * (services, providers, countries...): that is lib/enrich's job, run after
 * the session ends.
 *
 * Each producer has a context shared by all flows (a DNS cache, the nDPI
 * module), made by ctx_new and freed by ctx_free, and per-flow state of
 * state_size bytes: the engine hands it over zeroed at flow start, the
 * producer owns whatever it allocates from there and frees it in release.
 * Callbacks left NULL are not called.  The stream is one buffer per
 * direction, so at most one producer (the content dissectors) consumes
 * stream bytes or datagrams; the others watch packets.
 *
 * The table (ni_producers, ni_producer.c) is the one place where producers
 * are registered, in the order they are called: the content dissectors
 * (HTTP, TLS, DNS, QUIC: ni_dissect), the tunnel detector (ni_tunnel), nDPI
 * (ni_ndpi), the SYN fingerprint (ni_tcpfp). */
#ifndef NI_PRODUCER_H
#define NI_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "decode/ni_decode.h"

/* What the content dissectors recognised a session as (ni_pflow.app). */
enum { NI_APP_UNKNOWN = 0, NI_APP_HTTP, NI_APP_TLS, NI_APP_DNS, NI_APP_QUIC, NI_APP_OTHER, NI_APP_PROXY };

/* One flow as the producers see it: the session (evidence fields are theirs
 * to fill, strings in s->arena) and what the producers share. */
typedef struct ni_pflow {
    ni_session *s;
    uint8_t app;            /* NI_APP_*: set by the content dissectors */
} ni_pflow;

/* Run options a producer may depend on. */
typedef struct ni_producer_opts {
    bool ndpi;              /* nDPI asked for a second opinion */
    bool ndpi_lazy;         /* its module made when first needed */
} ni_producer_opts;

typedef struct ni_producer {
    const char *name;
    size_t state_size;      /* per-flow bytes (0: none) */
    /* The shared context.  Returns NULL with err->code NI_OK when the
     * producer is disabled by the options, NULL with an error on failure. */
    void *(*ctx_new)(const ni_producer_opts *o, ni_stats *st, ni_error *err);
    void (*ctx_free)(void *ctx);
    /* the flow was created; client and server are known */
    void (*on_start)(void *ctx, void *state, ni_pflow *f);
    /* in-order stream bytes of dir (0 = client→server): returns the bytes
     * consumed (the rest comes again with more appended); *done = no more
     * bytes of this direction wanted */
    size_t (*on_stream)(void *ctx, void *state, ni_pflow *f, int dir, const uint8_t *p, size_t n,
                        int64_t ts_us, bool *done);
    /* one datagram of dir; returns true when done with this direction */
    bool (*on_datagram)(void *ctx, void *state, ni_pflow *f, int dir, const uint8_t *p, size_t n,
                        int64_t ts_us);
    /* every packet until it returns true (no more packets wanted) */
    bool (*on_packet)(void *ctx, void *state, ni_pflow *f, int dir, const ni_packet *p);
    /* the flow ends: last evidence (before enrichment and output) */
    void (*on_finish)(void *ctx, void *state, ni_pflow *f);
    /* the flow goes away (after on_finish, or unfinished): free the state's allocations */
    void (*release)(void *ctx, void *state);
} ni_producer;

/* The registered producers, in call order, NULL-terminated. */
extern const ni_producer *const ni_producers[];

#endif
