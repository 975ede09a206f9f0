/* ni_hash.h — the one hash function of netintel: SipHash-1-3 (Aumasson and
 * Bernstein, "SipHash: a fast short-input PRF", 2012; the 1-3 round variant
 * that Rust's and CPython's hash tables use).  Every hash table keyed by
 * traffic-derived values (DNS cache, User-Agent cache, string maps, address
 * sets) hashes through it with a key drawn once per table from the kernel's
 * random source, so keys chosen by whoever sends the traffic cannot be made
 * to collide on purpose (hash flooding).  The flow table, hashing every
 * packet's 5-tuple, uses a cheaper strongly universal hash whose numbers are
 * drawn through this one (lib/session/ni_flow.c, "hashing").  A fixed key is
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

#endif
