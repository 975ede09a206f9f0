/* ni_tunnel.c — payload-based recognition of VPN tunnel protocols (see
 * ni_tunnel.h for the specifications followed).  A verdict needs a
 * handshake-shaped first packet and, where the protocol has one, the peer's
 * reply echoing its identifier (OpenVPN session id, WireGuard sender index),
 * so random UDP payloads are not mistaken for tunnels. */
#include "dissect/ni_tunnel.h"
#include "core/ni_cursor.h"

#include <string.h>

#define NI_TUNNEL_PACKETS_MAX 12

/* Fixed-place fields, read through the cursor (0 past the end). */
static uint64_t be64(const ni_cursor *c, size_t at)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) v = v << 8 | ni_cur_at(c, at + i);
    return v;
}

static uint32_t le32(const ni_cursor *c, size_t at)
{
    return (uint32_t)ni_cur_at(c, at) | (uint32_t)ni_cur_at(c, at + 1) << 8 | (uint32_t)ni_cur_at(c, at + 2) << 16 |
           (uint32_t)ni_cur_at(c, at + 3) << 24;
}

/* OpenVPN opcodes (high 5 bits of the first byte). */
enum { OVPN_HARD_RESET_CLIENT_V1 = 1, OVPN_HARD_RESET_SERVER_V1 = 2, OVPN_HARD_RESET_CLIENT_V2 = 7,
       OVPN_HARD_RESET_SERVER_V2 = 8, OVPN_HARD_RESET_CLIENT_V3 = 10 };

/* Client reset: opcode, 8-byte session id.  With tls-auth an HMAC and packet
 * id follow, with tls-crypt the rest is encrypted, so only the opcode, key id
 * (0) and a plausible size are checked here; the server's reply confirms. */
static bool ovpn_client_reset(const uint8_t *p, size_t n, uint64_t *sid)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (n < 14 || n > 1500) return false;
    unsigned op = ni_cur_at(&c, 0) >> 3, key = ni_cur_at(&c, 0) & 7;
    if (key != 0) return false;
    if (op != OVPN_HARD_RESET_CLIENT_V1 && op != OVPN_HARD_RESET_CLIENT_V2 && op != OVPN_HARD_RESET_CLIENT_V3)
        return false;
    *sid = be64(&c, 1);
    return *sid != 0;
}

/* Server reset: opcode 2/8, own session id, then (after an optional HMAC
 * block) an ack array whose "remote session id" is the client's.  We search
 * for the client's id in the first bytes, which covers plain, tls-auth
 * (HMAC-SHA1/256/512) layouts; tls-crypt encrypts it, so there the opcode
 * pair alone decides. */
static bool ovpn_server_reset(const uint8_t *p, size_t n, uint64_t client_sid)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (n < 14) return false;
    unsigned op = ni_cur_at(&c, 0) >> 3;
    if ((op != OVPN_HARD_RESET_SERVER_V1 && op != OVPN_HARD_RESET_SERVER_V2) || (ni_cur_at(&c, 0) & 7) != 0) return false;
    uint8_t want[8];
    for (int i = 0; i < 8; i++) want[i] = (uint8_t)(client_sid >> (56 - 8 * i));
    size_t lim = n < 120 ? n : 120;
    if (lim >= 8 && memmem(ni_cur_ptr(&c) + 9, lim - 9, want, 8)) return true;
    return n >= 40; /* tls-crypt: opcode pair of client and server resets */
}

static bool wg_msg(const uint8_t *p, size_t n, unsigned *type)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (n < 4) return false;
    if (ni_cur_at(&c, 1) || ni_cur_at(&c, 2) || ni_cur_at(&c, 3)) return false;
    *type = ni_cur_at(&c, 0);
    switch (ni_cur_at(&c, 0)) {
    case 1: return n == 148;
    case 2: return n == 92;
    case 3: return n == 64;
    case 4: return n >= 32 && (n - 16) % 16 == 0;
    default: return false;
    }
}

/* ISAKMP/IKE header (RFC 2408 §3.1, RFC 7296 §3.1): 28 bytes, version 1.0
 * or 2.0, known exchange type, length equal to the payload. */
static bool ike_header(const uint8_t *p, size_t n)
{
    if (n < 28) return false;
    ni_cursor c; ni_cur_init(&c, p, n);
    const uint8_t *ispi = ni_cur_bytes(&c, 8);
    ni_cur_skip(&c, 8);
    ni_cur_u8(&c); /* next payload */
    uint8_t ver = ni_cur_u8(&c), xch = ni_cur_u8(&c);
    ni_cur_u8(&c);
    ni_cur_u32(&c);
    uint32_t len = ni_cur_u32(&c);
    if (c.bad || !ispi) return false;
    static const uint8_t zero[8];
    if (!memcmp(ispi, zero, 8)) return false;
    bool v2 = ver == 0x20 && xch >= 34 && xch <= 43;
    bool v1 = ver == 0x10 && ((xch >= 1 && xch <= 6) || (xch >= 32 && xch <= 34));
    return (v1 || v2) && len == n;
}

static bool is_port(uint16_t a, uint16_t b, uint16_t port) { return a == port || b == port; }

bool ni_tunnel_packet(ni_tunnel_state *st, uint8_t proto, uint16_t cport, uint16_t sport,
                      int dir, const uint8_t *p, size_t n)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (st->done) return true;
    if (++st->packets > NI_TUNNEL_PACKETS_MAX) { st->done = 1; return true; }

    if (proto == 50 || proto == 51) { st->verdict = NI_TUN_IPSEC; st->done = 1; return true; }
    if (proto == 47) {
        /* GRE (RFC 2784); enhanced GRE version 1 with protocol 0x880B is PPTP's. */
        if (n >= 4 && (ni_cur_at(&c, 1) & 7) == 1 && ni_cur_at(&c, 2) == 0x88 && ni_cur_at(&c, 3) == 0x0b) st->verdict = NI_TUN_PPTP;
        else st->verdict = NI_TUN_GRE;
        st->done = 1; return true;
    }
    if (n == 0) return false;

    if (proto == 17) {
        unsigned t;
        /* IPsec: IKE on 500, NAT-T on 4500 (non-ESP marker then IKE, or ESP). */
        if (is_port(cport, sport, 500) && ike_header(p, n)) { st->verdict = NI_TUN_IPSEC; st->done = 1; return true; }
        if (is_port(cport, sport, 4500)) {
            if (n >= 4 && !ni_cur_at(&c, 0) && !ni_cur_at(&c, 1) && !ni_cur_at(&c, 2) && !ni_cur_at(&c, 3) && ike_header(p + 4, n - 4)) {
                st->verdict = NI_TUN_IPSEC; st->done = 1; return true;
            }
            if (n >= 16 && le32(&c, 0) != 0 && st->candidate == NI_TUN_IPSEC) {
                st->verdict = NI_TUN_IPSEC; st->done = 1; return true;
            }
            if (n == 1 && ni_cur_at(&c, 0) == 0xff) { st->candidate = NI_TUN_IPSEC; return false; } /* keepalive */
            if (n >= 16 && le32(&c, 0) != 0) st->candidate = NI_TUN_IPSEC;
        }
        /* L2TP (RFC 2661 §3.1): version 2 or 3 in the low nibble of byte 1. */
        if (is_port(cport, sport, 1701) && n >= 8 && ((ni_cur_at(&c, 1) & 0x0f) == 2 || (ni_cur_at(&c, 1) & 0x0f) == 3) &&
            (ni_cur_at(&c, 0) & 0x80)) {
            st->verdict = NI_TUN_L2TP; st->done = 1; return true;
        }
        /* WireGuard: initiation from the client, response echoing its index. */
        if (wg_msg(p, n, &t)) {
            if (dir == 0 && t == 1) { st->candidate = NI_TUN_WIREGUARD; st->id = le32(&c, 4); return false; }
            if (dir == 1 && t == 2 && st->candidate == NI_TUN_WIREGUARD && le32(&c, 8) == (uint32_t)st->id) {
                st->verdict = NI_TUN_WIREGUARD; st->done = 1; return true;
            }
            if (t == 4 && st->candidate == NI_TUN_WIREGUARD) {
                st->verdict = NI_TUN_WIREGUARD; st->done = 1; return true;
            }
            if (t == 4 && st->packets >= 4) { /* mid-stream: a run of data messages */
                st->candidate = NI_TUN_WIREGUARD;
            }
            return false;
        }
        /* OpenVPN over UDP. */
        uint64_t sid;
        if (dir == 0 && st->candidate != NI_TUN_OPENVPN && ovpn_client_reset(p, n, &sid)) {
            st->candidate = NI_TUN_OPENVPN; st->id = sid; st->sid_dir = 0; st->client_reset = 1; return false;
        }
        if (dir == 1 && st->candidate == NI_TUN_OPENVPN && st->client_reset && ovpn_server_reset(p, n, st->id)) {
            st->verdict = NI_TUN_OPENVPN; st->done = 1; return true;
        }
        if (st->candidate != NI_TUN_OPENVPN && n >= 14 && (ni_cur_at(&c, 0) & 7) == 0 &&
            ((ni_cur_at(&c, 0) >> 3) == OVPN_HARD_RESET_SERVER_V1 || (ni_cur_at(&c, 0) >> 3) == OVPN_HARD_RESET_SERVER_V2)) {
            st->candidate = NI_TUN_OPENVPN; st->id = be64(&c, 1); st->sid_dir = (int8_t)dir; return false;
        }
        /* Only one direction captured: the reset's sender goes on with
         * control/ack packets (opcodes 3-5) carrying the same 8-byte session
         * id; two of them make the session OpenVPN. */
        if (st->candidate == NI_TUN_OPENVPN && st->sid_dir == dir && n >= 9 && (ni_cur_at(&c, 0) & 7) == 0) {
            unsigned op = ni_cur_at(&c, 0) >> 3;
            if (op >= 3 && op <= 5 && be64(&c, 1) == st->id && ++st->same_sid >= 2) {
                st->verdict = NI_TUN_OPENVPN; st->done = 1; return true;
            }
        }
        return false;
    }

    if (proto == 6) {
        /* OpenVPN over TCP: 2-byte length then the UDP packet format. */
        uint64_t sid;
        if (n >= 16 && (size_t)(ni_cur_at(&c, 0) << 8 | ni_cur_at(&c, 1)) == n - 2) {
            if (dir == 0 && st->candidate != NI_TUN_OPENVPN && ovpn_client_reset(p + 2, n - 2, &sid)) {
                st->candidate = NI_TUN_OPENVPN; st->id = sid; return false;
            }
            if (dir == 1 && st->candidate == NI_TUN_OPENVPN && ovpn_server_reset(p + 2, n - 2, st->id)) {
                st->verdict = NI_TUN_OPENVPN; st->done = 1; return true;
            }
        }
        /* PPTP control (RFC 2637 §2): length, message type 1, magic 0x1A2B3C4D. */
        if (n >= 12 && ni_cur_at(&c, 2) == 0 && ni_cur_at(&c, 3) == 1 && ni_cur_at(&c, 4) == 0x1a && ni_cur_at(&c, 5) == 0x2b && ni_cur_at(&c, 6) == 0x3c && ni_cur_at(&c, 7) == 0x4d) {
            st->verdict = NI_TUN_PPTP; st->done = 1; return true;
        }
        /* tinc meta protocol: "0 <name> 17.<minor>\n" ID request. */
        if (dir == 0 && n >= 6 && ni_cur_at(&c, 0) == '0' && ni_cur_at(&c, 1) == ' ' && memchr(ni_cur_ptr(&c), '\n', n)) {
            const uint8_t *sp = memchr(ni_cur_ptr(&c) + 2, ' ', n - 2);
            size_t k = sp ? (size_t)(sp - ni_cur_ptr(&c)) : 0;
            if (sp && n - k >= 4 && ni_cur_at(&c, k + 1) == '1' && ni_cur_at(&c, k + 2) == '7' &&
                ni_cur_at(&c, k + 3) == '.') {
                st->verdict = NI_TUN_TINC; st->done = 1; return true;
            }
        }
        if (st->packets >= 4) { st->done = 1; return true; }
    }
    return false;
}

ni_tunnel_proto ni_tunnel_protocol(const ni_tunnel_state *st, const ni_session *s)
{
    if (st && st->verdict) return (ni_tunnel_proto)st->verdict;
    if (s) {
        for (const ni_http_req *r = s->http; r; r = r->next) {
            if (r->method && !strcmp(r->method, "SSTP_DUPLEX_POST")) return NI_TUN_SSTP;
            if (r->method && !strcmp(r->method, "CONNECT") && r->path &&
                !strncmp(r->path, "/CSCOSSLC/", 10))
                return NI_TUN_ANYCONNECT;
        }
    }
    return NI_TUN_NONE;
}

/* ---- the producer (ni_producer.h) ------------------------------------------ */

static bool prod_packet(void *ctx, void *state, ni_pflow *f, int dir, const ni_packet *p)
{
    (void)ctx;
    const ni_session *s = f->s;
    return ni_tunnel_packet(state, s->proto, s->client_port, s->server_port, dir, p->payload, p->payload_len);
}

static void prod_finish(void *ctx, void *state, ni_pflow *f)
{
    (void)ctx;
    f->s->tunnel = ni_tunnel_protocol(state, f->s);
}

const ni_producer ni_tunnel_producer = {
    .name = "tunnel", .state_size = sizeof(ni_tunnel_state),
    .on_packet = prod_packet, .on_finish = prod_finish,
};
