/* ni_x509.h — an X.509 Name (RFC 5280 §4.1.2.4, DER per X.690) as RFC 2253
 * text, exactly as OpenSSL's X509_NAME_print_ex(XN_FLAG_RFC2253 &
 * ~ASN1_STRFLGS_ESC_MSB) writes it, for the names real certificates use:
 * attribute types of a fixed table (CN, O, OU, C, ST, L, emailAddress, DC...)
 * with string values (UTF8, Printable, IA5, Visible, Numeric, BMP).  Anything
 * else returns 0 and the caller asks OpenSSL, so the text never differs;
 * this path only spares OpenSSL's per-name allocations and BIO on the hot
 * path (tests/unit/test_x509.c compares both on every corpus certificate). */
#ifndef NI_X509_H
#define NI_X509_H

#include <stddef.h>
#include <stdint.h>

/* Formats the DER Name der[0..n) into out (NUL-terminated); returns its
 * length, or 0 when the name is malformed, too long for cap, or outside
 * the supported subset. */
size_t ni_x509_name(const uint8_t *der, size_t n, char *out, size_t cap);

#endif
