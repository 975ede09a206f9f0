/* ni_dissect.c — the content dissectors: decides by content, not port, what
 * a session carries and hands its bytes to the HTTP, TLS, DNS and QUIC
 * dissectors.  The protocols are rows of two tables (protos_stream,
 * protos_dgram: a probe and a handler each), tried in order; the dispatch
 * below never names a protocol.
 *
 * TCP: the first bytes of the client→server direction decide — a known HTTP
 * request method followed by a space → HTTP (RFC 9112); a TLS handshake
 * record (ni_tls_probe) → TLS on any port (853 DNS-over-TLS included); a
 * 2-byte length and a plausible DNS header when either port is 53 → DNS over
 * TCP (RFC 7766); a SOCKS 4/4A/5 request (ni_proxy) → its preamble is
 * consumed and recorded (proxy, proxy_dest), then what follows is dispatched
 * afresh, as after an HTTP CONNECT, the server's bytes first passing the
 * proxy's reply; anything else → no more bytes wanted either way.  Too few
 * bytes to decide → 0 consumed (asked again with more).  Server→client bytes
 * wait until the client side has decided, except DNS over TCP, which the
 * server's bytes can decide too (responses seen without their query).
 *
 * UDP: DNS when either port is 53, 5353 (mDNS, RFC 6762) or 5355 (LLMNR,
 * RFC 4795) and the header is plausible; a QUIC Initial client→server
 * (ni_quic_probe / ni_quic_datagram); an HTTP request head with an HTTP/1.x
 * version (SSDP M-SEARCH / NOTIFY, RFC 9112 over UDP) → a request.  A
 * direction whose first UDP_TRIES_MAX datagrams match nothing is done.
 *
 * DNS answers feed the (client, address) → name cache; ni_dissect_session_start
 * reads it.  Per-flow state: ni_app_state; only QUIC keeps heap state in ext
 * (an ni_quic_state); the HTTP chunked-body state and the UDP tries have
 * fields of their own. */
#include "dissect/ni_dissect.h"

#include <stdlib.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"
#include "dissect/ni_dns.h"
#include "dissect/ni_dnscache.h"
#include "dissect/ni_http.h"
#include "dissect/ni_proxy.h"
#include "dissect/ni_quic.h"
#include "dissect/ni_tls.h"

#define UDP_TRIES_MAX 4u
#define DNS_TCP_HDR 14u          /* length prefix + DNS header */

struct ni_dissect {
    ni_stats *st;
    ni_stats own;                /* used when the caller gives no stats */
    ni_dnscache *cache;
    ni_dissect_learn_fn learn;   /* ni_dissect_set_learn */
    void *learn_ud;
    ni_ja4_cache *ja4;           /* JA4 hashes per distinct list (NULL: hashed each time) */
};

ni_dissect *ni_dissect_new(ni_stats *st)
{
    ni_dissect *dx = calloc(1, sizeof *dx);
    if (!dx) return NULL;
    dx->st = st ? st : &dx->own;
    dx->cache = ni_dnscache_new(NI_DNSCACHE_ENTRIES_MAX, NI_DNSCACHE_AGE_MAX_US);
    if (!dx->cache) { free(dx); return NULL; }
    dx->ja4 = ni_ja4_cache_new();            /* optional: NULL only costs time */
    return dx;
}

void ni_dissect_free(ni_dissect *dx)
{
    if (!dx) return;
    ni_dnscache_free(dx->cache);
    ni_ja4_cache_free(dx->ja4);
    free(dx);
}

void ni_app_state_release(ni_app_state *st)
{
    if (!st) return;
    if (st->proto == NI_APP_QUIC && st->ext) ni_quic_state_free(st->ext);
    st->ext = NULL;
}

void ni_dissect_session_start(ni_dissect *dx, ni_session *s)
{
    if (s->dns_name || !s->arena) return;
    const char *name = ni_dnscache_lookup(dx->cache, &s->client, &s->server, s->first_us);
    if (name) s->dns_name = ni_arena_strdup(s->arena, name);
}

/* ---- DNS ------------------------------------------------------------------ */

static bool is_multicast(const ni_addr *a)
{
    if (a->family == 4) return (a->b[0] & 0xf0) == 0xe0;
    if (a->family == 6) return a->b[0] == 0xff;
    return true;
}

/* One DNS message of direction dir: evidence, cache, counters. */
static void dns_message(ni_dissect *dx, ni_session *s, int dir, const uint8_t *p, size_t n,
                        int64_t ts_us)
{
    ni_dns_info info;
    ni_err e = ni_dns_parse(s, p, n, &info);
    dx->st->dns_messages++;
    if (e != NI_OK) dx->st->dissect_errors++;
    if (!info.response || info.rcode != 0 || !info.qname[0]) return;
    /* the querier is the receiver of the response */
    const ni_addr *querier = dir == 1 ? &s->client : &s->server;
    if (is_multicast(querier)) return;
    for (unsigned i = 0; i < info.naddr; i++) {
        ni_dnscache_add(dx->cache, querier, &info.addr[i], info.qname, info.ttl[i], ts_us);
        if (dx->learn) dx->learn(dx->learn_ud, querier, &info.addr[i], info.qname, info.ttl[i], ts_us);
    }
}

void ni_dissect_set_learn(ni_dissect *dx, ni_dissect_learn_fn fn, void *ud)
{
    dx->learn = fn;
    dx->learn_ud = ud;
}

void ni_dissect_learn(ni_dissect *dx, const ni_addr *client, const ni_addr *addr, const char *name,
                      uint32_t ttl, int64_t ts_us)
{
    ni_dnscache_add(dx->cache, client, addr, name, ttl, ts_us);
}

/* DNS over TCP: 2-byte length, message; several per stream. */
static size_t dns_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                         const uint8_t *p, size_t n, int64_t ts_us)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    while (ni_cur_left(&c) >= 2) {
        size_t start = c.off;
        uint16_t len = ni_cur_u16(&c);
        if (len < 12) { dx->st->dissect_errors++; st->done[dir] = 1; break; }
        if (ni_cur_left(&c) < len) {
            if ((size_t)len + 2 > NI_STREAM_BUF_MAX) {   /* never fits: what we have */
                dns_message(dx, s, dir, ni_cur_ptr(&c), ni_cur_left(&c), ts_us);
                st->done[dir] = 1;
                return n;
            }
            c.off = start;
            break;
        }
        dns_message(dx, s, dir, ni_cur_bytes(&c, len), len, ts_us);
    }
    return c.off;
}

static bool dns_tcp_plausible(const uint8_t *p, size_t n)
{
    if (n < DNS_TCP_HDR) return false;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    size_t len = ni_cur_u16(&c);
    if (len < 12) return false;
    return ni_dns_plausible(ni_cur_ptr(&c), ni_cur_left(&c) < len ? ni_cur_left(&c) : len);
}

/* ---- TCP ------------------------------------------------------------------ */

static size_t tls_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                         const uint8_t *p, size_t n)
{
    ni_tls_result r = ni_tls_parse_stream_ex(s, dir, p, n, dx->ja4);
    switch (r) {
    case NI_TLS_NEED_MORE:
        return 0;
    case NI_TLS_DONE:
        if (dir == 0 ? s->tls_client_version != 0 : (s->tls_version != 0 || s->tls_cipher != 0))
            dx->st->tls_hellos++;
        break;
    case NI_TLS_MALFORMED:
        dx->st->dissect_errors++;
        break;
    case NI_TLS_NOT_TLS:
        if (dir == 0) dx->st->dissect_errors++;
        break;
    }
    st->done[dir] = 1;
    return n;
}

/* HTTP requests on the client→server stream; the server's bytes are not read. */
static size_t http_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                          const uint8_t *p, size_t n, int64_t ts_us)
{
    (void)ts_us;
    if (dir == 1) { st->done[1] = 1; return n; }
    ni_http_counts cnt = {0, 0};
    size_t used = ni_http_stream(st, s, p, n, &cnt);
    dx->st->http_requests += cnt.requests;
    dx->st->dissect_errors += cnt.errors;
    if (!st->done[0] && st->proxy == NI_PROXY_HTTP_CONNECT && !st->proxy_srv) {
        st->proto = NI_APP_UNKNOWN;                 /* the tunnel's bytes decide afresh */
        return used;
    }
    return st->done[0] ? n : used;
}

/* ---- proxy preambles (ni_proxy) -------------------------------------------- */

/* SOCKS 4/4A/5 client preamble: once complete it is consumed, recorded, and
 * the bytes after it are dispatched afresh (TLS, HTTP...). */
static size_t proxy_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                           const uint8_t *p, size_t n, int64_t ts_us)
{
    (void)dx; (void)ts_us;
    if (dir == 1) {                                 /* the reply waits for the request */
        if (n > 4096) { st->done[1] = 1; return n; }  /* the client side never completed */
        return 0;
    }
    ni_proxy_kind kind = NI_PROXY_NONE;
    char dest[NI_PROXY_DEST_MAX];
    size_t used = 0;
    ni_proxy_result r = ni_proxy_client(p, n, &kind, dest, sizeof dest, &used);
    if (r == NI_PROXY_NEED_MORE) return 0;
    if (r != NI_PROXY_DONE) {                       /* the probe's guess was wrong: something else */
        st->proto = NI_APP_OTHER;
        st->done[0] = st->done[1] = 1;
        return n;
    }
    if (s->proxy == NI_PROXY_NONE) {
        s->proxy = kind;
        if (s->arena && dest[0]) s->proxy_dest = ni_arena_strdup(s->arena, dest);
    }
    st->proxy = (uint8_t)kind;
    st->proxy_srv = 0;
    st->proto = NI_APP_UNKNOWN;
    return used;
}

/* The proxy's reply on the server→client stream, before anything else of
 * that direction is read. */
static size_t proxy_reply(ni_dissect *dx, ni_app_state *st, const uint8_t *p, size_t n)
{
    size_t used = 0;
    ni_proxy_result r = ni_proxy_server((ni_proxy_kind)st->proxy, p, n, &used);
    switch (r) {
    case NI_PROXY_NEED_MORE:
        if (n >= NI_STREAM_BUF_MAX) break;
        return used;
    case NI_PROXY_DONE:
        st->proxy_srv = 1;
        return used;
    case NI_PROXY_NOT:
        dx->st->dissect_errors++;
        break;
    case NI_PROXY_REFUSED:
        break;
    }
    st->done[1] = 1;                                /* no tunnel: nothing more to read */
    return n;
}

static size_t tls_stream_ts(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                            const uint8_t *p, size_t n, int64_t ts_us)
{
    (void)ts_us;
    return tls_stream(dx, st, s, dir, p, n);
}

static bool port53(const ni_session *s) { return s->client_port == 53 || s->server_port == 53; }

/* Stream probes: 1 = this protocol, 0 = not, -1 = too few bytes to tell. */
static int http_probe_stream(const ni_session *s, const uint8_t *p, size_t n) { (void)s; return ni_http_probe(p, n); }
static int tls_probe_stream(const ni_session *s, const uint8_t *p, size_t n) { (void)s; return ni_tls_probe(p, n); }
static int proxy_probe_stream(const ni_session *s, const uint8_t *p, size_t n)
{
    return s->proxy != NI_PROXY_NONE ? 0 : ni_proxy_probe(p, n);   /* one preamble per session */
}
static int dns_probe_stream(const ni_session *s, const uint8_t *p, size_t n)
{
    if (!port53(s)) return 0;
    if (dns_tcp_plausible(p, n)) return 1;
    return n < DNS_TCP_HDR ? -1 : 0;
}

/* ---- datagram handlers and probes ------------------------------------------ */
static bool is_dns_port(uint16_t p) { return p == 53 || p == 5353 || p == 5355; }
static bool http_datagram(ni_dissect *dx, ni_session *s, const uint8_t *p, size_t n);
static void quic_datagram(ni_dissect *dx, ni_app_state *st, ni_session *s, const uint8_t *p, size_t n);

/* Datagram probes: 0 = not this protocol, 1 = it is (the datagram is then
 * handed to the handler), 2 = it is and the probe used the datagram. */
static int dns_probe_dgram(ni_dissect *dx, ni_session *s, int dir, const uint8_t *p, size_t n)
{
    (void)dx; (void)dir;
    return (is_dns_port(s->client_port) || is_dns_port(s->server_port)) && ni_dns_plausible(p, n);
}

static int quic_probe_dgram(ni_dissect *dx, ni_session *s, int dir, const uint8_t *p, size_t n)
{
    (void)dx; (void)s;
    return dir == 0 && ni_quic_probe(p, n);
}

static int http_probe_dgram(ni_dissect *dx, ni_session *s, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    return http_datagram(dx, s, p, n) ? 2 : 0;
}

static void dns_dgram(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const uint8_t *p, size_t n,
                      int64_t ts_us)
{
    (void)st;
    dns_message(dx, s, dir, p, n, ts_us);
}

static void quic_dgram(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const uint8_t *p, size_t n,
                       int64_t ts_us)
{
    (void)ts_us;
    if (dir == 0) quic_datagram(dx, st, s, p, n);
    else st->done[1] = 1;
}

static void http_dgram(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const uint8_t *p, size_t n,
                       int64_t ts_us)
{
    (void)st; (void)dir; (void)ts_us;
    http_datagram(dx, s, p, n);
}

/* ---- the content protocols ----------------------------------------------------
 * One row per protocol, tried in this order; to add one, write its probe and
 * handlers above and add a row.  TCP: the first client→server bytes decide
 * (the first row whose probe says 1; any -1 and none 1 = wait for more;
 * all 0 = nothing netintel reads); rows with server_decides may also decide
 * from the server's bytes (DNS responses seen without their query).  UDP:
 * the first row whose probe accepts a datagram. */
typedef struct content_proto {
    uint8_t app;                                /* NI_APP_* */
    int (*probe_stream)(const ni_session *s, const uint8_t *p, size_t n);
    bool server_decides;
    size_t (*stream)(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const uint8_t *p, size_t n,
                     int64_t ts_us);
    int (*probe_dgram)(ni_dissect *dx, ni_session *s, int dir, const uint8_t *p, size_t n);
    void (*dgram)(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const uint8_t *p, size_t n,
                  int64_t ts_us);
} content_proto;

static const content_proto protos_stream[] = {
    { NI_APP_HTTP, http_probe_stream, false, http_stream, NULL, NULL },
    { NI_APP_TLS, tls_probe_stream, false, tls_stream_ts, NULL, NULL },
    { NI_APP_DNS, dns_probe_stream, true, dns_stream, NULL, NULL },
    { NI_APP_PROXY, proxy_probe_stream, false, proxy_stream, NULL, NULL },
};
static const content_proto protos_dgram[] = {
    { NI_APP_DNS, NULL, false, NULL, dns_probe_dgram, dns_dgram },
    { NI_APP_QUIC, NULL, false, NULL, quic_probe_dgram, quic_dgram },
    { NI_APP_HTTP, NULL, false, NULL, http_probe_dgram, http_dgram },
};
#define NPROTOS(t) (sizeof t / sizeof t[0])

static const content_proto *find(const content_proto *t, size_t n, uint8_t app)
{
    for (size_t i = 0; i < n; i++) if (t[i].app == app) return &t[i];
    return NULL;
}

static size_t stream_once(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                          const uint8_t *p, size_t n, int64_t ts_us)
{
    if (st->done[dir] || n == 0) return st->done[dir] ? n : 0;
    if (dir == 1 && st->proxy && !st->proxy_srv) return proxy_reply(dx, st, p, n);

    if (st->proto == NI_APP_UNKNOWN) {
        bool undecided = false;
        for (size_t i = 0; i < NPROTOS(protos_stream) && st->proto == NI_APP_UNKNOWN; i++) {
            if (dir == 1 && !protos_stream[i].server_decides) continue;
            int r = protos_stream[i].probe_stream(s, p, n);
            if (r == 1) st->proto = protos_stream[i].app;
            else if (r < 0) undecided = true;
        }
        if (st->proto == NI_APP_UNKNOWN) {
            if (dir == 1) {                         /* wait for the client side */
                if (n > 4096) st->done[1] = 1;      /* the client side never decided */
                return st->done[1] ? n : 0;
            }
            if (undecided) return 0;
            st->proto = NI_APP_OTHER;
            st->done[0] = st->done[1] = 1;
            return n;
        }
    }
    const content_proto *cp = find(protos_stream, NPROTOS(protos_stream), st->proto);
    if (!cp) { st->done[dir] = 1; return n; }
    return cp->stream(dx, st, s, dir, p, n, ts_us);
}

/* A proxy preamble (or the proxy's reply) consumed, the bytes after it are
 * dispatched at once: the flow table presents unconsumed bytes again only
 * when more arrive. */
size_t ni_dissect_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                         const uint8_t *p, size_t n, int64_t ts_us)
{
    if (dir != 0 && dir != 1) return n;
    size_t total = 0;
    for (;;) {
        bool reply_pending = dir == 1 && st->proxy && !st->proxy_srv;
        size_t used = stream_once(dx, st, s, dir, p + total, n - total, ts_us);
        total += used;
        if (st->done[dir] || used == 0 || total >= n) return st->done[dir] ? n : total;
        /* bytes consumed and still undecided: only a preamble does that */
        bool preamble = dir == 0 ? st->proto == NI_APP_UNKNOWN : (reply_pending && st->proxy_srv);
        if (!preamble) return total;
    }
}

/* ---- datagrams ------------------------------------------------------------ */

static void udp_miss(ni_app_state *st, int dir)
{
    if (++st->udp_tries[dir] >= UDP_TRIES_MAX) st->done[dir] = 1;
}

/* An HTTP request carried in one datagram (SSDP and other HTTPU). */
static bool http_datagram(ni_dissect *dx, ni_session *s, const uint8_t *p, size_t n)
{
    if (ni_http_probe(p, n) != 1) return false;
    size_t head = ni_http_head_len(p, n < NI_HTTP_HEADER_MAX ? n : NI_HTTP_HEADER_MAX);
    if (head == 0) head = n;             /* a datagram without the final empty line */
    ni_http_body body;
    uint64_t blen;
    ni_err e = ni_http_parse_request(s, p, head, true, &body, &blen);
    if (e == NI_ERR_FORMAT) return false;
    if (e == NI_OK) dx->st->http_requests++;
    else if (s->http_count < NI_HTTP_REQUESTS_MAX) dx->st->dissect_errors++;
    return true;
}

static void quic_datagram(ni_dissect *dx, ni_app_state *st, ni_session *s, const uint8_t *p,
                          size_t n)
{
    if (ni_quic_probe(p, n)) dx->st->quic_initials++;
    ni_quic_state *q = st->ext;
    bool done = ni_quic_datagram(&q, s, p, n);
    st->ext = q;
    if (done) {
        st->done[0] = 1;
        if (s->tls_client_version || s->sni) s->quic = true;
    }
}

void ni_dissect_datagram(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                         const uint8_t *p, size_t n, int64_t ts_us)
{
    if ((dir != 0 && dir != 1) || st->done[dir] || n == 0) return;
    if (st->proto == NI_APP_UNKNOWN) {
        for (size_t i = 0; i < NPROTOS(protos_dgram); i++) {
            int r = protos_dgram[i].probe_dgram(dx, s, dir, p, n);
            if (!r) continue;
            st->proto = protos_dgram[i].app;
            if (r == 2) return;                     /* the probe used the datagram */
            break;
        }
        if (st->proto == NI_APP_UNKNOWN) { udp_miss(st, dir); return; }
    }
    const content_proto *cp = find(protos_dgram, NPROTOS(protos_dgram), st->proto);
    if (cp) cp->dgram(dx, st, s, dir, p, n, ts_us);
    else st->done[dir] = 1;
}

/* ---- the producer (ni_producer.h) ------------------------------------------ */

static void *prod_ctx_new(const ni_producer_opts *o, ni_stats *st, ni_error *err)
{
    (void)o;
    ni_dissect *dx = ni_dissect_new(st);
    if (!dx) ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    return dx;
}

static void prod_ctx_free(void *ctx) { ni_dissect_free(ctx); }

static void prod_start(void *ctx, void *state, ni_pflow *f)
{
    (void)state;
    ni_dissect_session_start(ctx, f->s);
}

static size_t prod_stream(void *ctx, void *state, ni_pflow *f, int dir, const uint8_t *p, size_t n,
                          int64_t ts_us, bool *done)
{
    ni_app_state *st = state;
    size_t used = ni_dissect_stream(ctx, st, f->s, dir, p, n, ts_us);
    f->app = st->proto;
    *done = (dir == 0 || dir == 1) && st->done[dir] != 0;
    return used;
}

static bool prod_datagram(void *ctx, void *state, ni_pflow *f, int dir, const uint8_t *p, size_t n,
                          int64_t ts_us)
{
    ni_app_state *st = state;
    ni_dissect_datagram(ctx, st, f->s, dir, p, n, ts_us);
    f->app = st->proto;
    return (dir == 0 || dir == 1) && st->done[dir] != 0;
}

static void prod_release(void *ctx, void *state)
{
    (void)ctx;
    ni_app_state_release(state);
}

const ni_producer ni_dissect_producer = {
    .name = "content", .state_size = sizeof(ni_app_state),
    .ctx_new = prod_ctx_new, .ctx_free = prod_ctx_free,
    .on_start = prod_start, .on_stream = prod_stream, .on_datagram = prod_datagram,
    .release = prod_release,
};
