/* ni_quic.h — QUIC Initial packets (RFC 9000 §17.2.2, RFC 9001 §5: Initial
 * keys from the client's Destination Connection ID, header protection, AEAD
 * AES-128-GCM through OpenSSL's libcrypto), for QUIC v1, v2 (RFC 9369) and
 * drafts 27-34.  CRYPTO frames are reassembled across several Initial packets
 * (bounded) and the ClientHello handed to ni_tls_parse_handshake(quic=true). */
#ifndef NI_QUIC_H
#define NI_QUIC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"

typedef struct ni_quic_state ni_quic_state;

/* Does this UDP payload look like a QUIC long-header Initial packet of a
 * version we know? */
bool ni_quic_probe(const uint8_t *p, size_t n);

/* Feeds one client→server UDP datagram (may hold coalesced packets).
 * *st is created on first use (owned by the caller's flow; free with
 * ni_quic_state_free).  Returns true once the ClientHello has been parsed
 * or given up on (no more datagrams needed). */
bool ni_quic_datagram(ni_quic_state **st, ni_session *s, const uint8_t *p, size_t n);

void ni_quic_state_free(ni_quic_state *st);

/* The client's Initial packet protection keys (RFC 9001 §5.2, RFC 9369
 * §3.3.1) derived from the client's first Destination Connection ID; false
 * for a version whose Initial salt is unknown.  Exposed for tests. */
typedef struct ni_quic_keys { uint8_t key[16], iv[12], hp[16]; } ni_quic_keys;
bool ni_quic_client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, ni_quic_keys *k);

#endif
