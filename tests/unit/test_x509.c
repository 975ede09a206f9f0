/* test_x509.c — lib/dissect/ni_x509 against OpenSSL: every certificate that
 * tshark finds in the corpus captures (tests/corpus) is decoded with
 * OpenSSL, and the subject and issuer written by ni_x509_name must equal
 * X509_NAME_print_ex's RFC 2253 text (or be declined, leaving it to
 * OpenSSL); plus crafted names: escapes, multi-valued RDNs, BMP strings,
 * unknown attributes and malformed DER. */
#include "ni_test.h"
#include "dissect/ni_x509.h"

#include <openssl/x509.h>
#include <dirent.h>
#include <stdlib.h>

static int compared, declined;

static void openssl_text(X509_NAME *nm, char *out, size_t n)
{
    out[0] = 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *d;
        long len = BIO_get_mem_data(bio, &d);
        if (len > 0 && (size_t)len < n) { memcpy(out, d, (size_t)len); out[len] = 0; }
    }
    BIO_free(bio);
}

static void check_name(X509_NAME *nm)
{
    unsigned char *der = NULL;
    int dl = i2d_X509_NAME(nm, &der);
    if (dl <= 0) return;
    char mine[1024], ref[1024];
    size_t k = ni_x509_name(der, (size_t)dl, mine, sizeof mine);
    openssl_text(nm, ref, sizeof ref);
    if (k) { compared++; CHECK_STR(mine, ref); }
    else declined++;
    OPENSSL_free(der);
}

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

TEST(corpus_certificates_match_openssl)
{
    DIR *d = opendir("tests/corpus/ndpi/pcap");
    if (!d) { fprintf(stderr, "  (corpus not found: skipped)\n"); return; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd, "tshark -r 'tests/corpus/ndpi/pcap/%s' -Y tls.handshake.certificate "
                 "-T fields -e tls.handshake.certificate 2>/dev/null", e->d_name);
        FILE *p = popen(cmd, "r");
        if (!p) continue;
        static char line[1 << 20];
        while (fgets(line, sizeof line, p)) {
            for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n")) {
                size_t hl = strlen(tok), n = hl / 2;
                unsigned char *der = malloc(n + 1);
                for (size_t i = 0; i < n; i++) der[i] = (unsigned char)(hexval(tok[2 * i]) << 4 | hexval(tok[2 * i + 1]));
                const unsigned char *q = der;
                X509 *x = d2i_X509(NULL, &q, (long)n);
                if (x) {
                    check_name(X509_get_subject_name(x));
                    check_name(X509_get_issuer_name(x));
                    X509_free(x);
                }
                free(der);
            }
        }
        pclose(p);
    }
    closedir(d);
    fprintf(stderr, "  %d names compared with OpenSSL, %d declined (left to OpenSSL)\n", compared, declined);
    CHECK(compared > 100);
    CHECK(declined * 10 < compared);
}

static void crafted(const char *expect, void (*build)(X509_NAME *))
{
    X509_NAME *nm = X509_NAME_new();
    build(nm);
    unsigned char *der = NULL;
    int dl = i2d_X509_NAME(nm, &der);
    char mine[512], ref[512];
    size_t k = ni_x509_name(der, (size_t)dl, mine, sizeof mine);
    openssl_text(nm, ref, sizeof ref);
    if (expect) { CHECK(k > 0); CHECK_STR(mine, ref); CHECK_STR(mine, expect); }
    else CHECK(k == 0);
    OPENSSL_free(der);
    X509_NAME_free(nm);
}

static void b_escapes(X509_NAME *nm)
{
    X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Acme, Inc.", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"#a+b<c>;\"d\\ ", -1, -1, 0);
}
static void b_multi(X509_NAME *nm)
{
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"X", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"a", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "OU", MBSTRING_ASC, (const unsigned char *)"b", -1, -1, -1);
}
static void b_bmp(X509_NAME *nm)
{
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_BMP, (const unsigned char *)"\0\xe9\0t\0\xe9", 6, -1, 0);
}
static void b_nul(X509_NAME *nm)
{
    X509_NAME_add_entry_by_txt(nm, "L", MBSTRING_ASC, (const unsigned char *)"Man\0chester", 11, -1, 0);
}
static void b_unknown(X509_NAME *nm)
{
    X509_NAME_add_entry_by_txt(nm, "1.2.3.4.5", MBSTRING_ASC, (const unsigned char *)"v", -1, -1, 0);
}

TEST(crafted_names)
{
    crafted("CN=\\#a\\+b\\<c\\>\\;\\\"d\\\\\\ ,O=Acme\\, Inc.,C=US", b_escapes);
    crafted("OU=b+CN=a,O=X", b_multi);   /* one RDN of two attributes, reversed like the RDNs */
    crafted("CN=\xc3\xa9t\xc3\xa9", b_bmp);
    crafted("L=Man\\00chester", b_nul);      /* a control character: \XX, as OpenSSL */
    crafted(NULL, b_unknown);
    char out[64];
    static const uint8_t bad[] = { 0x30, 0x05, 0x31, 0x09, 0x30, 0x00, 0x00 };
    CHECK(ni_x509_name(bad, sizeof bad, out, sizeof out) == 0);
    CHECK(ni_x509_name(bad, 1, out, sizeof out) == 0);
}

RUN(T(corpus_certificates_match_openssl), T(crafted_names))
