/* ni_chsrc.c — sessions kept in ClickHouse, read back (see ni_chsrc.h):
 * the URL, requests to ClickHouse's HTTP interface
 * (https://clickhouse.com/docs/en/interfaces/http, as 18.16 serves it),
 * the WHERE of the pushdown, and the parser of the TabSeparatedWithNamesAndTypes
 * answer (https://clickhouse.com/docs/en/interfaces/formats#tabseparated). */
#include "ingest/ni_chsrc.h"
#include "ingest/ni_stored.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"
#include "ingest/ni_curl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the URL ---------------------------------------------------------------- */
bool ni_ch_is_url(const char *s) { return s && !strncmp(s, "clickhouse://", 13); }

static bool ident(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static bool copy(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap) return false;
    memcpy(dst, p, n);
    dst[n] = 0;
    return true;
}

static bool number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

ni_err ni_ch_url_parse(const char *s, ni_ch_url *u, ni_error *err)
{
    memset(u, 0, sizeof *u);
    const char *bad = NULL;
    char optbuf[2048];
    if (!ni_ch_is_url(s)) return ni_error_set(err, NI_ERR_ARG, "%s: not a clickhouse:// URL", s);
    const char *p = s + 13, *slash = strchr(p, '/'), *q = strchr(p, '?');
    if (!slash || (q && q < slash)) return ni_error_set(err, NI_ERR_ARG, "%s: expected clickhouse://HOST:PORT/DB?table=T", s);
    const char *at = memchr(p, '@', (size_t)(slash - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!copy(u->user, sizeof u->user, p, (size_t)((colon ? colon : at) - p)) ||
            (colon && !copy(u->password, sizeof u->password, colon + 1, (size_t)(at - colon - 1))))
            return ni_error_set(err, NI_ERR_ARG, "%s: user or password too long", s);
        p = at + 1;
    }
    const char *hend = slash, *colon = NULL;
    if (*p == '[') {                                    /* [IPv6]:port */
        const char *rb = memchr(p, ']', (size_t)(slash - p));
        if (!rb) return ni_error_set(err, NI_ERR_ARG, "%s: unterminated [address]", s);
        if (!copy(u->host, sizeof u->host, p + 1, (size_t)(rb - p - 1))) bad = "host too long";
        colon = rb + 1 < slash && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(slash - p));
        if (colon) hend = colon;
        if (!copy(u->host, sizeof u->host, p, (size_t)(hend - p))) bad = "host too long";
    }
    if (!bad && !u->host[0]) bad = "no host";
    u->port = NI_CH_DEFAULT_PORT;
    if (!bad && colon) {
        double v;
        char pb[16];
        if (!copy(pb, sizeof pb, colon + 1, (size_t)(slash - colon - 1)) || !number(pb, 1, 65535, &v) || v != (unsigned)v)
            bad = "the port is not a number from 1 to 65535";
        else u->port = (unsigned)v;
    }
    const char *dbend = q ? q : slash + strlen(slash);
    if (!bad && !copy(u->db, sizeof u->db, slash + 1, (size_t)(dbend - slash - 1))) bad = "database name too long";
    if (!bad && !u->db[0]) snprintf(u->db, sizeof u->db, "netintel");
    if (!bad && !ident(u->db)) bad = "the database is not a name (letters, digits, _)";
    snprintf(u->table, sizeof u->table, "sessions");
    if (!bad && q) {
        if (!copy(optbuf, sizeof optbuf, q + 1, strlen(q + 1))) bad = "options too long";
        for (char *save = NULL, *kv = bad ? NULL : strtok_r(optbuf, "&", &save); kv && !bad;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) { bad = "an option without '=' (expected table=, spool=, wait=, rows=, bytes=)"; break; }
            *eq = 0;
            const char *v = eq + 1;
            double d;
            if (!strcmp(kv, "table")) {
                if (!copy(u->table, sizeof u->table, v, strlen(v)) || !ident(u->table))
                    bad = "table=: not a name (letters, digits, _)";
            } else if (!strcmp(kv, "spool")) {
                if (!copy(u->spool, sizeof u->spool, v, strlen(v)) || !*v) bad = "spool=: expected a path";
            } else if (!strcmp(kv, "wait")) {
                if (!number(v, 0, 86400 * 30, &d)) bad = "wait=: expected seconds (0 to 2592000)";
                else u->wait_s = d > 0 ? d : -1;        /* -1: give up at once */
            } else if (!strcmp(kv, "rows")) {
                if (!number(v, 1, 1000000, &d) || d != (size_t)d) bad = "rows=: expected 1 to 1000000";
                else u->rows = (size_t)d;
            } else if (!strcmp(kv, "bytes")) {
                if (!number(v, 4096, 1 << 30, &d) || d != (size_t)d) bad = "bytes=: expected 4096 to 1073741824";
                else u->bytes = (size_t)d;
            } else bad = "unknown option (expected table=, spool=, wait=, rows=, bytes=)";
        }
    }
    /* the name in messages: the URL without the password */
    if (u->password[0]) {
        const char *pc = strchr(s + 13, ':');
        snprintf(u->name, sizeof u->name, "%.*s:***%s", (int)(pc - s), s, strchr(s + 13, '@'));
    } else snprintf(u->name, sizeof u->name, "%s", s);
    if (bad) return ni_error_set(err, NI_ERR_ARG, "%s: %s", u->name, bad);
    return NI_OK;
}

/* ---- requests ----------------------------------------------------------------- */
struct ni_ch_conn {
    ni_curl api;                /* libcurl, loaded for the connection (ingest/ni_curl.h) */
    CURL *c;
    const ni_ch_url *u;
    char base[400];
    ni_buf *resp;
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    ni_buf *b = ud;
    ni_buf_add(b, p, size * n);       /* past the cap: the rest is dropped (b->err) */
    return size * n;
}

ni_ch_conn *ni_ch_conn_new(const ni_ch_url *u, ni_error *err)
{
    /* curl_easy_init does curl_global_init when it was not done (libcurl >= 7.84: thread-safe) */
    ni_ch_conn *c = calloc(1, sizeof *c);
    if (!c) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", u->name); return NULL; }
    if (ni_curl_open(&c->api, u->name, err)) { free(c); return NULL; }
    if (!(c->c = c->api.easy_init())) {
        ni_curl_close(&c->api);
        free(c);
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", u->name);
        return NULL;
    }
    c->u = u;
    snprintf(c->base, sizeof c->base, strchr(u->host, ':') ? "http://[%s]:%u/" : "http://%s:%u/", u->host, u->port);
    return c;
}

void ni_ch_conn_free(ni_ch_conn *c)
{
    if (!c) return;
    c->api.easy_cleanup(c->c);
    ni_curl_close(&c->api);
    free(c);
}

void ni_ch_urlescape(ni_buf *b, const char *s)
{
    /* as curl_easy_escape: RFC 3986's unreserved characters as they are,
     * every other byte %XX (upper-case hex) */
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '.' || ch == '_' || ch == '~') {
            ni_buf_addc(b, (char)ch);
        } else {
            char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
            ni_buf_add(b, e, 3);
        }
    }
}

/* The part of an answer worth a message: its first line, trimmed. */
static void first_line(const char *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    while (k < n && p[k] != '\n' && k + 1 < cap) { out[k] = p[k] == '\r' ? ' ' : p[k]; k++; }
    out[k] = 0;
}

/* ClickHouse's error codes a retry may get past (overload, a replica or
 * shard away, a timeout, a query with this id still running). */
static bool transient_code(int code)
{
    static const int codes[] = { 159, 164, 202, 203, 209, 210, 216, 241, 252, 279, 285, 319 };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == code) return true;
    return false;
}

static void common_opts(ni_ch_conn *c, const char *url)
{
    CURL *h = c->c;
    c->api.easy_reset(h);
    c->api.easy_setopt(h, CURLOPT_URL, url);
    c->api.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->api.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    c->api.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    c->api.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
    if (c->u->user[0]) {
        c->api.easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        c->api.easy_setopt(h, CURLOPT_USERNAME, c->u->user);
        c->api.easy_setopt(h, CURLOPT_PASSWORD, c->u->password);
    }
}

ni_err ni_ch_request(ni_ch_conn *c, const char *params, const char *sql, const char *data, size_t n,
                     ni_buf *resp, bool *transient, ni_error *err)
{
    *transient = false;
    ni_buf url, body;
    ni_buf_init(&url, 1u << 16);
    ni_buf_init(&body, (1u << 30) + (1u << 20));
    ni_buf_adds(&url, c->base);
    if (params) { ni_buf_addc(&url, '?'); ni_buf_adds(&url, params); }
    ni_buf_adds(&body, sql);
    if (data) { ni_buf_addc(&body, '\n'); ni_buf_add(&body, data, n); }
    ni_err r = NI_OK;
    if (url.err || body.err) {
        r = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", c->u->name);
        goto done;
    }
    ni_buf_clear(resp);
    common_opts(c, ni_buf_str(&url));
    c->api.easy_setopt(c->c, CURLOPT_POST, 1L);
    c->api.easy_setopt(c->c, CURLOPT_POSTFIELDS, body.p);
    c->api.easy_setopt(c->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    c->api.easy_setopt(c->c, CURLOPT_WRITEFUNCTION, collect);
    c->api.easy_setopt(c->c, CURLOPT_WRITEDATA, resp);
    CURLcode cc = c->api.easy_perform(c->c);
    long status = 0;
    c->api.easy_getinfo(c->c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        *transient = cc != CURLE_OUT_OF_MEMORY && cc != CURLE_URL_MALFORMAT && cc != CURLE_UNSUPPORTED_PROTOCOL;
        r = ni_error_set(err, NI_ERR_IO, "%s: %s", c->u->name, c->api.easy_strerror(cc));
    } else if (status != 200) {
        char line[400];
        first_line(resp->p ? resp->p : "", resp->len, line, sizeof line);
        int code = 0;
        sscanf(line, "Code: %d", &code);
        *transient = status == 502 || status == 503 || status == 504 || transient_code(code);
        r = ni_error_set(err, NI_ERR_IO, "%s: HTTP %ld: %s", c->u->name, status, line[0] ? line : "(no message)");
    }
done:
    ni_buf_release(&url);
    ni_buf_release(&body);
    return r;
}

/* ---- addresses and the WHERE ---------------------------------------------------- */
void ni_ch_addr16(const ni_addr *a, uint8_t out[16])
{
    memset(out, 0, 16);
    if (a->family == 4) { out[10] = out[11] = 0xff; memcpy(out + 12, a->b, 4); }
    else if (a->family == 6) memcpy(out, a->b, 16);
}

static void hex16(ni_buf *b, const uint8_t v[16])
{
    ni_buf_adds(b, "unhex('");
    for (int i = 0; i < 16; i++) ni_buf_printf(b, "%02X", v[i]);
    ni_buf_adds(b, "')");
}

void ni_ch_where(ni_buf *b, const ni_ch_pushdown *p)
{
    bool any = false;
    if (p && p->n_ranges && p->n_ranges <= NI_CH_MAX_RANGES) {
        ni_buf_adds(b, "(");
        for (int side = 0; side < 2; side++)
            for (size_t i = 0; i < p->n_ranges; i++) {
                const char *col = side ? "server_ip" : "client_ip";
                ni_buf_printf(b, "%s(%s >= ", side || i ? " OR " : "", col);
                hex16(b, p->ranges[i].lo);
                ni_buf_printf(b, " AND %s <= ", col);
                hex16(b, p->ranges[i].hi);
                ni_buf_adds(b, ")");
            }
        ni_buf_adds(b, ")");
        any = true;
    }
    /* the profile's window: [since, until) by last >= since, first < until;
     * first (the sort key, in seconds) lets the server skip parts */
    if (p && p->since_us) {
        ni_buf_printf(b, "%slast_us >= %lld", any ? " AND " : "", (long long)p->since_us);
        any = true;
    }
    if (p && p->until_us) {
        long long s = (long long)(p->until_us / 1000000) + 1;
        ni_buf_printf(b, "%sfirst < toDateTime(%lld) AND first_us < %lld", any ? " AND " : "", s,
                      (long long)p->until_us);
        any = true;
    }
    if (!any) ni_buf_adds(b, "1");
}

/* ---- the row stream parser -------------------------------------------------------- */
enum { C_STRING = 1, C_JSON, C_UINT, C_FLAG, C_TIME, C_SKIP };

/* Fields kept as JSON text (docs/store.md: type JSON in the SQLite table). */
static bool json_field(const char *name)
{
    static const char *const names[] = { "tcp_flags", "http", "alpn", "dns_answers", "dns", "cert_names" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i], name)) return true;
    return false;
}

#define CH_MAX_COLUMNS 256

struct ni_ch_rows {
    ni_buf line;                /* the line being assembled */
    int stage;                  /* 0: names, 1: types, 2: rows */
    size_t ncol;
    char *names[CH_MAX_COLUMNS];
    int kind[CH_MAX_COLUMNS];
    uint64_t rows;
    ni_buf val;                 /* one unescaped value */
};

ni_ch_rows *ni_ch_rows_new(void)
{
    ni_ch_rows *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    ni_buf_init(&r->line, NI_SESSION_RECORD_MAX);
    ni_buf_init(&r->val, NI_SESSION_RECORD_MAX);
    return r;
}

void ni_ch_rows_free(ni_ch_rows *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->ncol; i++) free(r->names[i]);
    ni_buf_release(&r->line);
    ni_buf_release(&r->val);
    free(r);
}

uint64_t ni_ch_rows_count(const ni_ch_rows *r) { return r->rows; }

/* Unescapes [p, p+n) into r->val; false on a bad escape.  *null: "\N". */
static bool unescape(ni_ch_rows *r, const char *p, size_t n, bool *null)
{
    ni_buf_clear(&r->val);
    *null = n == 2 && p[0] == '\\' && p[1] == 'N';
    if (*null) return true;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            if (++i == n) return false;
            switch (p[i]) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = '\0'; break;
            case 'a': c = '\a'; break;
            case 'v': c = '\v'; break;
            case 'N': return false;
            default: c = p[i]; break;     /* \\ \' and any other character */
            }
        }
        ni_buf_addc(&r->val, c);
    }
    if (!r->val.p) ni_buf_adds(&r->val, "");
    return !r->val.err;
}

static int kind_of(const char *name, const char *type)
{
    if (!strcmp(name, "first_us") || !strcmp(name, "last_us")) return !strcmp(type, "UInt64") ? C_TIME : 0;
    if (!strcmp(name, "first") || !strcmp(name, "last") || !strcmp(name, "client_ip") ||
        !strcmp(name, "server_ip") || !strcmp(name, "batch") || !strcmp(name, "batch_row"))
        return C_SKIP;
    if (!strcmp(type, "String") || !strcmp(type, "Nullable(String)")) return json_field(name) ? C_JSON : C_STRING;
    if (!strcmp(type, "UInt64") || !strcmp(type, "Nullable(UInt64)")) return C_UINT;
    if (!strcmp(type, "UInt8")) return C_FLAG;
    return 0;
}

static ni_err header(ni_ch_rows *r, const char *p, size_t n, ni_error *err)
{
    size_t col = 0;
    bool null;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && p[i] != '\t') continue;
        if (col >= CH_MAX_COLUMNS) return ni_error_set(err, NI_ERR_FORMAT, "more than %d columns", CH_MAX_COLUMNS);
        if (!unescape(r, p + start, i - start, &null) || null || strlen(ni_buf_str(&r->val)) != r->val.len)
            return ni_error_set(err, NI_ERR_FORMAT, "header: a bad column %s", r->stage ? "type" : "name");
        if (r->stage == 0) {
            if (!(r->names[col] = strdup(ni_buf_str(&r->val)))) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
            r->ncol = col + 1;
        } else {
            if (col >= r->ncol) return ni_error_set(err, NI_ERR_FORMAT, "header: more types than columns");
            if (!(r->kind[col] = kind_of(r->names[col], ni_buf_str(&r->val))))
                return ni_error_set(err, NI_ERR_FORMAT, "column '%s' has type '%s' (not one netintel writes)",
                                    r->names[col], ni_buf_str(&r->val));
        }
        col++;
        start = i + 1;
    }
    if (r->stage == 1 && col != r->ncol) return ni_error_set(err, NI_ERR_FORMAT, "header: fewer types than columns");
    if (r->stage == 1) {
        static const char *const needed[] = { "first_us", "last_us", "client", "server" };
        for (size_t k = 0; k < 4; k++) {
            size_t i = 0;
            while (i < r->ncol && strcmp(r->names[i], needed[k])) i++;
            if (i == r->ncol) return ni_error_set(err, NI_ERR_FORMAT, "not a netintel table: no column '%s'", needed[k]);
        }
    }
    r->stage++;
    return NI_OK;
}

static bool parse_u64(const char *s, size_t n, json_int_t *out)
{
    if (!n || n > 19) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > (unsigned long long)INT64_MAX) return false;
    *out = (json_int_t)v;
    return true;
}

static ni_err row(ni_ch_rows *r, const char *p, size_t n, ni_buf *out, ni_error *err)
{
    uint64_t at = ++r->rows;
    if (n >= 6 && !memcmp(p, "Code: ", 6))        /* the server's exception, sent after the rows began */
        return ni_error_set(err, NI_ERR_IO, "the server stopped: %.*s", (int)(n > 300 ? 300 : n), p);
    json_t *o = json_object();
    if (!o) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    size_t col = 0;
    const char *bad = NULL;
    bool null;
    for (size_t i = 0, start = 0; i <= n && !bad; i++) {
        if (i < n && p[i] != '\t') continue;
        if (col >= r->ncol) { bad = "more values than columns"; break; }
        const char *name = r->names[col];
        int k = r->kind[col++];
        size_t len = i - start;
        const char *v = p + start;
        start = i + 1;
        if (k == C_SKIP) continue;
        if (!unescape(r, v, len, &null)) { bad = "a bad escape"; break; }
        if (null) continue;
        json_t *j = NULL;
        json_int_t num;
        switch (k) {
        case C_STRING:
            if (!(j = json_stringn(r->val.p, r->val.len))) bad = "not UTF-8 text";
            break;
        case C_JSON:
            j = json_loadb(r->val.p, r->val.len, 0, NULL);
            if (!json_is_array(j) && !json_is_object(j)) { json_decref(j); j = NULL; bad = "not a JSON array or object"; }
            break;
        case C_UINT:
            if (!parse_u64(r->val.p, r->val.len, &num)) bad = "not a number";
            else j = json_integer(num);
            break;
        case C_FLAG:
            if (r->val.len != 1 || (r->val.p[0] != '0' && r->val.p[0] != '1')) bad = "not 0 or 1";
            else if (r->val.p[0] == '1') j = json_true();
            break;
        case C_TIME: {
            char t[NI_TIME_STRLEN];
            if (!parse_u64(r->val.p, r->val.len, &num)) bad = "not a number";
            else j = json_string(ni_time_rfc3339_us((int64_t)num, t));
            name = !strcmp(name, "first_us") ? "first" : "last";
            break;
        }
        }
        if (bad) {
            json_decref(o);
            return ni_error_set(err, NI_ERR_FORMAT, "row %llu: column '%s': %s", (unsigned long long)at, name, bad);
        }
        if (j) json_object_set_new(o, name, j);
    }
    if (!bad && col != r->ncol) bad = "fewer values than columns";
    if (bad) {
        json_decref(o);
        return ni_error_set(err, NI_ERR_FORMAT, "row %llu: %s", (unsigned long long)at, bad);
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    if (strlen(text) >= NI_SESSION_RECORD_MAX) {
        free(text);
        return ni_error_set(err, NI_ERR_FORMAT, "row %llu: longer than %u bytes as a JSON record",
                            (unsigned long long)at, (unsigned)NI_SESSION_RECORD_MAX);
    }
    ni_buf_adds(out, text);
    ni_buf_addc(out, '\n');
    free(text);
    return out->err ? ni_error_set(err, NI_ERR_NOMEM, "out of memory") : NI_OK;
}

static ni_err line_done(ni_ch_rows *r, const char *p, size_t n, ni_buf *out, ni_error *err)
{
    return r->stage < 2 ? header(r, p, n, err) : row(r, p, n, out, err);
}

ni_err ni_ch_rows_feed(ni_ch_rows *r, const char *p, size_t n, ni_buf *out, ni_error *err)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        ni_err e;
        if (nl && !r->line.len) e = line_done(r, p, k, out, err);     /* a whole line: no copy */
        else {
            if (ni_buf_add(&r->line, p, k))
                return ni_error_set(err, NI_ERR_FORMAT, "row %llu: longer than %u bytes",
                                    (unsigned long long)r->rows + 1, (unsigned)NI_SESSION_RECORD_MAX);
            e = nl ? line_done(r, r->line.p, r->line.len, out, err) : NI_OK;
            if (nl) ni_buf_clear(&r->line);
        }
        if (e) return e;
        if (!nl) break;
        p += k + 1;
        n -= k + 1;
    }
    return NI_OK;
}

ni_err ni_ch_rows_end(ni_ch_rows *r, ni_error *err)
{
    if (r->line.len)
        return ni_error_set(err, NI_ERR_TRUNCATED, "row %llu: the answer ends in the middle of a row",
                            (unsigned long long)r->rows + 1);
    if (r->stage < 2) return ni_error_set(err, NI_ERR_FORMAT, "the answer has no header");
    return NI_OK;
}

/* ---- the source --------------------------------------------------------------------- */
#define CH_SLICE (16u << 10)      /* answer bytes parsed at once */
#define CH_EXPANSION 64u          /* JSON bytes a TSV byte can become at most (an empty value, 1 byte with its tab, is "name":"", with names < 60 bytes) */
struct ni_chsrc {
    ni_ch_url u;
    ni_curl api;                /* libcurl for h and multi (ingest/ni_curl.h) */
    ni_ch_conn *conn;
    CURLM *multi;
    CURL *h;
    ni_buf query;               /* the SELECT */
    ni_buf in;                  /* answer bytes not parsed yet (from ioff) */
    size_t ioff;
    ni_buf recs;                /* records not handed to ni_stored yet */
    size_t roff;
    ni_buf errbody;             /* the answer of a failed query */
    ni_ch_rows *rows;
    ni_stored *st;
    bool started, done, paused, failed;
    long status;
    ni_error rerr;
};

static size_t take(char *p, size_t size, size_t n, void *ud)
{
    ni_chsrc *q = ud;
    size_t k = size * n;
    if (!q->status) q->api.easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
    if (q->status != 200) { ni_buf_add(&q->errbody, p, k); return k; }
    if (q->in.len + k > NI_CH_READ_BUFFER && q->in.len) { q->paused = true; return CURL_WRITEFUNC_PAUSE; }
    if (ni_buf_add(&q->in, p, k)) return 0;
    return k;
}

static void src_fail(ni_chsrc *q, ni_err code, const char *fmt, const char *what)
{
    q->failed = true;
    ni_error_set(&q->rerr, code, fmt, q->u.name, what);
}

/* Runs the transfer until bytes are in q->in or it ends. */
static void pump(ni_chsrc *q)
{
    if (!q->started) {
        q->started = true;
        q->api.multi_add_handle(q->multi, q->h);
    }
    if (q->paused) { q->paused = false; q->api.easy_pause(q->h, CURLPAUSE_CONT); }
    while (!q->in.len && !q->done && !q->paused) {
        int running = 0;
        if (q->api.multi_perform(q->multi, &running) != CURLM_OK) { src_fail(q, NI_ERR_IO, "%s: %s", "curl multi failed"); return; }
        CURLMsg *m;
        int left;
        while ((m = q->api.multi_info_read(q->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                q->done = true;
                if (m->data.result != CURLE_OK) src_fail(q, NI_ERR_IO, "%s: %s", q->api.easy_strerror(m->data.result));
                else if (!q->status) q->api.easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
                if (!q->failed && q->status != 200) {
                    char line[400];
                    first_line(ni_buf_str(&q->errbody), q->errbody.len, line, sizeof line);
                    q->failed = true;
                    ni_error_set(&q->rerr, NI_ERR_FORMAT, "%s: HTTP %ld: %s", q->u.name, q->status, line);
                }
            }
        if (!running) q->done = true;
        if (!q->in.len && !q->done && !q->paused) q->api.multi_wait(q->multi, NULL, 0, 1000, NULL);
    }
}

static ssize_t rows_read(void *cookie, char *buf, size_t size)
{
    ni_chsrc *q = cookie;
    while (q->roff == q->recs.len) {
        ni_buf_clear(&q->recs);
        q->roff = 0;
        if (q->failed) return -1;
        if (q->ioff < q->in.len) {
            /* a slice at a time: its records (at most CH_EXPANSION times its
             * bytes, plus one record) fit in recs whatever the rows hold */
            size_t n = q->in.len - q->ioff < CH_SLICE ? q->in.len - q->ioff : CH_SLICE;
            ni_error e = { 0 };
            if (ni_ch_rows_feed(q->rows, q->in.p + q->ioff, n, &q->recs, &e)) {
                q->failed = true;
                ni_error_set(&q->rerr, e.code, "%s: %s", q->u.name, e.msg);
                return -1;
            }
            q->ioff += n;
            if (q->ioff == q->in.len) { ni_buf_clear(&q->in); q->ioff = 0; }
            continue;
        }
        if (q->done) {
            ni_error e = { 0 };
            if (ni_ch_rows_end(q->rows, &e)) {
                q->failed = true;
                ni_error_set(&q->rerr, e.code, "%s: %s", q->u.name, e.msg);
                return -1;
            }
            return 0;
        }
        pump(q);
    }
    size_t k = q->recs.len - q->roff;
    if (k > size) k = size;
    memcpy(buf, q->recs.p + q->roff, k);
    q->roff += k;
    return (ssize_t)k;
}

/* The table's columns (DESCRIBE), the SELECT of those netintel reads. */
static ni_err build_select(ni_chsrc *q, const ni_ch_pushdown *p, ni_error *err)
{
    ni_buf resp, sql;
    ni_buf_init(&resp, 1u << 20);
    ni_buf_init(&sql, 1u << 18);
    bool transient;
    ni_buf_printf(&sql, "DESCRIBE TABLE %s.%s FORMAT TabSeparated", q->u.db, q->u.table);
    ni_err r = ni_ch_request(q->conn, NULL, ni_buf_str(&sql), NULL, 0, &resp, &transient, err);
    ni_buf_clear(&sql);
    if (!r) {
        /* first_us first: a line the server's exception starts ("Code: ") is then never a row */
        ni_buf_adds(&sql, "SELECT first_us");
        const char *s = ni_buf_str(&resp);
        while (*s) {
            const char *tab = strchr(s, '\t'), *nl = strchr(s, '\n');
            if (!nl) nl = s + strlen(s);
            if (tab && tab < nl) {
                char name[128];
                if (copy(name, sizeof name, s, (size_t)(tab - s)) && ident(name) && kind_of(name, "String") != C_SKIP &&
                    strcmp(name, "first_us"))
                    ni_buf_printf(&sql, ", `%s`", name);
            }
            s = *nl ? nl + 1 : nl;
        }
        /* the columns the rows and the WHERE need */
        static const char *const needed[] = { "first_us", "last_us", "client", "server", "first", "client_ip", "server_ip" };
        for (size_t i = 0; i < sizeof needed / sizeof needed[0] && !r; i++) {
            char line[64];
            snprintf(line, sizeof line, "\n%s\t", needed[i]);
            ni_buf_clear(&q->in);
            ni_buf_addc(&q->in, '\n');
            ni_buf_add(&q->in, resp.p ? resp.p : "", resp.len);
            if (!strstr(ni_buf_str(&q->in), line))
                r = ni_error_set(err, NI_ERR_FORMAT, "%s: not a netintel table: no column '%s' (see `netintel schema "
                                 "clickhouse`)", q->u.name, needed[i]);
        }
        ni_buf_clear(&q->in);
        ni_buf_printf(&sql, " FROM %s.%s WHERE ", q->u.db, q->u.table);
        ni_ch_where(&sql, p);
        ni_buf_adds(&sql, " FORMAT TabSeparatedWithNamesAndTypes");
        if (r) ;
        else if (sql.err) r = ni_error_set(err, NI_ERR_LIMIT, "%s: the query is too long", q->u.name);
        else {
            ni_buf_release(&q->query);
            q->query = sql;
            ni_buf_init(&sql, 16);
        }
    }
    ni_buf_release(&resp);
    ni_buf_release(&sql);
    return r;
}

ni_chsrc *ni_chsrc_open(const char *url, const ni_ch_pushdown *p, ni_error *err)
{
    ni_chsrc *q = calloc(1, sizeof *q);
    if (!q) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", url); return NULL; }
    ni_buf_init(&q->query, 16);
    ni_buf_init(&q->in, NI_CH_READ_BUFFER + CURL_MAX_WRITE_SIZE);
    ni_buf_init(&q->recs, CH_EXPANSION * CH_SLICE + 2 * (size_t)NI_SESSION_RECORD_MAX);
    ni_buf_init(&q->errbody, 4096);
    if (ni_ch_url_parse(url, &q->u, err)) goto fail;
    if (!(q->conn = ni_ch_conn_new(&q->u, err))) goto fail;
    if (build_select(q, p, err)) goto fail;
    if (ni_curl_open(&q->api, q->u.name, err)) goto fail;
    if (!(q->rows = ni_ch_rows_new()) || !(q->multi = q->api.multi_init()) || !(q->h = q->api.easy_init())) {
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", q->u.name);
        goto fail;
    }
    char base[400];
    snprintf(base, sizeof base, strchr(q->u.host, ':') ? "http://[%s]:%u/" : "http://%s:%u/", q->u.host, q->u.port);
    q->api.easy_setopt(q->h, CURLOPT_URL, base);
    q->api.easy_setopt(q->h, CURLOPT_NOSIGNAL, 1L);
    q->api.easy_setopt(q->h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    q->api.easy_setopt(q->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    q->api.easy_setopt(q->h, CURLOPT_LOW_SPEED_TIME, 300L);
    q->api.easy_setopt(q->h, CURLOPT_POST, 1L);
    q->api.easy_setopt(q->h, CURLOPT_POSTFIELDS, q->query.p);
    q->api.easy_setopt(q->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->query.len);
    q->api.easy_setopt(q->h, CURLOPT_WRITEFUNCTION, take);
    q->api.easy_setopt(q->h, CURLOPT_WRITEDATA, q);
    if (q->u.user[0]) {
        q->api.easy_setopt(q->h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        q->api.easy_setopt(q->h, CURLOPT_USERNAME, q->u.user);
        q->api.easy_setopt(q->h, CURLOPT_PASSWORD, q->u.password);
    }
    static const cookie_io_functions_t io = { rows_read, NULL, NULL, NULL };
    FILE *f = fopencookie(q, "r", io);
    if (!f) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", q->u.name); goto fail; }
    if (!(q->st = ni_stored_open_stream(f, q->u.name, err))) goto fail;
    return q;
fail:
    ni_chsrc_close(q);
    return NULL;
}

int ni_chsrc_next(ni_chsrc *q, ni_session *s, ni_error *err)
{
    int r = ni_stored_next(q->st, s, err);
    if (r < 0 && q->failed && err) *err = q->rerr;
    return r;
}

void ni_chsrc_progress(const ni_chsrc *q, uint64_t *done, uint64_t *total)
{
    *done = q->rows ? ni_ch_rows_count(q->rows) : 0;
    *total = 0;
}

const char *ni_chsrc_name(const ni_chsrc *q) { return q->u.name; }

void ni_chsrc_close(ni_chsrc *q)
{
    if (!q) return;
    ni_stored_close(q->st);
    if (q->multi && q->h && q->started) q->api.multi_remove_handle(q->multi, q->h);
    if (q->h) q->api.easy_cleanup(q->h);
    if (q->multi) q->api.multi_cleanup(q->multi);
    ni_curl_close(&q->api);
    ni_ch_conn_free(q->conn);
    ni_ch_rows_free(q->rows);
    ni_buf_release(&q->query);
    ni_buf_release(&q->in);
    ni_buf_release(&q->recs);
    ni_buf_release(&q->errbody);
    free(q);
}
