/* test_sqlite.c — sessions into SQLite and back (lib/store/ni_sqlite,
 * lib/ingest/ni_sqlsrc): the schema has a column for every JSON Lines field,
 * each session of a table of hand-made ones (every kind of field, invalid
 * UTF-8, TLS versions without a name, no ports) comes back with the same
 * JSON Lines record, appends add rows, and what is not a netintel database
 * is refused with a message naming it. */
#include "ni_test.h"
#include "store/ni_sqlite.h"
#include "ingest/ni_sqlsrc.h"
#include "output/ni_out.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

static ni_http_req req2 = { "POST", "b.example", "/y\"q", "Mozilla/5.0 (X11; Linux x86_64)", "\"Chromium\";v=\"120\"",
                            "\"Linux\"", "\"6.1\"", "\"\"", NULL };
static ni_http_req req1 = { "GET", "a.example", "/x?\xff", NULL, NULL, NULL, NULL, NULL, &req2 };
static ni_strlist alpn2 = { "http/1.1", NULL }, alpn1 = { "h2", &alpn2 };
static ni_strlist ans2 = { "2001:db8::1", NULL }, ans1 = { "cdn.example.net", &ans2 };

/* The sessions, each a variation on a TCP session. */
static ni_session make(int i)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.first_us = 1700000000000001ll + i;
    s.last_us = 1700000001500000ll + i;
    s.proto = 6;
    ni_addr_parse("175.45.176.10", &s.client);
    ni_addr_parse("93.184.216.34", &s.server);
    s.client_port = 51000; s.server_port = 443;
    s.c2s_packets = 5; s.c2s_bytes = 700; s.s2c_packets = 4; s.s2c_bytes = 5000000000ull;
    s.c2s_tcp_flags = 0x1b; s.s2c_tcp_flags = 0x16;
    s.end_reason = NI_END_FIN;
    switch (i) {
    case 1:     /* every evidence field */
        s.http = &req1; s.http_tail = &req2; s.http_count = 2;
        s.alpn = &alpn1;
        s.sni = "www.\xc0\xaf" "example.com";             /* overlong: U+FFFD, as in JSON Lines */
        s.tls_client_version = 0x0304; s.tls_version = 0x7f1c; s.tls_cipher = 0x1301;
        s.ja4 = "t13d1516h2_8daaf6152771_02713d6af862";
        s.tls_cert_subject = "CN=www.example.com,O=Example\\, Inc.";
        s.tls_cert_issuer = "CN=Example CA";
        s.quic = true;
        s.vlan = 100;
        s.ndpi_protocol = "TLS.Google";
        break;
    case 2:     /* DNS over UDP, a version without a name, flow records */
        s.proto = 17; s.client_port = 5353; s.server_port = 53;
        s.dns_query = "cdn.example.net"; s.dns_answers = &ans1;
        s.tls_client_version = 0x1234;
        s.source = "ipfix"; s.sampled = 4;
        s.end_reason = NI_END_IDLE;
        break;
    case 3:     /* no ports, a protocol without a name, IPv6 */
        s.proto = 47; s.client_port = s.server_port = 0;
        ni_addr_parse("2001:db8::5", &s.client);
        ni_addr_parse("2001:db8:ffff::1", &s.server);
        s.end_reason = NI_END_EOF;
        break;
    }
    return s;
}
enum { N_SESSIONS = 4 };

static char *json_of(const ni_session *s)
{
    ni_buf b;
    ni_buf_init(&b, 1 << 20);
    ni_out_session(&b, NI_OUT_JSONL, s);
    char *r = strdup(ni_buf_str(&b));
    ni_buf_release(&b);
    return r;
}

static char dir[64];
static char *path_in(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_db(const char *path, bool append)
{
    ni_error err = { 0 };
    ni_sqlite *w = ni_sqlite_open(path, path, append, &err);
    CHECK(w != NULL);
    if (!w) { fprintf(stderr, "  %s\n", err.msg); return; }
    for (int i = 0; i < N_SESSIONS; i++) {
        ni_session s = make(i);
        CHECK_INT(ni_sqlite_add(w, &s, &err), NI_OK);
    }
    CHECK_INT(ni_sqlite_finish(w, &err), NI_OK);
    ni_sqlite_free(w);
}

/* Reads path back and compares each session's JSON Lines with make(i). */
static void check_db(const char *path, int rounds)
{
    ni_error err = { 0 };
    CHECK(ni_sqlsrc_probe(path));
    ni_sqlsrc *q = ni_sqlsrc_open(path, &err);
    CHECK(q != NULL);
    if (!q) { fprintf(stderr, "  %s\n", err.msg); return; }
    ni_session got;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < N_SESSIONS; i++) {
            CHECK_INT(ni_sqlsrc_next(q, &got, &err), 1);
            ni_session want = make(i);
            char *a = json_of(&want), *b = json_of(&got);
            CHECK_STR(b, a);
            free(a); free(b);
        }
    CHECK_INT(ni_sqlsrc_next(q, &got, &err), 0);
    uint64_t done, total;
    ni_sqlsrc_progress(q, &done, &total);
    CHECK_INT(done, (uint64_t)rounds * N_SESSIONS);
    CHECK_INT(total, (uint64_t)rounds * N_SESSIONS);
    ni_sqlsrc_close(q);
}

TEST(schema_has_every_field)
{
    ni_buf b;
    ni_buf_init(&b, 1 << 16);
    ni_sqlite_schema(&b);
    const char *sql = ni_buf_str(&b);
    for (int i = 0; i < N_SESSIONS; i++) {
        ni_session s = make(i);
        char *line = json_of(&s);
        json_t *o = json_loads(line, 0, NULL);
        CHECK(json_is_object(o));
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) {
            char col[64];
            snprintf(col, sizeof col, "\"%s\" %s", k, json_is_integer(v) ? "INTEGER" : json_is_true(v) ? "BOOLEAN"
                                                      : json_is_string(v) ? "TEXT" : "JSON");
            if (!strstr(sql, col)) { CHECK(!"a JSON Lines field has no column of its type"); fprintf(stderr, "  %s\n", col); }
        }
        json_decref(o);
        free(line);
    }
    CHECK(strstr(sql, "\"first_us\" INTEGER") && strstr(sql, "\"last_us\" INTEGER"));
    CHECK(strstr(sql, "(first_us)") && strstr(sql, "(client)") && strstr(sql, "(server)"));
    ni_buf_release(&b);
}

TEST(round_trip_and_append)
{
    char *p = strdup(path_in("s.sqlite"));
    write_db(p, false);
    check_db(p, 1);
    write_db(p, true);
    check_db(p, 2);
    unlink(p);
    free(p);
}

TEST(refusals_name_the_file)
{
    char *p = strdup(path_in("notes.txt"));
    FILE *f = fopen(p, "w");
    for (int i = 0; f && i < 100; i++) fputs("not a database\n", f);
    if (f) fclose(f);
    CHECK(!ni_sqlsrc_probe(p));
    CHECK(!ni_sqlsrc_probe("-"));
    ni_error err = { 0 };
    CHECK(ni_sqlite_open(p, p, true, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_FORMAT);
    CHECK(strstr(err.msg, p) && strstr(err.msg, "not a SQLite database"));
    CHECK(ni_sqlsrc_open(p, &err) == NULL);
    CHECK(strstr(err.msg, p) != NULL);
    unlink(p);
    free(p);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ni-sqlite-XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
}

static const ni_test_case cases[] = { T(schema_has_every_field), T(round_trip_and_append), T(refusals_name_the_file) };
int main(void)
{
    setup();
    int r = ni_test_main(__FILE__, cases, sizeof cases / sizeof cases[0]);
    rmdir(dir);
    return r;
}
