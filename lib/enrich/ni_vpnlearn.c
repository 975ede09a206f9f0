/* ni_vpnlearn.c — VPN endpoints learned from DNS answers (see
 * ni_vpnlearn.h): an open-addressing table (linear probing, backward-shift
 * deletion) of address → slot in a ring of entries kept in learning order,
 * so that the oldest address is the one forgotten when the ring is full. */
#include "enrich/ni_vpnlearn.h"
#include "core/ni_hash.h"
#include "core/ni_limits.h"

#include <stdlib.h>
#include <string.h>

typedef struct learned {
    ni_addr addr;
    const ni_catalog_entry *e;
    int64_t at_us, life_us;
} learned;

struct ni_vpnlearn {
    ni_hash_key key;
    learned *ring;          /* cap entries; ring[(head + i) % cap], i < n, oldest first */
    size_t cap, head, n;
    uint32_t *tab;          /* tab_size slots: ring index + 1, 0 = empty */
    size_t tab_size;        /* power of two, >= 2 * cap */
};

static size_t addr_len(const ni_addr *a) { return a->family == 4 ? 4 : 16; }

static size_t home(const ni_vpnlearn *l, const ni_addr *a)
{
    uint8_t k[17];
    k[0] = a->family;
    memcpy(k + 1, a->b, 16);
    return (size_t)ni_hash(&l->key, k, 1 + addr_len(a)) & (l->tab_size - 1);
}

static int same(const ni_addr *a, const ni_addr *b)
{
    return a->family == b->family && !memcmp(a->b, b->b, addr_len(a));
}

ni_vpnlearn *ni_vpnlearn_new(size_t max_entries)
{
    ni_vpnlearn *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->cap = max_entries ? max_entries : NI_VPNLEARN_ENTRIES_MAX;
    l->tab_size = 16;
    while (l->tab_size < 2 * l->cap) l->tab_size *= 2;
    l->ring = calloc(l->cap, sizeof *l->ring);
    l->tab = calloc(l->tab_size, sizeof *l->tab);
    if (!l->ring || !l->tab) { ni_vpnlearn_free(l); return NULL; }
    ni_hash_key_random(&l->key);
    return l;
}

void ni_vpnlearn_free(ni_vpnlearn *l)
{
    if (!l) return;
    free(l->ring);
    free(l->tab);
    free(l);
}

/* The table slot holding addr, or the empty slot where it would go. */
static size_t find(const ni_vpnlearn *l, const ni_addr *a)
{
    size_t i = home(l, a);
    while (l->tab[i] && !same(&l->ring[l->tab[i] - 1].addr, a)) i = (i + 1) & (l->tab_size - 1);
    return i;
}

/* Removes the table slot i, shifting later members of its cluster back. */
static void tab_delete(ni_vpnlearn *l, size_t i)
{
    size_t mask = l->tab_size - 1, j = i;
    l->tab[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!l->tab[j]) return;
        size_t h = home(l, &l->ring[l->tab[j] - 1].addr);
        /* the member at j may move to i when i lies cyclically in [h, j) */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            l->tab[i] = l->tab[j];
            l->tab[j] = 0;
            i = j;
        }
    }
}

void ni_vpnlearn_add(ni_vpnlearn *l, const ni_addr *addr, const ni_catalog_entry *e, int64_t at_us,
                     int64_t life_us)
{
    if (!l || !addr || !e || (addr->family != 4 && addr->family != 6)) return;
    if (life_us <= 0 || life_us > NI_DNSCACHE_AGE_MAX_US) life_us = NI_DNSCACHE_AGE_MAX_US;
    size_t i = find(l, addr);
    if (l->tab[i]) {                       /* re-learned: newer facts, same place */
        learned *x = &l->ring[l->tab[i] - 1];
        x->e = e; x->at_us = at_us; x->life_us = life_us;
        return;
    }
    if (l->n == l->cap) {                  /* full: forget the oldest */
        learned *old = &l->ring[l->head];
        tab_delete(l, find(l, &old->addr));
        l->head = (l->head + 1) % l->cap;
        l->n--;
        i = find(l, addr);
    }
    size_t r = (l->head + l->n) % l->cap;
    l->ring[r] = (learned){ *addr, e, at_us, life_us };
    l->tab[i] = (uint32_t)(r + 1);
    l->n++;
}

const ni_catalog_entry *ni_vpnlearn_get(const ni_vpnlearn *l, const ni_addr *addr, int64_t t_us)
{
    if (!l || !addr || (addr->family != 4 && addr->family != 6)) return NULL;
    size_t i = find(l, addr);
    if (!l->tab[i]) return NULL;
    const learned *x = &l->ring[l->tab[i] - 1];
    if (x->at_us > t_us + NI_VPNLEARN_SKEW_US || t_us > x->at_us + x->life_us) return NULL;
    return x->e;
}

size_t ni_vpnlearn_count(const ni_vpnlearn *l) { return l ? l->n : 0; }
