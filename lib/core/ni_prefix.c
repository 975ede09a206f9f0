/* ni_prefix.c — longest-prefix match (see ni_prefix.h): one path-compressed
 * binary trie (PATRICIA-style, Morrison 1968) per address family.  Every node
 * holds a prefix (key bits masked to its length); a node either carries a
 * caller value or is a pure branch point where two sub-tries diverge.  Depth
 * is bounded by the address width (each level strictly lengthens the prefix),
 * so a lookup visits at most 33 / 129 nodes.  Nodes live in one growing array
 * addressed by index, so freeing the set is a single free(). */
#include "core/ni_prefix.h"
#include "core/ni_limits.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

typedef struct node {
    uint8_t key[16];    /* prefix bits, host bits zero */
    void *value;        /* owned by the caller */
    uint32_t child[2];  /* indexes into ps->nodes, NIL = none */
    uint8_t len;        /* prefix length in bits */
    uint8_t has_value;  /* 0 = branch node only */
} node;

struct ni_prefix_set {
    node *nodes;
    uint32_t used, alloc;
    uint32_t root[2];   /* [0] IPv4, [1] IPv6 */
    size_t count;       /* prefixes carrying a value */
    size_t max;         /* cap on count */
};

ni_prefix_set *ni_prefix_new_cap(size_t max_prefixes)
{
    ni_prefix_set *ps = calloc(1, sizeof *ps);
    if (!ps) return NULL;
    ps->root[0] = ps->root[1] = NIL;
    ps->max = max_prefixes;
    return ps;
}

ni_prefix_set *ni_prefix_new(void)
{
    return ni_prefix_new_cap(NI_TARGET_PREFIXES_MAX);
}

void ni_prefix_free(ni_prefix_set *ps)
{
    if (!ps) return;
    free(ps->nodes);
    free(ps);
}

size_t ni_prefix_count(const ni_prefix_set *ps) { return ps ? ps->count : 0; }

static inline unsigned bit_at(const uint8_t *k, unsigned i)
{
    return (k[i >> 3] >> (7 - (i & 7))) & 1u;
}

static inline uint32_t be32k(const uint8_t *k)
{
    return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

/* Number of leading bits (at most max) that a and b share, given that the
 * first `from` bits are already known to be equal.  Compared 32 bits at a
 * time from the word holding bit `from`: max is 32 or less for IPv4 keys
 * (4 bytes read) and 128 or less for IPv6 keys (16). */
static inline unsigned common_bits_from(const uint8_t *a, const uint8_t *b, unsigned from, unsigned max)
{
    unsigned n = from & ~31u;
    while (n < max) {
        uint32_t x = be32k(a + (n >> 3)) ^ be32k(b + (n >> 3));
        if (x == 0) { n += 32; continue; }
        n += (unsigned)__builtin_clz(x);
        break;
    }
    return n < max ? n : max;
}

static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned max)
{
    return common_bits_from(a, b, 0, max);
}

static void mask_to(uint8_t *k, unsigned len, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        unsigned lo = i * 8;
        if (len >= lo + 8) continue;
        k[i] = len <= lo ? 0 : (uint8_t)(k[i] & (0xFFu << (8 - (len - lo))));
    }
}

static int is_v4_mapped(const ni_addr *a)
{
    static const uint8_t pfx[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xFF,0xFF };
    return a->family == 6 && memcmp(a->b, pfx, 12) == 0;
}

/* Makes room for n more nodes; 0 or -1 on OOM. */
static int reserve(ni_prefix_set *ps, uint32_t n)
{
    if (ps->alloc - ps->used >= n) return 0;
    uint32_t na = ps->alloc ? ps->alloc * 2 : 64;
    if (na <= ps->alloc || na >= NIL / 2) return -1;
    node *nn = realloc(ps->nodes, (size_t)na * sizeof *nn);
    if (!nn) return -1;
    ps->nodes = nn; ps->alloc = na;
    return 0;
}

/* Returns the index of a fresh node; room was reserved by the caller. */
static uint32_t new_node(ni_prefix_set *ps, const uint8_t *key, unsigned len)
{
    uint32_t i = ps->used++;
    node *n = &ps->nodes[i];
    memcpy(n->key, key, 16);
    n->value = NULL;
    n->child[0] = n->child[1] = NIL;
    n->len = (uint8_t)len;
    n->has_value = 0;
    return i;
}

ni_err ni_prefix_add(ni_prefix_set *ps, const ni_addr *addr, unsigned len, void *value)
{
    if (!ps || !addr) return NI_ERR_ARG;
    uint8_t key[16] = { 0 };
    int fam;
    if (addr->family == 4) {
        if (len > 32) return NI_ERR_ARG;
        memcpy(key, addr->b, 4); fam = 0;
    } else if (addr->family == 6) {
        if (len > 128) return NI_ERR_ARG;
        if (len >= 96 && is_v4_mapped(addr)) {   /* ::ffff:a.b.c.d/96+n = a.b.c.d/n */
            memcpy(key, addr->b + 12, 4); len -= 96; fam = 0;
        } else {
            memcpy(key, addr->b, 16); fam = 1;
        }
    } else {
        return NI_ERR_ARG;
    }
    mask_to(key, len, 16);

    /* Nodes move when the array grows: walk by index, reserve up front. */
    if (reserve(ps, 2)) return NI_ERR_NOMEM;

    uint32_t *link = &ps->root[fam];
    for (;;) {
        uint32_t ni = *link;
        if (ni == NIL) {
            if (ps->count >= ps->max) return NI_ERR_LIMIT;
            uint32_t leaf = new_node(ps, key, len);
            ps->nodes[leaf].value = value; ps->nodes[leaf].has_value = 1;
            *link = leaf; ps->count++;
            return NI_OK;
        }
        node *n = &ps->nodes[ni];
        unsigned m = n->len < len ? n->len : len;
        unsigned c = common_bits(n->key, key, m);
        if (c == n->len) {
            if (n->len == len) {                 /* same prefix: set / replace */
                if (!n->has_value) {
                    if (ps->count >= ps->max) return NI_ERR_LIMIT;
                    ps->count++;
                }
                n->value = value; n->has_value = 1;
                return NI_OK;
            }
            link = &n->child[bit_at(key, n->len)];   /* n covers key: descend */
            continue;
        }
        if (ps->count >= ps->max) return NI_ERR_LIMIT;
        /* n diverges from key at bit c (< n->len). */
        if (c == len) {                          /* key is an ancestor of n */
            uint32_t up = new_node(ps, key, len);
            ps->nodes[up].value = value; ps->nodes[up].has_value = 1;
            ps->nodes[up].child[bit_at(ps->nodes[ni].key, len)] = ni;
            *link = up; ps->count++;
            return NI_OK;
        }
        uint8_t bkey[16];
        memcpy(bkey, key, 16);
        mask_to(bkey, c, 16);
        uint32_t br = new_node(ps, bkey, c);
        uint32_t leaf = new_node(ps, key, len);
        ps->nodes[leaf].value = value; ps->nodes[leaf].has_value = 1;
        ps->nodes[br].child[bit_at(key, c)] = leaf;
        ps->nodes[br].child[bit_at(ps->nodes[ni].key, c)] = ni;
        *link = br; ps->count++;
        return NI_OK;
    }
}

ni_err ni_prefix_parse(const char *text, ni_addr *addr, unsigned *len)
{
    if (!text || !addr || !len) return NI_ERR_ARG;
    char host[NI_ADDR_STRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl == 0 || hl >= sizeof host) return NI_ERR_ARG;
    memcpy(host, text, hl);
    host[hl] = 0;
    if (ni_addr_parse(host, addr) != NI_OK) return NI_ERR_ARG;
    unsigned maxlen = addr->family == 4 ? 32 : 128;
    if (!slash) { *len = maxlen; return NI_OK; }
    const char *p = slash + 1;
    if (*p < '0' || *p > '9') return NI_ERR_ARG;     /* no sign, no space */
    unsigned v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > maxlen) return NI_ERR_ARG;
    }
    if (*p) return NI_ERR_ARG;
    *len = v;
    return NI_OK;
}

static int lookup_fam(const ni_prefix_set *ps, int fam, const uint8_t *key,
                      unsigned maxlen, void **value, unsigned *len)
{
    const node *best = NULL;
    uint32_t ni = ps->root[fam];
    unsigned known = 0;   /* leading bits of key already matched */
    while (ni != NIL) {
        const node *n = &ps->nodes[ni];
        if (common_bits_from(n->key, key, known, n->len) < n->len) break;
        known = n->len;
        if (n->has_value) best = n;
        if (n->len >= maxlen) break;
        ni = n->child[bit_at(key, n->len)];
    }
    if (!best) return 0;
    if (value) *value = best->value;
    if (len) *len = best->len;
    return 1;
}

int ni_prefix_lookup(const ni_prefix_set *ps, const ni_addr *a, void **value, unsigned *len)
{
    if (!ps || !a) return 0;
    if (a->family == 4) return lookup_fam(ps, 0, a->b, 32, value, len);
    if (a->family != 6) return 0;
    if (is_v4_mapped(a) && lookup_fam(ps, 0, a->b + 12, 32, value, len)) return 1;
    return lookup_fam(ps, 1, a->b, 128, value, len);
}

/* Pre-order (node, then 0-side, then 1-side) is address order with shorter
 * prefixes before longer ones at the same address.  Depth <= 129. */
static void walk_node(const ni_prefix_set *ps, uint32_t ni, uint8_t family,
                      void (*fn)(void *, const ni_addr *, unsigned, void *), void *ud)
{
    while (ni != NIL) {
        const node *n = &ps->nodes[ni];
        if (n->has_value) {
            ni_addr a;
            memset(&a, 0, sizeof a);
            a.family = family;
            memcpy(a.b, n->key, family == 4 ? 4 : 16);
            fn(ud, &a, n->len, n->value);
        }
        walk_node(ps, n->child[0], family, fn, ud);
        ni = n->child[1];   /* tail-iterate the 1-side */
    }
}

void ni_prefix_walk(const ni_prefix_set *ps,
                    void (*fn)(void *ud, const ni_addr *addr, unsigned len, void *value), void *ud)
{
    if (!ps || !fn) return;
    walk_node(ps, ps->root[0], 4, fn, ud);
    walk_node(ps, ps->root[1], 6, fn, ud);
}

ni_err ni_prefix_add_upto(ni_prefix_set *ps, const ni_addr *addr, unsigned len, size_t want)
{
    if (ps && ni_prefix_count(ps) >= want) return NI_OK;
    ni_err e = ni_prefix_add(ps, addr, len, NULL);
    return e == NI_ERR_LIMIT ? NI_OK : e;
}
