/* ni_hash.h — the one hash function of netintel: SipHash-1-3 (Aumasson and
 * Bernstein, "SipHash: a fast short-input PRF", 2012; the 1-3 round variant
 * that Rust's and CPython's hash tables use).  Every hash table keyed by
 * traffic-derived values (DNS cache, User-Agent cache, string maps, address
 * sets) hashes through it with a key drawn once per table from the kernel's
 * random source, so keys chosen by whoever sends the traffic cannot be made
 * to collide on purpose (hash flooding).  The flow table, hashing every
 * packet's 5-tuple, uses a cheaper strongly universal hash whose numbers are
 * drawn through this one (lib/session/ni_flow.c, "hashing"; ni_mshift below,
 * for the DNS cache and the address caches of enrichment).  A fixed key is
 * available for tests and for checksums that must be the same in every run. */
#ifndef NI_HASH_H
#define NI_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct ni_hash_key { uint64_t k0, k1; } ni_hash_key;

/* The fixed key (all zero): reproducible values, for file checksums and tests. */
extern const ni_hash_key ni_hash_key_fixed;

/* Fills *k from getrandom(); if that fails, from the clock, the process id
 * and an address (never fails; a weaker key is still a key). */
void ni_hash_key_random(ni_hash_key *k);

/* SipHash-1-3 of n bytes under key k. */
uint64_t ni_hash(const ni_hash_key *k, const void *p, size_t n);

/* A fixed bijection of 32 bits (MurmurHash3's finaliser, fmix32): every
 * output bit depends on every input bit.  Applied to a multiply-shift value
 * it keeps any pair of keys uniform (a bijection of a uniform pair is
 * uniform), while regular keys (one client's ports or addresses in steps),
 * which multiply-shift maps to a regular lattice, no longer share the low
 * bits a table's bucket is taken from: measured on 2^15 such flows, the
 * longest chain was 10-14 for about one table in a hundred without it, 6-11
 * with it, as for random keys. */
static inline uint32_t ni_hash_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/* Thorup's strongly universal vector multiply-shift (M. Thorup, "High Speed
 * Hashing for Integers and Strings", 2015, section 3.3) over n <=
 * NI_MSHIFT_WORDS 32-bit words x_i: ((b + sum a_i x_i) mod 2^64) >> 32, with
 * a_i and b drawn per table through ni_hash from a random key, then
 * ni_hash_mix32.  Two distinct
 * keys fixed without knowing the numbers share a 32-bit value with
 * probability 2^-32 (a bucket: 1/buckets), for a few instructions a word;
 * for fixed-size keys from the traffic (addresses).  The flow table keeps
 * its own layout of the same hash (ni_flow.c, "hashing"). */
#define NI_MSHIFT_WORDS 9
typedef struct ni_mshift { uint64_t mul[NI_MSHIFT_WORDS], off; } ni_mshift;

void ni_mshift_init(ni_mshift *m);

static inline uint32_t ni_mshift_hash(const ni_mshift *m, const uint32_t *w, unsigned n)
{
    uint64_t h = m->off;
    for (unsigned i = 0; i < n; i++) h += m->mul[i] * w[i];
    return ni_hash_mix32((uint32_t)(h >> 32));
}

#endif
