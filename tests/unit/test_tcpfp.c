/* test_tcpfp.c — the SYN fingerprint (lib/dissect/ni_tcpfp): hand-built
 * IPv4/IPv6 SYNs, each with the signature p0f 3 writes for it (raw_sig
 * syntax: observed TTL + guessed distance, window as mss*N / mtu*N, option
 * layout, quirks, payload class), malformed options as the quirk `bad`, and
 * the packets that are not fingerprinted at all. */
#include "ni_test.h"
#include "dissect/ni_tcpfp.h"

/* A SYN: IPv4 or IPv6 header, TCP header with the options given (padded to
 * 4 bytes with `pad` bytes), payload bytes.  Returns the length. */
typedef struct syn_spec {
    int v6;
    uint8_t ttl, tos;
    int df;
    uint16_t id;
    uint32_t flow;
    uint8_t flags;                  /* TCP flags; 0x02 when 0 */
    uint8_t ns;                     /* the NS bit of the data offset byte */
    uint32_t seq, ack;
    uint16_t win, urg;
    const char *opts;               /* option bytes as a string with \x escapes */
    size_t optlen;
    size_t payload;
    uint16_t frag;                  /* IPv4 MF / offset bits */
    uint8_t next;                   /* IPv6 next header (6 when 0) */
} syn_spec;

static size_t build(const syn_spec *s, uint8_t *b)
{
    size_t hl = s->v6 ? 40 : 20, ol = (s->optlen + 3) & ~(size_t)3, tl = 20 + ol;
    size_t total = hl + tl + s->payload;
    memset(b, 0, total);
    if (s->v6) {
        uint32_t w = 0x60000000u | ((uint32_t)s->tos << 20) | (s->flow & 0xfffff);
        b[0] = (uint8_t)(w >> 24); b[1] = (uint8_t)(w >> 16); b[2] = (uint8_t)(w >> 8); b[3] = (uint8_t)w;
        b[4] = (uint8_t)((total - 40) >> 8); b[5] = (uint8_t)(total - 40);
        b[6] = s->next ? s->next : 6; b[7] = s->ttl;
    } else {
        b[0] = 0x45; b[1] = s->tos;
        b[2] = (uint8_t)(total >> 8); b[3] = (uint8_t)total;
        b[4] = (uint8_t)(s->id >> 8); b[5] = (uint8_t)s->id;
        uint16_t f = (uint16_t)((s->df ? 0x4000 : 0) | s->frag);
        b[6] = (uint8_t)(f >> 8); b[7] = (uint8_t)f;
        b[8] = s->ttl; b[9] = 6;
    }
    uint8_t *t = b + hl;
    t[0] = 0xc0; t[1] = 0x01; t[2] = 0x01; t[3] = 0xbb;
    t[4] = (uint8_t)(s->seq >> 24); t[5] = (uint8_t)(s->seq >> 16); t[6] = (uint8_t)(s->seq >> 8); t[7] = (uint8_t)s->seq;
    t[8] = (uint8_t)(s->ack >> 24); t[9] = (uint8_t)(s->ack >> 16); t[10] = (uint8_t)(s->ack >> 8); t[11] = (uint8_t)s->ack;
    t[12] = (uint8_t)(((tl / 4) << 4) | s->ns);
    t[13] = s->flags ? s->flags : 0x02;
    t[14] = (uint8_t)(s->win >> 8); t[15] = (uint8_t)s->win;
    t[18] = (uint8_t)(s->urg >> 8); t[19] = (uint8_t)s->urg;
    if (s->optlen) memcpy(t + 20, s->opts, s->optlen);
    return total;
}

#define LINUX_OPTS "\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x01\x02\x03\x00\x00\x00\x00\x01\x03\x03\x07", 20
#define WIN_OPTS "\x02\x04\x05\xb4\x01\x03\x03\x08\x01\x01\x04\x02", 12

TEST(signatures)
{
    static const struct { const char *what; syn_spec s; const char *want; } t[] = {
        { "Linux", { .ttl = 57, .df = 1, .id = 7, .seq = 1, .win = 64240, .opts = LINUX_OPTS },
          "4:57+7:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0" },
        { "Windows", { .ttl = 128, .df = 1, .id = 9, .seq = 1, .win = 8192, .opts = WIN_OPTS },
          "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0" },
        { "IPv6 with a flow label", { .v6 = 1, .ttl = 64, .flow = 0x12345, .seq = 1, .win = 28800,
          .opts = "\x02\x04\x05\xa0\x04\x02\x08\x0a\x00\x01\x02\x03\x00\x00\x00\x00\x01\x03\x03\x07", .optlen = 20 },
          "6:64+0:0:1440:mss*20,7:mss,sok,ts,nop,ws:flow:0" },
        { "MTU multiple, far, no DF, zero ID", { .ttl = 20, .seq = 1, .win = 3000, .opts = "\x02\x04\x05\xb4", .optlen = 4 },
          "4:20+12:0:1460:mtu*2,0:mss:id-:0" },
        { "distance beyond 35 hops", { .ttl = 200, .df = 1, .id = 1, .seq = 1, .win = 65535, .opts = "\x02\x04\x05\xb4", .optlen = 4 },
          "4:200+?:0:1460:65535,0:mss:df,id+:0" },
        { "ECN, PUSH, URG, ack, seq 0, payload", { .ttl = 64, .tos = 0x02, .df = 1, .flags = 0x02 | 0x08 | 0x20 | 0x40 | 0x80,
          .ack = 5, .urg = 1, .win = 512, .payload = 3 },
          "4:64+0:0:0:512,0::df,ecn,seq-,ack+,urgf+,pushf+:+" },
        { "urgent pointer without URG, NS bit", { .ttl = 64, .ns = 1, .seq = 9, .id = 1, .win = 1024, .urg = 7 },
          "4:64+0:0:0:1024,0::ecn,uptr+:0" },
        { "timestamps: own zero, peer set; window scale 15", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x08\x0a\x00\x00\x00\x00\x00\x00\x00\x05\x03\x03\x0f", .optlen = 13 },
          "4:64+0:0:0:100,15:ts,ws,eol+2:df,ts1-,ts2+,exws:0" },
        { "EOL with non-zero padding", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x02\x04\x05\xb4\x00\x00\x07\x00", .optlen = 8 },
          "4:64+0:0:1460:100,0:mss,eol+3:df,opt+:0" },
        { "EOL with its last byte non-zero (p0f does not flag it)", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x02\x04\x05\xb4\x00\x00\x00\x07", .optlen = 8 },
          "4:64+0:0:1460:100,0:mss,eol+3:df:0" },
        { "unknown option and SACK", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x1e\x04\xaa\xbb\x05\x0a\x00\x00\x00\x01\x00\x00\x00\x02", .optlen = 14 },
          "4:64+0:0:0:100,0:?30,sack,eol+1:df:0" },
        { "MSS option with a wrong length", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x02\x05\x05\xb4", .optlen = 4 },
          "4:64+0:0:1460:100,0:mss:df,bad:0" },
        { "an option running past the header", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x01\x01\x08\x0a", .optlen = 4 },
          "4:64+0:0:0:100,0:nop,nop,ts:df,bad:0" },
        { "an option length of 1", { .ttl = 64, .df = 1, .seq = 1, .win = 100,
          .opts = "\x1f\x01\x00\x00", .optlen = 4 },
          "4:64+0:0:0:100,0:?31:df,bad:0" },
        { "the reserved IP flag", { .ttl = 64, .df = 1, .id = 3, .seq = 1, .win = 100, .frag = 0x8000 },
          "4:64+0:0:0:100,0::df,id+,0+:0" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[256];
        size_t n = build(&t[i].s, b);
        ni_tcpfp_syn syn;
        char sig[NI_TCPFP_STRLEN];
        ni_t_current = t[i].what;
        CHECK(ni_tcpfp_parse(b, n, n, &syn));
        ni_tcpfp_format(&syn, sig, sizeof sig);
        CHECK_STR(sig, t[i].want);
        CHECK_INT(syn.win, t[i].s.win);
    }
    ni_t_current = "signatures";
}

TEST(not_fingerprinted)
{
    static const struct { const char *what; syn_spec s; } t[] = {
        { "SYN+ACK", { .ttl = 64, .flags = 0x12, .seq = 1, .win = 100 } },
        { "SYN+RST", { .ttl = 64, .flags = 0x06, .seq = 1, .win = 100 } },
        { "plain ACK", { .ttl = 64, .flags = 0x10, .seq = 1, .win = 100 } },
        { "a fragment", { .ttl = 64, .frag = 0x2000, .seq = 1, .win = 100 } },
        { "IPv6 with an extension header", { .v6 = 1, .ttl = 64, .next = 0, .seq = 1, .win = 100 } },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[256];
        syn_spec s = t[i].s;
        size_t n = build(&s, b);
        if (!strcmp(t[i].what, "IPv6 with an extension header")) b[6] = 0;
        ni_tcpfp_syn syn;
        ni_t_current = t[i].what;
        CHECK(!ni_tcpfp_parse(b, n, n, &syn));
    }
    ni_t_current = "not_fingerprinted";
    /* every cut of a good SYN: never an overread, and a header cut inside
     * the options still gives a fingerprint with `bad` */
    syn_spec s = { .ttl = 64, .df = 1, .seq = 1, .win = 64240, .opts = LINUX_OPTS };
    uint8_t b[256];
    size_t n = build(&s, b);
    for (size_t cut = 0; cut < n; cut++) {
        ni_tcpfp_syn syn;
        bool ok = ni_tcpfp_parse(b, cut, n, &syn);
        CHECK(ok == (cut >= 40));
        if (ok) CHECK((syn.quirks & NI_TCPQ_OPT_BAD) != 0);
    }
    CHECK(!ni_tcpfp_parse(NULL, 0, 0, &(ni_tcpfp_syn){0}));
    /* a TCP header longer than the IP length says */
    ni_tcpfp_syn syn;
    CHECK(!ni_tcpfp_parse(b, n, 50, &syn));
}

RUN(T(signatures), T(not_fingerprinted))
