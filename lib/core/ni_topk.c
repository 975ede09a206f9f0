/* ni_topk.c — Space-Saving heavy hitters over string keys (see ni_topk.h).
 * Entries live in one array (grown by doubling up to cap); an open-addressed
 * index of entry numbers (linear probing, backward-shift deletion) finds a
 * key, placed by SipHash under the table's own random key (no chosen
 * collisions); a min-heap on (count + error, fixed-key hash descending, key
 * descending) finds the key to evict, built when the table first evicts.
 * The entry last added to is tried first, so a key added again at once is
 * not hashed again; then a direct-mapped memo of recent keys' entries (64
 * slots, as many as the entry array past that, up to 1024), placed by a
 * cheap unkeyed fingerprint (length, first and last 8 bytes) and checked
 * against the entry's key, so a recent key is not hashed either (a
 * collision, chosen or not, only costs the SipHash look-up it would have
 * cost anyway).  Each entry keeps its key's length and fingerprint, compared
 * before the key's bytes, so a miss rarely reads the key. */
#include "core/ni_topk.h"
#include "core/ni_hash.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_SMALL_BITS 6 /* the memo: 64 slots in the table itself, */
#define MEMO_MAX_BITS 10  /* as many as entries fit past that (a power of two), at most 1024 */
#define INLINE_KEY 32     /* keys shorter than this live in their entry (no allocation,
                             and no second cache line to read when compared) */

typedef struct ent {
    uint64_t fp;        /* memo_fp of the key: compared before the key itself */
    uint32_t len;       /* strlen of the key */
    uint32_t pos;       /* place in the heap */
    char *key;          /* ikey when len < INLINE_KEY, else an allocated copy */
    void *value;
    uint64_t count, err;
    uint64_t h;         /* fixed-key hash: ties between equal counts */
    uint64_t place;     /* random-key hash: index position */
    char ikey[INLINE_KEY];
} ent;

static inline bool key_inline(const ent *x) { return x->len < INLINE_KEY; }

/* Frees an entry's key copy (an inline key needs nothing). */
static inline void key_release(ent *x)
{
    if (!key_inline(x)) free(x->key);
}

struct ni_topk {
    ent *e;
    size_t n, ecap, cap;
    uint32_t *idx;      /* entry number + 1; 0 = empty */
    size_t isize;       /* power of two, >= 2 * ecap */
    uint32_t *heap;     /* entry numbers (heaped only) */
    bool heaped;
    size_t last;        /* the entry last added to: a key added again at once is found
                           by comparing it with that entry's key, without hashing */
    uint32_t *memo;     /* entry number + 1 of recent keys, by fingerprint (0 = none): */
    unsigned memo_bits; /* 2^memo_bits slots (0: none yet), memo_small or allocated */
    uint32_t memo_small[1u << MEMO_SMALL_BITS];
    ni_hash_key key;
    ni_topk_evict_fn evict;
    void *ud;
    uint64_t total, dropped, evicted;
};

ni_topk *ni_topk_new(size_t cap, ni_topk_evict_fn evict, void *ud)
{
    ni_topk *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cap = cap < 1 ? 1 : cap > UINT32_MAX / 4 ? UINT32_MAX / 4 : cap;
    t->evict = evict;
    t->ud = ud;
    ni_hash_key_random(&t->key);
    return t;
}

void ni_topk_free(ni_topk *t, void (*free_value)(void *))
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        if (free_value && t->e[i].value) free_value(t->e[i].value);
        key_release(&t->e[i]);
    }
    free(t->e);
    free(t->idx);
    free(t->heap);
    if (t->memo != t->memo_small) free(t->memo);
    free(t);
}

/* a should leave before b */
static bool before(const ent *a, const ent *b)
{
    uint64_t pa = a->count + a->err, pb = b->count + b->err;
    if (pa != pb) return pa < pb;
    if (a->h != b->h) return a->h > b->h;
    return strcmp(a->key, b->key) > 0;
}

static void heap_set(ni_topk *t, size_t i, uint32_t v)
{
    t->heap[i] = v;
    t->e[v].pos = (uint32_t)i;
}

static void sift_down(ni_topk *t, size_t i)
{
    size_t n = t->n;
    uint32_t v = t->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const ent *best = &t->e[v];
        if (l < n && before(&t->e[t->heap[l]], best)) { m = l; best = &t->e[t->heap[l]]; }
        if (r < n && before(&t->e[t->heap[r]], best)) m = r;
        if (m == i) break;
        heap_set(t, i, t->heap[m]);
        i = m;
    }
    heap_set(t, i, v);
}

static void heapify(ni_topk *t)
{
    for (size_t i = 0; i < t->n; i++) heap_set(t, i, (uint32_t)i);
    for (size_t i = t->n / 2; i-- > 0;) sift_down(t, i);
    t->heaped = true;
}

/* The index slot of key (placement hash ph): where it is, or the empty
 * slot it would take. */
static size_t find(const ni_topk *t, const char *key, uint64_t ph)
{
    size_t mask = t->isize - 1, i = ph & mask;
    while (t->idx[i]) {
        const ent *x = &t->e[t->idx[i] - 1];
        if (x->place == ph && !strcmp(x->key, key)) return i;
        i = (i + 1) & mask;
    }
    return i;
}

static void idx_remove(ni_topk *t, size_t i)
{
    size_t mask = t->isize - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->idx[j]) break;
        size_t k = t->e[t->idx[j] - 1].place & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        bool stay = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stay) { t->idx[i] = t->idx[j]; i = j; }
    }
    t->idx[i] = 0;
}

/* Room for one more entry (array and index). */
static ni_err grow(ni_topk *t)
{
    if (t->n < t->ecap) return NI_OK;
    size_t nc = t->ecap ? t->ecap * 2 : 8;
    if (nc > t->cap) nc = t->cap;
    ent *ne = realloc(t->e, nc * sizeof *ne);
    if (!ne) return NI_ERR_NOMEM;
    t->e = ne;
    for (size_t i = 0; i < t->n; i++)          /* inline keys moved with their entries */
        if (key_inline(&ne[i])) ne[i].key = ne[i].ikey;
    size_t ns = 16;
    while (ns < 2 * nc) ns *= 2;
    if (ns != t->isize) {
        uint32_t *ni = calloc(ns, sizeof *ni);
        if (!ni) return NI_ERR_NOMEM;
        free(t->idx);
        t->idx = ni;
        t->isize = ns;
        for (size_t i = 0; i < t->n; i++) t->idx[find(t, t->e[i].key, t->e[i].place)] = (uint32_t)i + 1;
    }
    unsigned mb = MEMO_SMALL_BITS;
    while (mb < MEMO_MAX_BITS && ((size_t)1 << mb) < nc) mb++;
    if (mb != t->memo_bits) {   /* a memo as large as the table (its content is only a cache) */
        uint32_t *nm = mb == MEMO_SMALL_BITS ? t->memo_small : calloc((size_t)1 << mb, sizeof *nm);
        if (!nm) return NI_ERR_NOMEM;
        if (t->memo && t->memo != t->memo_small) free(t->memo);
        t->memo = nm;
        t->memo_bits = mb;
    }
    t->ecap = nc;
    if (t->heaped || t->heap) {   /* the heap array follows the entries */
        uint32_t *nh = realloc(t->heap, nc * sizeof *nh);
        if (!nh) return NI_ERR_NOMEM;
        t->heap = nh;
    }
    return NI_OK;
}

/* The memo fingerprint of a key of len bytes: its length and its first and
 * last 8 bytes (fewer when shorter), mixed by multiplication; its top
 * memo_bits bits are the slot. */
static uint64_t memo_fp(const char *key, size_t len)
{
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        memcpy(&a, key, 8);
        memcpy(&b, key + len - 8, 8);
    } else if (len >= 4) {          /* two overlapping 4-byte words */
        uint32_t x, y;
        memcpy(&x, key, 4);
        memcpy(&y, key + len - 4, 4);
        a = (uint64_t)x << 32 | y;
    } else {
        for (size_t i = 0; i < len; i++) a |= (uint64_t)(unsigned char)key[i] << (8 * i);
    }
    uint64_t f = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ len;
    return f * 0x9e3779b97f4a7c15ull;
}

/* Whether entry x holds key (len bytes, fingerprint fp): the length and
 * fingerprint kept beside the entry decide most misses without reading the
 * key's bytes (another allocation, often out of cache). */
static inline bool ent_is(const ent *x, const char *key, size_t len, uint64_t fp)
{
    return x->fp == fp && x->len == len && !memcmp(x->key, key, len);
}

static void **add(ni_topk *t, const char *key, uint64_t w, uint64_t extra_err)
{
    size_t len = strlen(key);
    uint64_t fp = memo_fp(key, len), ph = 0;
    ent *x = NULL;
    if (t->last < t->n && ent_is(&t->e[t->last], key, len, fp)) x = &t->e[t->last];
    else if (t->memo) {
        uint32_t c = t->memo[fp >> (64 - t->memo_bits)];
        if (c && c <= t->n && ent_is(&t->e[c - 1], key, len, fp)) x = &t->e[c - 1];
    }
    if (!x) {
        ph = ni_hash(&t->key, key, len);
        if (t->idx) {
            size_t s = find(t, key, ph);
            if (t->idx[s]) x = &t->e[t->idx[s] - 1];
        }
    }
    if (x) {
        t->last = (size_t)(x - t->e);
        if (t->memo) t->memo[fp >> (64 - t->memo_bits)] = (uint32_t)t->last + 1;
        x->count += w;
        x->err += extra_err;
        t->total += w;
        if (t->heaped) sift_down(t, x->pos);
        return &x->value;
    }
    /* the key copied first (the eviction below may free what it points to):
     * into the entry when short, else allocated */
    char ibuf[INLINE_KEY];
    char *copy = len < INLINE_KEY ? ibuf : malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, key, len + 1);
    uint64_t h = ni_hash(&ni_hash_key_fixed, key, len);
    if (t->n < t->cap) {
        if (grow(t)) { if (copy != ibuf) free(copy); return NULL; }
        uint32_t v = (uint32_t)t->n++;
        ent *y = &t->e[v];
        *y = (ent){ .key = copy, .count = w, .err = extra_err, .h = h, .place = ph, .fp = fp,
                    .len = (uint32_t)len };
        if (copy == ibuf) { memcpy(y->ikey, ibuf, len + 1); y->key = y->ikey; }
        t->idx[find(t, y->key, ph)] = v + 1;
        t->last = v;
        t->memo[fp >> (64 - t->memo_bits)] = v + 1;
        if (t->heaped) {   /* keep the heap (a table refilled after merging) */
            size_t i = t->n - 1;
            heap_set(t, i, v);
            while (i && before(&t->e[t->heap[i]], &t->e[t->heap[(i - 1) / 2]])) {
                uint32_t p = t->heap[(i - 1) / 2];
                heap_set(t, (i - 1) / 2, t->heap[i]);
                heap_set(t, i, p);
                i = (i - 1) / 2;
            }
        }
        t->total += w;
        return &t->e[v].value;
    }
    if (!t->heaped) {
        if (!t->heap && !(t->heap = malloc(t->ecap * sizeof *t->heap))) { if (copy != ibuf) free(copy); return NULL; }
        heapify(t);
    }
    uint32_t v = t->heap[0];
    x = &t->e[v];
    uint64_t m = x->count + x->err;
    if (t->evict) t->evict(t->ud, x->key, x->value, x->count, x->err);
    t->dropped += x->count;
    t->evicted++;
    idx_remove(t, find(t, x->key, x->place));
    key_release(x);
    *x = (ent){ .key = copy, .count = w, .err = m + extra_err, .h = h, .place = ph, .fp = fp,
                .len = (uint32_t)len, .pos = 0 };
    if (copy == ibuf) { memcpy(x->ikey, ibuf, len + 1); x->key = x->ikey; }
    t->idx[find(t, x->key, ph)] = v + 1;
    t->last = v;
    if (t->memo) t->memo[fp >> (64 - t->memo_bits)] = v + 1;
    t->total += w;
    sift_down(t, 0);
    return &x->value;
}

void **ni_topk_add(ni_topk *t, const char *key, uint64_t w) { return add(t, key, w, 0); }

void **ni_topk_add_error(ni_topk *t, const char *key, uint64_t w, uint64_t err) { return add(t, key, w, err); }

static const ent *get(const ni_topk *t, const char *key)
{
    if (!t->idx) return NULL;
    size_t s = find(t, key, ni_hash(&t->key, key, strlen(key)));
    return t->idx[s] ? &t->e[t->idx[s] - 1] : NULL;
}

void *ni_topk_get(const ni_topk *t, const char *key)
{
    const ent *x = get(t, key);
    return x ? x->value : NULL;
}

uint64_t ni_topk_count_of(const ni_topk *t, const char *key, uint64_t *error)
{
    const ent *x = get(t, key);
    if (error) *error = x ? x->err : 0;
    return x ? x->count : 0;
}

size_t ni_topk_count(const ni_topk *t) { return t->n; }
size_t ni_topk_cap(const ni_topk *t) { return t->cap; }
uint64_t ni_topk_total(const ni_topk *t) { return t->total; }
uint64_t ni_topk_dropped(const ni_topk *t) { return t->dropped; }
uint64_t ni_topk_evicted(const ni_topk *t) { return t->evicted; }

uint64_t ni_topk_bound(const ni_topk *t)
{
    if (!t->evicted || !t->heaped || !t->n) return 0;
    const ent *x = &t->e[t->heap[0]];
    return x->count + x->err;
}

int ni_topk_next(const ni_topk *t, size_t *it, const char **key, void **value)
{
    if (*it >= t->n) return 0;
    if (key) *key = t->e[*it].key;
    if (value) *value = t->e[*it].value;
    (*it)++;
    return 1;
}
