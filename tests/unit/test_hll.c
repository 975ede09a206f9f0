/* test_hll.c — ni_distinct (core/ni_hll): exact below its bound, HyperLogLog
 * estimates within 3 standard errors past it, merge = union whatever the
 * split and order, memory bounded. */
#include "ni_test.h"
#include "core/ni_hll.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void addr_bytes(uint32_t i, uint8_t out[4])
{
    out[0] = (uint8_t)(i >> 24); out[1] = (uint8_t)(i >> 16); out[2] = (uint8_t)(i >> 8); out[3] = (uint8_t)i;
}

static void add_range(ni_distinct *d, uint32_t from, uint32_t to)
{
    uint8_t b[4];
    for (uint32_t i = from; i < to; i++) { addr_bytes(i, b); CHECK_INT(ni_distinct_add(d, b, 4), NI_OK); }
}

/* Below (and at) the bound the count is exact, repeats count once, and
 * membership is known; one more value turns it into an estimate. */
TEST(exact_below_bound)
{
    static const struct { size_t bound, n; } rows[] = { { 1, 1 }, { 16, 10 }, { 4096, 4096 }, { 4096, 1000 } };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        ni_distinct *d = ni_distinct_new(rows[r].bound);
        add_range(d, 7, 7 + (uint32_t)rows[r].n);
        add_range(d, 7, 7 + (uint32_t)rows[r].n);   /* again: no change */
        CHECK_INT(ni_distinct_count(d), rows[r].n);
        CHECK(!ni_distinct_estimated(d));
        CHECK(ni_distinct_error(d) == 0);
        uint8_t b[4];
        addr_bytes(7, b);
        CHECK_INT(ni_distinct_has_hash(d, ni_distinct_hash(b, 4)), 1);
        addr_bytes(1u << 30, b);
        CHECK_INT(ni_distinct_has_hash(d, ni_distinct_hash(b, 4)), 0);
        if (rows[r].n == rows[r].bound) {
            CHECK_INT(ni_distinct_add(d, b, 4), NI_OK);
            CHECK(ni_distinct_estimated(d));
            CHECK_INT(ni_distinct_has_hash(d, ni_distinct_hash(b, 4)), -1);
            CHECK(ni_distinct_error(d) == NI_HLL_ERROR);
            double want = (double)rows[r].n + 1, got = (double)ni_distinct_count(d);
            CHECK(fabs(got - want) <= 3 * NI_HLL_ERROR * want + 1);
        }
        ni_distinct_free(d);
    }
}

/* Estimates of n distinct values lie within 3 standard errors (1.04/sqrt(m)
 * relative), over several offsets; repeats change nothing; memory stays at
 * the registers. */
TEST(estimate_within_3_sigma)
{
    static const uint32_t ns[] = { 5000, 20000, 100000, 1000000 };
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        for (uint32_t off = 0; off < 3; off++) {
            ni_distinct *d = ni_distinct_new(4096);
            uint32_t base = off * 0x10000000u + 1;
            add_range(d, base, base + ns[k]);
            uint64_t c1 = ni_distinct_count(d);
            add_range(d, base, base + ns[k] / 2);
            CHECK_INT(ni_distinct_count(d), c1);
            double err = fabs((double)c1 - ns[k]) / ns[k];
            if (err > 3 * NI_HLL_ERROR) fprintf(stderr, "  n=%u off=%u: estimate %llu (%.4f)\n", ns[k], off,
                                                (unsigned long long)c1, err);
            CHECK(err <= 3 * NI_HLL_ERROR);
            CHECK(ni_distinct_estimated(d));
            CHECK(ni_distinct_bytes(d) <= NI_HLL_REGISTERS + 256);
            ni_distinct_free(d);
        }
    }
}

/* Merge is union: overlapping halves, exact or estimated on either side, in
 * any order, give the count of the whole (the very same registers). */
TEST(merge_is_union)
{
    static const struct { uint32_t a0, a1, b0, b1; size_t bound; } rows[] = {
        { 0, 100, 50, 150, 4096 },            /* both exact, union exact */
        { 0, 3000, 2000, 5000, 4096 },        /* both exact, union past the bound */
        { 0, 60000, 30000, 90000, 4096 },     /* both estimated */
        { 0, 100, 0, 200000, 4096 },          /* exact into estimated */
        { 0, 200000, 10, 20, 4096 },          /* estimated into exact */
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        ni_distinct *a = ni_distinct_new(rows[r].bound), *b = ni_distinct_new(rows[r].bound);
        ni_distinct *whole = ni_distinct_new(rows[r].bound), *ba = ni_distinct_new(rows[r].bound);
        add_range(a, rows[r].a0, rows[r].a1);
        add_range(b, rows[r].b0, rows[r].b1);
        uint32_t lo = rows[r].a0 < rows[r].b0 ? rows[r].a0 : rows[r].b0;
        uint32_t hi = rows[r].a1 > rows[r].b1 ? rows[r].a1 : rows[r].b1;
        for (uint32_t i = hi; i-- > lo;) {   /* the whole, in reverse order */
            uint8_t x[4]; addr_bytes(i, x);
            CHECK_INT(ni_distinct_add(whole, x, 4), NI_OK);
        }
        CHECK_INT(ni_distinct_merge(ba, b), NI_OK);
        CHECK_INT(ni_distinct_merge(ba, a), NI_OK);
        CHECK_INT(ni_distinct_merge(a, b), NI_OK);
        CHECK_INT(ni_distinct_count(a), ni_distinct_count(whole));
        CHECK_INT(ni_distinct_count(ba), ni_distinct_count(whole));
        CHECK(ni_distinct_estimated(a) == ni_distinct_estimated(whole));
        if (!ni_distinct_estimated(whole)) CHECK_INT(ni_distinct_count(whole), hi - lo);
        double err = fabs((double)ni_distinct_count(a) - (hi - lo)) / (hi - lo);
        CHECK(err <= 3 * NI_HLL_ERROR);
        ni_distinct_free(a); ni_distinct_free(b); ni_distinct_free(whole); ni_distinct_free(ba);
    }
}

/* The estimator on known register states: all zero is 0 (nothing added);
 * one register at rank 1 is one value; every register at the top rank
 * (51, beyond any real input) is infinite or huge, never negative. */
TEST(estimator_known_states)
{
    static uint8_t reg[NI_HLL_REGISTERS];
    memset(reg, 0, sizeof reg);
    CHECK(ni_hll_estimate(reg) == 0);
    reg[5] = 1;
    CHECK(fabs(ni_hll_estimate(reg) - 1) < 0.01);
    reg[9] = 2;
    CHECK(fabs(ni_hll_estimate(reg) - 2) < 0.02);
    memset(reg, 64 - NI_HLL_PRECISION + 1, sizeof reg);
    CHECK(ni_hll_estimate(reg) > 1e18);
}

/* The count does not depend on insertion order or on the per-counter random
 * placement key: two counters fed the same values in different orders agree. */
TEST(order_independent)
{
    ni_distinct *a = ni_distinct_new(4096), *b = ni_distinct_new(4096);
    for (uint32_t i = 0; i < 50000; i++) { uint8_t x[4]; addr_bytes(i * 7919u, x); ni_distinct_add(a, x, 4); }
    for (uint32_t i = 50000; i-- > 0;) { uint8_t x[4]; addr_bytes(i * 7919u, x); ni_distinct_add(b, x, 4); }
    CHECK_INT(ni_distinct_count(a), ni_distinct_count(b));
    ni_distinct_free(a); ni_distinct_free(b);
}

RUN(T(exact_below_bound), T(estimate_within_3_sigma), T(merge_is_union), T(estimator_known_states), T(order_independent))
