/* ni_http.c — HTTP/1.x request heads and request-body framing on the
 * client→server stream (RFC 9112 §2-§7, RFC 9110 §7.2 Host, §8.6
 * Content-Length).  See ni_http.h for what is recorded. */
#include "dissect/ni_http.h"
#include "core/ni_str.h"

#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"

/* Request methods: the IANA HTTP Method Registry (RFC 9110, WebDAV RFC 4918,
 * 3253, 3648, 3744, 5323, 5842, 4791, 5789) and the HTTP-over-UDP methods of
 * UPnP/SSDP (M-SEARCH, NOTIFY, SUBSCRIBE, UNSUBSCRIBE), plus PURGE (caches).
 * Protocol vocabulary, not a catalogue of facts. */
#define M(s) { s, sizeof s - 1 }
static const struct { const char *name; size_t len; } methods[] = {
    M("GET"), M("POST"), M("HEAD"), M("PUT"), M("DELETE"), M("OPTIONS"), M("CONNECT"),
    M("PATCH"), M("TRACE"), M("PROPFIND"), M("PROPPATCH"), M("MKCOL"), M("COPY"), M("MOVE"),
    M("LOCK"), M("UNLOCK"), M("SEARCH"), M("REPORT"), M("MKACTIVITY"), M("CHECKOUT"),
    M("CHECKIN"), M("UNCHECKOUT"), M("MERGE"), M("LABEL"), M("UPDATE"), M("VERSION-CONTROL"),
    M("BASELINE-CONTROL"), M("MKWORKSPACE"), M("MKCALENDAR"), M("ORDERPATCH"), M("ACL"),
    M("BIND"), M("UNBIND"), M("REBIND"), M("LINK"), M("UNLINK"), M("MKREDIRECTREF"),
    M("UPDATEREDIRECTREF"), M("QUERY"), M("PURGE"),
    M("M-SEARCH"), M("NOTIFY"), M("SUBSCRIBE"), M("UNSUBSCRIBE"),
};
#undef M
#define N_METHODS (sizeof methods / sizeof methods[0])

/* Chunked-body states kept in st->http_chunk for an HTTP session. */
enum { CH_NONE = 0, CH_SIZE = 1, CH_DATA_END = 2, CH_TRAILER = 3 };
#define CH_MASK 3u
#define CHUNK_LINE_MAX 1024u   /* chunk-size line with extensions */

/* The method p (n bytes) starts with, when followed by a space: *res = 1.
 * Otherwise *res = -1 when all of p is the start of some method (more bytes
 * may make it one), else 0.  Every method is upper-case A-Z, so any other
 * first byte (a TLS record, binary data) is answered without the table. */
static const char *method_match(const uint8_t *p, size_t n, int *res)
{
    *res = 0;
    if (n == 0 || p[0] < 'A' || p[0] > 'Z') {
        if (n == 0) *res = -1;
        return NULL;
    }
    bool prefix = false;
    for (size_t i = 0; i < N_METHODS; i++) {
        const char *m = methods[i].name;
        if ((uint8_t)m[0] != p[0]) continue;
        size_t ml = methods[i].len;
        size_t k = n < ml ? n : ml;
        if (memcmp(p, m, k) != 0) continue;
        if (n <= ml) { prefix = true; continue; }
        if (p[ml] == ' ') { *res = 1; return m; }
    }
    *res = prefix ? -1 : 0;
    return NULL;
}

int ni_http_probe(const uint8_t *p, size_t n)
{
    int res;
    if (n == 0) return -1;
    method_match(p, n, &res);
    return res;
}

/* Next line in c: sets *line and *len (without CR LF) and advances past the LF.
 * false when there is no LF in what is left. */
static bool next_line(ni_cursor *c, const uint8_t **line, size_t *len)
{
    size_t left = ni_cur_left(c);
    const uint8_t *p = ni_cur_ptr(c);
    const uint8_t *lf = left ? memchr(p, '\n', left) : NULL;
    if (!lf) return false;
    size_t l = (size_t)(lf - p);
    ni_cur_skip(c, l + 1);
    if (l > 0 && p[l - 1] == '\r') l--;
    *line = p;
    *len = l;
    return true;
}

size_t ni_http_head_len(const uint8_t *p, size_t n)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    const uint8_t *line;
    size_t len;
    bool first = true;
    while (next_line(&c, &line, &len)) {
        if (len == 0 && !first) return c.off;
        first = false;
    }
    return 0;
}

static bool is_ows(uint8_t b) { return b == ' ' || b == '\t'; }

static void trim(const uint8_t **v, size_t *n)
{
    while (*n && is_ows((*v)[0])) { (*v)++; (*n)--; }
    while (*n && is_ows((*v)[*n - 1])) (*n)--;
}

/* want: a lower-case name of want_len bytes (the lengths decide most
 * mismatches without comparing). */
static inline bool name_is_n(const uint8_t *name, size_t n, const char *want, size_t want_len)
{
    return n == want_len && ni_ascii_ieq(name, n, want);
}
#define name_is(name, n, lit) name_is_n((name), (n), (lit), sizeof(lit) - 1)

/* A kept header value, joined across obs-fold lines, capped. */
typedef struct field {
    char v[NI_HTTP_FIELD_MAX];
    size_t n;
    bool seen;
} field;

enum { F_HOST, F_UA, F_CH_UA, F_CH_PLATFORM, F_CH_PLATFORM_VERSION, F_CH_MODEL, F_COUNT };
#define FIELD(lit) { lit, sizeof(lit) - 1 }
static const struct { const char *name; size_t len; } field_names[F_COUNT] = {
    FIELD("host"), FIELD("user-agent"), FIELD("sec-ch-ua"), FIELD("sec-ch-ua-platform"),
    FIELD("sec-ch-ua-platform-version"), FIELD("sec-ch-ua-model"),
};

static void field_append(field *f, const uint8_t *v, size_t n, bool fold)
{
    if (fold && f->n && f->n < sizeof f->v && n) f->v[f->n++] = ' ';
    size_t room = sizeof f->v - f->n;
    if (n > room) n = room;
    memcpy(f->v + f->n, v, n);
    f->n += n;
}

/* Content-Length value: a list of identical decimal numbers (RFC 9110 §8.6).
 * Returns false on anything else or on a value different from *have. */
static bool parse_content_length(const uint8_t *v, size_t n, bool *set, uint64_t *have)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_ows(v[i]) || v[i] == ',')) i++;
        if (i >= n) break;
        uint64_t x = 0;
        size_t digits = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9') {
            if (x > (UINT64_MAX - 9) / 10) return false;
            x = x * 10 + (uint64_t)(v[i] - '0');
            i++;
            digits++;
        }
        if (!digits) return false;
        while (i < n && is_ows(v[i])) i++;
        if (i < n && v[i] != ',') return false;
        if (*set && *have != x) return false;
        *set = true;
        *have = x;
    }
    return true;
}

/* Transfer-Encoding: true when the last coding is "chunked". */
static bool te_chunked(const uint8_t *v, size_t n)
{
    size_t end = n;
    while (end && (is_ows(v[end - 1]) || v[end - 1] == ',')) end--;
    size_t start = end;
    while (start && v[start - 1] != ',' && !is_ows(v[start - 1])) start--;
    return name_is(v + start, end - start, "chunked");
}

/* Host value → host without port; lower-cased into out (cap bytes). */
static size_t host_clean(const char *v, size_t n, char *out, size_t cap)
{
    size_t keep = n;
    if (n && v[0] == '[') {
        const char *rb = memchr(v, ']', n);
        if (rb) keep = (size_t)(rb - v) + 1;
    } else {
        const char *colon = memchr(v, ':', n);
        if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - v) - 1)) {
            bool digits = true;
            for (const char *q = colon + 1; q < v + n; q++)
                if (*q < '0' || *q > '9') digits = false;
            if (digits) keep = (size_t)(colon - v);
        }
    }
    if (keep > cap) keep = cap;
    ni_ascii_lower_n(out, v, keep);
    return keep;
}

/* Authority of an absolute-form ("scheme://authority/...") or
 * authority-form (CONNECT "host:port") request-target, or NULL. */
static const char *target_authority(const char *t, size_t n, bool connect, size_t *alen)
{
    const char *a = NULL;
    if (connect) {
        a = t;
    } else {
        const char *sep = n >= 3 ? memchr(t, ':', n) : NULL;
        if (!sep || (size_t)(t + n - sep) < 3 || sep[1] != '/' || sep[2] != '/') return NULL;
        for (const char *q = t; q < sep; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                  *q == '+' || *q == '-' || *q == '.'))
                return NULL;
        a = sep + 3;
    }
    size_t l = 0;
    while (a + l < t + n && a[l] != '/' && a[l] != '?' && a[l] != '#') l++;
    const char *at = memchr(a, '@', l);             /* drop userinfo */
    if (at) { l -= (size_t)(at + 1 - a); a = at + 1; }
    *alen = l;
    return l ? a : NULL;
}

/* Arena copy of v[0..n), NULL when empty; reuses `prev` (the same field of
 * the previous request) when equal, as keep-alive requests repeat Host and
 * User-Agent. */
static const char *dup_or_null(ni_arena *a, const char *v, size_t n, const char *prev, bool *fail)
{
    if (n == 0) return NULL;
    if (prev && strlen(prev) == n && memcmp(prev, v, n) == 0) return prev;
    if (!a) { *fail = true; return NULL; }
    char *r = ni_arena_strndup(a, v, n);
    if (!r) *fail = true;
    return r;
}

ni_err ni_http_parse_request(ni_session *s, const uint8_t *p, size_t n, bool require_version,
                             ni_http_body *body, uint64_t *body_len)
{
    *body = NI_HTTP_BODY_NONE;
    *body_len = 0;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    const uint8_t *line;
    size_t len;
    if (!next_line(&c, &line, &len)) return NI_ERR_FORMAT;

    /* request-line = method SP request-target SP HTTP-version (§3) */
    int mres;
    const char *method = method_match(line, len, &mres);
    if (!method) return NI_ERR_FORMAT;
    size_t ml = strlen(method);
    /* Lenient as servers are: extra spaces around the target, and spaces
     * inside it (the version is the last space-separated word). */
    const uint8_t *t = line + ml + 1;
    size_t rest = len - ml - 1;
    const uint8_t *sp = NULL;
    for (size_t i = rest; i > 0; i--)
        if (t[i - 1] == ' ') { sp = t + i - 1; break; }
    size_t tlen = rest;
    if (sp) {
        const uint8_t *ver = sp + 1;
        size_t vl = (size_t)(t + rest - ver);
        if (vl == 8 && memcmp(ver, "HTTP/1.", 7) == 0 && ver[7] >= '0' && ver[7] <= '9')
            tlen = (size_t)(sp - t);
        else
            sp = NULL;
    }
    if (!sp && require_version) return NI_ERR_FORMAT;
    while (tlen && t[0] == ' ') { t++; tlen--; }
    while (tlen && t[tlen - 1] == ' ') tlen--;
    if (tlen == 0) return NI_ERR_FORMAT;
    for (size_t i = 0; i < tlen; i++) {
        if (t[i] < 0x20 || t[i] == 0x7f) return NI_ERR_FORMAT;
        if (t[i] == ' ' && !sp) return NI_ERR_FORMAT;   /* HTTP/0.9 form: one word */
    }

    /* header fields (§5) */
    field f[F_COUNT];
    for (int i = 0; i < F_COUNT; i++) { f[i].n = 0; f[i].seen = false; }
    int last = -1;                  /* kept field the previous line belonged to */
    bool cl_set = false, te = false, chunked = false, bad = false;
    uint64_t cl = 0;
    while (next_line(&c, &line, &len)) {
        if (len == 0) break;
        if (is_ows(line[0])) {      /* obs-fold: continuation of the previous field */
            const uint8_t *v = line;
            size_t vn = len;
            trim(&v, &vn);
            if (last >= 0) field_append(&f[last], v, vn, true);
            continue;
        }
        last = -1;
        const uint8_t *colon = memchr(line, ':', len);
        if (!colon) continue;       /* not a field line: ignored */
        const uint8_t *name = line;
        size_t nn = (size_t)(colon - line);
        while (nn && is_ows(name[nn - 1])) nn--;
        const uint8_t *v = colon + 1;
        size_t vn = (size_t)(line + len - v);
        trim(&v, &vn);
        if (name_is(name, nn, "content-length")) {
            if (!parse_content_length(v, vn, &cl_set, &cl)) bad = true;
            continue;
        }
        if (name_is(name, nn, "transfer-encoding")) {
            te = true;
            chunked = te_chunked(v, vn);
            continue;
        }
        for (int i = 0; i < F_COUNT; i++) {
            if (!name_is_n(name, nn, field_names[i].name, field_names[i].len)) continue;
            if (!f[i].seen) {
                f[i].seen = true;
                field_append(&f[i], v, vn, false);
                last = i;
            }
            break;
        }
    }
    if (te) {
        if (!chunked) return NI_ERR_FORMAT;          /* §6.3 item 4 */
        *body = NI_HTTP_BODY_CHUNKED;
    } else if (bad) {
        return NI_ERR_FORMAT;                        /* §6.3 item 5 */
    } else if (cl_set && cl > 0) {
        *body = NI_HTTP_BODY_LENGTH;
        *body_len = cl;
    }

    if (s->http_count >= NI_HTTP_REQUESTS_MAX) return NI_ERR_LIMIT;
    bool fail = false;
    ni_arena *a = s->arena;
    char hostbuf[NI_HTTP_FIELD_MAX];
    size_t hl = 0;
    if (f[F_HOST].n) {
        hl = host_clean(f[F_HOST].v, f[F_HOST].n, hostbuf, sizeof hostbuf);
    } else {
        size_t al;
        const char *auth = target_authority((const char *)t, tlen, !strcmp(method, "CONNECT"), &al);
        if (auth) hl = host_clean(auth, al, hostbuf, sizeof hostbuf);
    }
    ni_http_req r;
    memset(&r, 0, sizeof r);
    r.method = method;
    const ni_http_req *pv = s->http_tail;
    r.path = dup_or_null(a, (const char *)t, tlen < NI_HTTP_FIELD_MAX ? tlen : NI_HTTP_FIELD_MAX,
                         pv ? pv->path : NULL, &fail);
    r.host = dup_or_null(a, hostbuf, hl, pv ? pv->host : NULL, &fail);
    r.user_agent = dup_or_null(a, f[F_UA].v, f[F_UA].n, pv ? pv->user_agent : NULL, &fail);
    r.ch_ua = dup_or_null(a, f[F_CH_UA].v, f[F_CH_UA].n, pv ? pv->ch_ua : NULL, &fail);
    r.ch_ua_platform = dup_or_null(a, f[F_CH_PLATFORM].v, f[F_CH_PLATFORM].n,
                                   pv ? pv->ch_ua_platform : NULL, &fail);
    r.ch_ua_platform_version = dup_or_null(a, f[F_CH_PLATFORM_VERSION].v, f[F_CH_PLATFORM_VERSION].n,
                                           pv ? pv->ch_ua_platform_version : NULL, &fail);
    r.ch_ua_model = dup_or_null(a, f[F_CH_MODEL].v, f[F_CH_MODEL].n, pv ? pv->ch_ua_model : NULL, &fail);
    ni_http_req *req = fail ? NULL : ni_arena_alloc(a, sizeof *req);
    if (!req) return NI_ERR_LIMIT;
    *req = r;
    if (s->http_tail) s->http_tail->next = req;
    else s->http = req;
    s->http_tail = req;
    s->http_count++;
    return NI_OK;
}

/* ---- the client→server stream ------------------------------------------ */

static unsigned ch_state(const ni_app_state *st) { return st->http_chunk & CH_MASK; }
static void ch_set(ni_app_state *st, unsigned v) { st->http_chunk = (uint8_t)(v & CH_MASK); }

/* Chunk-size line (§7.1): 1*HEXDIG [ chunk-ext ] CRLF.  Returns 1 and the
 * size, 0 when the line is incomplete, -1 when malformed. */
static int chunk_size(ni_cursor *c, uint64_t *size)
{
    const uint8_t *line;
    size_t len;
    ni_cursor probe = *c;
    if (!next_line(&probe, &line, &len)) return ni_cur_left(c) > CHUNK_LINE_MAX ? -1 : 0;
    if (len > CHUNK_LINE_MAX) return -1;
    uint64_t x = 0;
    size_t i = 0;
    for (; i < len; i++) {
        uint8_t b = line[i];
        unsigned d;
        if (b >= '0' && b <= '9') d = b - '0';
        else if (b >= 'a' && b <= 'f') d = b - 'a' + 10;
        else if (b >= 'A' && b <= 'F') d = b - 'A' + 10;
        else break;
        if (x >> 60) return -1;
        x = x * 16 + d;
    }
    if (i == 0) return -1;
    while (i < len && is_ows(line[i])) i++;
    if (i < len && line[i] != ';') return -1;
    *c = probe;
    *size = x;
    return 1;
}

static void give_up(ni_app_state *st, ni_http_counts *cnt, bool error)
{
    st->done[0] = 1;
    if (error) cnt->errors++;
}

size_t ni_http_stream(ni_app_state *st, ni_session *s, const uint8_t *p, size_t n,
                      ni_http_counts *cnt)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    while (!st->done[0] && ni_cur_left(&c)) {
        if (st->skip[0]) {                           /* body bytes */
            size_t k = ni_cur_left(&c) < st->skip[0] ? ni_cur_left(&c) : st->skip[0];
            ni_cur_skip(&c, k);
            st->skip[0] -= (uint32_t)k;
            continue;
        }
        unsigned state = ch_state(st);
        if (state == CH_SIZE) {
            uint64_t size = 0;          /* set when r > 0 (-O1 cannot see it) */
            int r = chunk_size(&c, &size);
            if (r == 0) break;
            if (r < 0 || size > UINT32_MAX) { give_up(st, cnt, true); break; }
            if (size == 0) ch_set(st, CH_TRAILER);
            else { st->skip[0] = (uint32_t)size; ch_set(st, CH_DATA_END); }
            continue;
        }
        if (state == CH_DATA_END) {                  /* CRLF after chunk-data */
            const uint8_t *q = ni_cur_ptr(&c);
            size_t left = ni_cur_left(&c);
            if (q[0] == '\n') { ni_cur_skip(&c, 1); ch_set(st, CH_SIZE); continue; }
            if (q[0] != '\r') { give_up(st, cnt, true); break; }
            if (left < 2) break;
            if (q[1] != '\n') { give_up(st, cnt, true); break; }
            ni_cur_skip(&c, 2);
            ch_set(st, CH_SIZE);
            continue;
        }
        if (state == CH_TRAILER) {                   /* trailer section, then end */
            const uint8_t *line;
            size_t len;
            if (!next_line(&c, &line, &len)) {
                if (ni_cur_left(&c) > NI_HTTP_HEADER_MAX) give_up(st, cnt, true);
                break;
            }
            if (len == 0) ch_set(st, CH_NONE);
            continue;
        }

        /* a request head; empty lines before it are ignored (§2.2) */
        const uint8_t *q = ni_cur_ptr(&c);
        if (q[0] == '\r' || q[0] == '\n') {
            if (q[0] == '\r' && ni_cur_left(&c) < 2) break;
            ni_cur_skip(&c, q[0] == '\r' && q[1] == '\n' ? 2 : 1);
            continue;
        }
        int pr = ni_http_probe(q, ni_cur_left(&c));
        if (pr < 0) break;
        if (pr == 0) {                               /* not HTTP any more */
            give_up(st, cnt, s->http_count == 0);
            break;
        }
        size_t avail = ni_cur_left(&c);
        size_t head = ni_http_head_len(q, avail < NI_HTTP_HEADER_MAX ? avail : NI_HTTP_HEADER_MAX);
        if (head == 0) {
            if (avail >= NI_HTTP_HEADER_MAX) give_up(st, cnt, true);
            break;
        }
        ni_http_body body;
        uint64_t blen;
        ni_err e = ni_http_parse_request(s, q, head, false, &body, &blen);
        if (e == NI_ERR_FORMAT) { give_up(st, cnt, true); break; }
        ni_cur_skip(&c, head);
        if (e == NI_OK) cnt->requests++;
        if (e == NI_ERR_LIMIT || s->http_count >= NI_HTTP_REQUESTS_MAX) {
            give_up(st, cnt, e == NI_ERR_LIMIT && s->http_count < NI_HTTP_REQUESTS_MAX);
            break;
        }
        if (body == NI_HTTP_BODY_LENGTH) {
            if (blen > UINT32_MAX) { give_up(st, cnt, false); break; }
            st->skip[0] = (uint32_t)blen;
        } else if (body == NI_HTTP_BODY_CHUNKED) {
            ch_set(st, CH_SIZE);
        }
        if (head >= 8 && memcmp(q, "CONNECT ", 8) == 0) {  /* a tunnel follows (RFC 9110 §9.3.6) */
            const char *target = e == NI_OK && s->http_tail ? s->http_tail->path : NULL;
            if (!target || target[0] == '/') {       /* origin-form: a VPN's tunnel (AnyConnect), no proxy */
                give_up(st, cnt, false);
                break;
            }
            if (s->proxy == NI_PROXY_NONE) {
                s->proxy = NI_PROXY_HTTP_CONNECT;
                s->proxy_dest = target;
            }
            st->proxy = NI_PROXY_HTTP_CONNECT;           /* the caller reads what follows afresh */
            st->proxy_srv = 0;
            break;
        }
    }
    return c.off;
}
