/* ni_decode.h — link, network and transport layer decoding of one captured
 * frame into a ni_packet.  Link types: Ethernet (with 802.1Q / 802.1ad QinQ),
 * Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD loopback (NULL/LOOP).  IPv4
 * (options; non-first fragments are counted, not decoded), IPv6 (extension
 * headers), TCP, UDP, ICMP, ICMPv6 (RFC 791, 8200, 9293, 768, 792, 4443).
 * Every byte is read through ni_cursor; malformed, truncated and unsupported
 * frames become counters in ni_stats, never crashes. */
#ifndef NI_DECODE_H
#define NI_DECODE_H

#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"

/* TCP flag bits (RFC 9293) */
#define NI_TCP_FIN 0x01
#define NI_TCP_SYN 0x02
#define NI_TCP_RST 0x04
#define NI_TCP_PSH 0x08
#define NI_TCP_ACK 0x10
#define NI_TCP_URG 0x20

/* One decoded packet.  Pointers refer to the captured frame and are valid
 * only until the next packet is read (per-packet data never outlives it).
 * A new field must also be written by ni_decode.c's fast path (which does
 * not clear the packet first; a size assertion there says so). */
typedef struct ni_packet {
    int64_t ts_us;              /* capture time, µs since epoch UTC */
    ni_addr src, dst;
    uint8_t proto;              /* IP protocol (after IPv6 extension headers) */
    uint16_t sport, dport;      /* 0 for protocols without ports */
    uint8_t tcp_flags;
    uint32_t seq, ack;          /* TCP only */
    const uint8_t *payload;     /* L4 payload actually captured */
    uint32_t payload_len;       /* captured payload bytes */
    uint32_t payload_wire_len;  /* payload bytes per the IP length (>= captured) */
    uint32_t ip_len;            /* IP total length (header + payload), counted as bytes */
    uint16_t vlan;              /* outermost VLAN id, 0 = none */
    uint8_t icmp_type, icmp_code;
    const uint8_t *l3;          /* start of the IP header (for nDPI), captured bytes */
    uint32_t l3_caplen;         /* captured bytes from l3 (<= ip_len unless padded) */
} ni_packet;

typedef enum ni_decode_result {
    NI_DECODE_OK = 0,       /* *out is filled */
    NI_DECODE_SKIP          /* not an IP packet for the flow table; a counter says why */
} ni_decode_result;

/* Decodes one frame of the given pcap LINKTYPE_* value.  caplen bytes are at
 * p.  Increments st->ip_packets, malformed, truncated, unsupported, fragments
 * or non_ip as fits.  Never reads outside p[0..caplen). */
ni_decode_result ni_decode_frame(int linktype, const uint8_t *p, uint32_t caplen,
                                 int64_t ts_us, ni_packet *out, ni_stats *st);

/* pcap LINKTYPE_* values decoded (https://www.tcpdump.org/linktypes.html) */
enum {
    NI_LINKTYPE_NULL = 0, NI_LINKTYPE_ETHERNET = 1, NI_LINKTYPE_DLT_RAW12 = 12,
    NI_LINKTYPE_DLT_RAW14 = 14, NI_LINKTYPE_RAW = 101, NI_LINKTYPE_LOOP = 108,
    NI_LINKTYPE_LINUX_SLL = 113, NI_LINKTYPE_IPV4 = 228, NI_LINKTYPE_IPV6 = 229,
    NI_LINKTYPE_LINUX_SLL2 = 276
};

/* True if netintel decodes frames of this link type (inline: asked once a
 * frame). */
static inline bool ni_decode_linktype_supported(int linktype)
{
    if (linktype == NI_LINKTYPE_ETHERNET) return true;     /* nearly every capture */
    switch (linktype) {
    case NI_LINKTYPE_NULL: case NI_LINKTYPE_ETHERNET: case NI_LINKTYPE_DLT_RAW12:
    case NI_LINKTYPE_DLT_RAW14: case NI_LINKTYPE_RAW: case NI_LINKTYPE_LOOP:
    case NI_LINKTYPE_LINUX_SLL: case NI_LINKTYPE_IPV4: case NI_LINKTYPE_IPV6:
    case NI_LINKTYPE_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

#endif
