/* ni_tls.h — TLS handshake dissection (RFC 8446 §4.1.2-4.1.3, RFC 5246
 * §7.4.1, RFC 6066 §3 SNI, RFC 7301 ALPN) and the JA4 client fingerprint
 * (FoxIO's published JA4 definition, BSD-3-Clause).  The ClientHello may span
 * several records and TCP segments: the parser works on the contiguous
 * stream bytes the flow table has reassembled and asks for more when the
 * handshake message is incomplete. */
#ifndef NI_TLS_H
#define NI_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "dissect/ni_ja4.h"

typedef enum ni_tls_result {
    NI_TLS_NOT_TLS = 0,  /* these bytes are not a TLS handshake */
    NI_TLS_NEED_MORE,    /* looks like TLS, the hello is not complete yet */
    NI_TLS_DONE,         /* hello parsed (or given up): no more bytes needed */
    NI_TLS_MALFORMED     /* a TLS record that contradicts itself */
} ni_tls_result;

/* Does p (start of a stream direction) begin like a TLS handshake record?
 * (content type 22, version 3.x, plausible length; 0 bytes → false) */
bool ni_tls_probe(const uint8_t *p, size_t n);

/* Parses the stream bytes of a TLS direction from its first byte:
 * dir 0 = ClientHello (fills sni, alpn, tls_client_version, ja4),
 * dir 1 = ServerHello (fills tls_version, tls_cipher).  Strings go to s->arena. */
ni_tls_result ni_tls_parse_stream(ni_session *s, int dir, const uint8_t *p, size_t n);

/* Parses one complete handshake message body (type byte first: 1 =
 * ClientHello, 2 = ServerHello), as carried in TLS records or QUIC CRYPTO
 * frames.  quic selects the JA4 'q' prefix.  Returns NI_TLS_DONE or
 * NI_TLS_MALFORMED. */
ni_tls_result ni_tls_parse_handshake(ni_session *s, const uint8_t *msg, size_t n, bool quic);

/* The same two with a JA4 cache (ni_ja4.h; NULL: none), which a caller that
 * parses many handshakes keeps: each distinct list is then hashed once. */
ni_tls_result ni_tls_parse_stream_ex(ni_session *s, int dir, const uint8_t *p, size_t n, ni_ja4_cache *cache);
ni_tls_result ni_tls_parse_handshake_ex(ni_session *s, const uint8_t *msg, size_t n, bool quic, ni_ja4_cache *cache);

/* Text of a TLS version code: 0x0304 → "TLSv1.3", 0x0300 → "SSLv3"; NULL if unknown. */
const char *ni_tls_version_name(uint16_t v);

#endif
