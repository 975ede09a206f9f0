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
#include "core/ni_str.h"

enum term_type { T_ANY, T_PREFIX, T_HAS, T_IHAS, T_BROWSER, T_OS, T_DEVICE, T_BRAND, T_MODEL,
                 T_MAKER, T_KIND, T_HINT, T_RE, T_MODELRE, T_DDTYPE, T_SOURCE };
static const char *const term_names[] = { "any", "prefix", "has", "ihas", "browser", "os", "device",
                                          "brand", "model", "maker", "kind", "hint", "re", "modelre",
                                          "ddtype", "source" };

typedef struct term {
    enum term_type type;
    bool neg;
    char *text; size_t len;
    char *lower;               /* ihas: text lower-cased (ASCII) */
    pcre2_code *re;
} term;

typedef struct vrule {
    int field;                 /* F_* */
    char *value;
    term *terms; size_t nterms;
} vrule;

enum { F_MAKER, F_KIND, F_FORM, F_REDUCED, F_OS, F_WINDOWS, F__N };

typedef struct ntver { char *nt; char *name; } ntver;

struct ni_uav {
    vrule *rules; size_t nrules;
    /* the rules of each field in file order: by_field[f][0 .. nfield[f]) index rules */
    uint32_t *by_field[F__N]; size_t nfield[F__N];
    ntver *nt; size_t nnt;
    ni_devdet *dd;             /* node-device-detector's device database */
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
    for (size_t i = 0; i < r->nterms; i++) {
        free(r->terms[i].text);
        free(r->terms[i].lower);
        pcre2_code_free(r->terms[i].re);
    }
    free(r->terms);
}

void ni_uav_free(ni_uav *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->nrules; i++) rule_release(&v->rules[i]);
    free(v->rules);
    for (int f = 0; f < F__N; f++) free(v->by_field[f]);
    for (size_t i = 0; i < v->nnt; i++) { free(v->nt[i].nt); free(v->nt[i].name); }
    free(v->nt);
    ni_devdet_free(v->dd);
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
        if (t.type == T_IHAS) {
            if (!(t.lower = dupn(t.text, t.len))) { free(t.text); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", file); }
            ni_ascii_lower_n(t.lower, t.lower, t.len);
        }
        if (t.type == T_RE || t.type == T_MODELRE) {
            int ec; PCRE2_SIZE eo;
            t.re = pcre2_compile((PCRE2_SPTR)t.text, t.len, 0, &ec, &eo, NULL);
            if (!t.re) { free(t.text); free(t.lower); return ni_error_set(err, NI_ERR_DATA, "%s:%d: bad regex at %zu", file, lineno, (size_t)eo); }
            pcre2_jit_compile(t.re, PCRE2_JIT_COMPLETE);
        }
        term *nt = realloc(r->terms, (r->nterms + 1) * sizeof *nt);
        if (!nt) { free(t.text); free(t.lower); pcre2_code_free(t.re); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", file); }
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
            else if (!strcmp(c[0], "os")) r.field = F_OS;
            else if (!strcmp(c[0], "windows")) r.field = F_WINDOWS;
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
    for (int f = 0; f < F__N; f++) {
        if (!(v->by_field[f] = malloc((v->nrules ? v->nrules : 1) * sizeof *v->by_field[f]))) {
            ni_error_set(err, NI_ERR_NOMEM, "out of memory");
            ni_uav_free(v);
            return NULL;
        }
        for (size_t i = 0; i < v->nrules; i++)
            if (v->rules[i].field == f) v->by_field[f][v->nfield[f]++] = (uint32_t)i;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/ext/node_modules/node-device-detector/regexes", data_dir);
    if (!(v->dd = ni_devdet_load(path, err))) { ni_uav_free(v); return NULL; }
    return v;
}

/* --------------------------------------------------------------- deciding */

/* One thread's scratch (ni_uaverdict.h): match data for the "re" and
 * "modelre" terms and the device database's matcher. */
struct ni_uav_scratch {
    const ni_uav *v;
    pcre2_match_data *md;
    ni_devdet_matcher *dd;
};

ni_uav_scratch *ni_uav_scratch_new(const ni_uav *v, ni_error *err)
{
    ni_uav_scratch *s = calloc(1, sizeof *s);
    if (s) {
        s->v = v;
        s->md = pcre2_match_data_create(32, NULL);
        s->dd = v && v->dd ? ni_devdet_matcher_new(v->dd, err) : NULL;
    }
    if (!s || !s->md || (v && v->dd && !s->dd)) {
        ni_uav_scratch_free(s);
        ni_error_set(err, NI_ERR_NOMEM, "User-Agent verdicts: out of memory");
        return NULL;
    }
    return s;
}

void ni_uav_scratch_free(ni_uav_scratch *s)
{
    if (!s) return;
    pcre2_match_data_free(s->md);
    ni_devdet_matcher_free(s->dd);
    free(s);
}

typedef struct ctx {
    const char *ua; size_t len;
    const char *lower;                          /* ua lower-cased (ASCII), once an ihas term needs it */
    char *lower_buf;                            /* its storage: NI_UA_LEN_MAX bytes */
    pcre2_match_data *md;                       /* for re/modelre terms (NULL: made per match) */
    const ni_ua_result *r;
    const char *platform; size_t platform_len;   /* hint, unquoted */
    const char *maker, *kind;
    const char *model;                          /* the hint's model, else uap's (or device-detector's) */
    const char *brand;                          /* uap's brand, or device-detector's */
    const char *ddtype;                         /* device-detector's type, or NULL */
    const char *source;                         /* "uap-core", "device-detector" or NULL */
} ctx;

static bool ieq(const char *a, const char *b, size_t bn)
{
    return a && strlen(a) == bn && strncasecmp(a, b, bn) == 0;
}

static bool term_true(const term *t, ctx *c)
{
    switch (t->type) {
    case T_ANY: return true;
    case T_PREFIX: return c->len >= t->len && memcmp(c->ua, t->text, t->len) == 0;
    case T_HAS: return memmem(c->ua, c->len, t->text, t->len) != NULL;
    case T_IHAS:
        if (!c->lower) {
            ni_ascii_lower_n(c->lower_buf, c->ua, c->len);
            c->lower = c->lower_buf;
        }
        return t->len <= c->len && (!t->len || memmem(c->lower, c->len, t->lower, t->len) != NULL);
    case T_BROWSER: return ieq(c->r->browser.family, t->text, t->len);
    case T_OS: return ieq(c->r->os.family, t->text, t->len);
    case T_DEVICE: return ieq(c->r->device.family, t->text, t->len);
    case T_BRAND: return ieq(c->brand, t->text, t->len);
    case T_DDTYPE: return ieq(c->ddtype, t->text, t->len);
    case T_SOURCE: return ieq(c->source, t->text, t->len);
    case T_MODEL: return c->model && strncasecmp(c->model, t->text, t->len) == 0;
    case T_MAKER: return ieq(c->maker, t->text, t->len);
    case T_KIND: return ieq(c->kind, t->text, t->len);
    case T_HINT: return c->platform && c->platform_len == t->len && strncasecmp(c->platform, t->text, t->len) == 0;
    case T_RE:
    case T_MODELRE: {
        const char *s = t->type == T_RE ? c->ua : c->model;
        size_t n = t->type == T_RE ? c->len : s ? strlen(s) : 0;
        if (!s) return false;
        pcre2_match_data *md = c->md ? c->md : pcre2_match_data_create_from_pattern(t->re, NULL);
        if (!md) return false;
        int rc = pcre2_match(t->re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
        if (md != c->md) pcre2_match_data_free(md);
        return rc >= 0;
    }
    }
    return false;
}

static const char *first_value(const ni_uav *v, int field, ctx *c)
{
    for (size_t i = 0; i < v->nfield[field]; i++) {
        const vrule *r = &v->rules[v->by_field[field][i]];
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
static const char *windows_name(const ni_uav *v, ctx *c, bool *is_ten)
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

/* The Windows version from Sec-CH-UA-Platform-Version: Microsoft documents
 * major >= 13 as Windows 11, 1..12 as Windows 10, and 0.1/0.2/0.3 as
 * Windows 7/8/8.1 ("Detect Windows 11 using User-Agent Client Hints").
 * NULL when the hint says nothing usable. */
static const char *windows_from_hint(const char *pv, size_t pvn)
{
    char buf[16]; size_t n = pvn < sizeof buf - 1 ? pvn : sizeof buf - 1;
    memcpy(buf, pv, n); buf[n] = 0;
    char *end; errno = 0;
    long major = strtol(buf, &end, 10);
    if (end == buf || errno || major < 0) return NULL;
    if (major >= 13) return "11";
    if (major >= 1) return "10";
    if (*end != '.') return NULL;
    long minor = strtol(end + 1, &end, 10);
    return minor == 1 ? "7" : minor == 2 ? "8" : minor == 3 ? "8.1" : NULL;
}

/* Linux distributions uap-core names as the OS family become Linux, the
 * distribution (and its version) the detail. */
static void os_verdict(const ni_uav *v, ctx *c, ni_uav_verdict *out)
{
    const ni_ua_agent *os = &c->r->os;
    out->os = os->family && strcmp(os->family, "Other") ? os->family : NULL;
    const char *rep = first_value(v, F_OS, c);
    if (!rep || (out->os && !strcmp(rep, out->os))) return;
    out->os_replaced = true;
    if (!strcmp(rep, "Linux") && out->os) {
        snprintf(out->os_detail_buf, sizeof out->os_detail_buf, "%s%s%s%s%s", out->os,
                 os->major ? " " : "", os->major ? os->major : "",
                 os->major && os->minor ? "." : "", os->major && os->minor ? os->minor : "");
        out->os_detail = out->os_detail_buf;
    }
    out->os = rep;
}

void ni_uav_decide(const ni_uav *v, const char *ua, size_t len, const ni_ua_result *r,
                   const ni_uav_hints *h, ni_uav_verdict *out)
{
    ni_uav_decide_in(v, NULL, ua, len, r, h, out);
}

void ni_uav_decide_in(const ni_uav *v, ni_uav_scratch *sc, const char *ua, size_t len, const ni_ua_result *r,
                      const ni_uav_hints *h, ni_uav_verdict *out)
{
    char lower_buf[NI_UA_LEN_MAX];
    if (sc && sc->v != v) sc = NULL;                 /* made for other verdicts: unused */
    if (!ua) { ua = ""; len = 0; }
    if (len > NI_UA_LEN_MAX) len = NI_UA_LEN_MAX;
    memset(out, 0, sizeof *out);
    out->ua = r;
    ctx c = { .ua = ua, .len = len, .r = r, .brand = r->device.brand,
              .lower_buf = lower_buf, .md = sc ? sc->md : NULL };
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
    bool uap_model = c.model == out->model_buf ||
                     (!placeholder_model(r->device.brand) &&
                      !(out->reduced && r->device.model && !strcmp(r->device.model, "K")));

    /* uap-core gives a generic device or none: ask device-detector */
    if (generic_brand(r->device.brand) && !(r->device.brand && !strcasecmp(r->device.brand, "Spider")) && v->dd) {
        char pvb[32] = "";
        if (pv && pvn < sizeof pvb) { memcpy(pvb, pv, pvn); pvb[pvn] = 0; }
        if (ni_devdet_match(v->dd, sc ? sc->dd : NULL, ua, len, c.model == out->model_buf ? out->model_buf : NULL,
                            pvb[0] ? pvb : NULL, true, &out->dd)) {
            c.source = "device-detector";
            c.brand = out->dd.brand[0] ? out->dd.brand : NULL;
            c.ddtype = out->dd.type[0] ? out->dd.type : NULL;
            if (out->dd.model[0]) { c.model = out->dd.model; uap_model = true; }
        }
    }

    c.maker = first_value(v, F_MAKER, &c);
    if (!c.maker && !generic_brand(c.brand)) c.maker = c.brand;
    out->maker = c.maker;
    if (uap_model) out->model = c.model;
    /* a sub-brand normalised to its maker keeps its name on the model:
     * device-detector's POCO "F3" is Xiaomi "POCO F3" */
    if (c.source && out->dd.model[0] && out->model == out->dd.model && out->maker && c.brand &&
        strcasecmp(out->maker, c.brand) != 0 && strncasecmp(out->dd.model, c.brand, strlen(c.brand)) != 0) {
        snprintf(out->dd_model_buf, sizeof out->dd_model_buf, "%s %s", c.brand, out->dd.model);
        out->model = out->dd_model_buf;
    }
    if (!c.source && (out->maker || out->model)) c.source = "uap-core";
    out->device_source = c.source;

    c.kind = len ? first_value(v, F_KIND, &c) : NULL;
    out->kind = c.kind ? c.kind : "other";
    c.kind = out->kind;
    const char *ff = first_value(v, F_FORM, &c);
    out->form_factor = ff ? ff : "other";

    os_verdict(v, &c, out);

    /* Windows: a Windows host only (an Xbox says Windows NT 10.0 too) */
    bool ten = false;
    const char *wn = windows_name(v, &c, &ten);
    if (wn && !out->os_replaced && strcmp(out->form_factor, "console") != 0 &&
        strcmp(out->form_factor, "mobile") != 0) {
        out->windows_version = wn;
        /* reduced User-Agents: "10/11" or "undetermined" (ua-agents.tsv) */
        const char *w = ten ? first_value(v, F_WINDOWS, &c) : NULL;
        if (w) out->windows_version = w;
        if (ten && pv && c.platform && c.platform_len == 7 && !strncasecmp(c.platform, "Windows", 7)) {
            const char *hw = windows_from_hint(pv, pvn);
            if (hw) out->windows_version = hw;
        }
    }
}

void ni_uav_parse(const ni_uav *v, ni_ua *p, const char *ua, size_t len,
                  const ni_uav_hints *h, ni_uav_verdict *out)
{
    ni_uav_parse_in(v, NULL, p, ua, len, h, out);
}

void ni_uav_parse_in(const ni_uav *v, ni_uav_scratch *sc, ni_ua *p, const char *ua, size_t len,
                     const ni_uav_hints *h, ni_uav_verdict *out)
{
    const ni_ua_result *r = ni_ua_parse(p, ua, len);
    ni_uav_decide_in(v, sc, ua, len, r, h, out);
}

const ni_devdet *ni_uav_devdet(const ni_uav *v) { return v ? v->dd : NULL; }
