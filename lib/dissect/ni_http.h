/* ni_http.h — HTTP/1.x request dissection (RFC 9112 message syntax, RFC 9110
 * semantics; Sec-CH-UA* client hints from RFC 8942 / WICG UA-CH).
 *
 * Two layers:
 *   ni_http_parse_request  one complete request head (request line + header
 *                          fields + empty line) → one ni_http_req appended to
 *                          the session, plus how the body is framed.  Used
 *                          for HTTP over UDP (SSDP) and by the stream layer.
 *   ni_http_stream         the client→server bytes of a TCP connection: every
 *                          request in order (keep-alive, pipelining), bodies
 *                          skipped (Content-Length through st->skip[0],
 *                          chunked through a small state machine kept in
 *                          st->flags), no heap state.
 *
 * What is recorded per request: method (a static string), request-target,
 * Host (lower-cased, a trailing ":port" removed, IPv6 literals "[...]" kept
 * whole; taken from an absolute-form or authority-form target when the
 * request has no Host field), User-Agent and the Sec-CH-UA, -Platform,
 * -Platform-Version and -Model hints.  Field names are matched without
 * regard to case; values are trimmed of optional whitespace, otherwise kept
 * as sent, cut at NI_HTTP_FIELD_MAX bytes; obsolete line folding (RFC 9112
 * §5.2) is joined with one space.  Empty values are recorded as NULL.  The
 * first occurrence of a repeated field wins.  A value equal to the same field
 * of the session's previous request shares its string (keep-alive requests
 * repeat Host and User-Agent), so strings are not unique per request. */
#ifndef NI_HTTP_H
#define NI_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "dissect/ni_dissect.h"

/* Does p start with a request method we know followed by a space?
 * 1 = yes, 0 = no, -1 = too few bytes to tell (p is a prefix of one). */
int ni_http_probe(const uint8_t *p, size_t n);

/* Length of the request head at p (through the empty line ending the header
 * block; bare LF line ends tolerated), or 0 when the head is not complete
 * within n bytes. */
size_t ni_http_head_len(const uint8_t *p, size_t n);

typedef enum ni_http_body {
    NI_HTTP_BODY_NONE = 0,   /* no body */
    NI_HTTP_BODY_LENGTH,     /* *body_len bytes follow */
    NI_HTTP_BODY_CHUNKED     /* chunked transfer coding (RFC 9112 §7.1) */
} ni_http_body;

/* Parses one complete request head p[0..n) (as sized by ni_http_head_len).
 * On NI_OK the request is appended to s->http (when s->http_count <
 * NI_HTTP_REQUESTS_MAX) with its strings in s->arena, and *body / *body_len
 * say what follows.  The request line is read as servers do, leniently:
 * spaces around the request-target are skipped and the version is the last
 * space-separated word, so a target with spaces (attack traffic) is kept
 * whole.  NI_ERR_FORMAT: not a well-formed request (unknown method, empty
 * target, control bytes, a version other than HTTP/1.x — or none, with a
 * target of more than one word — conflicting Content-Length,
 * Transfer-Encoding not ending in chunked).  NI_ERR_LIMIT:
 * the head parsed (body valid) but the request could not be recorded
 * (arena full or NI_HTTP_REQUESTS_MAX reached).  require_version makes the
 * "HTTP/1.x" version mandatory (datagrams). */
ni_err ni_http_parse_request(ni_session *s, const uint8_t *p, size_t n, bool require_version,
                             ni_http_body *body, uint64_t *body_len);

/* Outcome of one ni_http_stream call, for the caller's counters. */
typedef struct ni_http_counts {
    unsigned requests;       /* request heads parsed and recorded */
    unsigned errors;         /* unparsable bytes, oversized head, arena full */
} ni_http_counts;

/* Client→server stream bytes (dir 0 of an HTTP session) from the first
 * unconsumed byte; returns bytes consumed.  Sets st->done[0] when no more
 * bytes are wanted (non-HTTP bytes after a request, e.g. an upgraded
 * connection; an unparsable head; NI_HTTP_REQUESTS_MAX reached; a CONNECT
 * whose target is a path, as VPN clients send).  After a proxy's CONNECT
 * (authority-form target, "host:port") it stops with the bytes consumed through its head and
 * st->proxy = NI_PROXY_HTTP_CONNECT, st->proxy_srv = 0: the tunnelled bytes
 * (TLS, HTTP) are the caller's to read afresh; the session's first CONNECT
 * sets s->proxy and s->proxy_dest (its request-target, "host:port").
 * A head larger than NI_HTTP_HEADER_MAX ends the direction (counted). */
size_t ni_http_stream(ni_app_state *st, ni_session *s, const uint8_t *p, size_t n,
                      ni_http_counts *cnt);

#endif
