/* test_ndpi.c — the nDPI producer's gate (lib/dissect/ni_ndpi): sessions
 * netintel's own evidence names are not handed to nDPI, unnamed ones and
 * those its VPN/proxy signatures could concern are; and the protocols of
 * data/ndpi-vpn.tsv that nDPI knows are the ones the gate keeps asking about
 * (nDPI's VPN category). */
#include "ni_test.h"
#include "dissect/ni_ndpi.h"
#include "core/ni_arena.h"

#include <stdio.h>

/* A TCP packet 10.0.0.1:40000 → SERVER:443 with a little payload. */
static void make_packet(ni_packet *p, uint8_t *buf, size_t cap, const uint8_t server[4])
{
    memset(p, 0, sizeof *p);
    memset(buf, 0, cap);
    buf[0] = 0x45; buf[3] = 60; buf[8] = 64; buf[9] = 6;
    buf[12] = 10; buf[15] = 1;
    memcpy(buf + 16, server, 4);
    buf[20] = 0x9c; buf[21] = 0x40; buf[22] = 0x01; buf[23] = 0xbb;   /* ports */
    buf[32] = 0x50; buf[33] = 0x18;                                      /* header length, PSH ACK */
    buf[40] = 0x16; buf[41] = 0x03; buf[42] = 0x01;                      /* looks like TLS */
    p->l3 = buf; p->l3_caplen = 60; p->ip_len = 60;
    p->proto = 6; p->sport = 40000; p->dport = 443;
    p->payload = buf + 40; p->payload_len = 20;
}

/* Runs one packet of a TLS session with SNI (NULL: none) and DNS_NAME through
 * the producer; returns whether nDPI examined it (gave it a label). */
static bool examined(void *ctx, const char *sni, const char *dns_name, uint8_t app)
{
    const ni_producer *pr = &ni_ndpi_producer;
    ni_arena *a = ni_arena_new(65536);
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = a;
    s.sni = sni;
    s.dns_name = dns_name;
    static const uint8_t srv[4] = { 192, 0, 2, 7 };
    s.server.family = 4; memcpy(s.server.b, srv, 4);
    unsigned char state[64] = {0};
    CHECK(pr->state_size <= sizeof state);
    ni_pflow f = { &s, app };
    uint8_t buf[64];
    ni_packet p;
    make_packet(&p, buf, sizeof buf, srv);
    if (pr->on_start) pr->on_start(ctx, state, &f);
    pr->on_packet(ctx, state, &f, 0, &p);
    pr->on_finish(ctx, state, &f);
    bool r = s.ndpi_protocol != NULL;
    pr->release(ctx, state);
    ni_arena_free(a);
    return r;
}

TEST(gate)
{
    ni_producer_opts on = { .ndpi = true };
    ni_stats st = {0};
    ni_error err = {0};
    void *ctx = ni_ndpi_producer.ctx_new(&on, &st, &err);
    CHECK(ctx != NULL);
    if (!ctx) return;
    /* named by netintel: not asked */
    CHECK(!examined(ctx, "www.example.com", NULL, NI_APP_TLS));
    CHECK(!examined(ctx, NULL, "mail.example.org", NI_APP_TLS));
    CHECK(!examined(ctx, "www.example.com", "www.example.com", NI_APP_QUIC));
    CHECK(!examined(ctx, NULL, NULL, NI_APP_HTTP));
    CHECK(!examined(ctx, NULL, "example.org", NI_APP_DNS));
    /* unnamed: asked */
    CHECK(examined(ctx, NULL, NULL, NI_APP_TLS));
    CHECK(examined(ctx, NULL, NULL, NI_APP_UNKNOWN));
    CHECK(examined(ctx, NULL, "vpn.example.org", NI_APP_UNKNOWN));   /* a name, but not a protocol netintel knows */
    /* names nDPI's VPN/proxy signatures could concern: asked */
    CHECK(examined(ctx, "www.e6r5p57kbafwrxj3plz.com", NULL, NI_APP_TLS));   /* Tor-shaped */
    CHECK(examined(ctx, "abcdefghijklmnop.onion", NULL, NI_APP_TLS));
    ni_ndpi_producer.ctx_free(ctx);
}

TEST(vpn_names_are_asked_about)
{
    ni_error err = {0};
    ni_ndpi *nd = ni_ndpi_new(&err);
    CHECK(nd != NULL);
    if (!nd) return;
    FILE *fp = fopen("data/ndpi-vpn.tsv", "r");
    CHECK(fp != NULL);
    char line[1024];
    unsigned rows = 0, known = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || !strncmp(line, "ndpi\t", 5)) continue;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        rows++;
        char *name = strrchr(line, '.') ? strrchr(line, '.') + 1 : line;   /* "OpenVPN.NordVPN" → NordVPN */
        char probe[sizeof line];
        snprintf(probe, sizeof probe, "%s", name);
        /* GRE (IP protocol 47, nDPI's "Network" category) is never a TLS or
         * QUIC session, so the gate never has to keep it */
        if (!strcmp(probe, "GRE")) continue;
        if (!ni_ndpi_knows(nd, probe)) continue;     /* a later nDPI's protocol */
        known++;
        if (!ni_ndpi_vpn_name(nd, probe)) { fprintf(stderr, "  %s: not in nDPI's VPN category\n", probe); CHECK(0); }
    }
    if (fp) fclose(fp);
    CHECK(rows >= 20);
    CHECK(known >= 8);
    CHECK(!ni_ndpi_vpn_name(nd, "Google"));
    CHECK(!ni_ndpi_vpn_name(nd, "HTTP"));
    ni_ndpi_free(nd);
}

RUN(T(gate), T(vpn_names_are_asked_about))
