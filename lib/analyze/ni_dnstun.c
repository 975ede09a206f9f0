/* ni_dnstun.c — DNS tunnel aggregation (see ni_dnstun.h for the rule, the
 * thresholds and the bounds). */
#include "analyze/ni_dnstun.h"
#include "analyze/ni_psl.h"
#include "core/ni_hll.h"
#include "core/ni_limits.h"
#include "core/ni_topk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair {
    ni_distinct *names;             /* distinct left parts: exact, then HyperLogLog */
    bool full;                      /* estimate refused: the count stopped growing */
    uint64_t sessions, queries, stamp;
    double ent_sum, len_sum;        /* over the distinct names */
    uint64_t measured;
    char qt[NI_DNSTUN_QTYPES_MAX][16];
    uint64_t qn[NI_DNSTUN_QTYPES_MAX + 1];   /* last: other */
    int64_t first, last;
} pair;

/* The suffix of recent names (ni_psl_suffix: its offset in the name and
 * left_len): a direct-mapped cache placed by an FNV-1a hash of the name and
 * checked against the name itself (a collision only costs a look-up). */
#define SCACHE_N 256
typedef struct scache { uint16_t off, left; char name[96]; } scache;

struct ni_dnstun {
    scache sc[SCACHE_N];
    ni_topk *pairs;                 /* "client\tsuffix" → pair, the most queried (core/ni_topk) */
    ni_psl *psl;                    /* read on first need (psl_of): a run without DNS names never reads it */
    char *psl_path;                 /* NULL: none to read */
    bool psl_tried;
    uint64_t stamp;                 /* sessions added */
    size_t sketches;                /* pairs whose count is an estimate */
    uint64_t evicted, dropped, bound; /* pairs that left, their queries, the most a pair had */
};

static void pair_free(void *v)
{
    pair *p = v;
    if (!p) return;
    ni_distinct_free(p->names);
    free(p);
}

/* A pair leaves the table (ni_topk_evict_fn). */
static void pair_evicted(void *ud, const char *key, void *v, uint64_t count, uint64_t error)
{
    (void)key;
    ni_dnstun *t = ud;
    pair *p = v;
    if (p && p->names && ni_distinct_estimated(p->names) && t->sketches) t->sketches--;
    t->evicted++;
    t->dropped += count;
    if (count + error > t->bound) t->bound = count + error;
    pair_free(p);
}

ni_dnstun *ni_dnstun_new(size_t cap, const char *psl_path)
{
    ni_dnstun *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (!(t->pairs = ni_topk_new(cap, pair_evicted, t))) { free(t); return NULL; }
    if (psl_path && !(t->psl_path = strdup(psl_path))) { ni_topk_free(t->pairs, pair_free); free(t); return NULL; }
    return t;
}

/* The Public Suffix List, read the first time it is needed (~10 M
 * instructions: most runs' profiles have no DNS name); NULL when there is
 * none or it cannot be read (optional: then the last two labels). */
static const ni_psl *psl_of(ni_dnstun *t)
{
    if (!t->psl_tried) {
        t->psl_tried = true;
        t->psl = t->psl_path ? ni_psl_load(t->psl_path, NULL) : NULL;
    }
    return t->psl;
}

void ni_dnstun_free(ni_dnstun *t)
{
    if (!t) return;
    ni_topk_free(t->pairs, pair_free);
    ni_psl_free(t->psl);
    free(t->psl_path);
    free(t);
}

const char *ni_dnstun_rule(ni_dnstun *t) { return psl_of(t) ? "public suffix list" : "last two labels"; }

double ni_dnstun_entropy(const char *s, size_t n)
{
    unsigned cnt[256] = {0};
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') continue;
        cnt[(unsigned char)s[i]]++;
        total++;
    }
    if (!total) return 0;
    double h = 0;
    for (int c = 0; c < 256; c++) {
        if (!cnt[c]) continue;
        double q = (double)cnt[c] / (double)total;
        h -= q * log2(q);
    }
    return h;
}

/* 1 new name, 0 seen (or, once the count is an estimate, not known to be
 * new), -1 refused (counted by the caller).  A pair's count turns into an
 * estimate past NI_PROFILE_DNS_NAMES_EXACT names, for at most
 * NI_PROFILE_DNS_SKETCHES_MAX pairs; past that its count stops growing. */
static int name_add(ni_dnstun *t, pair *p, const char *left)
{
    if (p->full) return -1;
    if (!p->names && !(p->names = ni_distinct_new(NI_PROFILE_DNS_NAMES_EXACT))) return -1;
    uint64_t h = ni_distinct_hash(left, strlen(left));
    int had = ni_distinct_has_hash(p->names, h);
    if (had == 1) return 0;
    bool was_estimated = ni_distinct_estimated(p->names);
    if (!was_estimated && ni_distinct_count(p->names) >= NI_PROFILE_DNS_NAMES_EXACT &&
        t->sketches >= NI_PROFILE_DNS_SKETCHES_MAX) { p->full = true; return -1; }
    if (ni_distinct_add_hash(p->names, h) != NI_OK) return -1;
    if (!was_estimated && ni_distinct_estimated(p->names)) t->sketches++;
    return had == 0 ? 1 : 0;
}

static void qtype_add(pair *p, const char *qt, uint64_t n)
{
    if (!qt) qt = "unknown";
    for (size_t i = 0; i < NI_DNSTUN_QTYPES_MAX; i++) {
        if (!p->qt[i][0]) { snprintf(p->qt[i], sizeof p->qt[i], "%s", qt); p->qn[i] += n; return; }
        if (!strcmp(p->qt[i], qt)) { p->qn[i] += n; return; }
    }
    p->qn[NI_DNSTUN_QTYPES_MAX] += n;
}

/* The pair of key, its queries about to grow by w (err: merging); a name
 * new to a full table takes the place of the least queried pair. */
static pair *pair_get(ni_dnstun *t, const char *key, uint64_t w, uint64_t err, uint64_t *refused, uint64_t *oom)
{
    (void)refused;   /* nothing is refused any more: past the cap the least queried pair leaves */
    void **slot = ni_topk_add_error(t->pairs, key, w, err);
    if (!slot) { (*oom)++; return NULL; }
    if (!*slot && !(*slot = calloc(1, sizeof(pair)))) { (*oom)++; return NULL; }
    return *slot;
}

static bool skip_port(uint16_t p) { return p == 5353 || p == 5355 || p == 137; }

/* One name: its pair, counters, distinctness and shape. */
static void add_name(ni_dnstun *t, const ni_session *s, const char *client, const char *q, const char *qtype,
                     uint64_t *refused, uint64_t *oom)
{
    if (!q || !*q) return;
    size_t len = strlen(q);
    if (len >= 4 && !strcmp(q + len - 4, "arpa") && (len == 4 || q[len - 5] == '.')) return;
    size_t left_len;
    const char *suf;
    scache *c = NULL;
    if (len < sizeof c->name) {
        uint32_t fh = 2166136261u;
        for (size_t i = 0; i < len; i++) fh = (fh ^ (unsigned char)q[i]) * 16777619u;
        c = &t->sc[(fh ^ (fh >> 16)) % SCACHE_N];
    }
    if (c && c->name[0] && !strcmp(c->name, q)) {
        suf = q + c->off;
        left_len = c->left;
    } else {
        suf = ni_psl_suffix(psl_of(t), q, &left_len);
        if (c) { memcpy(c->name, q, len + 1); c->off = (uint16_t)(suf - q); c->left = (uint16_t)left_len; }
    }
    char key[NI_ADDR_STRLEN + NI_DNS_NAME_MAX * 4 + 2];
    size_t cl = strlen(client), sl = strlen(suf);        /* "client\tsuffix", cut to the buffer */
    if (cl > sizeof key - 1) cl = sizeof key - 1;
    memcpy(key, client, cl);
    size_t kl = cl;
    if (kl < sizeof key - 1) key[kl++] = '\t';
    if (sl > sizeof key - 1 - kl) sl = sizeof key - 1 - kl;
    memcpy(key + kl, suf, sl);
    key[kl + sl] = 0;
    pair *p = pair_get(t, key, 1, 0, refused, oom);
    if (!p) return;
    if (p->stamp != t->stamp) { p->stamp = t->stamp; p->sessions++; }
    p->queries++;
    qtype_add(p, qtype, 1);
    if (!p->first || s->first_us < p->first) p->first = s->first_us;
    if (s->last_us > p->last) p->last = s->last_us;
    char left[NI_DNS_NAME_MAX * 4 + 1];
    size_t ll = left_len < sizeof left - 1 ? left_len : sizeof left - 1;
    memcpy(left, q, ll);
    left[ll] = 0;
    int r = name_add(t, p, left);
    if (r < 0) { (*refused)++; return; }
    if (r == 1) {
        p->measured++;
        p->ent_sum += ni_dnstun_entropy(left, left_len);
        size_t chars = 0;
        for (size_t i = 0; i < left_len; i++) chars += left[i] != '.';
        p->len_sum += (double)chars;
    }
}

void ni_dnstun_add(ni_dnstun *t, const ni_session *s, uint64_t *refused, uint64_t *oom)
{
    char client[NI_ADDR_STRLEN];
    ni_dnstun_add_at(t, s, ni_addr_format(&s->client, client), refused, oom);
}

void ni_dnstun_add_at(ni_dnstun *t, const ni_session *s, const char *client, uint64_t *refused, uint64_t *oom)
{
    if (!t || skip_port(s->client_port) || skip_port(s->server_port)) return;
    if (!s->dns && !s->dns_query) return;
    t->stamp++;
    if (s->dns) {
        for (const ni_dns_txn *x = s->dns; x; x = x->next) add_name(t, s, client, x->query, x->qtype, refused, oom);
    } else {
        add_name(t, s, client, s->dns_query, NULL, refused, oom);
    }
}

ni_err ni_dnstun_merge(ni_dnstun *d, const ni_dnstun *src, uint64_t *refused)
{
    size_t it = 0; const char *k; void *v;
    uint64_t oom = 0;
    d->evicted += src->evicted;
    d->dropped += src->dropped;
    if (src->bound > d->bound) d->bound = src->bound;
    while (ni_topk_next(src->pairs, &it, &k, &v)) {
        const pair *s = v;
        if (!s) continue;
        uint64_t err;
        ni_topk_count_of(src->pairs, k, &err);
        pair *p = pair_get(d, k, s->queries, err, refused, &oom);
        if (!p) { if (oom) return NI_ERR_NOMEM; continue; }
        p->sessions += s->sessions;
        p->queries += s->queries;
        p->ent_sum += s->ent_sum;
        p->len_sum += s->len_sum;
        p->measured += s->measured;
        if (!p->first || (s->first && s->first < p->first)) p->first = s->first;
        if (s->last > p->last) p->last = s->last;
        for (size_t i = 0; i < NI_DNSTUN_QTYPES_MAX && s->qt[i][0]; i++) qtype_add(p, s->qt[i], s->qn[i]);
        p->qn[NI_DNSTUN_QTYPES_MAX] += s->qn[NI_DNSTUN_QTYPES_MAX];
        if (s->names) {
            if (!p->names && !(p->names = ni_distinct_new(NI_PROFILE_DNS_NAMES_EXACT))) return NI_ERR_NOMEM;
            bool was_estimated = ni_distinct_estimated(p->names);
            if (ni_distinct_merge(p->names, s->names) != NI_OK) return NI_ERR_NOMEM;
            if (!was_estimated && ni_distinct_estimated(p->names)) d->sketches++;
        }
        p->full |= s->full;
    }
    return NI_OK;
}

/* Distinct names of a pair: exact, or the estimate (ni_hll.h). */
static uint64_t pair_names(const pair *p, bool *estimated)
{
    *estimated = p->full || (p->names && ni_distinct_estimated(p->names));
    return p->names ? ni_distinct_count(p->names) : 0;
}

static bool data_qtype(const char *q)
{
    static const char *const t[] = { "TXT", "NULL", "CNAME", "MX", "SRV", "ANY", "KEY" };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (!strcmp(q, t[i])) return true;
    if (!strncmp(q, "TYPE", 4)) {
        long v = strtol(q + 4, NULL, 10);
        return v >= 65280 && v <= 65534;                /* private use, RFC 6895 */
    }
    return false;
}

static int cmp_row(const void *x, const void *y)
{
    const ni_dnstun_row *a = x, *b = y;
    if (a->names != b->names) return a->names < b->names ? 1 : -1;
    if (a->queries != b->queries) return a->queries < b->queries ? 1 : -1;
    int c = strcmp(a->client, b->client);
    return c ? c : strcmp(a->suffix, b->suffix);
}

static int cmp_qtype(const void *x, const void *y)
{
    const ni_dnstun_qtype *a = x, *b = y;
    if (a->queries != b->queries) return a->queries < b->queries ? 1 : -1;
    return strcmp(a->qtype, b->qtype);
}

size_t ni_dnstun_rows(const ni_dnstun *t, ni_dnstun_row **rows)
{
    *rows = NULL;
    size_t cnt = ni_topk_count(t->pairs), n = 0, it = 0;
    ni_dnstun_row *r = calloc(cnt + 1, sizeof *r);
    if (!r) return 0;
    const char *k; void *v;
    while (ni_topk_next(t->pairs, &it, &k, &v)) {
        const pair *p = v;
        if (!p) continue;
        ni_dnstun_row *w = &r[n];
        memset(w, 0, sizeof *w);
        ni_topk_count_of(t->pairs, k, &w->queries_error);
        w->names = pair_names(p, &w->estimated);
        if (w->names < NI_DNSTUN_NAMES_MIN || !p->measured) continue;
        w->mean_entropy = p->ent_sum / (double)p->measured;
        w->mean_length = p->len_sum / (double)p->measured;
        if (w->mean_length < NI_DNSTUN_LENGTH_MIN || w->mean_entropy < NI_DNSTUN_ENTROPY_FLOOR) continue;
        const char *tab = strchr(k, '\t');
        w->client = k;          /* "client\tsuffix": the writer prints up to the tab */
        w->suffix = tab + 1;
        w->sessions = p->sessions;
        w->queries = p->queries;
        w->first_us = p->first;
        w->last_us = p->last;
        uint64_t data = 0;
        for (size_t i = 0; i < NI_DNSTUN_QTYPES_MAX && p->qt[i][0]; i++) {
            w->qtypes[w->nqtypes].qtype = p->qt[i];
            w->qtypes[w->nqtypes++].queries = p->qn[i];
            if (data_qtype(p->qt[i])) data += p->qn[i];
        }
        if (p->qn[NI_DNSTUN_QTYPES_MAX]) {
            w->qtypes[w->nqtypes].qtype = "other";
            w->qtypes[w->nqtypes++].queries = p->qn[NI_DNSTUN_QTYPES_MAX];
        }
        qsort(w->qtypes, w->nqtypes, sizeof w->qtypes[0], cmp_qtype);
        if (w->mean_entropy >= NI_DNSTUN_ENTROPY_HIGH) w->indicators |= 1;
        if (2 * data >= p->queries && p->queries) w->indicators |= 2;
        if (w->names >= NI_DNSTUN_NAMES_MANY || w->mean_length >= NI_DNSTUN_LENGTH_LONG) w->indicators |= 4;
        static const double pr[] = { 0.5, 0.65, 0.8, 0.95 };
        w->probability = pr[__builtin_popcount(w->indicators)];
        n++;
    }
    qsort(r, n, sizeof *r, cmp_row);
    *rows = r;
    return n;
}

void ni_dnstun_table(const ni_dnstun *t, ni_dnstun_stats *st)
{
    st->cap = ni_topk_cap(t->pairs);
    st->kept = ni_topk_count(t->pairs);
    st->evicted = t->evicted;
    st->dropped = t->dropped;
    st->bound = t->bound;
    st->total = ni_topk_total(t->pairs);
}
