/* cores.c — what handing work between two cores costs on this machine, the
 * three figures that bound what worker threads (-j) can buy:
 *
 *   line     round trip of one cache line between two threads pinned to two
 *            CPUs (each writes a counter the other waits for, spinning): twice
 *            the latency of a line written on one core and read on the other;
 *   stream   reading 512 KiB (one load per 64-byte line) just written by the
 *            other CPU, against just written by the same CPU: what a batch of
 *            packets or sessions handed over costs its reader;
 *   wake     round trip of a sleep and a wake-up (a condition variable each
 *            way, the other thread asleep): what a thread that waits for work
 *            pays, in wall time and in CPU time (both threads' together).
 *
 * Each figure is the median of 7 repetitions.  Prints one line per figure, or
 * "cores: one CPU" when the process may run on fewer than two.  Used by
 * bench/run (--threads, --defaults) to print these beside the -j figures.
 *
 *   cores [CPU_A CPU_B]      (default: the first two CPUs this process may use) */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 7
#define LINE_TRIPS 100000L
#define STREAM_BYTES (512u << 10)
#define STREAM_ROUNDS 50
#define WAKE_TRIPS 2000L

static int cpu_a, cpu_b;

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* ---- line: a counter bounced between the two CPUs ---------------------- */
static _Alignas(64) _Atomic long counter;

static void *line_peer(void *arg)
{
    (void)arg;
    pin(cpu_b);
    for (long i = 0; i < LINE_TRIPS; i++) {
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&counter, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double line_ns(void)
{
    pthread_t t;
    atomic_store(&counter, 0);
    if (pthread_create(&t, NULL, line_peer, NULL)) return -1;
    double t0 = now(CLOCK_MONOTONIC);
    for (long i = 0; i < LINE_TRIPS; i++) {
        atomic_store_explicit(&counter, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 2) {}
    }
    double dt = now(CLOCK_MONOTONIC) - t0;
    pthread_join(t, NULL);
    return dt / LINE_TRIPS * 1e9;
}

/* ---- stream: read what the other CPU (or this one) just wrote ------------ */
static unsigned char *buf;
static _Alignas(64) _Atomic int stage;
static volatile unsigned long sink;

static void *stream_writer(void *arg)
{
    (void)arg;
    pin(cpu_b);
    for (int r = 0; r < STREAM_ROUNDS; r++) {
        while (atomic_load(&stage) != 2 * r) {}
        memset(buf, r, STREAM_BYTES);
        atomic_store(&stage, 2 * r + 1);
    }
    return NULL;
}

static unsigned long read_lines(void)
{
    unsigned long s = 0;
    for (size_t i = 0; i < STREAM_BYTES; i += 64) s += buf[i];
    return s;
}

/* GB/s reading the buffer written by the other CPU (other) or by this one. */
static double stream_gbs(int other)
{
    double t = 0;
    if (other) {
        pthread_t th;
        atomic_store(&stage, 0);
        if (pthread_create(&th, NULL, stream_writer, NULL)) return -1;
        for (int r = 0; r < STREAM_ROUNDS; r++) {
            while (atomic_load(&stage) != 2 * r + 1) {}
            double a = now(CLOCK_MONOTONIC);
            sink += read_lines();
            t += now(CLOCK_MONOTONIC) - a;
            atomic_store(&stage, 2 * r + 2);
        }
        pthread_join(th, NULL);
    } else {
        for (int r = 0; r < STREAM_ROUNDS; r++) {
            memset(buf, r, STREAM_BYTES);
            double a = now(CLOCK_MONOTONIC);
            sink += read_lines();
            t += now(CLOCK_MONOTONIC) - a;
        }
    }
    return (double)STREAM_BYTES * STREAM_ROUNDS / t / 1e9;
}

/* ---- wake: a condition variable each way, the other side asleep -------- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t to_peer = PTHREAD_COND_INITIALIZER, to_main = PTHREAD_COND_INITIALIZER;
static long turn;

static void *wake_peer(void *arg)
{
    (void)arg;
    pin(cpu_b);
    pthread_mutex_lock(&mu);
    for (long i = 0; i < WAKE_TRIPS; i++) {
        while (turn != 2 * i + 1) pthread_cond_wait(&to_peer, &mu);
        turn++;
        pthread_cond_signal(&to_main);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Microseconds of wall time per round trip; *cpu_us: CPU time of both. */
static double wake_us(double *cpu_us)
{
    pthread_t t;
    turn = 0;
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
    if (pthread_create(&t, NULL, wake_peer, NULL)) return -1;
    pthread_mutex_lock(&mu);
    for (long i = 0; i < WAKE_TRIPS; i++) {
        turn++;
        pthread_cond_signal(&to_peer);
        while (turn != 2 * i + 2) pthread_cond_wait(&to_main, &mu);
    }
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    double dt = now(CLOCK_MONOTONIC) - t0;
    *cpu_us = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / WAKE_TRIPS * 1e6;
    return dt / WAKE_TRIPS * 1e6;
}

int main(int argc, char **argv)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) { perror("cores: sched_getaffinity"); return 1; }
    if (argc == 3) {
        cpu_a = atoi(argv[1]);
        cpu_b = atoi(argv[2]);
    } else {
        int found = 0;
        for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
            if (CPU_ISSET(c, &allowed)) { if (found++) cpu_b = c; else cpu_a = c; }
        if (found < 2) { puts("cores: one CPU"); return 0; }
    }
    if (pin(cpu_a) != 0) { fprintf(stderr, "cores: cannot run on CPU %d\n", cpu_a); return 1; }
    if (!(buf = aligned_alloc(64, STREAM_BYTES))) { fputs("cores: out of memory\n", stderr); return 1; }
    memset(buf, 0, STREAM_BYTES);

    double line[REPS], other[REPS], same[REPS], wake[REPS], wcpu[REPS];
    for (int r = 0; r < REPS; r++) {
        line[r] = line_ns();
        other[r] = stream_gbs(1);
        same[r] = stream_gbs(0);
        wake[r] = wake_us(&wcpu[r]);
    }
    printf("cores %d and %d: cache line round trip %.0f ns\n", cpu_a, cpu_b, median(line, REPS));
    printf("cores %d and %d: reading 512 KiB the other core just wrote %.1f GB/s, the same core %.1f GB/s\n",
           cpu_a, cpu_b, median(other, REPS), median(same, REPS));
    printf("cores %d and %d: sleep and wake-up round trip %.1f us wall, %.1f us CPU\n",
           cpu_a, cpu_b, median(wake, REPS), median(wcpu, REPS));
    free(buf);
    return 0;
}
