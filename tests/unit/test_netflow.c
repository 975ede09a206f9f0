/* test_netflow.c — the flow-export decoder (lib/ingest/ni_netflow) on
 * datagrams built here byte by byte: NetFlow v5, v9 (RFC 3954) and IPFIX
 * (RFC 7011): times of every kind, templates (refresh, redefinition,
 * withdrawal, expiry, floods), options data (sampling, system init time),
 * variable-length and enterprise fields, biflows (RFC 5103), pairing and its
 * window, sequence gaps, and hostile lengths; plus the collector's socket
 * specifications (lib/ingest/ni_collect). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ni_test.h"
#include "core/ni_limits.h"
#include "ingest/ni_collect.h"
#include "ingest/ni_netflow.h"

/* ---- building datagrams ------------------------------------------------- */
typedef struct bb { uint8_t b[65536]; size_t n; } bb;
static void u8(bb *x, unsigned v) { x->b[x->n++] = (uint8_t)v; }
static void u16(bb *x, unsigned v) { u8(x, v >> 8); u8(x, v); }
static void u32(bb *x, uint32_t v) { u16(x, v >> 16); u16(x, v & 0xffff); }
static void u64(bb *x, uint64_t v) { u32(x, (uint32_t)(v >> 32)); u32(x, (uint32_t)v); }
static void ip4(bb *x, unsigned a, unsigned b, unsigned c, unsigned d) { u8(x, a); u8(x, b); u8(x, c); u8(x, d); }
static void put16(bb *x, size_t off, unsigned v) { x->b[off] = (uint8_t)(v >> 8); x->b[off + 1] = (uint8_t)v; }

static void ipfix_begin(bb *x, uint32_t secs, uint32_t seq, uint32_t odid)
{
    x->n = 0;
    u16(x, 10); u16(x, 0); u32(x, secs); u32(x, seq); u32(x, odid);
}
static void ipfix_end(bb *x) { put16(x, 2, (unsigned)x->n); }
static void v9_begin(bb *x, uint32_t uptime, uint32_t secs, uint32_t seq, uint32_t id)
{
    x->n = 0;
    u16(x, 9); u16(x, 1); u32(x, uptime); u32(x, secs); u32(x, seq); u32(x, id);
}
static size_t set_begin(bb *x, unsigned id) { size_t o = x->n; u16(x, id); u16(x, 0); return o; }
static void set_end(bb *x, size_t o) { put16(x, o + 2, (unsigned)(x->n - o)); }

/* ---- collecting sessions ---------------------------------------------------- */
#define MAXS 4096
typedef struct got { ni_session s[MAXS]; size_t n; } got;
static got G;
static ni_err sink(void *ud, ni_session *s, ni_error *err)
{
    (void)ud; (void)err;
    if (G.n < MAXS) { G.s[G.n] = *s; G.s[G.n].arena = NULL; G.n++; }
    return NI_OK;
}

static ni_addr EX = { 4, { 192, 0, 2, 1 } };
static const int64_t NOW = 1700000000ll * 1000000;

static ni_netflow *fresh(const ni_netflow_config *cfg)
{
    G.n = 0;
    ni_netflow *nf = ni_netflow_new(cfg, NULL);
    ni_netflow_set_sink(nf, sink, NULL);
    return nf;
}
static void feed(ni_netflow *nf, const bb *x, int64_t now) { ni_netflow_datagram(nf, &EX, x->b, x->n, now, NULL); }

static const char *addr(const ni_addr *a)
{
    static char buf[4][NI_ADDR_STRLEN];
    static int k;
    k = (k + 1) % 4;
    return ni_addr_format(a, buf[k]);
}

/* ---- NetFlow v5 ---------------------------------------------------------------- */
static void v5_record(bb *x, const uint8_t s[4], const uint8_t d[4], uint16_t sp, uint16_t dp, uint32_t pk,
                      uint32_t by, uint32_t first, uint32_t last, uint8_t flags, uint8_t proto)
{
    ip4(x, s[0], s[1], s[2], s[3]); ip4(x, d[0], d[1], d[2], d[3]); u32(x, 0); u16(x, 1); u16(x, 2);
    u32(x, pk); u32(x, by); u32(x, first); u32(x, last); u16(x, sp); u16(x, dp);
    u8(x, 0); u8(x, flags); u8(x, proto); u8(x, 0); u16(x, 0); u16(x, 0); u8(x, 24); u8(x, 24); u16(x, 0);
}
static void v5_header(bb *x, unsigned count, uint32_t uptime, uint32_t secs, uint32_t nsecs, uint32_t seq,
                      unsigned sampling)
{
    x->n = 0;
    u16(x, 5); u16(x, count); u32(x, uptime); u32(x, secs); u32(x, nsecs); u32(x, seq);
    u8(x, 0); u8(x, 0); u16(x, sampling);
}

static const uint8_t C4[4] = { 10, 0, 0, 1 }, S4[4] = { 198, 51, 100, 7 };

TEST(v5_pair_times_client)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    /* export at 1700000000.5, uptime 100000 ms: the server's reply listed first */
    v5_header(&x, 2, 100000, 1700000000, 500000000, 0, 0);
    v5_record(&x, S4, C4, 443, 50000, 12, 7408, 90010, 95000, 0x1b, 6);
    v5_record(&x, C4, S4, 50000, 443, 16, 1288, 90000, 95100, 0x1b, 6);
    feed(nf, &x, NOW);
    CHECK_INT(G.n, 1);
    const ni_session *s = &G.s[0];
    CHECK_STR(addr(&s->client), "10.0.0.1");
    CHECK_INT(s->client_port, 50000);
    CHECK_STR(addr(&s->server), "198.51.100.7");
    CHECK_INT(s->c2s_packets, 16); CHECK_INT(s->c2s_bytes, 1288);
    CHECK_INT(s->s2c_packets, 12); CHECK_INT(s->s2c_bytes, 7408);
    /* first = export − (uptime − First): 1700000000.5 − 10 s */
    CHECK_INT(s->first_us, 1700000000500000ll - 10000000);
    CHECK_INT(s->last_us, 1700000000500000ll - 4900000);
    CHECK_STR(s->source, "netflow5");
    CHECK_INT(s->sampled, 0);
    CHECK_INT(s->end_reason, NI_END_FIN);
    CHECK(s->sni == NULL && s->http == NULL && s->dns_query == NULL);
    CHECK_INT(ni_netflow_stats_get(nf)->paired, 1);
    ni_netflow_free(nf);
}

TEST(v5_sequence_sampling_wrap)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    /* 1 in 10 packet sampling in the header (mode 01) */
    v5_header(&x, 1, 5000, 1700000000, 0, 100, 0x4000 | 10);
    /* the flow started before sysUptime wrapped: First is near 2^32 */
    v5_record(&x, C4, S4, 40000, 53, 1, 70, 4294966296u, 4294967000u, 0, 17);
    feed(nf, &x, NOW);
    v5_header(&x, 1, 6000, 1700000001, 0, 104, 0);          /* 3 records lost (101..103) */
    v5_record(&x, S4, C4, 53, 40001, 2, 200, 5500, 5600, 0, 17);
    feed(nf, &x, NOW);
    ni_netflow_finish(nf, NULL);
    const ni_netflow_stats *st = ni_netflow_stats_get(nf);
    CHECK_INT(st->lost_records, 3);
    ni_netflow_exporter ex[2];
    CHECK_INT(ni_netflow_exporters(nf, ex, 2), 1);
    CHECK_STR(addr(&ex[0].address), "192.0.2.1");
    CHECK_INT(ex[0].version, 5);
    CHECK_INT(ex[0].datagrams, 2);
    CHECK_INT(ex[0].records, 2);
    CHECK_INT(ex[0].lost, 3);
    CHECK_INT(G.n, 2);
    CHECK_INT(G.s[0].sampled, 10);
    CHECK_INT(G.s[0].c2s_packets, 10);
    CHECK_INT(G.s[0].c2s_bytes, 700);
    CHECK_INT(G.s[0].first_us, 1700000000ll * 1000000 - 6000 * 1000);  /* 5000 + 1000 ms before export */
    /* UDP from port 53 to an ephemeral port: the destination is the client */
    CHECK_STR(addr(&G.s[1].client), "10.0.0.1");
    CHECK_INT(G.s[1].server_port, 53);
    CHECK_INT(G.s[1].s2c_packets, 2);
    CHECK_INT(G.s[1].c2s_packets, 0);
    CHECK_INT(st->sampled, 1);
    ni_netflow_free(nf);
}

/* ---- NetFlow v9 --------------------------------------------------------------- */
static void v9_template(bb *x, unsigned id)
{
    size_t o = set_begin(x, 0);
    u16(x, id); u16(x, 9);
    u16(x, 8); u16(x, 4); u16(x, 12); u16(x, 4); u16(x, 7); u16(x, 2); u16(x, 11); u16(x, 2);
    u16(x, 4); u16(x, 1); u16(x, 2); u16(x, 4); u16(x, 1); u16(x, 8);     /* packets 4, bytes 8 */
    u16(x, 22); u16(x, 4); u16(x, 21); u16(x, 4);
    set_end(x, o);
}
static void v9_data(bb *x, unsigned id, const uint8_t s[4], const uint8_t d[4], uint16_t sp, uint16_t dp,
                    uint32_t pk, uint64_t by, uint32_t first, uint32_t last)
{
    size_t o = set_begin(x, id);
    ip4(x, s[0], s[1], s[2], s[3]); ip4(x, d[0], d[1], d[2], d[3]); u16(x, sp); u16(x, dp); u8(x, 17);
    u32(x, pk); u64(x, by); u32(x, first); u32(x, last);
    u8(x, 0); u8(x, 0); u8(x, 0);                                        /* padding */
    set_end(x, o);
}

TEST(v9_templates_options_sequence)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    /* data before its template: skipped and counted */
    v9_begin(&x, 60000, 1700000000, 1, 7);
    v9_data(&x, 300, C4, S4, 5000, 6000, 1, 100, 59000, 59000);
    feed(nf, &x, NOW);
    CHECK_INT(ni_netflow_stats_get(nf)->no_template, 1);
    /* template, options (SAMPLING_INTERVAL 100) and data in one datagram */
    v9_begin(&x, 60000, 1700000000, 2, 7);
    v9_template(&x, 300);
    size_t o = set_begin(&x, 1);
    u16(&x, 301); u16(&x, 4); u16(&x, 4);      /* scope: 1 field; options: 1 field */
    u16(&x, 1); u16(&x, 4); u16(&x, 34); u16(&x, 4);
    u16(&x, 0);                                 /* padding */
    set_end(&x, o);
    o = set_begin(&x, 301);
    u32(&x, 1); u32(&x, 100);
    set_end(&x, o);
    v9_data(&x, 300, C4, S4, 5000, 6000, 3, 300, 59000, 59500);
    feed(nf, &x, NOW);
    /* a gap of 2 export datagrams (3, 4) */
    v9_begin(&x, 61000, 1700000001, 5, 7);
    v9_data(&x, 300, S4, C4, 6000, 5000, 2, 150, 59100, 59600);
    feed(nf, &x, NOW + 1000000);
    const ni_netflow_stats *st = ni_netflow_stats_get(nf);
    CHECK_INT(st->lost_datagrams, 2);
    CHECK_INT(st->options_records, 1);
    CHECK_INT(G.n, 1);
    CHECK_STR(G.s[0].source, "netflow9");
    CHECK_INT(G.s[0].sampled, 100);
    CHECK_INT(G.s[0].c2s_packets, 300);
    CHECK_INT(G.s[0].s2c_bytes, 15000);
    CHECK_INT(G.s[0].first_us, 1700000000ll * 1000000 - 1000 * 1000);
    CHECK_INT(G.s[0].last_us, 1700000001ll * 1000000 - 1400 * 1000);
    CHECK_INT(ni_netflow_template_count(nf), 2);
    ni_netflow_free(nf);
}

/* ---- IPFIX -------------------------------------------------------------------- */
typedef struct timecase {
    const char *name;
    uint16_t start_ie, end_ie, len;
    uint64_t start_v, end_v;
    int64_t want_first, want_last;      /* µs */
} timecase;

#define T0 1700000000ll
#define NTP(s, frac) ((((uint64_t)(s) + 2208988800ull) << 32) | (frac))

TEST(ipfix_times)
{
    static const timecase cases[] = {
        { "seconds", 150, 151, 4, T0 - 5, T0 - 2, (T0 - 5) * 1000000, (T0 - 2) * 1000000 },
        { "milliseconds", 152, 153, 8, (T0 - 5) * 1000 + 250, (T0 - 2) * 1000 + 999,
          (T0 - 5) * 1000000 + 250000, (T0 - 2) * 1000000 + 999000 },
        { "microseconds", 154, 155, 8, NTP(T0 - 5, 0x80000000u), NTP(T0 - 2, 0x40000000u),
          (T0 - 5) * 1000000 + 500000, (T0 - 2) * 1000000 + 250000 },
        { "nanoseconds", 156, 157, 8, NTP(T0 - 5, 0x20000000u), NTP(T0 - 2, 0),
          (T0 - 5) * 1000000 + 125000, (T0 - 2) * 1000000 },
        { "deltas", 158, 159, 4, 5000000, 1500000, (T0 - 5) * 1000000, T0 * 1000000 - 1500000 },
        { "sysuptime", 22, 21, 4, 1000, 4000, (T0 - 100) * 1000000 + 1000000, (T0 - 100) * 1000000 + 4000000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const timecase *c = &cases[i];
        ni_netflow *nf = fresh(NULL);
        bb x;
        ipfix_begin(&x, (uint32_t)T0, 0, 1);
        size_t o = set_begin(&x, 3);               /* options: systemInitTimeMilliseconds */
        u16(&x, 400); u16(&x, 2); u16(&x, 1);
        u16(&x, 144); u16(&x, 4); u16(&x, 160); u16(&x, 8);
        set_end(&x, o);
        o = set_begin(&x, 2);
        u16(&x, 500); u16(&x, 6);
        u16(&x, 8); u16(&x, 4); u16(&x, 12); u16(&x, 4); u16(&x, 4); u16(&x, 1); u16(&x, 2); u16(&x, 4);
        u16(&x, c->start_ie); u16(&x, c->len); u16(&x, c->end_ie); u16(&x, c->len);
        set_end(&x, o);
        o = set_begin(&x, 400);
        u32(&x, 1); u64(&x, (uint64_t)(T0 - 100) * 1000);
        set_end(&x, o);
        o = set_begin(&x, 500);
        ip4(&x, 10, 0, 0, 1); ip4(&x, 10, 0, 0, 2); u8(&x, 1); u32(&x, 3);
        if (c->len == 4) { u32(&x, (uint32_t)c->start_v); u32(&x, (uint32_t)c->end_v); }
        else { u64(&x, c->start_v); u64(&x, c->end_v); }
        set_end(&x, o);
        ipfix_end(&x);
        feed(nf, &x, NOW);
        ni_netflow_finish(nf, NULL);
        ni_t_current = c->name;
        CHECK_INT(G.n, 1);
        CHECK_INT(G.s[0].first_us, c->want_first);
        CHECK_INT(G.s[0].last_us, c->want_last);
        CHECK_STR(G.s[0].source, "ipfix");
        CHECK_INT(G.s[0].proto, 1);
        ni_netflow_free(nf);
    }
    ni_t_current = "ipfix_times";
}

/* template 256: src, dst, varlen interfaceName, enterprise element, sport,
 * dport, proto, packets, bytes, reverse packets, reverse bytes, reverse flags,
 * flags, biflowDirection? (no) */
static void biflow_template(bb *x)
{
    size_t o = set_begin(x, 2);
    u16(x, 256); u16(x, 12);
    u16(x, 27); u16(x, 16); u16(x, 28); u16(x, 16);
    u16(x, 82); u16(x, 65535);                           /* interfaceName, variable length */
    u16(x, 0x8000 | 100); u16(x, 4); u32(x, 9);           /* enterprise 9 (Cisco): skipped */
    u16(x, 7); u16(x, 2); u16(x, 11); u16(x, 2); u16(x, 4); u16(x, 1);
    u16(x, 2); u16(x, 8); u16(x, 1); u16(x, 8);
    u16(x, 0x8000 | 2); u16(x, 8); u32(x, 29305);         /* reversePacketDeltaCount */
    u16(x, 0x8000 | 1); u16(x, 8); u32(x, 29305);         /* reverseOctetDeltaCount */
    u16(x, 6); u16(x, 1);
    set_end(x, o);
}
static void v6(bb *x, unsigned last)
{
    u16(x, 0x2001); u16(x, 0xdb8); for (int i = 0; i < 5; i++) u16(x, 0); u16(x, last);
}

TEST(ipfix_biflow_varlen_enterprise_ipv6)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    ipfix_begin(&x, (uint32_t)T0, 0, 1);
    biflow_template(&x);
    size_t o = set_begin(&x, 256);
    /* record 1: short varlen (3 bytes); server 2001:db8::1 port 443 listed first */
    v6(&x, 1); v6(&x, 2); u8(&x, 3); u8(&x, 'e'); u8(&x, 't'); u8(&x, 'h');
    u32(&x, 0xdeadbeef); u16(&x, 443); u16(&x, 51000); u8(&x, 6);
    u64(&x, 10); u64(&x, 9000); u64(&x, 8); u64(&x, 800); u8(&x, 0x1a);
    /* record 2: long varlen form (255, then 2 bytes: 300) */
    v6(&x, 3); v6(&x, 4); u8(&x, 255); u16(&x, 300); for (int i = 0; i < 300; i++) u8(&x, 'x');
    u32(&x, 0); u16(&x, 51001); u16(&x, 80); u8(&x, 6);
    u64(&x, 5); u64(&x, 500); u64(&x, 0); u64(&x, 0); u8(&x, 0x02);
    set_end(&x, o);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    CHECK_INT(G.n, 2);
    CHECK_INT(ni_netflow_stats_get(nf)->biflows, 2);
    CHECK_INT(ni_netflow_stats_get(nf)->records_short, 0);
    /* record 1: the ephemeral port side is the client, so the reverse half is c2s */
    CHECK_STR(addr(&G.s[0].client), "2001:db8::2");
    CHECK_INT(G.s[0].client_port, 51000);
    CHECK_INT(G.s[0].c2s_packets, 8); CHECK_INT(G.s[0].c2s_bytes, 800);
    CHECK_INT(G.s[0].s2c_packets, 10); CHECK_INT(G.s[0].s2c_bytes, 9000);
    CHECK_INT(G.s[0].c2s_tcp_flags, 0); CHECK_INT(G.s[0].s2c_tcp_flags, 0x1a);
    CHECK_STR(addr(&G.s[1].client), "2001:db8::3");
    CHECK_INT(G.s[1].c2s_packets, 5);
    CHECK_INT(G.s[1].s2c_packets, 0);
    ni_netflow_free(nf);
}

/* a minimal IPv4 template (id) and one record of it */
static void small_template(bb *x, unsigned id)
{
    size_t o = set_begin(x, 2);
    u16(x, id); u16(x, 5);
    u16(x, 8); u16(x, 4); u16(x, 12); u16(x, 4); u16(x, 4); u16(x, 1); u16(x, 2); u16(x, 4); u16(x, 150); u16(x, 4);
    set_end(x, o);
}
static void small_data(bb *x, unsigned id, unsigned host, unsigned packets)
{
    size_t o = set_begin(x, id);
    ip4(x, 10, 0, 0, host); ip4(x, 10, 9, 9, 9); u8(x, 1); u32(x, packets); u32(x, (uint32_t)T0);
    set_end(x, o);
}

TEST(ipfix_withdraw_refresh_redefine_expire)
{
    ni_netflow_config cfg = { 0, 60ll * 1000000, 0 };
    ni_netflow *nf = fresh(&cfg);
    const ni_netflow_stats *st = ni_netflow_stats_get(nf);
    bb x;
    ipfix_begin(&x, (uint32_t)T0, 0, 1);
    small_template(&x, 300);
    small_template(&x, 300);                       /* refresh: still one */
    small_template(&x, 301);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    CHECK_INT(ni_netflow_template_count(nf), 2);
    CHECK_INT(st->templates, 3);
    /* withdraw 300 */
    ipfix_begin(&x, (uint32_t)T0, 0, 1);
    size_t o = set_begin(&x, 2);
    u16(&x, 300); u16(&x, 0);
    set_end(&x, o);
    small_data(&x, 300, 1, 1);
    small_data(&x, 301, 2, 1);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    CHECK_INT(st->template_withdrawals, 1);
    CHECK_INT(st->no_template, 1);
    CHECK_INT(st->records, 1);
    /* redefine 301 with another layout: data decode by the new one */
    ipfix_begin(&x, (uint32_t)T0, 0, 1);
    o = set_begin(&x, 2);
    u16(&x, 301); u16(&x, 3);
    u16(&x, 12); u16(&x, 4); u16(&x, 8); u16(&x, 4); u16(&x, 2); u16(&x, 2);
    set_end(&x, o);
    o = set_begin(&x, 301);
    ip4(&x, 10, 0, 0, 77); ip4(&x, 10, 0, 0, 78); u16(&x, 42);
    set_end(&x, o);
    ipfix_end(&x);
    feed(nf, &x, NOW + 1);
    ni_netflow_finish(nf, NULL);
    CHECK_INT(G.n, 2);
    CHECK_STR(addr(&G.s[1].client), "10.0.0.78");
    CHECK_INT(G.s[1].c2s_packets, 42);
    CHECK_INT(ni_netflow_template_count(nf), 1);
    /* withdraw all (id 2), then define again and let it expire */
    ipfix_begin(&x, (uint32_t)T0, 0, 1);
    o = set_begin(&x, 2);
    u16(&x, 2); u16(&x, 0);
    set_end(&x, o);
    small_template(&x, 310);
    ipfix_end(&x);
    feed(nf, &x, NOW + 2);
    CHECK_INT(ni_netflow_template_count(nf), 1);
    ipfix_begin(&x, (uint32_t)T0, 0, 1);
    small_data(&x, 310, 3, 1);
    ipfix_end(&x);
    feed(nf, &x, NOW + 61ll * 1000000);            /* past the 60 s TTL */
    CHECK_INT(st->templates_expired, 1);
    CHECK_INT(st->no_template, 2);
    CHECK_INT(ni_netflow_template_count(nf), 0);
    ni_netflow_free(nf);
}

TEST(ipfix_sequence_gap_counts_records)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    ipfix_begin(&x, (uint32_t)T0, 1000, 1);
    small_template(&x, 300);
    small_data(&x, 300, 1, 1);
    small_data(&x, 300, 2, 1);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    ipfix_begin(&x, (uint32_t)T0, 1002 + 5, 1);     /* 5 records lost */
    small_data(&x, 300, 3, 1);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    ipfix_begin(&x, (uint32_t)T0, 1008, 1);         /* in order */
    small_data(&x, 300, 4, 1);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    CHECK_INT(ni_netflow_stats_get(nf)->lost_records, 5);
    /* a second domain of the same exporter keeps its own sequence */
    ipfix_begin(&x, (uint32_t)T0, 77, 2);
    small_template(&x, 300);
    small_data(&x, 300, 5, 1);
    ipfix_end(&x);
    feed(nf, &x, NOW);
    ni_netflow_exporter ex[4];
    CHECK_INT(ni_netflow_exporters(nf, ex, 4), 2);
    CHECK_INT(ex[0].domain, 1); CHECK_INT(ex[0].lost, 5); CHECK_INT(ex[0].records, 4);
    CHECK_INT(ex[1].domain, 2); CHECK_INT(ex[1].lost, 0); CHECK_INT(ex[1].records, 1);
    ni_netflow_free(nf);
}

/* ---- pairing -------------------------------------------------------------------- */
TEST(pairing_window_and_pending_limit)
{
    ni_netflow_config cfg = { 10ll * 1000000, 0, 4 };
    ni_netflow *nf = fresh(&cfg);
    bb x;
    v9_begin(&x, 60000, 1700000000, 0, 1);
    v9_template(&x, 300);
    v9_data(&x, 300, C4, S4, 5000, 53, 1, 60, 59000, 59000);
    feed(nf, &x, NOW);
    /* the reply 11 s later: outside the 10 s window, two sessions */
    v9_begin(&x, 71000, 1700000011, 1, 1);
    v9_data(&x, 300, S4, C4, 53, 5000, 1, 120, 70000, 70000);
    feed(nf, &x, NOW + 11ll * 1000000);
    CHECK_INT(G.n, 1);
    ni_netflow_finish(nf, NULL);
    CHECK_INT(G.n, 2);
    CHECK_INT(ni_netflow_stats_get(nf)->paired, 0);
    /* 10 unanswered records with room for 4: 6 emitted early, the rest at the end */
    G.n = 0;
    for (unsigned i = 0; i < 10; i++) {
        v9_begin(&x, 80000, 1700000020, 2 + i, 1);
        v9_data(&x, 300, C4, S4, (uint16_t)(6000 + i), 53, 1, 60, 79000, 79000);
        feed(nf, &x, NOW + 20ll * 1000000);
    }
    CHECK_INT(ni_netflow_stats_get(nf)->pending_evicted, 6);
    CHECK_INT(G.n, 6);
    ni_netflow_finish(nf, NULL);
    CHECK_INT(G.n, 10);
    ni_netflow_free(nf);
}

TEST(pairing_tcp_syn_decides)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    /* the client uses the lower port, but only its side has SYN without ACK */
    v5_header(&x, 2, 100000, 1700000000, 0, 0, 0);
    v5_record(&x, S4, C4, 50000, 80, 3, 300, 90000, 91000, 0x10, 6);
    v5_record(&x, C4, S4, 80, 50000, 3, 200, 90000, 91000, 0x02, 6);
    feed(nf, &x, NOW);
    CHECK_INT(G.n, 1);
    CHECK_STR(addr(&G.s[0].client), "10.0.0.1");
    CHECK_INT(G.s[0].client_port, 80);
    CHECK_INT(G.s[0].c2s_bytes, 200);
    ni_netflow_free(nf);
}

/* ---- hostile input ------------------------------------------------------------------ */
TEST(template_flood_is_bounded)
{
    ni_netflow *nf = fresh(NULL);
    bb x;
    unsigned id = 256;
    for (unsigned d = 0; d < 40; d++) {          /* 40 datagrams of 100 templates, 4 domains */
        ipfix_begin(&x, (uint32_t)T0, 0, d % 4);
        size_t o = set_begin(&x, 2);
        for (unsigned i = 0; i < 100; i++) {
            u16(&x, id++); u16(&x, 1); u16(&x, 8); u16(&x, 4);
        }
        set_end(&x, o);
        ipfix_end(&x);
        feed(nf, &x, NOW);
    }
    const ni_netflow_stats *st = ni_netflow_stats_get(nf);
    CHECK_INT(ni_netflow_template_count(nf), NI_NETFLOW_TEMPLATES_PER_EXPORTER);
    CHECK_INT(st->template_limit, 4000 - NI_NETFLOW_TEMPLATES_PER_EXPORTER);
    /* another exporter still gets its templates */
    ni_addr other = { 4, { 192, 0, 2, 2 } };
    ipfix_begin(&x, (uint32_t)T0, 0, 0);
    small_template(&x, 300);
    ipfix_end(&x);
    ni_netflow_datagram(nf, &other, x.b, x.n, NOW, NULL);
    CHECK_INT(ni_netflow_template_count(nf), NI_NETFLOW_TEMPLATES_PER_EXPORTER + 1);
    ni_netflow_free(nf);
}

static void bad_zero_len(bb *x)
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    size_t o = set_begin(x, 2);
    u16(x, 300); u16(x, 2); u16(x, 8); u16(x, 4); u16(x, 12); u16(x, 0);
    set_end(x, o);
    ipfix_end(x);
}
static void bad_huge_len(bb *x)         /* records of 65000 bytes: longer than any set */
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    size_t o = set_begin(x, 2);
    u16(x, 300); u16(x, 2); u16(x, 8); u16(x, 4); u16(x, 82); u16(x, 65000);
    set_end(x, o);
    o = set_begin(x, 300);
    for (int i = 0; i < 100; i++) u8(x, 0xaa);
    set_end(x, o);
    ipfix_end(x);
}
static void bad_huge_sum(bb *x)         /* two fields of 40000: no datagram can hold one */
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    size_t o = set_begin(x, 2);
    u16(x, 300); u16(x, 2); u16(x, 82); u16(x, 40000); u16(x, 83); u16(x, 40000);
    set_end(x, o);
    ipfix_end(x);
}
static void bad_short_record(bb *x)     /* template of 13-byte records, a set with one and a half */
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    small_template(x, 300);
    size_t o = set_begin(x, 300);
    ip4(x, 10, 0, 0, 1); ip4(x, 10, 0, 0, 2); u8(x, 1); u32(x, 1); u32(x, (uint32_t)T0);
    ip4(x, 10, 0, 0, 1); ip4(x, 10, 0, 0, 2);
    set_end(x, o);
    ipfix_end(x);
}
static void bad_varlen_past_end(bb *x)
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    size_t o = set_begin(x, 2);
    u16(x, 300); u16(x, 2); u16(x, 8); u16(x, 4); u16(x, 82); u16(x, 65535);
    set_end(x, o);
    o = set_begin(x, 300);
    ip4(x, 10, 0, 0, 1); u8(x, 255); u16(x, 60000); u8(x, 1);
    set_end(x, o);
    ipfix_end(x);
}
static void bad_set_length(bb *x)
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    u16(x, 2); u16(x, 3);
    ipfix_end(x);
}
static void bad_message_length(bb *x)
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    small_template(x, 300);
    ipfix_end(x);
    put16(x, 2, 60000);
}
static void bad_v5_count(bb *x)
{
    v5_header(x, 30, 1000, 1700000000, 0, 0, 0);
    v5_record(x, C4, S4, 1, 2, 1, 1, 1, 1, 0, 17);
}
static void bad_v9_options(bb *x)
{
    v9_begin(x, 1000, 1700000000, 0, 1);
    size_t o = set_begin(x, 1);
    u16(x, 300); u16(x, 3); u16(x, 4); u16(x, 1); u16(x, 4);
    set_end(x, o);
}
static void bad_too_many_fields(bb *x)
{
    ipfix_begin(x, (uint32_t)T0, 0, 1);
    size_t o = set_begin(x, 2);
    u16(x, 300); u16(x, NI_NETFLOW_TEMPLATE_FIELDS_MAX + 1);
    for (unsigned i = 0; i <= NI_NETFLOW_TEMPLATE_FIELDS_MAX; i++) { u16(x, 8); u16(x, 4); }
    set_end(x, o);
    ipfix_end(x);
}
static void bad_not_export(bb *x) { x->n = 0; u16(x, 4); u16(x, 0); }

TEST(hostile_datagrams_are_counted)
{
    static const struct {
        const char *name;
        void (*build)(bb *x);
        size_t stat;            /* offsetof the counter that must grow */
        unsigned templates;     /* templates held afterwards */
    } cases[] = {
        { "zero field length", bad_zero_len, offsetof(ni_netflow_stats, templates_bad), 0 },
        { "field longer than a set", bad_huge_len, offsetof(ni_netflow_stats, records_short), 1 },
        { "record longer than a datagram", bad_huge_sum, offsetof(ni_netflow_stats, templates_bad), 0 },
        { "record shorter than its template", bad_short_record, offsetof(ni_netflow_stats, records_short), 1 },
        { "variable length past the set", bad_varlen_past_end, offsetof(ni_netflow_stats, records_short), 1 },
        { "set length 3", bad_set_length, offsetof(ni_netflow_stats, malformed), 0 },
        { "message length past the datagram", bad_message_length, offsetof(ni_netflow_stats, malformed), 1 },
        { "v5 count past the datagram", bad_v5_count, offsetof(ni_netflow_stats, malformed), 0 },
        { "v9 options lengths not multiples of 4", bad_v9_options, offsetof(ni_netflow_stats, templates_bad), 0 },
        { "too many fields", bad_too_many_fields, offsetof(ni_netflow_stats, templates_bad), 0 },
        { "version 4", bad_not_export, offsetof(ni_netflow_stats, not_export), 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ni_t_current = cases[i].name;
        ni_netflow *nf = fresh(NULL);
        bb x;
        cases[i].build(&x);
        /* every prefix too: truncation anywhere is a counter, never a crash */
        for (size_t n = 0; n < x.n; n++) {
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, x.b, n);
            ni_netflow *tmp = fresh(NULL);
            ni_netflow_datagram(tmp, &EX, copy, n, NOW, NULL);
            ni_netflow_free(tmp);
            free(copy);
        }
        G.n = 0;
        feed(nf, &x, NOW);
        const uint64_t *counter = (const uint64_t *)((const char *)ni_netflow_stats_get(nf) + cases[i].stat);
        CHECK(*counter > 0);
        CHECK_INT(ni_netflow_template_count(nf), cases[i].templates);
        ni_netflow_free(nf);
    }
    ni_t_current = "hostile_datagrams_are_counted";
}

static char last_warning[512];
static void keep_warning(void *ud, const char *msg)
{
    (void)ud;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}

TEST(warnings_name_the_offset)
{
    ni_netflow *nf = fresh(NULL);
    ni_netflow_set_warn(nf, keep_warning, NULL);
    bb x;
    bad_zero_len(&x);
    feed(nf, &x, NOW);
    CHECK_STR(last_warning, "offset 20: template 300 field 2 (element 12) has length 0");
    bad_set_length(&x);
    feed(nf, &x, NOW);
    CHECK_STR(last_warning, "offset 16: IPFIX set 2 has length 3, 4 bytes left");
    ni_netflow_free(nf);
}

TEST(collector_specs)
{
    static const struct { const char *spec; ni_err want; } cases[] = {
        { "udp://127.0.0.1:0", NI_OK },
        { "udp://[::1]:0", NI_OK },
        { "tcp://127.0.0.1:2055", NI_ERR_ARG },
        { "udp://127.0.0.1", NI_ERR_ARG },
        { "udp://127.0.0.1:99999", NI_ERR_ARG },
        { "udp://127.0.0.1:20x", NI_ERR_ARG },
        { "udp://[::1:0", NI_ERR_ARG },
        { "udp://:2055", NI_ERR_ARG },
    };
    ni_netflow *nf = fresh(NULL);
    ni_collect *c = ni_collect_new(nf, NULL);
    size_t ok = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ni_error err = { 0 };
        ni_err r = ni_collect_listen(c, cases[i].spec, &err);
        if (r == NI_ERR_IO && cases[i].want == NI_OK) continue;   /* no IPv6 on this machine */
        ni_t_current = cases[i].spec;
        CHECK_INT(r, cases[i].want);
        if (r == NI_OK) { ok++; CHECK(ni_collect_port(c, ok - 1) != 0); }
        else CHECK(strstr(err.msg, cases[i].spec) == err.msg);
    }
    ni_t_current = "collector_specs";
    CHECK_INT(ni_collect_sockets(c), ok);
    ni_collect_free(c);
    ni_netflow_free(nf);
}

/* a capture (LINKTYPE_RAW) of one v5 datagram with a reply pair is read by
 * the one source interface as the "flows" source; other captures are not */
TEST(input_source_flows)
{
    bb x;
    v5_header(&x, 2, 100000, 1700000000, 0, 0, 0);
    v5_record(&x, S4, C4, 443, 50000, 12, 7408, 90010, 95000, 0x1b, 6);
    v5_record(&x, C4, S4, 50000, 443, 16, 1288, 90000, 95100, 0x1b, 6);
    char path[] = "/tmp/ni-test-flows-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "wb");
    uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101 };
    fwrite(gh, 4, 6, f);
    uint32_t len = (uint32_t)(28 + x.n);
    uint32_t ph[4] = { 1700000000, 0, len, len };
    fwrite(ph, 4, 4, f);
    uint8_t ip[28] = { 0x45, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 127, 0, 0, 1,
                       0x08, 0x07, 0x08, 0x07, (uint8_t)((len - 20) >> 8), (uint8_t)(len - 20), 0, 0 };
    fwrite(ip, 1, sizeof ip, f);
    fwrite(x.b, 1, x.n, f);
    fclose(f);
    CHECK(ni_collect_probe(path));
    ni_error err = { 0 };
    ni_input *in = ni_input_open(path, &err);
    CHECK(in != NULL);
    if (in) {
        CHECK_STR(ni_input_kind(in), "flows");
        ni_item it;
        CHECK_INT(ni_input_next(in, &it, &err), 1);
        CHECK_INT(it.kind, NI_ITEM_SESSION);
        CHECK_STR(it.session->source, "netflow5");
        CHECK_INT(it.session->c2s_packets, 16);
        CHECK(it.session->arena != NULL);
        CHECK_INT(ni_input_next(in, &it, &err), 0);
        ni_input_close(in);
    }
    unlink(path);
    CHECK(!ni_collect_probe("-"));
    CHECK(!ni_collect_probe("tests/corpus/ndpi/pcap/dns.pcap"));
}

RUN(T(input_source_flows), T(v5_pair_times_client), T(v5_sequence_sampling_wrap), T(v9_templates_options_sequence), T(ipfix_times),
    T(ipfix_biflow_varlen_enterprise_ipv6), T(ipfix_withdraw_refresh_redefine_expire),
    T(ipfix_sequence_gap_counts_records), T(pairing_window_and_pending_limit), T(pairing_tcp_syn_decides),
    T(template_flood_is_bounded), T(hostile_datagrams_are_counted), T(warnings_name_the_offset),
    T(collector_specs))
