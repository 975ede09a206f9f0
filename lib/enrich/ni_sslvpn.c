/* ni_sslvpn.c — corporate SSL-VPN gateway signatures (see ni_sslvpn.h). */
#include "enrich/ni_sslvpn.h"
#include "enrich/ni_tsv.h"
#include "core/ni_kinds.h"
#include "core/ni_str.h"

#include <stdlib.h>
#include <string.h>

enum { ROW_PATH = 1, ROW_NDPI, ROW_TUNNEL };

typedef struct row {
    int type;
    char *method;              /* path rows: required method, or NULL */
    char *match;               /* path prefix, nDPI name */
    size_t mlen;               /* strlen(match) */
    ni_tunnel_proto tunnel;
    char *product;
} row;

struct ni_sslvpn {
    row *rows;
    size_t n, alloc;
    /* the rows of each type, in file order (ni_sslvpn_match tries only the
     * types a session has something for) */
    size_t *of_type[ROW_TUNNEL + 1], n_of_type[ROW_TUNNEL + 1];
};

void ni_sslvpn_free(ni_sslvpn *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].method);
        free(t->rows[i].match);
        free(t->rows[i].product);
    }
    free(t->rows);
    for (int k = 0; k <= ROW_TUNNEL; k++) free(t->of_type[k]);
    free(t);
}

static int valid_url(const char *s)
{
    return (!strncmp(s, "https://", 8) && s[8]) || (!strncmp(s, "http://", 7) && s[7]);
}

/* A method is 1..16 upper-case letters. */
static int valid_method(const char *m, size_t n)
{
    if (n == 0 || n > 16) return 0;
    for (size_t i = 0; i < n; i++) if (m[i] < 'A' || m[i] > 'Z') return 0;
    return 1;
}

static ni_err add_row(ni_sslvpn *t, ni_tsv *ts, const char *type, const char *match, const char *product,
                      ni_error *err)
{
    row r = { 0 };
    if (!strcmp(type, "path")) {
        const char *sp = strchr(match, ' ');
        const char *p = match;
        if (sp) {
            if (!valid_method(match, (size_t)(sp - match)))
                return ni_tsv_error(ts, err, "bad method in '%s' (want 'METHOD /path' or '/path')", match);
            if (!(r.method = strndup(match, (size_t)(sp - match)))) goto nomem;
            p = sp + 1;
        }
        if (p[0] != '/' || strchr(p, ' ')) {
            free(r.method);
            return ni_tsv_error(ts, err, "path '%s' does not start with '/' (or has a space)", match);
        }
        r.type = ROW_PATH;
        if (!(r.match = strdup(p))) goto nomem;
    } else if (!strcmp(type, "ndpi")) {
        if (!*match) return ni_tsv_error(ts, err, "empty nDPI name");
        r.type = ROW_NDPI;
        if (!(r.match = strdup(match))) goto nomem;
    } else if (!strcmp(type, "tunnel")) {
        r.type = ROW_TUNNEL;
        if (!(r.tunnel = ni_tunnel_proto_parse(match)))
            return ni_tsv_error(ts, err, "unknown tunnel protocol '%s'", match);
    } else {
        return ni_tsv_error(ts, err, "type '%s' is not path, ndpi or tunnel", type);
    }
    if (!(r.product = strdup(product))) goto nomem;
    r.mlen = r.match ? strlen(r.match) : 0;
    if (t->n == t->alloc) {
        size_t na = t->alloc ? t->alloc * 2 : 32;
        row *nr = realloc(t->rows, na * sizeof *nr);
        if (!nr) goto nomem;
        t->rows = nr;
        t->alloc = na;
    }
    t->rows[t->n++] = r;
    return NI_OK;
nomem:
    free(r.method); free(r.match); free(r.product);
    return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", ts->path);
}

ni_sslvpn *ni_sslvpn_load(const char *path, ni_error *err)
{
    ni_sslvpn *t = calloc(1, sizeof *t);
    if (!t) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    ni_tsv ts;
    if (ni_tsv_open(&ts, path, err)) { free(t); return NULL; }
    int c_type = ni_tsv_need(&ts, "type", err), c_match = ni_tsv_need(&ts, "match", err);
    int c_prod = ni_tsv_need(&ts, "product", err), c_src = ni_tsv_need(&ts, "source", err);
    ni_err r = (c_type < 0 || c_match < 0 || c_prod < 0 || c_src < 0) ? NI_ERR_DATA : NI_OK;
    int k = 0;
    while (r == NI_OK && (k = ni_tsv_next(&ts, err)) > 0) {
        const char *prod = ni_tsv_field(&ts, c_prod), *src = ni_tsv_field(&ts, c_src);
        if (!*prod) { r = ni_tsv_error(&ts, err, "empty product"); break; }
        if (!valid_url(src)) { r = ni_tsv_error(&ts, err, "source '%s' is not an http(s) URL", src); break; }
        r = add_row(t, &ts, ni_tsv_field(&ts, c_type), ni_tsv_field(&ts, c_match), prod, err);
    }
    if (r == NI_OK && k < 0) r = NI_ERR_DATA;
    for (int ty = ROW_PATH; r == NI_OK && ty <= ROW_TUNNEL; ty++) {
        if (!(t->of_type[ty] = malloc((t->n ? t->n : 1) * sizeof *t->of_type[ty]))) {
            r = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        for (size_t i = 0; i < t->n; i++)
            if (t->rows[i].type == ty) t->of_type[ty][t->n_of_type[ty]++] = i;
    }
    ni_tsv_close(&ts);
    if (r) { ni_sslvpn_free(t); return NULL; }
    return t;
}

/* nDPI's "Master.App" (dot: its first '.', or NULL): the whole name, the
 * app or the master equals name (n bytes). */
static int ndpi_names(const char *label, const char *dot, const char *name, size_t n)
{
    if (!strcmp(label, name)) return 1;
    if (!dot) return 0;
    return !strcmp(dot + 1, name) || ((size_t)(dot - label) == n && !strncmp(label, name, n));
}

/* Does row r match s?  (dot: the first '.' of s->ndpi_protocol) */
static bool row_matches(const row *r, const ni_session *s, const char *dot)
{
    switch (r->type) {
    case ROW_PATH:
        for (const ni_http_req *q = s->http; q; q = q->next) {
            /* paths start with '/' as rows do: the second byte first */
            if (!q->path || (r->mlen > 1 && q->path[0] && q->path[1] != r->match[1]) ||
                strncmp(q->path, r->match, r->mlen)) continue;
            if (r->method && (!q->method || strcmp(q->method, r->method))) continue;
            return true;
        }
        return false;
    case ROW_NDPI:
        return s->ndpi_protocol && ndpi_names(s->ndpi_protocol, dot, r->match, r->mlen);
    case ROW_TUNNEL:
        return s->tunnel == r->tunnel || (!s->tunnel && s->vpn_protocol == r->tunnel);
    }
    return false;
}

/* The first row in file order that matches: the first of each type the
 * session has something for (requests, an nDPI name, a tunnel protocol),
 * the earliest of those. */
const char *ni_sslvpn_match(const ni_sslvpn *t, const ni_session *s)
{
    if (!t || !s) return NULL;
    const char *dot = s->ndpi_protocol ? strchr(s->ndpi_protocol, '.') : NULL;
    const bool has[ROW_TUNNEL + 1] = { [ROW_PATH] = s->http != NULL, [ROW_NDPI] = s->ndpi_protocol != NULL,
                                       [ROW_TUNNEL] = s->tunnel || s->vpn_protocol };
    size_t best = t->n;
    for (int ty = ROW_PATH; ty <= ROW_TUNNEL; ty++) {
        if (!has[ty]) continue;
        for (size_t k = 0; k < t->n_of_type[ty] && t->of_type[ty][k] < best; k++)
            if (row_matches(&t->rows[t->of_type[ty][k]], s, dot)) { best = t->of_type[ty][k]; break; }
    }
    return best < t->n ? t->rows[best].product : NULL;
}

size_t ni_sslvpn_rows(const ni_sslvpn *t) { return t ? t->n : 0; }
