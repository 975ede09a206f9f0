/* ni_ua.c — uap-core User-Agent parser (see ni_ua.h for the semantics it
 * follows: uap-core docs/specification.md and its reference implementation).
 *
 * Layout: loading (libyaml document API → rules), the literal analysis of
 * each pattern, the Aho-Corasick automaton over all literals, the per-thread
 * parser with its set-associative cache, and the field substitution rules. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "enrich/ni_ua.h"
#include "core/ni_str.h"
#include "core/ni_hash.h"
#include "core/ni_buf.h"
#include "core/ni_cursor.h"
#include "core/ni_verified.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/ni_file.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"

#define NFIELDS 5            /* replacement slots per rule */
#define LIT_MIN 2            /* shortest literal worth filtering on */
#define LIT_ALTS_MAX 512     /* alternatives kept per requirement */
#define LIT_LEN_MAX 32       /* literal runs are cut here (a prefix still must occur) */
#define RE_NEST_MAX 64       /* group nesting followed by the analysis */

/* A rule's regex is JIT-compiled once it has been tried this many times:
 * JIT compiling costs ~90,000 instructions a regex (~100 M for all of
 * uap-core at every start) and pays only for rules tried often; most runs
 * see a few dozen distinct User-Agents. */
#define JIT_AFTER 8

typedef struct rule {
    pcre2_code *re;          /* as compiled at load (or on first use, lazy): never modified */
    char *src;               /* the pattern, while not compiled yet (lazy) */
    _Atomic(pcre2_code *) jre;   /* a JIT-compiled copy once tried JIT_AFTER times, else NULL */
    atomic_uint tries;
    char *rep[NFIELDS];      /* replacement templates or NULL */
    uint8_t full;            /* bits of the requirement sets; 0 = always tried */
    bool caseless;           /* (the struct stays 72 bytes: candidates() indexes it) */
} rule;

struct ni_ua_db {
    /* The regexes file was verified (every regex compiled) by an earlier run
     * and has not changed since (core/ni_verified.h): a rule's regex is
     * compiled the first time the prefilter lets a User-Agent through to it
     * (~20,000 instructions a regex; a run tries a few hundred of ~1,200). */
    bool lazy;
    rule *rules;             /* all lists, in order: browser, os, device */
    size_t nrules;
    size_t start[NI_UA_LIST__COUNT + 1];
    size_t unfiltered[NI_UA_LIST__COUNT];
    size_t words;            /* uint64 words of a rule bitset */
    uint64_t *always;        /* rules without a literal */
    /* literals: lit_rules[lit_off[i] .. lit_off[i+1]) are the rules of literal i */
    size_t nlits;
    uint32_t *lit_off, *lit_rules;
    /* the same, indexed for candidates() (index_lits): a rule is a
     * candidate when each of its requirement sets has a literal in the UA.
     * Each rule is listed under the literals of one set only, its trigger
     * (the set whose literals name the fewest rules: "mozilla" names
     * hundreds), trig[trig_off[i] .. trig_off[i+1]) for literal i; its other
     * sets are checked against the literals seen, chk[chk_off[r] ..
     * chk_off[r+1]) for rule r: per set, a count then that many literals. */
    uint32_t *trig_off, *trig, *chk_off, *chk;
    /* Aho-Corasick DFA over byte classes (lower-cased) */
    uint8_t cls[256];
    uint32_t nclasses, nstates;
    uint32_t *delta;         /* nstates * nclasses (NULL when delta16 is used) */
    const uint16_t *delta16; /* the same as 16-bit entries, in a start-up cache's bytes */
    int32_t *out;            /* literal ending at this state, or -1 */
    uint32_t *dict;          /* nearest suffix state with an output, 0 = none */
    /* The tables (lit_*, trig*, chk*, delta16, out, dict) point into the
     * bytes a trusted decode read (a start-up cache kept mapped by its
     * owner): not freed with the db.  map: such a mapping the db owns. */
    bool borrowed;
    bool strings_borrowed;   /* the rules' patterns and templates lie in map too */
    void *map; size_t map_len;
};

/* ---------------------------------------------------------------- loading */


static const char *const field_keys[NI_UA_LIST__COUNT][NFIELDS] = {
    { "family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", "v4_replacement" },
    { "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement", "os_v4_replacement" },
    { "device_replacement", "brand_replacement", "model_replacement", NULL, NULL },
};
static const char *const list_keys[NI_UA_LIST__COUNT] = {
    "user_agent_parsers", "os_parsers", "device_parsers"
};

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
    (void)d;
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

#define UA_VERIFIED_KIND "uap-regexes/1"

static ni_err compile_rule(rule *r, const char *pattern, bool caseless, const char *path,
                           int list, size_t idx, ni_error *err)
{
    int ec; PCRE2_SIZE eo;
    r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                          caseless ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return ni_error_set(err, NI_ERR_DATA, "%s: %s[%zu]: regex '%s' does not compile at %zu: %s",
                            path, list_keys[list], idx, pattern, (size_t)eo, (char *)msg);
    }
    return NI_OK;
}

static void rule_release(rule *r, bool own_strings)
{
    pcre2_code_free(r->re);
    pcre2_code_free(atomic_load(&r->jre));
    if (!own_strings) return;
    free(r->src);
    for (int i = 0; i < NFIELDS; i++) free(r->rep[i]);
}

/* ------------------------------------------------------ literal analysis */

/* A requirement: one of alts[] must occur (lower-cased), or none known. */
typedef struct req {
    bool none;
    int n;
    char alt[LIT_ALTS_MAX][LIT_LEN_MAX + 1];
} req;

typedef struct lparse {
    const char *p;
    size_t i, n;
    bool fail;               /* a construct we do not understand: no literal */
    int depth;
    bool expand;             /* small classes ([GN], [0-3], \d) become alternatives (class_set) */
} lparse;

/* A literal run being read: n alternatives of len bytes each (n > 1 only
 * when a small class was expanded). */
#define RUN_ALTS_MAX 64
#define CLASS_EXPAND_MAX 10
typedef struct lrun { int n; size_t len; char s[RUN_ALTS_MAX][LIT_LEN_MAX + 1]; } lrun;

static size_t req_minlen(const req *r)
{
    size_t m = SIZE_MAX;
    for (int i = 0; i < r->n; i++) { size_t l = strlen(r->alt[i]); if (l < m) m = l; }
    return r->n ? m : 0;
}

/* true when a is a better filter than b */
static bool req_better(const req *a, const req *b)
{
    if (a->none) return false;
    if (b->none) return true;
    size_t la = req_minlen(a), lb = req_minlen(b);
    if (la >= 4 && lb >= 4) return a->n < b->n || (a->n == b->n && la > lb);
    return la > lb || (la == lb && a->n < b->n);
}

/* Requirements that must all hold (a conjunction); n == 0: none known. */
#define CONJ_MAX 4
typedef struct conj { int n; req r[CONJ_MAX]; } conj;

/* *dst = *src, copying only the alternatives in use (a req is ~8 kB). */
static void req_copy(req *dst, const req *src)
{
    dst->none = src->none;
    dst->n = src->n;
    if (src->n > 0) memcpy(dst->alt, src->alt, (size_t)src->n * sizeof src->alt[0]);
}

static void conj_add(conj *c, const req *r)
{
    if (r->none || !r->n || req_minlen(r) < LIT_MIN) return;
    if (c->n < CONJ_MAX) { req_copy(&c->r[c->n++], r); return; }
    int worst = 0;
    for (int i = 1; i < c->n; i++) if (req_better(&c->r[worst], &c->r[i])) worst = i;
    if (req_better(r, &c->r[worst])) req_copy(&c->r[worst], r);
}

static const req *conj_best(const conj *c)
{
    const req *b = NULL;
    for (int i = 0; i < c->n; i++) if (!b || req_better(&c->r[i], b)) b = &c->r[i];
    return b;
}


/* Parses a quantifier at lp->i; returns its minimum count (1 when none). */
static unsigned quantifier(lparse *lp)
{
    unsigned min = 1;
    if (lp->i >= lp->n) return 1;
    char c = lp->p[lp->i];
    if (c == '?' || c == '*') { min = 0; lp->i++; }
    else if (c == '+') { min = 1; lp->i++; }
    else if (c == '{') {
        size_t j = lp->i + 1; unsigned v = 0; bool digits = false;
        while (j < lp->n && lp->p[j] >= '0' && lp->p[j] <= '9') { v = v * 10 + (unsigned)(lp->p[j] - '0'); if (v > 100000) v = 100000; j++; digits = true; }
        if (!digits) return 1;                       /* a literal '{' */
        if (j < lp->n && lp->p[j] == ',') { j++; while (j < lp->n && lp->p[j] >= '0' && lp->p[j] <= '9') j++; }
        if (j >= lp->n || lp->p[j] != '}') return 1;  /* a literal '{' */
        lp->i = j + 1; min = v;
    } else return 1;
    if (lp->i < lp->n && (lp->p[lp->i] == '?' || lp->p[lp->i] == '+')) lp->i++; /* lazy / possessive */
    return min;
}

static bool quantifier_follows(const lparse *lp)
{
    if (lp->i >= lp->n) return false;
    char c = lp->p[lp->i];
    if (c == '?' || c == '*' || c == '+') return true;
    if (c == '{') {
        size_t j = lp->i + 1; bool d = false;
        while (j < lp->n && lp->p[j] >= '0' && lp->p[j] <= '9') { j++; d = true; }
        if (!d) return false;
        if (j < lp->n && lp->p[j] == ',') { j++; while (j < lp->n && lp->p[j] >= '0' && lp->p[j] <= '9') j++; }
        return j < lp->n && lp->p[j] == '}';
    }
    return false;
}

static void parse_alt(lparse *lp, conj *out);

/* Reads a character class at '[' into set[] (lower-cased
 * members, distinct); returns how many, or -1 when it is not a small set of
 * printable ASCII characters (negated, \w, \s, a POSIX class, a wide
 * range, more than CLASS_EXPAND_MAX members). */
static int class_set(lparse *lp, char set[CLASS_EXPAND_MAX])
{
    bool in[128] = { false };
    bool ok = true, first = true;
    int prev = -1;                       /* the last single member, for a range */
    lp->i++;
    if (lp->i < lp->n && lp->p[lp->i] == '^') { ok = false; lp->i++; }
    while (lp->i < lp->n && (lp->p[lp->i] != ']' || first)) {
        first = false;
        int c = (unsigned char)lp->p[lp->i];
        if (c == '\\') {
            if (lp->i + 1 >= lp->n) break;
            int e = (unsigned char)lp->p[lp->i + 1];
            lp->i += 2;
            if (e == 'd') { for (int k = '0'; k <= '9'; k++) in[k] = true; prev = -1; continue; }
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) { ok = false; prev = -1; continue; }
            c = e;
        } else if (c == '[' && lp->i + 1 < lp->n && lp->p[lp->i + 1] == ':') {
            const char *e = strstr(lp->p + lp->i + 2, ":]");
            if (!e) { lp->fail = true; lp->i = lp->n; return -1; }
            lp->i = (size_t)(e - lp->p) + 2;
            ok = false; prev = -1;
            continue;
        } else if (c == '-' && prev >= 0 && lp->i + 1 < lp->n && lp->p[lp->i + 1] != ']') {
            int hi = (unsigned char)lp->p[lp->i + 1];
            lp->i += 2;
            if (hi == '\\') {                       /* an escaped upper bound */
                if (lp->i >= lp->n) break;
                hi = (unsigned char)lp->p[lp->i++];
                if ((hi >= 'a' && hi <= 'z') || (hi >= 'A' && hi <= 'Z') || (hi >= '0' && hi <= '9')) ok = false;
            }
            if (hi < prev || hi - prev > 26 || hi < 0x20 || hi >= 0x80) ok = false;
            else for (int k = prev; k <= hi; k++) in[ni_ascii_lower_int(k)] = true;
            prev = -1;
            continue;
        } else lp->i++;
        if (c < 0x20 || c >= 0x80) { ok = false; prev = -1; continue; }
        in[ni_ascii_lower_int(c)] = true;
        prev = c;
    }
    if (lp->i >= lp->n) { lp->fail = true; return -1; }
    lp->i++;
    if (!ok) return -1;
    int k = 0;
    for (int c = 0x20; c < 0x80; c++) {
        if (!in[c]) continue;
        if (k == CLASS_EXPAND_MAX) return -1;
        set[k++] = (char)c;
    }
    return k ? k : -1;
}

static void run_flush(lrun *r, conj *best, req *tmp)
{
    if (r->len >= LIT_MIN) {
        tmp->none = false; tmp->n = r->n;
        for (int i = 0; i < r->n; i++) { memcpy(tmp->alt[i], r->s[i], r->len); tmp->alt[i][r->len] = 0; }
        conj_add(best, tmp);
    }
    r->n = 1; r->len = 0;
}

/* One more character (lower-cased) on every alternative; a full run is
 * flushed, the character dropped. */
static void run_add(lrun *r, int c, conj *best, req *tmp)
{
    if (r->len < LIT_LEN_MAX) {
        for (int i = 0; i < r->n; i++) r->s[i][r->len] = (char)c;
        r->len++;
    } else run_flush(r, best, tmp);
}

/* One of k characters: each alternative becomes k (a run that would grow
 * past RUN_ALTS_MAX or LIT_LEN_MAX is flushed first). */
static void run_add_set(lrun *r, const char *set, int k, conj *best, req *tmp)
{
    if (k == 1) { run_add(r, set[0], best, tmp); return; }
    if (r->len >= LIT_LEN_MAX || r->n * k > RUN_ALTS_MAX) run_flush(r, best, tmp);
    int n = r->n;
    for (int j = k - 1; j >= 0; j--)
        for (int i = 0; i < n; i++) {
            if (j) memcpy(r->s[j * n + i], r->s[i], r->len);
            r->s[j * n + i][r->len] = set[j];
        }
    r->n = n * k;
    r->len++;
}

/* A sequence up to '|' or ')' or the end. */
static void parse_seq(lparse *lp, conj *best)
{
    lrun *run = malloc(sizeof *run);
    req *tmp = malloc(sizeof *tmp);
    conj *sub = malloc(sizeof *sub);
    best->n = 0;
    if (!run || !tmp || !sub) { lp->fail = true; free(run); free(tmp); free(sub); return; }
    run->n = 1; run->len = 0;
    while (lp->i < lp->n && !lp->fail) {
        char c = lp->p[lp->i];
        if (c == '|' || c == ')') break;
        if (c == '(') {
            run_flush(run, best, tmp);
            bool look = false;
            lp->i++;
            if (lp->i < lp->n && lp->p[lp->i] == '?') {
                lp->i++;
                char d = lp->i < lp->n ? lp->p[lp->i] : 0;
                if (d == ':') lp->i++;
                else if (d == '=' || d == '!') { look = true; lp->i++; }
                else if (d == '<' && lp->i + 1 < lp->n && (lp->p[lp->i + 1] == '=' || lp->p[lp->i + 1] == '!')) { look = true; lp->i += 2; }
                else if (d == 'P' || d == '<' || d == '\'') {
                    if (d == 'P') lp->i++;
                    if (lp->i >= lp->n || (lp->p[lp->i] != '<' && lp->p[lp->i] != '\'')) { lp->fail = true; break; }
                    char close = lp->p[lp->i] == '<' ? '>' : '\'';
                    while (lp->i < lp->n && lp->p[lp->i] != close) lp->i++;
                    lp->i++;
                } else {
                    /* inline flags (?i) / (?i:...) — lower-casing covers them */
                    while (lp->i < lp->n && ((lp->p[lp->i] >= 'a' && lp->p[lp->i] <= 'z') || lp->p[lp->i] == '-')) lp->i++;
                    if (lp->i < lp->n && lp->p[lp->i] == ')') { lp->i++; continue; }
                    if (lp->i < lp->n && lp->p[lp->i] == ':') lp->i++;
                    else { lp->fail = true; break; }
                }
            }
            if (++lp->depth > RE_NEST_MAX) { lp->fail = true; break; }
            parse_alt(lp, sub);
            lp->depth--;
            if (lp->i >= lp->n || lp->p[lp->i] != ')') { lp->fail = true; break; }
            lp->i++;
            unsigned min = quantifier(lp);
            if (!look && min > 0) for (int k = 0; k < sub->n; k++) conj_add(best, &sub->r[k]);
            continue;
        }
        if (c == '[') {
            /* a class of one character ([Ss], [x]) is that character; a
             * small class counts only when expanding */
            char set[CLASS_EXPAND_MAX];
            int k = class_set(lp, set);
            if (k > 1 && !lp->expand) k = -1;
            if (k < 0) { run_flush(run, best, tmp); quantifier(lp); continue; }
            if (quantifier_follows(lp)) {
                unsigned min = quantifier(lp);
                if (min > 0 && run->len < LIT_LEN_MAX) run_add_set(run, set, k, best, tmp);
                run_flush(run, best, tmp);
            } else if (run->len < LIT_LEN_MAX) run_add_set(run, set, k, best, tmp);
            else run_flush(run, best, tmp);
            continue;
        }
        if (c == '.') { run_flush(run, best, tmp); lp->i++; quantifier(lp); continue; }
        if (c == '^' || c == '$') { lp->i++; continue; }
        int lit = -1;
        if (c == '\\') {
            if (lp->i + 1 >= lp->n) { lp->fail = true; break; }
            char e = lp->p[lp->i + 1];
            lp->i += 2;
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                if (e == 't') lit = '\t';
                else if (e == 'n') lit = '\n';
                else if (e == 'r') lit = '\r';
                else if (e == 'x' || e == 'u' || e == 'c' || e == 'p' || e == 'P' || e == 'k' || e == 'g' || e == 'Q' || e == 'E') { lp->fail = true; break; }
                else { run_flush(run, best, tmp); quantifier(lp); continue; } /* \d \s \b \1 ... */
            } else lit = (unsigned char)e;
        } else if (c == '*' || c == '+' || c == '?') {
            lp->fail = true; break;           /* a quantifier with nothing before it */
        } else { lit = (unsigned char)c; lp->i++; }
        if (lit < 0x20 || lit >= 0x80) { run_flush(run, best, tmp); quantifier(lp); continue; }
        if (quantifier_follows(lp)) {
            unsigned min = quantifier(lp);
            if (min > 0 && run->len < LIT_LEN_MAX) run_add(run, ni_ascii_lower_int(lit), best, tmp);
            run_flush(run, best, tmp);
            continue;
        }
        run_add(run, ni_ascii_lower_int(lit), best, tmp);   /* (full: keep the prefix, restart) */
    }
    run_flush(run, best, tmp);
    free(run); free(tmp); free(sub);
}

/* Alternatives: one branch keeps its conjunction; several become one
 * requirement, the union of each branch's best. */
static void parse_alt(lparse *lp, conj *out)
{
    parse_seq(lp, out);
    if (lp->fail || lp->i >= lp->n || lp->p[lp->i] != '|') return;
    conj *br = malloc(sizeof *br);
    req *u = malloc(sizeof *u);
    if (!br || !u) { lp->fail = true; free(br); free(u); out->n = 0; return; }
    const req *b = conj_best(out);
    if (b) req_copy(u, b); else { u->none = true; u->n = 0; }
    while (!lp->fail && lp->i < lp->n && lp->p[lp->i] == '|') {
        lp->i++;
        parse_seq(lp, br);
        b = conj_best(br);
        if (u->none || !b || u->n + b->n > LIT_ALTS_MAX) { u->none = true; continue; }
        for (int k = 0; k < b->n; k++) memcpy(u->alt[u->n++], b->alt[k], LIT_LEN_MAX + 1);
    }
    out->n = 0;
    conj_add(out, u);
    free(br); free(u);
}

/* The literal requirements of a whole pattern (c->n == 0 when none). */
static void analyse(const char *pattern, conj *c)
{
    lparse lp = { .p = pattern, .i = 0, .n = strlen(pattern), .fail = false, .depth = 0 };
    parse_alt(&lp, c);
    if (lp.fail || lp.i != lp.n) c->n = 0;
    if (c->n) return;
    /* none: again with small classes as alternatives (P[GN]- is "pg-" or
     * "pn-"), only here so that a pattern filtered without it keeps the
     * requirements it had (more alternatives per branch could overflow an
     * alternation's union) */
    lparse lx = { .p = pattern, .i = 0, .n = strlen(pattern), .fail = false, .depth = 0, .expand = true };
    parse_alt(&lx, c);
    if (lx.fail || lx.i != lx.n) c->n = 0;
}

size_t ni_ua_required(const char *pattern, char *out, size_t cap)
{
    if (cap < 1) return 0;
    conj *c = malloc(sizeof *c);
    if (!c) { out[0] = 0; return 1; }          /* no filter: the pattern is tried */
    analyse(pattern, c);
    size_t o = 0;
    bool fits = true;
    for (int k = 0; fits && k < c->n; k++) {
        for (int i = 0; fits && i < c->r[k].n; i++) {
            size_t l = strlen(c->r[k].alt[i]);
            if (o + l + 1 >= cap) { fits = false; break; }
            memcpy(out + o, c->r[k].alt[i], l + 1);
            o += l + 1;
        }
        if (fits && o + 1 < cap) out[o++] = 0; else fits = false;
    }
    free(c);
    if (!fits) return 0;
    out[o++] = 0;
    return o;
}

bool ni_ua_required_met(const char *req, const char *s, size_t n)
{
    while (*req) {                                  /* one requirement */
        bool any = false;
        while (*req) {
            size_t l = strlen(req);
            if (!any && l <= n && memmem(s, n, req, l)) any = true;
            req += l + 1;
        }
        if (!any) return false;
        req++;                                      /* its closing empty string */
    }
    return true;
}

/* Builds trig_* and chk_* from lit_off, lit_rules and the rules' sets.  A
 * rule with a set of no literal, or an entry outside its sets, is never a
 * candidate (the sets it needs cannot all be met: as before, when the sets
 * met had to equal `full`); the loaders make neither. */
static ni_err index_lits(ni_ua_db *db)
{
    size_t nl = db->nlits, nr = db->nrules, np = db->lit_off[nl];
    size_t ns = nr * CONJ_MAX;
    uint64_t *cost = calloc(ns ? ns : 1, sizeof *cost);
    uint32_t *num = calloc(ns + 1, sizeof *num);        /* then: offsets of (rule, set) lists */
    uint32_t *lits = malloc((np ? np : 1) * sizeof *lits), *fill = calloc(ns ? ns : 1, sizeof *fill);
    int8_t *tset = malloc(nr ? nr : 1);
    db->trig_off = calloc(nl + 1, sizeof *db->trig_off);
    db->chk_off = calloc(nr + 1, sizeof *db->chk_off);
    if (!cost || !num || !lits || !fill || !tset || !db->trig_off || !db->chk_off) goto oom;
    for (size_t i = 0; i < nl; i++)
        for (uint32_t k = db->lit_off[i]; k < db->lit_off[i + 1]; k++) {
            cost[db->lit_rules[k]] += db->lit_off[i + 1] - db->lit_off[i];
            num[db->lit_rules[k] + 1]++;
        }
    for (size_t i = 0; i < ns; i++) num[i + 1] += num[i];
    for (size_t i = 0; i < nl; i++)
        for (uint32_t k = db->lit_off[i]; k < db->lit_off[i + 1]; k++) {
            uint32_t e = db->lit_rules[k];
            lits[num[e] + fill[e]++] = (uint32_t)i;
        }
    /* each rule's trigger: the set of least cost; -1 = never a candidate */
    size_t nchk = 0;
    for (size_t r = 0; r < nr; r++) {
        unsigned full = db->rules[r].full;
        int best = -1;
        for (unsigned k = 0; k < CONJ_MAX; k++) {
            size_t e = r * CONJ_MAX + k, n = num[e + 1] - num[e];
            if (!(full >> k & 1)) { if (n) { best = -1; break; } continue; }
            if (!n) { best = -1; break; }
            if (best < 0 || cost[e] < cost[r * CONJ_MAX + (unsigned)best]) best = (int)k;
        }
        tset[r] = (int8_t)(full ? best : -1);
        if (tset[r] < 0) continue;
        for (unsigned k = 0; k < CONJ_MAX; k++)
            if ((full >> k & 1) && (int)k != best) nchk += 1 + num[r * CONJ_MAX + k + 1] - num[r * CONJ_MAX + k];
    }
    size_t ntrig = 0;
    for (size_t i = 0; i < nl; i++)
        for (uint32_t k = db->lit_off[i]; k < db->lit_off[i + 1]; k++) {
            uint32_t r = db->lit_rules[k] / CONJ_MAX;
            if (tset[r] >= 0 && db->lit_rules[k] % CONJ_MAX == (uint32_t)tset[r]) { db->trig_off[i + 1]++; ntrig++; }
        }
    for (size_t i = 0; i < nl; i++) db->trig_off[i + 1] += db->trig_off[i];
    db->trig = malloc((ntrig ? ntrig : 1) * sizeof *db->trig);
    db->chk = malloc((nchk ? nchk : 1) * sizeof *db->chk);
    if (!db->trig || !db->chk) goto oom;
    for (size_t i = 0, t = 0; i < nl; i++)
        for (uint32_t k = db->lit_off[i]; k < db->lit_off[i + 1]; k++) {
            uint32_t r = db->lit_rules[k] / CONJ_MAX;
            if (tset[r] >= 0 && db->lit_rules[k] % CONJ_MAX == (uint32_t)tset[r]) db->trig[t++] = r;
        }
    nchk = 0;
    for (size_t r = 0; r < nr; r++) {
        db->chk_off[r] = (uint32_t)nchk;
        for (unsigned k = 0; tset[r] >= 0 && k < CONJ_MAX; k++) {
            size_t e = r * CONJ_MAX + k;
            if (!(db->rules[r].full >> k & 1) || (int)k == tset[r]) continue;
            db->chk[nchk++] = num[e + 1] - num[e];
            for (uint32_t j = num[e]; j < num[e + 1]; j++) db->chk[nchk++] = lits[j];
        }
    }
    db->chk_off[nr] = (uint32_t)nchk;
    free(cost); free(num); free(lits); free(fill); free(tset);
    return NI_OK;
oom:
    free(cost); free(num); free(lits); free(fill); free(tset);
    return NI_ERR_NOMEM;
}

/* ----------------------------------------------------------- Aho-Corasick */

typedef struct litacc {
    ni_map *ids;             /* literal → (id + 1) */
    char **lits; size_t nlits, alits;
    uint32_t *pr_lit, *pr_rule; size_t npairs, apairs;
} litacc;

static ni_err litacc_add(litacc *a, const char *lit, uint32_t rule_idx)
{
    void *v = ni_map_get(a->ids, lit);
    uint32_t id;
    if (v) id = (uint32_t)((uintptr_t)v - 1);
    else {
        if (a->nlits == a->alits) {
            size_t na = a->alits ? a->alits * 2 : 256;
            char **nl = realloc(a->lits, na * sizeof *nl);
            if (!nl) return NI_ERR_NOMEM;
            a->lits = nl; a->alits = na;
        }
        if (!(a->lits[a->nlits] = ni_strdup(lit))) return NI_ERR_NOMEM;
        id = (uint32_t)a->nlits++;
        if (ni_map_put(a->ids, lit, (void *)(uintptr_t)(id + 1)) != NI_OK) return NI_ERR_NOMEM;
    }
    if (a->npairs == a->apairs) {
        size_t na = a->apairs ? a->apairs * 2 : 512;
        uint32_t *l = realloc(a->pr_lit, na * sizeof *l);
        if (!l) return NI_ERR_NOMEM;
        a->pr_lit = l;
        uint32_t *r = realloc(a->pr_rule, na * sizeof *r);
        if (!r) return NI_ERR_NOMEM;
        a->pr_rule = r; a->apairs = na;
    }
    /* the same rule may name the same literal twice: harmless */
    a->pr_lit[a->npairs] = id; a->pr_rule[a->npairs] = rule_idx; a->npairs++;
    return NI_OK;
}

static ni_err build_automaton(ni_ua_db *db, litacc *a)
{
    /* literal → rules (counting sort on literal id) */
    db->nlits = a->nlits;
    db->lit_off = calloc(a->nlits + 1, sizeof *db->lit_off);
    db->lit_rules = malloc((a->npairs ? a->npairs : 1) * sizeof *db->lit_rules);
    if (!db->lit_off || !db->lit_rules) return NI_ERR_NOMEM;
    for (size_t i = 0; i < a->npairs; i++) db->lit_off[a->pr_lit[i] + 1]++;
    for (size_t i = 0; i < a->nlits; i++) db->lit_off[i + 1] += db->lit_off[i];
    uint32_t *fill = calloc(a->nlits + 1, sizeof *fill);
    if (!fill) return NI_ERR_NOMEM;
    for (size_t i = 0; i < a->npairs; i++) {
        uint32_t l = a->pr_lit[i];
        db->lit_rules[db->lit_off[l] + fill[l]++] = a->pr_rule[i];
    }
    free(fill);

    /* byte classes: 0 = a byte in no literal; upper case maps like lower */
    memset(db->cls, 0, sizeof db->cls);
    uint32_t nc = 1;
    size_t total = 1;
    for (size_t i = 0; i < a->nlits; i++) {
        for (const unsigned char *s = (const unsigned char *)a->lits[i]; *s; s++)
            if (!db->cls[*s]) db->cls[*s] = (uint8_t)nc++;
        total += strlen(a->lits[i]);
    }
    for (int c = 'A'; c <= 'Z'; c++) db->cls[c] = db->cls[c + 32];
    db->nclasses = nc;
    db->delta = malloc(total * nc * sizeof *db->delta);
    db->out = malloc(total * sizeof *db->out);
    db->dict = calloc(total, sizeof *db->dict);
    uint32_t *fail = calloc(total, sizeof *fail), *queue = malloc(total * sizeof *queue);
    if (!db->delta || !db->out || !db->dict || !fail || !queue) { free(fail); free(queue); return NI_ERR_NOMEM; }
    const uint32_t NONE = UINT32_MAX;
    for (size_t i = 0; i < total * nc; i++) db->delta[i] = NONE;
    for (size_t i = 0; i < total; i++) db->out[i] = -1;
    uint32_t ns = 1;
    for (size_t i = 0; i < a->nlits; i++) {
        uint32_t s = 0;
        for (const unsigned char *p = (const unsigned char *)a->lits[i]; *p; p++) {
            uint32_t *t = &db->delta[(size_t)s * nc + db->cls[*p]];
            if (*t == NONE) *t = ns++;
            s = *t;
        }
        db->out[s] = (int32_t)i;
    }
    db->nstates = ns;
    /* BFS: failure links, full transitions, dictionary links */
    size_t qh = 0, qt = 0;
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t *t = &db->delta[c];
        if (c == 0 || *t == NONE) *t = 0;   /* class 0 is in no literal */
        else { fail[*t] = 0; queue[qt++] = *t; }
    }
    while (qh < qt) {
        uint32_t s = queue[qh++];
        uint32_t f = fail[s];
        db->dict[s] = db->out[f] >= 0 ? f : db->dict[f];
        for (uint32_t c = 0; c < nc; c++) {
            uint32_t *t = &db->delta[(size_t)s * nc + c];
            uint32_t ft = db->delta[(size_t)f * nc + c];
            if (*t == NONE || c == 0) *t = (c == 0) ? 0 : ft;
            else { fail[*t] = ft; queue[qt++] = *t; }
        }
    }
    free(fail); free(queue);
    return NI_OK;
}

static void litacc_release(litacc *a)
{
    ni_map_free(a->ids, NULL);
    for (size_t i = 0; i < a->nlits; i++) free(a->lits[i]);
    free(a->lits); free(a->pr_lit); free(a->pr_rule);
}

/* ------------------------------------------------------------- the db */

static ni_err load_list(ni_ua_db *db, yaml_document_t *doc, yaml_node_t *seq, int list,
                        const char *path, litacc *acc, conj *rq, ni_error *err)
{
    db->start[list] = db->nrules;
    if (!seq) return NI_OK;
    if (seq->type != YAML_SEQUENCE_NODE)
        return ni_error_set(err, NI_ERR_DATA, "%s: %s is not a list", path, list_keys[list]);
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    rule *nr = realloc(db->rules, (db->nrules + n) * sizeof *nr);
    if (!nr && n) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    db->rules = nr;
    for (size_t k = 0; k < n; k++) {
        yaml_node_t *m = yaml_document_get_node(doc, seq->data.sequence.items.start[k]);
        if (!m || m->type != YAML_MAPPING_NODE)
            return ni_error_set(err, NI_ERR_DATA, "%s: %s[%zu] is not a mapping", path, list_keys[list], k);
        const char *pattern = NULL; bool caseless = false;
        rule *r = &db->rules[db->nrules];
        memset(r, 0, sizeof *r);
        db->nrules++;   /* counted now so a failure below frees it */
        for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
            const char *key = scalar(doc, yaml_document_get_node(doc, pr->key));
            const char *val = scalar(doc, yaml_document_get_node(doc, pr->value));
            if (!key) continue;
            if (!strcmp(key, "regex")) pattern = val;
            else if (!strcmp(key, "regex_flag")) caseless = val && strchr(val, 'i');
            else for (int f = 0; f < NFIELDS; f++)
                if (field_keys[list][f] && !strcmp(key, field_keys[list][f]) && val) {
                    free(r->rep[f]);
                    if (!(r->rep[f] = ni_strdup(val))) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
                }
        }
        if (!pattern)
            return ni_error_set(err, NI_ERR_DATA, "%s: %s[%zu] has no regex", path, list_keys[list], k);
        if (db->lazy) {
            if (!(r->src = ni_strdup(pattern))) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
            r->caseless = caseless;
        } else {
            ni_err e = compile_rule(r, pattern, caseless, path, list, k, err);
            if (e) return e;
        }
        analyse(pattern, rq);
        if (!rq->n) { db->unfiltered[list]++; continue; }
        r->full = (uint8_t)((1u << rq->n) - 1);
        for (int k = 0; k < rq->n; k++)
            for (int i = 0; i < rq->r[k].n; i++)
                if (litacc_add(acc, rq->r[k].alt[i], (uint32_t)((db->nrules - 1) * CONJ_MAX + (size_t)k)) != NI_OK)
                    return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    }
    return NI_OK;
}

/* ---------------------------------------------------------- start-up cache */
/* Once a run finds the regexes file verified (db->lazy), it keeps what it
 * read from it in $XDG_CACHE_HOME/netintel/uap.bin (core/ni_verified.h for
 * the directory) so that later runs skip the YAML, the literal analysis and
 * the automaton (~55 M instructions): magic, a key (the file's identity),
 * the list bounds, every rule (case flag, pattern, replacement templates),
 * the prefilter (ni_ua_prefilter_encode), then a checksum of all that.
 * Strings are a 32-bit length and their bytes (UA_NOSTR: NULL).  Read only
 * while the file is still verified (the condition of lazy compiling); a
 * damaged, stale or unreadable cache is ignored and rewritten. */
#define UA_CACHE_NAME "uap.bin"
#define UA_CACHE_VERIFIED_KIND "uap-cache-sum/1"   /* its checksum matched */
#define UA_NOSTR 0xffffffffu
static const char ua_cache_magic[8] = { 'N', 'I', 'U', 'A', 'C', 0, 0, 4 };   /* 4: small classes in the prefilter's analysis */

static void put32(ni_buf *b, uint32_t v);

static void c_str(ni_buf *b, const char *s)
{
    if (!s) { put32(b, UA_NOSTR); return; }
    size_t n = strlen(s);
    put32(b, (uint32_t)n);
    ni_buf_add(b, s, n + 1);            /* with its NUL: a trusted read uses it where it lies */
}


/* A string of the cache: where it lies (inplace: a trusted cache kept
 * mapped), else malloc'd; *ok false when short, without its NUL, holding
 * another (checked unless inplace) or OOM. */
static char *cur_str(ni_cursor *c, bool inplace, bool *ok)
{
    uint32_t n = ni_cur_u32_le(c);
    if (n == UA_NOSTR) return NULL;
    const uint8_t *p = n < UINT32_MAX ? ni_cur_bytes(c, (size_t)n + 1) : NULL;
    if (!p || p[n]) { *ok = false; return NULL; }
    if (inplace) return (char *)(uintptr_t)p;   /* read-only: the db never writes its strings */
    char *s = malloc((size_t)n + 1);
    if (!s || memchr(p, 0, n)) { free(s); *ok = false; return NULL; }
    memcpy(s, p, (size_t)n + 1);
    return s;
}

static void ua_cache_write(const ni_ua_db *db, const char *path, uint64_t key)
{
    ni_buf b;
    ni_cachefile_begin(&b, ua_cache_magic, sizeof ua_cache_magic, key);
    put32(&b, (uint32_t)db->nrules);
    for (int l = 0; l <= NI_UA_LIST__COUNT; l++) put32(&b, (uint32_t)db->start[l]);
    for (int l = 0; l < NI_UA_LIST__COUNT; l++) put32(&b, (uint32_t)db->unfiltered[l]);
    for (size_t i = 0; i < db->nrules; i++) {
        const rule *r = &db->rules[i];
        ni_buf_addc(&b, r->caseless ? 1 : 0);
        c_str(&b, r->src);
        for (int f = 0; f < NFIELDS; f++) c_str(&b, r->rep[f]);
    }
    if (ni_ua_prefilter_encode(db, &b) != NI_OK) b.err = NI_ERR_LIMIT;
    ni_cachefile_finish(&b, path);
}

/* Fills db (empty, lazy) from the cache at path; false (db to be freed)
 * when it is absent, stale or bad. */
static bool ua_cache_read(ni_ua_db *db, const char *path, uint64_t key)
{
    ni_cachefile cf;
    if (!ni_cachefile_open(&cf, path, ua_cache_magic, sizeof ua_cache_magic, UA_CACHE_VERIFIED_KIND, key))
        return false;
    ni_cursor c = cf.body;
    bool summed = cf.summed, ok = true;
    /* checked whole by an earlier run (same identity): its strings are used
     * where they lie, the file kept mapped while db lives */
    db->strings_borrowed = summed;
    uint32_t nr = ok ? ni_cur_u32_le(&c) : 0;
    if (ok && (c.bad || nr > ni_cur_left(&c) || !(db->rules = calloc(nr ? nr : 1, sizeof *db->rules)))) ok = false;
    for (int l = 0; ok && l <= NI_UA_LIST__COUNT; l++) {
        db->start[l] = ni_cur_u32_le(&c);
        if (db->start[l] > nr || (l && db->start[l] < db->start[l - 1])) ok = false;
    }
    if (ok && (db->start[0] != 0 || db->start[NI_UA_LIST__COUNT] != nr)) ok = false;
    for (int l = 0; ok && l < NI_UA_LIST__COUNT; l++)
        if ((db->unfiltered[l] = ni_cur_u32_le(&c)) > nr) ok = false;
    for (uint32_t i = 0; ok && i < nr; i++) {
        rule *r = &db->rules[i];
        db->nrules++;           /* counted now so a failure below frees it */
        uint8_t cl = ni_cur_u8(&c);
        r->caseless = cl == 1;
        r->src = cur_str(&c, summed, &ok);
        for (int f = 0; ok && f < NFIELDS; f++) r->rep[f] = cur_str(&c, summed, &ok);
        if (cl > 1 || !r->src) ok = false;
    }
    ni_ua_db *pf = ok && !c.bad ? ni_ua_prefilter_decode_in(&c, summed, true) : NULL;
    if (!pf || c.bad || ni_cur_left(&c) || pf->nrules != nr) ok = false;
    if (ok) {
        for (uint32_t i = 0; i < nr; i++) db->rules[i].full = pf->rules[i].full;
        db->words = pf->words; db->always = pf->always; pf->always = NULL;
        db->nlits = pf->nlits;
        db->lit_off = pf->lit_off; pf->lit_off = NULL;
        db->lit_rules = pf->lit_rules; pf->lit_rules = NULL;
        db->trig_off = pf->trig_off; pf->trig_off = NULL;
        db->trig = pf->trig; pf->trig = NULL;
        db->chk_off = pf->chk_off; pf->chk_off = NULL;
        db->chk = pf->chk; pf->chk = NULL;
        memcpy(db->cls, pf->cls, sizeof db->cls);
        db->nclasses = pf->nclasses; db->nstates = pf->nstates;
        db->delta = pf->delta; pf->delta = NULL;
        db->delta16 = pf->delta16;
        db->out = pf->out; pf->out = NULL;
        db->dict = pf->dict; pf->dict = NULL;
        db->borrowed = pf->borrowed;
    }
    ni_ua_db_free(pf);
    /* borrowed strings and tables lie in the file: it stays mapped while db lives */
    if (ok && (db->borrowed || db->strings_borrowed)) ni_cachefile_keep(&cf, &db->map, &db->map_len);
    else ni_cachefile_close(&cf, ok);
    return ok;
}

ni_ua_db *ni_ua_db_load(const char *path, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { ni_error_set(err, errno == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", path, strerror(errno)); return NULL; }
    ni_ua_db *db = calloc(1, sizeof *db);
    ni_fileid fid;
    bool have_fid = ni_fileid_of(path, &fid);
    if (db) db->lazy = have_fid && ni_verified_has(UA_VERIFIED_KIND, &fid);
    /* a verified file: what an earlier run read from it, if it kept it */
    char cpath[4200];
    uint64_t key = have_fid ? ni_hash(&ni_hash_key_fixed, &fid, sizeof fid) : 0;
    bool cacheable = db && db->lazy && ni_user_cache_path(UA_CACHE_NAME, cpath, sizeof cpath);
    if (cacheable) {
        if (ua_cache_read(db, cpath, key)) { fclose(f); return db; }
        ni_ua_db_free(db);                  /* partly filled: start again */
        if ((db = calloc(1, sizeof *db)) != NULL) db->lazy = true;
    }
    litacc acc = { 0 };
    conj *rq = malloc(sizeof *rq);
    yaml_parser_t yp; yaml_document_t doc;
    bool have_doc = false;
    if (!db || !rq || !(acc.ids = ni_map_new(1u << 20))) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); goto fail; }
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_file(&yp, f);
    if (!yaml_parser_load(&yp, &doc)) {
        ni_error_set(err, NI_ERR_DATA, "%s: YAML error at line %zu: %s", path,
                     (size_t)yp.problem_mark.line + 1, yp.problem ? yp.problem : "?");
        yaml_parser_delete(&yp);
        goto fail;
    }
    yaml_parser_delete(&yp);
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) { ni_error_set(err, NI_ERR_DATA, "%s: not a uap-core regexes file", path); goto fail; }
    yaml_node_t *lists[NI_UA_LIST__COUNT] = { 0 };
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        const char *key = scalar(&doc, yaml_document_get_node(&doc, pr->key));
        for (int l = 0; key && l < NI_UA_LIST__COUNT; l++)
            if (!strcmp(key, list_keys[l])) lists[l] = yaml_document_get_node(&doc, pr->value);
    }
    if (!lists[0] && !lists[1] && !lists[2]) { ni_error_set(err, NI_ERR_DATA, "%s: no user_agent_parsers, os_parsers or device_parsers", path); goto fail; }
    for (int l = 0; l < NI_UA_LIST__COUNT; l++)
        if (load_list(db, &doc, lists[l], l, path, &acc, rq, err) != NI_OK) goto fail;
    db->start[NI_UA_LIST__COUNT] = db->nrules;
    yaml_document_delete(&doc); have_doc = false;
    db->words = (db->nrules + 63) / 64;
    db->always = calloc(db->words ? db->words : 1, sizeof *db->always);
    if (!db->always || build_automaton(db, &acc) != NI_OK || index_lits(db) != NI_OK) {
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    /* rules with no literal are always candidates */
    for (size_t i = 0; i < db->nrules; i++)
        if (!db->rules[i].full) db->always[i / 64] |= 1ull << (i % 64);
    litacc_release(&acc);
    free(rq);
    fclose(f);
    if (!db->lazy && have_fid) (void)ni_verified_add(UA_VERIFIED_KIND, &fid);
    if (cacheable) ua_cache_write(db, cpath, key);
    return db;
fail:
    if (have_doc) yaml_document_delete(&doc);
    litacc_release(&acc);
    free(rq);
    fclose(f);
    ni_ua_db_free(db);
    return NULL;
}

ni_ua_db *ni_ua_prefilter_build(const char *const *patterns, size_t n, ni_error *err)
{
    ni_ua_db *db = calloc(1, sizeof *db);
    litacc acc = { 0 };
    conj *rq = malloc(sizeof *rq);
    if (!db || !rq || !(acc.ids = ni_map_new(1u << 20)) || !(db->rules = calloc(n ? n : 1, sizeof *db->rules)))
        goto oom;
    db->nrules = n;
    for (int l = 1; l <= NI_UA_LIST__COUNT; l++) db->start[l] = n;
    for (size_t i = 0; i < n; i++) {
        analyse(patterns[i], rq);
        if (!rq->n) { db->unfiltered[0]++; continue; }
        db->rules[i].full = (uint8_t)((1u << rq->n) - 1);
        for (int k = 0; k < rq->n; k++)
            for (int a = 0; a < rq->r[k].n; a++)
                if (litacc_add(&acc, rq->r[k].alt[a], (uint32_t)(i * CONJ_MAX + (size_t)k)) != NI_OK) goto oom;
    }
    db->words = (db->nrules + 63) / 64;
    db->always = calloc(db->words ? db->words : 1, sizeof *db->always);
    if (!db->always || build_automaton(db, &acc) != NI_OK || index_lits(db) != NI_OK) goto oom;
    for (size_t i = 0; i < db->nrules; i++)
        if (!db->rules[i].full) db->always[i / 64] |= 1ull << (i % 64);
    litacc_release(&acc);
    free(rq);
    return db;
oom:
    ni_error_set(err, NI_ERR_NOMEM, "literal prefilter: out of memory");
    litacc_release(&acc);
    free(rq);
    ni_ua_db_free(db);
    return NULL;
}

/* ---- the prefilter's serialised form (ni_ua.h) ----------------------- */

static void put32(ni_buf *b, uint32_t v)
{
    uint8_t q[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    ni_buf_add(b, q, 4);
}

static void put32s(ni_buf *b, const uint32_t *v, size_t n) { for (size_t i = 0; i < n; i++) put32(b, v[i]); }

/* Pads out with a count byte and that many zeros so that what follows
 * starts 4-byte aligned in out (a start-up cache file is out whole, mapped
 * page-aligned: the decoder can then use the table where it lies). */
static void align4(ni_buf *out)
{
    size_t pad = (4 - (out->len + 1) % 4) % 4;
    ni_buf_addc(out, (char)pad);
    for (size_t i = 0; i < pad; i++) ni_buf_addc(out, 0);
}

ni_err ni_ua_prefilter_encode(const ni_ua_db *db, ni_buf *out)
{
    if (db->nrules > UINT32_MAX || db->nlits >= UINT32_MAX) return NI_ERR_LIMIT;
    put32(out, (uint32_t)db->nrules);
    put32(out, (uint32_t)db->unfiltered[0]);
    for (size_t i = 0; i < db->nrules; i++) ni_buf_addc(out, (char)db->rules[i].full);
    put32(out, (uint32_t)db->nlits);
    align4(out);
    put32s(out, db->lit_off, db->nlits + 1);
    put32s(out, db->lit_rules, db->lit_off[db->nlits]);
    ni_buf_add(out, db->cls, sizeof db->cls);
    put32(out, db->nclasses);
    put32(out, db->nstates);
    /* the transition table is most of it: 16-bit entries when they fit */
    size_t nd = (size_t)db->nstates * db->nclasses;
    bool narrow = db->nstates <= 65536;
    ni_buf_addc(out, narrow ? 2 : 4);
    align4(out);
    if (narrow) {
        if (ni_buf_reserve(out, 2 * nd) != NI_OK) return NI_ERR_LIMIT;
        uint8_t *q = (uint8_t *)out->p + out->len;
        for (size_t i = 0; i < nd; i++) {
            uint32_t v = db->delta16 ? db->delta16[i] : db->delta[i];
            q[2 * i] = (uint8_t)v; q[2 * i + 1] = (uint8_t)(v >> 8);
        }
        out->len += 2 * nd;
        out->p[out->len] = 0;
    } else put32s(out, db->delta, nd);
    align4(out);
    put32s(out, (const uint32_t *)db->out, db->nstates);
    put32s(out, db->dict, db->nstates);
    /* index_lits' tables, so that a trusted decode need not make them */
    put32s(out, db->trig_off, db->nlits + 1);
    put32s(out, db->trig, db->trig_off[db->nlits]);
    put32s(out, db->chk_off, db->nrules + 1);
    put32s(out, db->chk, db->chk_off[db->nrules]);
    return out->err;
}

/* The pad written by align4 skipped; false when it is not one. */
static bool skip_pad(ni_cursor *c)
{
    uint8_t pad = ni_cur_u8(c);
    if (c->bad || pad > 3) { c->bad = true; return false; }
    const uint8_t *z = ni_cur_bytes(c, pad);
    for (uint8_t i = 0; z && i < pad; i++) if (z[i]) { c->bad = true; return false; }
    return !c->bad;
}

/* n little-endian 32-bit values from c into a new array (NULL: short or OOM),
 * or, borrow, where they lie in c when that is 4-byte aligned on a
 * little-endian host (*borrowed set then). */
static uint32_t *get32s_b(ni_cursor *c, size_t n, bool borrow, bool *borrowed)
{
    if (n > ni_cur_left(c) / 4) return NULL;
    const uint8_t *p = ni_cur_ptr(c);
    if (borrow) {                                /* aligned little-endian words, or nothing */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if ((uintptr_t)p % 4) return NULL;
        ni_cur_skip(c, n * 4);
        *borrowed = true;
        return (uint32_t *)(uintptr_t)p;         /* read-only bytes: the db never writes its tables */
#else
        return NULL;
#endif
    }
    *borrowed = false;
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    memcpy(v, p, n * 4);                         /* in bulk: a table of millions */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < n; i++) v[i] = __builtin_bswap32(v[i]);
#endif
    ni_cur_skip(c, n * 4);
    return v;
}

static uint32_t *get32s(ni_cursor *c, size_t n)
{
    bool b;
    return get32s_b(c, n, false, &b);
}

ni_ua_db *ni_ua_prefilter_decode(ni_cursor *c) { return ni_ua_prefilter_decode_in(c, false, false); }
ni_ua_db *ni_ua_prefilter_decode_ex(ni_cursor *c, bool trusted) { return ni_ua_prefilter_decode_in(c, trusted, false); }

/* n little-endian 16-bit values at q widened into d. */
static void widen16(uint32_t *d, const uint8_t *q, size_t n)
{
    size_t i = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 4 <= n; i += 4) {            /* four at a time: ~3 instructions each, not 9 */
        uint64_t v;
        memcpy(&v, q + 2 * i, 8);
        d[i] = (uint32_t)(v & 0xffff);
        d[i + 1] = (uint32_t)(v >> 16 & 0xffff);
        d[i + 2] = (uint32_t)(v >> 32 & 0xffff);
        d[i + 3] = (uint32_t)(v >> 48);
    }
#endif
    for (; i < n; i++) d[i] = (uint32_t)q[2 * i] | (uint32_t)q[2 * i + 1] << 8;
}

/* An offsets table of n + 1 little-endian words at p: its last word, the
 * length of the table it indexes (the caller checked that it is there). */
static uint32_t offsets_total(const uint8_t *p, size_t n)
{
    uint32_t v;
    memcpy(&v, p + 4 * n, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* Reads the stored trig/chk tables (a trusted decode: borrowed, as the
 * others) or skips them and makes them again (index_lits); false when short. */
static bool read_index(ni_ua_db *db, ni_cursor *c, bool use)
{
    size_t nl = db->nlits, nr = db->nrules;
    bool b = false;
    if (nl + 1 > ni_cur_left(c) / 4) return false;
    uint32_t ntrig = offsets_total(ni_cur_ptr(c), nl);
    if (use) {
        if (!(db->trig_off = get32s_b(c, nl + 1, true, &b)) || !(db->trig = get32s_b(c, ntrig, true, &b)) ||
            !(db->chk_off = get32s_b(c, nr + 1, true, &b)) || !(db->chk = get32s_b(c, db->chk_off[nr], true, &b)))
            return false;
        return !c->bad;
    }
    if ((size_t)ntrig > ni_cur_left(c) / 4 - (nl + 1)) return false;
    ni_cur_skip(c, 4 * (nl + 1 + (size_t)ntrig));
    if (nr + 1 > ni_cur_left(c) / 4) return false;
    uint32_t nchk = offsets_total(ni_cur_ptr(c), nr);
    if ((size_t)nchk > ni_cur_left(c) / 4 - (nr + 1)) return false;
    ni_cur_skip(c, 4 * (nr + 1 + (size_t)nchk));
    return !c->bad && index_lits(db) == NI_OK;
}

ni_ua_db *ni_ua_prefilter_decode_in(ni_cursor *c, bool trusted, bool borrow)
{
    ni_ua_db *db = calloc(1, sizeof *db);
    if (!db) return NULL;
    /* tables are used where they lie only for trusted bytes (no check reads
     * them: their pages are touched only as the automaton walks them) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    borrow = borrow && trusted;
#else
    borrow = false;
#endif
    bool b1 = false, b2 = false;           /* (get32s_b borrows exactly when asked to) */
    uint32_t n = ni_cur_u32_le(c);
    db->unfiltered[0] = ni_cur_u32_le(c);
    if (c->bad || n > ni_cur_left(c) || !(db->rules = calloc(n ? n : 1, sizeof *db->rules))) goto bad;
    db->nrules = n;
    for (int l = 1; l <= NI_UA_LIST__COUNT; l++) db->start[l] = n;
    for (size_t i = 0; i < n; i++) {
        db->rules[i].full = ni_cur_u8(c);
        if (db->rules[i].full >= 1u << CONJ_MAX) goto bad;
    }
    db->words = (db->nrules + 63) / 64;
    if (!(db->always = calloc(db->words ? db->words : 1, sizeof *db->always))) goto bad;
    for (size_t i = 0; i < db->nrules; i++)
        if (!db->rules[i].full) db->always[i / 64] |= 1ull << (i % 64);
    db->nlits = ni_cur_u32_le(c);
    if (c->bad || db->nlits >= UINT32_MAX || !skip_pad(c)) goto bad;
    /* borrowed: all tables or none (ni_ua_db_free frees all or none); the
     * pads align all of them when they align the first (bytes that are not
     * a whole buffer of the encoder's, say, are copied) */
    borrow = borrow && (uintptr_t)ni_cur_ptr(c) % 4 == 0;
    db->borrowed = borrow;
    if (!(db->lit_off = get32s_b(c, db->nlits + 1, borrow, &b1))) goto bad;
    if (db->lit_off[0] != 0) goto bad;
    for (size_t i = 0; !trusted && i < db->nlits; i++) if (db->lit_off[i + 1] < db->lit_off[i]) goto bad;
    if (!(db->lit_rules = get32s_b(c, db->lit_off[db->nlits], borrow, &b1))) goto bad;
    for (size_t i = 0; !trusted && i < db->lit_off[db->nlits]; i++)      /* a rule's own sets only */
        if (db->lit_rules[i] / CONJ_MAX >= db->nrules ||
            !(db->rules[db->lit_rules[i] / CONJ_MAX].full >> (db->lit_rules[i] % CONJ_MAX) & 1))
            goto bad;
    const uint8_t *cls = ni_cur_bytes(c, sizeof db->cls);
    if (!cls) goto bad;
    memcpy(db->cls, cls, sizeof db->cls);
    db->nclasses = ni_cur_u32_le(c);
    db->nstates = ni_cur_u32_le(c);
    if (c->bad || !db->nclasses || db->nclasses > 256 || !db->nstates ||
        (uint64_t)db->nstates * db->nclasses > ni_cur_left(c) / 2)
        goto bad;
    for (int i = 0; i < 256; i++) if (db->cls[i] >= db->nclasses) goto bad;
    size_t nd = (size_t)db->nstates * db->nclasses;
    uint8_t width = ni_cur_u8(c);
    if (!skip_pad(c)) goto bad;
    if (width == 2) {
        const uint8_t *q = nd <= ni_cur_left(c) / 2 ? ni_cur_bytes(c, 2 * nd) : NULL;
        if (!q) goto bad;
        if (borrow && db->nstates <= 65536) db->delta16 = (const uint16_t *)(uintptr_t)q;
        else if (!(db->delta = malloc(nd * sizeof *db->delta))) goto bad;
        else widen16(db->delta, q, nd);
    } else if (width != 4 || !(db->delta = get32s(c, nd))) goto bad;
    uint32_t dmax = 0;
    for (size_t i = 0; !trusted && i < nd; i++) dmax |= db->delta[i] >= db->nstates;
    if (dmax || !skip_pad(c)) goto bad;
    if (!(db->out = (int32_t *)get32s_b(c, db->nstates, borrow, &b1)) ||
        !(db->dict = get32s_b(c, db->nstates, borrow, &b2))) goto bad;
    for (size_t i = 0; !trusted && i < db->nstates; i++) {
        if (db->out[i] < -1 || (db->out[i] >= 0 && (size_t)db->out[i] >= db->nlits) || db->dict[i] >= db->nstates)
            goto bad;
        if (db->dict[i] && db->out[db->dict[i]] < 0) goto bad;
    }
    /* every suffix chain ends (candidates() follows them to state 0) */
    for (size_t i = 0; !trusted && i < db->nstates; i++) {
        size_t steps = 0;
        for (uint32_t t = db->dict[i]; t; t = db->dict[t])
            if (++steps > db->nstates) goto bad;
    }
    /* the index tables: kept when trusted and borrowed, else made again */
    if (c->bad || !read_index(db, c, borrow)) goto bad;
    return db;
bad:
    ni_ua_db_free(db);
    return NULL;
}

void ni_ua_db_free(ni_ua_db *db)
{
    if (!db) return;
    for (size_t i = 0; i < db->nrules; i++) rule_release(&db->rules[i], !db->strings_borrowed);
    free(db->rules); free(db->always);
    free(db->delta);
    if (!db->borrowed) {
        free(db->lit_off); free(db->lit_rules);
        free(db->trig_off); free(db->trig); free(db->chk_off); free(db->chk);
        free(db->out); free(db->dict);
    }
    ni_cachefile_unmap(db->map, db->map_len);
    free(db);
}

size_t ni_ua_db_rules(const ni_ua_db *db, int list)
{
    return list >= 0 && list < NI_UA_LIST__COUNT ? db->start[list + 1] - db->start[list] : 0;
}

size_t ni_ua_db_unfiltered(const ni_ua_db *db, int list)
{
    return list >= 0 && list < NI_UA_LIST__COUNT ? db->unfiltered[list] : 0;
}

/* ----------------------------------------------------------- the parser */

#define WAYS 4

typedef struct centry {
    uint64_t hash;
    uint64_t tick;           /* 0 = empty */
    size_t keylen;
    char *blk;               /* key bytes, then the result's strings */
    ni_ua_result res;
} centry;

struct ni_ua {
    const ni_ua_db *db;
    ni_hash_key key;            /* of the result cache, drawn per parser */
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
    bool prefilter;
    uint64_t *cand;          /* candidate rules of the current UA */
    uint32_t *seen;          /* per literal: generation it was last seen in */
    uint32_t *hits;          /* the literals seen in the current UA */
    uint32_t gen;
    centry *cache; size_t nsets;
    uint64_t *used;          /* bit per set of the cache that was ever filled: ni_ua_free
                              * visits only those, not every page of a cache most
                              * runs barely use */
    uint64_t tick;
    centry scratch;          /* the result when there is no cache */
    ni_ua_stats st;
    uint32_t rc;             /* groups set by the last match, plus one */
};

ni_ua *ni_ua_new(const ni_ua_db *db, size_t cache_entries, ni_error *err)
{
    ni_ua *u = calloc(1, sizeof *u);
    if (!u) goto oom;
    u->db = db; u->prefilter = true;
    ni_hash_key_random(&u->key);
    u->md = pcre2_match_data_create(32, NULL);
    u->mc = pcre2_match_context_create(NULL);
    u->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    u->cand = calloc(db->words ? db->words : 1, sizeof *u->cand);
    u->seen = calloc(db->nlits ? db->nlits : 1, sizeof *u->seen);
    u->hits = calloc(db->nlits ? db->nlits : 1, sizeof *u->hits);
    if (!u->md || !u->mc || !u->js || !u->cand || !u->seen || !u->hits) goto oom;
    pcre2_jit_stack_assign(u->mc, NULL, u->js);
    pcre2_set_match_limit(u->mc, NI_UA_MATCH_LIMIT);
    if (cache_entries) {                     /* the cache itself on first use (ni_ua_parse) */
        size_t sets = 1;
        while (sets * WAYS < cache_entries && sets < (1u << 24)) sets *= 2;
        u->nsets = sets;
    }
    return u;
oom:
    ni_error_set(err, NI_ERR_NOMEM, "User-Agent parser: out of memory");
    ni_ua_free(u);
    return NULL;
}

void ni_ua_free(ni_ua *u)
{
    if (!u) return;
    if (u->cache && u->used)
        for (size_t s = 0; s < u->nsets; s++)
            if (u->used[s / 64] >> (s % 64) & 1)
                for (size_t w = 0; w < WAYS; w++) free(u->cache[s * WAYS + w].blk);
    free(u->cache);
    free(u->used);
    free(u->scratch.blk);
    pcre2_match_data_free(u->md);
    pcre2_match_context_free(u->mc);
    pcre2_jit_stack_free(u->js);
    free(u->cand); free(u->seen); free(u->hits);
    free(u);
}

void ni_ua_set_prefilter(ni_ua *u, bool on) { u->prefilter = on; }

void ni_ua_get_stats(const ni_ua *u, ni_ua_stats *out) { *out = u->st; }

/* Fills u->cand with the rules worth trying for s[0..n). */
static void candidates(ni_ua *u, const unsigned char *s, size_t n)
{
    const ni_ua_db *db = u->db;
    if (!u->prefilter) { memset(u->cand, 0xff, db->words * sizeof *u->cand); return; }
    memcpy(u->cand, db->always, db->words * sizeof *u->cand);
    if (++u->gen == 0) { memset(u->seen, 0, db->nlits * sizeof *u->seen); u->gen = 1; }
    const uint32_t nc = db->nclasses;
    uint32_t st = 0;
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)st * nc + db->cls[s[i]];
        st = db->delta16 ? db->delta16[at] : db->delta[at];
        for (uint32_t t = db->out[st] >= 0 ? st : db->dict[st]; t; t = db->dict[t]) {
            uint32_t lit = (uint32_t)db->out[t];
            if (u->seen[lit] == u->gen) continue;
            u->seen[lit] = u->gen;
            u->hits[nh++] = lit;
        }
    }
    for (size_t h = 0; h < nh; h++) {
        uint32_t lit = u->hits[h];
        for (uint32_t k = db->trig_off[lit]; k < db->trig_off[lit + 1]; k++) {
            uint32_t r = db->trig[k];
            if (u->cand[r / 64] >> (r % 64) & 1) continue;
            const uint32_t *p = db->chk + db->chk_off[r], *end = db->chk + db->chk_off[r + 1];
            bool all = true;
            while (all && p < end) {
                uint32_t m = *p++;
                bool any = false;
                for (uint32_t j = 0; j < m && !any; j++) any = u->seen[p[j]] == u->gen;
                p += m;
                all = any;
            }
            if (all) u->cand[r / 64] |= 1ull << (r % 64);
        }
    }
}

const uint64_t *ni_ua_candidates(ni_ua *u, const char *s, size_t n)
{
    if (n > NI_UA_LEN_MAX) n = NI_UA_LEN_MAX;
    candidates(u, (const unsigned char *)s, n);
    return u->cand;
}

/* The code to match rule r with: its JIT-compiled copy when there is one;
 * the JIT_AFTER-th try makes it.  The database is shared between threads
 * (ni_ua.h): the loaded code is never modified (pcre2_jit_compile on it
 * would race with matches in other threads); the copy is published whole
 * (release/acquire), and only the thread whose try is the JIT_AFTER-th
 * compiles.  Results are the same either way (PCRE2's JIT and interpreter
 * match alike). */
/* The regex of r as loaded, compiled now if the database is lazy (an earlier
 * run compiled it: failing now means out of memory, and the rule does not
 * match).  Threads sharing the database may race here: the first to publish
 * wins, the others free theirs; src is freed only with the database. */
static pcre2_code *rule_re(rule *r)
{
    pcre2_code *re = __atomic_load_n(&r->re, __ATOMIC_ACQUIRE);
    if (re || !r->src) return re;
    int ec; PCRE2_SIZE eo;
    re = pcre2_compile((PCRE2_SPTR)r->src, PCRE2_ZERO_TERMINATED, r->caseless ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
    if (!re) return NULL;
    pcre2_code *expected = NULL;
    if (!__atomic_compare_exchange_n(&r->re, &expected, re, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        pcre2_code_free(re);
        re = expected;
    }
    return re;
}

static const pcre2_code *rule_code(rule *r)
{
    const pcre2_code *j = atomic_load_explicit(&r->jre, memory_order_acquire);
    if (j) return j;
    pcre2_code *re = rule_re(r);
    if (re && atomic_fetch_add_explicit(&r->tries, 1, memory_order_relaxed) + 1 == JIT_AFTER) {
        pcre2_code *c = pcre2_code_copy(re);
        if (c && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0) {
            atomic_store_explicit(&r->jre, c, memory_order_release);
            return c;
        }
        pcre2_code_free(c);
    }
    return re;
}

void ni_ua_db_jit(ni_ua_db *db)
{
    for (size_t i = 0; i < db->nrules; i++) {
        rule *r = &db->rules[i];
        if (atomic_load(&r->jre)) continue;
        pcre2_code *re = rule_re(r);
        if (!re) continue;
        pcre2_code *c = pcre2_code_copy(re);
        if (c && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0) atomic_store(&r->jre, c);
        else pcre2_code_free(c);
    }
}

/* First matching rule of a list, or -1; leaves the match in u->md. */
static long first_match(ni_ua *u, int list, const char *s, size_t n)
{
    const ni_ua_db *db = u->db;
    size_t lo = db->start[list], hi = db->start[list + 1];
    for (size_t w = lo / 64; w * 64 < hi; w++) {
        uint64_t bits = u->cand[w];
        if (w == lo / 64) bits &= ~0ull << (lo % 64);
        while (bits) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (i >= hi) return -1;
            u->st.regex_tries++;
            int rc = pcre2_match(rule_code(&db->rules[i]), (PCRE2_SPTR)s, n, 0, 0, u->md, u->mc);
            if (rc > 0) { u->rc = (uint32_t)rc; return (long)i; }
            if (rc == 0) { u->rc = pcre2_get_ovector_count(u->md); return (long)i; }
            if (rc != PCRE2_ERROR_NOMATCH) u->st.match_errors++;
        }
    }
    return -1;
}

/* Output collection: fields are gathered into one block. */
typedef struct fields {
    char buf[NI_UA_FIELD_MAX * 13];
    size_t used;
    size_t off[13], len[13];
    bool set[13];
} fields;

static void add_field(fields *f, int idx, const char *p, size_t n, bool trim)
{
    if (trim) {
        while (n && (*p == ' ' || (*p >= '\t' && *p <= '\r'))) { p++; n--; }
        while (n && (p[n - 1] == ' ' || (p[n - 1] >= '\t' && p[n - 1] <= '\r'))) n--;
    }
    if (n > NI_UA_FIELD_MAX - 1) n = NI_UA_FIELD_MAX - 1;
    f->set[idx] = n > 0;
    if (!n) return;
    f->off[idx] = f->used; f->len[idx] = n;
    memcpy(f->buf + f->used, p, n);
    f->used += n;
}

static size_t group(pcre2_match_data *md, uint32_t rc, uint32_t g, const char *s, const char **out)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (g >= rc || ov[2 * g] == PCRE2_UNSET) { *out = ""; return 0; }
    *out = s + ov[2 * g];
    return ov[2 * g + 1] - ov[2 * g];
}

/* The value of field idx: its replacement with $N filled in and trimmed, or
 * capture group `grp` as is (grp 0 = none). */
static void field(fields *f, int idx, const char *rep, uint32_t grp, pcre2_match_data *md,
                  uint32_t rc, const char *s)
{
    const char *g; size_t gl;
    if (!rep) {
        if (!grp) { f->set[idx] = false; return; }
        gl = group(md, rc, grp, s, &g);
        add_field(f, idx, g, gl, false);
        return;
    }
    char tmp[NI_UA_FIELD_MAX * 2]; size_t tl = 0;
    for (const char *p = rep; *p && tl < sizeof tmp; p++) {
        if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            gl = group(md, rc, (uint32_t)(p[1] - '0'), s, &g);
            if (gl > sizeof tmp - tl) gl = sizeof tmp - tl;
            memcpy(tmp + tl, g, gl); tl += gl; p++;
        } else tmp[tl++] = *p;
    }
    add_field(f, idx, tmp, tl, true);
}

/* field indexes in `fields` */
enum { F_BF, F_B1, F_B2, F_B3, F_B4, F_OF, F_O1, F_O2, F_O3, F_O4, F_DF, F_DB, F_DM };

static void parse_into(ni_ua *u, const char *s, size_t n, centry *e, fields *f)
{
    const ni_ua_db *db = u->db;
    memset(f->set, 0, sizeof f->set);
    f->used = 0;
    candidates(u, (const unsigned char *)s, n);
    for (int list = 0; list < NI_UA_LIST__COUNT; list++) {
        long i = first_match(u, list, s, n);
        if (i < 0) continue;
        const rule *r = &db->rules[i];
        int base = list == NI_UA_LIST_BROWSER ? F_BF : list == NI_UA_LIST_OS ? F_OF : F_DF;
        if (list == NI_UA_LIST_DEVICE) {
            field(f, F_DF, r->rep[0], 1, u->md, u->rc, s);
            field(f, F_DB, r->rep[1], 0, u->md, u->rc, s);
            field(f, F_DM, r->rep[2], 1, u->md, u->rc, s);
        } else {
            for (int k = 0; k < NFIELDS; k++) field(f, base + k, r->rep[k], (uint32_t)k + 1, u->md, u->rc, s);
        }
    }
    /* one block: key, then each string NUL-terminated */
    size_t need = n + 1 + f->used + 13;
    char *blk = malloc(need);
    free(e->blk);
    e->blk = blk;
    e->keylen = n;
    static const char other[] = "Other";
    const char **slots[13] = {
        &e->res.browser.family, &e->res.browser.major, &e->res.browser.minor, &e->res.browser.patch, &e->res.browser.patch_minor,
        &e->res.os.family, &e->res.os.major, &e->res.os.minor, &e->res.os.patch, &e->res.os.patch_minor,
        &e->res.device.family, &e->res.device.brand, &e->res.device.model,
    };
    if (!blk) {                 /* out of memory: answer "Other", cache nothing */
        for (int k = 0; k < 13; k++) *slots[k] = NULL;
        e->res.browser.family = e->res.os.family = e->res.device.family = other;
        e->tick = 0;
        return;
    }
    memcpy(blk, s, n); blk[n] = 0;
    size_t o = n + 1;
    for (int k = 0; k < 13; k++) {
        if (!f->set[k]) { *slots[k] = NULL; continue; }
        memcpy(blk + o, f->buf + f->off[k], f->len[k]);
        blk[o + f->len[k]] = 0;
        *slots[k] = blk + o;
        o += f->len[k] + 1;
    }
    if (!e->res.browser.family) e->res.browser.family = other;
    if (!e->res.os.family) e->res.os.family = other;
    if (!e->res.device.family) e->res.device.family = other;
}

const ni_ua_result *ni_ua_parse(ni_ua *u, const char *ua, size_t len)
{
    fields f;
    if (!ua) { ua = ""; len = 0; }
    if (len > NI_UA_LEN_MAX) { len = NI_UA_LEN_MAX; u->st.truncated++; }
    u->st.parses++;
    if (!u->cache && u->nsets) {
        /* made on the first parse, not with the parser: a run without a
         * User-Agent never touches its pages (memory short: no cache) */
        u->cache = calloc(u->nsets * WAYS, sizeof *u->cache);
        u->used = calloc((u->nsets + 63) / 64, sizeof *u->used);
        if (!u->cache || !u->used) { free(u->cache); free(u->used); u->cache = NULL; u->used = NULL; u->nsets = 0; }
    }
    if (!u->cache) {
        parse_into(u, ua, len, &u->scratch, &f);
        return &u->scratch.res;
    }
    uint64_t h = ni_hash(&u->key, ua, len);
    size_t si = (size_t)(h & (u->nsets - 1));
    centry *set = &u->cache[si * WAYS];
    u->used[si / 64] |= 1ull << (si % 64);
    centry *victim = &set[0];
    for (int w = 0; w < WAYS; w++) {
        centry *e = &set[w];
        if (e->tick && e->hash == h && e->keylen == len && memcmp(e->blk, ua, len) == 0) {
            e->tick = ++u->tick;
            u->st.cache_hits++;
            return &e->res;
        }
        if (e->tick < victim->tick) victim = e;
    }
    parse_into(u, ua, len, victim, &f);
    victim->hash = h;
    if (victim->blk) victim->tick = ++u->tick;
    return &victim->res;
}
