/* test_json.c — the JSON writer's fast paths (lib/core/ni_json): the
 * table-driven string escaper against a byte-by-byte reference (random
 * bytes: controls, quotes, backslashes, DEL, valid and invalid UTF-8), the
 * path taken near a buffer's cap, and integers written by hand. */
#include "ni_test.h"
#include "core/ni_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The escaping rules of ni_json.h, one byte at a time. */
static void reference(ni_buf *b, const unsigned char *u, size_t n)
{
    ni_buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        char tmp[8];
        if (c == '"') ni_buf_adds(b, "\\\"");
        else if (c == '\\') ni_buf_adds(b, "\\\\");
        else if (c == '\n') ni_buf_adds(b, "\\n");
        else if (c == '\r') ni_buf_adds(b, "\\r");
        else if (c == '\t') ni_buf_adds(b, "\\t");
        else if (c < 0x20 || c == 0x7f) { snprintf(tmp, sizeof tmp, "\\u%04x", c); ni_buf_adds(b, tmp); }
        else if (c < 0x80) ni_buf_addc(b, (char)c);
        else {
            size_t l = ni_utf8_len(u + i, n - i);
            if (l) { ni_buf_add(b, u + i, l); i += l; continue; }
            ni_buf_adds(b, "\xEF\xBF\xBD");
        }
        i++;
    }
    ni_buf_addc(b, '"');
}

TEST(escape_matches_reference)
{
    static const unsigned char pool[] = { 'a', 'Z', ' ', '"', '\\', '\n', '\r', '\t', 0, 1, 0x1f, 0x7f, 0x80,
                                          0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xed,
                                          0xa0, 0xff, 0xc0, 0xf5 };
    unsigned seed = 12345, mismatches = 0;
    for (int round = 0; round < 20000; round++) {
        unsigned char s[48];
        size_t n = (size_t)(round % 48);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = pool[(seed >> 16) % sizeof pool];
        }
        ni_buf a, r;
        ni_buf_init(&a, 1 << 20);
        ni_buf_init(&r, 1 << 20);
        ni_buf_adds(&a, "x");               /* appends after what is there */
        ni_buf_adds(&r, "x");
        ni_json_escape(&a, (const char *)s, n);
        reference(&r, s, n);
        if (a.len != r.len || memcmp(ni_buf_str(&a), ni_buf_str(&r), a.len) || a.p[a.len] != 0) mismatches++;
        ni_buf_release(&a);
        ni_buf_release(&r);
    }
    CHECK_INT(mismatches, 0);
}

TEST(escape_long_plain_runs)
{
    /* the 8-bytes-at-a-time path: long printable runs with one special byte
     * (of each kind) at every position, and every printable byte in a word */
    static const unsigned char specials[] = { '"', '\\', '\n', 0, 0x1f, 0x7f, 0x80, 0xc3, 0xff, ' ', '~', '!', '#', '[', ']' };
    unsigned mismatches = 0;
    for (size_t n = 0; n <= 70; n++)
        for (size_t pos = 0; pos <= n; pos++)
            for (size_t k = 0; k < sizeof specials; k++) {
                unsigned char s[80];
                for (size_t i = 0; i < n; i++) s[i] = (unsigned char)('!' + (i * 7) % 94);
                if (pos < n) s[pos] = specials[k];
                if (pos + 1 < n && specials[k] == 0xc3) s[pos + 1] = 0xa9;     /* é */
                ni_buf a, r;
                ni_buf_init(&a, 1 << 20);
                ni_buf_init(&r, 1 << 20);
                ni_json_escape(&a, (const char *)s, n);
                reference(&r, s, n);
                if (a.len != r.len || memcmp(ni_buf_str(&a), ni_buf_str(&r), a.len)) mismatches++;
                ni_buf_release(&a);
                ni_buf_release(&r);
            }
    CHECK_INT(mismatches, 0);
    unsigned char all[96];
    for (int c = 0x20; c < 0x7f; c++) all[c - 0x20] = (unsigned char)c;
    ni_buf a, r;
    ni_buf_init(&a, 1 << 20);
    ni_buf_init(&r, 1 << 20);
    ni_json_escape(&a, (const char *)all, 0x5f);
    reference(&r, all, 0x5f);
    CHECK_STR(ni_buf_str(&a), ni_buf_str(&r));
    ni_buf_release(&a);
    ni_buf_release(&r);
}

TEST(key_value_in_one)
{
    /* ni_json_kstr / kuint write what key + value would, compact and indented */
    for (int indent = 0; indent <= 2; indent += 2) {
        ni_buf a, r;
        ni_buf_init(&a, 1 << 20);
        ni_buf_init(&r, 1 << 20);
        ni_json ja, jr;
        ni_json_init(&ja, &a, indent);
        ni_json_init(&jr, &r, indent);
        ni_json_obj_begin(&ja); ni_json_obj_begin(&jr);
        ni_json_kstr(&ja, "a\"b", "x\ny"); ni_json_key(&jr, "a\"b"); ni_json_str(&jr, "x\ny");
        ni_json_kstr(&ja, "n", NULL); ni_json_key(&jr, "n"); ni_json_str(&jr, NULL);
        ni_json_kuint(&ja, "u", 18446744073709551615ull); ni_json_key(&jr, "u"); ni_json_uint(&jr, 18446744073709551615ull);
        ni_json_kuint(&ja, "z", 0); ni_json_key(&jr, "z"); ni_json_uint(&jr, 0);
        ni_json_key(&ja, "o"); ni_json_key(&jr, "o");
        ni_json_obj_begin(&ja); ni_json_obj_begin(&jr);
        ni_json_kstr(&ja, "", ""); ni_json_key(&jr, ""); ni_json_str(&jr, "");
        ni_json_obj_end(&ja); ni_json_obj_end(&jr);
        ni_json_obj_end(&ja); ni_json_obj_end(&jr);
        CHECK_STR(ni_buf_str(&a), ni_buf_str(&r));
        if (!indent) CHECK_STR(ni_buf_str(&a), "{\"a\\\"b\":\"x\\ny\",\"n\":null,\"u\":18446744073709551615,\"z\":0,\"o\":{\"\":\"\"}}");
        ni_buf_release(&a);
        ni_buf_release(&r);
    }
}

TEST(escape_near_cap)
{
    /* 100 plain bytes: the worst case (602) does not fit a 200-byte cap, the
     * string (102) does */
    char s[100];
    memset(s, 'q', sizeof s);
    ni_buf b;
    ni_buf_init(&b, 200);
    ni_json_escape(&b, s, sizeof s);
    CHECK_INT(b.err, NI_OK);
    CHECK_INT(b.len, 102);
    CHECK(b.p && b.p[0] == '"' && b.p[101] == '"' && b.p[102] == 0);
    /* and one that does not fit fails the buffer */
    ni_json_escape(&b, s, sizeof s);
    CHECK_INT(b.err, NI_ERR_LIMIT);
    ni_buf_release(&b);
}

TEST(numbers)
{
    static const struct { int64_t v; const char *text; } ints[] = {
        { 0, "0" }, { 7, "7" }, { -1, "-1" }, { 1234567890123LL, "1234567890123" },
        { INT64_MIN, "-9223372036854775808" }, { INT64_MAX, "9223372036854775807" },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        ni_buf b; ni_json j;
        ni_buf_init(&b, 1024);
        ni_json_init(&j, &b, 0);
        ni_json_int(&j, ints[i].v);
        CHECK_STR(ni_buf_str(&b), ints[i].text);
        ni_buf_release(&b);
    }
    static const struct { double v; const char *text; } dbl[] = {
        { 3.0, "3" }, { -42.0, "-42" }, { 0.25, "0.25" }, { 1.0 / 3, "0.333333" }, { 1e20, "1e+20" },
    };
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++) {
        ni_buf b; ni_json j;
        ni_buf_init(&b, 1024);
        ni_json_init(&j, &b, 0);
        ni_json_double(&j, dbl[i].v);
        CHECK_STR(ni_buf_str(&b), dbl[i].text);
        ni_buf_release(&b);
    }
}

TEST(escape_to_in_place)
{
    /* ni_json_escape_to: every length through each fast path (under 4, 4-7
     * as two halves, words with an overlapping last one) with one special
     * byte anywhere, against the reference; the end returned, bytes past it
     * untouched */
    static const unsigned char specials[] = { 'a', '"', '\\', '\n', '\t', 0, 1, 0x1f, 0x7f, 0x80, 0xc3, 0xe2, 0xff };
    unsigned mismatches = 0;
    for (size_t n = 0; n <= 40; n++)
        for (size_t pos = 0; pos <= n; pos++)
            for (size_t k = 0; k < sizeof specials; k++) {
                unsigned char s[48];
                char out[6 * 48 + 8];
                for (size_t i = 0; i < n; i++) s[i] = (unsigned char)(' ' + (i * 11) % 95);
                for (size_t i = 0; i < n; i++) if (s[i] == '"' || s[i] == '\\') s[i] = 'x';
                if (pos < n) s[pos] = specials[k];
                if (pos + 2 < n && specials[k] == 0xe2) { s[pos + 1] = 0x82; s[pos + 2] = 0xac; }   /* € */
                memset(out, '#', sizeof out);
                char *end = ni_json_escape_to(out, (const char *)s, n);
                ni_buf r;
                ni_buf_init(&r, 1 << 20);
                reference(&r, s, n);
                if ((size_t)(end - out) != r.len || memcmp(out, r.p, r.len) || *end != '#') mismatches++;
                ni_buf_release(&r);
            }
    CHECK_INT(mismatches, 0);
}

TEST(integers_in_place)
{
    /* ni_json_u64_to / i64_to against printf: each digit count, either side
     * of every power of ten, the extremes */
    unsigned mismatches = 0;
    char out[32], ref[32];
    for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10)
        for (int d = -1; d <= 1; d++) {
            uint64_t v = p + (uint64_t)d;
            char *end = ni_json_u64_to(out, v);
            snprintf(ref, sizeof ref, "%llu", (unsigned long long)v);
            if ((size_t)(end - out) != strlen(ref) || memcmp(out, ref, strlen(ref))) mismatches++;
            end = ni_json_i64_to(out, -(int64_t)(v >> 1));
            snprintf(ref, sizeof ref, "%lld", -(long long)(v >> 1));
            if ((size_t)(end - out) != strlen(ref) || memcmp(out, ref, strlen(ref))) mismatches++;
        }
    /* the 32-bit path's edge, and a sweep of its range */
    for (uint64_t v = 0; v < (1ull << 33); v = v * 3 + 1 + (v >> 7)) {
        for (uint64_t w = v; w < v + 3; w++) {
            char *end = ni_json_u64_to(out, w);
            snprintf(ref, sizeof ref, "%llu", (unsigned long long)w);
            if ((size_t)(end - out) != strlen(ref) || memcmp(out, ref, strlen(ref))) mismatches++;
        }
    }
    CHECK_INT(mismatches, 0);
    *ni_json_u64_to(out, UINT32_MAX) = 0;
    CHECK_STR(out, "4294967295");
    *ni_json_u64_to(out, (uint64_t)UINT32_MAX + 1) = 0;
    CHECK_STR(out, "4294967296");
    *ni_json_u64_to(out, 0) = 0;
    CHECK_STR(out, "0");
    *ni_json_u64_to(out, UINT64_MAX) = 0;
    CHECK_STR(out, "18446744073709551615");
    *ni_json_i64_to(out, INT64_MIN) = 0;
    CHECK_STR(out, "-9223372036854775808");
    *ni_json_i64_to(out, -7) = 0;
    CHECK_STR(out, "-7");
    *ni_json_i64_to(out, INT64_MAX) = 0;
    CHECK_STR(out, "9223372036854775807");
}

RUN(T(escape_to_in_place), T(integers_in_place), T(escape_matches_reference), T(escape_long_plain_runs), T(key_value_in_one), T(escape_near_cap), T(numbers))
