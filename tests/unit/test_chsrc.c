/* test_chsrc.c — the ClickHouse source's parts that need no server
 * (lib/ingest/ni_chsrc): the clickhouse:// URL, the pushdown's WHERE, and
 * the TabSeparatedWithNamesAndTypes row parser fed in pieces.  The server
 * side (inserts, outage, Distributed tables) is tests/clickhouse/run. */
#include "ni_test.h"
#include "ingest/ni_chsrc.h"
#include "core/ni_buf.h"

#include <jansson.h>
#include <stdlib.h>

TEST(url_parses)
{
    ni_ch_url u;
    ni_error err = {0};
    CHECK_INT(ni_ch_url_parse("clickhouse://10.0.0.1:9123/ni?table=s_all&rows=500&bytes=65536&wait=2.5&spool=/tmp/x",
                              &u, &err), NI_OK);
    CHECK_STR(u.host, "10.0.0.1");
    CHECK_INT(u.port, 9123);
    CHECK_STR(u.db, "ni");
    CHECK_STR(u.table, "s_all");
    CHECK_INT(u.rows, 500);
    CHECK_INT(u.bytes, 65536);
    CHECK(u.wait_s == 2.5);
    CHECK_STR(u.spool, "/tmp/x");
    CHECK_INT(ni_ch_url_parse("clickhouse://host/", &u, &err), NI_OK);
    CHECK_INT(u.port, NI_CH_DEFAULT_PORT);
    CHECK_STR(u.db, "netintel");
    CHECK_STR(u.table, "sessions");
    CHECK_INT(ni_ch_url_parse("clickhouse://bob:secret@[::1]:8123/db", &u, &err), NI_OK);
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.user, "bob");
    CHECK_STR(u.password, "secret");
    CHECK(!strstr(u.name, "secret"));               /* messages never show the password */
    static const char *const bad[] = {
        "clickhouse://h:0/db", "clickhouse://h:70000/db", "clickhouse://h:80x/db", "clickhouse://h", "clickhouse:///db",
        "clickhouse://h/db?table=a;DROP", "clickhouse://h/db?table=", "clickhouse://h/d-b", "clickhouse://h/db?rows=0",
        "clickhouse://h/db?bytes=1", "clickhouse://h/db?colour=red", "clickhouse://h/db?wait", "clickhouse://[::1/db",
        "http://h/db",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        CHECK_INT(ni_ch_url_parse(bad[i], &u, &err), NI_ERR_ARG);
        CHECK(err.msg[0] && !strchr(err.msg, '\n'));
    }
    CHECK(ni_ch_is_url("clickhouse://x/y") && !ni_ch_is_url("clickhouse.sqlite") && !ni_ch_is_url(NULL));
}

TEST(where_pushes_ranges_and_window)
{
    ni_buf b;
    ni_buf_init(&b, 1u << 20);
    ni_ch_where(&b, NULL);
    CHECK_STR(ni_buf_str(&b), "1");
    ni_ch_range r = { { 0 }, { 0 } };
    ni_addr a = { 4, { 10, 1, 2, 0 } };
    ni_ch_addr16(&a, r.lo);
    CHECK(r.lo[10] == 0xff && r.lo[11] == 0xff && r.lo[12] == 10 && r.lo[15] == 0);
    memcpy(r.hi, r.lo, 16);
    r.hi[15] = 0xff;
    ni_ch_pushdown p = { &r, 1, 1700000000000000ll, 1700000100500000ll };
    ni_buf_clear(&b);
    ni_ch_where(&b, &p);
    const char *w = ni_buf_str(&b);
    CHECK(strstr(w, "(client_ip >= unhex('00000000000000000000FFFF0A010200') AND client_ip <= "
                    "unhex('00000000000000000000FFFF0A0102FF'))") != NULL);
    CHECK(strstr(w, " OR (server_ip >= unhex('00000000000000000000FFFF0A010200')") != NULL);
    CHECK(strstr(w, "last_us >= 1700000000000000") != NULL);
    /* first is in seconds: the bound rounds up, first_us keeps it exact */
    CHECK(strstr(w, "first < toDateTime(1700000101) AND first_us < 1700000100500000") != NULL);
    /* too many ranges: the time only (netintel filters the addresses itself) */
    ni_ch_range *many = calloc(NI_CH_MAX_RANGES + 1, sizeof *many);
    ni_ch_pushdown q = { many, NI_CH_MAX_RANGES + 1, 5, 0 };
    ni_buf_clear(&b);
    ni_ch_where(&b, &q);
    CHECK_STR(ni_buf_str(&b), "last_us >= 5");
    free(many);
    ni_buf_release(&b);
}

static const char answer[] =
    "first_us\tlast_us\tclient\tserver\tserver_port\tquic\thttp\tuser_agent\tclient_ip\n"
    "UInt64\tUInt64\tString\tString\tNullable(UInt64)\tUInt8\tNullable(String)\tNullable(String)\tFixedString(16)\n"
    "1700000000000001\t1700000001500000\t10.0.0.1\t10.0.0.2\t443\t1\t[{\"host\":\"a\\\\tb\"}]\tx\\ty\\\\z\\n\tIGNORED\n"
    "1700000000000002\t1700000001500000\t10.0.0.1\t10.0.0.2\t\\N\t0\t\\N\t\\N\t\\0\\0\n";

TEST(rows_parse_in_any_pieces)
{
    for (size_t step = 1; step <= sizeof answer; step += 7) {
        ni_ch_rows *r = ni_ch_rows_new();
        ni_buf out;
        ni_buf_init(&out, 1u << 20);
        ni_error err = {0};
        ni_err e = NI_OK;
        for (size_t off = 0; off < sizeof answer - 1 && !e; off += step) {
            size_t n = sizeof answer - 1 - off < step ? sizeof answer - 1 - off : step;
            e = ni_ch_rows_feed(r, answer + off, n, &out, &err);
        }
        CHECK_INT(e, NI_OK);
        CHECK_INT(ni_ch_rows_end(r, &err), NI_OK);
        CHECK_INT(ni_ch_rows_count(r), 2);
        char *nl = strchr(ni_buf_str(&out), '\n');
        CHECK(nl != NULL);
        if (nl) {
            json_t *o = json_loadb(out.p, (size_t)(nl - out.p), 0, NULL);
            CHECK_STR(json_string_value(json_object_get(o, "first")), "2023-11-14T22:13:20.000001Z");
            CHECK_INT(json_integer_value(json_object_get(o, "server_port")), 443);
            CHECK(json_is_true(json_object_get(o, "quic")));
            CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(o, "http"), 0), "host")), "a\tb");
            CHECK_STR(json_string_value(json_object_get(o, "user_agent")), "x\ty\\z\n");
            CHECK(!json_object_get(o, "client_ip") && !json_object_get(o, "first_us"));
            json_decref(o);
            o = json_loads(nl + 1, 0, NULL);
            CHECK(o && !json_object_get(o, "server_port") && !json_object_get(o, "quic") && !json_object_get(o, "http"));
            json_decref(o);
        }
        ni_ch_rows_free(r);
        ni_buf_release(&out);
    }
}

static ni_err parse_all(const char *text, ni_error *err)
{
    ni_ch_rows *r = ni_ch_rows_new();
    ni_buf out;
    ni_buf_init(&out, 1u << 20);
    ni_err e = ni_ch_rows_feed(r, text, strlen(text), &out, err);
    if (!e) e = ni_ch_rows_end(r, err);
    ni_ch_rows_free(r);
    ni_buf_release(&out);
    return e;
}

TEST(bad_answers_name_the_problem)
{
    static const char hdr[] = "first_us\tlast_us\tclient\tserver\tc2s_bytes\thttp\n"
                              "UInt64\tUInt64\tString\tString\tNullable(UInt64)\tNullable(String)\n";
    static const struct { const char *rows, *want; } cases[] = {
        { "1\t2\ta\tb\tx\t\\N\n", "row 1: column 'c2s_bytes': not a number" },
        { "1\t2\ta\tb\t99999999999999999999\t\\N\n", "not a number" },
        { "1\t2\ta\tb\t1\t{oops\n", "row 1: column 'http': not a JSON array or object" },
        { "1\t2\ta\tb\t1\n", "row 1: fewer values than columns" },
        { "1\t2\ta\tb\t1\t\\N\t7\n", "more values than columns" },
        { "1\t2\t\xff\tb\t1\t\\N\n", "not UTF-8" },
        { "1\t2\ta\\\tb\t1\t\\N\n", "" },
        { "1\t2\ta\tb\t1\t\\N", "the answer ends in the middle of a row" },
        { "Code: 241, e.displayText() = DB::Exception: Memory limit\n", "the server stopped: Code: 241" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", hdr, cases[i].rows);
        ni_error err = {0};
        CHECK(parse_all(text, &err) != NI_OK);
        CHECK(strstr(err.msg, cases[i].want) != NULL);
    }
    ni_error err = {0};
    CHECK(parse_all("first_us\tx\nUInt64\tFloat64\n", &err) == NI_ERR_FORMAT && strstr(err.msg, "'x' has type 'Float64'"));
    CHECK(parse_all("first_us\tlast_us\nUInt64\tUInt64\n", &err) == NI_ERR_FORMAT && strstr(err.msg, "no column 'client'"));
    CHECK(parse_all("", &err) == NI_ERR_FORMAT && strstr(err.msg, "no header"));
}

RUN(T(url_parses), T(where_pushes_ranges_and_window), T(rows_parse_in_any_pieces), T(bad_answers_name_the_problem))
