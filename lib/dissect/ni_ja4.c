/* ni_ja4.c — JA4 TLS client fingerprint (FoxIO JA4 definition,
 * technical_details/JA4.md, BSD-3-Clause):
 *   ja4_a = proto, 2-char version, d|i, 2-digit cipher count, 2-digit
 *           extension count (GREASE excluded, capped at 99), ALPN chars
 *   ja4_b = sha256("cccc,cccc,...") of the sorted ciphers, first 12 hex
 *   ja4_c = sha256("eeee,...[_ssss,...]") of the sorted extensions without
 *           SNI (0000) and ALPN (0010), then "_" and the signature algorithms
 *           in wire order when there are any; first 12 hex
 * An empty list hashes to "000000000000" (the spec's rule). */
#include "dissect/ni_ja4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The one-shot low-level SHA-256 API: OpenSSL 3 deprecates it in favour of
 * EVP, whose implicit algorithm fetch takes a global lock on every init —
 * measurable at line rate.  The low-level functions are still the same code. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

const char *ni_ja4_version_code(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default:     return "00";
    }
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Appends "xxxx" items joined by ',' to the digest; returns items hashed. */
static size_t hash_list(SHA256_CTX *md, const uint16_t *v, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char item[5];
    for (size_t i = 0; i < n; i++) {
        item[0] = ',';
        item[1] = hx[v[i] >> 12]; item[2] = hx[(v[i] >> 8) & 15];
        item[3] = hx[(v[i] >> 4) & 15]; item[4] = hx[v[i] & 15];
        if (i) SHA256_Update(md, item, 5);
        else SHA256_Update(md, item + 1, 4);
    }
    return n;
}

static void hex12(SHA256_CTX *md, char *out)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    static const char hx[] = "0123456789abcdef";
    SHA256_Final(d, md);
    for (int i = 0; i < 6; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[12] = 0;
}

/* Copies the non-GREASE values of v (optionally without SNI/ALPN) into dst. */
static size_t filter(uint16_t *dst, const uint16_t *v, size_t n, bool drop_sni_alpn)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ni_tls_is_grease(v[i])) continue;
        if (drop_sni_alpn && (v[i] == 0x0000 || v[i] == 0x0010)) continue;
        dst[k++] = v[i];
    }
    return k;
}

bool ni_ja4_compute(const ni_ja4_input *in, char *out)
{
    out[0] = 0;
    size_t cap = in->n_ciphers + in->n_exts + in->n_sigalgs + 1;
    uint16_t *tmp = malloc(cap * sizeof *tmp);
    SHA256_CTX mdc, *md = &mdc;
    if (!tmp) return false;

    uint16_t *ci = tmp;
    size_t nci = filter(ci, in->ciphers, in->n_ciphers, false);
    uint16_t *ex = ci + nci;
    size_t next_all = filter(ex, in->exts, in->n_exts, false);
    size_t nex = filter(ex, in->exts, in->n_exts, true);
    uint16_t *sa = ex + nex;
    size_t nsa = filter(sa, in->sigalgs, in->n_sigalgs, false);

    /* ALPN: first and last byte of the first value when both are
     * alphanumeric, else first and last hex digit of the value's hex form. */
    char alpn[3] = "00";
    if (in->alpn && in->alpn_len > 0) {
        uint8_t f = in->alpn[0], l = in->alpn[in->alpn_len - 1];
        if (is_alnum(f) && is_alnum(l)) { alpn[0] = (char)f; alpn[1] = (char)l; }
        else {
            static const char hx[] = "0123456789abcdef";
            alpn[0] = hx[f >> 4]; alpn[1] = hx[l & 15];
        }
    }

    char b[13], c[13];
    size_t kc = nci > 99 ? 99 : nci, ke = next_all > 99 ? 99 : next_all;
    const char *vc = ni_ja4_version_code(in->version);
    if (nci == 0) memcpy(b, "000000000000", 13);
    else {
        qsort(ci, nci, sizeof *ci, cmp_u16);
        SHA256_Init(md);
        hash_list(md, ci, nci);
        hex12(md, b);
    }
    if (nex == 0) memcpy(c, "000000000000", 13);
    else {
        qsort(ex, nex, sizeof *ex, cmp_u16);
        SHA256_Init(md);
        hash_list(md, ex, nex);
        if (nsa) {
            SHA256_Update(md, "_", 1);
            hash_list(md, sa, nsa);
        }
        hex12(md, c);
    }
    out[0] = in->proto ? in->proto : 't';
    out[1] = vc[0]; out[2] = vc[1];
    out[3] = in->has_sni ? 'd' : 'i';
    out[4] = (char)('0' + kc / 10); out[5] = (char)('0' + kc % 10);
    out[6] = (char)('0' + ke / 10); out[7] = (char)('0' + ke % 10);
    out[8] = alpn[0]; out[9] = alpn[1];
    out[10] = '_';
    memcpy(out + 11, b, 12);
    out[23] = '_';
    memcpy(out + 24, c, 13);                     /* with its NUL */
    free(tmp);
    return true;
}
