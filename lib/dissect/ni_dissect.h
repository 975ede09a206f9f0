/* ni_dissect.h — the application-layer dissectors behind one entry point.
 * The flow table hands each session's payload here: in-order stream bytes of
 * one TCP direction, or one UDP datagram.  The dissectors recognise HTTP/1.x,
 * TLS (ClientHello / ServerHello, JA4), DNS (UDP and TCP) and QUIC Initial
 * packets, and fill the session's evidence fields, allocating strings in the
 * session's arena.  DNS answers feed a bounded address→name cache so that a
 * later session to that address carries dns_name.
 *
 * Ownership: ni_dissect (the context) is owned by the caller; per-flow state
 * (ni_app_state) is embedded in the flow and released with
 * ni_app_state_release when the flow is emitted. */
#ifndef NI_DISSECT_H
#define NI_DISSECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "dissect/ni_producer.h"

typedef struct ni_dissect ni_dissect;

/* Per-flow application state: small and fixed-size, embedded in each flow. */
typedef struct ni_app_state {
    uint8_t proto;          /* NI_APP_* (ni_producer.h): what the session was recognised as */
    uint8_t done[2];        /* per direction: no more bytes wanted */
    uint8_t http_chunk;     /* HTTP: chunked-body state (ni_http) */
    uint8_t udp_tries[2];   /* per direction: datagrams that matched nothing yet */
    uint8_t proxy;          /* ni_proxy_kind of a proxy preamble the client sent (ni_proxy, ni_http) */
    uint8_t proxy_srv;      /* the proxy's reply has been consumed (server→client) */
    uint32_t skip[2];       /* per direction: body bytes still to skip (HTTP) */
    void *ext;              /* dissector-owned heap state, or NULL */
} ni_app_state;

/* The content dissectors as an evidence producer (registered in ni_producer.c):
 * state ni_app_state, context ni_dissect, stream and datagram callbacks. */
extern const ni_producer ni_dissect_producer;

/* New dissector context (holds the DNS cache and counters).  NULL on OOM. */
ni_dissect *ni_dissect_new(ni_stats *st);
void ni_dissect_free(ni_dissect *dx);

/* Called once when a flow is created, after client/server are known: fills
 * s->dns_name from the DNS cache (the client's earlier answers). */
void ni_dissect_session_start(ni_dissect *dx, ni_session *s);

/* TCP: in-order stream bytes of direction dir (0 = client→server,
 * 1 = server→client) starting at the next unconsumed byte.  Returns the
 * number of bytes consumed; bytes not consumed are presented again, with what
 * follows appended, on the next call (the caller keeps at most
 * NI_STREAM_BUF_MAX).  Sets st->done[dir] when it needs no more bytes of
 * this direction. */
size_t ni_dissect_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                         const uint8_t *p, size_t n, int64_t ts_us);

/* UDP (and other datagram) payload of direction dir. */
void ni_dissect_datagram(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                         const uint8_t *p, size_t n, int64_t ts_us);

/* What DNS answers teach the cache, as they are read: fn is called after
 * each entry added (a parallel run's DNS lane hands them to the other
 * lanes, ni_engine).  fn NULL: none. */
typedef void (*ni_dissect_learn_fn)(void *ud, const ni_addr *client, const ni_addr *addr, const char *name,
                                    uint32_t ttl, int64_t ts_us);
void ni_dissect_set_learn(ni_dissect *dx, ni_dissect_learn_fn fn, void *ud);
/* Adds to the cache what a DNS answer read elsewhere taught (the same
 * arguments as fn above got). */
void ni_dissect_learn(ni_dissect *dx, const ni_addr *client, const ni_addr *addr, const char *name,
                      uint32_t ttl, int64_t ts_us);

/* Frees st->ext. */
void ni_app_state_release(ni_app_state *st);

#endif
