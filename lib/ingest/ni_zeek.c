/* ni_zeek.c — Zeek sensor logs into sessions (see ni_zeek.h, docs/zeek.md).
 *
 * Formats followed: Zeek's ASCII writer (src/logging/writers/ascii: a
 * header of "#separator \x09" then "#set_separator", "#empty_field",
 * "#unset_field", "#path", "#open", "#fields", "#types", "#close" lines,
 * each directive and value separated by the separator; separators and
 * non-printable bytes inside values written as \xNN; set/vector items
 * separated by the set separator) and its JSON writer (one object a line,
 * record fields flattened with dots, "id.orig_h"; ts as epoch seconds or
 * ISO 8601).  Field meanings: Zeek's base/protocols/{conn,http,ssl,dns,
 * quic}/main.zeek, base/files/x509/main.zeek and
 * base/frameworks/software/main.zeek.
 *
 * Every line is read with a bound (NI_ZEEK_LINE_MAX, gzgets), its bytes
 * scanned through a cursor; the join holds one rotation interval's protocol
 * rows in one capped arena and two capped maps. */
#include "ingest/ni_zeek.h"
#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "core/ni_time.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

typedef enum zkind { ZK_OTHER = 0, ZK_CONN, ZK_HTTP, ZK_SSL, ZK_DNS, ZK_X509, ZK_QUIC, ZK_SOFTWARE } zkind;
static const char *const kind_names[] = { "", "conn", "http", "ssl", "dns", "x509", "quic", "software" };

static zkind kind_of(const char *name, size_t n)
{
    for (size_t k = 1; k < sizeof kind_names / sizeof kind_names[0]; k++)
        if (strlen(kind_names[k]) == n && !memcmp(kind_names[k], name, n)) return (zkind)k;
    return ZK_OTHER;
}

/* ---- one log file ------------------------------------------------------ */
#define ZSEP_MAX 16
#define ZMARK_MAX 64

typedef struct zlog {
    gzFile gz;
    const char *path;
    unsigned line;
    bool json;
    bool failed;                        /* stop reading this file */
    char sep[ZSEP_MAX], setsep[ZSEP_MAX];
    size_t seplen, setseplen;
    char empty[ZMARK_MAX], unset[ZMARK_MAX];
    char *header;                       /* copy of the #fields line, split in place */
    char *names[NI_ZEEK_FIELDS_MAX];
    bool islist[NI_ZEEK_FIELDS_MAX];
    size_t nfields;
    char path_name[32];
    char *buf;                          /* NI_ZEEK_LINE_MAX + 1 */
    size_t len;
    /* the current row */
    char *vals[NI_ZEEK_FIELDS_MAX];     /* TSV: NULL = unset; list columns raw */
    uint64_t split_row[NI_ZEEK_FIELDS_MAX]; /* row number when a list column was split */
    uint64_t rowno;
    json_t *obj;                        /* JSON */
    char num[4][40];
    unsigned numi;
    const char *items[NI_ZEEK_ITEMS_MAX];
} zlog;

typedef struct zfile {
    char *path;
    char *key;          /* rotation group: stamp from the name, "~" for current logs */
    zkind kind;
    uint64_t size;      /* bytes on disk, for progress */
} zfile;

/* What the protocol logs say about one connection (uid). */
typedef struct zreq { ni_http_req r; uint64_t depth; } zreq;
typedef struct zev {
    struct zev *next;                   /* insertion order */
    bool used, has_id;
    ni_addr oh, rh;
    uint16_t op, rp;
    uint8_t proto;
    int64_t ts_first, ts_last;
    uint64_t rows;
    zreq *http_head, *http_tail;
    unsigned nhttp;
    const char *sni, *quic_sni, *ja4, *cert_key;
    uint16_t tls_version;
    bool quic, ssl;
    const char *dns_query;
    ni_strlist *answers, *answers_tail;
    unsigned nanswers;
    ni_dns_txn *dns, *dns_tail;         /* one per dns.log row */
    unsigned ndns;
    uint32_t dns_dropped;
} zev;
typedef struct zcert { const char *subject, *issuer; } zcert;

struct ni_zeek {
    char path[512];
    zfile *files;
    size_t nfiles;
    size_t g0, g1;                      /* current group: files[g0..g1) */
    int phase;                          /* 0 next group, 1 conn rows, 2 orphans, 3 done */
    size_t fi;                          /* conn file being read (phase 1) */
    bool log_open;
    zlog *L;
    ni_arena *garena;                   /* one group's protocol rows */
    ni_map *ev;
    ni_arena *karena;                   /* certificates and browsers, kept across groups:
                                         * Zeek logs each only when first seen */
    ni_map *x509, *sw;
    zev *ev_head, *ev_tail, *orphan;
    ni_arena *sarena;
    ni_zeek_stats st;
    uint64_t bytes_total, bytes_done;   /* files finished, for progress */
    size_t uids_max, bytes_max;         /* the join's bounds (NI_ZEEK_UIDS_MAX, NI_ZEEK_GROUP_BYTES_MAX) */
    char problem[NI_ERRMSG_MAX];
    bool reported;
};

static void problem(ni_zeek *z, const zlog *L, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(ni_zeek *z, const zlog *L, const char *fmt, ...)
{
    z->st.problems++;
    if (z->problem[0]) return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (L && L->line) snprintf(z->problem, sizeof z->problem, "%.240s:%u: %s", L->path, L->line, what);
    else snprintf(z->problem, sizeof z->problem, "%.240s: %s", L ? L->path : z->path, what);
}

static int hexval(uint8_t h)
{
    if (h >= '0' && h <= '9') return h - '0';
    h |= 0x20;
    return h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
}

/* \xNN escapes decoded in place (the result is never longer). */
static void unescape(char *s)
{
    size_t n = strlen(s);
    ni_cursor c;
    ni_cur_init(&c, (const uint8_t *)s, n);
    size_t w = 0;
    while (ni_cur_left(&c)) {
        uint8_t b = ni_cur_u8(&c);
        if (b == '\\' && ni_cur_at(&c, c.off) == 'x') {
            int hi = hexval(ni_cur_at(&c, c.off + 1)), lo = hexval(ni_cur_at(&c, c.off + 2));
            if (hi >= 0 && lo >= 0) {
                ni_cur_skip(&c, 3);
                b = (uint8_t)(hi * 16 + lo);
            }
        }
        s[w++] = (char)b;
    }
    s[w] = 0;
}

/* Splits s at every occurrence of sep (in place); up to max pieces. */
static size_t split(char *s, size_t n, const char *sep, size_t seplen, char **out, size_t max, bool *over)
{
    ni_cursor c;
    ni_cur_init(&c, (const uint8_t *)s, n);
    size_t k = 0, start = 0;
    *over = false;
    while (ni_cur_left(&c)) {
        if (ni_cur_left(&c) >= seplen && !memcmp(ni_cur_ptr(&c), sep, seplen)) {
            if (k == max) { *over = true; return k; }
            s[c.off] = 0;
            out[k++] = s + start;
            ni_cur_skip(&c, seplen);
            start = c.off;
        } else {
            ni_cur_skip(&c, 1);
        }
    }
    if (k == max) { *over = true; return k; }
    out[k++] = s + start;
    return k;
}

static void log_reset(zlog *L)
{
    if (L->gz) gzclose(L->gz);
    L->gz = NULL;
    json_decref(L->obj);
    L->obj = NULL;
    free(L->header);
    L->header = NULL;
    L->nfields = 0;
    L->line = 0;
    L->rowno = 1;
    memset(L->split_row, 0, sizeof L->split_row);
    L->failed = false;
    L->json = false;
    memcpy(L->sep, "\t", 2); L->seplen = 1;
    memcpy(L->setsep, ",", 2); L->setseplen = 1;
    snprintf(L->empty, sizeof L->empty, "(empty)");
    snprintf(L->unset, sizeof L->unset, "-");
    L->path_name[0] = 0;
}

/* One line into L->buf without its line end: 1, or 0 at the end (or on a
 * read error, recorded as a problem). */
static int log_line(ni_zeek *z, zlog *L)
{
    for (;;) {
        if (L->failed || !gzgets(L->gz, L->buf, (int)NI_ZEEK_LINE_MAX + 1)) {
            int e = 0;
            if (!L->failed) gzerror(L->gz, &e);
            if (e != Z_OK && e != Z_STREAM_END && !L->failed) {
                L->line++;
                problem(z, L, "damaged compression or read error");
                z->st.bad_files++;
            }
            L->failed = true;
            return 0;
        }
        L->line++;
        size_t n = strlen(L->buf);
        if (n && L->buf[n - 1] == '\n') {
            L->buf[--n] = 0;
            if (n && L->buf[n - 1] == '\r') L->buf[--n] = 0;
        } else if (n == NI_ZEEK_LINE_MAX && !gzeof(L->gz)) {
            z->st.long_lines++;
            problem(z, L, "line longer than %u bytes", NI_ZEEK_LINE_MAX);
            int c;
            while ((c = gzgetc(L->gz)) != -1 && c != '\n') {}
            continue;
        }
        L->len = n;
        return 1;
    }
}

static bool is_known_list(const char *name)
{
    static const char *const lists[] = { "answers", "TTLs", "cert_chain_fps", "cert_chain_fuids",
                                         "client_cert_chain_fps", "tunnel_parents", "tags" };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) if (!strcmp(name, lists[i])) return true;
    return false;
}

/* A header line (L->buf starts with '#').  false = the header is broken. */
static bool directive(ni_zeek *z, zlog *L)
{
    char *b = L->buf;
    if (!strncmp(b, "#separator ", 11)) {
        unescape(b + 11);
        size_t n = strlen(b + 11);
        if (!n || n >= ZSEP_MAX) { problem(z, L, "bad #separator"); return false; }
        memcpy(L->sep, b + 11, n + 1);
        L->seplen = n;
        return true;
    }
    char *sp = strstr(b, L->sep);
    if (!sp) return true;                       /* "#close", "#open XXXX" (btest), comments */
    *sp = 0;
    char *v = sp + L->seplen;
    const char *d = b + 1;
    if (!strcmp(d, "set_separator") || !strcmp(d, "empty_field") || !strcmp(d, "unset_field")) {
        unescape(v);
        size_t n = strlen(v);
        char *dst = d[0] == 's' ? L->setsep : d[0] == 'e' ? L->empty : L->unset;
        size_t cap = d[0] == 's' ? ZSEP_MAX : ZMARK_MAX;
        if (n >= cap || (d[0] == 's' && !n)) { problem(z, L, "bad #%s", d); return false; }
        memcpy(dst, v, n + 1);
        if (d[0] == 's') L->setseplen = n;
    } else if (!strcmp(d, "path")) {
        snprintf(L->path_name, sizeof L->path_name, "%s", v);
    } else if (!strcmp(d, "fields")) {
        free(L->header);
        L->header = strdup(v);
        if (!L->header) { problem(z, L, "out of memory"); return false; }
        bool over;
        L->nfields = split(L->header, strlen(L->header), L->sep, L->seplen, L->names, NI_ZEEK_FIELDS_MAX, &over);
        if (over) { problem(z, L, "more than %u fields", NI_ZEEK_FIELDS_MAX); L->nfields = 0; return false; }
        for (size_t i = 0; i < L->nfields; i++) {
            if (!L->names[i][0]) { problem(z, L, "#fields has an empty name"); L->nfields = 0; return false; }
            L->islist[i] = is_known_list(L->names[i]);
        }
    } else if (!strcmp(d, "types")) {
        char *types[NI_ZEEK_FIELDS_MAX];
        bool over;
        size_t nt = split(v, strlen(v), L->sep, L->seplen, types, NI_ZEEK_FIELDS_MAX, &over);
        if (!L->nfields) { problem(z, L, "#types before #fields"); return false; }
        if (over || nt != L->nfields) {
            problem(z, L, "#types has %zu%s columns, #fields %zu", nt, over ? "+" : "", L->nfields);
            L->nfields = 0;
            return false;
        }
        for (size_t i = 0; i < nt; i++)
            L->islist[i] = !strncmp(types[i], "set[", 4) || !strncmp(types[i], "vector[", 7) ||
                           !strncmp(types[i], "table[", 6);
    }
    return true;
}

/* The next data row: 1, or 0 at the end of the file (or when it is broken). */
static int log_row(ni_zeek *z, zlog *L)
{
    json_decref(L->obj);
    L->obj = NULL;
    L->numi = 0;
    while (!L->failed && log_line(z, L)) {
        if (strspn(L->buf, " \t") == L->len) continue;
        if (L->json) {
            json_error_t je;
            json_t *o = json_loadb(L->buf, L->len, 0, &je);
            if (!json_is_object(o)) {
                json_decref(o);
                z->st.bad_rows++;
                problem(z, L, "not a JSON object (%s)", o ? "another JSON value" : je.text);
                continue;
            }
            L->obj = o;
            z->st.rows++;
            return 1;
        }
        if (L->buf[0] == '#') {
            if (!directive(z, L)) { z->st.bad_files++; L->failed = true; return 0; }
            continue;
        }
        if (!L->nfields) {
            problem(z, L, "a row before the #fields header");
            z->st.bad_files++;
            L->failed = true;
            return 0;
        }
        bool over;
        size_t n = split(L->buf, L->len, L->sep, L->seplen, L->vals, L->nfields, &over);
        if (over || n != L->nfields) {
            z->st.bad_rows++;
            problem(z, L, "%zu%s fields, the header has %zu", n, over ? "+" : "", L->nfields);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(L->vals[i], L->unset)) L->vals[i] = NULL;
            else if (!strcmp(L->vals[i], L->empty)) L->vals[i][0] = 0;
            else if (!L->islist[i]) unescape(L->vals[i]);
        }
        z->st.rows++;
        L->rowno++;
        return 1;
    }
    return 0;
}

static const json_t *jget(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);
    const char *dot = strchr(name, '.');
    if (!v && dot && (size_t)(dot - name) < 64) {   /* nested records: {"id": {"orig_h": ...}} */
        char head[64];
        memcpy(head, name, (size_t)(dot - name));
        head[dot - name] = 0;
        v = json_object_get(json_object_get(o, head), dot + 1);
    }
    return v;
}

static int col(const zlog *L, const char *name)
{
    for (size_t i = 0; i < L->nfields; i++) if (!strcmp(L->names[i], name)) return (int)i;
    return -1;
}

/* A scalar value of the current row; NULL when unset or absent. */
static const char *zf_str(zlog *L, const char *name)
{
    if (L->json) {
        const json_t *v = jget(L->obj, name);
        char *nb = L->num[L->numi++ % 4];
        if (json_is_string(v)) return json_string_value(v);
        if (json_is_integer(v)) { snprintf(nb, 40, "%lld", (long long)json_integer_value(v)); return nb; }
        if (json_is_real(v)) { snprintf(nb, 40, "%.6f", json_real_value(v)); return nb; }
        if (json_is_true(v)) return "T";
        if (json_is_false(v)) return "F";
        return NULL;
    }
    int i = col(L, name);
    return i < 0 ? NULL : L->vals[i];
}

/* The items of a set/vector value (read once per row: TSV items are split
 * and unescaped in place); *out points into L->items. */
static size_t zf_list(zlog *L, const char *name, const char *const **out)
{
    size_t k = 0;
    *out = L->items;
    if (L->json) {
        const json_t *a = jget(L->obj, name);
        for (size_t i = 0; i < json_array_size(a) && k < NI_ZEEK_ITEMS_MAX; i++)
            if (json_is_string(json_array_get(a, i))) L->items[k++] = json_string_value(json_array_get(a, i));
        if (json_is_string(a)) L->items[k++] = json_string_value(a);
        return k;
    }
    int i = col(L, name);
    if (i < 0 || !L->vals[i] || !L->vals[i][0]) return 0;
    if (!L->islist[i] || L->split_row[i] == L->rowno) { L->items[0] = L->vals[i]; return 1; }
    char *parts[NI_ZEEK_ITEMS_MAX];
    bool over;
    k = split(L->vals[i], strlen(L->vals[i]), L->setsep, L->setseplen, parts, NI_ZEEK_ITEMS_MAX, &over);
    for (size_t j = 0; j < k; j++) {
        unescape(parts[j]);
        L->items[j] = parts[j];
    }
    L->split_row[i] = L->rowno;     /* now items, not raw: a second call reads the first item */
    return k;
}

/* ---- values ------------------------------------------------------------ */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* "1300475167.096535" (seconds, fraction rounded down to µs) or ISO 8601;
 * from 1970 to the end of year 9999 (RFC 3339 has four-digit years). */
#define ZEEK_SECS_MAX 253402300799ll
static bool parse_secs_any(const char *s, int64_t *us);
static bool parse_secs(const char *s, int64_t *us)
{
    int64_t v;
    if (!parse_secs_any(s, &v) || v < 0 || v > ZEEK_SECS_MAX * 1000000 + 999999) return false;
    *us = v;
    return true;
}

static bool parse_secs_any(const char *s, int64_t *us)
{
    if (!s || !*s) return false;
    const char *dot = strchr(s, '.');
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    char ip[24];
    if (il && il < sizeof ip) {
        memcpy(ip, s, il);
        ip[il] = 0;
        uint64_t sec;
        if (parse_u64(ip, (uint64_t)ZEEK_SECS_MAX, &sec)) {
            int64_t frac = 0;
            unsigned digits = 0;
            bool ok = true;
            for (const char *q = dot ? dot + 1 : s + il; *q; q++) {
                if (*q < '0' || *q > '9') { ok = false; break; }
                if (digits < 6) { frac = frac * 10 + (*q - '0'); digits++; }
            }
            if (ok) {
                for (; digits < 6; digits++) frac *= 10;
                *us = (int64_t)sec * 1000000 + frac;
                return true;
            }
        }
    }
    return ni_time_parse(s, us) == NI_OK;
}

static bool val_u64(ni_zeek *z, const char *s, uint64_t max, uint64_t *out)
{
    if (!s) return false;
    if (parse_u64(s, max, out)) return true;
    z->st.bad_values++;
    return false;
}

static bool val_time(ni_zeek *z, const char *s, int64_t *us)
{
    if (!s) return false;
    if (parse_secs(s, us)) return true;
    z->st.bad_values++;
    return false;
}

static uint8_t proto_of(const char *p, uint8_t family)
{
    if (!p) return 0;
    if (!strcmp(p, "tcp")) return 6;
    if (!strcmp(p, "udp")) return 17;
    if (!strcmp(p, "icmp")) return family == 6 ? 58 : 1;
    return 0;
}

static uint16_t tls_code(const char *v)
{
    static const struct { const char *n; uint16_t c; } t[] = {
        { "SSLv2", 0x0002 }, { "SSLv3", 0x0300 }, { "TLSv10", 0x0301 }, { "TLSv11", 0x0302 },
        { "TLSv12", 0x0303 }, { "TLSv13", 0x0304 }, { "DTLSv10", 0xfeff }, { "DTLSv12", 0xfefd },
        { "DTLSv13", 0xfefc },
    };
    for (size_t i = 0; v && i < sizeof t / sizeof t[0]; i++) if (!strcmp(v, t[i].n)) return t[i].c;
    return 0;
}

/* Zeek's conn history letters → OR of TCP flags per direction (ni_stored's
 * bit order FIN SYN RST PSH ACK: 1 2 4 8 16).  Upper case = originator. */
static void history_flags(const char *h, uint8_t *c2s, uint8_t *s2c)
{
    /* '^' (Zeek flipped the roles) needs nothing: the letters are already
     * relative to the final originator */
    for (; h && *h; h++) {
        char ch = *h;
        bool orig = ch >= 'A' && ch <= 'Z';
        uint8_t f = 0;
        switch (orig ? ch : ch - 'a' + 'A') {
        case 'S': f = 2; break;
        case 'H': f = 2 | 16; break;
        case 'A': case 'D': f = 16; break;
        case 'F': f = 1; break;
        case 'R': f = 4; break;
        default: break;
        }
        *(orig ? c2s : s2c) |= f;
    }
}

/* A protocol row (or part) the join's memory bounds cannot hold: counted,
 * and reported once as a problem (the sessions lack that evidence). */
static void dropped(ni_zeek *z)
{
    if (!z->st.dropped++)
        problem(z, z->L, "more protocol rows than the join holds (NI_ZEEK_UIDS_MAX, NI_ZEEK_GROUP_BYTES_MAX, "
                "NI_ZEEK_KEPT_MAX): evidence dropped");
}

static char *adup(ni_zeek *z, ni_arena *a, const char *s)
{
    if (!s) return NULL;
    char *d = ni_arena_strdup(a, s);
    if (!d) dropped(z);
    return d;
}
static char *gdup(ni_zeek *z, const char *s) { return adup(z, z->garena, s); }
/* Evidence strings: empty ones are absent (docs/sessions.md). */
static const char *nz(const char *s) { return s && *s ? s : NULL; }

/* ---- the join: protocol rows held per connection ----------------------- */
static zev *ev_get(ni_zeek *z, zlog *L, bool *fresh)
{
    const char *uid = zf_str(L, "uid");
    *fresh = false;
    if (!uid || !*uid) { z->st.bad_values++; return NULL; }
    void **slot = ni_map_slot(z->ev, uid);
    if (!slot) { dropped(z); return NULL; }
    if (*slot) return *slot;
    zev *e = ni_arena_alloc(z->garena, sizeof *e);
    if (!e) { dropped(z); return NULL; }
    *slot = e;
    *fresh = true;
    const char *oh = zf_str(L, "id.orig_h"), *rh = zf_str(L, "id.resp_h");
    uint64_t op = 0, rp = 0;
    e->has_id = oh && rh && !ni_addr_parse(oh, &e->oh) && !ni_addr_parse(rh, &e->rh) &&
                val_u64(z, zf_str(L, "id.orig_p"), 65535, &op) && val_u64(z, zf_str(L, "id.resp_p"), 65535, &rp);
    e->op = (uint16_t)op;
    e->rp = (uint16_t)rp;
    if (!e->has_id) z->st.bad_values++;
    e->ts_first = INT64_MAX;
    e->ts_last = INT64_MIN;
    if (z->ev_tail) z->ev_tail->next = e; else z->ev_head = e;
    z->ev_tail = e;
    return e;
}

static char *host_clean(ni_zeek *z, const char *v)
{
    if (!v) return NULL;
    size_t n = strlen(v), keep = n;
    if (n && v[0] == '[') {
        const char *rb = memchr(v, ']', n);
        if (rb) keep = (size_t)(rb - v) + 1;
    } else {
        const char *colon = strchr(v, ':');
        if (colon && !strchr(colon + 1, ':') && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
            keep = (size_t)(colon - v);
    }
    char *d = ni_arena_strndup(z->garena, v, keep);
    if (!d) { dropped(z); return NULL; }
    for (char *p = d; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return d;
}

static bool dns_keep(const char *a)
{
    ni_addr x;
    if (!ni_addr_parse(a, &x)) return true;
    return *a && !strchr(a, ' ');          /* a CNAME target (names only, no "TXT ..." records) */
}

/* Zeek's mnemonic into netintel's (docs/sessions.md `dns`): "*" is ANY,
 * Zeek's defaults for unnamed codes "query-N" / "rcode-N" become RFC 3597's
 * "TYPEN" / "RCODEN"; NULL stays NULL. */
static const char *dns_mnemonic(ni_zeek *z, const char *v, const char *zeek_prefix, const char *ours)
{
    if (!v || !*v) return NULL;
    if (!strcmp(v, "*")) return "ANY";
    size_t pl = strlen(zeek_prefix);
    if (!strncmp(v, zeek_prefix, pl) && v[pl] && strspn(v + pl, "0123456789") == strlen(v + pl)) {
        char b[32];
        snprintf(b, sizeof b, "%s%.20s", ours, v + pl);
        return gdup(z, b);
    }
    return gdup(z, v);
}

/* One dns.log row: one transaction of its connection (query, qtype_name,
 * rcode_name — unset when Zeek saw no reply —, answers, the smallest of
 * TTLs).  Zeek writes TXT answers as "TXT <length> <text>": the text is kept. */
static void dns_row(ni_zeek *z, zlog *L, zev *e, const char *q, const char *qt,
                    const char *const *it, size_t n)
{
    if (e->ndns >= NI_DNS_TRANSACTIONS_MAX) { e->dns_dropped++; return; }
    ni_dns_txn *t = ni_arena_alloc(z->garena, sizeof *t);
    if (!t) { dropped(z); return; }
    t->query = q && *q ? gdup(z, q) : NULL;
    t->qtype = dns_mnemonic(z, qt, "query-", "TYPE");
    t->rcode = dns_mnemonic(z, zf_str(L, "rcode_name"), "rcode-", "RCODE");
    t->ttl = -1;
    t->queried = true;
    ni_strlist **tail = &t->answers;
    for (size_t i = 0; i < n && i < NI_DNS_ANSWERS_MAX; i++) {
        const char *a = it[i];
        if (!strncmp(a, "TXT ", 4)) {                /* "TXT 11 v=spf1 -all" */
            const char *sp = strchr(a + 4, ' ');
            a = sp ? sp + 1 : a + 4;
        }
        if (!*a) continue;
        ni_strlist *l = ni_arena_alloc(z->garena, sizeof *l);
        if (!l || !(l->s = gdup(z, a))) { dropped(z); break; }
        *tail = l;
        tail = &l->next;
    }
    /* TTLs: intervals ("124.000000"), one per answer; it[] is reused */
    const char *const *tt;
    size_t nt = zf_list(L, "TTLs", &tt);
    for (size_t i = 0; i < nt; i++) {
        char *end;
        double v = strtod(tt[i], &end);
        if (end == tt[i] || v < 0 || v > 4294967295.0) continue;
        if (t->ttl < 0 || (int64_t)v < t->ttl) t->ttl = (int64_t)v;
    }
    if (e->dns_tail) e->dns_tail->next = t; else e->dns = t;
    e->dns_tail = t;
    e->ndns++;
}

static void load_row(ni_zeek *z, zlog *L, zkind kind)
{
    if (kind == ZK_X509) {
        const char *key = zf_str(L, "fingerprint");
        if (!key) key = zf_str(L, "id");
        if (!key || !*key) { z->st.bad_values++; return; }
        void **slot = ni_map_slot(z->x509, key);
        if (!slot) { dropped(z); return; }
        if (*slot) return;
        zcert *c = ni_arena_alloc(z->karena, sizeof *c);
        if (!c) { dropped(z); return; }
        c->subject = adup(z, z->karena, zf_str(L, "certificate.subject"));
        c->issuer = adup(z, z->karena, zf_str(L, "certificate.issuer"));
        *slot = c;
        return;
    }
    if (kind == ZK_SOFTWARE) {
        const char *type = zf_str(L, "software_type"), *host = zf_str(L, "host");
        const char *ua = zf_str(L, "unparsed_version");
        ni_addr a;
        if (!type || !strstr(type, "BROWSER") || !host || !ua || !*ua) return;
        if (ni_addr_parse(host, &a)) { z->st.bad_values++; return; }
        char t[NI_ADDR_STRLEN];
        void **slot = ni_map_slot(z->sw, ni_addr_format(&a, t));
        if (!slot) { dropped(z); return; }
        if (!*slot) *slot = adup(z, z->karena, ua);
        return;
    }
    bool fresh;
    zev *e = ev_get(z, L, &fresh);
    if (!e) return;
    e->rows++;
    int64_t ts;
    if (val_time(z, zf_str(L, "ts"), &ts)) {
        if (ts < e->ts_first) e->ts_first = ts;
        if (ts > e->ts_last) e->ts_last = ts;
    }
    if (kind == ZK_HTTP) {
        e->proto = e->proto ? e->proto : 6;
        if (e->nhttp >= NI_HTTP_REQUESTS_MAX) return;     /* as for captures: the first ones */
        zreq *q = ni_arena_alloc(z->garena, sizeof *q);
        if (!q) { dropped(z); return; }
        uint64_t depth;
        if (!val_u64(z, zf_str(L, "trans_depth"), UINT32_MAX, &depth)) depth = e->nhttp + 1u;
        q->depth = depth;
        q->r.method = gdup(z, nz(zf_str(L, "method")));
        q->r.host = host_clean(z, nz(zf_str(L, "host")));
        q->r.path = gdup(z, nz(zf_str(L, "uri")));
        q->r.user_agent = gdup(z, nz(zf_str(L, "user_agent")));
        /* insert in trans_depth order (rows are written as transactions end) */
        zreq **pp = &e->http_head;
        while (*pp && (*pp)->depth <= depth) pp = (zreq **)&(*pp)->r.next;
        q->r.next = (ni_http_req *)*pp;
        *pp = q;
        if (!q->r.next) e->http_tail = q;
        e->nhttp++;
    } else if (kind == ZK_SSL) {
        if (e->ssl) return;
        e->ssl = true;
        const char *sni = zf_str(L, "server_name");
        if (sni && *sni) e->sni = gdup(z, sni);
        e->tls_version = tls_code(zf_str(L, "version"));
        const char *ja4 = zf_str(L, "ja4");
        if (ja4 && *ja4) e->ja4 = gdup(z, ja4);
        const char *const *it;
        size_t n = zf_list(L, "cert_chain_fps", &it);
        if (!n) n = zf_list(L, "cert_chain_fuids", &it);
        if (n) e->cert_key = gdup(z, it[0]);
        if (!e->proto) e->proto = 6;
    } else if (kind == ZK_QUIC) {
        e->quic = true;
        e->proto = 17;
        const char *sni = zf_str(L, "server_name");
        if (sni && *sni && !e->quic_sni) e->quic_sni = gdup(z, sni);
    } else if (kind == ZK_DNS) {
        const char *q = zf_str(L, "query");
        if (!e->proto) e->proto = proto_of(zf_str(L, "proto"), e->oh.family);
        if (!e->proto) e->proto = 17;           /* DNS without its transport: UDP */
        if (!e->dns_query && q && *q) e->dns_query = gdup(z, q);
        const char *qt = zf_str(L, "qtype_name");
        const char *const *it;
        size_t n = zf_list(L, "answers", &it);
        bool addr_type = qt && (!strcmp(qt, "A") || !strcmp(qt, "AAAA") || !strcmp(qt, "CNAME"));
        for (size_t i = 0; addr_type && i < n && e->nanswers < NI_DNS_ANSWERS_MAX; i++) {
            if (!dns_keep(it[i])) continue;
            ni_strlist *l = ni_arena_alloc(z->garena, sizeof *l);
            if (!l || !(l->s = gdup(z, it[i]))) { dropped(z); break; }
            if (e->answers_tail) e->answers_tail->next = l; else e->answers = l;
            e->answers_tail = l;
            e->nanswers++;
        }
        dns_row(z, L, e, q, qt, it, n);             /* last: it reads TTLs, reusing it[] */
    }
}

/* ---- files and groups -------------------------------------------------- */
/* Is this a Zeek log?  Reads its first lines; *kind from #path / _path,
 * else from the file name. */
static bool peek(zlog *L, const char *path, zkind *kind)
{
    gzFile g = gzopen(path, "rb");
    if (!g) return false;
    bool zeek = false;
    *kind = ZK_OTHER;
    bool named = false;
    for (int i = 0; i < 32 && gzgets(g, L->buf, (int)NI_ZEEK_LINE_MAX + 1); i++) {
        size_t n = strlen(L->buf);
        while (n && (L->buf[n - 1] == '\n' || L->buf[n - 1] == '\r')) L->buf[--n] = 0;
        if (!zeek && !strncmp(L->buf, "#separator ", 11)) { zeek = true; continue; }
        if (!zeek && L->buf[0] == '#') continue;    /* comments before the header (btest's "### BTest ...") */
        if (zeek) {
            if (L->buf[0] != '#') break;
            if (!strncmp(L->buf, "#path", 5) && n > 6) { *kind = kind_of(L->buf + 6, n - 6); named = true; }
            continue;
        }
        if (strspn(L->buf, " \t") == n) continue;
        json_t *o = json_loadb(L->buf, n, 0, NULL);
        if (json_is_object(o) && !(json_object_get(o, "first") && json_object_get(o, "client")) &&
            (json_object_get(o, "ts") || json_object_get(o, "uid") || json_object_get(o, "_path") ||
             json_object_get(o, "id.orig_h"))) {
            zeek = true;
            const char *p = json_string_value(json_object_get(o, "_path"));
            if (p) { *kind = kind_of(p, strlen(p)); named = true; }
        }
        json_decref(o);
        break;
    }
    gzclose(g);
    if (zeek && !named) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        *kind = kind_of(base, strcspn(base, "."));
    }
    return zeek;
}

/* Rotation stamp of a log's file name: "conn.2024-01-01-00-00-00.log.gz" →
 * "2024-01-01-00-00-00"; "" for "conn.log". */
static char *stamp_key(const char *sub, const char *name)
{
    const char *dot = strchr(name, '.');
    size_t n = 0;
    const char *st = "";
    if (dot) {
        st = dot + 1;
        const char *end = strstr(st, ".log");
        if (!end) end = strstr(st, ".json");
        n = end ? (size_t)(end - st) : 0;
        if (!end && (!strcmp(st, "log") || !strncmp(st, "log.", 4))) n = 0;
        if (end == st) n = 0;
    }
    size_t sl = sub ? strlen(sub) : 0;
    char *k = malloc(sl + n + 3);
    if (!k) return NULL;
    if (!n && !sub) { memcpy(k, "~", 2); return k; }
    size_t w = 0;
    if (sub) { memcpy(k, sub, sl); w = sl; k[w++] = '/'; }
    memcpy(k + w, st, n);
    k[w + n] = 0;
    if (!n) { k[w] = '~'; k[w + 1] = 0; }
    return k;
}

static int file_cmp(const void *a, const void *b)
{
    const zfile *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->path, y->path);
}

static bool add_file(ni_zeek *z, const char *path, const char *sub, const char *name, uint64_t size, size_t *cap)
{
    zkind kind;
    if (!peek(z->L, path, &kind)) { z->st.ignored_files++; return true; }
    if (kind == ZK_OTHER) { z->st.ignored_files++; return true; }
    if (z->nfiles == *cap) {
        if (*cap >= NI_ZEEK_FILES_MAX) { z->st.ignored_files++; return true; }
        size_t nc = *cap ? *cap * 2 : 16;
        zfile *nf = realloc(z->files, nc * sizeof *nf);
        if (!nf) return false;
        z->files = nf;
        *cap = nc;
    }
    zfile *f = &z->files[z->nfiles];
    f->path = strdup(path);
    f->key = stamp_key(sub, name);
    f->kind = kind;
    f->size = size;
    if (!f->path || !f->key) { free(f->path); free(f->key); return false; }
    z->nfiles++;
    z->bytes_total += size;
    return true;
}

static bool list_dir(ni_zeek *z, const char *dir, const char *sub, size_t *cap, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return depth > 0;
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        size_t n = strlen(dir) + strlen(de->d_name) + 2;
        char *p = malloc(n);
        if (!p) { ok = false; break; }
        snprintf(p, n, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (!stat(p, &sb)) {
            if (S_ISDIR(sb.st_mode) && depth == 0) ok = list_dir(z, p, de->d_name, cap, 1);
            else if (S_ISREG(sb.st_mode)) ok = add_file(z, p, sub, de->d_name, (uint64_t)sb.st_size, cap);
        }
        free(p);
    }
    closedir(d);
    return ok;
}

bool ni_zeek_probe(const char *path)
{
    if (!path || !strcmp(path, "-")) return false;
    struct stat sb;
    if (stat(path, &sb)) return false;
    ni_zeek *z = ni_zeek_open(path, NULL);
    bool yes = z && z->nfiles > 0;
    ni_zeek_close(z);
    return yes;
}

ni_zeek *ni_zeek_open(const char *path, ni_error *err)
{
    ni_zeek *z = calloc(1, sizeof *z);
    if (z) z->L = calloc(1, sizeof *z->L);
    if (z && z->L) z->L->buf = malloc(NI_ZEEK_LINE_MAX + 1);
    if (z) z->sarena = ni_arena_new(NI_SESSION_ARENA_MAX * 2);
    if (!z || !z->L || !z->L->buf || !z->sarena) {
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        ni_zeek_close(z);
        return NULL;
    }
    snprintf(z->path, sizeof z->path, "%s", path);
    z->uids_max = NI_ZEEK_UIDS_MAX;
    z->bytes_max = NI_ZEEK_GROUP_BYTES_MAX;
    log_reset(z->L);
    struct stat sb;
    if (stat(path, &sb)) {
        ni_error_set(err, NI_ERR_NOTFOUND, "%s: %s", path, strerror(errno));
        ni_zeek_close(z);
        return NULL;
    }
    size_t cap = 0;
    bool ok;
    if (S_ISDIR(sb.st_mode)) {
        ok = list_dir(z, path, NULL, &cap, 0);
    } else {
        const char *base = strrchr(path, '/');
        ok = add_file(z, path, NULL, base ? base + 1 : path, (uint64_t)sb.st_size, &cap);
    }
    if (!ok) {
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        ni_zeek_close(z);
        return NULL;
    }
    if (!z->nfiles) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: %s", path, S_ISDIR(sb.st_mode)
                     ? "no Zeek conn, http, ssl, dns, quic, x509 or software log in this directory"
                     : "not a Zeek conn, http, ssl, dns, quic, x509 or software log");
        ni_zeek_close(z);
        return NULL;
    }
    qsort(z->files, z->nfiles, sizeof *z->files, file_cmp);
    return z;
}

static void group_release(ni_zeek *z)
{
    ni_map_free(z->ev, NULL);
    z->ev = NULL;
    ni_arena_free(z->garena);
    z->garena = NULL;
    z->ev_head = z->ev_tail = z->orphan = NULL;
}

void ni_zeek_close(ni_zeek *z)
{
    if (!z) return;
    if (z->L) {
        log_reset(z->L);
        free(z->L->buf);
        free(z->L);
    }
    group_release(z);
    ni_map_free(z->x509, NULL);
    ni_map_free(z->sw, NULL);
    ni_arena_free(z->karena);
    for (size_t i = 0; i < z->nfiles; i++) { free(z->files[i].path); free(z->files[i].key); }
    free(z->files);
    ni_arena_free(z->sarena);
    free(z);
}

const ni_zeek_stats *ni_zeek_stats_get(const ni_zeek *z) { return &z->st; }

void ni_zeek_set_bounds(ni_zeek *z, size_t uids, size_t bytes)
{
    if (uids && uids < NI_ZEEK_UIDS_MAX) z->uids_max = uids;
    if (bytes && bytes < NI_ZEEK_GROUP_BYTES_MAX) z->bytes_max = bytes;
}

void ni_zeek_progress(const ni_zeek *z, uint64_t *done, uint64_t *total)
{
    uint64_t cur = 0;
    if (z->L && z->L->gz) {
        z_off_t o = gzoffset(z->L->gz);
        if (o > 0) cur = (uint64_t)o;
    }
    *done = z->bytes_done + cur;
    *total = z->bytes_total > *done ? z->bytes_total : *done;
}

static bool log_open(ni_zeek *z, const zfile *f)
{
    zlog *L = z->L;
    log_reset(L);
    L->path = f->path;
    L->gz = gzopen(f->path, "rb");
    if (!L->gz) {
        problem(z, L, "%s", strerror(errno));
        z->st.bad_files++;
        return false;
    }
    gzbuffer(L->gz, 64u * 1024);
    z->st.files++;
    /* JSON or TSV: the first byte decides */
    int c = gzgetc(L->gz);
    if (c != -1) gzungetc(c, L->gz);
    L->json = c == '{' || c == ' ' || c == '\n' || c == '\t' || c == '\r';
    return true;
}

/* Loads the protocol logs of files[g0..g1). */
static bool group_load(ni_zeek *z)
{
    z->garena = ni_arena_new(z->bytes_max);
    z->ev = ni_map_new(z->uids_max);
    if (!z->karena) z->karena = ni_arena_new(NI_ZEEK_KEPT_BYTES_MAX);
    if (!z->x509) z->x509 = ni_map_new(NI_ZEEK_KEPT_MAX);
    if (!z->sw) z->sw = ni_map_new(NI_ZEEK_KEPT_MAX);
    if (!z->garena || !z->ev || !z->karena || !z->x509 || !z->sw) return false;
    for (size_t i = z->g0; i < z->g1; i++) {
        if (z->files[i].kind == ZK_CONN) continue;
        if (!log_open(z, &z->files[i])) continue;
        while (log_row(z, z->L)) load_row(z, z->L, z->files[i].kind);
        log_reset(z->L);
        z->bytes_done += z->files[i].size;
    }
    return true;
}

static void session_start(ni_zeek *z, ni_session *s)
{
    ni_arena_reset(z->sarena);
    memset(s, 0, sizeof *s);
    s->arena = z->sarena;
    s->source = "zeek";
}

static void attach(ni_zeek *z, ni_session *s, zev *e)
{
    e->used = true;
    if (e->http_head) {
        s->http = &e->http_head->r;
        s->http_tail = &e->http_tail->r;
        s->http_count = e->nhttp;
        bool ua = false;
        for (const ni_http_req *r = s->http; r; r = r->next) ua |= r->user_agent != NULL;
        if (!ua) {
            char t[NI_ADDR_STRLEN];
            s->quic_user_agent = ni_map_get(z->sw, ni_addr_format(&s->client, t));
        }
    }
    s->sni = e->sni ? e->sni : e->quic_sni;
    s->tls_version = e->tls_version;
    s->ja4 = e->ja4;
    s->quic = e->quic;
    if (e->cert_key) {
        const zcert *c = ni_map_get(z->x509, e->cert_key);
        if (c) { s->tls_cert_subject = c->subject; s->tls_cert_issuer = c->issuer; }
    }
    s->dns_query = e->dns_query;
    s->dns_answers = e->answers;
    s->dns = e->dns;
    s->dns_tail = e->dns_tail;
    s->dns_count = e->ndns;
    s->dns_dropped = e->dns_dropped;
}

/* One conn.log row into s: true, or false when the row is unusable. */
static bool conn_session(ni_zeek *z, zlog *L, ni_session *s)
{
    const char *oh = zf_str(L, "id.orig_h"), *rh = zf_str(L, "id.resp_h");
    if (!oh || !rh || ni_addr_parse(oh, &s->client) || ni_addr_parse(rh, &s->server)) {
        z->st.bad_rows++;
        problem(z, L, "a connection needs id.orig_h and id.resp_h addresses");
        return false;
    }
    uint64_t v = 0;
    s->proto = proto_of(zf_str(L, "proto"), s->client.family);
    if (val_u64(z, zf_str(L, "ip_proto"), 255, &v)) s->proto = (uint8_t)v;
    if (s->proto == 6 || s->proto == 17 || s->proto == 132) {
        if (val_u64(z, zf_str(L, "id.orig_p"), 65535, &v)) s->client_port = (uint16_t)v;
        if (val_u64(z, zf_str(L, "id.resp_p"), 65535, &v)) s->server_port = (uint16_t)v;
    }
    int64_t ts = 0, dur = 0;
    val_time(z, zf_str(L, "ts"), &ts);
    val_time(z, zf_str(L, "duration"), &dur);
    s->first_us = ts;
    s->last_us = ts + dur > ZEEK_SECS_MAX * 1000000 ? ts : ts + dur;     /* both within 0..year 9999 */
    if (val_u64(z, zf_str(L, "orig_pkts"), UINT64_MAX, &v)) s->c2s_packets = v;
    if (val_u64(z, zf_str(L, "orig_ip_bytes"), UINT64_MAX, &v)) s->c2s_bytes = v;
    if (val_u64(z, zf_str(L, "resp_pkts"), UINT64_MAX, &v)) s->s2c_packets = v;
    if (val_u64(z, zf_str(L, "resp_ip_bytes"), UINT64_MAX, &v)) s->s2c_bytes = v;
    if (s->proto == 6) history_flags(zf_str(L, "history"), &s->c2s_tcp_flags, &s->s2c_tcp_flags);
    const char *uid = zf_str(L, "uid");
    zev *e = uid ? ni_map_get(z->ev, uid) : NULL;
    if (e) {
        z->st.joined += e->rows;
        attach(z, s, e);
    }
    return true;
}

static void orphan_session(ni_zeek *z, ni_session *s, zev *e)
{
    s->client = e->oh;
    s->server = e->rh;
    s->proto = e->proto ? e->proto : (e->quic ? 17 : 6);
    if (e->quic) s->proto = 17;
    if (s->proto == 6 || s->proto == 17) { s->client_port = e->op; s->server_port = e->rp; }
    if (e->ts_first <= e->ts_last) { s->first_us = e->ts_first; s->last_us = e->ts_last; }
    attach(z, s, e);
}

int ni_zeek_next(ni_zeek *z, ni_session *s, ni_error *err)
{
    for (;;) {
        switch (z->phase) {
        case 0:     /* the next rotation group */
            group_release(z);
            z->g0 = z->g1;
            if (z->g0 >= z->nfiles) { z->phase = 3; break; }
            z->g1 = z->g0 + 1;
            while (z->g1 < z->nfiles && !strcmp(z->files[z->g1].key, z->files[z->g0].key)) z->g1++;
            if (!group_load(z)) {
                ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", z->path);
                z->phase = 3;
                return -1;
            }
            z->fi = z->g0;
            z->log_open = false;
            z->phase = 1;
            break;
        case 1:     /* conn.log rows, streamed */
            if (!z->log_open) {
                while (z->fi < z->g1 && z->files[z->fi].kind != ZK_CONN) z->fi++;
                if (z->fi >= z->g1) { z->phase = 2; z->orphan = z->ev_head; break; }
                z->log_open = log_open(z, &z->files[z->fi]);
                if (!z->log_open) { z->fi++; break; }
            }
            while (log_row(z, z->L)) {
                session_start(z, s);
                if (conn_session(z, z->L, s)) { z->st.sessions++; return 1; }
            }
            log_reset(z->L);
            z->log_open = false;
            z->bytes_done += z->files[z->fi].size;
            z->fi++;
            break;
        case 2:     /* protocol rows no conn row claimed */
            while (z->orphan) {
                zev *e = z->orphan;
                z->orphan = e->next;
                if (e->used || !e->has_id) continue;
                session_start(z, s);
                orphan_session(z, s, e);
                z->st.orphans++;
                z->st.sessions++;
                return 1;
            }
            z->phase = 0;
            break;
        default:
            group_release(z);
            if (z->st.problems && !z->reported) {
                z->reported = true;
                if (z->st.problems > 1)
                    ni_error_set(err, NI_ERR_FORMAT, "%s (%llu problems in all)", z->problem,
                                 (unsigned long long)z->st.problems);
                else
                    ni_error_set(err, NI_ERR_FORMAT, "%s", z->problem);
                return -1;
            }
            return 0;
        }
    }
}
