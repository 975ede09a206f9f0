/* test_topk.c — ni_topk (core/ni_topk): an exact map below its cap whatever
 * the order; past it Space-Saving's guarantees: late heavy hitters kept,
 * true counts within [count, count + error], kept + dropped = total, a key
 * not kept weighs at most the bound; deterministic ties; index deletion
 * keeps every kept key reachable. */
#include "ni_test.h"
#include "core/ni_topk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct drops { uint64_t keys, count; } drops;

static void on_evict(void *ud, const char *key, void *value, uint64_t count, uint64_t error)
{
    (void)key; (void)error;
    drops *d = ud;
    d->keys++;
    d->count += count;
    free(value);
}

/* Below the cap: every key kept, exact counts, no error, the same in any order. */
TEST(exact_below_cap)
{
    drops da = {0}, db = {0};
    ni_topk *a = ni_topk_new(1000, on_evict, &da), *b = ni_topk_new(1000, on_evict, &db);
    char k[32];
    for (int i = 0; i < 1000; i++) for (int r = 0; r <= i % 7; r++) {
        snprintf(k, sizeof k, "key%d", i);
        CHECK(ni_topk_add(a, k, 1) != NULL);
    }
    for (int i = 999; i >= 0; i--) { snprintf(k, sizeof k, "key%d", i); CHECK(ni_topk_add(b, k, (uint64_t)(i % 7 + 1)) != NULL); }
    CHECK_INT(ni_topk_count(a), 1000);
    CHECK_INT(ni_topk_evicted(a), 0);
    CHECK_INT(ni_topk_bound(a), 0);
    for (int i = 0; i < 1000; i += 37) {
        uint64_t ea = 9, eb = 9;
        snprintf(k, sizeof k, "key%d", i);
        CHECK_INT(ni_topk_count_of(a, k, &ea), i % 7 + 1);
        CHECK_INT(ni_topk_count_of(b, k, &eb), i % 7 + 1);
        CHECK_INT(ea, 0);
        CHECK_INT(eb, 0);
    }
    CHECK_INT(ni_topk_total(a), ni_topk_total(b));
    CHECK_INT(da.keys + db.keys, 0);
    ni_topk_free(a, free);
    ni_topk_free(b, free);
}

/* 200,000 one-off keys, then 20 heavy hitters of known weight placed at the
 * end of the stream (and a few interleaved): all kept, their counts exact
 * (they entered at their first occurrence and never left), their errors
 * within N / cap; kept + dropped = total; no kept count above its truth. */
TEST(late_heavy_hitters)
{
    const size_t cap = 512;
    drops d = {0};
    ni_topk *t = ni_topk_new(cap, on_evict, &d);
    char k[32];
    uint64_t n = 0;
    for (int i = 0; i < 200000; i++) {
        snprintf(k, sizeof k, "noise-%d.example", i);
        void **v = ni_topk_add(t, k, 1);
        CHECK(v != NULL);
        if (v && !*v) *v = malloc(1);
        n++;
    }
    for (int h = 0; h < 20; h++)
        for (int r = 0; r < 1000 + 100 * h; r++) {
            snprintf(k, sizeof k, "heavy-%d", h);
            void **v = ni_topk_add(t, k, 1);
            if (v && !*v) *v = malloc(1);
            n++;
            if (r % 50 == 0) {   /* noise interleaved */
                snprintf(k, sizeof k, "late-noise-%d-%d", h, r);
                v = ni_topk_add(t, k, 1);
                if (v && !*v) *v = malloc(1);
                n++;
            }
        }
    CHECK_INT(ni_topk_total(t), n);
    CHECK_INT(ni_topk_count(t), cap);
    uint64_t kept = 0;
    size_t it = 0; const char *key;
    while (ni_topk_next(t, &it, &key, NULL)) kept += ni_topk_count_of(t, key, NULL);
    CHECK_INT(kept + ni_topk_dropped(t), n);
    CHECK_INT(ni_topk_dropped(t), d.count);
    CHECK_INT(ni_topk_evicted(t), d.keys);
    CHECK(ni_topk_bound(t) <= n / cap + 1);
    for (int h = 0; h < 20; h++) {
        uint64_t err = 0;
        snprintf(k, sizeof k, "heavy-%d", h);
        uint64_t c = ni_topk_count_of(t, k, &err);
        CHECK_INT(c, 1000 + 100 * h);
        CHECK(err <= n / cap + 1);
    }
    ni_topk_free(t, free);
}

/* Space-Saving's bounds on a skewed stream (key i weighs about 1/i), checked
 * against the true weights: count <= truth <= count + error for kept keys,
 * truth <= bound for keys not kept. */
TEST(bounds_hold)
{
    enum { KEYS = 5000 };
    static uint64_t truth[KEYS];
    memset(truth, 0, sizeof truth);
    ni_topk *t = ni_topk_new(100, NULL, NULL);
    char k[32];
    uint32_t x = 12345;
    for (int i = 0; i < 300000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = (x >> 8) % 100000 + 1;
        int key = (int)(100000 / r) - 1;
        if (key >= KEYS) key = KEYS - 1;
        truth[key]++;
        snprintf(k, sizeof k, "k%d", key);
        CHECK(ni_topk_add(t, k, 1) != NULL);
    }
    uint64_t bound = ni_topk_bound(t);
    CHECK(bound > 0 && bound <= 300000 / 100);
    int bad = 0;
    for (int i = 0; i < KEYS; i++) {
        uint64_t err;
        snprintf(k, sizeof k, "k%d", i);
        uint64_t c = ni_topk_count_of(t, k, &err);
        if (ni_topk_get(t, k) || c) { if (!(c <= truth[i] && truth[i] <= c + err)) bad++; }
        else if (truth[i] > bound) bad++;
        if (truth[i] > 300000 / 100) CHECK(c > 0);   /* every key above N / cap kept */
    }
    CHECK_INT(bad, 0);
    ni_topk_free(t, NULL);
}

/* Deterministic: two tables fed the same sequence agree key for key
 * (placement keys are random per table; ties are broken by the fixed hash). */
TEST(deterministic)
{
    ni_topk *a = ni_topk_new(64, NULL, NULL), *b = ni_topk_new(64, NULL, NULL);
    char k[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "n%d", (i * 7919) % 3001);
        ni_topk_add(a, k, 1);
        ni_topk_add(b, k, 1);
    }
    size_t it = 0; const char *key;
    int same = 0;
    while (ni_topk_next(a, &it, &key, NULL)) {
        uint64_t ea, eb;
        uint64_t ca = ni_topk_count_of(a, key, &ea), cb = ni_topk_count_of(b, key, &eb);
        same += ca == cb && ea == eb && cb > 0;
    }
    CHECK_INT(same, 64);
    CHECK_INT(ni_topk_count(b), 64);
    ni_topk_free(a, NULL);
    ni_topk_free(b, NULL);
}

/* Merging (adding another table's keys with their counts and errors) keeps
 * the totals and the heavy keys. */
TEST(merge_tables)
{
    ni_topk *a = ni_topk_new(50, NULL, NULL), *b = ni_topk_new(50, NULL, NULL);
    char k[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(k, sizeof k, i % 10 ? "x%d" : "hot", i);
        ni_topk_add(i & 1 ? a : b, k, 1);
    }
    size_t it = 0; const char *key;
    while (ni_topk_next(b, &it, &key, NULL)) {
        uint64_t err, c = ni_topk_count_of(b, key, &err);
        CHECK(ni_topk_add_error(a, key, c, err) != NULL);
    }
    uint64_t err;
    CHECK_INT(ni_topk_count_of(a, "hot", &err), 1000);
    CHECK_INT(ni_topk_total(a), 5000 + (ni_topk_total(b) - ni_topk_dropped(b)));
    ni_topk_free(a, NULL);
    ni_topk_free(b, NULL);
}

/* Keys of every length around the size kept inside an entry (31, 32, 33
 * bytes...) and long ones: below the cap every key is found with its exact
 * count whatever the table grew through, and the keys it lists are the keys
 * added; past the cap (evictions replace short keys by long ones and back)
 * the kept counts still add up with the dropped ones to the total. */
TEST(key_lengths)
{
    char k[128];
    ni_topk *t = ni_topk_new(4000, NULL, NULL);
    for (int i = 0; i < 3000; i++) {
        int len = 20 + i % 60;                      /* 20..79 bytes */
        snprintf(k, sizeof k, "%05d", i);
        memset(k + 5, 'a' + i % 26, (size_t)len - 5);
        k[len] = 0;
        CHECK(ni_topk_add(t, k, (uint64_t)(i % 5 + 1)) != NULL);
    }
    int bad = 0;
    for (int i = 0; i < 3000; i++) {
        int len = 20 + i % 60;
        snprintf(k, sizeof k, "%05d", i);
        memset(k + 5, 'a' + i % 26, (size_t)len - 5);
        k[len] = 0;
        if (ni_topk_count_of(t, k, NULL) != (uint64_t)(i % 5 + 1)) bad++;
    }
    CHECK_INT(bad, 0);
    size_t it = 0, n = 0; const char *key;
    while (ni_topk_next(t, &it, &key, NULL)) {
        int i = atoi(key);
        size_t len = strlen(key);
        if (len != (size_t)(20 + i % 60) || key[len - 1] != 'a' + i % 26) bad++;
        n++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(n, 3000);
    ni_topk_free(t, NULL);

    t = ni_topk_new(50, NULL, NULL);
    for (int i = 0; i < 20000; i++) {
        int key_i = (i * 7919) % 500, len = 25 + key_i % 20;     /* 25..44 bytes */
        snprintf(k, sizeof k, "%05d", key_i);
        memset(k + 5, 'x', (size_t)len - 5);
        k[len] = 0;
        CHECK(ni_topk_add(t, k, 1) != NULL);
    }
    uint64_t kept = 0;
    it = 0;
    while (ni_topk_next(t, &it, &key, NULL)) kept += ni_topk_count_of(t, key, NULL);
    CHECK_INT(ni_topk_count(t), 50);
    CHECK(ni_topk_evicted(t) > 0);
    CHECK_INT(kept + ni_topk_dropped(t), 20000);
    ni_topk_free(t, NULL);
}

RUN(T(exact_below_cap), T(late_heavy_hitters), T(bounds_hold), T(deterministic), T(merge_tables), T(key_lengths))
