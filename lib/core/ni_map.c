/* ni_map.c — string hash map and address set (see ni_map.h). */
#include "core/ni_map.h"
#include "core/ni_hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot { char *key; void *value; uint64_t hash; } slot;

struct ni_map {
    slot *t;
    size_t size, count, cap;
    ni_hash_key key;
};

ni_map *ni_map_new(size_t cap)
{
    ni_hash_key k;
    ni_hash_key_random(&k);
    return ni_map_new_keyed(cap, &k);
}

/* A zeroed table with each page written: a large calloc is a fresh mapping
 * whose pages, read first (a probe), map the zero page, and the first write
 * to each then replaces it, which in a process with other threads
 * interrupts every CPU running one (a TLB shootdown).  (A memset would be
 * folded into the calloc by the compiler.) */
static void *zalloc(size_t n, size_t size)
{
    unsigned char *p = calloc(n, size);
    for (size_t i = 0; p && i < n * size; i += 4096) ((volatile unsigned char *)p)[i] = 0;
    return p;
}

ni_map *ni_map_new_keyed(size_t cap, const ni_hash_key *key)
{
    ni_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->key = *key;
    m->cap = cap;
    m->size = 16;
    m->t = calloc(m->size, sizeof *m->t);
    if (!m->t) { free(m); return NULL; }
    return m;
}

void ni_map_free(ni_map *m, void (*free_value)(void *))
{
    if (!m) return;
    for (size_t i = 0; i < m->size; i++)
        if (m->t[i].key) { free(m->t[i].key); if (free_value) free_value(m->t[i].value); }
    free(m->t);
    free(m);
}

static size_t find(const ni_map *m, const char *key, uint64_t h)
{
    size_t mask = m->size - 1, i = h & mask;
    while (m->t[i].key && (m->t[i].hash != h || strcmp(m->t[i].key, key))) i = (i + 1) & mask;
    return i;
}

static int grow(ni_map *m)
{
    size_t ns = m->size * 2;
    slot *nt = zalloc(ns, sizeof *nt);
    if (!nt) return -1;
    for (size_t i = 0; i < m->size; i++) {
        if (!m->t[i].key) continue;
        size_t j = m->t[i].hash & (ns - 1);
        while (nt[j].key) j = (j + 1) & (ns - 1);
        nt[j] = m->t[i];
    }
    free(m->t);
    m->t = nt; m->size = ns;
    return 0;
}

void *ni_map_get(const ni_map *m, const char *key)
{
    size_t i = find(m, key, ni_hash(&m->key, key, strlen(key)));
    return m->t[i].key ? m->t[i].value : NULL;
}

/* ni_map_slot with the key's hash h already computed. */
static void **slot_h(ni_map *m, const char *key, uint64_t h)
{
    size_t i = find(m, key, h);
    if (m->t[i].key) return &m->t[i].value;
    if (m->count >= m->cap) return NULL;
    if ((m->count + 1) * 4 > m->size * 3) {
        if (grow(m)) return NULL;
        i = find(m, key, h);
    }
    char *k = strdup(key);
    if (!k) return NULL;
    m->t[i].key = k; m->t[i].hash = h; m->t[i].value = NULL;
    m->count++;
    return &m->t[i].value;
}

void **ni_map_slot(ni_map *m, const char *key)
{
    return slot_h(m, key, ni_hash(&m->key, key, strlen(key)));
}

ni_err ni_map_put(ni_map *m, const char *key, void *value)
{
    uint64_t h = ni_hash(&m->key, key, strlen(key));
    if (m->count >= m->cap && !m->t[find(m, key, h)].key) return NI_ERR_LIMIT;
    void **s = slot_h(m, key, h);
    if (!s) return NI_ERR_NOMEM;
    *s = value;
    return NI_OK;
}

/* Backward-shift deletion (linear probing keeps no tombstones): every key
 * after the hole whose home slot does not lie cyclically in (hole, its
 * slot] moves back into the hole. */
void *ni_map_remove(ni_map *m, const char *key)
{
    size_t mask = m->size - 1, i = find(m, key, ni_hash(&m->key, key, strlen(key)));
    if (!m->t[i].key) return NULL;
    void *v = m->t[i].value;
    free(m->t[i].key);
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!m->t[j].key) break;
        size_t k = (size_t)m->t[j].hash & mask;
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        m->t[i] = m->t[j];
        i = j;
    }
    m->t[i].key = NULL; m->t[i].value = NULL; m->t[i].hash = 0;
    m->count--;
    return v;
}

size_t ni_map_count(const ni_map *m) { return m->count; }

size_t ni_map_probe_max(const ni_map *m)
{
    size_t worst = 0, mask = m->size - 1;
    for (size_t i = 0; i < m->size; i++) {
        if (!m->t[i].key) continue;
        size_t d = (i - (size_t)m->t[i].hash) & mask;   /* distance from its home slot */
        if (d + 1 > worst) worst = d + 1;
    }
    return worst;
}

int ni_map_next(const ni_map *m, size_t *it, const char **key, void **value)
{
    while (*it < m->size) {
        size_t i = (*it)++;
        if (m->t[i].key) { if (key) *key = m->t[i].key; if (value) *value = m->t[i].value; return 1; }
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **ni_map_sorted_keys(const ni_map *m)
{
    const char **k = malloc((m->count + 1) * sizeof *k);
    if (!k) return NULL;
    size_t n = 0, it = 0;
    const char *key;
    while (ni_map_next(m, &it, &key, NULL)) k[n++] = key;
    qsort(k, n, sizeof *k, cmp_str);
    k[n] = NULL;
    return k;
}

/* ---- address set ------------------------------------------------------- */
typedef struct aslot { ni_addr a; uint8_t used; } aslot;

struct ni_addrset {
    aslot *t;
    size_t size, count, cap;
    ni_hash_key key;
};

ni_addrset *ni_addrset_new(size_t cap)
{
    ni_addrset *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    ni_hash_key_random(&s->key);
    s->cap = cap; s->size = 8;
    s->t = calloc(s->size, sizeof *s->t);
    if (!s->t) { free(s); return NULL; }
    return s;
}

void ni_addrset_free(ni_addrset *s)
{
    if (!s) return;
    free(s->t);
    free(s);
}

static uint64_t ahash(const ni_addrset *s, const ni_addr *a) { return ni_hash(&s->key, a, sizeof *a); }

static size_t afind(const ni_addrset *s, const ni_addr *a)
{
    size_t mask = s->size - 1, i = ahash(s, a) & mask;
    while (s->t[i].used && memcmp(&s->t[i].a, a, sizeof *a)) i = (i + 1) & mask;
    return i;
}

int ni_addrset_add(ni_addrset *s, const ni_addr *a0)
{
    ni_addr a;
    memset(&a, 0, sizeof a);
    a.family = a0->family;
    memcpy(a.b, a0->b, a0->family == 4 ? 4 : 16);
    size_t i = afind(s, &a);
    if (s->t[i].used) return 0;
    if (s->count >= s->cap) return -1;
    if ((s->count + 1) * 4 > s->size * 3) {
        size_t ns = s->size * 2;
        aslot *nt = zalloc(ns, sizeof *nt);
        if (!nt) return -1;
        for (size_t k = 0; k < s->size; k++) {
            if (!s->t[k].used) continue;
            size_t j = ahash(s, &s->t[k].a) & (ns - 1);
            while (nt[j].used) j = (j + 1) & (ns - 1);
            nt[j] = s->t[k];
        }
        free(s->t);
        s->t = nt; s->size = ns;
        i = afind(s, &a);
    }
    s->t[i].a = a; s->t[i].used = 1;
    s->count++;
    return 1;
}

int ni_addrset_has(const ni_addrset *s, const ni_addr *a0)
{
    ni_addr a;
    memset(&a, 0, sizeof a);
    a.family = a0->family;
    memcpy(a.b, a0->b, a0->family == 4 ? 4 : 16);
    return s->t[afind(s, &a)].used;
}

size_t ni_addrset_count(const ni_addrset *s) { return s->count; }

int ni_addrset_next(const ni_addrset *s, size_t *it, ni_addr *out)
{
    while (*it < s->size) {
        size_t i = (*it)++;
        if (s->t[i].used) { *out = s->t[i].a; return 1; }
    }
    return 0;
}

ni_err ni_addrset_merge(ni_addrset *dst, const ni_addrset *src)
{
    size_t it = 0; ni_addr a;
    while (ni_addrset_next(src, &it, &a))
        if (ni_addrset_add(dst, &a) < 0) return NI_ERR_LIMIT;
    return NI_OK;
}
