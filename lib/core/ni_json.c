/* ni_json.c — streaming JSON writer (see ni_json.h). */
#include "core/ni_json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void ni_json_init(ni_json *j, ni_buf *out, int indent)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->indent = indent;
    j->first[0] = true;
}

static void newline(ni_json *j)
{
    if (!j->indent) return;
    ni_buf_addc(j->out, '\n');
    for (int i = 0; i < j->depth * j->indent; i++) ni_buf_addc(j->out, ' ');
}

/* Called before every value or key. */
static void sep(ni_json *j)
{
    if (j->after_key) { j->after_key = false; return; }
    if (!j->first[j->depth]) ni_buf_addc(j->out, ',');
    j->first[j->depth] = false;
    if (j->depth > 0) newline(j);
}

static void open(ni_json *j, char c)
{
    sep(j);
    ni_buf_addc(j->out, c);
    if (j->depth < NI_JSON_DEPTH_MAX - 1) j->depth++;
    j->first[j->depth] = true;
}

static void close_(ni_json *j, char c)
{
    bool empty = j->first[j->depth];
    if (j->depth > 0) j->depth--;
    if (!empty) newline(j);
    ni_buf_addc(j->out, c);
}

void ni_json_obj_begin(ni_json *j) { open(j, '{'); }
void ni_json_obj_end(ni_json *j) { close_(j, '}'); }
void ni_json_arr_begin(ni_json *j) { open(j, '['); }
void ni_json_arr_end(ni_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
size_t ni_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len; uint32_t cp;
    if (c < 0x80) return 1;
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* What a byte needs in a JSON string: 0 nothing (printable ASCII but '"'
 * and '\\'), 1 a two-character escape, 2 \u00XX, 3 a UTF-8 check. */
enum { ESC_NONE, ESC_SHORT, ESC_U, ESC_UTF8 };
static const uint8_t esc_class[256] = {
    [0x00] = ESC_U, [0x01] = ESC_U, [0x02] = ESC_U, [0x03] = ESC_U, [0x04] = ESC_U, [0x05] = ESC_U,
    [0x06] = ESC_U, [0x07] = ESC_U, [0x08] = ESC_U, ['\t'] = ESC_SHORT, ['\n'] = ESC_SHORT,
    [0x0b] = ESC_U, [0x0c] = ESC_U, ['\r'] = ESC_SHORT, [0x0e] = ESC_U, [0x0f] = ESC_U,
    [0x10] = ESC_U, [0x11] = ESC_U, [0x12] = ESC_U, [0x13] = ESC_U, [0x14] = ESC_U, [0x15] = ESC_U,
    [0x16] = ESC_U, [0x17] = ESC_U, [0x18] = ESC_U, [0x19] = ESC_U, [0x1a] = ESC_U, [0x1b] = ESC_U,
    [0x1c] = ESC_U, [0x1d] = ESC_U, [0x1e] = ESC_U, [0x1f] = ESC_U,
    ['"'] = ESC_SHORT, ['\\'] = ESC_SHORT, [0x7f] = ESC_U,
    [0x80 ... 0xff] = ESC_UTF8,
};
static const char esc_short[128] = { ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\' };
static const char hexdig[] = "0123456789abcdef";

/* True when none of the 8 bytes of w needs anything: no byte below 0x20,
 * '"', '\\', 0x7f or 0x80 and above (the bit tricks of "Bit Twiddling
 * Hacks": haszero / hasless / hasmore, exact as a yes-or-no over the word;
 * a carry or borrow between bytes only starts at a byte that is flagged). */
static inline bool word_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t bad = ((w + ones) | w)                    /* 0x7f and above */
                 | ((w - ones * 0x20) & ~w)            /* below 0x20 */
                 | ((q - ones) & ~q) | ((b - ones) & ~b);
    return !(bad & high);
}

/* Escapes u[i..n) at o, bytes before i having been copied as they are. */
__attribute__((noinline))
static char *escape_rest(char *o, const unsigned char *u, size_t i, size_t n)
{
    while (i < n) {
        size_t r = i;
        for (uint64_t w; r + 8 <= n; r += 8) {          /* 8 bytes at a time while plain */
            memcpy(&w, u + r, 8);
            if (!word_plain(w)) break;
        }
        while (r < n && esc_class[u[r]] == ESC_NONE) r++;
        if (r > i) { memcpy(o, u + i, r - i); o += r - i; i = r; }
        if (i >= n) break;
        unsigned char c = u[i];
        switch (esc_class[c]) {
        case ESC_SHORT: *o++ = '\\'; *o++ = esc_short[c]; i++; break;
        case ESC_U:
            memcpy(o, "\\u00", 4); o[4] = hexdig[c >> 4]; o[5] = hexdig[c & 15]; o += 6; i++;
            break;
        default: {
            size_t l = ni_utf8_len(u + i, n - i);
            if (l) { memcpy(o, u + i, l); o += l; i += l; }
            else { memcpy(o, "\xEF\xBF\xBD", 3); o += 3; i++; }
        }
        }
    }
    *o++ = '"';
    return o;
}

/* The common case first: a string with nothing to escape is checked and
 * copied 8 bytes at a time (the last word overlapping the one before it),
 * 4 to 7 bytes as two overlapping halves; the first byte that needs
 * something hands over to escape_rest, valid UTF-8 kept, invalid bytes
 * written as U+FFFD. */
#if defined(__SSE2__)
/* The same test over 16 bytes (SSE2, part of every x86-64): a signed
 * compare with 0x20 flags both the controls and the bytes from 0x80. */
static inline bool vec_plain(__m128i v)
{
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return _mm_movemask_epi8(bad) == 0;
}
#endif

char *ni_json_escape_to(char *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    *o++ = '"';
#if defined(__SSE2__)
    if (n >= 16) {
        __m128i v;
        for (; i + 16 <= n; i += 16) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
            if (!vec_plain(v)) return escape_rest(o + i, u, i, n);
            _mm_storeu_si128((__m128i *)(void *)(o + i), v);
        }
        if (i < n) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(u + n - 16));
            if (!vec_plain(v)) return escape_rest(o + i, u, i, n);
            _mm_storeu_si128((__m128i *)(void *)(o + n - 16), v);
        }
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, u, 8); memcpy(&b, u + n - 8, 8);
        if (!vec_plain(_mm_set_epi64x((long long)b, (long long)a))) return escape_rest(o, u, 0, n);
        memcpy(o, &a, 8); memcpy(o + n - 8, &b, 8);
    }
#else
    if (n >= 8) {
        uint64_t w;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, u + i, 8);
            if (!word_plain(w)) return escape_rest(o + i, u, i, n);
            memcpy(o + i, &w, 8);
        }
        if (i < n) {
            memcpy(&w, u + n - 8, 8);
            if (!word_plain(w)) return escape_rest(o + i, u, i, n);
            memcpy(o + n - 8, &w, 8);
        }
    }
#endif
    else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, u, 4); memcpy(&b, u + n - 4, 4);
        if (!word_plain(a | (uint64_t)b << 32)) return escape_rest(o, u, 0, n);
        memcpy(o, &a, 4); memcpy(o + n - 4, &b, 4);
    } else {
        for (; i < n; i++) {
            if (esc_class[u[i]] != ESC_NONE) return escape_rest(o + i, u, i, n);
            o[i] = (char)u[i];
        }
    }
    o += n;
    *o++ = '"';
    return o;
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char *ni_json_u64_to(char *o, uint64_t v)
{
    size_t n = 1;
    for (uint64_t t = v; ; t /= 10000, n += 4) {
        if (t < 10) break;
        if (t < 100) { n += 1; break; }
        if (t < 1000) { n += 2; break; }
        if (t < 10000) { n += 3; break; }
    }
    char *p = o + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2; memcpy(p, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) memcpy(p - 2, digit_pairs + 2 * v, 2);
    else p[-1] = (char)('0' + v);
    return o + n;
}

char *ni_json_i64_to(char *o, int64_t v)
{
    if (v < 0) { *o++ = '-'; return ni_json_u64_to(o, (uint64_t)0 - (uint64_t)v); }
    return ni_json_u64_to(o, (uint64_t)v);
}

static char *escape_to(char *o, const unsigned char *u, size_t n)
{
    return ni_json_escape_to(o, (const char *)u, n);
}

void ni_json_escape(ni_buf *b, const char *s, size_t n)
{
    /* worst case 6 bytes per input byte (\u00XX), and the quotes */
    if (n > (SIZE_MAX - 2) / 6) { ni_buf_add(b, NULL, SIZE_MAX); return; }   /* fails: past any cap */
    if (ni_buf_reserve(b, 6 * n + 2) != NI_OK) {
        if (b->err) return;
        /* the worst case does not fit under the cap, the string may: escape
         * aside, then append what it takes (failing past the cap) */
        char *tmp = malloc(6 * n + 2);
        if (!tmp) { b->err = NI_ERR_NOMEM; return; }
        char *end = escape_to(tmp, (const unsigned char *)s, n);
        ni_buf_add(b, tmp, (size_t)(end - tmp));
        free(tmp);
        return;
    }
    char *end = escape_to(b->p + b->len, (const unsigned char *)s, n);
    b->len = (size_t)(end - b->p);
    b->p[b->len] = 0;
}

/* A string value or key (then followed by ':'): in compact mode the
 * separator, the escaped string and the colon go into one reservation. */
static void str_out(ni_json *j, const char *s, size_t n, bool key)
{
    ni_buf *b = j->out;
    if (j->indent || n > (SIZE_MAX - 8) / 6 || ni_buf_reserve(b, 6 * n + 4) != NI_OK) {
        sep(j);
        ni_json_escape(b, s, n);
        if (key) {
            ni_buf_addc(b, ':');
            if (j->indent) ni_buf_addc(b, ' ');
            j->after_key = true;
        }
        return;
    }
    char *o = b->p + b->len;
    if (j->after_key) j->after_key = false;       /* what sep() does, compact */
    else {
        if (!j->first[j->depth]) *o++ = ',';
        j->first[j->depth] = false;
    }
    o = escape_to(o, (const unsigned char *)s, n);
    if (key) { *o++ = ':'; j->after_key = true; }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}

void ni_json_key(ni_json *j, const char *k) { str_out(j, k, strlen(k), true); }

void ni_json_strn(ni_json *j, const char *s, size_t n) { str_out(j, s, n, false); }
void ni_json_str(ni_json *j, const char *s)
{
    if (!s) { ni_json_null(j); return; }
    str_out(j, s, strlen(s), false);
}
void ni_json_int(ni_json *j, int64_t v)
{
    sep(j);
    char buf[24];
    ni_buf_add(j->out, buf, (size_t)(ni_json_i64_to(buf, v) - buf));
}

void ni_json_uint(ni_json *j, uint64_t v)
{
    sep(j);
    char buf[24];
    ni_buf_add(j->out, buf, (size_t)(ni_json_u64_to(buf, v) - buf));
}
void ni_json_double(ni_json *j, double v)
{
    sep(j);
    if (!isfinite(v)) { ni_buf_adds(j->out, "null"); return; }
    if (v == (double)(int64_t)v && fabs(v) < 1e15) {
        char buf[24];
        ni_buf_add(j->out, buf, (size_t)(ni_json_i64_to(buf, (int64_t)v) - buf));
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.6g", v);
    ni_buf_adds(j->out, tmp);
}
void ni_json_bool(ni_json *j, bool v) { sep(j); ni_buf_adds(j->out, v ? "true" : "false"); }
void ni_json_null(ni_json *j) { sep(j); ni_buf_adds(j->out, "null"); }

/* The separator before a member at o (compact mode): a comma unless it is
 * the object's first member or follows its key.  Returns where to go on. */
static char *member_sep(ni_json *j, char *o)
{
    if (j->after_key) j->after_key = false;
    else {
        if (!j->first[j->depth]) *o++ = ',';
        j->first[j->depth] = false;
    }
    return o;
}

/* Key and string value in one reservation (compact mode): the separator,
 * both escaped strings and the colon. */
void ni_json_kstr(ni_json *j, const char *k, const char *v)
{
    size_t kn = strlen(k), vn = v ? strlen(v) : 0;
    ni_buf *b = j->out;
    if (!v || j->indent || kn > (SIZE_MAX - 16) / 12 || vn > (SIZE_MAX - 16) / 12 - kn ||
        ni_buf_reserve(b, 6 * (kn + vn) + 8) != NI_OK) {
        ni_json_key(j, k);
        ni_json_str(j, v);
        return;
    }
    char *o = member_sep(j, b->p + b->len);
    o = escape_to(o, (const unsigned char *)k, kn);
    *o++ = ':';
    o = escape_to(o, (const unsigned char *)v, vn);
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}
void ni_json_kstr_opt(ni_json *j, const char *k, const char *v) { if (v) ni_json_kstr(j, k, v); }
void ni_json_kint(ni_json *j, const char *k, int64_t v) { ni_json_key(j, k); ni_json_int(j, v); }
void ni_json_kuint(ni_json *j, const char *k, uint64_t v)
{
    size_t kn = strlen(k);
    ni_buf *b = j->out;
    if (j->indent || kn > (SIZE_MAX - 48) / 6 || ni_buf_reserve(b, 6 * kn + 32) != NI_OK) {
        ni_json_key(j, k);
        ni_json_uint(j, v);
        return;
    }
    char *o = member_sep(j, b->p + b->len);
    o = escape_to(o, (const unsigned char *)k, kn);
    *o++ = ':';
    o = ni_json_u64_to(o, v);
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}
void ni_json_kdouble(ni_json *j, const char *k, double v) { ni_json_key(j, k); ni_json_double(j, v); }
void ni_json_kbool(ni_json *j, const char *k, bool v) { ni_json_key(j, k); ni_json_bool(j, v); }
