/* test_sha256.c — lib/core/ni_sha256 against FIPS 180-4's examples (NIST's
 * "abc", two-block and million-'a' vectors, and the empty message) and
 * against OpenSSL's SHA256 on every length from 0 to 300 bytes of
 * pseudo-random data (the padding's one- and two-block cases). */
#include "ni_test.h"
#include "core/ni_sha256.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < NI_SHA256_LEN; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_vec(const void *m, size_t n, const char *want)
{
    uint8_t d[NI_SHA256_LEN];
    char h[2 * NI_SHA256_LEN + 1];
    ni_sha256(m, n, d);
    hex(d, h);
    CHECK_STR(h, want);
}

TEST(fips_vectors)
{
    check_vec("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_vec("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_vec(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *a = malloc(1000000);
    CHECK(a != NULL);
    if (a) {
        memset(a, 'a', 1000000);
        check_vec(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(a);
    }
}

TEST(same_as_openssl)
{
    uint8_t buf[300];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; buf[i] = (uint8_t)x; }
    int bad = 0;
    for (size_t n = 0; n <= sizeof buf; n++) {
        uint8_t mine[NI_SHA256_LEN], theirs[SHA256_DIGEST_LENGTH];
        ni_sha256(buf, n, mine);
        SHA256(buf, n, theirs);
        if (memcmp(mine, theirs, sizeof mine)) bad++;
    }
    CHECK_INT(bad, 0);
}

RUN(T(fips_vectors), T(same_as_openssl))
