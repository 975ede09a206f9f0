/* test_decode.c — unit tests of lib/decode/ni_decode: crafted frames for
 * every supported link type (Ethernet with VLAN/QinQ/PPPoE/MPLS, NULL/LOOP
 * in both byte orders, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2), IPv4 options,
 * padding, snaplen cuts, fragments, IPv6 extension headers, TCP/UDP/ICMP
 * fields, and every counter (malformed, truncated, unsupported, fragments,
 * non_ip); every prefix of every crafted frame is decoded under the sanitizers
 * to show no read past caplen; and the corpus captures are decoded frame by
 * frame and compared with tshark's dissection (run at test time). */
#include "ni_test.h"
#include "decode/ni_decode.h"
#include "ingest/ni_source.h"
#include "core/ni_limits.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- frame builders ------------------------------------------------------ */
typedef struct fb { uint8_t b[4096]; size_t n; } fb;

static void add(fb *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void add8(fb *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void add16(fb *f, unsigned v) { add8(f, v >> 8); add8(f, v); }
static void add32(fb *f, uint32_t v) { add16(f, v >> 16); add16(f, v & 0xffff); }
static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static const uint8_t A4[4] = { 10, 0, 0, 1 }, B4[4] = { 192, 0, 2, 7 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xbe, [15] = 0xef };

/* TCP header (doff words) + payload */
static fb tcp(unsigned sport, unsigned dport, uint32_t seq, uint32_t ack, unsigned flags,
              unsigned doff, const char *payload)
{
    fb f = { .n = 0 };
    add16(&f, sport); add16(&f, dport); add32(&f, seq); add32(&f, ack);
    add8(&f, doff << 4); add8(&f, flags); add16(&f, 65535); add16(&f, 0); add16(&f, 0);
    for (unsigned i = 20; i < doff * 4; i++) add8(&f, 1);  /* NOP options */
    if (payload) add(&f, payload, strlen(payload));
    return f;
}

static fb udp(unsigned sport, unsigned dport, const char *payload, int len_override)
{
    fb f = { .n = 0 };
    size_t pl = payload ? strlen(payload) : 0;
    add16(&f, sport); add16(&f, dport);
    add16(&f, len_override >= 0 ? (unsigned)len_override : 8 + (unsigned)pl);
    add16(&f, 0);
    if (payload) add(&f, payload, pl);
    return f;
}

static fb icmp(unsigned type, unsigned code)
{
    fb f = { .n = 0 };
    add8(&f, type); add8(&f, code); add16(&f, 0); add32(&f, 0x00010002);
    add(&f, "ping", 4);
    return f;
}

/* IPv4: ihl in words, total -1 = computed, frag = flags+offset field */
static fb ip4(unsigned proto, const fb *l4, unsigned ihl, int total, unsigned frag)
{
    fb f = { .n = 0 };
    add8(&f, 0x40 | ihl); add8(&f, 0);
    add16(&f, total >= 0 ? (unsigned)total : ihl * 4 + (unsigned)l4->n);
    add16(&f, 0x1234); add16(&f, frag); add8(&f, 64); add8(&f, proto); add16(&f, 0);
    add(&f, A4, 4); add(&f, B4, 4);
    for (unsigned i = 5; i < ihl; i++) add32(&f, 0x01010101);   /* NOP options */
    add(&f, l4->b, l4->n);
    return f;
}

/* IPv6 with a prebuilt extension chain ext (first next header = nxt) */
static fb ip6(unsigned nxt, const fb *ext, const fb *l4, int plen)
{
    fb f = { .n = 0 };
    size_t el = ext ? ext->n : 0;
    add32(&f, 0x60000000);
    add16(&f, plen >= 0 ? (unsigned)plen : (unsigned)(el + l4->n));
    add8(&f, nxt); add8(&f, 64);
    add(&f, A6, 16); add(&f, B6, 16);
    if (ext) add(&f, ext->b, ext->n);
    add(&f, l4->b, l4->n);
    return f;
}

/* an 8-byte generic extension header */
static void ext8(fb *e, unsigned nh) { add8(e, nh); add8(e, 0); add16(e, 0); add32(e, 0); }
static void frag6(fb *e, unsigned nh, unsigned off, bool more)
{
    add8(e, nh); add8(e, 0); add16(e, off << 3 | (more ? 1 : 0)); add32(e, 99);
}

static fb eth(unsigned type, const fb *in)
{
    fb f = { .n = 0 };
    for (int i = 0; i < 12; i++) add8(&f, 0x02 + i);
    add16(&f, type);
    if (in) add(&f, in->b, in->n);
    return f;
}

/* Ethernet with tags: tpids[i] + tci ids[i], then type */
static fb eth_tags(const unsigned *tpids, const unsigned *ids, int ntags, unsigned type, const fb *in)
{
    fb f = { .n = 0 };
    for (int i = 0; i < 12; i++) add8(&f, 0x02 + i);
    for (int i = 0; i < ntags; i++) { add16(&f, tpids[i]); add16(&f, 0x2000 | ids[i]); }
    add16(&f, type);
    if (in) add(&f, in->b, in->n);
    return f;
}

static fb prefix(const uint8_t *hdr, size_t n, const fb *in)
{
    fb f = { .n = 0 };
    add(&f, hdr, n);
    add(&f, in->b, in->n);
    return f;
}

/* ---- decoding helpers ---------------------------------------------------- */

static uint64_t counters(const ni_stats *s)
{
    return s->ip_packets + s->malformed + s->truncated + s->unsupported + s->fragments + s->non_ip;
}

/* Decodes a copy of the frame in an exactly sized heap block (so ASan sees
 * any overread) and checks that exactly one counter moved. */
static ni_decode_result dec(int lt, const fb *f, ni_packet *pk, ni_stats *st)
{
    uint8_t *p = malloc(f->n ? f->n : 1);
    memcpy(p, f->b, f->n);
    uint64_t before = counters(st);
    ni_decode_result r = ni_decode_frame(lt, p, (uint32_t)f->n, 42, pk, st);
    CHECK_INT(counters(st) - before, 1);
    if (r == NI_DECODE_OK) {
        CHECK(pk->payload >= p && pk->payload + pk->payload_len <= p + f->n);
        CHECK(pk->l3 >= p && pk->l3 + pk->l3_caplen <= p + f->n);
        CHECK(pk->payload_len <= pk->payload_wire_len);
        /* rebase pointers into the builder's copy so callers can compare */
        pk->payload = f->b + (pk->payload - p);
        pk->l3 = f->b + (pk->l3 - p);
    }
    free(p);
    return r;
}

/* Expects the frame to be skipped with exactly the named counter. */
#define EXPECT_SKIP(lt, f, field) do { ni_stats st_ = { 0 }; ni_packet pk_; \
    fb f_ = (f); \
    CHECK_INT(dec((lt), &f_, &pk_, &st_), NI_DECODE_SKIP); \
    CHECK_INT(st_.field, 1); } while (0)

static fb cut(fb f, size_t n) { if (n < f.n) f.n = n; return f; }

/* ---- tests --------------------------------------------------------------- */

TEST(ethernet_ipv4_tcp)
{
    fb t = tcp(51000, 443, 1000, 2000, NI_TCP_SYN | NI_TCP_ACK, 5, "hello");
    fb i = ip4(6, &t, 5, -1, 0x4000);
    fb f = eth(0x0800, &i);
    ni_stats st = { 0 };
    ni_packet pk;
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(st.ip_packets, 1);
    CHECK_INT(pk.ts_us, 42);
    CHECK_INT(pk.src.family, 4);
    CHECK(memcmp(pk.src.b, A4, 4) == 0 && memcmp(pk.dst.b, B4, 4) == 0);
    CHECK_INT(pk.src.b[4], 0);
    CHECK_INT(pk.proto, 6);
    CHECK_INT(pk.sport, 51000);
    CHECK_INT(pk.dport, 443);
    CHECK_INT(pk.seq, 1000);
    CHECK_INT(pk.ack, 2000);
    CHECK_INT(pk.tcp_flags, NI_TCP_SYN | NI_TCP_ACK);
    CHECK_INT(pk.payload_len, 5);
    CHECK_INT(pk.payload_wire_len, 5);
    CHECK(pk.payload && memcmp(pk.payload, "hello", 5) == 0);
    CHECK_INT(pk.ip_len, 45);
    CHECK(pk.l3 == f.b + 14);
    CHECK_INT(pk.l3_caplen, 45);
    CHECK_INT(pk.vlan, 0);

    /* TCP options: payload after them */
    t = tcp(1, 2, 0, 0, NI_TCP_PSH, 8, "abc");
    i = ip4(6, &t, 5, -1, 0);
    f = eth(0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.payload_len, 3);
    CHECK(pk.payload == f.b + 14 + 20 + 32);
}

TEST(ipv4_options_padding_snaplen)
{
    ni_stats st = { 0 };
    ni_packet pk;
    /* IHL 7: ports after 8 bytes of options */
    fb u = udp(5353, 53, "q", -1);
    fb i = ip4(17, &u, 7, -1, 0);
    fb f = eth(0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.sport, 5353);
    CHECK_INT(pk.dport, 53);
    CHECK_INT(pk.payload_len, 1);
    CHECK_INT(pk.ip_len, 28 + 8 + 1);

    /* Ethernet padding to 60 bytes is not payload */
    u = udp(1000, 2000, "xy", -1);
    i = ip4(17, &u, 5, -1, 0);
    f = eth(0x0800, &i);
    while (f.n < 60) add8(&f, 0xee);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.payload_len, 2);
    CHECK_INT(pk.payload_wire_len, 2);
    CHECK_INT(pk.ip_len, 30);
    CHECK_INT(pk.l3_caplen, 30);

    /* snaplen cut: captured part of the payload, wire length from the header */
    fb t = tcp(80, 40000, 1, 1, NI_TCP_ACK, 5, "0123456789abcdefghij");
    i = ip4(6, &t, 5, -1, 0);
    f = cut(eth(0x0800, &i), 14 + 20 + 20 + 4);
    uint64_t tr = st.truncated;
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(st.truncated, tr);
    CHECK_INT(pk.payload_len, 4);
    CHECK_INT(pk.payload_wire_len, 20);
    CHECK_INT(pk.ip_len, 60);
    CHECK_INT(pk.l3_caplen, 44);

    /* total length 0 (segmentation offload): the captured length counts */
    t = tcp(80, 40000, 1, 1, NI_TCP_ACK, 5, "offload");
    i = ip4(6, &t, 5, 0, 0);
    f = eth(0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.payload_len, 7);
    CHECK_INT(pk.ip_len, 47);
}

TEST(vlan_qinq_pppoe_mpls)
{
    ni_packet pk;
    ni_stats st = { 0 };
    fb u = udp(1, 53, "dns", -1);
    fb i = ip4(17, &u, 5, -1, 0);
    fb u6 = udp(2, 53, "dns6", -1);
    fb i6 = ip6(17, NULL, &u6, -1);

    unsigned t1[] = { 0x8100 }, v1[] = { 100 };
    fb f = eth_tags(t1, v1, 1, 0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.vlan, 100);
    CHECK_INT(pk.dport, 53);

    unsigned t2[] = { 0x88a8, 0x8100 }, v2[] = { 421, 785 };
    f = eth_tags(t2, v2, 2, 0x86dd, &i6);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.vlan, 421);            /* outermost */
    CHECK_INT(pk.src.family, 6);
    CHECK_INT(pk.sport, 2);

    unsigned t3[] = { 0x9100, 0x9100, 0x8100 }, v3[] = { 7, 8, 9 };
    f = eth_tags(t3, v3, 3, 0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.vlan, 7);

    /* too deep a stack */
    unsigned tn[NI_DECODE_VLAN_MAX + 1], vn[NI_DECODE_VLAN_MAX + 1];
    for (unsigned k = 0; k <= NI_DECODE_VLAN_MAX; k++) { tn[k] = 0x8100; vn[k] = k + 1; }
    EXPECT_SKIP(1, eth_tags(tn, vn, NI_DECODE_VLAN_MAX + 1, 0x0800, &i), unsupported);
    /* the deepest allowed stack still decodes */
    f = eth_tags(tn, vn, NI_DECODE_VLAN_MAX, 0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    /* tag cut short */
    EXPECT_SKIP(1, cut(eth_tags(t1, v1, 1, 0x0800, &i), 16), truncated);

    /* PPPoE session over QinQ, as in the corpus' dns.pcap */
    fb pp = { .n = 0 };
    add8(&pp, 0x11); add8(&pp, 0); add16(&pp, 0x1234); add16(&pp, (unsigned)i.n + 2); add16(&pp, 0x0021);
    add(&pp, i.b, i.n);
    f = eth_tags(t2, v2, 2, 0x8864, &pp);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.vlan, 421);
    CHECK_INT(pk.proto, 17);
    CHECK_INT(pk.payload_len, 3);
    pp.n = 0;
    add8(&pp, 0x11); add8(&pp, 0); add16(&pp, 1); add16(&pp, (unsigned)i6.n + 2); add16(&pp, 0x0057);
    add(&pp, i6.b, i6.n);
    f = eth(0x8864, &pp);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.src.family, 6);
    pp.b[7] = 0x21; pp.b[6] = 0xc0;     /* LCP */
    EXPECT_SKIP(1, eth(0x8864, &pp), non_ip);
    pp.b[0] = 0x12;                     /* bad version/type */
    EXPECT_SKIP(1, eth(0x8864, &pp), malformed);
    EXPECT_SKIP(1, eth(0x8863, &pp), non_ip);   /* discovery */

    /* MPLS: two labels then IPv4; then IPv6; then a pseudowire */
    fb m = { .n = 0 };
    add32(&m, 16 << 12 | 64); add32(&m, 17 << 12 | 0x100 | 64); add(&m, i.b, i.n);
    f = eth(0x8847, &m);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.dport, 53);
    m.n = 0;
    add32(&m, 2 << 12 | 0x100 | 64); add(&m, i6.b, i6.n);
    f = eth(0x8847, &m);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.src.family, 6);
    m.n = 0;
    add32(&m, 5 << 12 | 0x100 | 64); add32(&m, 0);   /* control word */
    EXPECT_SKIP(1, eth(0x8847, &m), unsupported);
    m.n = 0;
    for (unsigned k = 0; k <= NI_DECODE_MPLS_MAX; k++) add32(&m, 16 << 12);
    add(&m, i.b, i.n);
    EXPECT_SKIP(1, eth(0x8847, &m), unsupported);
    EXPECT_SKIP(1, cut(eth(0x8847, &m), 16), truncated);
}

TEST(non_ip_and_unsupported)
{
    fb arp = { .n = 28 };
    memset(arp.b, 1, 28);
    EXPECT_SKIP(1, eth(0x0806, &arp), non_ip);
    EXPECT_SKIP(1, eth(0x88cc, &arp), non_ip);          /* LLDP */
    EXPECT_SKIP(1, eth(0x0026, &arp), non_ip);          /* 802.3 length + LLC (STP) */
    EXPECT_SKIP(1, eth(0x88e5, &arp), unsupported);     /* MACsec */
    EXPECT_SKIP(1, cut(eth(0x0800, &arp), 13), truncated);
    EXPECT_SKIP(147, arp, unsupported);                 /* LINKTYPE_USER0 */
    EXPECT_SKIP(105, arp, unsupported);                 /* 802.11 */
    CHECK(ni_decode_linktype_supported(1));
    CHECK(ni_decode_linktype_supported(276));
    CHECK(ni_decode_linktype_supported(0));
    CHECK(!ni_decode_linktype_supported(105));
    CHECK(!ni_decode_linktype_supported(-1));
    /* NULL pointer with zero length */
    ni_stats st = { 0 };
    ni_packet pk;
    CHECK_INT(ni_decode_frame(1, NULL, 0, 0, &pk, &st), NI_DECODE_SKIP);
    CHECK_INT(st.truncated, 1);
}

TEST(loopback_raw_cooked)
{
    ni_packet pk;
    ni_stats st = { 0 };
    fb t = tcp(22, 60000, 5, 6, NI_TCP_ACK, 5, "ssh");
    fb i = ip4(6, &t, 5, -1, 0);
    fb i6 = ip6(6, NULL, &t, -1);

    static const uint8_t af_le[] = { 2, 0, 0, 0 }, af_be[] = { 0, 0, 0, 2 };
    fb f = prefix(af_le, 4, &i);
    CHECK_INT(dec(0, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.sport, 22);
    f = prefix(af_be, 4, &i);
    CHECK_INT(dec(108, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(dec(0, &f, &pk, &st), NI_DECODE_OK);
    static const uint8_t af6[][4] = { { 24, 0, 0, 0 }, { 0, 0, 0, 28 }, { 30, 0, 0, 0 }, { 0, 0, 0, 24 } };
    for (int k = 0; k < 4; k++) {
        f = prefix(af6[k], 4, &i6);
        CHECK_INT(dec(k % 2 ? 108 : 0, &f, &pk, &st), NI_DECODE_OK);
        CHECK_INT(pk.src.family, 6);
        CHECK(memcmp(pk.dst.b, B6, 16) == 0);
    }
    static const uint8_t af_x[] = { 7, 0, 0, 0 }, af_bad[] = { 1, 2, 3, 4 };
    EXPECT_SKIP(0, prefix(af_x, 4, &i), non_ip);
    EXPECT_SKIP(0, prefix(af_bad, 4, &i), malformed);
    EXPECT_SKIP(0, cut(prefix(af_le, 4, &i), 3), truncated);

    /* raw IP under every value used for it */
    int raws[] = { 101, 12, 14 };
    for (int k = 0; k < 3; k++) {
        CHECK_INT(dec(raws[k], &i, &pk, &st), NI_DECODE_OK);
        CHECK_INT(pk.src.family, 4);
        CHECK_INT(dec(raws[k], &i6, &pk, &st), NI_DECODE_OK);
        CHECK_INT(pk.src.family, 6);
    }
    CHECK_INT(dec(228, &i, &pk, &st), NI_DECODE_OK);
    CHECK_INT(dec(229, &i6, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.dport, 60000);
    EXPECT_SKIP(228, i6, malformed);     /* IPv6 under LINKTYPE_IPV4 */
    EXPECT_SKIP(229, i, malformed);
    fb bad = i;
    bad.b[0] = 0x55;
    EXPECT_SKIP(101, bad, malformed);
    EXPECT_SKIP(101, cut(i, 0), truncated);

    /* Linux cooked v1 and v2 */
    fb sll = { .n = 0 };
    add16(&sll, 0); add16(&sll, 1); add16(&sll, 6); add32(&sll, 0x02020202); add32(&sll, 0x02020000);
    add16(&sll, 0x0800);
    add(&sll, i.b, i.n);
    CHECK_INT(dec(113, &sll, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.sport, 22);
    CHECK(pk.l3 == sll.b + 16);
    put16(sll.b + 14, 0x0806);
    EXPECT_SKIP(113, sll, non_ip);
    put16(sll.b + 14, 0x0004);           /* ETH_P_802_2 */
    EXPECT_SKIP(113, sll, non_ip);
    put16(sll.b + 14, 0x0800);
    put16(sll.b + 2, 824);               /* netlink */
    EXPECT_SKIP(113, sll, non_ip);
    EXPECT_SKIP(113, cut(sll, 15), truncated);
    /* VLAN tag left in a cooked capture */
    fb sllv = { .n = 0 };
    add(&sllv, sll.b, 14); put16(sllv.b + 2, 1);
    add16(&sllv, 0x8100); add16(&sllv, 55); add16(&sllv, 0x86dd); add(&sllv, i6.b, i6.n);
    CHECK_INT(dec(113, &sllv, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.vlan, 55);
    CHECK_INT(pk.src.family, 6);

    fb sll2 = { .n = 0 };
    add16(&sll2, 0x86dd); add16(&sll2, 0); add32(&sll2, 3); add16(&sll2, 1); add8(&sll2, 4); add8(&sll2, 6);
    add32(&sll2, 0); add32(&sll2, 0);
    add(&sll2, i6.b, i6.n);
    CHECK_INT(dec(276, &sll2, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.src.family, 6);
    CHECK(pk.l3 == sll2.b + 20);
    put16(sll2.b, 0x88cc);
    EXPECT_SKIP(276, sll2, non_ip);
    EXPECT_SKIP(276, cut(sll2, 19), truncated);
}

TEST(ipv4_malformed_truncated)
{
    fb t = tcp(1, 2, 0, 0, NI_TCP_SYN, 5, NULL);
    fb i = ip4(6, &t, 5, -1, 0);
    fb x;

    x = i; x.b[0] = 0x64;                          /* version 6 under 0x0800 */
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    x = i; x.b[0] = 0x44;                          /* IHL 4 */
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    x = ip4(6, &t, 5, 19, 0);                      /* total length < header */
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    fb t3 = tcp(1, 2, 0, 0, 0, 4, NULL);           /* TCP data offset 4 */
    x = ip4(6, &t3, 5, -1, 0);
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    fb t15 = tcp(1, 2, 0, 0, 0, 15, NULL);         /* data offset past the segment */
    t15.n = 30;
    x = ip4(6, &t15, 5, -1, 0);
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    x = ip4(6, &t, 5, 20 + 12, 0);                 /* IP length leaves 12 bytes for TCP */
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    fb u = udp(1, 2, "abc", 7);                    /* UDP length < 8 */
    x = ip4(17, &u, 5, -1, 0);
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    u = udp(1, 2, "abc", 30);                      /* UDP length > IP payload */
    x = ip4(17, &u, 5, -1, 0);
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);
    fb ic = icmp(8, 0);
    x = ip4(1, &ic, 5, 23, 0);                     /* 3 bytes of ICMP */
    EXPECT_SKIP(1, eth(0x0800, &x), malformed);

    /* captured bytes end inside a header */
    EXPECT_SKIP(1, cut(eth(0x0800, &i), 14), truncated);
    EXPECT_SKIP(1, cut(eth(0x0800, &i), 14 + 19), truncated);
    fb o = ip4(6, &t, 8, -1, 0);
    EXPECT_SKIP(1, cut(eth(0x0800, &o), 14 + 25), truncated);    /* in the options */
    EXPECT_SKIP(1, cut(eth(0x0800, &i), 14 + 20 + 19), truncated);
    fb to = tcp(1, 2, 0, 0, 0, 10, NULL);
    x = ip4(6, &to, 5, -1, 0);
    EXPECT_SKIP(1, cut(eth(0x0800, &x), 14 + 20 + 30), truncated); /* in TCP options */
    u = udp(1, 2, "abc", -1);
    x = ip4(17, &u, 5, -1, 0);
    EXPECT_SKIP(1, cut(eth(0x0800, &x), 14 + 20 + 7), truncated);

    /* UDP length shorter than the IP payload: the UDP length wins */
    ni_packet pk;
    ni_stats st = { 0 };
    u = udp(1, 2, "abcdef", 8 + 3);
    x = ip4(17, &u, 5, -1, 0);
    fb f = eth(0x0800, &x);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.payload_len, 3);
    CHECK_INT(pk.payload_wire_len, 3);
}

TEST(fragments)
{
    ni_packet pk;
    ni_stats st = { 0 };
    /* first fragment: UDP length covers the whole datagram */
    fb u = udp(4000, 53, "first-part", 1400);
    fb i = ip4(17, &u, 5, -1, 0x2000);
    fb f = eth(0x0800, &i);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.sport, 4000);
    CHECK_INT(pk.payload_len, 10);
    CHECK_INT(st.fragments, 0);
    /* later fragments are counted, not decoded */
    fb raw = { .n = 16 };
    memset(raw.b, 0xab, 16);
    i = ip4(17, &raw, 5, -1, 0x2000 | 185);
    EXPECT_SKIP(1, eth(0x0800, &i), fragments);
    i = ip4(17, &raw, 5, -1, 185);
    EXPECT_SKIP(1, eth(0x0800, &i), fragments);

    /* IPv6 fragment header */
    fb e = { .n = 0 };
    frag6(&e, 17, 0, true);
    fb i6 = ip6(44, &e, &u, -1);
    f = eth(0x86dd, &i6);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.proto, 17);
    CHECK_INT(pk.dport, 53);
    e.n = 0;
    frag6(&e, 17, 100, false);
    i6 = ip6(44, &e, &raw, -1);
    EXPECT_SKIP(1, eth(0x86dd, &i6), fragments);
}

TEST(ipv6_extensions_and_protocols)
{
    ni_packet pk;
    ni_stats st = { 0 };
    fb t = tcp(443, 50000, 7, 8, NI_TCP_FIN | NI_TCP_ACK, 5, "bye");
    fb e = { .n = 0 };
    ext8(&e, 60);                        /* hop-by-hop -> destination options */
    add8(&e, 43); add8(&e, 1); add16(&e, 0); add32(&e, 0); add32(&e, 0); add32(&e, 0); /* 16-byte dst opts -> routing */
    ext8(&e, 6);                         /* routing -> TCP */
    fb i6 = ip6(0, &e, &t, -1);
    fb f = eth(0x86dd, &i6);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.proto, 6);
    CHECK_INT(pk.sport, 443);
    CHECK_INT(pk.tcp_flags, NI_TCP_FIN | NI_TCP_ACK);
    CHECK_INT(pk.payload_len, 3);
    CHECK_INT(pk.ip_len, 40 + 32 + 23);
    CHECK(pk.payload == f.b + 14 + 40 + 32 + 20);

    /* the bound on extension headers */
    e.n = 0;
    for (unsigned k = 0; k < NI_DECODE_IPV6_EXT_MAX; k++) ext8(&e, k + 1 < NI_DECODE_IPV6_EXT_MAX ? 60 : 6);
    i6 = ip6(60, &e, &t, -1);
    f = eth(0x86dd, &i6);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    e.n = 0;
    for (unsigned k = 0; k <= NI_DECODE_IPV6_EXT_MAX; k++) ext8(&e, k < NI_DECODE_IPV6_EXT_MAX ? 60 : 6);
    i6 = ip6(60, &e, &t, -1);
    EXPECT_SKIP(1, eth(0x86dd, &i6), malformed);

    /* extension header longer than the payload; cut in an extension header */
    e.n = 0;
    add8(&e, 6); add8(&e, 200); add16(&e, 0); add32(&e, 0);
    i6 = ip6(0, &e, &t, -1);
    EXPECT_SKIP(1, eth(0x86dd, &i6), malformed);
    e.n = 0;
    ext8(&e, 6);
    i6 = ip6(60, &e, &t, -1);
    EXPECT_SKIP(1, cut(eth(0x86dd, &i6), 14 + 44), truncated);
    EXPECT_SKIP(1, cut(eth(0x86dd, &i6), 14 + 39), truncated);
    fb x = i6;
    x.b[0] = 0x45;
    EXPECT_SKIP(1, eth(0x86dd, &x), malformed);

    /* ESP, AH, GRE, no next header: the protocol, no ports */
    fb opaque = { .n = 24 };
    memset(opaque.b, 0x77, 24);
    unsigned protos[] = { 50, 51, 47, 59, 132 };
    for (int k = 0; k < 5; k++) {
        i6 = ip6(protos[k], NULL, &opaque, -1);
        f = eth(0x86dd, &i6);
        CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
        CHECK_INT(pk.proto, protos[k]);
        CHECK_INT(pk.sport, 0);
        CHECK_INT(pk.dport, 0);
        CHECK_INT(pk.payload_len, 24);
        fb v4 = ip4(protos[k], &opaque, 5, -1, 0);
        f = eth(0x0800, &v4);
        CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
        CHECK_INT(pk.proto, protos[k]);
        CHECK_INT(pk.sport + pk.dport, 0);
    }

    /* ICMP and ICMPv6 type/code */
    fb ic = icmp(8, 0);
    fb i4 = ip4(1, &ic, 5, -1, 0);
    f = eth(0x0800, &i4);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.proto, 1);
    CHECK_INT(pk.icmp_type, 8);
    CHECK_INT(pk.icmp_code, 0);
    ic = icmp(1, 4);                     /* destination unreachable, port */
    e.n = 0;
    ext8(&e, 58);
    i6 = ip6(0, &e, &ic, -1);
    f = eth(0x86dd, &i6);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.proto, 58);
    CHECK_INT(pk.icmp_type, 1);
    CHECK_INT(pk.icmp_code, 4);
    EXPECT_SKIP(1, cut(eth(0x86dd, &i6), 14 + 48 + 3), truncated);

    /* IPv6 UDP jumbo-style length 0 and payload length 0 */
    fb u = udp(9, 10, "j", 0);
    i6 = ip6(17, NULL, &u, 0);
    f = eth(0x86dd, &i6);
    CHECK_INT(dec(1, &f, &pk, &st), NI_DECODE_OK);
    CHECK_INT(pk.payload_len, 1);
}

/* Every prefix of every frame built here: no overread (ASan), exactly one
 * counter per call, and never OK for a frame cut inside its headers. */
TEST(every_prefix)
{
    fb t = tcp(1, 2, 3, 4, NI_TCP_SYN, 7, "payload");
    fb u = udp(5, 6, "data", -1);
    fb i = ip4(6, &t, 6, -1, 0), iu = ip4(17, &u, 5, -1, 0);
    fb e = { .n = 0 };
    ext8(&e, 44); frag6(&e, 6, 0, false);
    fb i6 = ip6(0, &e, &t, -1);
    unsigned t2[] = { 0x88a8, 0x8100 }, v2[] = { 1, 2 };
    static const uint8_t af[] = { 2, 0, 0, 0 };
    struct { int lt; fb f; size_t hdr; } frames[] = {
        { 1, eth(0x0800, &i), 14 + 24 + 28 },
        { 1, eth_tags(t2, v2, 2, 0x86dd, &i6), 22 + 40 + 16 + 28 },
        { 0, prefix(af, 4, &iu), 4 + 28 },
        { 101, i6, 40 + 16 + 28 },
    };
    for (size_t k = 0; k < sizeof frames / sizeof frames[0]; k++) {
        ni_stats st = { 0 };
        for (size_t n = 0; n <= frames[k].f.n; n++) {
            ni_packet pk;
            fb c = cut(frames[k].f, n);
            ni_decode_result r = dec(frames[k].lt, &c, &pk, &st);
            if (n < frames[k].hdr) CHECK_INT(r, NI_DECODE_SKIP);
            else CHECK_INT(r, NI_DECODE_OK);
        }
        CHECK_INT(st.truncated, frames[k].hdr);
        CHECK_INT(st.ip_packets, frames[k].f.n + 1 - frames[k].hdr);
    }
}

/* ---- the corpus against tshark ------------------------------------------ */

typedef struct corpus_tally {
    long frames, ip, non_ip, fragments, mismatches, compared_ports;
} corpus_tally;

/* i-th comma-separated value of a tshark field, or "" */
static void first_value(const char *field, char *out, size_t n)
{
    size_t k = 0;
    while (field[k] && field[k] != ',' && k + 1 < n) { out[k] = field[k]; k++; }
    out[k] = 0;
}

static int proto_number(const char *tok)
{
    static const struct { const char *n; int v; } t[] = {
        { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "igmp", 2 },
        { "esp", 50 }, { "ah", 51 }, { "gre", 47 }, { "sctp", 132 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (strcmp(tok, t[i].n) == 0) return t[i].v;
    return -1;
}

#define NFIELDS 17

static void corpus_file(const char *path, corpus_tally *ct)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "tshark -r '%s' -T fields -E separator='|' -e frame.protocols -e ip.src -e ip.dst "
             "-e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport "
             "-e tcp.len -e udp.length -e vlan.id -e ip.len -e ipv6.plen -e tcp.flags "
             "-e ip.frag_offset -e ipv6.fraghdr.offset 2>/dev/null", path);
    FILE *ts = popen(cmd, "r");
    ni_error err;
    ni_source *src = ni_source_open(path, &err);
    CHECK(ts && src);
    if (!ts || !src) { if (ts) pclose(ts); if (src) ni_source_close(src); return; }
    char line[8192];
    ni_frame fr;
    ni_stats st = { 0 };
    long frame = 0;
    while (fgets(line, sizeof line, ts)) {
        frame++;
        int r = ni_source_next(src, &fr, &err);
        CHECK_INT(r, 1);
        if (r != 1) break;
        ct->frames++;
        line[strcspn(line, "\n")] = 0;
        char *fld[NFIELDS] = { 0 };
        int nf = 0;
        for (char *p = line; nf < NFIELDS; ) {
            fld[nf++] = p;
            char *bar = strchr(p, '|');
            if (!bar) break;
            *bar = 0;
            p = bar + 1;
        }
        for (int k = nf; k < NFIELDS; k++) fld[k] = "";
        /* first network-layer token */
        char protos[1024];
        snprintf(protos, sizeof protos, "%s", fld[0]);
        static const char *const linkish[] = { "eth", "ethertype", "vlan", "null", "sll", "pppoes",
                                               "ppp", "mpls", "loop", "raw" };
        char *save = NULL, *tok = strtok_r(protos, ":", &save), *net = NULL, *l4 = NULL;
        for (; tok; tok = strtok_r(NULL, ":", &save)) {
            bool skip = false;
            for (size_t k = 0; k < sizeof linkish / sizeof *linkish; k++) if (!strcmp(tok, linkish[k])) skip = true;
            if (!skip) { net = tok; break; }
        }
        if (net && (!strcmp(net, "ip") || !strcmp(net, "ipv6")))
            for (tok = strtok_r(NULL, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
                if (strncmp(tok, "ipv6.", 5) != 0) { l4 = tok; break; }
        bool is_ip = net && (!strcmp(net, "ip") || !strcmp(net, "ipv6"));
        ni_packet pk;
        ni_decode_result dr = ni_decode_frame(fr.linktype, fr.data, fr.caplen, fr.ts_us, &pk, &st);
        bool bad = false;
        char fo[16];
        first_value(fld[net && !strcmp(net, "ipv6") ? 16 : 15], fo, sizeof fo);
        if (!is_ip) {
            ct->non_ip++;
            bad = dr != NI_DECODE_SKIP;
        } else if (strtol(fo, NULL, 10) > 0) {  /* non-first fragment */
            ct->fragments++;
            uint64_t before = st.fragments;
            bad = dr != NI_DECODE_SKIP;
            ni_decode_frame(fr.linktype, fr.data, fr.caplen, fr.ts_us, &pk, &st);
            bad = bad || st.fragments != before + 1;
        } else {
            ct->ip++;
            bool v6 = !strcmp(net, "ipv6");
            char want_src[64], want_dst[64], got[NI_ADDR_STRLEN], got2[NI_ADDR_STRLEN], v[64];
            first_value(fld[v6 ? 3 : 1], want_src, sizeof want_src);
            first_value(fld[v6 ? 4 : 2], want_dst, sizeof want_dst);
            if (dr != NI_DECODE_OK) bad = true;
            else {
                ni_addr_format(&pk.src, got);
                ni_addr_format(&pk.dst, got2);
                if (strcmp(got, want_src) || strcmp(got2, want_dst)) bad = true;
                first_value(fld[v6 ? 13 : 12], v, sizeof v);
                if ((long)pk.ip_len != strtol(v, NULL, 10) + (v6 ? 40 : 0)) bad = true;
                first_value(fld[11], v, sizeof v);
                if ((long)pk.vlan != (v[0] ? strtol(v, NULL, 10) : 0)) bad = true;
                int pn = l4 ? proto_number(l4) : -1;
                if (pn >= 0 && pk.proto != pn) bad = true;
                if (pn == 6 || pn == 17) {
                    char sp[16], dp[16];
                    first_value(fld[pn == 6 ? 5 : 7], sp, sizeof sp);
                    first_value(fld[pn == 6 ? 6 : 8], dp, sizeof dp);
                    if (pk.sport != strtol(sp, NULL, 10) || pk.dport != strtol(dp, NULL, 10)) bad = true;
                    first_value(fld[pn == 6 ? 9 : 10], v, sizeof v);
                    long want_len = strtol(v, NULL, 10) - (pn == 17 ? 8 : 0);
                    if ((long)pk.payload_wire_len != want_len) bad = true;
                    if (pn == 6) {
                        first_value(fld[14], v, sizeof v);
                        if (pk.tcp_flags != (strtol(v, NULL, 16) & 0xff)) bad = true;
                    }
                    ct->compared_ports++;
                }
            }
        }
        if (bad) {
            ct->mismatches++;
            if (ct->mismatches <= 10)
                fprintf(stderr, "  mismatch %s frame %ld: tshark \"%s\" decode=%d\n", path, frame, fld[0], dr);
        }
    }
    CHECK_INT(ni_source_next(src, &fr, &err), 0);   /* same number of frames */
    pclose(ts);
    ni_source_close(src);
}

TEST(corpus_against_tshark)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  tshark not installed: corpus comparison not run\n");
        return;
    }
    const char *dirs[] = { "tests/corpus/ndpi/pcap", "tests/corpus/zeek/traces",
                           "tests/corpus/zeek/traces/http", "tests/corpus/zeek/traces/tls",
                           "tests/corpus/zeek/traces/quic" };
    corpus_tally ct = { 0 };
    int files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) continue;
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t l = strlen(de->d_name);
            if (!(l > 5 && (!strcmp(de->d_name + l - 5, ".pcap") || !strcmp(de->d_name + l - 7, ".pcapng"))))
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            corpus_file(path, &ct);
            files++;
        }
        closedir(dir);
    }
    fprintf(stderr, "  corpus: %d files, %ld frames, %ld IP (%ld with ports compared, %ld non-first fragments), "
            "%ld non-IP, %ld mismatches\n",
            files, ct.frames, ct.ip, ct.compared_ports, ct.fragments, ct.non_ip, ct.mismatches);
    CHECK(files >= 60);
    CHECK(ct.frames > 20000);
    CHECK(ct.non_ip > 0);
    CHECK(ct.fragments > 0);
    CHECK_INT(ct.mismatches, 0);
}

/* The Ethernet/IPv4/TCP-UDP fast path against the general path: the same
 * L3 bytes behind an Ethernet header (fast path when clean) and behind a
 * Linux cooked header (always the general path) must give the same verdict
 * and fields.  Frames are valid TCP/UDP packets with one to three random
 * bytes of their first 64 overwritten (lengths, IHL, data offset, flags,
 * fragment bits, ports) and random snap cuts, with and without a VLAN tag. */
static bool same_packet(const ni_packet *a, const ni_packet *b, const uint8_t *la, const uint8_t *lb)
{
    if (a->ts_us != b->ts_us || memcmp(&a->src, &b->src, sizeof a->src) || memcmp(&a->dst, &b->dst, sizeof a->dst) ||
        a->proto != b->proto || a->sport != b->sport || a->dport != b->dport || a->tcp_flags != b->tcp_flags ||
        a->seq != b->seq || a->ack != b->ack || a->payload_len != b->payload_len ||
        a->payload_wire_len != b->payload_wire_len || a->ip_len != b->ip_len || a->vlan != b->vlan ||
        a->icmp_type != b->icmp_type || a->icmp_code != b->icmp_code || a->l3_caplen != b->l3_caplen)
        return false;
    if ((a->l3 ? a->l3 - la : -1) != (b->l3 ? b->l3 - lb : -1)) return false;
    return (a->payload ? a->payload - la : -1) == (b->payload ? b->payload - lb : -1);
}

TEST(fast_path_matches_general_path)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    int fast_ok = 0, mismatches = 0;
    for (int round = 0; round < 60000; round++) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        uint64_t r = rng;
        fb l4 = (r & 1) ? tcp(40000 + (r >> 8 & 7), 443, 1000, 2000, 0x18, 5 + (unsigned)(r >> 12 & 3), "hello world")
                        : udp(5353, 53, "query bytes", -1);
        fb l3 = ip4((r & 1) ? 6 : 17, &l4, 5 + (unsigned)(r >> 16 & 1), -1, (r >> 20 & 7) == 0 ? 0x2000 : 0);
        int muts = (int)(r >> 24 & 3);
        for (int m = 0; m < muts; m++) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            size_t at = (size_t)(rng % (l3.n < 64 ? l3.n : 64));
            l3.b[at] = (uint8_t)(rng >> 32);
        }
        bool vlan = (r >> 28 & 3) == 0;
        fb eth = { .n = 0 }, sll = { .n = 0 };
        for (int i = 0; i < 12; i++) add8(&eth, (unsigned)i);
        add16(&sll, 0); add16(&sll, 1); add16(&sll, 6); for (int i = 0; i < 8; i++) add8(&sll, (unsigned)i);
        if (vlan) { add16(&eth, 0x8100); add16(&eth, 0x2123); add16(&sll, 0x8100); add16(&sll, 0x2123); add16(&sll, 0x0800); }
        else add16(&sll, 0x0800);
        add16(&eth, 0x0800);
        size_t eh = eth.n, sh = sll.n;
        add(&eth, l3.b, l3.n);
        add(&sll, l3.b, l3.n);
        size_t cut = (r >> 32 & 3) == 0 ? (size_t)(r >> 40) % (l3.n + 1) : l3.n;
        ni_packet a, b;
        ni_stats sa = { 0 }, sb = { 0 };
        ni_decode_result ra = ni_decode_frame(1, eth.b, (uint32_t)(eh + cut), 7, &a, &sa);
        ni_decode_result rb = ni_decode_frame(113, sll.b, (uint32_t)(sh + cut), 7, &b, &sb);
        bool same = ra == rb && sa.ip_packets == sb.ip_packets && sa.malformed == sb.malformed &&
                    sa.truncated == sb.truncated && sa.fragments == sb.fragments && sa.non_ip == sb.non_ip &&
                    sa.unsupported == sb.unsupported;
        if (same && ra == NI_DECODE_OK) same = same_packet(&a, &b, eth.b + eh, sll.b + sh);
        if (!same && mismatches++ < 3) fprintf(stderr, "mismatch round %d: ra %d rb %d ip %llu/%llu mal %llu/%llu tr %llu/%llu fr %llu/%llu vlan %d cut %zu/%zu pl %u/%u\n", round, ra, rb, (unsigned long long)sa.ip_packets, (unsigned long long)sb.ip_packets, (unsigned long long)sa.malformed, (unsigned long long)sb.malformed, (unsigned long long)sa.truncated, (unsigned long long)sb.truncated, (unsigned long long)sa.fragments, (unsigned long long)sb.fragments, vlan, cut, l3.n, a.payload_len, b.payload_len);
        if (ra == NI_DECODE_OK) fast_ok++;
    }
    CHECK_INT(mismatches, 0);
    CHECK(fast_ok > 10000);
}

RUN(T(ethernet_ipv4_tcp), T(ipv4_options_padding_snaplen), T(vlan_qinq_pppoe_mpls),
    T(non_ip_and_unsupported), T(loopback_raw_cooked), T(ipv4_malformed_truncated),
    T(fragments), T(ipv6_extensions_and_protocols), T(every_prefix), T(corpus_against_tshark),
    T(fast_path_matches_general_path))
