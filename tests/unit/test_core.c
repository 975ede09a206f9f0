/* test_core.c — unit tests of lib/core: arena caps, buffer caps, JSON
 * escaping (including invalid UTF-8), RFC 3339 time, address text. */
#include "ni_test.h"
#include "core/ni_arena.h"
#include "core/ni_buf.h"
#include "core/ni_json.h"
#include "core/ni_time.h"
#include "core/ni_cursor.h"
#include "core/ni_map.h"
#include "core/ni_prefix.h"
#include "core/ni_str.h"
#include "core/ni_kinds.h"
#include <arpa/inet.h>
#include <stdlib.h>

TEST(arena_cap)
{
    ni_arena *a = ni_arena_new(100);
    CHECK(ni_arena_alloc(a, 64) != NULL);
    CHECK(ni_arena_alloc(a, 64) == NULL);      /* over the cap */
    CHECK(ni_arena_strdup(a, "abc") != NULL);
    CHECK(ni_arena_strdup(a, NULL) == NULL);
    CHECK(ni_arena_strdup(NULL, "abc") == NULL);
    ni_arena_reset(a);
    CHECK_INT(ni_arena_used(a), 0);
    char *s = ni_arena_strndup(a, "hello world", 5);
    CHECK_STR(s, "hello");
    ni_arena_free(a);
}

TEST(buf_cap)
{
    ni_buf b; ni_buf_init(&b, 8);
    CHECK_INT(ni_buf_adds(&b, "12345678"), NI_OK);
    CHECK_INT(ni_buf_adds(&b, "9"), NI_ERR_LIMIT);
    CHECK_STR(ni_buf_str(&b), "12345678");
    ni_buf_release(&b);
}

TEST(buf_truncate)
{
    ni_buf b; ni_buf_init(&b, 8);
    CHECK_INT(ni_buf_adds(&b, "1234"), NI_OK);
    size_t mark = b.len;
    CHECK_INT(ni_buf_adds(&b, "56789"), NI_ERR_LIMIT);    /* a record that failed half-way */
    CHECK_INT(b.err, NI_ERR_LIMIT);
    ni_buf_truncate(&b, mark);
    CHECK_INT(b.err, NI_OK);
    CHECK_STR(ni_buf_str(&b), "1234");
    CHECK_INT(ni_buf_adds(&b, "5678"), NI_OK);
    ni_buf_truncate(&b, 100);                               /* past the end: unchanged */
    CHECK_STR(ni_buf_str(&b), "12345678");
    ni_buf_truncate(&b, 2);
    CHECK_STR(ni_buf_str(&b), "12");
    ni_buf_release(&b);
}

TEST(json_escape)
{
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_json j; ni_json_init(&j, &b, 0);
    ni_json_obj_begin(&j);
    ni_json_kstr(&j, "a", "q\"\\\n\x01");
    ni_json_kstr(&j, "bad", "x\xff\xc3\xa9y");
    ni_json_key(&j, "arr"); ni_json_arr_begin(&j); ni_json_int(&j, -1); ni_json_uint(&j, 2);
    ni_json_double(&j, 0.5); ni_json_arr_end(&j);
    ni_json_key(&j, "e"); ni_json_obj_begin(&j); ni_json_obj_end(&j);
    ni_json_obj_end(&j);
    CHECK_STR(ni_buf_str(&b), "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"bad\":\"x\xEF\xBF\xBD\xc3\xa9y\",\"arr\":[-1,2,0.5],\"e\":{}}");
    ni_buf_release(&b);
}

TEST(time_rfc3339)
{
    char buf[NI_TIME_STRLEN];
    CHECK_STR(ni_time_rfc3339_us(0, buf), "1970-01-01T00:00:00.000000Z");
    CHECK_STR(ni_time_rfc3339_us(1706659200000007LL, buf), "2024-01-31T00:00:00.000007Z");
    int64_t us;
    CHECK_INT(ni_time_parse("2024-01-31", &us), NI_OK);
    CHECK_INT(us, 1706659200000000LL);
    CHECK_INT(ni_time_parse("2018-05-04T23:30:00+08:30", &us), NI_OK);
    CHECK_STR(ni_time_rfc3339(us, buf), "2018-05-04T15:00:00Z");
    CHECK_INT(ni_time_parse("2018-13-04", &us), NI_ERR_ARG);
    CHECK_INT(ni_time_parse("garbage", &us), NI_ERR_ARG);
}

TEST(time_rfc3339_us_to)
{
    /* the hand-made digits (years 0..9999) and snprintf (the others), with
     * the end returned at the NUL */
    static const struct { int64_t y; unsigned m, d; int64_t sod_us; const char *text; } cases[] = {
        { 1970, 1, 1, 0, "1970-01-01T00:00:00.000000Z" },
        { 1969, 12, 31, 86399999999LL, "1969-12-31T23:59:59.999999Z" },   /* -1 us */
        { 1900, 3, 1, 3723000004LL, "1900-03-01T01:02:03.000004Z" },
        { 2100, 2, 28, 45296789012LL, "2100-02-28T12:34:56.789012Z" },
        { 2400, 2, 29, 0, "2400-02-29T00:00:00.000000Z" },
        { 0, 1, 1, 0, "0000-01-01T00:00:00.000000Z" },
        { 9999, 12, 31, 86399999999LL, "9999-12-31T23:59:59.999999Z" },
        { 10000, 1, 1, 0, "10000-01-01T00:00:00.000000Z" },
        { -1, 12, 31, 1000000LL, "-001-12-31T00:00:01.000000Z" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[NI_TIME_STRLEN], b2[NI_TIME_STRLEN];
        int64_t us = ni_days_from_civil(cases[i].y, cases[i].m, cases[i].d) * 86400000000LL + cases[i].sod_us;
        char *end = ni_time_rfc3339_us_to(us, buf);
        CHECK_STR(buf, cases[i].text);
        CHECK_INT(end - buf, (long long)strlen(cases[i].text));
        CHECK_INT(*end, 0);
        CHECK_STR(ni_time_rfc3339_us(us, b2), cases[i].text);
    }
}

TEST(time_rfc3339_us_memo)
{
    /* the memo path gives the text of the plain one, for times in the
     * memo's second (either side), in another, before 1970, at years with
     * more than four characters or below 0 (never memoised) */
    static const int64_t s = 1698775789LL * 1000000;   /* 2023-10-31T18:09:49Z */
    static const int64_t y10k = 253402300800LL * 1000000; /* 10000-01-01 */
    const int64_t times[] = {
        s, s + 1002, s + 999999, s + 1000000, s + 1000001, s - 1, s, s + 7,
        -1, -1000000, -999999, -1, 0, 999999, y10k, y10k + 5, y10k, s + 3,
        -62198755200000000LL + 1000000, -62198755200000000LL + 1000001, s,
    };
    ni_time_memo m = { 0 };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char a[NI_TIME_STRLEN], b[NI_TIME_STRLEN];
        char *ea = ni_time_rfc3339_us_to(times[i], a);
        char *eb = ni_time_rfc3339_us_memo_to(&m, times[i], b);
        CHECK_STR(b, a);
        CHECK_INT(eb - b, ea - a);
        CHECK_INT(*eb, 0);
    }
    /* and over a long sweep of nearby times, memo kept throughout */
    for (int64_t us = s - 3000000; us < s + 3000000; us += 12345) {
        char a[NI_TIME_STRLEN], b[NI_TIME_STRLEN];
        ni_time_rfc3339_us_to(us, a);
        ni_time_rfc3339_us_memo_to(&m, us, b);
        CHECK_STR(b, a);
    }
}

TEST(addr_format_v4_all_bytes)
{
    /* the table path against printf, every byte value at every place */
    ni_addr a = { .family = 4 };
    char buf[NI_ADDR_STRLEN], want[NI_ADDR_STRLEN];
    for (int place = 0; place < 4; place++)
        for (int v = 0; v < 256; v++) {
            uint8_t q[4] = { 7, 200, 0, 45 };
            q[place] = (uint8_t)v;
            memcpy(a.b, q, 4);
            snprintf(want, sizeof want, "%u.%u.%u.%u", q[0], q[1], q[2], q[3]);
            CHECK_STR(ni_addr_format(&a, buf), want);
        }
}

TEST(cursor_bounds)
{
    const uint8_t d[3] = {1, 2, 3};
    ni_cursor c; ni_cur_init(&c, d, 3);
    CHECK_INT(ni_cur_u16(&c), 0x0102);
    CHECK_INT(ni_cur_u16(&c), 0);
    CHECK(c.bad);
    CHECK_INT(ni_cur_left(&c), 0);
}

TEST(addr_text)
{
    ni_addr a; char buf[NI_ADDR_STRLEN];
    CHECK_INT(ni_addr_parse("175.45.176.1", &a), NI_OK);
    CHECK_INT(a.family, 4);
    CHECK_STR(ni_addr_format(&a, buf), "175.45.176.1");
    const char *v4[] = { "0.0.0.0", "255.255.255.255", "10.0.99.100", "1.20.3.199" };
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT(ni_addr_parse(v4[i], &a), NI_OK);
        CHECK_STR(ni_addr_format(&a, buf), v4[i]);
    }
    CHECK_INT(ni_addr_parse("2001:DB8:0:0::1", &a), NI_OK);
    CHECK_STR(ni_addr_format(&a, buf), "2001:db8::1");
    CHECK_INT(ni_addr_parse("300.1.1.1", &a), NI_ERR_ARG);
}

TEST(map_basic)
{
    ni_map *m = ni_map_new(1000);
    char k[32];
    for (int i = 0; i < 500; i++) { snprintf(k, sizeof k, "key%d", i); CHECK_INT(ni_map_put(m, k, (void *)(intptr_t)(i + 1)), NI_OK); }
    CHECK_INT(ni_map_count(m), 500);
    CHECK(ni_map_get(m, "key123") == (void *)(intptr_t)124);
    CHECK(ni_map_get(m, "nokey") == NULL);
    const char **keys = ni_map_sorted_keys(m);
    CHECK_STR(keys[0], "key0");
    CHECK_STR(keys[1], "key1");
    CHECK_STR(keys[2], "key10");
    free(keys);
    ni_map_free(m, NULL);
    ni_map *small = ni_map_new(2);
    CHECK_INT(ni_map_put(small, "a", NULL), NI_OK);
    CHECK_INT(ni_map_put(small, "b", NULL), NI_OK);
    CHECK_INT(ni_map_put(small, "c", NULL), NI_ERR_LIMIT);
    CHECK_INT(ni_map_put(small, "a", small), NI_OK);
    ni_map_free(small, NULL);
}

TEST(addrset_distinct)
{
    ni_addrset *s = ni_addrset_new(100000);
    ni_addr a = {0};
    a.family = 4;
    for (int i = 0; i < 3000; i++) { a.b[2] = (uint8_t)(i >> 8); a.b[3] = (uint8_t)i; CHECK_INT(ni_addrset_add(s, &a), 1); }
    for (int i = 0; i < 3000; i++) { a.b[2] = (uint8_t)(i >> 8); a.b[3] = (uint8_t)i; CHECK_INT(ni_addrset_add(s, &a), 0); }
    CHECK_INT(ni_addrset_count(s), 3000);
    ni_addr v6 = {0}; v6.family = 6; v6.b[0] = 0x20;
    CHECK_INT(ni_addrset_add(s, &v6), 1);
    CHECK(ni_addrset_has(s, &v6));
    ni_addrset *t = ni_addrset_new(10);
    CHECK_INT(ni_addrset_merge(t, s), NI_ERR_LIMIT);
    ni_addrset_free(t);
    ni_addrset_free(s);
}

TEST(ascii_folding)
{
    static const struct { const char *in, *out; } rows[] = {
        { "WWW.Example.COM", "www.example.com" }, { "a-Z_09@[`{", "a-z_09@[`{" },
        { "\xc3\x89t\xc3\xa9", "\xc3\x89t\xc3\xa9" },        /* bytes >= 0x80 untouched */
        { "", "" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[64];
        CHECK_INT(ni_ascii_lower_copy(buf, sizeof buf, rows[i].in), strlen(rows[i].out));
        CHECK_STR(buf, rows[i].out);
        CHECK(ni_ascii_ieq(rows[i].in, strlen(rows[i].in), rows[i].out));
    }
    char small[4];
    CHECK_INT(ni_ascii_lower_copy(small, sizeof small, "ABCDEF"), 3);
    CHECK_STR(small, "abc");
    CHECK(!ni_ascii_ieq("Host", 4, "hos"));
    CHECK(!ni_ascii_ieq("Hos", 3, "host"));
    CHECK(!ni_ascii_ieq("H\0st", 4, "h"));
    char in[] = "MiXeD";
    ni_ascii_lower_n(in, in, 3);
    CHECK_STR(in, "mixeD");
    char *d = ni_strdup("copy");
    CHECK_STR(d, "copy");
    free(d);
    CHECK(ni_strdup(NULL) == NULL);
}

/* RFC 9000 §A.1's examples, and truncation. */
TEST(cursor_varint)
{
    static const struct { uint8_t b[8]; size_t n; uint64_t v; bool bad; } rows[] = {
        { { 0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c }, 8, 151288809941952652ull, false },
        { { 0x9d, 0x7f, 0x3e, 0x7d }, 4, 494878333, false },
        { { 0x7b, 0xbd }, 2, 15293, false },
        { { 0x25 }, 1, 37, false },
        { { 0x40, 0x25 }, 2, 37, false },
        { { 0x9d, 0x7f, 0x3e }, 3, 0, true },
        { { 0 }, 0, 0, true },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_cursor c;
        ni_cur_init(&c, rows[i].b, rows[i].n);
        CHECK(ni_cur_varint(&c) == rows[i].v);
        CHECK_INT(c.bad, rows[i].bad);
        if (!rows[i].bad) CHECK_INT(ni_cur_left(&c), 0);
    }
}

/* X.690 §8.1.3: short and long length forms; indefinite, over-long and
 * truncated lengths refused. */
TEST(cursor_der)
{
    static const struct { uint8_t b[12]; size_t n; bool ok; uint8_t tag; size_t len; } rows[] = {
        { { 0x30, 0x03, 1, 2, 3 }, 5, true, 0x30, 3 },
        { { 0x04, 0x81, 0x02, 9, 9 }, 5, true, 0x04, 2 },
        { { 0x04, 0x82, 0x00, 0x01, 7 }, 5, true, 0x04, 1 },
        { { 0x04, 0x84, 0, 0, 0, 1, 7 }, 7, true, 0x04, 1 },
        { { 0x04, 0x85, 0, 0, 0, 0, 1, 7 }, 8, false, 0, 0 },   /* 5 length bytes */
        { { 0x30, 0x80, 0, 0 }, 4, false, 0, 0 },               /* indefinite: BER, not DER */
        { { 0x30, 0x05, 1, 2 }, 4, false, 0, 0 },               /* contents past the end */
        { { 0x30 }, 1, false, 0, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_cursor c, v;
        uint8_t tag;
        ni_cur_init(&c, rows[i].b, rows[i].n);
        bool ok = ni_cur_der(&c, &tag, &v);
        CHECK_INT(ok, rows[i].ok);
        if (!ok || !rows[i].ok) continue;
        CHECK_INT(tag, rows[i].tag);
        CHECK_INT(ni_cur_left(&v), rows[i].len);
        CHECK_INT(ni_cur_left(&c), 0);
    }
}

/* The sampling insert used for a country's networks: a full sample or a
 * full set is not an error, a bad prefix is (it used to be swallowed by
 * "? NI_OK : NI_OK" in ni_enrich.c). */
TEST(prefix_add_upto)
{
    ni_prefix_set *ps = ni_prefix_new_cap(2);
    ni_addr a;
    CHECK_INT(ni_addr_parse("10.0.0.0", &a), NI_OK);
    CHECK_INT(ni_prefix_add_upto(ps, &a, 8, 3), NI_OK);
    a.b[0] = 11;
    CHECK_INT(ni_prefix_add_upto(ps, &a, 8, 3), NI_OK);
    a.b[0] = 12;
    CHECK_INT(ni_prefix_add_upto(ps, &a, 8, 3), NI_OK);      /* the set's cap: fine */
    CHECK_INT(ni_prefix_count(ps), 2);
    CHECK_INT(ni_prefix_add_upto(ps, &a, 8, 2), NI_OK);      /* the sample is full */
    ni_prefix_free(ps);
    ps = ni_prefix_new();
    CHECK_INT(ni_prefix_add_upto(ps, &a, 33, 10), NI_ERR_ARG);  /* an error is returned */
    CHECK_INT(ni_prefix_count(ps), 0);
    ni_prefix_free(ps);
}

/* Every category value has one name that parses back to it; text that is
 * not a name (a typo, another case, NULL) is _NONE. */
TEST(kinds_round_trip)
{
    for (int i = 1; i < NI_EVIDENCE__COUNT; i++) {
        CHECK(ni_evidence_name((ni_evidence)i) != NULL);
        CHECK_INT(ni_evidence_parse(ni_evidence_name((ni_evidence)i)), i);
    }
    for (int i = 1; i < NI_TUN__COUNT; i++) CHECK_INT(ni_tunnel_proto_parse(ni_tunnel_proto_name((ni_tunnel_proto)i)), i);
    for (int i = 1; i < NI_UA_KIND__COUNT; i++) CHECK_INT(ni_ua_kind_parse(ni_ua_kind_name((ni_ua_kind)i)), i);
    CHECK(ni_evidence_name(NI_EVIDENCE_NONE) == NULL);
    CHECK(ni_evidence_name(NI_EVIDENCE__COUNT) == NULL);
    CHECK_STR(ni_evidence_name(NI_EVIDENCE_TUNNEL), "tunnel");
    CHECK_STR(ni_tunnel_proto_name(NI_TUN_WIREGUARD), "WireGuard");
    CHECK_STR(ni_ua_kind_name(NI_UA_KIND_SYSTEM), "system");
    CHECK_INT(ni_evidence_parse("tunel"), NI_EVIDENCE_NONE);
    CHECK_INT(ni_evidence_parse("Tunnel"), NI_EVIDENCE_NONE);
    CHECK_INT(ni_ua_kind_parse(NULL), NI_UA_KIND_NONE);
    CHECK_INT(ni_tunnel_proto_parse(""), NI_TUN_NONE);
}

/* ni_addr_parse answers as inet_pton does: the dotted quad read by hand
 * (no leading zeros, at most 255, exactly four parts), anything else through
 * inet_pton, names refused at once; on failure the address is zeroed. */
TEST(addr_parse_as_inet_pton)
{
    static const char *ok4[] = { "0.0.0.0", "175.45.176.1", "255.255.255.255", "1.2.3.4" };
    static const char *bad[] = { "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "", "kcna.kp",
                                 "1..2.3", "1.2.3.0004", ":::", "fe80::1%eth0" };
    ni_addr a;
    for (size_t i = 0; i < sizeof ok4 / sizeof *ok4; i++) {
        unsigned char b[4];
        CHECK(ni_addr_parse(ok4[i], &a) == NI_OK && a.family == 4);
        CHECK(inet_pton(AF_INET, ok4[i], b) == 1 && memcmp(a.b, b, 4) == 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&a, 0x55, sizeof a);
        CHECK(ni_addr_parse(bad[i], &a) != NI_OK);
        CHECK(a.family == 0 && a.b[0] == 0 && a.b[3] == 0);
    }
    CHECK(ni_addr_parse("2a03:2880:f003::1", &a) == NI_OK && a.family == 6 && a.b[0] == 0x2a);
    CHECK(ni_addr_parse("::ffff:1.2.3.4", &a) == NI_OK && a.family == 6 && a.b[15] == 4);
}

RUN(T(addr_parse_as_inet_pton), T(map_basic), T(addrset_distinct), T(arena_cap), T(buf_cap), T(buf_truncate), T(json_escape), T(time_rfc3339), T(time_rfc3339_us_to), T(time_rfc3339_us_memo), T(addr_format_v4_all_bytes), T(cursor_bounds), T(addr_text),
    T(ascii_folding), T(cursor_varint), T(cursor_der), T(prefix_add_upto), T(kinds_round_trip))
