/* ni_hash.c — SipHash-1-3 and per-table random keys (see ni_hash.h).
 * Follows the reference description: 64-bit state v0..v3 initialised from
 * the key and "somepseudorandomlygeneratedbytes", 8-byte little-endian
 * message words, the length in the top byte of the last word, c = 1
 * compression round per word and d = 3 finalisation rounds. */
#include "core/ni_hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

const ni_hash_key ni_hash_key_fixed = { 0, 0 };

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
    } while (0)

/* An 8-byte little-endian word at any alignment (one load on this
 * little-endian target; the shifts below keep big-endian hosts right). */
static inline uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The last 0..7 bytes as a little-endian word, with at most two loads. */
static inline uint64_t le_tail(const uint8_t *p, size_t n)
{
    uint32_t a, b;
    switch (n) {
    case 0: return 0;
    case 1: return p[0];
    case 2: return (uint64_t)p[0] | (uint64_t)p[1] << 8;
    case 3: return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16;
    default:                            /* 4..7: two overlapping 4-byte words */
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        a = __builtin_bswap32(a); b = __builtin_bswap32(b);
#endif
        return (uint64_t)a | (uint64_t)b << (8 * (n - 4));
    }
}

uint64_t ni_hash(const ni_hash_key *k, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t v0 = 0x736f6d6570736575ull ^ k->k0, v1 = 0x646f72616e646f6dull ^ k->k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k->k0, v3 = 0x7465646279746573ull ^ k->k1;
    uint64_t b = (uint64_t)n << 56;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t m = le64(p);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    b |= le_tail(p, n);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void ni_hash_key_random(ni_hash_key *k)
{
    uint64_t w[2];
    if (getrandom(w, sizeof w, GRND_NONBLOCK) == (ssize_t)sizeof w) {
        k->k0 = w[0]; k->k1 = w[1];
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t seed[4] = { (uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(), (uint64_t)(uintptr_t)k };
    k->k0 = ni_hash(&ni_hash_key_fixed, seed, sizeof seed);
    seed[0] ^= k->k0;
    k->k1 = ni_hash(&ni_hash_key_fixed, seed, sizeof seed);
}

void ni_mshift_init(ni_mshift *m)
{
    ni_hash_key k;
    ni_hash_key_random(&k);
    for (uint8_t i = 0; i <= NI_MSHIFT_WORDS; i++) {
        uint64_t v = ni_hash(&k, &i, 1);
        if (i < NI_MSHIFT_WORDS) m->mul[i] = v; else m->off = v;
    }
}
