/* test_engine.c — the session engine's parallel runs (ni_engine_set_threads)
 * on a flood: one TCP SYN from each of many sources, one session each.
 * With a worker the sink sees the same sessions in the same order as with
 * one thread, and each session's lane hook runs exactly once before its
 * hook.  When the worker is the bottleneck (here a slow lane hook), the
 * reader waits for batch after batch; the worker then leaves the lane
 * hooks to the merge, which the waiting reader (the caller's thread) runs:
 * some sessions must have been enriched there, with the same results. */
#include "ni_test.h"
#include "session/ni_engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define FLOOD 60000u            /* sessions: 58 batches of NI_PAR_BATCH_PKTS packets */

typedef struct run {
    pthread_t caller;
    unsigned char *lane_runs;   /* per source: the lane hook's runs */
    unsigned char *by_caller;   /* per source: run by the caller's thread */
    unsigned char *hook_saw;    /* per source: the lane hook ran before the hook */
    uint32_t *order;            /* sources in the sink's order */
    size_t n;
    bool slow;
} run;

static uint32_t src_index(const ni_session *s)
{
    return ((uint32_t)s->client.b[1] << 16 | (uint32_t)s->client.b[2] << 8 | s->client.b[3]) - 1;
}

static void spin_us(long us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

/* marks the session (its client port, which the sink reads back) */
static bool lane_hook(void *ud, void **state, ni_session *s)
{
    run *r = ud;
    (void)state;
    uint32_t i = src_index(s);
    if (i >= FLOOD) return true;
    r->lane_runs[i]++;
    if (pthread_equal(pthread_self(), r->caller)) r->by_caller[i] = 1;
    s->client_port ^= 0x5a5a;
    if (r->slow) spin_us(8);
    return true;
}

static void hook(void *ud, ni_session *s)
{
    run *r = ud;
    uint32_t i = src_index(s);
    if (i < FLOOD) r->hook_saw[i] = s->client_port == (40000 ^ 0x5a5a);
}

static ni_err sink(void *ud, const ni_session *s, ni_error *err)
{
    run *r = ud;
    (void)err;
    if (r->n < FLOOD) r->order[r->n] = src_index(s);
    r->n++;
    return NI_OK;
}

/* Ethernet, IPv4 10.a.b.c (source i + 1) to 175.45.176.1, TCP SYN 40000 → 443 */
static void syn_frame(uint8_t *f, uint32_t i)
{
    static const uint8_t head[] = {
        0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
        0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
        10, 0, 0, 0, 175, 45, 176, 1,
        0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
    };
    memcpy(f, head, sizeof head);
    uint32_t a = i + 1;
    f[27] = (uint8_t)(a >> 16);
    f[28] = (uint8_t)(a >> 8);
    f[29] = (uint8_t)a;
}

static bool flood(unsigned workers, bool slow, run *r)
{
    memset(r, 0, sizeof *r);
    r->caller = pthread_self();
    r->slow = slow;
    r->lane_runs = calloc(FLOOD, 1);
    r->by_caller = calloc(FLOOD, 1);
    r->hook_saw = calloc(FLOOD, 1);
    r->order = calloc(FLOOD, sizeof *r->order);
    if (!r->lane_runs || !r->by_caller || !r->hook_saw || !r->order) return false;
    ni_engine_config cfg = { .ndpi = false };
    ni_flow_config_default(&cfg.flow);
    cfg.flow.tcp_idle_us = 1000000;     /* a SYN's flow ends a second later */
    ni_error err = { 0 };
    ni_engine *e = ni_engine_new(&cfg, &err);
    if (!e) return false;
    bool ok = ni_engine_add_lane_hook(e, lane_hook, NULL, r) == NI_OK &&
              ni_engine_add_hook(e, hook, r) == NI_OK;
    ni_engine_set_sink(e, sink, r);
    if (ok && workers) ok = ni_engine_set_threads(e, workers, &err) == NI_OK;
    uint8_t f[54];
    int64_t t0 = 1709510400000000;      /* 2024-03-04, one SYN a millisecond */
    for (uint32_t i = 0; ok && i < FLOOD; i++) {
        syn_frame(f, i);
        ok = ni_engine_frame(e, 1, f, sizeof f, sizeof f, t0 + (int64_t)i * 1000, &err) == NI_OK;
    }
    if (ok) ok = ni_engine_finish(e, &err) == NI_OK;
    ni_engine_free(e);
    return ok;
}

static void run_free(run *r)
{
    free(r->lane_runs);
    free(r->by_caller);
    free(r->hook_saw);
    free(r->order);
}

/* every session once, its lane hook once and before its hook */
static void check_each(const run *r)
{
    CHECK_INT(r->n, FLOOD);
    size_t bad_runs = 0, unseen = 0;
    for (size_t i = 0; i < FLOOD; i++) {
        if (r->lane_runs[i] != 1) bad_runs++;
        if (!r->hook_saw[i]) unseen++;
    }
    CHECK_INT(bad_runs, 0);
    CHECK_INT(unseen, 0);
}

TEST(worker_gives_one_threads_sessions)
{
    run one, two;
    CHECK(flood(0, false, &one));
    CHECK(flood(1, false, &two));
    check_each(&one);
    check_each(&two);
    CHECK(one.n == two.n && memcmp(one.order, two.order, FLOOD * sizeof *one.order) == 0);
    run_free(&one);
    run_free(&two);
}

TEST(slow_worker_leaves_lane_hooks_to_the_merge)
{
    run one, two;
    CHECK(flood(0, false, &one));
    CHECK(flood(1, true, &two));
    check_each(&two);
    CHECK(one.n == two.n && memcmp(one.order, two.order, FLOOD * sizeof *one.order) == 0);
    size_t merged = 0;
    for (size_t i = 0; i < FLOOD; i++) merged += two.by_caller[i];
    /* the reader waits for the worker from the fifth batch on: once it
     * waited for NI_PAR_IDLE_STREAK in a row, the merge enriches sessions
     * (then the reader, slowed by the hooks, stops waiting and the worker
     * takes them back: 512 to 15,000 of the 60,000 in 25 runs here) */
    CHECK(merged > 0);
    CHECK(merged < FLOOD);
    run_free(&one);
    run_free(&two);
}

RUN(T(worker_gives_one_threads_sessions), T(slow_worker_leaves_lane_hooks_to_the_merge))
