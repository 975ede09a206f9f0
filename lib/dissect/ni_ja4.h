/* ni_ja4.h — the JA4 TLS client fingerprint (FoxIO's published JA4
 * definition, technical_details/JA4.md of FoxIO-LLC/ja4, BSD-3-Clause) computed
 * from the fields of a parsed ClientHello.  SHA-256 comes from OpenSSL's
 * libcrypto.  Used by ni_tls.c for TLS over TCP and for QUIC. */
#ifndef NI_JA4_H
#define NI_JA4_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* "t13d1516h2_8daaf6152771_e5627efa2ab1" plus NUL */
#define NI_JA4_STRLEN 37

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
static inline bool ni_tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* What JA4 needs from a ClientHello.  Lists are as they appear on the wire
 * (big-endian u16 arrays are decoded by the caller); GREASE values may be
 * present: they are skipped here. */
typedef struct ni_ja4_input {
    char proto;                 /* 't' TLS over TCP, 'q' QUIC, 'd' DTLS */
    uint16_t version;           /* highest non-GREASE supported_versions value, else legacy */
    bool has_sni;               /* extension 0x0000 present */
    const uint16_t *ciphers; size_t n_ciphers;
    const uint16_t *exts; size_t n_exts;        /* extension types in wire order */
    const uint16_t *sigalgs; size_t n_sigalgs;  /* signature_algorithms in wire order */
    const uint8_t *alpn; size_t alpn_len;       /* first ALPN value, or NULL */
} ni_ja4_input;

/* Writes the fingerprint into out[NI_JA4_STRLEN].  Returns false only when
 * memory for sorting could not be had (out is then ""). */
bool ni_ja4_compute(const ni_ja4_input *in, char *out);

/* A bounded cache of the hashes of list texts already seen (1,024 entries,
 * at most ~1 MiB) and of the wire-order value lists they came from (1,024
 * entries, at most ~1 MiB): with it, each distinct cipher or extension list
 * is hashed once, and a list met again in the same order is not even
 * sorted; results are the same as without.  Not shared between threads. */
typedef struct ni_ja4_cache ni_ja4_cache;
ni_ja4_cache *ni_ja4_cache_new(void);
void ni_ja4_cache_free(ni_ja4_cache *c);
/* ni_ja4_compute through cache (NULL: none). */
bool ni_ja4_compute_cached(const ni_ja4_input *in, ni_ja4_cache *cache, char *out);

/* The two JA4 version characters for a TLS/DTLS version code ("13", "s3",
 * "d2"; "00" when unknown). */
const char *ni_ja4_version_code(uint16_t v);

#endif
