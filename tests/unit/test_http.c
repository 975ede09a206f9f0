/* test_http.c — HTTP/1.x request dissection (lib/dissect/ni_http): request
 * heads, field rules (case, OWS, folding, caps, Host ports), body framing
 * on the stream (Content-Length, chunked, pipelining, split delivery), and
 * the give-up paths. */
#include "ni_test.h"

#include <stdlib.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_http.h"

static ni_session *sess_new(size_t arena)
{
    ni_session *s = calloc(1, sizeof *s);
    s->arena = ni_arena_new(arena);
    return s;
}

static void sess_free(ni_session *s)
{
    ni_arena_free(s->arena);
    free(s);
}

static const ni_http_req *req_at(const ni_session *s, unsigned i)
{
    const ni_http_req *r = s->http;
    while (r && i--) r = r->next;
    return r;
}

/* Feeds a stream in pieces of `step` bytes as the flow table would: the
 * unconsumed rest is presented again with the next piece appended. */
static size_t feed(ni_app_state *st, ni_session *s, const char *data, size_t step, ni_http_counts *cnt)
{
    size_t n = strlen(data), pos = 0;
    uint8_t *buf = malloc(n + 1);
    size_t have = 0, consumed_total = 0;
    while (pos < n && !st->done[0]) {
        size_t k = n - pos < step ? n - pos : step;
        memcpy(buf + have, data + pos, k);
        have += k;
        pos += k;
        size_t used = ni_http_stream(st, s, buf, have, cnt);
        if (used > have) used = have;
        memmove(buf, buf + used, have - used);
        have -= used;
        consumed_total += used;
    }
    free(buf);
    return consumed_total;
}

TEST(probe_methods)
{
    CHECK_INT(ni_http_probe((const uint8_t *)"GET / HTTP/1.1", 14), 1);
    CHECK_INT(ni_http_probe((const uint8_t *)"PROPFIND /x", 11), 1);
    CHECK_INT(ni_http_probe((const uint8_t *)"M-SEARCH * HTTP/1.1", 19), 1);
    CHECK_INT(ni_http_probe((const uint8_t *)"GE", 2), -1);
    CHECK_INT(ni_http_probe((const uint8_t *)"GET", 3), -1);
    CHECK_INT(ni_http_probe((const uint8_t *)"GETX /", 6), 0);
    CHECK_INT(ni_http_probe((const uint8_t *)"get / HTTP/1.1", 14), 0);   /* methods are case-sensitive */
    CHECK_INT(ni_http_probe((const uint8_t *)"\x16\x03\x01", 3), 0);
    CHECK_INT(ni_http_probe((const uint8_t *)"SSH-2.0-OpenSSH", 15), 0);
}

TEST(basic_fields)
{
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    const char *req =
        "GET /index.html?q=1 HTTP/1.1\r\n"
        "host:   WWW.Example.COM:8080  \r\n"
        "USER-AGENT: Mozilla/5.0 (X11; Linux)\t\r\n"
        "sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
        "Sec-CH-UA-Platform: \"Windows\"\r\n"
        "Sec-CH-UA-Platform-Version: \"15.0.0\"\r\n"
        "Sec-CH-UA-Model: \"\"\r\n"
        "Accept: */*\r\n\r\n";
    size_t n = strlen(req);
    CHECK_INT(ni_http_head_len((const uint8_t *)req, n), n);
    CHECK_INT(ni_http_head_len((const uint8_t *)req, n - 1), 0);
    ni_http_body b;
    uint64_t bl;
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)req, n, false, &b, &bl), NI_OK);
    CHECK_INT(b, NI_HTTP_BODY_NONE);
    CHECK_INT(s->http_count, 1);
    const ni_http_req *r = s->http;
    CHECK(r != NULL && s->http_tail == r);
    if (r) {
        CHECK_STR(r->method, "GET");
        CHECK_STR(r->path, "/index.html?q=1");
        CHECK_STR(r->host, "www.example.com");
        CHECK_STR(r->user_agent, "Mozilla/5.0 (X11; Linux)");
        CHECK_STR(r->ch_ua, "\"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"");
        CHECK_STR(r->ch_ua_platform, "\"Windows\"");
        CHECK_STR(r->ch_ua_platform_version, "\"15.0.0\"");
        CHECK_STR(r->ch_ua_model, "\"\"");
    }
    sess_free(s);
}

TEST(host_forms)
{
    struct { const char *host; const char *want; } cases[] = {
        {"example.com", "example.com"},
        {"example.com:80", "example.com"},
        {"10.0.0.1:8080", "10.0.0.1"},
        {"[2001:db8::1]:8080", "[2001:db8::1]"},
        {"[2001:DB8::1]", "[2001:db8::1]"},
        {"2001:db8::1", "2001:db8::1"},           /* bare IPv6: kept whole */
        {"host:abc", "host:abc"},                 /* not a port: kept */
        {"example.com:", "example.com"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
        char req[256];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", cases[i].host);
        ni_http_body b;
        uint64_t bl;
        CHECK_INT(ni_http_parse_request(s, (const uint8_t *)req, strlen(req), false, &b, &bl), NI_OK);
        CHECK_STR(s->http ? s->http->host : NULL, cases[i].want);
        sess_free(s);
    }
}

TEST(host_from_target)
{
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    const char *r1 = "GET http://user@Proxy.Example:3128/a/b HTTP/1.1\r\nUser-Agent: x\r\n\r\n";
    const char *r2 = "CONNECT mail.example.org:443 HTTP/1.1\r\n\r\n";
    const char *r3 = "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n";
    ni_http_body b;
    uint64_t bl;
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)r1, strlen(r1), false, &b, &bl), NI_OK);
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)r2, strlen(r2), false, &b, &bl), NI_OK);
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)r3, strlen(r3), false, &b, &bl), NI_OK);
    CHECK_STR(req_at(s, 0)->host, "proxy.example");
    CHECK_STR(req_at(s, 0)->path, "http://user@Proxy.Example:3128/a/b");
    CHECK_STR(req_at(s, 1)->host, "mail.example.org");
    CHECK_STR(req_at(s, 1)->method, "CONNECT");
    CHECK_STR(req_at(s, 2)->host, "b.example");     /* the Host field wins */
    sess_free(s);
}

/* COPY (WebDAV, RFC 4918 §9.8) and the other methods starting "CO" use
 * the origin or absolute form: only CONNECT's target is an authority. */
TEST(copy_is_not_connect)
{
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    static const struct { const char *req, *method, *host; } rows[] = {
        { "COPY http://dav.example/a.txt HTTP/1.1\r\nDestination: /b.txt\r\n\r\n", "COPY", "dav.example" },
        { "COPY a.example:80 HTTP/1.1\r\n\r\n", "COPY", NULL },
        { "CONNECT b.example:443 HTTP/1.1\r\n\r\n", "CONNECT", "b.example" },
    };
    ni_http_body b;
    uint64_t bl;
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK_INT(ni_http_parse_request(s, (const uint8_t *)rows[i].req, strlen(rows[i].req), false, &b, &bl), NI_OK);
        const ni_http_req *r = req_at(s, i);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_STR(r->method, rows[i].method);
        CHECK_STR(r->host, rows[i].host);
    }
    sess_free(s);
}

TEST(folding_duplicates_caps)
{
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    char *big = malloc(NI_HTTP_FIELD_MAX * 2 + 200);
    snprintf(big, 200, "%s", "GET / HTTP/1.0\nUser-Agent: Agent/1.0\n   (folded part)\t\nUser-Agent: second\nReferer: ");
    size_t l = strlen(big);
    memset(big + l, 'a', NI_HTTP_FIELD_MAX + 10);
    l += NI_HTTP_FIELD_MAX + 10;
    memcpy(big + l, "\nSec-CH-UA-Model: ", 18);
    l += 18;
    memset(big + l, 'm', NI_HTTP_FIELD_MAX + 10);
    l += NI_HTTP_FIELD_MAX + 10;
    memcpy(big + l, "\n\n", 3);
    l += 2;
    CHECK_INT(ni_http_head_len((const uint8_t *)big, l), l);
    ni_http_body b;
    uint64_t bl;
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)big, l, false, &b, &bl), NI_OK);
    const ni_http_req *r = s->http;
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->user_agent, "Agent/1.0 (folded part)");
        CHECK(r->ch_ua_model && strlen(r->ch_ua_model) == NI_HTTP_FIELD_MAX);
        CHECK(r->host == NULL);
    }
    free(big);
    sess_free(s);
}

TEST(bad_request_lines)
{
    const char *bad[] = {
        "GET  HTTP/1.1\r\n\r\n",                 /* no target */
        "GET / HTTP/2.0\r\n\r\n",
        "GET / RTSP/1.0\r\n\r\n",
        "FOO / HTTP/1.1\r\n\r\n",
        "GET /\x01x HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
        ni_http_body b;
        uint64_t bl;
        CHECK_INT(ni_http_parse_request(s, (const uint8_t *)bad[i], strlen(bad[i]), false, &b, &bl),
                  NI_ERR_FORMAT);
        CHECK_INT(s->http_count, 0);
        sess_free(s);
    }
    /* HTTP/0.9-style request line: accepted on streams, not for datagrams */
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    ni_http_body b;
    uint64_t bl;
    const char *r09 = "GET /old\r\n\r\n";
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)r09, strlen(r09), false, &b, &bl), NI_OK);
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)r09, strlen(r09), true, &b, &bl), NI_ERR_FORMAT);
    /* servers' leniency: extra spaces around the target, spaces inside it */
    const char *sp1 = "GET      /long_uri HTTP/1.1\r\n\r\n";
    const char *sp2 = "GET /cgi;cat /etc/passwd|?d=x HTTP/1.1\r\n\r\n";
    const char *sp3 = "GET /a b\r\n\r\n";                 /* no version: one word only */
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)sp1, strlen(sp1), true, &b, &bl), NI_OK);
    CHECK_STR(s->http_tail->path, "/long_uri");
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)sp2, strlen(sp2), true, &b, &bl), NI_OK);
    CHECK_STR(s->http_tail->path, "/cgi;cat /etc/passwd|?d=x");
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)sp3, strlen(sp3), false, &b, &bl), NI_ERR_FORMAT);
    const char *same = "POST / HTTP/1.1\r\nContent-Length: 7, 7\r\n\r\n";
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)same, strlen(same), false, &b, &bl), NI_OK);
    CHECK_INT(b, NI_HTTP_BODY_LENGTH);
    CHECK_INT(bl, 7);
    const char *te = "POST / HTTP/1.1\r\nContent-Length: 7\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
    CHECK_INT(ni_http_parse_request(s, (const uint8_t *)te, strlen(te), false, &b, &bl), NI_OK);
    CHECK_INT(b, NI_HTTP_BODY_CHUNKED);
    sess_free(s);
}

static const char *pipeline =
    "\r\nGET /a HTTP/1.1\r\nHost: one.example\r\nUser-Agent: UA-1\r\n\r\n"
    "POST /b HTTP/1.1\r\nHost: two.example\r\nContent-Length: 25\r\n\r\n"
    "GET /fake HTTP/1.1\r\n\r\nxyz"                     /* body that looks like a request */
    "PUT /c HTTP/1.1\r\nHost: three.example\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;ext=1\r\nGET /\r\n"
    "19\r\nHEAD /inside HTTP/1.1\r\n\r\n\r\n"
    "0\r\nX-Trailer: 1\r\n\r\n"
    "DELETE /d HTTP/1.1\r\nhost: four.example\r\nuser-agent: UA-4\r\n\r\n";

static void check_pipeline(const ni_session *s)
{
    CHECK_INT(s->http_count, 4);
    const char *paths[] = {"/a", "/b", "/c", "/d"};
    const char *hosts[] = {"one.example", "two.example", "three.example", "four.example"};
    const char *meth[] = {"GET", "POST", "PUT", "DELETE"};
    for (unsigned i = 0; i < 4; i++) {
        const ni_http_req *r = req_at(s, i);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_STR(r->path, paths[i]);
        CHECK_STR(r->host, hosts[i]);
        CHECK_STR(r->method, meth[i]);
    }
    CHECK_STR(req_at(s, 0) ? req_at(s, 0)->user_agent : NULL, "UA-1");
    CHECK_STR(req_at(s, 3) ? req_at(s, 3)->user_agent : NULL, "UA-4");
    CHECK(s->http_tail == req_at(s, 3));
}

TEST(pipelined_bodies_whole)
{
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    ni_http_counts cnt = {0, 0};
    size_t used = ni_http_stream(&st, s, (const uint8_t *)pipeline, strlen(pipeline), &cnt);
    CHECK_INT(used, strlen(pipeline));
    CHECK_INT(st.done[0], 0);
    CHECK_INT(cnt.requests, 4);
    CHECK_INT(cnt.errors, 0);
    check_pipeline(s);
    sess_free(s);
}

TEST(pipelined_bodies_every_split)
{
    /* every delivery size from 1 byte: the same four requests */
    for (size_t step = 1; step <= 40; step++) {
        ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
        ni_app_state st;
        memset(&st, 0, sizeof st);
        ni_http_counts cnt = {0, 0};
        size_t used = feed(&st, s, pipeline, step, &cnt);
        CHECK_INT(used, strlen(pipeline));
        CHECK_INT(cnt.requests, 4);
        CHECK_INT(cnt.errors, 0);
        check_pipeline(s);
        sess_free(s);
    }
}

TEST(split_user_agent)
{
    /* the head completes only with the second piece: nothing consumed before */
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    ni_http_counts cnt = {0, 0};
    const char *part1 = "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: Mozil";
    CHECK_INT(ni_http_stream(&st, s, (const uint8_t *)part1, strlen(part1), &cnt), 0);
    CHECK_INT(s->http_count, 0);
    char full[256];
    snprintf(full, sizeof full, "%s%s", part1, "la/5.0 (Linux)\r\n\r\n");
    CHECK_INT(ni_http_stream(&st, s, (const uint8_t *)full, strlen(full), &cnt), strlen(full));
    CHECK_STR(s->http ? s->http->user_agent : NULL, "Mozilla/5.0 (Linux)");
    sess_free(s);
}

TEST(give_up_paths)
{
    ni_http_counts cnt;
    ni_app_state st;
    /* garbage first: done, counted */
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    ni_http_stream(&st, s, (const uint8_t *)"HELLO THERE\r\n\r\n", 15, &cnt);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 1);
    sess_free(s);

    /* a websocket after an upgrade: done, not an error */
    s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    const char *ws = "GET /ws HTTP/1.1\r\nHost: w\r\nUpgrade: websocket\r\n\r\n\x81\x85\x01\x02\x03\x04hello";
    ni_http_stream(&st, s, (const uint8_t *)ws, strlen(ws), &cnt);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 0);
    CHECK_INT(s->http_count, 1);
    sess_free(s);

    /* CONNECT: a tunnel follows; the stream stops after the CONNECT's head,
     * for the caller to read the tunnel afresh, and records the proxy */
    s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    const char *cn = "CONNECT x.example:443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    size_t cu = ni_http_stream(&st, s, (const uint8_t *)cn, strlen(cn), &cnt);
    CHECK_INT(cu, strlen("CONNECT x.example:443 HTTP/1.1\r\n\r\n"));
    CHECK_INT(st.done[0], 0);
    CHECK_INT(st.proxy, NI_PROXY_HTTP_CONNECT);
    CHECK_INT(s->http_count, 1);
    CHECK_INT(s->proxy, NI_PROXY_HTTP_CONNECT);
    CHECK_STR(s->proxy_dest, "x.example:443");
    sess_free(s);

    /* a CONNECT to a path (AnyConnect's tunnel) is no proxy: done, nothing recorded */
    s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    const char *ac = "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: vpn.example\r\n\r\nSTF\x01";
    ni_http_stream(&st, s, (const uint8_t *)ac, strlen(ac), &cnt);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(st.proxy, NI_PROXY_NONE);
    CHECK_INT(s->proxy, NI_PROXY_NONE);
    CHECK(s->proxy_dest == NULL);
    CHECK_INT(s->http_count, 1);
    sess_free(s);

    /* head over NI_HTTP_HEADER_MAX: done, counted, nothing recorded */
    s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    size_t bn = NI_HTTP_HEADER_MAX + 100;
    char *big = malloc(bn);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'a', bn - 19);
    CHECK_INT(ni_http_stream(&st, s, (const uint8_t *)big, NI_HTTP_HEADER_MAX - 1, &cnt), 0);
    CHECK_INT(st.done[0], 0);
    ni_http_stream(&st, s, (const uint8_t *)big, bn, &cnt);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 1);
    CHECK_INT(s->http_count, 0);
    free(big);
    sess_free(s);

    /* bad chunk size */
    s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    const char *bc = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    ni_http_stream(&st, s, (const uint8_t *)bc, strlen(bc), &cnt);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 1);
    CHECK_INT(s->http_count, 1);
    sess_free(s);

    /* chunk data not followed by CRLF */
    s = sess_new(NI_SESSION_ARENA_MAX);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    const char *cd = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n";
    ni_http_stream(&st, s, (const uint8_t *)cd, strlen(cd), &cnt);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 1);
    sess_free(s);
}

TEST(request_cap_and_arena_full)
{
    ni_session *s = sess_new(NI_SESSION_ARENA_MAX);
    ni_app_state st;
    memset(&st, 0, sizeof st);
    ni_http_counts cnt = {0, 0};
    const char *one = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t ol = strlen(one), total = ol * (NI_HTTP_REQUESTS_MAX + 5);
    char *many = malloc(total);
    for (unsigned i = 0; i < NI_HTTP_REQUESTS_MAX + 5; i++) memcpy(many + i * ol, one, ol);
    ni_http_stream(&st, s, (const uint8_t *)many, total, &cnt);
    CHECK_INT(s->http_count, NI_HTTP_REQUESTS_MAX);
    CHECK_INT(cnt.requests, NI_HTTP_REQUESTS_MAX);
    /* repeated values share one arena string */
    CHECK(req_at(s, 0) && req_at(s, 1) && req_at(s, 0)->host == req_at(s, 1)->host);
    CHECK(req_at(s, 0) && req_at(s, 1) && req_at(s, 0)->path == req_at(s, 1)->path);
    CHECK(ni_arena_used(s->arena) < NI_HTTP_REQUESTS_MAX * (sizeof(ni_http_req) + 16) + 256);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 0);
    sess_free(s);

    /* a tiny arena: the first request fits, then the arena is full */
    s = sess_new(300);
    memset(&st, 0, sizeof st);
    cnt = (ni_http_counts){0, 0};
    const char *ua = "GET /a HTTP/1.1\r\nUser-Agent: 0123456789012345678901234567890123456789\r\n\r\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s%s", ua, ua, ua, ua);
    ni_http_stream(&st, s, (const uint8_t *)buf, strlen(buf), &cnt);
    CHECK(s->http_count >= 1 && s->http_count < 4);
    CHECK_INT(st.done[0], 1);
    CHECK_INT(cnt.errors, 1);
    free(many);
    sess_free(s);
}

RUN(T(probe_methods), T(basic_fields), T(host_forms), T(host_from_target), T(copy_is_not_connect), T(folding_duplicates_caps),
    T(bad_request_lines), T(pipelined_bodies_whole), T(pipelined_bodies_every_split), T(split_user_agent),
    T(give_up_paths), T(request_cap_and_arena_full))
