/* ni_hll.h — distinct counts in bounded memory: exact up to a bound, then a
 * HyperLogLog sketch (Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the
 * analysis of a near-optimal cardinality estimation algorithm", AofA 2007),
 * precision 14 (16,384 one-byte registers, 16 KiB), read with Ertl's
 * improved raw estimator (O. Ertl, "New cardinality estimation algorithms
 * for HyperLogLog sketches", arXiv:1702.01284, 2017, section 4), which needs
 * no empirical bias tables and is unbiased from 0 to beyond 2^50.
 *
 * A counter is a function of the *set* of values added, never of their
 * order: below the bound it holds the set (of 64-bit hashes) and its count
 * is exact; past it, the registers are the maximum rank per register over
 * every value, so two counters merge by a register-wise maximum (merge =
 * union) and any split of the input over workers gives the same count.
 *
 * Values are hashed with SipHash-1-3 under the FIXED key (ni_hash.h), not a
 * random one: an estimate must be the same number in every run and on every
 * machine (report.json is reproducible).  That does not reopen hash
 * flooding: the sketch has no chains (one register per value, O(1)), and the
 * exact phase places its hashes in an open-addressed table through a
 * universal (multiply-shift) hash under the counter's own random key, so
 * chosen values cannot make long probe sequences.  What a fixed key allows is to choose values that
 * inflate an estimate; whoever can do that can also send that many distinct
 * addresses, so the figure is as trustworthy as the traffic it counts.
 *
 * Relative standard error of an estimate: 1.04 / sqrt(16384) = 0.0081
 * (NI_HLL_ERROR); "exact" counts are exact unless two distinct values share
 * a 64-bit hash (probability below 1e-12 for 4,096 values). */
#ifndef NI_HLL_H
#define NI_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

#define NI_HLL_PRECISION 14
#define NI_HLL_REGISTERS (1u << NI_HLL_PRECISION)
#define NI_HLL_ERROR     0.0081   /* 1.04 / sqrt(NI_HLL_REGISTERS), rounded */

typedef struct ni_distinct ni_distinct;

/* A counter exact up to exact_max distinct values (at least 1), then an
 * estimate.  NULL when out of memory. */
ni_distinct *ni_distinct_new(size_t exact_max);
void ni_distinct_free(ni_distinct *d);

/* The 64-bit value hash (fixed key) of n bytes: what ni_distinct_add adds. */
uint64_t ni_distinct_hash(const void *p, size_t n);

/* Adds a value (its bytes, or its ni_distinct_hash).  Returns NI_OK or
 * NI_ERR_NOMEM (the counter is unchanged then). */
ni_err ni_distinct_add(ni_distinct *d, const void *p, size_t n);
ni_err ni_distinct_add_hash(ni_distinct *d, uint64_t h);

/* Adds every value of src to dst (union).  NI_OK or NI_ERR_NOMEM. */
ni_err ni_distinct_merge(ni_distinct *dst, const ni_distinct *src);

/* The count: exact, or the estimate rounded to the nearest integer. */
uint64_t ni_distinct_count(const ni_distinct *d);
/* True once the count is an estimate. */
bool ni_distinct_estimated(const ni_distinct *d);
/* Relative standard error of the count: 0 when exact, NI_HLL_ERROR otherwise. */
double ni_distinct_error(const ni_distinct *d);
/* 1 if the value with hash h was added, 0 if not, -1 when the counter is an
 * estimate (membership is no longer known). */
int ni_distinct_has_hash(const ni_distinct *d, uint64_t h);
/* Bytes held (for tests and memory accounting). */
size_t ni_distinct_bytes(const ni_distinct *d);

/* The estimator alone, on a register array of NI_HLL_REGISTERS ranks
 * (exposed for tests). */
double ni_hll_estimate(const uint8_t *reg);

#endif
