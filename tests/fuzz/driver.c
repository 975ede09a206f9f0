/* driver.c — a standalone main() for libFuzzer targets, so that every
 * tests/fuzz/fuzz_<name>.c also builds with gcc (no libFuzzer) and runs as a
 * deterministic smoke test under -fsanitize=address,undefined.
 *
 *   driver [-n MUTATIONS] [-s SEED] [-m MAXLEN] PATH...
 *
 * Each PATH is a seed file or a directory of seed files (not recursive).
 * For every seed the target sees: the seed itself, each of its prefixes at a
 * few cut points (truncation is the most common malformation in captures),
 * and MUTATIONS pseudo-random mutants (bit flips, byte overwrites with
 * boundary values, inserted/deleted/duplicated ranges, splices with another
 * seed).  The PRNG (xorshift64*) is seeded from SEED and the seed's index, so
 * a run is reproducible.  When a sanitizer aborts, its death callback writes
 * the input being run to ./fuzz-crash-<pid> (re-run it: driver -n 0 FILE).
 * Every input is passed in a heap block of exactly its size, so ASan reports
 * any overread.  Exit status: 0 when all inputs ran, 1 on a usage or I/O
 * error; a sanitizer finding aborts the process (non-zero). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct blob {
    uint8_t *p;
    size_t n;
    char *name;
} blob;

typedef struct seeds {
    blob *v;
    size_t n, cap;
} seeds;

typedef struct run {
    unsigned long long inputs;
} run;

/* The input under test, for the sanitizer death callback (test code only;
 * a callback without arguments leaves no other way). */
static const uint8_t *cur_p;
static size_t cur_n;
static char crash_path[64];

void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void on_death(void)
{
    FILE *f = fopen(crash_path, "wb");
    if (f) {
        if (cur_n)
            fwrite(cur_p, 1, cur_n, f);
        fclose(f);
        fprintf(stderr, "driver: input written to %s (%zu bytes)\n", crash_path, cur_n);
    }
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return n ? (size_t)(rng_next(s) % n) : 0;
}

static int read_file(const char *path, blob *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    if (!p) {
        fclose(f);
        return -1;
    }
    for (;;) {
        if (n == cap) {
            uint8_t *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                fclose(f);
                return -1;
            }
            p = q;
            cap *= 2;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        return -1;
    }
    b->p = p;
    b->n = n;
    b->name = strdup(path);
    return b->name ? 0 : -1;
}

static int add_seed(seeds *S, const char *path)
{
    if (S->n == S->cap) {
        size_t cap = S->cap ? S->cap * 2 : 64;
        blob *v = realloc(S->v, cap * sizeof *v);
        if (!v)
            return -1;
        S->v = v;
        S->cap = cap;
    }
    if (read_file(path, &S->v[S->n]) != 0) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    S->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(seeds *S, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return add_seed(S, path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) {
                rc = -1;
                break;
            }
            names = v;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            rc = -1;
            break;
        }
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, cmp_str); /* readdir order is not stable */
    for (size_t i = 0; i < n; i++) {
        struct stat fs;
        if (rc == 0 && stat(names[i], &fs) == 0 && S_ISREG(fs.st_mode))
            rc = add_seed(S, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Runs the target on a heap copy of exactly n bytes. */
static void feed(run *R, const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        fprintf(stderr, "driver: out of memory\n");
        exit(1);
    }
    if (n)
        memcpy(copy, p, n);
    cur_p = copy;
    cur_n = n;
    LLVMFuzzerTestOneInput(copy, n);
    cur_p = NULL;
    cur_n = 0;
    free(copy);
    R->inputs++;
}

static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x03, 0x07, 0x0f, 0x10, 0x1f, 0x20, 0x3f,
                                      0x40, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff, '\r', '\n', ':',
                                      ' ', '.', 0x16, 0x17};

/* One mutant of seed i into buf (capacity cap); returns its length. */
static size_t mutate(uint64_t *rs, const seeds *S, size_t i, uint8_t *buf, size_t cap)
{
    const blob *b = &S->v[i];
    size_t n = b->n < cap ? b->n : cap;
    memcpy(buf, b->p, n);
    int rounds = 1 + (int)rng_below(rs, 4);
    for (int r = 0; r < rounds; r++) {
        switch (rng_below(rs, 8)) {
        case 0: /* flip a bit */
            if (n)
                buf[rng_below(rs, n)] ^= (uint8_t)(1u << rng_below(rs, 8));
            break;
        case 1: /* overwrite a byte with a boundary value */
            if (n)
                buf[rng_below(rs, n)] = interesting[rng_below(rs, sizeof interesting)];
            break;
        case 2: /* random byte */
            if (n)
                buf[rng_below(rs, n)] = (uint8_t)rng_next(rs);
            break;
        case 3: { /* 16-bit length-like field set to 0, 1, max or n+k */
            if (n >= 2) {
                size_t at = rng_below(rs, n - 1);
                uint16_t v;
                switch (rng_below(rs, 4)) {
                case 0: v = 0; break;
                case 1: v = 0xffff; break;
                case 2: v = (uint16_t)(n - at); break;
                default: v = (uint16_t)(n - at + 1 + rng_below(rs, 8)); break;
                }
                buf[at] = (uint8_t)(v >> 8);
                buf[at + 1] = (uint8_t)v;
            }
            break;
        }
        case 4: /* truncate */
            if (n)
                n = rng_below(rs, n);
            break;
        case 5: { /* delete a range */
            if (n >= 2) {
                size_t at = rng_below(rs, n), len = 1 + rng_below(rs, n - at);
                memmove(buf + at, buf + at + len, n - at - len);
                n -= len;
            }
            break;
        }
        case 6: { /* duplicate a range */
            if (n && n < cap) {
                size_t at = rng_below(rs, n), len = 1 + rng_below(rs, n - at);
                if (len > cap - n)
                    len = cap - n;
                memmove(buf + at + len, buf + at, n - at);
                n += len;
            }
            break;
        }
        default: { /* splice: tail from another seed */
            const blob *o = &S->v[rng_below(rs, S->n)];
            if (o->n) {
                size_t at = rng_below(rs, n + 1), from = rng_below(rs, o->n);
                size_t len = o->n - from;
                if (len > cap - at)
                    len = cap - at;
                memcpy(buf + at, o->p + from, len);
                n = at + len;
            }
            break;
        }
        }
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: driver [-n MUTATIONS] [-s SEED] [-m MAXLEN] PATH...\n");
}

int main(int argc, char **argv)
{
    unsigned long mutations = 100;
    unsigned long long seed = 1;
    size_t maxlen = 1u << 20;
    int opt;
    while ((opt = getopt(argc, argv, "n:s:m:h")) != -1) {
        char *end = NULL;
        errno = 0;
        switch (opt) {
        case 'n':
            mutations = strtoul(optarg, &end, 10);
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            break;
        case 'm':
            maxlen = (size_t)strtoul(optarg, &end, 10);
            break;
        default:
            usage();
            return opt == 'h' ? 0 : 1;
        }
        if (errno || !end || *end) {
            usage();
            return 1;
        }
    }
    if (optind >= argc) {
        usage();
        return 1;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);

    seeds S = {0};
    for (int i = optind; i < argc; i++)
        if (add_path(&S, argv[i]) != 0)
            return 1;
    if (S.n == 0) {
        fprintf(stderr, "driver: no seed files\n");
        return 1;
    }

    snprintf(crash_path, sizeof crash_path, "fuzz-crash-%ld", (long)getpid());
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_death);
    run R = {0};
    uint8_t *buf = malloc(maxlen + 1);
    if (!buf)
        return 1;

    feed(&R, (const uint8_t *)"", 0);
    for (size_t i = 0; i < S.n; i++) {
        const blob *b = &S.v[i];
        size_t n = b->n < maxlen ? b->n : maxlen;
        feed(&R, b->p, n);
        /* prefixes: every length for small seeds, ~64 cut points otherwise */
        size_t step = n <= 256 ? 1 : n / 64;
        for (size_t k = 0; k < n; k += step)
            feed(&R, b->p, k);
        uint64_t rs = (seed * 0x9E3779B97F4A7C15ull) ^ (i + 1) * 0xD1B54A32D192ED03ull;
        if (!rs)
            rs = 1;
        for (unsigned long m = 0; m < mutations; m++) {
            size_t len = mutate(&rs, &S, i, buf, maxlen);
            feed(&R, buf, len);
        }
    }
    printf("%llu inputs from %zu seeds, no finding\n", R.inputs, S.n);
    for (size_t i = 0; i < S.n; i++) {
        free(S.v[i].p);
        free(S.v[i].name);
    }
    free(S.v);
    free(buf);
    return 0;
}
