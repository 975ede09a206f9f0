/* fuzz_x509.c — libFuzzer target for the X.509 Name formatter
 * (lib/dissect/ni_x509), with OpenSSL as the oracle: whenever
 * ni_x509_name writes a text and OpenSSL decodes the same bytes, the two
 * texts must be equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "dissect/ni_x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char mine[512];
    size_t k = ni_x509_name(data, size, mine, sizeof mine);
    if (k && strlen(mine) != k) abort();
    if (!k) return 0;
    const unsigned char *q = data;
    X509_NAME *nm = d2i_X509_NAME(NULL, &q, (long)size);
    if (!nm) return 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio && X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *d;
        long len = BIO_get_mem_data(bio, &d);
        if ((size_t)q - (size_t)data == size && len >= 0 && ((size_t)len != k || memcmp(d, mine, k))) abort();
    }
    BIO_free(bio);
    X509_NAME_free(nm);
    return 0;
}
