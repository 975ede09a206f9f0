/* test_proxy.c — proxy preambles (lib/dissect/ni_proxy): SOCKS 4/4A/5
 * client requests and server replies table-driven (complete, every prefix
 * needs more, malformed), then through the content dissectors: the preamble
 * is consumed and recorded, and the TLS ClientHello or HTTP request after it
 * — delivered whole or in small pieces — gives the same evidence as the same
 * bytes without a preamble. */
#include "ni_test.h"

#include <stdlib.h>

#include "core/ni_arena.h"
#include "core/ni_buf.h"
#include "core/ni_limits.h"
#include "dissect/ni_dissect.h"
#include "dissect/ni_proxy.h"
#include "synth/ni_pktgen.h"

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

typedef struct client_row {
    const char *name;
    const uint8_t *p;
    size_t n;
    ni_proxy_result want;
    ni_proxy_kind kind;
    const char *dest;
} client_row;

TEST(client_requests)
{
    const client_row rows[] = {
        { "socks4", B(4, 1, 0x01, 0xbb, 93, 184, 216, 34, 'b', 'o', 'b', 0), NI_PROXY_DONE, NI_PROXY_SOCKS4,
          "93.184.216.34:443" },
        { "socks4 empty id", B(4, 1, 0x00, 0x50, 10, 0, 0, 1, 0), NI_PROXY_DONE, NI_PROXY_SOCKS4, "10.0.0.1:80" },
        { "socks4a", B(4, 1, 0x01, 0xbb, 0, 0, 0, 9, 0, 'a', '.', 'e', 'x', 0), NI_PROXY_DONE, NI_PROXY_SOCKS4,
          "a.ex:443" },
        { "socks4a empty name", B(4, 1, 0x01, 0xbb, 0, 0, 0, 9, 0, 0), NI_PROXY_NOT, NI_PROXY_SOCKS4, NULL },
        { "socks4 bad command", B(4, 9, 0x01, 0xbb, 1, 2, 3, 4, 0), NI_PROXY_NOT, NI_PROXY_SOCKS4, NULL },
        { "socks4 control byte in id", B(4, 1, 0x01, 0xbb, 1, 2, 3, 4, 'a', 7, 0), NI_PROXY_NOT, NI_PROXY_SOCKS4, NULL },
        { "socks5 ipv4", B(5, 1, 0, 5, 1, 0, 1, 198, 51, 100, 7, 0x01, 0xbb), NI_PROXY_DONE, NI_PROXY_SOCKS5,
          "198.51.100.7:443" },
        { "socks5 name", B(5, 2, 0, 2, 5, 1, 0, 3, 3, 'a', '.', 'b', 0, 80), NI_PROXY_DONE, NI_PROXY_SOCKS5, "a.b:80" },
        { "socks5 rfc1929", B(5, 1, 2, 1, 1, 'u', 2, 'p', 'w', 5, 1, 0, 3, 1, 'h', 0x1f, 0x90), NI_PROXY_DONE,
          NI_PROXY_SOCKS5, "h:8080" },
        { "socks5 ipv6", B(5, 1, 0, 5, 1, 0, 4, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 22),
          NI_PROXY_DONE, NI_PROXY_SOCKS5, "[2001:db8::1]:22" },
        { "socks5 bad atyp", B(5, 1, 0, 5, 1, 0, 2, 1, 2, 3, 4, 0, 1), NI_PROXY_NOT, NI_PROXY_SOCKS5, NULL },
        { "socks5 bad rsv", B(5, 1, 0, 5, 1, 7, 1, 1, 2, 3, 4, 0, 1), NI_PROXY_NOT, NI_PROXY_SOCKS5, NULL },
        { "socks5 no methods", B(5, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0, 1), NI_PROXY_NOT, NI_PROXY_SOCKS5, NULL },
        { "socks5 name with a space", B(5, 1, 0, 5, 1, 0, 3, 3, 'a', ' ', 'b', 0, 80), NI_PROXY_NOT, NI_PROXY_SOCKS5, NULL },
        { "tls is none", B(22, 3, 1, 0, 5, 1, 0, 0, 1, 0), NI_PROXY_NOT, NI_PROXY_NONE, NULL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const client_row *r = &rows[i];
        ni_proxy_kind kind = NI_PROXY_NONE;
        char dest[NI_PROXY_DEST_MAX];
        size_t used = 99;
        ni_proxy_result res = ni_proxy_client(r->p, r->n, &kind, dest, sizeof dest, &used);
        if (res != r->want) fprintf(stderr, "  row %s\n", r->name);
        CHECK_INT(res, r->want);
        if (r->want == NI_PROXY_DONE) {
            CHECK_INT(kind, r->kind);
            CHECK_INT(used, r->n);
            CHECK_STR(dest, r->dest);
            CHECK_INT(ni_proxy_probe(r->p, r->n), 1);
            /* every proper prefix: more needed, nothing consumed */
            for (size_t k = 0; k < r->n; k++) {
                ni_proxy_result pr = ni_proxy_client(r->p, k, &kind, dest, sizeof dest, &used);
                if (pr != NI_PROXY_NEED_MORE) fprintf(stderr, "  row %s prefix %zu\n", r->name, k);
                CHECK_INT(pr, NI_PROXY_NEED_MORE);
                CHECK_INT(used, 0);
            }
        }
    }
    /* a small destination buffer cuts the text, never overruns */
    char small[6];
    ni_proxy_kind kind;
    size_t used;
    CHECK_INT(ni_proxy_client(rows[0].p, rows[0].n, &kind, small, sizeof small, &used), NI_PROXY_DONE);
    CHECK_STR(small, "93.18");
    CHECK_INT(ni_proxy_probe(B(22, 3, 1)), 0);
    CHECK_INT(ni_proxy_probe(B(5)), -1);
    CHECK_INT(ni_proxy_probe(B('G', 'E', 'T')), 0);
}

typedef struct server_row {
    const char *name;
    ni_proxy_kind kind;
    const char *p;
    size_t n;
    ni_proxy_result want;
    size_t used;
} server_row;

#define S(s) s, sizeof(s) - 1

TEST(server_replies)
{
    static const server_row rows[] = {
        { "socks4 granted", NI_PROXY_SOCKS4, S("\x00\x5a\x01\xbb\x01\x02\x03\x04\x16"), NI_PROXY_DONE, 8 },
        { "socks4 refused", NI_PROXY_SOCKS4, S("\x00\x5b\x00\x00\x00\x00\x00\x00"), NI_PROXY_REFUSED, 0 },
        { "socks4 short", NI_PROXY_SOCKS4, S("\x00\x5a\x01"), NI_PROXY_NEED_MORE, 0 },
        { "socks5 no auth", NI_PROXY_SOCKS5, S("\x05\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"), NI_PROXY_DONE, 12 },
        { "socks5 password", NI_PROXY_SOCKS5, S("\x05\x02\x01\x00\x05\x00\x00\x03\x01h\x00\x01"), NI_PROXY_DONE, 12 },
        { "socks5 bad password", NI_PROXY_SOCKS5, S("\x05\x02\x01\x01"), NI_PROXY_REFUSED, 0 },
        { "socks5 no method", NI_PROXY_SOCKS5, S("\x05\xff"), NI_PROXY_REFUSED, 0 },
        { "socks5 host unreachable", NI_PROXY_SOCKS5, S("\x05\x00\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00"),
          NI_PROXY_REFUSED, 0 },
        { "socks5 selection only", NI_PROXY_SOCKS5, S("\x05\x00"), NI_PROXY_NEED_MORE, 0 },
        { "socks5 gssapi", NI_PROXY_SOCKS5, S("\x05\x01\x01\x01"), NI_PROXY_NOT, 0 },
        { "connect 200", NI_PROXY_HTTP_CONNECT, S("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03"),
          NI_PROXY_DONE, 39 },
        { "connect 100 then 200", NI_PROXY_HTTP_CONNECT, S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\nVia: x\n\n"),
          NI_PROXY_DONE, 49 },
        { "connect 407 then 200", NI_PROXY_HTTP_CONNECT,
          S("HTTP/1.1 407 No\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n\r\n"), NI_PROXY_DONE, 60 },
        { "connect 407, body coming", NI_PROXY_HTTP_CONNECT, S("HTTP/1.1 407 No\r\nContent-length:  3\r\n\r\na"),
          NI_PROXY_NEED_MORE, 0 },
        { "connect 407 and its body", NI_PROXY_HTTP_CONNECT, S("HTTP/1.1 407 No\r\nContent-Length: 1\r\n\r\naHTTP/1.1"),
          NI_PROXY_NEED_MORE, 39 },
        { "connect 403 no length", NI_PROXY_HTTP_CONNECT, S("HTTP/1.1 403 Forbidden\r\n\r\n"), NI_PROXY_REFUSED, 0 },
        { "connect not http", NI_PROXY_HTTP_CONNECT, S("\x16\x03\x03\x00\x10"), NI_PROXY_NOT, 0 },
        { "connect incomplete head", NI_PROXY_HTTP_CONNECT, S("HTTP/1.1 200 OK\r\nVia"), NI_PROXY_NEED_MORE, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const server_row *r = &rows[i];
        size_t used = 99;
        ni_proxy_result res = ni_proxy_server(r->kind, (const uint8_t *)r->p, r->n, &used);
        if (res != r->want || used != r->used) fprintf(stderr, "  row %s\n", r->name);
        CHECK_INT(res, r->want);
        CHECK_INT(used, r->used);
    }
}

/* ---- through the content dissectors ---------------------------------------- */

static void sess_init(ni_session *s)
{
    memset(s, 0, sizeof *s);
    s->proto = 6;
    ni_addr_parse("10.0.0.5", &s->client);
    ni_addr_parse("192.0.2.1", &s->server);
    s->client_port = 50000;
    s->server_port = 1080;
    s->arena = ni_arena_new(NI_SESSION_ARENA_MAX);
}

/* Feeds dir's bytes in pieces of step, keeping what is not consumed, as the
 * flow table does. */
static void feed(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir, const uint8_t *data, size_t n,
                 size_t step, uint8_t *buf, size_t *have)
{
    size_t pos = 0;
    while (pos < n && !st->done[dir]) {
        size_t k = n - pos < step ? n - pos : step;
        memcpy(buf + *have, data + pos, k);
        *have += k;
        pos += k;
        size_t used = ni_dissect_stream(dx, st, s, dir, buf, *have, 0);
        if (used > *have) used = *have;
        memmove(buf, buf + used, *have - used);
        *have -= used;
    }
}

typedef struct exchange { int dir; const char *p; size_t n; } exchange;

TEST(tls_after_preamble)
{
    ni_buf hello;
    ni_buf_init(&hello, 1 << 20);
    ni_gen_client_hello(&hello, "tunnel.example.com", "h2", 7);

    /* the same hello alone */
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    ni_session ref;
    sess_init(&ref);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    uint8_t *buf = malloc(NI_STREAM_BUF_MAX);
    size_t have = 0;
    feed(dx, &st, &ref, 0, (const uint8_t *)hello.p, hello.len, hello.len, buf, &have);
    CHECK(ref.ja4 != NULL);
    CHECK_STR(ref.sni, "tunnel.example.com");
    CHECK_INT(ref.proxy, NI_PROXY_NONE);

    static const struct {
        const char *name;
        exchange ex[4];
        ni_proxy_kind kind;
        const char *dest;
    } rows[] = {
        { "socks4", { { 0, S("\x04\x01\x01\xbb\x5d\xb8\xd8\x22\x00") }, { 1, S("\x00\x5a\x00\x00\x00\x00\x00\x00") } },
          NI_PROXY_SOCKS4, "93.184.216.34:443" },
        { "socks5", { { 0, S("\x05\x01\x00") }, { 1, S("\x05\x00") }, { 0, S("\x05\x01\x00\x03\x01x\x01\xbb") },
                      { 1, S("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00") } },
          NI_PROXY_SOCKS5, "x:443" },
        { "connect", { { 0, S("CONNECT tunnel.example.com:443 HTTP/1.1\r\nHost: tunnel.example.com\r\n\r\n") },
                       { 1, S("HTTP/1.1 200 OK\r\n\r\n") } },
          NI_PROXY_HTTP_CONNECT, "tunnel.example.com:443" },
    };
    /* record header, ServerHello header, version, random, empty session id,
     * TLS_AES_128_GCM_SHA256, null compression */
    static const uint8_t server_hello[47] = { 22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3, [43] = 0, [44] = 0x13, [45] = 0x01 };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (size_t step = 1; step <= hello.len; step = step < 8 ? step + 1 : step * 4) {
            ni_session s;
            sess_init(&s);
            memset(&st, 0, sizeof st);
            uint8_t *sbuf = malloc(NI_STREAM_BUF_MAX);
            size_t chave = 0, shave = 0;
            for (size_t k = 0; k < 4 && rows[i].ex[k].p; k++)
                feed(dx, &st, &s, rows[i].ex[k].dir, (const uint8_t *)rows[i].ex[k].p, rows[i].ex[k].n, step,
                     rows[i].ex[k].dir ? sbuf : buf, rows[i].ex[k].dir ? &shave : &chave);
            feed(dx, &st, &s, 0, (const uint8_t *)hello.p, hello.len, step, buf, &chave);
            feed(dx, &st, &s, 1, server_hello, sizeof server_hello, step, sbuf, &shave);
            if (!s.ja4 || !ref.ja4 || strcmp(s.ja4, ref.ja4)) fprintf(stderr, "  %s step %zu\n", rows[i].name, step);
            CHECK_STR(s.ja4, ref.ja4);
            CHECK_STR(s.sni, "tunnel.example.com");
            CHECK_INT(s.proxy, rows[i].kind);
            CHECK_STR(s.proxy_dest, rows[i].dest);
            CHECK_INT(s.tls_cipher, 0x1301);              /* the ServerHello after the reply */
            CHECK_INT(st.proto, NI_APP_TLS);
            ni_arena_free(s.arena);
            free(sbuf);
        }
    }
    ni_arena_free(ref.arena);
    free(buf);
    ni_dissect_free(dx);
    ni_buf_release(&hello);
}

TEST(refused_and_not_proxies)
{
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    uint8_t *buf = malloc(NI_STREAM_BUF_MAX), *sbuf = malloc(NI_STREAM_BUF_MAX);

    /* refused: recorded, the server side is done */
    ni_session s;
    sess_init(&s);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    size_t ch = 0, sh = 0;
    feed(dx, &st, &s, 0, (const uint8_t *)"\x04\x01\x00\x19\x01\x02\x03\x04\x00", 9, 9, buf, &ch);
    feed(dx, &st, &s, 1, (const uint8_t *)"\x00\x5b\x00\x00\x00\x00\x00\x00", 8, 8, sbuf, &sh);
    CHECK_INT(s.proxy, NI_PROXY_SOCKS4);
    CHECK_STR(s.proxy_dest, "1.2.3.4:25");
    CHECK_INT(st.done[1], 1);
    ni_arena_free(s.arena);

    /* a SOCKS-looking start that goes wrong: nothing recorded, another protocol */
    sess_init(&s);
    memset(&st, 0, sizeof st);
    ch = 0;
    uint64_t errs = stats.dissect_errors;
    feed(dx, &st, &s, 0, (const uint8_t *)"\x05\x01\x00\x05\x01\x00\x09\x00\x00", 9, 9, buf, &ch);
    CHECK_INT(s.proxy, NI_PROXY_NONE);
    CHECK(s.proxy_dest == NULL);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(st.proto, NI_APP_OTHER);
    CHECK_INT(stats.dissect_errors, errs);
    ni_arena_free(s.arena);

    /* plain HTTP through CONNECT: both requests recorded, Host and UA kept */
    sess_init(&s);
    memset(&st, 0, sizeof st);
    ch = sh = 0;
    const char *c = "CONNECT h.example:80 HTTP/1.1\r\nHost: h.example:80\r\nUser-Agent: ua/1\r\n\r\n";
    const char *g = "GET / HTTP/1.1\r\nHost: h.example\r\nUser-Agent: ua/1\r\n\r\n";
    feed(dx, &st, &s, 0, (const uint8_t *)c, strlen(c), 5, buf, &ch);
    feed(dx, &st, &s, 1, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19, 5, sbuf, &sh);
    feed(dx, &st, &s, 0, (const uint8_t *)g, strlen(g), 5, buf, &ch);
    CHECK_INT(s.http_count, 2);
    CHECK_STR(s.http ? s.http->host : NULL, "h.example");
    CHECK_STR(ni_session_user_agent(&s), "ua/1");
    CHECK_INT(s.proxy, NI_PROXY_HTTP_CONNECT);
    CHECK_STR(s.proxy_dest, "h.example:80");
    ni_arena_free(s.arena);

    free(buf);
    free(sbuf);
    ni_dissect_free(dx);
}

TEST(kind_names)
{
    CHECK_STR(ni_proxy_kind_name(NI_PROXY_SOCKS4), "socks4");
    CHECK_STR(ni_proxy_kind_name(NI_PROXY_SOCKS5), "socks5");
    CHECK_STR(ni_proxy_kind_name(NI_PROXY_HTTP_CONNECT), "http-connect");
    CHECK(ni_proxy_kind_name(NI_PROXY_NONE) == NULL);
    CHECK(ni_proxy_kind_name(NI_PROXY__COUNT) == NULL);
}

RUN(T(client_requests), T(server_replies), T(tls_after_preamble), T(refused_and_not_proxies), T(kind_names))
