/* fuzz_quic.c — libFuzzer target for lib/dissect/ni_quic.  Two routes:
 *  1. the input as client UDP datagrams (one whole, then in two halves on
 *     one flow state): header parsing, version/salt choice, header
 *     protection and AEAD on hostile bytes;
 *  2. the input as the *plaintext* frames of QUIC v1 Initial packets that
 *     this harness protects with the keys of a fixed DCID (RFC 9001 §5),
 *     so that the fuzzer reaches frame walking, CRYPTO reassembly and the
 *     TLS ClientHello parser behind the AEAD: whole, and split across two
 *     datagrams.
 * Checks: no sanitizer finding, state freed, strings sane. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "dissect/ni_quic.h"
#include "core/ni_arena.h"
#include "core/ni_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* Protected v1 Initial carrying pl bytes of frames; returns its length (0 on failure). */
static size_t protect(const ni_quic_keys *k, uint32_t pn, const uint8_t *plain, size_t pl, uint8_t *out)
{
    uint8_t pay[1400];
    if (pl > sizeof pay) pl = sizeof pay;
    memcpy(pay, plain, pl);
    while (pl < 20) pay[pl++] = 0;
    size_t n = 0;
    out[n++] = 0xc1;
    out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 1;
    out[n++] = 8; memcpy(out + n, dcid, 8); n += 8;
    out[n++] = 0; out[n++] = 0;
    size_t len = 2 + pl + 16;
    out[n++] = (uint8_t)(0x40 | (len >> 8)); out[n++] = (uint8_t)len;
    size_t pn_off = n;
    out[n++] = (uint8_t)(pn >> 8); out[n++] = (uint8_t)pn;
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    nonce[10] ^= (uint8_t)(pn >> 8); nonce[11] ^= (uint8_t)pn;
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    if (!cx) return 0;
    int ol = 0, ok = 1;
    uint8_t mask[32];
    ok &= EVP_EncryptInit_ex(cx, EVP_aes_128_gcm(), NULL, NULL, NULL);
    ok &= EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
    ok &= EVP_EncryptInit_ex(cx, NULL, NULL, k->key, nonce);
    ok &= EVP_EncryptUpdate(cx, NULL, &ol, out, (int)n);
    ok &= EVP_EncryptUpdate(cx, out + n, &ol, pay, (int)pl);
    ok &= EVP_EncryptFinal_ex(cx, out + n + pl, &ol);
    ok &= EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16, out + n + pl);
    n += pl + 16;
    ok &= EVP_EncryptInit_ex(cx, EVP_aes_128_ecb(), NULL, k->hp, NULL);
    EVP_CIPHER_CTX_set_padding(cx, 0);
    ok &= EVP_EncryptUpdate(cx, mask, &ol, out + pn_off + 4, 16);
    EVP_CIPHER_CTX_free(cx);
    if (!ok) return 0;
    out[0] ^= mask[0] & 0x0f;
    out[pn_off] ^= mask[1]; out[pn_off + 1] ^= mask[2];
    return n;
}

static void check(const ni_session *s)
{
    if (s->ja4 && strlen(s->ja4) != 36) abort();
    unsigned n = 0;
    for (const ni_strlist *a = s->alpn; a; a = a->next)
        if (!a->s || ++n > NI_ALPN_MAX) abort();
}

static void feed(const uint8_t *const *d, const size_t *n, int count)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    if (!s.arena) return;
    ni_quic_state *st = NULL;
    for (int i = 0; i < count; i++) {
        uint8_t *copy = malloc(n[i] ? n[i] : 1);    /* exactly sized */
        if (!copy) break;
        memcpy(copy, d[i], n[i]);
        bool done = ni_quic_datagram(&st, &s, copy, n[i]);
        free(copy);
        if (done) break;
    }
    check(&s);
    ni_quic_state_free(st);
    ni_arena_free(s.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)ni_quic_probe(data, size);
    const uint8_t *d[2] = { data, data + size / 2 };
    size_t n[2] = { size, 0 };
    feed(d, n, 1);
    n[0] = size / 2; n[1] = size - size / 2;
    feed(d, n, 2);

    ni_quic_keys k;
    if (!ni_quic_client_keys(1, dcid, sizeof dcid, &k)) return 0;
    static uint8_t a[1500], b[1500];
    size_t half = size / 2;
    size_t la = protect(&k, 0, data, size, a);
    const uint8_t *one[1] = { a };
    size_t none[1] = { la };
    if (la) feed(one, none, 1);
    la = protect(&k, 0, data + half, size - half, a);     /* second half first */
    size_t lb = protect(&k, 1, data, half, b);
    const uint8_t *two[2] = { a, b };
    size_t ntwo[2] = { la, lb };
    if (la && lb) feed(two, ntwo, 2);
    return 0;
}
