/* test_dissect.c — the dispatcher (lib/dissect/ni_dissect): decisions by
 * content (HTTP, TLS, DNS over TCP/UDP, SSDP, give-ups), the stream
 * contract (bytes consumed, need-more, done per direction), counters and the
 * DNS cache between sessions; then real captures replayed through a small
 * test-only stream assembler and compared with what Zeek's logs
 * (http.log, dns.log, ssl.log) and nDPI's results list for them. */
#include "ni_test.h"
#include "ni_test_pcap.h"

#include <stdlib.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_dissect.h"

#ifndef NI_CORPUS
#define NI_CORPUS "tests/corpus"
#endif

static ni_addr A(const char *t) { ni_addr a; ni_addr_parse(t, &a); return a; }

static void sess_init(ni_session *s, uint8_t proto, const char *c, uint16_t cp, const char *sv, uint16_t sp,
                      int64_t t)
{
    memset(s, 0, sizeof *s);
    s->proto = proto;
    s->client = A(c);
    s->server = A(sv);
    s->client_port = cp;
    s->server_port = sp;
    s->first_us = t;
    s->arena = ni_arena_new(NI_SESSION_ARENA_MAX);
}

static size_t feed_stream(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const char *data,
                          size_t step)
{
    size_t n = strlen(data), pos = 0, have = 0, total = 0;
    uint8_t *buf = malloc(n + 1);
    while (pos < n && !st->done[dir]) {
        size_t k = n - pos < step ? n - pos : step;
        memcpy(buf + have, data + pos, k);
        have += k;
        pos += k;
        size_t used = ni_dissect_stream(dx, st, s, dir, buf, have, 0);
        if (used > have) used = have;
        memmove(buf, buf + used, have - used);
        have -= used;
        total += used;
    }
    free(buf);
    return total;
}

TEST(tcp_http_decision)
{
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    ni_session s;
    sess_init(&s, 6, "10.0.0.1", 40000, "10.0.0.2", 8081, 0);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    /* too few bytes to decide: nothing consumed, not done */
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, (const uint8_t *)"PO", 2, 0), 0);
    CHECK_INT(st.done[0], 0);
    CHECK_INT(st.proto, NI_APP_UNKNOWN);
    /* server bytes before the client decided: kept */
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 1, (const uint8_t *)"HTTP/1.1 200", 12, 0), 0);
    CHECK_INT(st.done[1], 0);
    const char *req = "POST /up HTTP/1.1\r\nHost: Api.Example:8081\r\nContent-Length: 4\r\n\r\nbody"
                      "GET /next HTTP/1.1\r\nHost: api.example\r\nUser-Agent: curl/8.0\r\n\r\n";
    feed_stream(dx, &st, &s, 0, req, 7);
    CHECK_INT(st.proto, NI_APP_HTTP);
    CHECK_INT(s.http_count, 2);
    CHECK_STR(s.http ? s.http->host : NULL, "api.example");
    CHECK_STR(s.http_tail ? s.http_tail->user_agent : NULL, "curl/8.0");
    CHECK_INT(stats.http_requests, 2);
    CHECK_INT(stats.dissect_errors, 0);
    /* responses are not wanted */
    ni_dissect_stream(dx, &st, &s, 1, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, 0);
    CHECK_INT(st.done[1], 1);
    ni_app_state_release(&st);
    ni_arena_free(s.arena);
    ni_dissect_free(dx);
}

TEST(tcp_other_and_port53)
{
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    ni_session s;
    ni_app_state st;

    /* SSH: neither HTTP, TLS nor DNS → done both ways, consumed */
    sess_init(&s, 6, "10.0.0.1", 40000, "10.0.0.2", 22, 0);
    memset(&st, 0, sizeof st);
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, (const uint8_t *)"SSH-2.0-OpenSSH_9.6\r\n", 21, 0), 21);
    CHECK(st.done[0] && st.done[1]);
    CHECK_INT(st.proto, NI_APP_OTHER);
    ni_arena_free(s.arena);

    /* DNS over TCP: two messages, the second split; only on port 53 */
    static const uint8_t q[] = {
        0, 33, 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
        3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1};
    uint8_t two[2 * sizeof q];
    memcpy(two, q, sizeof q);
    memcpy(two + sizeof q, q, sizeof q);
    sess_init(&s, 6, "10.0.0.1", 40001, "10.0.0.53", 53, 0);
    memset(&st, 0, sizeof st);
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, two, 10, 0), 0);          /* header incomplete */
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, two, sizeof q + 5, 0), sizeof q);
    CHECK_INT(st.proto, NI_APP_DNS);
    CHECK_STR(s.dns_query, "www.example.org");
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, two + sizeof q, sizeof q, 0), sizeof q);
    CHECK_INT(stats.dns_messages, 2);
    CHECK_INT(st.done[0], 0);
    /* the same query twice (same id, unanswered): one transaction */
    CHECK_INT(s.dns_count, 1);
    CHECK_STR(s.dns ? s.dns->qtype : NULL, "A");
    CHECK(s.dns && s.dns->rcode == NULL);
    /* a zero length prefix is not DNS: done, counted */
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, (const uint8_t *)"\0\0", 2, 0), 2);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(stats.dissect_errors, 1);
    ni_arena_free(s.arena);

    /* the same bytes elsewhere than port 53: not DNS */
    sess_init(&s, 6, "10.0.0.1", 40001, "10.0.0.53", 5000, 0);
    memset(&st, 0, sizeof st);
    ni_dissect_stream(dx, &st, &s, 0, q, sizeof q, 0);
    CHECK_INT(st.proto, NI_APP_OTHER);
    CHECK(s.dns_query == NULL);
    ni_arena_free(s.arena);
    ni_dissect_free(dx);
}

static size_t dns_response(uint8_t *b, const char *qname3, const uint8_t ip[4], uint32_t ttl)
{
    /* header, question "<3>www<7>example<3>com", one A answer */
    size_t n = 0;
    static const uint8_t h[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
    memcpy(b, h, sizeof h);
    n = sizeof h;
    size_t ql = strlen(qname3) + 1;
    memcpy(b + n, qname3, ql);
    n += ql;
    b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1;
    b[n++] = 0xc0; b[n++] = 12; b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1;
    b[n++] = (uint8_t)(ttl >> 24); b[n++] = (uint8_t)(ttl >> 16); b[n++] = (uint8_t)(ttl >> 8); b[n++] = (uint8_t)ttl;
    b[n++] = 0; b[n++] = 4;
    memcpy(b + n, ip, 4);
    return n + 4;
}

TEST(udp_dns_and_cache)
{
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    uint8_t b[512];
    static const uint8_t ip[4] = {198, 51, 100, 10};
    size_t n = dns_response(b, "\3www\7Example\3com", ip, 120);
    int64_t t0 = 1000000000;

    /* response server→client (dir 1) */
    ni_session d;
    ni_app_state st;
    sess_init(&d, 17, "10.0.0.1", 5555, "10.0.0.53", 53, t0);
    memset(&st, 0, sizeof st);
    ni_dissect_datagram(dx, &st, &d, 1, b, n, t0);
    CHECK_INT(st.proto, NI_APP_DNS);
    CHECK_STR(d.dns_query, "www.example.com");
    CHECK_STR(d.dns_answers ? d.dns_answers->s : NULL, "198.51.100.10");
    CHECK_INT(stats.dns_messages, 1);
    ni_arena_free(d.arena);

    /* a later session of that client to that address carries the name */
    ni_session h;
    sess_init(&h, 6, "10.0.0.1", 40000, "198.51.100.10", 443, t0 + 5000000);
    ni_dissect_session_start(dx, &h);
    CHECK_STR(h.dns_name, "www.example.com");
    ni_arena_free(h.arena);
    /* another client does not */
    sess_init(&h, 6, "10.0.0.9", 40000, "198.51.100.10", 443, t0 + 5000000);
    ni_dissect_session_start(dx, &h);
    CHECK(h.dns_name == NULL);
    ni_arena_free(h.arena);
    /* nor the same client long after the TTL */
    sess_init(&h, 6, "10.0.0.1", 40000, "198.51.100.10", 443, t0 + 3 * 3600 * 1000000ll);
    ni_dissect_session_start(dx, &h);
    CHECK(h.dns_name == NULL);
    ni_arena_free(h.arena);

    /* a capture that starts with the response: the flow's "client" is the
     * DNS server (dir 0), the querier is the session's server */
    static const uint8_t ip2[4] = {203, 0, 113, 5};
    n = dns_response(b, "\4mail\7example\3net", ip2, 3600);
    sess_init(&d, 17, "10.0.0.53", 53, "10.0.0.7", 5353 + 1, t0);
    memset(&st, 0, sizeof st);
    ni_dissect_datagram(dx, &st, &d, 0, b, n, t0);
    CHECK_STR(d.dns_query, "mail.example.net");
    ni_arena_free(d.arena);
    sess_init(&h, 6, "10.0.0.7", 40000, "203.0.113.5", 25, t0 + 1);
    ni_dissect_session_start(dx, &h);
    CHECK_STR(h.dns_name, "mail.example.net");
    ni_arena_free(h.arena);

    /* mDNS port, garbage then nothing: a few tries, then done */
    sess_init(&d, 17, "10.0.0.1", 5353, "224.0.0.251", 5353, t0);
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 10 && !st.done[0]; i++)
        ni_dissect_datagram(dx, &st, &d, 0, (const uint8_t *)"\xff\xff\xff", 3, t0);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(st.proto, NI_APP_UNKNOWN);
    CHECK(d.dns_query == NULL);
    ni_app_state_release(&st);
    ni_arena_free(d.arena);
    ni_dissect_free(dx);
}

TEST(udp_ssdp)
{
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    ni_session s;
    ni_app_state st;
    sess_init(&s, 17, "192.168.1.20", 50000, "239.255.255.250", 1900, 0);
    memset(&st, 0, sizeof st);
    const char *ms = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
                     "MX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n"
                     "USER-AGENT: Google Chrome/99.0.4844.74 Mac OS X\r\n\r\n";
    ni_dissect_datagram(dx, &st, &s, 0, (const uint8_t *)ms, strlen(ms), 0);
    ni_dissect_datagram(dx, &st, &s, 0, (const uint8_t *)ms, strlen(ms), 0);
    CHECK_INT(st.proto, NI_APP_HTTP);
    CHECK_INT(s.http_count, 2);
    CHECK_STR(s.http ? s.http->method : NULL, "M-SEARCH");
    CHECK_STR(s.http ? s.http->path : NULL, "*");
    CHECK_STR(s.http ? s.http->host : NULL, "239.255.255.250");
    CHECK_STR(s.http ? s.http->user_agent : NULL, "Google Chrome/99.0.4844.74 Mac OS X");
    CHECK_INT(stats.http_requests, 2);
    ni_arena_free(s.arena);

    /* unknown UDP: given up after a few datagrams, nothing recorded */
    sess_init(&s, 17, "192.168.1.20", 50000, "192.168.1.1", 4444, 0);
    memset(&st, 0, sizeof st);
    int sent = 0;
    for (; sent < 20 && !st.done[0]; sent++)
        ni_dissect_datagram(dx, &st, &s, 0, (const uint8_t *)"hello there", 11, 0);
    CHECK(st.done[0] && sent < 20);
    CHECK_INT(s.http_count, 0);
    ni_arena_free(s.arena);
    ni_dissect_free(dx);
}

TEST(null_stats_and_release)
{
    ni_dissect *dx = ni_dissect_new(NULL);
    CHECK(dx != NULL);
    ni_session s;
    sess_init(&s, 6, "10.0.0.1", 1, "10.0.0.2", 80, 0);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    const char *r = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 0, (const uint8_t *)r, strlen(r), 0), strlen(r));
    CHECK_INT(s.http_count, 1);
    CHECK_INT(ni_dissect_stream(dx, &st, &s, 2, (const uint8_t *)r, strlen(r), 0), strlen(r)); /* bad dir */
    ni_app_state_release(&st);
    CHECK(st.ext == NULL);
    ni_arena_free(s.arena);
    ni_dissect_free(dx);
    ni_dissect_free(NULL);
}

/* ---- replaying captures: a test-only assembler -------------------------- */
typedef struct tdir {
    bool init, dead;
    uint32_t next;
    uint8_t *buf;
    size_t len;
} tdir;

typedef struct tflow {
    uint8_t proto;
    ni_addr a[2];
    uint16_t port[2];                    /* [0] = client */
    ni_session s;
    ni_app_state st;
    tdir d[2];
} tflow;

typedef struct replay {
    ni_dissect *dx;
    ni_stats stats;
    tflow *f;
    size_t n, cap;
    int64_t clock;                       /* 1 ms per packet: order, not time */
    uint8_t only_proto;                  /* 0 = all, else replay only 6 or 17 */
} replay;

static tflow *flow_of(replay *r, const tp_pkt *pk, int *dir)
{
    for (size_t i = 0; i < r->n; i++) {
        tflow *f = &r->f[i];
        if (f->proto != pk->proto) continue;
        for (int d = 0; d < 2; d++)
            if (f->port[d] == pk->sport && f->port[!d] == pk->dport && !ni_addr_cmp(&f->a[d], &pk->src) &&
                !ni_addr_cmp(&f->a[!d], &pk->dst)) {
                *dir = d;
                return f;
            }
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->f = realloc(r->f, r->cap * sizeof *r->f);
    }
    tflow *f = &r->f[r->n++];
    memset(f, 0, sizeof *f);
    f->proto = pk->proto;
    /* the sender of the first packet is the client, unless it is a SYN-ACK */
    bool swap = pk->proto == 6 && (pk->tcp_flags & 0x12) == 0x12;
    f->a[0] = swap ? pk->dst : pk->src;
    f->a[1] = swap ? pk->src : pk->dst;
    f->port[0] = swap ? pk->dport : pk->sport;
    f->port[1] = swap ? pk->sport : pk->dport;
    f->s.proto = pk->proto;
    f->s.client = f->a[0];
    f->s.server = f->a[1];
    f->s.client_port = f->port[0];
    f->s.server_port = f->port[1];
    f->s.first_us = r->clock;
    f->s.arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    ni_dissect_session_start(r->dx, &f->s);
    *dir = swap ? 1 : 0;
    return f;
}

static void on_packet(void *ctx, const tp_pkt *pk)
{
    replay *r = ctx;
    r->clock += 1000;
    if (r->only_proto && pk->proto != r->only_proto) return;
    int dir;
    tflow *f = flow_of(r, pk, &dir);
    if (pk->proto == 17) {
        if (pk->len) ni_dissect_datagram(r->dx, &f->st, &f->s, dir, pk->payload, pk->len, r->clock);
        return;
    }
    tdir *d = &f->d[dir];
    if (pk->tcp_flags & 0x02) { d->init = true; d->next = pk->seq + 1; }
    if (!pk->len || d->dead || f->st.done[dir]) return;
    if (!d->init) { d->init = true; d->next = pk->seq; }
    const uint8_t *p = pk->payload;
    size_t n = pk->len;
    int32_t off = (int32_t)(d->next - pk->seq);
    if (off < 0) return;                             /* gap: not handled here */
    if ((size_t)off >= n) return;                    /* retransmission */
    p += off;
    n -= (size_t)off;
    d->next += (uint32_t)n;
    if (d->len + n > NI_STREAM_BUF_MAX) { d->dead = true; return; }
    d->buf = realloc(d->buf, d->len + n);
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    size_t used = ni_dissect_stream(r->dx, &f->st, &f->s, dir, d->buf, d->len, r->clock);
    if (used > d->len) used = d->len;
    memmove(d->buf, d->buf + used, d->len - used);
    d->len -= used;
}

static bool replay_run_only(replay *r, const char *path, uint8_t only_proto)
{
    memset(r, 0, sizeof *r);
    r->only_proto = only_proto;
    r->dx = ni_dissect_new(&r->stats);
    return tp_walk(path, on_packet, r) > 0;
}

static bool replay_run(replay *r, const char *path) { return replay_run_only(r, path, 0); }

static void replay_free(replay *r)
{
    for (size_t i = 0; i < r->n; i++) {
        ni_app_state_release(&r->f[i].st);
        ni_arena_free(r->f[i].s.arena);
        free(r->f[i].d[0].buf);
        free(r->f[i].d[1].buf);
    }
    free(r->f);
    ni_dissect_free(r->dx);
}

static tflow *find_flow(replay *r, uint8_t proto, const char *ch, unsigned cp, const char *sh, unsigned sp)
{
    ni_addr c = A(ch), s = A(sh);
    for (size_t i = 0; i < r->n; i++) {
        tflow *f = &r->f[i];
        if (f->proto != proto) continue;
        for (int d = 0; d < 2; d++)
            if (!ni_addr_cmp(&f->a[d], &c) && f->port[d] == cp && !ni_addr_cmp(&f->a[!d], &s) && f->port[!d] == sp)
                return f;
    }
    return NULL;
}

static const ni_http_req *req_at(const ni_session *s, unsigned i)
{
    const ni_http_req *q = s->http;
    while (q && i--) q = q->next;
    return q;
}

/* ---- Zeek logs ---- */
typedef struct zlog {
    char *cols[64];
    int ncols;
    char **rows;                          /* each row: a malloc'd line */
    size_t nrows;
} zlog;

static bool zlog_read(const char *path, zlog *z)
{
    memset(z, 0, sizeof *z);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char *line = NULL;
    size_t lc = 0;
    ssize_t l;
    while ((l = getline(&line, &lc, f)) > 0) {
        if (line[l - 1] == '\n') line[--l] = 0;
        if (!strncmp(line, "#fields\t", 8)) {
            char *save, *tok = strtok_r(line + 8, "\t", &save);
            while (tok && z->ncols < 64) { z->cols[z->ncols++] = strdup(tok); tok = strtok_r(NULL, "\t", &save); }
        } else if (line[0] != '#') {
            z->rows = realloc(z->rows, (z->nrows + 1) * sizeof *z->rows);
            z->rows[z->nrows++] = strdup(line);
        }
    }
    free(line);
    fclose(f);
    return z->ncols > 0;
}

/* Column `name` of row i into out. */
static bool zget(const zlog *z, size_t i, const char *name, char *out, size_t cap)
{
    int col = -1;
    for (int c = 0; c < z->ncols; c++) if (!strcmp(z->cols[c], name)) col = c;
    if (col < 0) return false;
    const char *p = z->rows[i];
    for (int c = 0; c < col && p; c++) { p = strchr(p, '\t'); if (p) p++; }
    if (!p) return false;
    const char *e = strchr(p, '\t');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

static void zlog_free(zlog *z)
{
    for (int c = 0; c < z->ncols; c++) free(z->cols[c]);
    for (size_t i = 0; i < z->nrows; i++) free(z->rows[i]);
    free(z->rows);
}

/* Every http.log row: the request with that trans_depth on that connection
 * has the same method, host, uri and User-Agent.  Returns rows compared. */
static unsigned check_http_log(const char *pcap, const char *log)
{
    replay r;
    zlog z;
    CHECK(replay_run(&r, pcap));
    CHECK(zlog_read(log, &z));
    unsigned compared = 0;
    for (size_t i = 0; i < z.nrows; i++) {
        char oh[64], op[8], rh[64], rp[8], depth[8], method[32], host[256], uri[4096], ua[1024];
        zget(&z, i, "id.orig_h", oh, sizeof oh); zget(&z, i, "id.orig_p", op, sizeof op);
        zget(&z, i, "id.resp_h", rh, sizeof rh); zget(&z, i, "id.resp_p", rp, sizeof rp);
        zget(&z, i, "trans_depth", depth, sizeof depth); zget(&z, i, "method", method, sizeof method);
        zget(&z, i, "host", host, sizeof host); zget(&z, i, "uri", uri, sizeof uri);
        zget(&z, i, "user_agent", ua, sizeof ua);
        tflow *f = find_flow(&r, 6, oh, (unsigned)strtoul(op, NULL, 10), rh, (unsigned)strtoul(rp, NULL, 10));
        CHECK(f != NULL);
        if (!f) continue;
        const ni_http_req *q = req_at(&f->s, (unsigned)strtoul(depth, NULL, 10) - 1);
        CHECK(q != NULL);
        if (!q) { fprintf(stderr, "  %s: no request %s on %s:%s\n", pcap, depth, oh, op); continue; }
        compared++;
        CHECK_STR(q->method, method);
        CHECK_STR(q->host, strcmp(host, "-") ? host : NULL);
        CHECK_STR(q->path, uri);
        CHECK_STR(q->user_agent, strcmp(ua, "-") ? ua : NULL);
    }
    /* and on each logged connection, no request Zeek did not log (Zeek
     * leaves out connections whose start it did not see, like wikipedia's
     * first: those are not compared) */
    for (size_t i = 0; i < r.n; i++) {
        char oh[64], rh[64];
        unsigned logged = 0;
        ni_addr_format(&r.f[i].a[0], oh);
        ni_addr_format(&r.f[i].a[1], rh);
        for (size_t k = 0; k < z.nrows; k++) {
            char o2[64], p2[8], r2[64], q2[8];
            zget(&z, k, "id.orig_h", o2, sizeof o2); zget(&z, k, "id.orig_p", p2, sizeof p2);
            zget(&z, k, "id.resp_h", r2, sizeof r2); zget(&z, k, "id.resp_p", q2, sizeof q2);
            logged += !strcmp(o2, oh) && !strcmp(r2, rh) && strtoul(p2, NULL, 10) == r.f[i].port[0] &&
                      strtoul(q2, NULL, 10) == r.f[i].port[1];
        }
        if (logged) CHECK_INT(r.f[i].s.http_count, logged);
    }
    CHECK(r.stats.http_requests >= z.nrows);
    zlog_free(&z);
    replay_free(&r);
    return compared;
}

TEST(zeek_pipelined_requests)
{
    CHECK_INT(check_http_log(NI_CORPUS "/zeek/traces/http/pipelined-requests.pcap",
                             NI_CORPUS "/zeek/baseline/scripts.base.protocols.http.http-pipelining/http.log"), 5);
}

TEST(zeek_get)
{
    CHECK_INT(check_http_log(NI_CORPUS "/zeek/traces/http/get.pcap",
                             NI_CORPUS "/zeek/baseline/core.tcp.reassembly-known-ports/http.log"), 1);
}

TEST(zeek_wikipedia_http_dns)
{
    CHECK_INT(check_http_log(NI_CORPUS "/zeek/traces/wikipedia.pcap", NI_CORPUS "/zeek/baseline/opt.basic/http.log"),
              14);
    /* dns.log: each DNS flow's first logged query is our dns_query */
    replay r;
    zlog z;
    CHECK(replay_run(&r, NI_CORPUS "/zeek/traces/wikipedia.pcap"));
    CHECK(zlog_read(NI_CORPUS "/zeek/baseline/opt.basic/dns.log", &z));
    unsigned compared = 0;
    for (size_t i = 0; i < z.nrows; i++) {
        char oh[64], op[8], rh[64], rp[8], query[512];
        zget(&z, i, "id.orig_h", oh, sizeof oh); zget(&z, i, "id.orig_p", op, sizeof op);
        zget(&z, i, "id.resp_h", rh, sizeof rh); zget(&z, i, "id.resp_p", rp, sizeof rp);
        zget(&z, i, "query", query, sizeof query);
        unsigned sp = (unsigned)strtoul(rp, NULL, 10);
        if (sp != 53 && sp != 5353 && sp != 5355) continue;      /* NetBIOS: not ours */
        bool first = true;                                        /* first row of its flow? */
        for (size_t k = 0; k < i; k++) {
            char o2[64], p2[8], r2[64], q2[8];
            zget(&z, k, "id.orig_h", o2, sizeof o2); zget(&z, k, "id.orig_p", p2, sizeof p2);
            zget(&z, k, "id.resp_h", r2, sizeof r2); zget(&z, k, "id.resp_p", q2, sizeof q2);
            if (!strcmp(o2, oh) && !strcmp(p2, op) && !strcmp(r2, rh) && !strcmp(q2, rp)) first = false;
        }
        if (!first) continue;
        tflow *f = find_flow(&r, 17, oh, (unsigned)strtoul(op, NULL, 10), rh, sp);
        CHECK(f != NULL);
        if (!f) continue;
        compared++;
        CHECK_STR(f->s.dns_query, query);
    }
    CHECK(compared >= 10);
    /* the cache: HTTP sessions to an address the client resolved carry the
     * name it asked for, which is the Host it then sent */
    unsigned named = 0;
    for (size_t i = 0; i < r.n; i++) {
        const ni_session *s = &r.f[i].s;
        if (!s->http || !s->dns_name) continue;
        named++;
        CHECK_STR(s->dns_name, s->http->host);
    }
    CHECK(named >= 3);
    fprintf(stderr, "  wikipedia: %u DNS flows compared with dns.log, %u HTTP sessions named from DNS\n",
            compared, named);
    zlog_free(&z);
    replay_free(&r);
}

TEST(zeek_tls_sni)
{
    replay r;
    zlog z;
    CHECK(replay_run(&r, NI_CORPUS "/zeek/traces/tls/tls-conn-with-extensions.pcap"));
    CHECK(zlog_read(NI_CORPUS "/zeek/baseline/scripts.base.protocols.ssl.basic/ssl.log", &z));
    CHECK_INT(z.nrows, 1);
    for (size_t i = 0; i < z.nrows; i++) {
        char oh[64], op[8], rh[64], rp[8], sni[256];
        zget(&z, i, "id.orig_h", oh, sizeof oh); zget(&z, i, "id.orig_p", op, sizeof op);
        zget(&z, i, "id.resp_h", rh, sizeof rh); zget(&z, i, "id.resp_p", rp, sizeof rp);
        zget(&z, i, "server_name", sni, sizeof sni);
        tflow *f = find_flow(&r, 6, oh, (unsigned)strtoul(op, NULL, 10), rh, (unsigned)strtoul(rp, NULL, 10));
        CHECK(f != NULL);
        if (!f) continue;
        CHECK_INT(f->st.proto, NI_APP_TLS);
        CHECK_STR(f->s.sni, sni);
        CHECK(f->st.done[0] && f->st.done[1]);
    }
    CHECK(r.stats.tls_hellos >= 1);
    zlog_free(&z);
    replay_free(&r);
}

/* ---- nDPI results ---- */

/* For each flow nDPI lists with a Hostname and a User-Agent: our first
 * request has that Host and User-Agent, and nDPI's URL (host + target,
 * which nDPI may cut short) is a prefix of ours. */
static unsigned check_ndpi_http(const char *pcap, const char *out, unsigned *ua_prefix_only)
{
    replay r;
    CHECK(replay_run(&r, pcap));
    FILE *f = fopen(out, "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t lc = 0;
    unsigned compared = 0;
    while (f && getline(&line, &lc, f) > 0) {
        char l4[8], a[80], arrow[8], b[80], host[512], ua[2048], url[8192];
        int num;
        if (sscanf(line, "\t%d\t%7s %79s %7s %79s", &num, l4, a, arrow, b) != 5 || strcmp(l4, "TCP")) continue;
        if (!strstr(line, "[proto: 7") || !tp_field(line, "[Hostname/SNI: ", host, sizeof host)) continue;
        tflow *fl = NULL;
        for (size_t i = 0; i < r.n && !fl; i++) {
            char ea[80], eb[80];
            tp_endpoint(&r.f[i].a[0], r.f[i].port[0], ea, sizeof ea);
            tp_endpoint(&r.f[i].a[1], r.f[i].port[1], eb, sizeof eb);
            if (r.f[i].proto == 6 && ((!strcmp(ea, a) && !strcmp(eb, b)) || (!strcmp(ea, b) && !strcmp(eb, a))))
                fl = &r.f[i];
        }
        CHECK(fl != NULL);
        if (!fl) continue;
        const ni_http_req *q = fl->s.http;
        CHECK(q != NULL);
        if (!q) { fprintf(stderr, "  %s flow %d: no request\n", pcap, num); continue; }
        compared++;
        CHECK_STR(q->host, host);
        if (tp_field(line, "[User-Agent: ", ua, sizeof ua)) {
            CHECK(q->user_agent != NULL);
            if (q->user_agent && strcmp(q->user_agent, ua) != 0) {
                /* nDPI keeps only the part of a User-Agent in the first segment */
                CHECK(!strncmp(q->user_agent, ua, strlen(ua)) && strlen(q->user_agent) > strlen(ua));
                (*ua_prefix_only)++;
            }
        }
        /* nDPI's URL is the Host as sent (port kept) + the target, maybe
         * cut short, of one of the flow's requests (often not the first) */
        if (tp_field(line, "[URL: ", url, sizeof url)) {
            const char *slash = strchr(url, '/');
            bool any = false;
            for (const ni_http_req *x = fl->s.http; x && slash && !any; x = x->next)
                any = x->path && !strncmp(x->path, slash, strlen(slash));
            CHECK(any || !slash);
            if (!any && slash) fprintf(stderr, "  %s flow %d: URL '%s' not among our requests\n", pcap, num, url);
        }
    }
    free(line);
    if (f) fclose(f);
    replay_free(&r);
    return compared;
}

TEST(ndpi_webattack_rce)
{
    unsigned prefix = 0;
    unsigned n = check_ndpi_http(NI_CORPUS "/ndpi/pcap/WebattackRCE.pcap", NI_CORPUS "/ndpi/result/WebattackRCE.pcap.out",
                                 &prefix);
    CHECK(n >= 700);
    CHECK_INT(prefix, 0);
    fprintf(stderr, "  WebattackRCE: %u HTTP flows agree with nDPI\n", n);
}

TEST(ndpi_ua_split_in_two_packets)
{
    unsigned prefix = 0;
    unsigned n = check_ndpi_http(NI_CORPUS "/ndpi/pcap/http_ua_splitted_in_two_pkts.pcapng",
                                 NI_CORPUS "/ndpi/result/http_ua_splitted_in_two_pkts.pcapng.out", &prefix);
    CHECK_INT(n, 1);
    /* nDPI reports the truncated "Mozil"; the reassembled stream gives the
     * whole value, which nDPI's is a prefix of */
    CHECK_INT(prefix, 1);
}

TEST(ndpi_http_corpus)
{
    const char *names[] = {"http.pcapng", "1kxun.pcap", "anyconnect-vpn.pcap", "bot.pcap", "conncheck.pcap",
                           "http-manipulated.pcap", "instagram.pcap", "iphone.pcap", "netflix.pcap",
                           "punycode-idn.pcap", "webex.pcap", "weibo.pcap", "windowsupdate_over_http.pcap",
                           "sites.pcapng", "tumblr.pcap", "reddit.pcap", "wechat.pcap"};
    unsigned total = 0, prefix = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[512], o[512];
        snprintf(p, sizeof p, NI_CORPUS "/ndpi/pcap/%s", names[i]);
        snprintf(o, sizeof o, NI_CORPUS "/ndpi/result/%s.out", names[i]);
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        fclose(f);
        total += check_ndpi_http(p, o, &prefix);
    }
    fprintf(stderr, "  nDPI corpus: %u HTTP flows compared (%u with nDPI's User-Agent cut short)\n", total, prefix);
    CHECK(total >= 30);
}

TEST(ndpi_dns_over_tcp)
{
    /* dns_fragmented.pcap: DNS over TCP (DNSKEY queries: the answers are
     * DNSKEY and RRSIG records, none of them an address or CNAME, and nDPI
     * lists 0.0.0.0) */
    replay r;
    CHECK(replay_run_only(&r, NI_CORPUS "/ndpi/pcap/dns_fragmented.pcap", 6));
    unsigned tcp = 0;
    for (size_t i = 0; i < r.n; i++) {
        tflow *f = &r.f[i];
        if (f->proto != 6 || f->port[1] != 53) continue;
        tcp++;
        CHECK_INT(f->st.proto, NI_APP_DNS);
        CHECK_STR(f->s.dns_query, "weberlab.de");
        CHECK(f->s.dns_answers == NULL);
        /* one transaction per TCP connection: the DNSKEY query and its
         * answer (DNSKEY and RRSIG records: no text kept, but their TTL) */
        CHECK_INT(f->s.dns_count, 1);
        if (f->s.dns) {
            CHECK_STR(f->s.dns->query, "weberlab.de");
            CHECK_STR(f->s.dns->qtype, "DNSKEY");
            CHECK_STR(f->s.dns->rcode, "NOERROR");
            CHECK(f->s.dns->queried && f->s.dns->answers == NULL && f->s.dns->ttl >= 0);
        }
        CHECK(f->st.done[0] == 0 && f->st.done[1] == 0);   /* whole messages, no give-up */
    }
    CHECK_INT(tcp, 2);
    CHECK_INT(r.stats.dns_messages, 4);
    CHECK_INT(r.stats.dissect_errors, 0);
    replay_free(&r);
}

TEST(ndpi_ssdp)
{
    replay r;
    CHECK(replay_run(&r, NI_CORPUS "/ndpi/pcap/ssdp-m-search-ua.pcap"));
    size_t ne = 0;
    tp_expect *ex = tp_read_expect(NI_CORPUS "/ndpi/result/ssdp-m-search-ua.pcap.out", &ne);
    CHECK(ne >= 1);
    FILE *f = fopen(NI_CORPUS "/ndpi/result/ssdp-m-search-ua.pcap.out", "r");
    char *line = NULL;
    size_t lc = 0;
    unsigned seen = 0;
    while (f && getline(&line, &lc, f) > 0) {
        char ua[512], host[256];
        if (!tp_field(line, "[User-Agent: ", ua, sizeof ua) || !tp_field(line, "[Hostname/SNI: ", host, sizeof host))
            continue;
        for (size_t i = 0; i < r.n; i++) {
            const ni_http_req *q = r.f[i].s.http;
            if (!q || r.f[i].proto != 17) continue;
            seen++;
            CHECK_STR(q->user_agent, ua);
            /* nDPI keeps ":1900" on the SSDP Host; netintel drops the port */
            CHECK(q->host && !strncmp(host, q->host, strlen(q->host)) && host[strlen(q->host)] == ':');
        }
    }
    CHECK(seen >= 1);
    free(line);
    if (f) fclose(f);
    free(ex);
    replay_free(&r);
}

RUN(T(tcp_http_decision), T(tcp_other_and_port53), T(udp_dns_and_cache), T(udp_ssdp), T(null_stats_and_release),
    T(zeek_pipelined_requests), T(zeek_get), T(zeek_wikipedia_http_dns), T(zeek_tls_sni), T(ndpi_webattack_rce),
    T(ndpi_ua_split_in_two_packets), T(ndpi_http_corpus), T(ndpi_dns_over_tcp), T(ndpi_ssdp))
