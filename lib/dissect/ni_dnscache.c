/* ni_dnscache.c — bounded (client, address) → name cache.  Entries live in a
 * ring in insertion order (the oldest is the next slot to overwrite once the
 * ring is full); a chained hash over the key finds them.  A refreshed key
 * leaves a hole in the ring and takes the head slot, so eviction order stays
 * "oldest answer first".  The ring grows by doubling up to max_entries, and
 * the bucket array with it (at least one bucket per slot). */
#include "dissect/ni_dnscache.h"

#include <stdlib.h>
#include <string.h>

#include "core/ni_hash.h"
#include "core/ni_limits.h"

#define NIL UINT32_MAX
#define KEY_WORDS 9         /* 32-bit words of a key: two addresses and the families */

typedef struct entry {
    ni_addr client, addr;
    char *name;             /* NULL = free slot */
    int64_t ts_us;
    uint32_t ttl;
    uint32_t hnext;         /* next entry in the hash chain */
    uint64_t h;             /* key_hash of (client, addr), kept for unlinking and rehashing */
} entry;

struct ni_dnscache {
    entry *ring;
    size_t cap, max;        /* allocated slots, maximum slots */
    size_t head;            /* next slot to fill */
    size_t count;           /* live entries */
    uint32_t *bucket;
    size_t nbucket;         /* power of two */
    int64_t max_age_us;
    ni_mshift hk;           /* the hash's numbers, drawn per cache */
};

/* The key's hash, computed once per add or look-up (the bucket is its low
 * bits, whatever the bucket count).  Keys come from the traffic, so the
 * hash is keyed (ni_mshift, numbers drawn per cache): two distinct keys
 * share a bucket with probability 1/buckets whatever their values. */
static uint64_t key_hash(const ni_dnscache *c, const ni_addr *client, const ni_addr *addr)
{
    uint32_t w[KEY_WORDS];
    memcpy(w, client->b, 16);
    memcpy(w + 4, addr->b, 16);
    w[8] = (uint32_t)client->family << 8 | addr->family;
    return ni_mshift_hash(&c->hk, w, KEY_WORDS);
}

static size_t bucket_of(const ni_dnscache *c, uint64_t h) { return (size_t)h & (c->nbucket - 1); }

static bool same(const ni_addr *a, const ni_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

ni_dnscache *ni_dnscache_new(size_t max_entries, int64_t max_age_us)
{
    ni_dnscache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max = max_entries ? max_entries : NI_DNSCACHE_ENTRIES_MAX;
    if (c->max > NIL - 1) c->max = NIL - 1;
    c->max_age_us = max_age_us > 0 ? max_age_us : NI_DNSCACHE_AGE_MAX_US;
    ni_mshift_init(&c->hk);
    c->nbucket = 64;
    c->bucket = malloc(c->nbucket * sizeof *c->bucket);
    if (!c->bucket) { free(c); return NULL; }
    for (size_t i = 0; i < c->nbucket; i++) c->bucket[i] = NIL;
    return c;
}

void ni_dnscache_free(ni_dnscache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) free(c->ring[i].name);
    free(c->ring);
    free(c->bucket);
    free(c);
}

static uint32_t find(const ni_dnscache *c, uint64_t h, const ni_addr *client, const ni_addr *addr)
{
    for (uint32_t i = c->bucket[bucket_of(c, h)]; i != NIL; i = c->ring[i].hnext)
        if (c->ring[i].h == h && same(&c->ring[i].client, client) && same(&c->ring[i].addr, addr)) return i;
    return NIL;
}

/* Re-links every live entry into nb buckets (a power of two). */
static bool rehash(ni_dnscache *c, size_t nb)
{
    uint32_t *b = malloc(nb * sizeof *b);
    if (!b) return false;
    for (size_t i = 0; i < nb; i++) b[i] = NIL;
    free(c->bucket);
    c->bucket = b;
    c->nbucket = nb;
    for (size_t i = 0; i < c->cap; i++) {
        entry *e = &c->ring[i];
        if (!e->name) continue;
        size_t k = bucket_of(c, e->h);
        e->hnext = b[k];
        b[k] = (uint32_t)i;
    }
    return true;
}

/* Unlinks slot i from its chain and frees its name. */
static void drop(ni_dnscache *c, uint32_t i)
{
    entry *e = &c->ring[i];
    if (!e->name) return;
    uint32_t *pp = &c->bucket[bucket_of(c, e->h)];
    while (*pp != NIL && *pp != i) pp = &c->ring[*pp].hnext;
    if (*pp == i) *pp = e->hnext;
    free(e->name);
    e->name = NULL;
    c->count--;
}

ni_err ni_dnscache_add(ni_dnscache *c, const ni_addr *client, const ni_addr *addr,
                       const char *name, uint32_t ttl, int64_t ts_us)
{
    if (!name || !name[0]) return NI_ERR_ARG;
    char *copy = strdup(name);
    if (!copy) return NI_ERR_NOMEM;
    uint64_t h = key_hash(c, client, addr);
    uint32_t old = find(c, h, client, addr);
    if (old != NIL) drop(c, old);
    if (c->head == c->cap && c->cap < c->max) {      /* grow the ring */
        size_t ncap = c->cap ? c->cap * 2 : 64;
        if (ncap > c->max) ncap = c->max;
        entry *nr = realloc(c->ring, ncap * sizeof *nr);
        if (!nr) { free(copy); return NI_ERR_NOMEM; }
        memset(nr + c->cap, 0, (ncap - c->cap) * sizeof *nr);
        c->ring = nr;
        c->cap = ncap;
        size_t nb = c->nbucket;
        while (nb < ncap) nb <<= 1;
        if (nb != c->nbucket && !rehash(c, nb)) { free(copy); return NI_ERR_NOMEM; }
    }
    if (c->head == c->cap) c->head = 0;              /* full: wrap onto the oldest */
    uint32_t i = (uint32_t)c->head++;
    drop(c, i);
    entry *e = &c->ring[i];
    e->client = *client;
    e->addr = *addr;
    e->name = copy;
    e->ts_us = ts_us;
    e->ttl = ttl;
    e->h = h;
    size_t b = bucket_of(c, h);
    e->hnext = c->bucket[b];
    c->bucket[b] = i;
    c->count++;
    return NI_OK;
}

const char *ni_dnscache_lookup(const ni_dnscache *c, const ni_addr *client,
                               const ni_addr *addr, int64_t ts_us)
{
    if (c->count == 0) return NULL;
    uint32_t i = find(c, key_hash(c, client, addr), client, addr);
    if (i == NIL) return NULL;
    const entry *e = &c->ring[i];
    if (ts_us < e->ts_us) return NULL;               /* answered after the session began */
    int64_t age = c->max_age_us;
    int64_t ttl_age = (int64_t)e->ttl * 1000000 + NI_DNSCACHE_TTL_GRACE_US;
    if (ttl_age < age) age = ttl_age;
    if (ts_us - e->ts_us > age) return NULL;
    return e->name;
}

size_t ni_dnscache_count(const ni_dnscache *c)
{
    return c->count;
}
