/* ni_hash.h — the one hash function of netintel: SipHash-1-3 (Aumasson and
 * Bernstein, "SipHash: a fast short-input PRF", 2012; the 1-3 round variant
 * that Rust's and CPython's hash tables use).  Every hash table keyed by
 * traffic-derived values (flows, DNS cache, User-Agent cache, string maps,
 * address sets) hashes through it with a key drawn once per table from the
 * kernel's random source, so keys chosen by whoever sends the traffic cannot
 * be made to collide on purpose (hash flooding).  A fixed key is available
 * for tests and for checksums that must be the same in every run. */
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

/* SipHash-1-3 of n 64-bit words under key k: the same value as ni_hash of
 * their 8n little-endian bytes, without the byte handling.  For fixed-size
 * binary keys built in registers (the flow table's 5-tuple: 2 words for
 * IPv4, 5 for IPv6); inline so that a constant n unrolls. */
#define NI_SIPROUND_(v0, v1, v2, v3) do { \
        v0 += v1; v1 = (v1 << 13 | v1 >> 51); v1 ^= v0; v0 = (v0 << 32 | v0 >> 32); \
        v2 += v3; v3 = (v3 << 16 | v3 >> 48); v3 ^= v2; \
        v0 += v3; v3 = (v3 << 21 | v3 >> 43); v3 ^= v0; \
        v2 += v1; v1 = (v1 << 17 | v1 >> 47); v1 ^= v2; v2 = (v2 << 32 | v2 >> 32); \
    } while (0)
static inline uint64_t ni_hash_words(const ni_hash_key *k, const uint64_t *w, size_t n)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ k->k0, v1 = 0x646f72616e646f6dull ^ k->k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k->k0, v3 = 0x7465646279746573ull ^ k->k1;
    for (size_t i = 0; i < n; i++) {
        v3 ^= w[i];
        NI_SIPROUND_(v0, v1, v2, v3);
        v0 ^= w[i];
    }
    uint64_t b = (uint64_t)(8 * n) << 56;
    v3 ^= b;
    NI_SIPROUND_(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    NI_SIPROUND_(v0, v1, v2, v3);
    NI_SIPROUND_(v0, v1, v2, v3);
    NI_SIPROUND_(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

#endif
