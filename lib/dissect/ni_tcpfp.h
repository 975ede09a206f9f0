/* ni_tcpfp.h — the TCP/IP fingerprint of a client's SYN, written in p0f 3's
 * signature syntax (p0f README, "TCP signatures"):
 *
 *     ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass
 *
 * as p0f prints an observed packet (its `raw_sig`): the TTL as
 * "observed+distance" (the distance to the next of 32, 64, 128, 255; "+?"
 * beyond 35 hops), the window as "mss*N" / "mtu*N" when it is a multiple of
 * the MSS or of the link MTU, the options in their order (eol+N, nop, mss,
 * ws, sok, sack, ts, ?N) and the quirks df, id+, id-, ecn, 0+, flow, seq-,
 * ack+, ack-, uptr+, urgf+, pushf+, ts1-, ts2+, opt+, exws, bad.
 *
 * Evidence only: what the SYN says.  Which system sent it (`tcp_os`) is
 * decided by lib/enrich/ni_tcpos from p0f's database and data/tcp-os.tsv. */
#ifndef NI_TCPFP_H
#define NI_TCPFP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dissect/ni_producer.h"

#define NI_TCPFP_OPTS_MAX 24        /* options read per SYN (p0f's MAX_TCP_OPT) */
#define NI_TCPFP_STRLEN 256         /* a formatted signature fits (24 options of "?255,") */

/* Quirk bits, in the order p0f writes them. */
enum {
    NI_TCPQ_DF = 1u << 0, NI_TCPQ_NZ_ID = 1u << 1, NI_TCPQ_ZERO_ID = 1u << 2, NI_TCPQ_ECN = 1u << 3,
    NI_TCPQ_NZ_MBZ = 1u << 4, NI_TCPQ_FLOW = 1u << 5, NI_TCPQ_ZERO_SEQ = 1u << 6,
    NI_TCPQ_NZ_ACK = 1u << 7, NI_TCPQ_ZERO_ACK = 1u << 8, NI_TCPQ_NZ_URG = 1u << 9,
    NI_TCPQ_URG = 1u << 10, NI_TCPQ_PUSH = 1u << 11, NI_TCPQ_OPT_ZERO_TS1 = 1u << 12,
    NI_TCPQ_OPT_NZ_TS2 = 1u << 13, NI_TCPQ_OPT_EOL_NZ = 1u << 14, NI_TCPQ_OPT_EXWS = 1u << 15,
    NI_TCPQ_OPT_BAD = 1u << 16
};

/* What one SYN says (all from its IP and TCP headers). */
typedef struct ni_tcpfp_syn {
    uint8_t ip_ver;             /* 4 or 6 */
    uint8_t ttl;                /* observed TTL / hop limit */
    uint8_t ip_opt_len;         /* IPv4 options bytes (0 for IPv6) */
    uint16_t mss;               /* 0: no MSS option */
    uint16_t win;
    uint8_t wscale;             /* 0: no window scale option */
    uint8_t opt_cnt;
    uint8_t opt_layout[NI_TCPFP_OPTS_MAX];  /* option kinds in order */
    uint8_t opt_eol_pad;        /* bytes after an EOL */
    uint32_t quirks;            /* NI_TCPQ_* */
    bool payload;               /* data on the SYN */
    uint32_t tot_hdr;           /* IP + TCP header bytes */
    uint32_t ts1;               /* own timestamp (0: none or zero) */
} ni_tcpfp_syn;

/* Reads a TCP SYN from its IP header on: l3[0..caplen) are the captured
 * bytes, wire_len the IP total length.  IPv4 (options, fragments refused)
 * and IPv6 whose next header is TCP (as p0f).  Malformed TCP options become
 * the quirk `bad`, never an overread.  Returns false when the bytes are not
 * a TCP segment with SYN set and ACK, FIN and RST clear. */
bool ni_tcpfp_parse(const uint8_t *l3, size_t caplen, size_t wire_len, ni_tcpfp_syn *out);

/* Writes the signature as p0f's raw_sig into buf (NI_TCPFP_STRLEN bytes). */
void ni_tcpfp_format(const ni_tcpfp_syn *syn, char *buf, size_t n);

/* The producer (ni_producer.c): the client's first SYN of a TCP session →
 * s->tcp_fingerprint and s->tcp_window. */
extern const ni_producer ni_tcpfp_producer;

#endif
