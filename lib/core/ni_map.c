/* ni_map.c — string hash map and address set (see ni_map.h). */
#include "core/ni_map.h"

#include <stdlib.h>
#include <string.h>

uint64_t ni_hash_bytes(const void *p, size_t n)
{
    /* 8 bytes a step, each mixed by a multiply and a rotation (in the style
     * of wyhash/FxHash), then a final avalanche; good enough for hash tables
     * keyed by strings and addresses, several times faster than FNV-1a. */
    const uint8_t *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h = (h << 31) | (h >> 33);
        b += 8; n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29; h *= 0xbf58476d1ce4e5b9ull; h ^= h >> 32;
    return h;
}

typedef struct slot { char *key; void *value; uint64_t hash; } slot;

struct ni_map {
    slot *t;
    size_t size, count, cap;
};

ni_map *ni_map_new(size_t cap)
{
    ni_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
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
    slot *nt = calloc(ns, sizeof *nt);
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
    size_t i = find(m, key, ni_hash_bytes(key, strlen(key)));
    return m->t[i].key ? m->t[i].value : NULL;
}

void **ni_map_slot(ni_map *m, const char *key)
{
    uint64_t h = ni_hash_bytes(key, strlen(key));
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

ni_err ni_map_put(ni_map *m, const char *key, void *value)
{
    uint64_t h = ni_hash_bytes(key, strlen(key));
    if (m->count >= m->cap && !m->t[find(m, key, h)].key) return NI_ERR_LIMIT;
    void **s = ni_map_slot(m, key);
    if (!s) return NI_ERR_NOMEM;
    *s = value;
    return NI_OK;
}

size_t ni_map_count(const ni_map *m) { return m->count; }

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
};

ni_addrset *ni_addrset_new(size_t cap)
{
    ni_addrset *s = calloc(1, sizeof *s);
    if (!s) return NULL;
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

static uint64_t ahash(const ni_addr *a) { return ni_hash_bytes(a, sizeof *a); }

static size_t afind(const ni_addrset *s, const ni_addr *a)
{
    size_t mask = s->size - 1, i = ahash(a) & mask;
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
        aslot *nt = calloc(ns, sizeof *nt);
        if (!nt) return -1;
        for (size_t k = 0; k < s->size; k++) {
            if (!s->t[k].used) continue;
            size_t j = ahash(&s->t[k].a) & (ns - 1);
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
