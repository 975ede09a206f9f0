/* ni_out.c — sessions as JSON Lines and CSV (RFC 8259, RFC 4180); the field
 * names and order are the contract written down in docs/sessions.md. */
#include "output/ni_out.h"

#include <stdio.h>
#include <string.h>
#include <stddef.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"
#include "dissect/ni_tls.h"

ni_err ni_out_format_parse(const char *name, ni_out_format *fmt)
{
    if (!strcmp(name, "jsonl") || !strcmp(name, "json")) { *fmt = NI_OUT_JSONL; return NI_OK; }
    if (!strcmp(name, "csv")) { *fmt = NI_OUT_CSV; return NI_OK; }
    return NI_ERR_ARG;
}

const char *ni_out_proto_name(uint8_t proto, char buf[4])
{
    switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmp6";
    default: snprintf(buf, 4, "%u", proto); return buf;
    }
}

const char *ni_out_end_name(uint8_t reason)
{
    switch (reason) {
    case NI_END_FIN: return "fin";
    case NI_END_RST: return "rst";
    case NI_END_IDLE: return "idle";
    case NI_END_ACTIVE: return "active";
    case NI_END_EVICTED: return "evicted";
    case NI_END_EOF: return "eof";
    default: return NULL;
    }
}

/* The flag letters of flags at o, in "SAPFRUEC" order; returns the end.
 * Each letter is written and the end moved past it only when its bit is
 * set (no branch per flag): it writes within o[0..7] whatever the flags. */
static char *flags_to(char *o, uint8_t flags)
{
#define FLAG(bit, c) (*o = (c), o += (flags >> (bit)) & 1)
    FLAG(1, 'S'); FLAG(4, 'A'); FLAG(3, 'P'); FLAG(0, 'F');
    FLAG(2, 'R'); FLAG(5, 'U'); FLAG(6, 'E'); FLAG(7, 'C');
#undef FLAG
    return o;
}

const char *ni_out_tcp_flags(uint8_t flags, char buf[9])
{
    *flags_to(buf, flags) = 0;
    return buf;
}

static bool has_ports(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132; }

static const char *first_host(const ni_session *s)
{
    for (const ni_http_req *r = s->http; r; r = r->next)
        if (r->host && *r->host) return r->host;
    return NULL;
}

/* TLS version text: the negotiated one, else what the client offered. */
static const char *tls_text(uint16_t v, char buf[8])
{
    if (!v) return NULL;
    const char *n = ni_tls_version_name(v);
    if (n) return n;
    snprintf(buf, 8, "0x%04x", v);
    return buf;
}

/* A non-empty string, else NULL (absent). */
static const char *nz(const char *v) { return v && *v ? v : NULL; }

/* ---- one walk over the fields, several writers -----------------------------
 * session_fields() names every field in the JSON Lines order; an emitter
 * writes them as JSON (absent values omitted), as a CSV row (absent values
 * empty, arrays and objects as JSON text in one cell), as the CSV header
 * row (the names) or to a visitor (ni_out_fields, the stores).  So CSV has
 * every field JSON Lines has, by construction.
 *
 * The hot paths (JSON and CSV) write straight into the output buffer: one
 * reservation per field (ni_buf_room), the member name as a literal that
 * already holds its quotes and colon (KEY(), its length known when the code
 * is compiled), strings through the escaper's plain-text fast path, numbers
 * through a digit-pair table.  When a reservation fails (a record near its
 * cap), the field is appended piece by piece, so exactly the same records
 * fit or fail as before. */
typedef enum emit_mode { EMIT_JSON, EMIT_CSV, EMIT_HEADER, EMIT_VISIT } emit_mode;

typedef struct emitter {
    emit_mode mode;
    ni_buf *b;          /* EMIT_JSON / EMIT_CSV / EMIT_HEADER: the record */
    ni_buf *tmp;        /* EMIT_CSV / EMIT_VISIT: scratch for a cell */
    ni_buf *cell;       /* EMIT_VISIT: a JSON value as text */
    int n;              /* members or cells written in the record */
    ni_out_field_fn fn; /* EMIT_VISIT: the visitor */
    void *ud;
    bool schema;        /* EMIT_VISIT over no session: names and kinds only */
    ni_time_memo tm;    /* the record's last second written (first, then last: mostly one) */
} emitter;

/* A field's name twice: bare (CSV header, visitor), and as the JSON member
 * prefix "name": — a literal whose length is a compile-time constant. */
#define KEY(k) k, "\"" k "\":", sizeof(k) + 2
#define HOT static inline __attribute__((always_inline))
#define JSON_CELL_MAX (1u << 20)    /* a JSON array or object as one CSV cell or store value; longer: absent */

/* EMIT_VISIT: one field to the visitor. */
static void visit(emitter *e, const char *key, ni_out_kind kind, bool present, const char *text, uint64_t num)
{
    ni_out_field f = { key, kind, present && !e->schema, text, num };
    e->fn(e->ud, &f);
}

/* True when the n bytes at u are all ASCII (below 0x80). */
static bool all_ascii(const unsigned char *u, size_t n)
{
    size_t i = 0;
    uint64_t acc = 0, w;
    for (; i + 8 <= n; i += 8) { memcpy(&w, u + i, 8); acc |= w; }
    for (; i < n; i++) acc |= u[i];
    return !(acc & 0x8080808080808080ull);
}

/* Appends s with each byte that is not valid UTF-8 replaced by U+FFFD. */
static void utf8_append(ni_buf *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, l;
    while (i < n) {
        size_t r = i;
        while (r < n && (l = ni_utf8_len(u + r, n - r))) r += l;
        ni_buf_add(t, s + i, r - i);
        if (r < n) { ni_buf_add(t, "\xEF\xBF\xBD", 3); r++; }
        i = r;
    }
}

/* s as valid UTF-8: s itself when it is, else its text with U+FFFD for each
 * invalid byte, in t.  *len: the length of what is returned. */
static const char *utf8_fixed(ni_buf *t, const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, l;
    *len = n;
    if (all_ascii(u, n)) return s;
    while (i < n && (l = ni_utf8_len(u + i, n - i))) i += l;
    if (i == n) return s;
    ni_buf_clear(t);
    utf8_append(t, s, n);
    *len = t->len;
    return ni_buf_str(t);
}

/* EMIT_VISIT: a string as JSON Lines has it (invalid UTF-8 → U+FFFD). */
static void visit_str(emitter *e, const char *key, const char *v)
{
    if (!v || e->schema) { visit(e, key, NI_OUT_STR, false, NULL, 0); return; }
    size_t n;
    visit(e, key, NI_OUT_STR, true, utf8_fixed(e->tmp, v, strlen(v), &n), 0);
}

static void csv_sep(emitter *e) { if (e->n++) ni_buf_addc(e->b, ','); }

/* A number as a spreadsheet reads one: [+-]digits[.digits][e[+-]digits]. */
static bool csv_is_number(const char *v)
{
    const char *p = v;
    if (*p == '+' || *p == '-') p++;
    size_t d = 0;
    while (*p >= '0' && *p <= '9') { p++; d++; }
    if (*p == '.') { p++; while (*p >= '0' && *p <= '9') { p++; d++; } }
    if (!d) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == 0;
}

/* True when none of the n bytes at u is a comma, quote, CR or LF (8 bytes
 * at a time: haszero of the word xor each byte, exact as a yes-or-no). */
static bool csv_plain(const unsigned char *u, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t i = 0;
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, u + i, 8);
        uint64_t c = w ^ (ones * ','), q = w ^ (ones * '"'), r = w ^ (ones * '\r'), l = w ^ (ones * '\n');
        if ((((c - ones) & ~c) | ((q - ones) & ~q) | ((r - ones) & ~r) | ((l - ones) & ~l)) & high)
            return false;
    }
    for (; i < n; i++)
        if (u[i] == ',' || u[i] == '"' || u[i] == '\r' || u[i] == '\n') return false;
    return true;
}

/* Cell text t (n bytes, no NUL) to the row: as it is, or quoted with its
 * quotes doubled when it holds a comma, quote, CR or LF. */
static void csv_put(ni_buf *b, const char *t, size_t n)
{
    const unsigned char *u = (const unsigned char *)t;
    if (csv_plain(u, n)) { ni_buf_add(b, t, n); return; }
    char *o = n < SIZE_MAX / 4 ? ni_buf_room(b, 2 * n + 2) : NULL;
    if (!o) {                       /* near the cap: what fits, byte by byte */
        ni_buf_addc(b, '"');
        for (size_t i = 0; i < n; i++) {
            if (t[i] == '"') ni_buf_addc(b, '"');
            ni_buf_addc(b, t[i]);
        }
        ni_buf_addc(b, '"');
        return;
    }
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        *o++ = t[i];
        if (t[i] == '"') *o++ = '"';
    }
    *o++ = '"';
    ni_buf_commit(b, o);
}

/* One CSV cell (RFC 4180 §2.5-2.7): invalid UTF-8 bytes become U+FFFD as in
 * JSON Lines; a value a spreadsheet would run as a formula (first character
 * = + - @ TAB CR, and not a number) gets a leading single quote (OWASP CSV
 * injection); quoted when it holds a comma, quote, CR or LF. */
static void csv_cell_slow(emitter *e, const char *v, size_t n)
{
    csv_sep(e);
    const char *c = v;
    if (strchr("=+-@\t\r", v[0]) && v[0] && !csv_is_number(v)) {
        ni_buf *t = e->tmp;
        ni_buf_clear(t);
        ni_buf_addc(t, '\'');
        utf8_append(t, v, n);
        c = ni_buf_str(t);
        n = t->len;
    } else {
        c = utf8_fixed(e->tmp, v, n, &n);
    }
    csv_put(e->b, c, n);
}

/* True when a word holds none of the bytes a CSV cell must look at twice:
 * comma, quote, CR, LF, 0x80 and above (haszero of w xor each, exact as a
 * yes-or-no). */
static inline bool csv_word_simple(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t c = w ^ (ones * ','), q = w ^ (ones * '"'), r = w ^ (ones * '\r'), l = w ^ (ones * '\n');
    return !((w | ((c - ones) & ~c) | ((q - ones) & ~q) | ((r - ones) & ~r) | ((l - ones) & ~l)) & high);
}
#if defined(__SSE2__)
/* The same over 16 bytes (SSE2): the high bits straight from movemask. */
static inline bool csv_vec_simple(__m128i v)
{
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
    return _mm_movemask_epi8(_mm_or_si128(hit, v)) == 0;
}
#endif
static bool csv_simple(const unsigned char *u, size_t n)
{
#if defined(__SSE2__)
    if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16)
            if (!csv_vec_simple(_mm_loadu_si128((const __m128i *)(const void *)(u + i)))) return false;
        return csv_vec_simple(_mm_loadu_si128((const __m128i *)(const void *)(u + n - 16)));   /* overlapping */
    }
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, u, 8); memcpy(&b, u + n - 8, 8);
        return csv_vec_simple(_mm_set_epi64x((long long)b, (long long)a));
    }
#else
    uint64_t w;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) { memcpy(&w, u + i, 8); if (!csv_word_simple(w)) return false; }
        memcpy(&w, u + n - 8, 8);        /* the last word, overlapping */
        return csv_word_simple(w);
    }
#endif
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, u, 4); memcpy(&b, u + n - 4, 4);
        return csv_word_simple(a | (uint64_t)b << 32);
    }
    for (size_t i = 0; i < n; i++)
        if (u[i] >= 0x80 || u[i] == ',' || u[i] == '"' || u[i] == '\r' || u[i] == '\n') return false;
    return true;
}

/* One CSV cell (RFC 4180 §2.5-2.7): invalid UTF-8 bytes become U+FFFD as in
 * JSON Lines; a value a spreadsheet would run as a formula (first character
 * = + - @ TAB CR, and not a number) gets a leading single quote (OWASP CSV
 * injection); quoted when it holds a comma, quote, CR or LF.  The common
 * cell (ASCII, none of those) is copied as it is in one reservation. */
static void csv_cell(emitter *e, const char *v)
{
    if (!v) { csv_sep(e); return; }
    size_t n = strlen(v);
    char c0 = v[0], *o;
    if (c0 != '=' && c0 != '+' && c0 != '-' && c0 != '@' && c0 != '\t' && c0 != '\r' &&
        csv_simple((const unsigned char *)v, n) && (o = ni_buf_room(e->b, n + 1))) {
        if (e->n++) *o++ = ',';
        memcpy(o, v, n);
        ni_buf_commit(e->b, o + n);
        return;
    }
    csv_cell_slow(e, v, n);
}

static void e_name(emitter *e, const char *key)
{
    csv_sep(e);
    ni_buf_adds(e->b, key);
}

/* JSON: the separator and the member name at o; returns where the value goes. */
HOT char *json_member(emitter *e, char *o, const char *jk, size_t jl)
{
    *o = ',';
    o += e->n != 0;
    e->n = 1;
    memcpy(o, jk, jl);
    return o + jl;
}

/* JSON, when the fast path's reservation failed: the separator and member
 * name appended (failing past the cap). */
static void json_member_slow(emitter *e, const char *jk, size_t jl)
{
    if (e->n) ni_buf_addc(e->b, ',');
    e->n = 1;
    ni_buf_add(e->b, jk, jl);
}

/* A string; NULL = absent. */
static void str_other(emitter *e, const char *name, const char *jk, size_t jl, const char *v, size_t n)
{
    if (e->mode == EMIT_VISIT) visit_str(e, name, v);
    else if (e->mode == EMIT_HEADER) e_name(e, name);
    else if (e->mode == EMIT_CSV) csv_cell(e, v);
    else { json_member_slow(e, jk, jl); ni_json_escape(e->b, v, n); }
}
HOT void e_str(emitter *e, emit_mode m, const char *name, const char *jk, size_t jl, const char *v)
{
    if (m == EMIT_JSON) {
        if (!v) return;
        size_t n = strlen(v);
        char *o = n < SIZE_MAX / 8 ? ni_buf_room(e->b, jl + 6 * n + 3) : NULL;
        if (o) { ni_buf_commit(e->b, ni_json_escape_to(json_member(e, o, jk, jl), v, n)); return; }
        str_other(e, name, jk, jl, v, n);
        return;
    }
    if (m == EMIT_CSV) {
        char *o;
        if (v) { csv_cell(e, v); return; }
        if ((o = ni_buf_room(e->b, 1))) {        /* absent: the separator alone */
            *o = ',';
            o += e->n++ != 0;
            ni_buf_commit(e->b, o);
            return;
        }
    }
    str_other(e, name, jk, jl, v, 0);
}

/* A name from netintel's own tables (protocol, direction, end reason, TLS
 * version and cipher number, the kinds of ni_kinds): printable ASCII without
 * a quote or a backslash, so JSON copies it between quotes, without the
 * escaper (test_out's json_record_matches_field_walk writes every such name
 * both ways).  Otherwise, and when the room is not there, as e_str.  NULL =
 * absent. */
HOT void e_plain(emitter *e, emit_mode m, const char *name, const char *jk, size_t jl, const char *v)
{
    char *o;
    if (m == EMIT_JSON && v) {
        size_t n = strlen(v);
        if (n < 64 && (o = ni_buf_room(e->b, jl + n + 3))) {
            o = json_member(e, o, jk, jl);
            *o++ = '"';
            memcpy(o, v, n);
            o += n;
            *o++ = '"';
            ni_buf_commit(e->b, o);
            return;
        }
    }
    e_str(e, m, name, jk, jl, v);
}

/* A time (RFC 3339, microseconds): never absent, nothing to escape. */
HOT void e_time(emitter *e, emit_mode m, const char *name, const char *jk, size_t jl, int64_t us)
{
    char t[NI_TIME_STRLEN];
    char *o = m == EMIT_JSON ? ni_buf_room(e->b, jl + NI_TIME_STRLEN + 3) : NULL;
    if (o) {
        o = json_member(e, o, jk, jl);
        *o++ = '"';
        o = ni_time_rfc3339_us_memo_to(&e->tm, us, o);
        *o++ = '"';
        ni_buf_commit(e->b, o);
        return;
    }
    if (m == EMIT_CSV && (o = ni_buf_room(e->b, NI_TIME_STRLEN + 1))) {
        if (e->n) *o++ = ',';
        char *end = ni_time_rfc3339_us_memo_to(&e->tm, us, o);
        if (*o != '-') {                    /* a year below 0 is for csv_cell */
            e->n++;
            ni_buf_commit(e->b, end);
            return;
        }
        e->b->p[e->b->len] = 0;
    }
    ni_time_rfc3339_us_to(us, t);
    str_other(e, name, jk, jl, t, strlen(t));
}

static void uint_other(emitter *e, const char *name, const char *jk, size_t jl, uint64_t v, bool present)
{
    if (e->mode == EMIT_VISIT) { visit(e, name, NI_OUT_UINT, present, NULL, v); return; }
    if (e->mode == EMIT_HEADER) { e_name(e, name); return; }
    char d[24];
    if (e->mode == EMIT_JSON) {
        if (!present) return;
        json_member_slow(e, jk, jl);
    } else {
        csv_sep(e);
        if (!present) return;
    }
    ni_buf_add(e->b, d, (size_t)(ni_json_u64_to(d, v) - d));
}
HOT void e_uint(emitter *e, emit_mode m, const char *name, const char *jk, size_t jl, uint64_t v, bool present)
{
    char *o;
    if (m == EMIT_JSON) {
        if (!present) return;
        if ((o = ni_buf_room(e->b, jl + 24))) {
            ni_buf_commit(e->b, ni_json_u64_to(json_member(e, o, jk, jl), v));
            return;
        }
    } else if (m == EMIT_CSV && (o = ni_buf_room(e->b, 24))) {
        if (e->n++) *o++ = ',';
        ni_buf_commit(e->b, present ? ni_json_u64_to(o, v) : o);
        return;
    }
    uint_other(e, name, jk, jl, v, present);
}

/* A flag written only when true ("true" in CSV, empty otherwise). */
HOT void e_true(emitter *e, emit_mode m, const char *name, const char *jk, size_t jl, bool v)
{
    if (m == EMIT_VISIT) visit(e, name, NI_OUT_TRUE, v, NULL, 0);
    else if (m == EMIT_HEADER) e_name(e, name);
    else if (m == EMIT_JSON) { if (v) { json_member_slow(e, jk, jl); ni_buf_add(e->b, "true", 4); } }
    else csv_cell(e, v ? "true" : NULL);
}

/* A JSON array or object value, written by fn: in place (JSON), as JSON text
 * in one cell (CSV).  present false = absent. */
typedef void (*json_value_fn)(ni_buf *b, const ni_session *s);

/* CSV: the JSON text written by fn straight into the row, then quoted in
 * place by csv_put's rule (quoted, its quotes doubled, when it holds a
 * comma, quote, CR or LF); a text longer than JSON_CELL_MAX leaves the cell
 * empty.  The same bytes as building the text aside and csv_put, without
 * the copy. */
static void csv_json_cell(emitter *e, json_value_fn fn, const ni_session *s)
{
    ni_buf *b = e->b;
    csv_sep(e);
    if (b->err) return;                         /* the row has failed already */
    size_t at = b->len;
    fn(b, s);
    size_t n = b->len - at;
    if (b->err) {                               /* past the row's cap: an empty cell if the text is too long anyway */
        ni_buf aside;
        ni_buf_init(&aside, JSON_CELL_MAX);
        fn(&aside, s);
        if (aside.err) ni_buf_truncate(b, at);  /* else the row fails, as it would with the cell aside */
        ni_buf_release(&aside);
        return;
    }
    if (n > JSON_CELL_MAX) { ni_buf_truncate(b, at); return; }
    const unsigned char *t = (const unsigned char *)b->p + at;
    if (csv_plain(t, n)) return;
    size_t q = 0, i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16)
        q += (size_t)__builtin_popcount((unsigned)_mm_movemask_epi8(
                 _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(t + i)), _mm_set1_epi8('"'))));
#endif
    for (; i < n; i++) q += t[i] == '"';
    char *o = ni_buf_room(b, q + 2);
    if (!o) { ni_buf_add(b, NULL, SIZE_MAX); return; }      /* past the cap: the row fails */
    /* from the end back: d stays past the bytes still to be read */
    char *c = o - n, *d = o + q + 2;
    *--d = '"';
    i = n;
#if defined(__SSE2__)
    for (; i >= 16; i -= 16) {                  /* 16 bytes with no quote moved at once */
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(c + i - 16));
        if (!_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')))) {
            d -= 16;
            _mm_storeu_si128((__m128i *)(void *)d, v);
            continue;
        }
        for (size_t k = i; k-- > i - 16;) {
            *--d = c[k];
            if (c[k] == '"') *--d = '"';
        }
    }
#endif
    while (i-- > 0) {
        *--d = c[i];
        if (c[i] == '"') *--d = '"';
    }
    *--d = '"';
    ni_buf_commit(b, o + q + 2);
}

HOT void e_json(emitter *e, emit_mode m, const char *name, const char *jk, size_t jl, bool present,
                json_value_fn fn, const ni_session *s)
{
    if (m == EMIT_HEADER) { e_name(e, name); return; }
    if (m == EMIT_JSON) {
        if (!present) return;
        char *o = ni_buf_room(e->b, jl + 1);
        if (o) ni_buf_commit(e->b, json_member(e, o, jk, jl));
        else json_member_slow(e, jk, jl);
        fn(e->b, s);
        return;
    }
    if (m == EMIT_VISIT && (!present || e->schema)) { visit(e, name, NI_OUT_JSON, false, NULL, 0); return; }
    if (!present) { csv_cell(e, NULL); return; }
    if (m == EMIT_CSV) { csv_json_cell(e, fn, s); return; }
    ni_buf *cell = e->cell;
    ni_buf_clear(cell);
    fn(cell, s);
    visit(e, name, NI_OUT_JSON, !cell->err, cell->err ? NULL : ni_buf_str(cell), 0);
}

/* The JSON text of a list of strings at b: ["a","b"]. */
static void strlist_to(ni_buf *b, const ni_strlist *l)
{
    ni_buf_addc(b, '[');
    for (bool first = true; l; l = l->next, first = false) {
        const char *v = l->s ? l->s : "";
        size_t n = strlen(v);
        char *o = n < SIZE_MAX / 8 ? ni_buf_room(b, 6 * n + 3) : NULL;
        if (!o) {
            if (!first) ni_buf_addc(b, ',');
            ni_json_escape(b, v, n);
            continue;
        }
        *o = ',';
        o += !first;
        ni_buf_commit(b, ni_json_escape_to(o, v, n));
    }
    ni_buf_addc(b, ']');
}
static void alpn_json(ni_buf *b, const ni_session *s) { strlist_to(b, s->alpn); }
static void answers_json(ni_buf *b, const ni_session *s) { strlist_to(b, s->dns_answers); }
static void cert_names_json(ni_buf *b, const ni_session *s) { strlist_to(b, s->cert_names); }

/* An object's members go through an emitter of their own (its own count for
 * the commas). */
static emitter member_writer(ni_buf *b)
{
    emitter o = { EMIT_JSON, b, NULL, NULL, 0, NULL, NULL, false, { 0 } };
    return o;
}

static void http_json(ni_buf *b, const ni_session *s)
{
    ni_buf_addc(b, '[');
    for (const ni_http_req *r = s->http; r; r = r->next) {
        if (r != s->http) ni_buf_addc(b, ',');
        ni_buf_addc(b, '{');
        emitter m = member_writer(b), *e = &m;
        e_str(e, EMIT_JSON, KEY("method"), r->method);
        e_str(e, EMIT_JSON, KEY("host"), r->host);
        e_str(e, EMIT_JSON, KEY("path"), r->path);
        e_str(e, EMIT_JSON, KEY("user_agent"), r->user_agent);
        e_str(e, EMIT_JSON, KEY("sec_ch_ua"), r->ch_ua);
        e_str(e, EMIT_JSON, KEY("sec_ch_ua_platform"), r->ch_ua_platform);
        e_str(e, EMIT_JSON, KEY("sec_ch_ua_platform_version"), r->ch_ua_platform_version);
        e_str(e, EMIT_JSON, KEY("sec_ch_ua_model"), r->ch_ua_model);
        ni_buf_addc(b, '}');
    }
    ni_buf_addc(b, ']');
}

/* dns: one object per transaction, absent members omitted. */
static void dns_json(ni_buf *b, const ni_session *s)
{
    ni_buf_addc(b, '[');
    for (const ni_dns_txn *t = s->dns; t; t = t->next) {
        if (t != s->dns) ni_buf_addc(b, ',');
        ni_buf_addc(b, '{');
        emitter m = member_writer(b), *e = &m;
        e_str(e, EMIT_JSON, KEY("query"), t->query);
        e_str(e, EMIT_JSON, KEY("qtype"), t->qtype);
        e_str(e, EMIT_JSON, KEY("rcode"), t->rcode);
        if (t->answers) {
            char *o = ni_buf_room(b, 16);
            if (o) ni_buf_commit(b, json_member(e, o, "\"answers\":", 10));
            else json_member_slow(e, "\"answers\":", 10);
            strlist_to(b, t->answers);
        }
        e_uint(e, EMIT_JSON, KEY("ttl"), (uint64_t)t->ttl, t->ttl >= 0);
        ni_buf_addc(b, '}');
    }
    ni_buf_addc(b, ']');
}

static void tcp_flags_json(ni_buf *b, const ni_session *s)
{
    char fb[9];
    ni_buf_add(b, "{\"c2s\":\"", 8);
    ni_buf_adds(b, ni_out_tcp_flags(s->c2s_tcp_flags, fb));
    ni_buf_add(b, "\",\"s2c\":\"", 9);
    ni_buf_adds(b, ni_out_tcp_flags(s->s2c_tcp_flags, fb));
    ni_buf_add(b, "\"}", 2);
}

/* tcp_flags: an object in JSON, two cells (tcp_flags_c2s, tcp_flags_s2c) in CSV. */
HOT void e_tcp_flags(emitter *e, emit_mode m, const ni_session *s)
{
    char fb[9];
    bool tcp = s->proto == 6;
    if (m == EMIT_VISIT) { e_json(e, m, KEY("tcp_flags"), tcp, tcp_flags_json, s); return; }
    if (m == EMIT_HEADER) { e_name(e, "tcp_flags_c2s"); e_name(e, "tcp_flags_s2c"); return; }
    if (m == EMIT_CSV) {
        csv_cell(e, tcp ? ni_out_tcp_flags(s->c2s_tcp_flags, fb) : NULL);
        csv_cell(e, tcp ? ni_out_tcp_flags(s->s2c_tcp_flags, fb) : NULL);
        return;
    }
    if (!tcp) return;
    static const char k1[] = "\"tcp_flags\":{\"c2s\":\"", k2[] = "\",\"s2c\":\"";
    char *o = ni_buf_room(e->b, sizeof k1 + sizeof k2 + 2 * 8 + 3);
    if (!o) {
        json_member_slow(e, k1, sizeof k1 - 1);
        ni_buf_adds(e->b, ni_out_tcp_flags(s->c2s_tcp_flags, fb));
        ni_buf_add(e->b, k2, sizeof k2 - 1);
        ni_buf_adds(e->b, ni_out_tcp_flags(s->s2c_tcp_flags, fb));
        ni_buf_add(e->b, "\"}", 2);
        return;
    }
    o = json_member(e, o, k1, sizeof k1 - 1);
    o = flags_to(o, s->c2s_tcp_flags);
    memcpy(o, k2, sizeof k2 - 1); o += sizeof k2 - 1;
    o = flags_to(o, s->s2c_tcp_flags);
    *o++ = '"'; *o++ = '}';
    ni_buf_commit(e->b, o);
}

/* "0x" and four lower-case hex digits. */
static const char *hex16(uint16_t v, char buf[8])
{
    static const char hd[] = "0123456789abcdef";
    buf[0] = '0'; buf[1] = 'x';
    buf[2] = hd[v >> 12]; buf[3] = hd[(v >> 8) & 15]; buf[4] = hd[(v >> 4) & 15]; buf[5] = hd[v & 15];
    buf[6] = 0;
    return buf;
}

#define E_STR(k, v) e_str(e, m, KEY(k), v)
#define E_NAME(k, v) e_plain(e, m, KEY(k), v)
#define E_UINT(k, v, present) e_uint(e, m, KEY(k), v, present)

/* Every field, in the order of docs/sessions.md.  s is NULL for the header.
 * The mode is read once and handed to each field's writer: inlined where
 * the mode is a constant (the JSON and the CSV records), every test of it
 * folds away; session_fields is the one copy for the header and the
 * visitor. */
HOT void fields_in(emitter *e, const ni_session *s)
{
    static const ni_session none;
    const emit_mode m = e->mode;
    if (!s) s = &none;
    char a[NI_ADDR_STRLEN], pb[4], vb[8];
    bool ports = has_ports(s->proto);
    e_time(e, m, KEY("first"), s->first_us);
    e_time(e, m, KEY("last"), s->last_us);
    E_NAME("proto", ni_out_proto_name(s->proto, pb));
    E_STR("client", ni_addr_format(&s->client, a));
    E_UINT("client_port", s->client_port, ports);
    E_STR("server", ni_addr_format(&s->server, a));
    E_UINT("server_port", s->server_port, ports);
    E_NAME("direction", ni_direction_name(s->direction));
    E_UINT("c2s_packets", s->c2s_packets, true);
    E_UINT("c2s_bytes", s->c2s_bytes, true);
    E_UINT("s2c_packets", s->s2c_packets, true);
    E_UINT("s2c_bytes", s->s2c_bytes, true);
    E_STR("http_host", first_host(s));
    E_STR("user_agent", ni_session_user_agent(s));
    e_json(e, m, KEY("http"), s->http != NULL, http_json, s);
    E_STR("sni", nz(s->sni));
    e_json(e, m, KEY("alpn"), s->alpn != NULL, alpn_json, s);
    E_NAME("tls_version", tls_text(s->tls_version ? s->tls_version : s->tls_client_version, vb));
    E_STR("ja4", s->ja4);
    E_STR("dns_query", s->dns_query);
    e_json(e, m, KEY("dns_answers"), s->dns_answers != NULL, answers_json, s);
    E_STR("dns_name", s->dns_name);
    E_STR("name", ni_session_name(s));
    /* extras */
    E_NAME("tls_client_version", tls_text(s->tls_client_version, vb));
    E_NAME("tls_cipher", s->tls_cipher ? hex16(s->tls_cipher, vb) : NULL);
    E_STR("cert_subject", s->tls_cert_subject);
    E_STR("cert_issuer", s->tls_cert_issuer);
    e_true(e, m, KEY("quic"), s->quic);
    e_tcp_flags(e, m, s);
    E_NAME("end", ni_out_end_name(s->end_reason));
    E_UINT("vlan", s->vlan, s->vlan != 0);
    /* enrichment */
    E_STR("client_country", nz(s->client_country));
    E_STR("server_country", nz(s->server_country));
    E_STR("client_continent", nz(s->client_continent));
    E_STR("server_continent", nz(s->server_continent));
    E_UINT("client_asn", s->client_asn, s->client_asn != 0);
    E_UINT("server_asn", s->server_asn, s->server_asn != 0);
    E_STR("client_as_org", nz(s->client_as_org));
    E_STR("server_as_org", nz(s->server_as_org));
    E_STR("ua_browser", nz(s->ua_browser));
    E_STR("ua_browser_version", nz(s->ua_browser_version));
    E_STR("ua_os", nz(s->ua_os));
    E_STR("ua_os_version", nz(s->ua_os_version));
    E_STR("ua_maker", nz(s->ua_maker));
    E_STR("ua_model", nz(s->ua_model));
    E_STR("ua_form_factor", nz(s->ua_form_factor));
    E_NAME("ua_kind", nz(ni_ua_kind_name(s->ua_kind)));
    E_STR("windows_version", nz(s->windows_version));
    e_true(e, m, KEY("ua_reduced"), s->ua_reduced);
    E_STR("service", nz(s->service));
    E_STR("category", nz(s->category));
    E_NAME("service_evidence", nz(ni_evidence_name(s->service_evidence)));
    E_STR("vpn_provider", nz(s->vpn_provider));
    E_NAME("vpn_protocol", nz(ni_tunnel_proto_name(s->vpn_protocol)));
    E_NAME("vpn_evidence", nz(ni_evidence_name(s->vpn_evidence)));
    E_STR("ndpi_protocol", nz(s->ndpi_protocol));
    E_STR("ua_os_detail", nz(s->ua_os_detail));
    E_STR("ua_device_source", nz(s->ua_device_source));
    E_STR("source", s->source);     /* absent for packet captures */
    E_UINT("sampled", s->sampled, s->sampled != 0);
    e_json(e, m, KEY("dns"), s->dns != NULL, dns_json, s);
    E_UINT("dns_dropped", s->dns_dropped, s->dns_dropped != 0);
    E_NAME("proxy", ni_proxy_kind_name(s->proxy));
    E_STR("proxy_dest", s->proxy_dest);
    /* TCP/IP fingerprint (issue 12) */
    E_STR("tcp_fingerprint", s->tcp_fingerprint);
    E_UINT("tcp_window", s->tcp_window, s->tcp_fingerprint != NULL);
    E_STR("tcp_os", s->tcp_os);
    E_STR("tcp_os_detail", s->tcp_os_detail);
    /* certificate subjectAltName (issue 10) */
    e_json(e, m, KEY("cert_names"), s->cert_names != NULL, cert_names_json, s);
}

static void __attribute__((noinline)) session_fields(emitter *e, const ni_session *s) { fields_in(e, s); }

static void session_json(ni_buf *b, const ni_session *s)
{
    emitter e = { EMIT_JSON, b, NULL, NULL, 0, NULL, NULL, false, { 0 } };
    ni_buf_addc(b, '{');
    fields_in(&e, s);
    ni_buf_add(b, "}\n", 2);
}

static void session_csv(ni_buf *b, const ni_session *s)
{
    ni_buf tmp;
    ni_buf_init(&tmp, 4u << 20);
    if (s) {
        emitter e = { EMIT_CSV, b, &tmp, NULL, 0, NULL, NULL, false, { 0 } };
        fields_in(&e, s);
    } else {
        emitter e = { EMIT_HEADER, b, &tmp, NULL, 0, NULL, NULL, false, { 0 } };
        session_fields(&e, NULL);
    }
    ni_buf_add(b, "\r\n", 2);
    ni_buf_release(&tmp);
}

void ni_out_fields(const ni_session *s, ni_out_field_fn fn, void *ud)
{
    ni_buf tmp, cell;
    ni_buf_init(&tmp, NI_SESSION_RECORD_MAX);
    ni_buf_init(&cell, JSON_CELL_MAX);
    emitter e = { EMIT_VISIT, NULL, &tmp, &cell, 0, fn, ud, s == NULL, { 0 } };
    session_fields(&e, s);
    ni_buf_release(&tmp);
    ni_buf_release(&cell);
}

void ni_out_begin(ni_buf *b, ni_out_format fmt)
{
    if (fmt == NI_OUT_CSV) session_csv(b, NULL);
}

void ni_out_session(ni_buf *b, ni_out_format fmt, const ni_session *s)
{
    if (fmt == NI_OUT_CSV) session_csv(b, s);
    else session_json(b, s);
}
