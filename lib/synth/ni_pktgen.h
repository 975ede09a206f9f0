/* ni_pktgen.h — builds well-formed packets for the synthetic world and for
 * tests: Ethernet II + IPv4 (RFC 791) or IPv6 (RFC 8200) + TCP (RFC 9293,
 * with a real three-way handshake, sequence numbers and FIN close) or UDP
 * (RFC 768), with correct checksums, written to a pcap file through libpcap
 * (pcap_open_dead + pcap_dump).  Payload builders: a TLS 1.3-style
 * ClientHello (RFC 8446 §4.1.2) with SNI and ALPN, an HTTP/1.1 request, DNS
 * query and response (RFC 1035), OpenVPN hard-reset pair and WireGuard
 * handshake messages. */
#ifndef NI_PKTGEN_H
#define NI_PKTGEN_H

#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"

typedef struct ni_pktgen ni_pktgen;

/* Opens path for writing (Ethernet link type, µs timestamps). */
ni_pktgen *ni_pktgen_open(const char *path, ni_error *err);
/* Closes; returns NI_OK or NI_ERR_IO if anything failed to write. */
ni_err ni_pktgen_close(ni_pktgen *g, ni_error *err);
/* Bytes written so far. */
uint64_t ni_pktgen_bytes(const ni_pktgen *g);

/* One bidirectional conversation: endpoints and TCP state. */
typedef struct ni_conv {
    ni_addr c, s;
    uint16_t cport, sport;
    uint8_t proto;          /* 6 or 17 */
    uint32_t cseq, sseq;    /* next sequence numbers */
    int64_t t;              /* clock of the conversation, µs */
    int64_t last;           /* time of the last packet written */
    uint64_t c2s_packets, c2s_bytes, s2c_packets, s2c_bytes; /* IP bytes, as netintel counts */
} ni_conv;

void ni_conv_init(ni_conv *cv, const ni_addr *c, uint16_t cport, const ni_addr *s, uint16_t sport,
                  uint8_t proto, int64_t t, uint32_t seed);
/* TCP three-way handshake; data in one direction (split into MSS-sized
 * segments, each acknowledged); FIN/ACK close. dt_us: gap between packets. */
void ni_conv_tcp_open(ni_pktgen *g, ni_conv *cv);
void ni_conv_tcp_data(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *p, size_t n);
/* Like ni_conv_tcp_data with delayed ACKs: the peer acknowledges every
 * second segment and the last one (RFC 9293 §3.8.6.3). */
void ni_conv_tcp_send(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *p, size_t n);
void ni_conv_tcp_close(ni_pktgen *g, ni_conv *cv);
/* One UDP datagram in direction dir (0 = client→server). */
void ni_conv_udp(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *p, size_t n);

/* Payload builders (append to b). */
void ni_gen_client_hello(ni_buf *b, const char *sni, const char *alpn, uint32_t seed);
/* ServerHello, change_cipher_spec and `encrypted` bytes (0 = 1024) of
 * opaque application_data records standing for TLS 1.3's encrypted flight. */
void ni_gen_server_hello(ni_buf *b, uint32_t seed, size_t encrypted);
/* n bytes of application_data records (≤ 16 KiB each) of random content. */
void ni_gen_tls_appdata(ni_buf *b, size_t n, uint32_t seed);
void ni_gen_http_request(ni_buf *b, const char *method, const char *host, const char *path, const char *ua,
                         const char *platform_version);
void ni_gen_dns_query(ni_buf *b, uint16_t id, const char *name);
void ni_gen_dns_response(ni_buf *b, uint16_t id, const char *name, const ni_addr *answer);
void ni_gen_openvpn_reset(ni_buf *b, int server, uint64_t own_sid, uint64_t peer_sid, uint32_t seed);
void ni_gen_wireguard(ni_buf *b, int type, uint32_t sender, uint32_t receiver, uint32_t seed);
void ni_gen_random(ni_buf *b, size_t n, uint32_t seed);

#endif
