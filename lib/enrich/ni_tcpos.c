/* ni_tcpos.c — operating systems from SYN fingerprints: p0f.fp's
 * [tcp:request] signatures and data/tcp-os.tsv (see ni_tcpos.h).
 *
 * Follows p0f 3.09b's README ("Signature format", "TCP signatures") for the
 * file: `classes = ...`, section headers `[module:direction]` and `[mtu]`,
 * `label = TYPE:CLASS:NAME:FLAVOR` (TYPE `s` specific or `g` generic, CLASS
 * one of the declared classes or `!` for a userland tool, which is followed
 * by `sys = ...`), `sig = ...`; `;` comments.  Signature fields are read by
 * one parser for p0f.fp, the catalogue and observed fingerprints (whose TTL
 * is written "observed+distance" and whose window may be "mss*N"). */
#include "enrich/ni_tcpos.h"
#include "enrich/ni_tsv.h"
#include "core/ni_limits.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPTS_MAX 24             /* p0f's MAX_TCP_OPT */
#define MAX_DIST 35             /* p0f: farthest distance for a non-fuzzy TTL */
#define CLASSES_MAX 32

enum { W_NORMAL, W_ANY, W_MOD, W_MSS, W_MTU };
enum {
    Q_DF = 1u << 0, Q_NZ_ID = 1u << 1, Q_ZERO_ID = 1u << 2, Q_ECN = 1u << 3, Q_NZ_MBZ = 1u << 4,
    Q_FLOW = 1u << 5
};
static const char *const quirk_names[] = { "df", "id+", "id-", "ecn", "0+", "flow", "seq-", "ack+", "ack-",
                                           "uptr+", "urgf+", "pushf+", "ts1-", "ts2+", "opt+", "exws", "bad" };

typedef struct tsig {
    int ver;                    /* 4, 6, -1 = either */
    int ttl;                    /* p0f.fp: initial TTL; observed: the TTL seen */
    bool bad_ttl;               /* "ttl-": random TTLs up to ttl */
    int olen;
    int mss;                    /* -1 = * */
    int win_type, win;          /* W_*; for observed W_MSS/W_MTU win is the multiple */
    int wscale;                 /* -1 = * */
    uint8_t layout[OPTS_MAX];
    int opt_cnt, eol_pad;
    uint32_t quirks;
    int pclass;                 /* -1 = *, 0, 1 */
} tsig;

typedef struct label {
    char *name, *flavor;        /* flavor may be NULL */
    bool generic, tool;         /* g: / class '!' */
} label;

typedef struct rec {
    tsig s;
    size_t label;
    unsigned line;
    bool tsv;
} rec;

typedef struct famrow { char *key, *family, *stack; } famrow;   /* key: p0f label or UA family */

struct ni_tcpos {
    rec *sigs; size_t nsigs, asigs;
    label *labels; size_t nlabels, alabels;
    famrow *fams; size_t nfams, afams;
    char *classes[CLASSES_MAX]; size_t nclasses;
};

ni_tcpos *ni_tcpos_new(void) { return calloc(1, sizeof(ni_tcpos)); }

void ni_tcpos_free(ni_tcpos *db)
{
    if (!db) return;
    for (size_t i = 0; i < db->nlabels; i++) { free(db->labels[i].name); free(db->labels[i].flavor); }
    for (size_t i = 0; i < db->nfams; i++) { free(db->fams[i].key); free(db->fams[i].family); free(db->fams[i].stack); }
    for (size_t i = 0; i < db->nclasses; i++) free(db->classes[i]);
    free(db->sigs); free(db->labels); free(db->fams);
    free(db);
}

size_t ni_tcpos_count(const ni_tcpos *db) { return db ? db->nsigs : 0; }

static bool grow(void **v, size_t *alloc, size_t n, size_t size)
{
    if (n < *alloc) return true;
    size_t na = *alloc ? *alloc * 2 : 64;
    void *p = realloc(*v, na * size);
    if (!p) return false;
    *v = p; *alloc = na;
    return true;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

/* ---- one signature ------------------------------------------------------- */

/* A decimal number of at most 6 digits at *p; false if none. */
static bool number(const char **p, int *v)
{
    const char *s = *p;
    int x = 0, d = 0;
    while (isdigit((unsigned char)*s) && d < 6) { x = x * 10 + (*s - '0'); s++; d++; }
    if (!d || isdigit((unsigned char)*s)) return false;
    *p = s; *v = x;
    return true;
}

static bool lit(const char **p, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(*p, w, n)) return false;
    *p += n;
    return true;
}

/* Parses "ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass".  observed:
 * a packet's fingerprint (TTL "seen+dist" or "seen+?", no wildcards).
 * Returns NULL or the problem. */
static const char *parse_sig(const char *p, bool observed, tsig *s)
{
    memset(s, 0, sizeof *s);
    if (*p == '4') s->ver = 4;
    else if (*p == '6') s->ver = 6;
    else if (*p == '*' && !observed) s->ver = -1;
    else return "bad IP version";
    p++;
    if (!lit(&p, ":")) return "malformed signature";
    if (!number(&p, &s->ttl) || s->ttl < 1 || s->ttl > 255) return "bad initial TTL";
    if (observed) {
        if (!lit(&p, "+")) return "bad TTL";
        int d;
        if (!lit(&p, "?") && !number(&p, &d)) return "bad TTL distance";
    } else if (*p == '-' && p[1] == ':') {
        s->bad_ttl = true;
        p++;
    } else if (*p == '+') {
        p++;
        int add;
        if (!number(&p, &add) || s->ttl + add > 255) return "bad initial TTL";
        s->ttl += add;
    }
    if (!lit(&p, ":")) return "malformed signature";
    if (!number(&p, &s->olen) || s->olen > 255) return "bad IP option length";
    if (!lit(&p, ":")) return "malformed signature";
    if (!observed && lit(&p, "*")) s->mss = -1;
    else if (!number(&p, &s->mss) || s->mss > 65535) return "bad MSS";
    if (!lit(&p, ":")) return "malformed signature";
    /* window */
    if (!observed && lit(&p, "*")) { s->win_type = W_ANY; }
    else if (!observed && lit(&p, "%")) {
        s->win_type = W_MOD;
        if (!number(&p, &s->win) || s->win < 2 || s->win > 65535) return "bad '%' window";
    } else if (!strncmp(p, "mss*", 4) || !strncmp(p, "mtu*", 4)) {
        s->win_type = p[1] == 's' ? W_MSS : W_MTU;
        p += 4;
        if (!number(&p, &s->win) || s->win < 1 || s->win > (observed ? 65535 : 1000)) return "bad MSS/MTU multiplier";
    } else {
        s->win_type = W_NORMAL;
        if (!number(&p, &s->win) || s->win > 65535) return "bad window size";
    }
    if (!lit(&p, ",")) return "malformed signature";
    if (!observed && lit(&p, "*")) s->wscale = -1;
    else if (!number(&p, &s->wscale) || s->wscale > 255) return "bad window scale";
    if (!lit(&p, ":")) return "malformed signature";
    /* option layout */
    while (*p != ':') {
        if (s->opt_cnt >= OPTS_MAX) return "too many TCP options";
        if (lit(&p, "eol+")) {
            s->layout[s->opt_cnt++] = 0;
            if (!number(&p, &s->eol_pad) || s->eol_pad > 255) return "bad EOL padding";
            if (*p != ':') return "EOL must be the last option";
            break;
        }
        if (lit(&p, "nop")) s->layout[s->opt_cnt++] = 1;
        else if (lit(&p, "mss")) s->layout[s->opt_cnt++] = 2;
        else if (lit(&p, "ws")) s->layout[s->opt_cnt++] = 3;
        else if (lit(&p, "sok")) s->layout[s->opt_cnt++] = 4;
        else if (lit(&p, "sack")) s->layout[s->opt_cnt++] = 5;
        else if (lit(&p, "ts")) s->layout[s->opt_cnt++] = 8;
        else if (lit(&p, "?")) {
            int k;
            if (!number(&p, &k) || k > 255) return "bad '?' option";
            s->layout[s->opt_cnt++] = (uint8_t)k;
        } else return "unknown TCP option";
        if (*p == ':') break;
        if (!lit(&p, ",")) return "malformed TCP options";
    }
    p++;
    /* quirks */
    while (*p != ':') {
        size_t i, n = sizeof quirk_names / sizeof quirk_names[0];
        for (i = 0; i < n; i++) if (lit(&p, quirk_names[i])) break;
        if (i == n) return "unknown quirk";
        uint32_t q = 1u << i;
        if (s->ver == 6 && (q & (Q_DF | Q_NZ_ID | Q_ZERO_ID | Q_NZ_MBZ))) return "quirk not valid for IPv6";
        if (s->ver == 4 && q == Q_FLOW) return "'flow' not valid for IPv4";
        s->quirks |= q;
        if (*p == ':') break;
        if (!lit(&p, ",")) return "malformed quirks";
    }
    p++;
    if (!observed && !strcmp(p, "*")) s->pclass = -1;
    else if (!strcmp(p, "0")) s->pclass = 0;
    else if (!strcmp(p, "+")) s->pclass = 1;
    else return "bad payload class";
    return NULL;
}

/* ---- loading ------------------------------------------------------------- */

static ni_err add_sig(ni_tcpos *db, const tsig *s, size_t lab, unsigned line, bool tsv)
{
    if (db->nsigs >= NI_TCPOS_SIGS_MAX) return NI_ERR_LIMIT;
    if (!grow((void **)&db->sigs, &db->asigs, db->nsigs, sizeof *db->sigs)) return NI_ERR_NOMEM;
    db->sigs[db->nsigs++] = (rec){ *s, lab, line, tsv };
    return NI_OK;
}

static ni_err add_label(ni_tcpos *db, const char *name, size_t nn, const char *flavor, bool generic, bool tool)
{
    if (db->nlabels >= NI_TCPOS_SIGS_MAX) return NI_ERR_LIMIT;
    if (!grow((void **)&db->labels, &db->alabels, db->nlabels, sizeof *db->labels)) return NI_ERR_NOMEM;
    label *l = &db->labels[db->nlabels];
    l->name = dupn(name, nn);
    l->flavor = flavor && *flavor ? dupn(flavor, strlen(flavor)) : NULL;
    l->generic = generic;
    l->tool = tool;
    if (!l->name || (flavor && *flavor && !l->flavor)) { free(l->name); free(l->flavor); return NI_ERR_NOMEM; }
    db->nlabels++;
    return NI_OK;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || (c && strchr(" ./-_!?()", c));
}

/* label = TYPE:CLASS:NAME:FLAVOR */
static const char *parse_label(ni_tcpos *db, const char *v, ni_err *rc)
{
    bool generic;
    if (v[0] == 'g') generic = true;
    else if (v[0] == 's') generic = false;
    else return "bad label type";
    if (v[1] != ':') return "malformed label";
    v += 2;
    const char *e = v;
    while (isalnum((unsigned char)*e) || *e == '!') e++;
    if (e == v || *e != ':') return "malformed label class";
    bool tool = e - v == 1 && *v == '!';
    if (!tool) {
        size_t i;
        for (i = 0; i < db->nclasses; i++)
            if (strlen(db->classes[i]) == (size_t)(e - v) && !strncasecmp(db->classes[i], v, (size_t)(e - v))) break;
        if (i == db->nclasses) return "unknown class";
    }
    v = e + 1;
    e = v;
    while (name_char(*e)) e++;
    if (e == v || *e != ':') return "malformed label name";
    *rc = add_label(db, v, (size_t)(e - v), e + 1, generic, tool);
    return *rc ? "cannot keep the label" : NULL;
}

static const char *parse_classes(ni_tcpos *db, const char *v)
{
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',') v++;
        const char *e = v;
        while (isalnum((unsigned char)*e)) e++;
        if (e == v) { if (!*v) break; return "malformed class entry"; }
        if (*e && *e != ',') return "malformed class entry";
        if (db->nclasses >= CLASSES_MAX) return "too many classes";
        if (!(db->classes[db->nclasses] = dupn(v, (size_t)(e - v)))) return "out of memory";
        db->nclasses++;
        v = e;
    }
    return NULL;
}

enum { S_NONE, S_MTU, S_TCP_REQ, S_TCP_RESP, S_HTTP };

ni_err ni_tcpos_load_p0f_text(ni_tcpos *db, const char *name, const char *text, size_t n, ni_error *err)
{
    int section = S_NONE;
    bool have_label = false, need_sys = false;
    size_t cur_label = 0;
    unsigned line = 0;
    char buf[NI_LINE_MAX];
    size_t pos = 0;
    while (pos < n) {
        line++;
        size_t e = pos;
        while (e < n && text[e] != '\n') e++;
        size_t len = e - pos;
        const char *problem = NULL;
        ni_err rc = NI_ERR_DATA;
        if (len >= sizeof buf) { problem = "line too long"; goto bad; }
        memcpy(buf, text + pos, len);
        buf[len] = 0;
        pos = e + 1;
        if (memchr(buf, 0, len)) { problem = "NUL byte"; goto bad; }
        while (len && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t')) buf[--len] = 0;
        char *l = buf;
        while (*l == ' ' || *l == '\t') l++;
        if (!*l || *l == ';') continue;
        if (*l == '[') {
            if (!strcmp(l, "[mtu]")) section = S_MTU;
            else if (!strcmp(l, "[tcp:request]")) section = S_TCP_REQ;
            else if (!strcmp(l, "[tcp:response]")) section = S_TCP_RESP;
            else if (!strcmp(l, "[http:request]") || !strcmp(l, "[http:response]")) section = S_HTTP;
            else { problem = "unknown section"; goto bad; }
            have_label = need_sys = false;
            continue;
        }
        char *k = l;
        while (isalpha((unsigned char)*l) || *l == '_') l++;
        char *ke = l;
        while (*l == ' ' || *l == '\t') l++;
        if (ke == k || *l != '=') { problem = "expected 'name = value'"; goto bad; }
        l++;
        while (*l == ' ' || *l == '\t') l++;
        *ke = 0;
        if (!strcmp(k, "classes")) {
            if (section != S_NONE) { problem = "misplaced 'classes'"; goto bad; }
            if ((problem = parse_classes(db, l))) goto bad;
        } else if (section == S_TCP_REQ && !strcmp(k, "label")) {
            if ((problem = parse_label(db, l, &rc))) { if (rc == NI_OK) rc = NI_ERR_DATA; goto bad; }
            cur_label = db->nlabels - 1;
            have_label = true;
            need_sys = db->labels[cur_label].tool;
        } else if (section == S_TCP_REQ && !strcmp(k, "sys")) {
            if (!need_sys) { problem = "misplaced 'sys'"; goto bad; }
            need_sys = false;
        } else if (section == S_TCP_REQ && !strcmp(k, "sig")) {
            if (!have_label || need_sys) { problem = "misplaced 'sig'"; goto bad; }
            tsig s;
            if ((problem = parse_sig(l, false, &s))) goto bad;
            if ((rc = add_sig(db, &s, cur_label, line, false))) { problem = "too many signatures"; goto bad; }
        } else if (section == S_NONE || (strcmp(k, "label") && strcmp(k, "sig") && strcmp(k, "sys") &&
                                         strcmp(k, "ua_os"))) {
            problem = "unexpected statement";
            goto bad;
        }
        continue;
    bad:
        ni_error_set(err, rc, "%s:%u: %s", name, line, problem);
        return rc;
    }
    return NI_OK;
}

ni_err ni_tcpos_load_p0f(ni_tcpos *db, const char *path, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ni_error_set(err, NI_ERR_NOTFOUND, "%s: %s", path, strerror(errno));
    char *text = malloc(NI_TCPOS_FILE_MAX + 1);
    if (!text) { fclose(f); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    size_t n = fread(text, 1, NI_TCPOS_FILE_MAX + 1, f);
    bool rerr = ferror(f);
    fclose(f);
    ni_err rc;
    if (rerr) rc = ni_error_set(err, NI_ERR_IO, "%s: read error", path);
    else if (n > NI_TCPOS_FILE_MAX) rc = ni_error_set(err, NI_ERR_LIMIT, "%s: larger than %u bytes", path, NI_TCPOS_FILE_MAX);
    else rc = ni_tcpos_load_p0f_text(db, path, text, n, err);
    free(text);
    return rc;
}

static ni_err add_fam(ni_tcpos *db, const char *key, const char *family, const char *stack)
{
    if (db->nfams >= NI_TCPOS_SIGS_MAX) return NI_ERR_LIMIT;
    if (!grow((void **)&db->fams, &db->afams, db->nfams, sizeof *db->fams)) return NI_ERR_NOMEM;
    famrow *r = &db->fams[db->nfams];
    r->key = strdup(key);
    r->family = strdup(family);
    r->stack = *stack ? strdup(stack) : NULL;
    if (!r->key || !r->family || (*stack && !r->stack)) {
        free(r->key); free(r->family); free(r->stack);
        return NI_ERR_NOMEM;
    }
    db->nfams++;
    return NI_OK;
}

ni_err ni_tcpos_load_tsv(ni_tcpos *db, const char *path, ni_error *err)
{
    ni_tsv t;
    if (ni_tsv_open(&t, path, err)) return NI_ERR_DATA;
    int ck = ni_tsv_need(&t, "kind", err), cm = ck < 0 ? -1 : ni_tsv_need(&t, "match", err);
    int cf = cm < 0 ? -1 : ni_tsv_need(&t, "family", err), cd = cf < 0 ? -1 : ni_tsv_need(&t, "detail", err);
    int cs = cd < 0 ? -1 : ni_tsv_need(&t, "stack", err), csrc = cs < 0 ? -1 : ni_tsv_need(&t, "source", err);
    if (csrc < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int r;
    ni_err rc = NI_OK;
    while ((r = ni_tsv_next(&t, err)) > 0) {
        const char *kind = ni_tsv_field(&t, ck), *match = ni_tsv_field(&t, cm), *fam = ni_tsv_field(&t, cf);
        const char *detail = ni_tsv_field(&t, cd), *stack = ni_tsv_field(&t, cs);
        if (!*ni_tsv_field(&t, csrc)) { rc = ni_tsv_error(&t, err, "no source"); break; }
        if (!*match || !*fam) { rc = ni_tsv_error(&t, err, "match and family are needed"); break; }
        if (!strcmp(kind, "sig")) {
            tsig s;
            const char *problem = parse_sig(match, false, &s);
            if (problem) { rc = ni_tsv_error(&t, err, "%s", problem); break; }
            if (add_label(db, fam, strlen(fam), detail, false, false) ||
                add_sig(db, &s, db->nlabels - 1, t.line, true)) {
                rc = ni_tsv_error(&t, err, "too many signatures");
                break;
            }
            /* the family's stack, unless a row said it already */
            if (*stack && !ni_tcpos_stack(db, fam) && add_fam(db, fam, fam, stack)) {
                rc = ni_tsv_error(&t, err, "out of memory");
                break;
            }
        } else if (!strcmp(kind, "p0f") || !strcmp(kind, "ua")) {
            if (add_fam(db, match, fam, stack)) { rc = ni_tsv_error(&t, err, "out of memory"); break; }
        } else {
            rc = ni_tsv_error(&t, err, "unknown kind '%s' (sig, p0f, ua)", kind);
            break;
        }
    }
    ni_tsv_close(&t);
    return r < 0 ? NI_ERR_DATA : rc;
}

/* ---- matching ------------------------------------------------------------ */

static const famrow *fam_find(const ni_tcpos *db, const char *key)
{
    for (size_t i = 0; i < db->nfams; i++)
        if (!strcasecmp(db->fams[i].key, key)) return &db->fams[i];
    return NULL;
}

const char *ni_tcpos_stack(const ni_tcpos *db, const char *family)
{
    if (!db || !family) return NULL;
    const famrow *r = fam_find(db, family);
    if (r && r->stack) return r->stack;
    /* a family named by a p0f row: its row's stack */
    for (size_t i = 0; i < db->nfams; i++)
        if (db->fams[i].stack && !strcasecmp(db->fams[i].family, family)) return db->fams[i].stack;
    return NULL;
}

/* The observed window as p0f's matcher sees it: its multiple of the MSS or
 * MTU (from the fingerprint) and its raw value. */
typedef struct observed { tsig s; int multi; bool use_mtu; unsigned win; } observed;

/* One pass of p0f's matcher over the signatures of one origin (p0f.fp or the
 * catalogue). */
static const rec *find(const ni_tcpos *db, const observed *o, bool tsv, bool *generic, bool *fuzzy_out)
{
    const rec *fmatch = NULL, *gmatch = NULL;
    const tsig *ts = &o->s;
    for (size_t i = 0; i < db->nsigs; i++) {
        const rec *r = &db->sigs[i];
        const tsig *ref = &r->s;
        if (r->tsv != tsv) continue;
        if (ref->opt_cnt != ts->opt_cnt || memcmp(ref->layout, ts->layout, (size_t)ts->opt_cnt)) continue;
        bool fuzzy = false;
        uint32_t rq = ref->quirks;
        if (ref->ver == -1) rq &= ts->ver == 4 ? ~(uint32_t)Q_FLOW : ~(uint32_t)(Q_DF | Q_NZ_ID | Q_ZERO_ID);
        if (rq != ts->quirks) {
            uint32_t deleted = (rq ^ ts->quirks) & rq, added = (rq ^ ts->quirks) & ts->quirks;
            if (fmatch || (deleted & ~(uint32_t)(Q_DF | Q_NZ_ID)) || (added & ~(uint32_t)(Q_ZERO_ID | Q_ECN))) continue;
            fuzzy = true;
        }
        if (ref->eol_pad != ts->eol_pad || ref->olen != ts->olen) continue;
        if (ref->bad_ttl) { if (ref->ttl < ts->ttl) continue; }
        else if (ref->ttl < ts->ttl || ref->ttl - ts->ttl > MAX_DIST) fuzzy = true;
        if (ref->mss != -1 && ref->mss != ts->mss) continue;
        if (ref->wscale != -1 && ref->wscale != ts->wscale) continue;
        if (ref->pclass != -1 && ref->pclass != ts->pclass) continue;
        switch (ref->win_type) {
        case W_NORMAL: if ((unsigned)ref->win != o->win) continue; break;
        case W_MOD: if (o->win % (unsigned)ref->win) continue; break;
        case W_MSS: if (o->use_mtu || ref->win != o->multi) continue; break;
        case W_MTU: if (!o->use_mtu || ref->win != o->multi) continue; break;
        default: break;
        }
        if (!fuzzy) {
            if (!db->labels[r->label].generic) { *generic = *fuzzy_out = false; return r; }
            if (!gmatch) gmatch = r;
        } else if (!fmatch) fmatch = r;
    }
    if (gmatch) { *generic = true; *fuzzy_out = false; return gmatch; }
    if (fmatch && db->labels[fmatch->label].tool) return NULL;
    if (fmatch) { *generic = db->labels[fmatch->label].generic; *fuzzy_out = true; }
    return fmatch;
}

bool ni_tcpos_match(const ni_tcpos *db, const char *fingerprint, unsigned window, ni_tcpos_result *res)
{
    memset(res, 0, sizeof *res);
    if (!db || !fingerprint) return false;
    observed o;
    if (parse_sig(fingerprint, true, &o.s)) return false;
    o.multi = -1;
    o.use_mtu = false;
    if (o.s.win_type == W_NORMAL) o.win = (unsigned)o.s.win;
    else {
        o.multi = o.s.win;
        o.use_mtu = o.s.win_type == W_MTU;
        /* without the raw window, the multiple of the MSS stands for it */
        o.win = window ? window : (unsigned)(o.s.win * (o.use_mtu ? o.s.mss + 40 : o.s.mss));
    }
    o.s.win_type = W_NORMAL;
    bool generic = false, fuzzy = false, tg = false, tf = false;
    const rec *m = find(db, &o, false, &generic, &fuzzy);
    /* the catalogue's signatures of newer systems refine anything short of
     * an exact specific p0f match */
    if (!m || generic || fuzzy) {
        const rec *t = find(db, &o, true, &tg, &tf);
        if (t && !tf) { m = t; generic = fuzzy = false; }
        else if (!m && t) { m = t; generic = tg; fuzzy = tf; }
    }
    if (!m) return false;
    const label *l = &db->labels[m->label];
    if (l->tool) return false;                  /* NMap and such: not an operating system */
    res->family = l->name;
    res->detail = l->flavor;
    if (!m->tsv) {
        char key[512];
        snprintf(key, sizeof key, "%s:%s", l->name, l->flavor ? l->flavor : "");
        const famrow *f = fam_find(db, key);
        if (!f) f = fam_find(db, l->name);
        if (f) res->family = f->family;
    }
    res->stack = ni_tcpos_stack(db, res->family);
    res->generic = generic;
    res->fuzzy = fuzzy;
    res->from_tsv = m->tsv;
    res->line = m->line;
    return true;
}
