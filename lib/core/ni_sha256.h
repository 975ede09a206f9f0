/* ni_sha256.h — SHA-256 (FIPS 180-4 §6.2), one-shot.  JA4's hashes are
 * truncated SHA-256 digests (ni_ja4); OpenSSL's SHA256() fetches its
 * provider on first use (~5 M instructions, before the first TLS hello is
 * fingerprinted) and allocates a context per call, so netintel computes
 * them itself.  Not for secrets: no attempt at constant time. */
#ifndef NI_SHA256_H
#define NI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define NI_SHA256_LEN 32

/* The digest of p[0..n) into out. */
void ni_sha256(const void *p, size_t n, uint8_t out[NI_SHA256_LEN]);

#endif
