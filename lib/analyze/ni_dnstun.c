/* ni_dnstun.c — DNS tunnel aggregation (see ni_dnstun.h for the rule, the
 * thresholds and the bounds). */
#include "analyze/ni_dnstun.h"
#include "analyze/ni_psl.h"
#include "core/ni_hash.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair {
    ni_map *names;                  /* exact: left parts → NULL; NULL once sketched */
    uint8_t *sketch;                /* NI_PROFILE_DNS_SKETCH_BITS bits, or NULL */
    bool full;                      /* sketch refused: the count stopped growing */
    uint64_t exact_at_sketch;       /* names counted when the sketch took over */
    uint64_t sessions, queries, stamp;
    double ent_sum, len_sum;        /* over the distinct names */
    uint64_t measured;
    char qt[NI_DNSTUN_QTYPES_MAX][16];
    uint64_t qn[NI_DNSTUN_QTYPES_MAX + 1];   /* last: other */
    int64_t first, last;
} pair;

struct ni_dnstun {
    ni_map *pairs;                  /* "client\tsuffix" → pair */
    ni_psl *psl;
    uint64_t stamp;                 /* sessions added */
    size_t name_bytes, sketches;
    ni_hash_key skey;               /* the sketches' fixed key */
};

static void pair_free(void *v)
{
    pair *p = v;
    if (!p) return;
    ni_map_free(p->names, NULL);
    free(p->sketch);
    free(p);
}

ni_dnstun *ni_dnstun_new(size_t cap, const char *psl_path)
{
    ni_dnstun *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (!(t->pairs = ni_map_new(cap))) { free(t); return NULL; }
    t->psl = psl_path ? ni_psl_load(psl_path, NULL) : NULL;   /* optional: else the last two labels */
    t->skey.k0 = 0x6e692d646e737475ull;               /* "ni-dnstu": fixed, so that profiles merge */
    t->skey.k1 = 0x6e2d736b65746368ull;
    return t;
}

void ni_dnstun_free(ni_dnstun *t)
{
    if (!t) return;
    ni_map_free(t->pairs, pair_free);
    ni_psl_free(t->psl);
    free(t);
}

const char *ni_dnstun_rule(const ni_dnstun *t) { return t->psl ? "public suffix list" : "last two labels"; }

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

/* Sets the name's bit; true when it was clear (a name not seen before, as
 * far as the sketch can tell). */
static bool sketch_add(const ni_dnstun *t, uint8_t *bits, const char *s)
{
    uint64_t h = ni_hash(&t->skey, s, strlen(s)) % NI_PROFILE_DNS_SKETCH_BITS;
    uint8_t m = (uint8_t)(1u << (h & 7));
    if (bits[h >> 3] & m) return false;
    bits[h >> 3] |= m;
    return true;
}

/* Moves a pair from its exact set to a sketch; false when refused. */
static bool to_sketch(ni_dnstun *t, pair *p)
{
    if (p->sketch) return true;
    if (p->full || t->sketches >= NI_PROFILE_DNS_SKETCHES_MAX) { p->full = true; return false; }
    p->sketch = calloc(NI_PROFILE_DNS_SKETCH_BITS / 8, 1);
    if (!p->sketch) { p->full = true; return false; }
    t->sketches++;
    size_t it = 0; const char *k;
    while (p->names && ni_map_next(p->names, &it, &k, NULL)) {
        size_t bytes = strlen(k) + 1;
        sketch_add(t, p->sketch, k);
        t->name_bytes -= bytes < t->name_bytes ? bytes : t->name_bytes;
    }
    p->exact_at_sketch = p->names ? ni_map_count(p->names) : 0;
    ni_map_free(p->names, NULL);
    p->names = NULL;
    return true;
}

/* 1 new name, 0 seen, -1 refused (counted by the caller).  In the exact
 * set a name's value is the pair itself (non-NULL: present). */
static int name_add(ni_dnstun *t, pair *p, const char *left)
{
    if (!p->sketch && !p->full) {
        if (!p->names && !(p->names = ni_map_new(NI_PROFILE_DNS_NAMES_EXACT))) return -1;
        if (ni_map_get(p->names, left)) return 0;
        size_t bytes = strlen(left) + 1;
        if (t->name_bytes + bytes <= NI_PROFILE_DNS_NAME_BYTES_MAX && ni_map_put(p->names, left, p) == NI_OK) {
            t->name_bytes += bytes;
            return 1;
        }
        if (!to_sketch(t, p)) return -1;
    }
    if (!p->sketch) return -1;
    return sketch_add(t, p->sketch, left) ? 1 : 0;
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

static pair *pair_get(ni_dnstun *t, const char *key, uint64_t *refused, uint64_t *oom)
{
    void **slot = ni_map_slot(t->pairs, key);
    if (!slot) { (*refused)++; return NULL; }
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
    const char *suf = ni_psl_suffix(t->psl, q, &left_len);
    char key[NI_ADDR_STRLEN + NI_DNS_NAME_MAX * 4 + 2];
    snprintf(key, sizeof key, "%s\t%s", client, suf);
    pair *p = pair_get(t, key, refused, oom);
    if (!p) return;
    if (p->stamp != t->stamp) { p->stamp = t->stamp; p->sessions++; }
    p->queries++;
    qtype_add(p, qtype, 1);
    if (!p->first || s->first_us < p->first) p->first = s->first_us;
    if (s->last_us > p->last) p->last = s->last_us;
    char left[NI_DNS_NAME_MAX * 4 + 1];
    snprintf(left, sizeof left, "%.*s", (int)left_len, q);
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
    if (!t || skip_port(s->client_port) || skip_port(s->server_port)) return;
    if (!s->dns && !s->dns_query) return;
    t->stamp++;
    char client[NI_ADDR_STRLEN];
    ni_addr_format(&s->client, client);
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
    while (ni_map_next(src->pairs, &it, &k, &v)) {
        const pair *s = v;
        pair *p = pair_get(d, k, refused, &oom);
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
        size_t ni = 0; const char *name;
        while (s->names && ni_map_next(s->names, &ni, &name, NULL))
            if (name_add(d, p, name) < 0) (*refused)++;
        if (s->sketch) {
            if (!to_sketch(d, p)) { (*refused)++; continue; }
            for (size_t b = 0; b < NI_PROFILE_DNS_SKETCH_BITS / 8; b++) p->sketch[b] |= s->sketch[b];
            if (s->exact_at_sketch > p->exact_at_sketch) p->exact_at_sketch = s->exact_at_sketch;
        }
        p->full |= s->full;
    }
    return NI_OK;
}

/* Distinct names of a pair: exact, or the linear-counting estimate
 * n = -m ln(V) (V = share of clear bits), never below what was exact. */
static uint64_t pair_names(const pair *p, bool *estimated)
{
    *estimated = p->sketch != NULL || p->full;
    if (!p->sketch) return p->names ? ni_map_count(p->names) : p->exact_at_sketch;
    size_t zeros = 0;
    for (size_t b = 0; b < NI_PROFILE_DNS_SKETCH_BITS / 8; b++)
        zeros += 8u - (size_t)__builtin_popcount(p->sketch[b]);
    double m = NI_PROFILE_DNS_SKETCH_BITS;
    double est = zeros ? -m * log((double)zeros / m) : m * log(m);
    uint64_t n = (uint64_t)(est + 0.5);
    return n < p->exact_at_sketch ? p->exact_at_sketch : n;
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
    size_t cnt = ni_map_count(t->pairs), n = 0, it = 0;
    ni_dnstun_row *r = calloc(cnt + 1, sizeof *r);
    if (!r) return 0;
    const char *k; void *v;
    while (ni_map_next(t->pairs, &it, &k, &v)) {
        const pair *p = v;
        ni_dnstun_row *w = &r[n];
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
