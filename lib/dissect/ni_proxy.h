/* ni_proxy.h — proxy preambles at the start of a TCP stream: SOCKS 4 (the
 * SOCKS 4 protocol document, NEC) and its 4A extension (a host name after a
 * 0.0.0.x address), SOCKS 5 (RFC 1928) with username/password
 * sub-negotiation (RFC 1929), and the server's side of an HTTP CONNECT
 * tunnel (RFC 9110 §9.3.6: a 2xx response, then the tunnelled bytes).  The
 * CONNECT request itself is an HTTP request, read by ni_http.
 *
 * The parsers are stateless, like ni_tls: each call starts at the first byte
 * of the direction's unconsumed bytes and says how many bytes the preamble
 * takes, so the content dissectors can consume it and read what follows (a
 * TLS ClientHello, an HTTP request) as if the stream began there. */
#ifndef NI_PROXY_H
#define NI_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

typedef enum ni_proxy_result {
    NI_PROXY_NOT = 0,     /* these bytes are not (or no longer) a proxy preamble */
    NI_PROXY_NEED_MORE,   /* so far consistent; the preamble is not complete */
    NI_PROXY_DONE,        /* complete: *used bytes belong to it */
    NI_PROXY_REFUSED      /* server side: the proxy refused; no tunnel follows */
} ni_proxy_result;

/* Longest destination text written (a SOCKS 5 name is at most 255 bytes). */
#define NI_PROXY_DEST_MAX 300u

/* Does p start like a SOCKS 4/4A or SOCKS 5 client request?  1 = yes,
 * 0 = no, -1 = too few bytes to tell. */
int ni_proxy_probe(const uint8_t *p, size_t n);

/* The client's preamble from its first byte.  SOCKS 5: the greeting (method
 * offer), the RFC 1929 username/password sub-negotiation when present (told
 * from the bytes: version 1), and the request.  On NI_PROXY_DONE: *kind,
 * *used (the preamble's length) and dest, the destination asked for as
 * "host:port", "a.b.c.d:port" or "[v6]:port" (NUL-terminated, at most
 * cap - 1 bytes, cap > 0).  A name with bytes outside printable ASCII is
 * NI_PROXY_NOT. */
ni_proxy_result ni_proxy_client(const uint8_t *p, size_t n, ni_proxy_kind *kind, char *dest, size_t cap,
                                size_t *used);

/* The proxy's reply from the first byte of the server's stream, for a
 * preamble of this kind.  SOCKS 4: the 8-byte reply, granted when its code
 * is 90.  SOCKS 5: the method selection, the RFC 1929 status when method 2
 * was chosen, then the reply (REP 0 = succeeded).  HTTP CONNECT: response
 * heads, skipping non-2xx ones whose body length is known (a 407 before the
 * authenticated CONNECT), until a 2xx.  On NI_PROXY_DONE *used is the
 * length of the reply; NI_PROXY_REFUSED when the proxy said no.
 * NI_PROXY_NEED_MORE may still set *used: whole refused responses that can
 * be consumed already. */
ni_proxy_result ni_proxy_server(ni_proxy_kind kind, const uint8_t *p, size_t n, size_t *used);

#endif
