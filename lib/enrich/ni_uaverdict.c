/* ni_uaverdict.c — maker, model, form factor, kind, Windows version and
 * reduced-UA verdicts from data tables (see ni_uaverdict.h for the table
 * formats and the condition language).  Windows versions follow Microsoft's
 * "Windows NT x.y" numbering; Windows 11 is told from 10 only by the
 * Sec-CH-UA-Platform-Version hint (major >= 13), as Microsoft documents
 * ("Detect Windows 11 using User-Agent Client Hints"). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "enrich/ni_uaverdict.h"
#include "core/ni_kinds.h"

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ni_limits.h"

enum term_type { T_ANY, T_PREFIX, T_HAS, T_IHAS, T_BROWSER, T_OS, T_DEVICE, T_BRAND, T_MODEL,
                 T_MAKER, T_KIND, T_HINT, T_RE, T_MODELRE };
static const char *const term_names[] = { "any", "prefix", "has", "ihas", "browser", "os", "device",
                                          "brand", "model", "maker", "kind", "hint", "re", "modelre" };

typedef struct term {
    enum term_type type;
    bool neg;
    char *text; size_t len;
    pcre2_code *re;
} term;

typedef struct vrule {
    int field;                 /* F_* */
    char *value;
    term *terms; size_t nterms;
} vrule;

enum { F_MAKER, F_KIND, F_FORM, F_REDUCED };

typedef struct ntver { char *nt; char *name; } ntver;

struct ni_uav {
    vrule *rules; size_t nrules;
    ntver *nt; size_t nnt;
};

/* ---------------------------------------------------------------- loading */

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) { memcpy(p, s, n); p[n] = 0; }
    return p;
}

static void rule_release(vrule *r)
{
    free(r->value);
    for (size_t i = 0; i < r->nterms; i++) { free(r->terms[i].text); pcre2_code_free(r->terms[i].re); }
    free(r->terms);
}

void ni_uav_free(ni_uav *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->nrules; i++) rule_release(&v->rules[i]);
    free(v->rules);
    for (size_t i = 0; i < v->nnt; i++) { free(v->nt[i].nt); free(v->nt[i].name); }
    free(v->nt);
    free(v);
}

/* Splits a TSV line in place into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') { *p = 0; f[n++] = p + 1; }
    return n;
}

static ni_err parse_when(const char *when, vrule *r, const char *file, int lineno, ni_error *err)
{
    const char *p = when;
    while (*p) {
        while (*p == ' ') p++;
        const char *e = strstr(p, " & ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && p[n - 1] == ' ') n--;
        if (!n) return ni_error_set(err, NI_ERR_DATA, "%s:%d: empty condition", file, lineno);
        term t = { 0 };
        const char *q = p; size_t qn = n;
        if (*q == '!') { t.neg = true; q++; qn--; }
        const char *colon = memchr(q, ':', qn);
        size_t tn = colon ? (size_t)(colon - q) : qn;
        int found = -1;
        for (size_t k = 0; k < sizeof term_names / sizeof term_names[0]; k++)
            if (strlen(term_names[k]) == tn && !strncmp(q, term_names[k], tn)) found = (int)k;
        if (found < 0 || (found != T_ANY && !colon))
            return ni_error_set(err, NI_ERR_DATA, "%s:%d: unknown condition '%.*s'", file, lineno, (int)n, p);
        t.type = (enum term_type)found;
        if (colon) {
            t.len = qn - tn - 1;
            if (!(t.text = dupn(colon + 1, t.len))) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", file);
        }
        if (t.type == T_RE || t.type == T_MODELRE) {
            int ec; PCRE2_SIZE eo;
            t.re = pcre2_compile((PCRE2_SPTR)t.text, t.len, 0, &ec, &eo, NULL);
            if (!t.re) { free(t.text); return ni_error_set(err, NI_ERR_DATA, "%s:%d: bad regex at %zu", file, lineno, (size_t)eo); }
            pcre2_jit_compile(t.re, PCRE2_JIT_COMPLETE);
        }
        term *nt = realloc(r->terms, (r->nterms + 1) * sizeof *nt);
        if (!nt) { free(t.text); pcre2_code_free(t.re); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", file); }
        r->terms = nt; r->terms[r->nterms++] = t;
        p += n;
        while (*p == ' ') p++;
        if (*p == '&') p++;
    }
    return NI_OK;
}

/* kind: 0 makers (maker, when, source), 1 agents (field, value, when, source),
 * 2 windows (nt, name, source) */
static ni_err load_file(ni_uav *v, const char *dir, const char *name, int kind, ni_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return ni_error_set(err, errno == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", path, strerror(errno));
    char *line = malloc(NI_LINE_MAX);
    if (!line) { fclose(f); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    int lineno = 0; ni_err rc = NI_OK; bool header = true;
    while (fgets(line, NI_LINE_MAX, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == NI_LINE_MAX - 1 && line[n - 1] != '\n') { rc = ni_error_set(err, NI_ERR_DATA, "%s:%d: line too long", path, lineno); break; }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!n || line[0] == '#') continue;
        if (header) { header = false; continue; }   /* the column names */
        char *c[5];
        int nc = split_tabs(line, c, 5);
        int need = kind == 1 ? 4 : 3;
        if (nc < need) { rc = ni_error_set(err, NI_ERR_DATA, "%s:%d: expected %d tab-separated columns", path, lineno, need); break; }
        if (kind == 2) {
            ntver *nv = realloc(v->nt, (v->nnt + 1) * sizeof *nv);
            if (!nv) { rc = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); break; }
            v->nt = nv;
            v->nt[v->nnt].nt = dupn(c[0], strlen(c[0]));
            v->nt[v->nnt].name = dupn(c[1], strlen(c[1]));
            v->nnt++;
            if (!v->nt[v->nnt - 1].nt || !v->nt[v->nnt - 1].name) { rc = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); break; }
            continue;
        }
        vrule r = { 0 };
        const char *when;
        if (kind == 0) { r.field = F_MAKER; r.value = dupn(c[0], strlen(c[0])); when = c[1]; }
        else {
            if (!strcmp(c[0], "kind")) {
                r.field = F_KIND;
                if (!ni_ua_kind_parse(c[1])) { rc = ni_error_set(err, NI_ERR_DATA, "%s:%d: unknown kind '%s'", path, lineno, c[1]); break; }
            } else if (!strcmp(c[0], "form_factor")) r.field = F_FORM;
            else if (!strcmp(c[0], "reduced")) r.field = F_REDUCED;
            else { rc = ni_error_set(err, NI_ERR_DATA, "%s:%d: unknown field '%s'", path, lineno, c[0]); break; }
            r.value = dupn(c[1], strlen(c[1]));
            when = c[2];
        }
        if (!r.value) { rc = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); break; }
        if ((rc = parse_when(when, &r, path, lineno, err)) != NI_OK) { rule_release(&r); break; }
        vrule *nr = realloc(v->rules, (v->nrules + 1) * sizeof *nr);
        if (!nr) { rule_release(&r); rc = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); break; }
        v->rules = nr; v->rules[v->nrules++] = r;
    }
    if (rc == NI_OK && ferror(f)) rc = ni_error_set(err, NI_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return rc;
}

ni_uav *ni_uav_load(const char *data_dir, ni_error *err)
{
    ni_uav *v = calloc(1, sizeof *v);
    if (!v) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    if (load_file(v, data_dir, "ua-makers.tsv", 0, err) != NI_OK ||
        load_file(v, data_dir, "ua-agents.tsv", 1, err) != NI_OK ||
        load_file(v, data_dir, "ua-windows.tsv", 2, err) != NI_OK) {
        ni_uav_free(v);
        return NULL;
    }
    return v;
}

/* --------------------------------------------------------------- deciding */

typedef struct ctx {
    const char *ua; size_t len;
    const ni_ua_result *r;
    const char *platform; size_t platform_len;   /* hint, unquoted */
    const char *maker, *kind;
    const char *model;                          /* the hint's model, else uap's */
} ctx;

static bool ieq(const char *a, const char *b, size_t bn)
{
    return a && strlen(a) == bn && strncasecmp(a, b, bn) == 0;
}

static bool icontains(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn > hn) return false;
    for (size_t i = 0; i + nn <= hn; i++)
        if (strncasecmp(h + i, n, nn) == 0) return true;
    return false;
}

static bool term_true(const term *t, const ctx *c)
{
    switch (t->type) {
    case T_ANY: return true;
    case T_PREFIX: return c->len >= t->len && memcmp(c->ua, t->text, t->len) == 0;
    case T_HAS: return memmem(c->ua, c->len, t->text, t->len) != NULL;
    case T_IHAS: return icontains(c->ua, c->len, t->text, t->len);
    case T_BROWSER: return ieq(c->r->browser.family, t->text, t->len);
    case T_OS: return ieq(c->r->os.family, t->text, t->len);
    case T_DEVICE: return ieq(c->r->device.family, t->text, t->len);
    case T_BRAND: return ieq(c->r->device.brand, t->text, t->len);
    case T_MODEL: return c->model && strncasecmp(c->model, t->text, t->len) == 0;
    case T_MAKER: return ieq(c->maker, t->text, t->len);
    case T_KIND: return ieq(c->kind, t->text, t->len);
    case T_HINT: return c->platform && c->platform_len == t->len && strncasecmp(c->platform, t->text, t->len) == 0;
    case T_RE:
    case T_MODELRE: {
        const char *s = t->type == T_RE ? c->ua : c->model;
        size_t n = t->type == T_RE ? c->len : s ? strlen(s) : 0;
        if (!s) return false;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->re, NULL);
        if (!md) return false;
        int rc = pcre2_match(t->re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return rc >= 0;
    }
    }
    return false;
}

static const char *first_value(const ni_uav *v, int field, const ctx *c)
{
    for (size_t i = 0; i < v->nrules; i++) {
        const vrule *r = &v->rules[i];
        if (r->field != field) continue;
        bool ok = true;
        for (size_t k = 0; k < r->nterms && ok; k++)
            ok = term_true(&r->terms[k], c) != r->terms[k].neg;
        if (ok) return r->value;
    }
    return NULL;
}

/* A hint value without surrounding quotes/space: sets *n. */
static const char *unquote(const char *s, size_t *n)
{
    if (!s) { *n = 0; return NULL; }
    size_t l = strlen(s);
    while (l && (*s == ' ' || *s == '"')) { s++; l--; }
    while (l && (s[l - 1] == ' ' || s[l - 1] == '"')) l--;
    *n = l;
    return l ? s : NULL;
}

/* uap-core brands that name no maker (Generic_Android* still carry a real
 * model code, Generic/Spider carry placeholders like "Smartphone"). */
static bool generic_brand(const char *b)
{
    return !b || !strncasecmp(b, "Generic", 7) || !strcasecmp(b, "Spider");
}
static bool placeholder_model(const char *b)
{
    return !b || !strcasecmp(b, "Generic") || !strcasecmp(b, "Spider") || !strcasecmp(b, "Generic_Inettv");
}

/* The "x.y" after "Windows NT " in the UA, as a table name; NULL if none. */
static const char *windows_name(const ni_uav *v, const ctx *c, bool *is_ten)
{
    static const char tok[] = "Windows NT ";
    const char *p = memmem(c->ua, c->len, tok, sizeof tok - 1);
    *is_ten = false;
    if (!p) return NULL;
    p += sizeof tok - 1;
    size_t left = c->len - (size_t)(p - c->ua), n = 0;
    while (n < left && n < 8 && ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')) n++;
    for (size_t i = 0; i < v->nnt; i++)
        if (strlen(v->nt[i].nt) == n && !memcmp(v->nt[i].nt, p, n)) {
            *is_ten = n == 4 && !memcmp(p, "10.0", 4);
            return v->nt[i].name;
        }
    return NULL;
}

void ni_uav_decide(const ni_uav *v, const char *ua, size_t len, const ni_ua_result *r,
                   const ni_uav_hints *h, ni_uav_verdict *out)
{
    if (!ua) { ua = ""; len = 0; }
    if (len > NI_UA_LEN_MAX) len = NI_UA_LEN_MAX;
    memset(out, 0, sizeof *out);
    out->ua = r;
    ctx c = { .ua = ua, .len = len, .r = r };
    size_t pvn = 0, hmn = 0;
    const char *pv = NULL, *hm = NULL;
    if (h) {
        c.platform = unquote(h->platform, &c.platform_len);
        pv = unquote(h->platform_version, &pvn);
        hm = unquote(h->model, &hmn);
    }

    out->reduced = first_value(v, F_REDUCED, &c) != NULL;
    c.model = r->device.model;
    if (hm && hmn < sizeof out->model_buf) {
        memcpy(out->model_buf, hm, hmn);
        out->model_buf[hmn] = 0;
        c.model = out->model_buf;
    }

    c.maker = first_value(v, F_MAKER, &c);
    if (!c.maker && !generic_brand(r->device.brand)) c.maker = r->device.brand;
    out->maker = c.maker;

    if (c.model == out->model_buf) {
        out->model = out->model_buf;
    } else if (!placeholder_model(r->device.brand) &&
               !(out->reduced && r->device.model && !strcmp(r->device.model, "K"))) {
        out->model = r->device.model;
    }

    c.kind = len ? first_value(v, F_KIND, &c) : NULL;
    out->kind = c.kind ? c.kind : "other";
    c.kind = out->kind;
    const char *ff = first_value(v, F_FORM, &c);
    out->form_factor = ff ? ff : "other";

    /* Windows: a Windows host only (an Xbox says Windows NT 10.0 too) */
    bool ten = false;
    const char *wn = windows_name(v, &c, &ten);
    if (wn && strcmp(out->form_factor, "console") != 0 && strcmp(out->form_factor, "mobile") != 0) {
        out->windows_version = wn;
        if (ten && pv && c.platform && c.platform_len == 7 && !strncasecmp(c.platform, "Windows", 7)) {
            char buf[16]; size_t n = pvn < sizeof buf - 1 ? pvn : sizeof buf - 1;
            memcpy(buf, pv, n); buf[n] = 0;
            char *end; errno = 0;
            long major = strtol(buf, &end, 10);
            if (end != buf && !errno) {
                if (major >= 13) out->windows_version = "11";
                else if (major >= 1) out->windows_version = "10";
            }
        }
    }
}

void ni_uav_parse(const ni_uav *v, ni_ua *p, const char *ua, size_t len,
                  const ni_uav_hints *h, ni_uav_verdict *out)
{
    const ni_ua_result *r = ni_ua_parse(p, ua, len);
    ni_uav_decide(v, ua, len, r, h, out);
}
