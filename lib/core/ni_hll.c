/* ni_hll.c — exact-then-HyperLogLog distinct counter (see ni_hll.h).
 * Exact phase: an open-addressed table of the values' 64-bit hashes (0
 * marks an empty slot, so a hash of 0 counts as 1), at most 3/4 full,
 * placed by a multiply-shift hash under the counter's own random key.  Past exact_max
 * values: 2^14 registers; register i = top 14 bits of the hash, rank = 1 +
 * leading zeros of the remaining 50 bits (51 when they are all zero). */
#include "core/ni_hll.h"
#include "core/ni_hash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Q (64 - NI_HLL_PRECISION)       /* hash bits left for the rank */

struct ni_distinct {
    uint64_t *set;          /* exact phase: hashes (NULL until the first value) */
    uint32_t size, count;   /* slots (power of two), values held */
    uint32_t exact_max;
    uint8_t *reg;           /* estimate phase: NI_HLL_REGISTERS ranks (set is NULL then) */
    uint64_t est;           /* the estimate, cached (sorting compares counts often) */
    bool est_ok;            /* est is up to date (cleared when a register grows) */
    ni_hash_key key;        /* placement in set */
};

ni_distinct *ni_distinct_new(size_t exact_max)
{
    ni_distinct *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->exact_max = exact_max < 1 ? 1 : exact_max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)exact_max;
    return d;
}

void ni_distinct_free(ni_distinct *d)
{
    if (!d) return;
    free(d->set);
    free(d->reg);
    free(d);
}

uint64_t ni_distinct_hash(const void *p, size_t n) { return ni_hash(&ni_hash_key_fixed, p, n); }

static void reg_add(ni_distinct *d, uint64_t h)
{
    uint64_t w = h << NI_HLL_PRECISION;
    uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(Q + 1);
    uint8_t *r = &d->reg[h >> Q];
    if (rank > *r) { *r = rank; d->est_ok = false; }
}

/* The home slot of h: multiply-shift under the counter's random key
 * (Dietzfelbinger et al., "A reliable randomized algorithm for the
 * closest-pair problem", 1997: the top bits of (x * a) mod 2^64 for a random
 * odd a; two distinct values share a home with probability at most 2 / size
 * whatever they are), x being h blinded by the key's other half.  h is
 * already a SipHash; this only has to be unpredictable, not a PRF. */
static size_t home(const ni_distinct *d, uint64_t h)
{
    return (size_t)(((h ^ d->key.k0) * (d->key.k1 | 1)) >> (64 - __builtin_ctz(d->size)));
}

/* The slot of h in the set: where it is, or the empty slot it would take. */
static size_t find(const ni_distinct *d, uint64_t h)
{
    size_t mask = d->size - 1, i = home(d, h);
    while (d->set[i] && d->set[i] != h) i = (i + 1) & mask;
    return i;
}

/* Exact phase → registers (the set is freed). */
static ni_err to_sketch(ni_distinct *d)
{
    uint8_t *reg = calloc(NI_HLL_REGISTERS, 1);
    if (!reg) return NI_ERR_NOMEM;
    d->reg = reg;
    for (uint32_t i = 0; d->set && i < d->size; i++) if (d->set[i]) reg_add(d, d->set[i]);
    free(d->set);
    d->set = NULL;
    d->size = d->count = 0;
    d->est_ok = false;
    return NI_OK;
}

static ni_err set_grow(ni_distinct *d)
{
    uint32_t ns = d->size ? d->size * 2 : 8;
    uint64_t *nt = calloc(ns, sizeof *nt), *old = d->set;
    if (!nt) return NI_ERR_NOMEM;
    uint32_t os = d->size;
    if (!old) ni_hash_key_random(&d->key);
    d->set = nt;
    d->size = ns;
    for (uint32_t i = 0; i < os; i++) if (old[i]) d->set[find(d, old[i])] = old[i];
    free(old);
    return NI_OK;
}

ni_err ni_distinct_add_hash(ni_distinct *d, uint64_t h)
{
    if (!h) h = 1;
    if (d->reg) { reg_add(d, h); return NI_OK; }
    if (d->set && d->set[find(d, h)] == h) return NI_OK;
    if (d->count >= d->exact_max) {
        ni_err e = to_sketch(d);
        if (e) return e;
        reg_add(d, h);
        return NI_OK;
    }
    if ((size_t)(d->count + 1) * 4 > (size_t)d->size * 3) {
        ni_err e = set_grow(d);
        if (e) return e;
    }
    d->set[find(d, h)] = h;
    d->count++;
    return NI_OK;
}

ni_err ni_distinct_add(ni_distinct *d, const void *p, size_t n)
{
    return ni_distinct_add_hash(d, ni_distinct_hash(p, n));
}

ni_err ni_distinct_merge(ni_distinct *dst, const ni_distinct *src)
{
    if (src->reg) {
        if (!dst->reg) { ni_err e = to_sketch(dst); if (e) return e; }
        for (uint32_t i = 0; i < NI_HLL_REGISTERS; i++)
            if (src->reg[i] > dst->reg[i]) { dst->reg[i] = src->reg[i]; dst->est_ok = false; }
        return NI_OK;
    }
    for (uint32_t i = 0; src->set && i < src->size; i++) {
        if (!src->set[i]) continue;
        ni_err e = ni_distinct_add_hash(dst, src->set[i]);
        if (e) return e;
    }
    return NI_OK;
}

/* Ertl (2017), algorithm 6: sigma and tau series, then
 * alpha_inf m^2 / (m tau(1 - C_{q+1}/m) + sum_k C_k 2^-k + m sigma(C_0/m)),
 * the middle sum accumulated from k = q down to 1 by halving. */
static double sigma(double x)
{
    if (x == 1) return INFINITY;
    double y = 1, z = x, zp;
    do { x *= x; zp = z; z += x * y; y += y; } while (z != zp);
    return z;
}

static double tau(double x)
{
    if (x == 0 || x == 1) return 0;
    double y = 1, z = 1 - x, zp;
    do { x = sqrt(x); zp = z; y *= 0.5; z -= (1 - x) * (1 - x) * y; } while (z != zp);
    return z / 3;
}

double ni_hll_estimate(const uint8_t *reg)
{
    uint32_t c[Q + 2] = {0};
    for (uint32_t i = 0; i < NI_HLL_REGISTERS; i++) c[reg[i] <= Q + 1 ? reg[i] : Q + 1]++;
    double m = NI_HLL_REGISTERS;
    double z = m * tau((m - c[Q + 1]) / m);
    for (int k = Q; k >= 1; k--) z = 0.5 * (z + c[k]);
    z += m * sigma(c[0] / m);
    return m * m / (2 * log(2.0)) / z;
}

uint64_t ni_distinct_count(const ni_distinct *d)
{
    if (!d->reg) return d->count;
    if (!d->est_ok) {   /* a cache: the counter's value does not change */
        ni_distinct *m = (ni_distinct *)d;
        double e = ni_hll_estimate(d->reg);
        m->est = isfinite(e) && e > 0 ? (uint64_t)llround(e) : 0;
        m->est_ok = true;
    }
    return d->est;
}

bool ni_distinct_estimated(const ni_distinct *d) { return d->reg != NULL; }

double ni_distinct_error(const ni_distinct *d) { return d->reg ? NI_HLL_ERROR : 0; }

int ni_distinct_has_hash(const ni_distinct *d, uint64_t h)
{
    if (d->reg) return -1;
    if (!h) h = 1;
    return d->set && d->set[find(d, h)] == h;
}

size_t ni_distinct_bytes(const ni_distinct *d)
{
    return sizeof *d + (size_t)d->size * sizeof *d->set + (d->reg ? NI_HLL_REGISTERS : 0);
}
