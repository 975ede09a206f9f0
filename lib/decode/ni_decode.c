/* ni_decode.c — link, network and transport decoding of one captured frame
 * into a ni_packet (see ni_decode.h).
 *
 * Follows: IEEE 802.3 / 802.1Q / 802.1ad (Ethernet, VLAN, QinQ), RFC 2516
 * (PPPoE session stage), RFC 3032 (MPLS label stack), the tcpdump.org
 * LINKTYPE_* registry (NULL/LOOP, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2),
 * RFC 791 (IPv4), RFC 8200 (IPv6 and its extension headers), RFC 2675
 * (jumbograms), RFC 9293 (TCP), RFC 768 (UDP), RFC 792 (ICMP), RFC 4443
 * (ICMPv6).
 *
 * Every byte is read through ni_cursor.  The decoder takes a verdict at the
 * first layer that fails and turns it into exactly one ni_stats counter:
 *   malformed   fields contradict each other (bad IP version, IHL < 5, total
 *               length shorter than the header, TCP data offset < 5, ...)
 *   truncated   the captured bytes end inside a header we need
 *   unsupported a link type we do not decode, or an encapsulation that should
 *               carry IP but that we do not open (MPLS pseudowire, PBB, NSH,
 *               MACsec, too deep a VLAN or MPLS stack)
 *   fragments   non-first IPv4/IPv6 fragments (first fragments are decoded)
 *   non_ip      ARP, LLDP, STP/LLC, PPP control, other address families
 * and ip_packets for every frame returned as NI_DECODE_OK.
 * Ethernet/IPv4/TCP-UDP frames first try a fast path that takes whole
 * headers from the cursor (see "the common case"); it decides only clean
 * frames and gives the general path everything else.
 * No allocation, no state: one call decodes one frame. */
#include "decode/ni_decode.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"

#include <string.h>

/* pcap LINKTYPE_* values (ni_decode.h) */
enum {
    LT_NULL = NI_LINKTYPE_NULL, LT_ETHERNET = NI_LINKTYPE_ETHERNET, LT_DLT_RAW12 = NI_LINKTYPE_DLT_RAW12,
    LT_DLT_RAW14 = NI_LINKTYPE_DLT_RAW14, LT_RAW = NI_LINKTYPE_RAW, LT_LOOP = NI_LINKTYPE_LOOP,
    LT_LINUX_SLL = NI_LINKTYPE_LINUX_SLL, LT_IPV4 = NI_LINKTYPE_IPV4, LT_IPV6 = NI_LINKTYPE_IPV6,
    LT_LINUX_SLL2 = NI_LINKTYPE_LINUX_SLL2
};

/* EtherType values (IEEE registry) */
enum {
    ET_IPV4 = 0x0800, ET_ARP = 0x0806, ET_VLAN = 0x8100, ET_IPV6 = 0x86DD,
    ET_PPPOE_DISC = 0x8863, ET_PPPOE_SESS = 0x8864, ET_MPLS = 0x8847,
    ET_MPLS_MC = 0x8848, ET_QINQ = 0x88A8, ET_QINQ_OLD1 = 0x9100,
    ET_QINQ_OLD2 = 0x9200, ET_QINQ_OLD3 = 0x9300, ET_MACSEC = 0x88E5,
    ET_PBB = 0x88E7, ET_NSH = 0x894F
};

#define ARPHRD_NETLINK 824  /* Linux cooked capture of netlink sockets */

typedef enum verdict {
    V_OK = 0, V_MALFORMED, V_TRUNCATED, V_UNSUPPORTED, V_FRAGMENT, V_NON_IP
} verdict;

/* ---- link layer --------------------------------------------------------- */

/* Follows an EtherType through VLAN tags, PPPoE sessions and MPLS labels.
 * On V_OK, c is at the IP header and *ipver is 4, 6 or 0 (look at the
 * version nibble). */
static verdict ethertype(ni_cursor *c, uint16_t type, ni_packet *out, int *ipver)
{
    unsigned vlans = 0;
    for (;;) {
        switch (type) {
        case ET_IPV4: *ipver = 4; return V_OK;
        case ET_IPV6: *ipver = 6; return V_OK;
        case ET_VLAN: case ET_QINQ: case ET_QINQ_OLD1: case ET_QINQ_OLD2:
        case ET_QINQ_OLD3: {
            if (++vlans > NI_DECODE_VLAN_MAX) return V_UNSUPPORTED;
            uint16_t tci = ni_cur_u16(c);
            type = ni_cur_u16(c);
            if (c->bad) return V_TRUNCATED;
            if (vlans == 1) out->vlan = tci & 0x0fff;
            continue;
        }
        case ET_PPPOE_SESS: { /* RFC 2516 section 4 + PPP protocol field */
            uint8_t vertype = ni_cur_u8(c);
            uint8_t code = ni_cur_u8(c);
            ni_cur_skip(c, 4);                  /* session id, length */
            uint16_t ppp = ni_cur_u16(c);
            if (c->bad) return V_TRUNCATED;
            if (vertype != 0x11 || code != 0) return V_MALFORMED;
            if (ppp == 0x0021) { *ipver = 4; return V_OK; }
            if (ppp == 0x0057) { *ipver = 6; return V_OK; }
            return V_NON_IP;                    /* LCP, IPCP, CHAP, ... */
        }
        case ET_MPLS: case ET_MPLS_MC: {        /* RFC 3032 section 2.1 */
            for (unsigned i = 0;; i++) {
                if (i >= NI_DECODE_MPLS_MAX) return V_UNSUPPORTED;
                uint32_t lse = ni_cur_u32(c);
                if (c->bad) return V_TRUNCATED;
                if (lse & 0x100) break;         /* bottom of stack */
            }
            ni_cursor peek = *c;
            uint8_t first = ni_cur_u8(&peek);
            if (peek.bad) return V_TRUNCATED;
            if ((first >> 4) == 4) { *ipver = 4; return V_OK; }
            if ((first >> 4) == 6) { *ipver = 6; return V_OK; }
            return V_UNSUPPORTED;               /* pseudowire, control word */
        }
        case ET_MACSEC: case ET_PBB: case ET_NSH:
            return V_UNSUPPORTED;
        default:
            return V_NON_IP;                    /* ARP, LLDP, EAPOL, PPPoE discovery... */
        }
    }
}

/* BSD loopback: a 4-byte address family in the byte order of the capturing
 * host (NULL) or big-endian (LOOP); accept either order. */
static verdict loopback(ni_cursor *c, int *ipver)
{
    const uint8_t *b = ni_cur_bytes(c, 4);
    if (!b) return V_TRUNCATED;
    uint32_t be = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    uint32_t le = ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | b[0];
    uint32_t af;
    if (be <= 0xff) af = be;
    else if (le <= 0xff) af = le;
    else return V_MALFORMED;
    switch (af) {
    case 2: *ipver = 4; return V_OK;                        /* AF_INET */
    case 24: case 28: case 30: *ipver = 6; return V_OK;     /* AF_INET6: BSDs, FreeBSD, Darwin */
    default: return V_NON_IP;
    }
}

/* Linux cooked captures: protocol values below 0x0600 are not EtherTypes
 * but Linux ETH_P_* pseudo types (802.3, 802.2 LLC, CAN...). */
static verdict cooked(ni_cursor *c, uint16_t hatype, uint16_t proto, ni_packet *out, int *ipver)
{
    if (hatype == ARPHRD_NETLINK || proto < 0x0600) return V_NON_IP;
    return ethertype(c, proto, out, ipver);
}

static verdict link_layer(int linktype, ni_cursor *c, ni_packet *out, int *ipver)
{
    switch (linktype) {
    case LT_ETHERNET: {
        ni_cur_skip(c, 12);                     /* destination, source MAC */
        uint16_t type = ni_cur_u16(c);
        if (c->bad) return V_TRUNCATED;
        if (type < 0x0600) return V_NON_IP;     /* 802.3 length: LLC (STP, ...) */
        return ethertype(c, type, out, ipver);
    }
    case LT_NULL: case LT_LOOP:
        return loopback(c, ipver);
    case LT_RAW: case LT_DLT_RAW12: case LT_DLT_RAW14:
        *ipver = 0;
        return V_OK;
    case LT_IPV4: *ipver = 4; return V_OK;
    case LT_IPV6: *ipver = 6; return V_OK;
    case LT_LINUX_SLL: {                        /* 16-byte header */
        ni_cur_skip(c, 2);                      /* packet type */
        uint16_t hatype = ni_cur_u16(c);
        ni_cur_skip(c, 2 + 8);                  /* address length, address */
        uint16_t proto = ni_cur_u16(c);
        if (c->bad) return V_TRUNCATED;
        return cooked(c, hatype, proto, out, ipver);
    }
    case LT_LINUX_SLL2: {                       /* 20-byte header */
        uint16_t proto = ni_cur_u16(c);
        ni_cur_skip(c, 2 + 4);                  /* reserved, interface index */
        uint16_t hatype = ni_cur_u16(c);
        ni_cur_skip(c, 1 + 1 + 8);              /* packet type, address length, address */
        if (c->bad) return V_TRUNCATED;
        return cooked(c, hatype, proto, out, ipver);
    }
    default:
        return V_UNSUPPORTED;
    }
}

/* ---- transport layer ---------------------------------------------------- */

/* c holds the captured L4 bytes (never past the IP length), wire is the L4
 * length per the IP header(s), first_frag says this is the first fragment of
 * a fragmented datagram (so the UDP length covers more than we have). */
static verdict transport(ni_cursor *c, uint32_t wire, uint8_t proto, int family,
                         bool first_frag, ni_packet *out)
{
    uint32_t hl = 0, wire_payload;
    out->proto = proto;
    if (proto == 6) {                           /* TCP, RFC 9293 section 3.1 */
        if (wire < 20) return V_MALFORMED;
        out->sport = ni_cur_u16(c);
        out->dport = ni_cur_u16(c);
        out->seq = ni_cur_u32(c);
        out->ack = ni_cur_u32(c);
        uint8_t doff = ni_cur_u8(c) >> 4;
        out->tcp_flags = ni_cur_u8(c);
        ni_cur_skip(c, 6);                      /* window, checksum, urgent */
        if (c->bad) return V_TRUNCATED;
        if (doff < 5) return V_MALFORMED;
        hl = doff * 4u;
        if (hl > wire) return V_MALFORMED;
        if (!ni_cur_skip(c, hl - 20)) return V_TRUNCATED;  /* options */
        wire_payload = wire - hl;
    } else if (proto == 17) {                   /* UDP, RFC 768 */
        if (wire < 8) return V_MALFORMED;
        out->sport = ni_cur_u16(c);
        out->dport = ni_cur_u16(c);
        uint32_t ulen = ni_cur_u16(c);
        ni_cur_skip(c, 2);                      /* checksum */
        if (c->bad) return V_TRUNCATED;
        if (ulen == 0 && family == 6) ulen = wire;  /* RFC 2675 jumbogram */
        if (ulen < 8) return V_MALFORMED;
        hl = 8;
        if (first_frag) wire_payload = wire - 8;
        else if (ulen > wire) return V_MALFORMED;
        else wire_payload = ulen - 8;           /* bytes after ulen are not UDP */
    } else if ((proto == 1 && family == 4) || (proto == 58 && family == 6)) {
        if (wire < 4) return V_MALFORMED;       /* RFC 792 / RFC 4443 section 2.1 */
        out->icmp_type = ni_cur_u8(c);
        out->icmp_code = ni_cur_u8(c);
        ni_cur_skip(c, 2);                      /* checksum */
        if (c->bad) return V_TRUNCATED;
        hl = 4;
        wire_payload = wire - 4;
    } else {
        wire_payload = wire;                    /* ESP, AH, GRE, ...: no ports */
    }
    size_t left = ni_cur_left(c);
    out->payload = ni_cur_ptr(c);
    out->payload_len = (uint32_t)(left < wire_payload ? left : wire_payload);
    out->payload_wire_len = wire_payload;
    return V_OK;
}

/* ---- network layer ------------------------------------------------------ */

static void set_addr(ni_addr *a, uint8_t family, const uint8_t *b, size_t n)
{
    memset(a, 0, sizeof *a);
    a->family = family;
    memcpy(a->b, b, n);
}

/* RFC 791 section 3.1 */
static verdict ipv4(ni_cursor *c, ni_packet *out)
{
    const uint8_t *l3 = ni_cur_ptr(c);
    size_t cap = ni_cur_left(c);
    uint8_t vihl = ni_cur_u8(c);
    if (c->bad) return V_TRUNCATED;
    if ((vihl >> 4) != 4) return V_MALFORMED;
    uint32_t hl = (vihl & 0x0fu) * 4u;
    if (hl < 20) return V_MALFORMED;
    ni_cur_skip(c, 1);                          /* TOS */
    uint32_t total = ni_cur_u16(c);
    ni_cur_skip(c, 2);                          /* identification */
    uint16_t frag = ni_cur_u16(c);
    ni_cur_skip(c, 1);                          /* TTL */
    uint8_t proto = ni_cur_u8(c);
    ni_cur_skip(c, 2);                          /* checksum */
    const uint8_t *sa = ni_cur_bytes(c, 4);
    const uint8_t *da = ni_cur_bytes(c, 4);
    if (c->bad || !sa || !da) return V_TRUNCATED;
    if (!ni_cur_skip(c, hl - 20)) return V_TRUNCATED;   /* options */
    if (total == 0) total = (uint32_t)cap;      /* TCP segmentation offload: length not filled */
    if (total < hl) return V_MALFORMED;
    if (frag & 0x1fff) return V_FRAGMENT;       /* non-first fragment */

    set_addr(&out->src, 4, sa, 4);
    set_addr(&out->dst, 4, da, 4);
    out->ip_len = total;
    out->l3 = l3;
    out->l3_caplen = (uint32_t)(cap < total ? cap : total);  /* trailing padding dropped */
    ni_cursor l4;
    ni_cur_init(&l4, l3 + hl, out->l3_caplen - hl);
    return transport(&l4, total - hl, proto, 4, (frag & 0x2000) != 0, out);
}

/* RFC 8200 sections 3 and 4 */
static verdict ipv6(ni_cursor *c, ni_packet *out)
{
    const uint8_t *l3 = ni_cur_ptr(c);
    size_t cap = ni_cur_left(c);
    ni_cursor peek = *c;
    uint8_t first = ni_cur_u8(&peek);
    if (peek.bad) return V_TRUNCATED;
    if ((first >> 4) != 6) return V_MALFORMED;
    ni_cur_skip(c, 4);                          /* version, class, flow label */
    uint32_t plen = ni_cur_u16(c);
    uint8_t nxt = ni_cur_u8(c);
    ni_cur_skip(c, 1);                          /* hop limit */
    const uint8_t *sa = ni_cur_bytes(c, 16);
    const uint8_t *da = ni_cur_bytes(c, 16);
    if (c->bad || !sa || !da) return V_TRUNCATED;
    /* payload length 0: jumbogram (RFC 2675) or offloaded segment; use what
     * was captured */
    uint32_t total = plen ? 40 + plen : (uint32_t)cap;
    uint32_t capl = (uint32_t)(cap < total ? cap : total);
    uint32_t wire = total - 40;
    ni_cursor e;
    ni_cur_init(&e, l3 + 40, capl - 40);
    bool first_frag = false;

    for (unsigned n = 0;; n++) {
        if (nxt == 0 || nxt == 43 || nxt == 60 || nxt == 135 || nxt == 139 || nxt == 140) {
            /* hop-by-hop, routing, destination options, mobility, HIP, shim6:
             * next header, length in 8-octet units not counting the first */
            if (n >= NI_DECODE_IPV6_EXT_MAX) return V_MALFORMED;
            if (wire < 8) return V_MALFORMED;
            ni_cursor h = e;
            uint8_t nh = ni_cur_u8(&h);
            uint32_t elen = (ni_cur_u8(&h) + 1u) * 8u;
            if (h.bad) return V_TRUNCATED;
            if (elen > wire) return V_MALFORMED;
            if (!ni_cur_skip(&e, elen)) return V_TRUNCATED;
            nxt = nh;
            wire -= elen;
        } else if (nxt == 44) {                 /* fragment header, section 4.5 */
            if (n >= NI_DECODE_IPV6_EXT_MAX) return V_MALFORMED;
            if (wire < 8) return V_MALFORMED;
            uint8_t nh = ni_cur_u8(&e);
            ni_cur_skip(&e, 1);
            uint16_t offm = ni_cur_u16(&e);
            ni_cur_skip(&e, 4);                 /* identification */
            if (e.bad) return V_TRUNCATED;
            if (offm >> 3) return V_FRAGMENT;
            first_frag = first_frag || (offm & 1);
            nxt = nh;
            wire -= 8;
        } else {
            break;                              /* upper layer, ESP, AH, no next header... */
        }
    }

    set_addr(&out->src, 6, sa, 16);
    set_addr(&out->dst, 6, da, 16);
    out->ip_len = total;
    out->l3 = l3;
    out->l3_caplen = capl;
    return transport(&e, wire, nxt, 6, first_frag, out);
}

/* ---- the common case, in whole headers ---------------------------------
 * Ethernet (untagged or one 802.1Q tag), IPv4 with or without options, not
 * a fragment, TCP or UDP whose header is captured and consistent: almost
 * every packet of an ordinary capture.  Each header is taken from the
 * cursor in one piece (ni_cur_bytes: one bounds check per header instead of
 * one per field) and its fields read at fixed offsets inside it; the fields
 * and the verdict are those the general path gives (the same checks, in
 * another order).  Anything else, including every frame the general path
 * would count as malformed, truncated or a fragment, returns false having
 * decided nothing, and the frame is decoded again from the start by the
 * general path. */
static inline uint32_t be16(const uint8_t *b) { return (uint32_t)b[0] << 8 | b[1]; }
static inline uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline bool fast_ether_ipv4(const uint8_t *p, uint32_t caplen, int64_t ts_us, ni_packet *out)
{
    ni_cursor c;
    ni_cur_init(&c, p, caplen);
    const uint8_t *eth = ni_cur_bytes(&c, 14);
    if (!eth) return false;
    uint32_t type = be16(eth + 12), vlan = 0;
    if (type == ET_VLAN) {
        const uint8_t *tag = ni_cur_bytes(&c, 4);
        if (!tag) return false;
        vlan = be16(tag) & 0x0fff;
        type = be16(tag + 2);
    }
    if (type != ET_IPV4) return false;
    const uint8_t *l3 = ni_cur_ptr(&c);
    uint32_t cap = (uint32_t)ni_cur_left(&c);
    const uint8_t *ih = ni_cur_bytes(&c, 20);
    if (!ih) return false;
    uint8_t vihl = ih[0];
    uint32_t hl = (vihl & 0x0fu) * 4u;
    if ((vihl >> 4) != 4 || hl < 20 || !ni_cur_skip(&c, hl - 20)) return false;   /* options */
    uint32_t total = be16(ih + 2), frag = be16(ih + 6);
    uint8_t proto = ih[9];
    if (total == 0) total = cap;                    /* TCP segmentation offload */
    if (total < hl || (frag & 0x1fff)) return false;
    uint32_t capl = cap < total ? cap : total;
    uint32_t wire = total - hl, wire_payload;
    uint16_t sport, dport;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    ni_cursor l4;
    ni_cur_init(&l4, l3 + hl, capl - hl);
    if (proto == 6) {
        const uint8_t *th = ni_cur_bytes(&l4, 20);
        if (wire < 20 || !th) return false;
        uint32_t h4 = (uint32_t)(th[12] >> 4) * 4u;
        if (h4 < 20 || h4 > wire || !ni_cur_skip(&l4, h4 - 20)) return false;
        sport = (uint16_t)be16(th);
        dport = (uint16_t)be16(th + 2);
        seq = be32(th + 4);
        ack = be32(th + 8);
        flags = th[13];
        wire_payload = wire - h4;
    } else if (proto == 17) {
        const uint8_t *uh = ni_cur_bytes(&l4, 8);
        if (wire < 8 || !uh) return false;
        uint32_t ulen = be16(uh + 4);
        if (ulen < 8) return false;
        if (frag & 0x2000) wire_payload = wire - 8;         /* first fragment */
        else if (ulen > wire) return false;
        else wire_payload = ulen - 8;
        sport = (uint16_t)be16(uh);
        dport = (uint16_t)be16(uh + 2);
    } else {
        return false;
    }
    /* every field written (what the general path leaves zero, zero), so
     * the packet needs no clearing first; the assertion stops a new field
     * of ni_packet from going unwritten here */
    _Static_assert(sizeof(ni_packet) == 104, "ni_packet changed: write its new fields in fast_ether_ipv4");
    out->ts_us = ts_us;
    out->src = (ni_addr){ .family = 4 };
    memcpy(out->src.b, ih + 12, 4);
    out->dst = (ni_addr){ .family = 4 };
    memcpy(out->dst.b, ih + 16, 4);
    out->proto = proto;
    out->sport = sport;
    out->dport = dport;
    out->tcp_flags = flags;
    out->seq = seq;
    out->ack = ack;
    uint32_t left = (uint32_t)ni_cur_left(&l4);
    out->payload = ni_cur_ptr(&l4);
    out->payload_len = left < wire_payload ? left : wire_payload;
    out->payload_wire_len = wire_payload;
    out->ip_len = total;
    out->vlan = (uint16_t)vlan;
    out->icmp_type = out->icmp_code = 0;
    out->l3 = l3;
    out->l3_caplen = capl;
    return true;
}

/* Every other frame (and those the fast path declined): layer by layer. */
static ni_decode_result __attribute__((noinline))
decode_general(int linktype, const uint8_t *p, uint32_t caplen, int64_t ts_us, ni_packet *out,
               ni_stats *st)
{
    memset(out, 0, sizeof *out);
    out->ts_us = ts_us;
    ni_cursor c;
    ni_cur_init(&c, p, p ? caplen : 0);
    int ipver = 0;
    verdict v = link_layer(linktype, &c, out, &ipver);
    if (v == V_OK) {
        if (ipver == 0) {                       /* raw IP: the version nibble decides */
            ni_cursor peek = c;
            uint8_t b = ni_cur_u8(&peek);
            if (peek.bad) v = V_TRUNCATED;
            else if ((b >> 4) == 4) ipver = 4;
            else if ((b >> 4) == 6) ipver = 6;
            else v = V_MALFORMED;
        }
        if (v == V_OK) v = ipver == 4 ? ipv4(&c, out) : ipv6(&c, out);
    }
    if (st) {
        switch (v) {
        case V_OK: st->ip_packets++; break;
        case V_MALFORMED: st->malformed++; break;
        case V_TRUNCATED: st->truncated++; break;
        case V_UNSUPPORTED: st->unsupported++; break;
        case V_FRAGMENT: st->fragments++; break;
        case V_NON_IP: st->non_ip++; break;
        }
    }
    return v == V_OK ? NI_DECODE_OK : NI_DECODE_SKIP;
}

ni_decode_result ni_decode_frame(int linktype, const uint8_t *p, uint32_t caplen,
                                 int64_t ts_us, ni_packet *out, ni_stats *st)
{
    if (linktype == NI_LINKTYPE_ETHERNET && p && fast_ether_ipv4(p, caplen, ts_us, out)) {
        if (st) st->ip_packets++;
        return NI_DECODE_OK;
    }
    return decode_general(linktype, p, caplen, ts_us, out, st);
}
