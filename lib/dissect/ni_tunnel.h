/* ni_tunnel.h — VPN and tunnel protocols recognised from packet payloads:
 * OpenVPN over UDP and TCP (hard-reset handshake, including tls-auth and
 * tls-crypt resets; OpenVPN protocol as in openvpn's ssl_pkt.h opcodes),
 * WireGuard (the WireGuard paper §5.4 message formats), IPsec (RFC 7296
 * IKEv2 / RFC 2408 ISAKMP header on UDP 500/4500, RFC 3948 NAT-T, ESP and AH
 * by IP protocol), L2TP (RFC 2661 / 3931), PPTP (RFC 2637 magic cookie) and
 * GRE, SSTP and Cisco AnyConnect (HTTP methods, session level), tinc (meta
 * protocol ID line).  Each flow carries a small ni_tunnel_state; the first
 * packets of each direction are shown to ni_tunnel_packet until it decides. */
#ifndef NI_TUNNEL_H
#define NI_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "dissect/ni_producer.h"

typedef struct ni_tunnel_state {
    uint8_t verdict;        /* ni_tunnel_proto once decided */
    uint8_t candidate;      /* protocol seen in one direction, awaiting the reply */
    uint8_t packets;        /* packets inspected */
    uint8_t done;
    uint8_t same_sid;       /* OpenVPN: later control packets with the reset's session id */
    int8_t sid_dir;         /* direction of that reset */
    uint8_t client_reset;   /* the candidate came from a client hard reset */
    uint64_t id;            /* session id / sender index the reply must echo */
} ni_tunnel_state;

/* Shows one packet (dir 0 = client→server) to the detector.  proto is the IP
 * protocol, ports are the session's client and server ports, p/n the L4
 * payload.  Returns true once no more packets are needed. */
bool ni_tunnel_packet(ni_tunnel_state *st, uint8_t proto, uint16_t client_port,
                      uint16_t server_port, int dir, const uint8_t *p, size_t n);

/* Session-level evidence (HTTP methods of SSTP and AnyConnect) combined with
 * the packet verdict: OpenVPN, WireGuard, IPsec, L2TP, PPTP, GRE, SSTP,
 * AnyConnect, tinc, or NI_TUN_NONE.  st or s may be NULL. */
ni_tunnel_proto ni_tunnel_protocol(const ni_tunnel_state *st, const ni_session *s);

/* The detector as an evidence producer (ni_producer.c): per-flow state
 * ni_tunnel_state, packets until it decides, s->tunnel at the end. */
extern const ni_producer ni_tunnel_producer;

#endif
