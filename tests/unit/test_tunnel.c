/* test_tunnel.c — unit tests of lib/dissect/ni_tunnel: each tunnel protocol
 * recognised from handshake-shaped payloads, and look-alikes rejected. */
#include "ni_test.h"
#include "dissect/ni_tunnel.h"

#include <stdlib.h>

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) { seed = seed * 1103515245u + 12345u; p[i] = (uint8_t)(seed >> 16); }
}

TEST(wireguard_handshake)
{
    uint8_t init[148], resp[92];
    fill(init, sizeof init, 1); fill(resp, sizeof resp, 2);
    init[0] = 1; init[1] = init[2] = init[3] = 0;
    init[4] = 0x11; init[5] = 0x22; init[6] = 0x33; init[7] = 0x44;   /* sender index */
    resp[0] = 2; resp[1] = resp[2] = resp[3] = 0;
    resp[8] = 0x11; resp[9] = 0x22; resp[10] = 0x33; resp[11] = 0x44; /* receiver = initiator's */
    ni_tunnel_state st = {0};
    CHECK(!ni_tunnel_packet(&st, 17, 51820, 51820, 0, init, sizeof init));
    CHECK(ni_tunnel_packet(&st, 17, 51820, 51820, 1, resp, sizeof resp));
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "WireGuard");
}

TEST(wireguard_wrong_index_rejected)
{
    uint8_t init[148], resp[92];
    fill(init, sizeof init, 3); fill(resp, sizeof resp, 4);
    init[0] = 1; init[1] = init[2] = init[3] = 0;
    resp[0] = 2; resp[1] = resp[2] = resp[3] = 0;
    resp[8] = (uint8_t)(init[4] + 1);
    ni_tunnel_state st = {0};
    ni_tunnel_packet(&st, 17, 40000, 51820, 0, init, sizeof init);
    ni_tunnel_packet(&st, 17, 40000, 51820, 1, resp, sizeof resp);
    CHECK(ni_tunnel_protocol(&st, NULL) == NI_TUN_NONE);
}

TEST(openvpn_udp_reset_pair)
{
    uint8_t c[54], s[66];
    fill(c, sizeof c, 5); fill(s, sizeof s, 6);
    c[0] = 7 << 3;                      /* P_CONTROL_HARD_RESET_CLIENT_V2, key 0 */
    s[0] = 8 << 3;                      /* P_CONTROL_HARD_RESET_SERVER_V2 */
    memcpy(s + 14, c + 1, 8);           /* ack array: remote session id = client's */
    ni_tunnel_state st = {0};
    CHECK(!ni_tunnel_packet(&st, 17, 50000, 1194, 0, c, sizeof c));
    CHECK(ni_tunnel_packet(&st, 17, 50000, 1194, 1, s, sizeof s));
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "OpenVPN");
}

TEST(openvpn_one_direction)
{
    /* only the server's side captured: its reset, then control packets
     * carrying the same session id */
    uint8_t r[60], c1[40], c2[50];
    fill(r, sizeof r, 21); fill(c1, sizeof c1, 22); fill(c2, sizeof c2, 23);
    r[0] = 8 << 3;
    c1[0] = 4 << 3; memcpy(c1 + 1, r + 1, 8);    /* P_CONTROL_V1 */
    c2[0] = 5 << 3; memcpy(c2 + 1, r + 1, 8);    /* P_ACK_V1 */
    ni_tunnel_state st = {0};
    CHECK(!ni_tunnel_packet(&st, 17, 60201, 443, 1, r, sizeof r));
    CHECK(!ni_tunnel_packet(&st, 17, 60201, 443, 1, c1, sizeof c1));
    CHECK(ni_tunnel_packet(&st, 17, 60201, 443, 1, c2, sizeof c2));
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "OpenVPN");
    /* a different session id is not enough */
    ni_tunnel_state st2 = {0};
    c1[1] ^= 1; c2[1] ^= 1;
    ni_tunnel_packet(&st2, 17, 60201, 443, 1, r, sizeof r);
    ni_tunnel_packet(&st2, 17, 60201, 443, 1, c1, sizeof c1);
    ni_tunnel_packet(&st2, 17, 60201, 443, 1, c2, sizeof c2);
    CHECK(ni_tunnel_protocol(&st2, NULL) == NI_TUN_NONE);
}

TEST(openvpn_tcp_framed)
{
    uint8_t c[2 + 40], s[2 + 52];
    fill(c, sizeof c, 7); fill(s, sizeof s, 8);
    c[0] = 0; c[1] = 40; c[2] = 7 << 3;
    s[0] = 0; s[1] = 52; s[2] = 8 << 3;
    memcpy(s + 2 + 14, c + 3, 8);
    ni_tunnel_state st = {0};
    ni_tunnel_packet(&st, 6, 50000, 443, 0, c, sizeof c);
    ni_tunnel_packet(&st, 6, 50000, 443, 1, s, sizeof s);
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "OpenVPN");
}

TEST(ike_v2)
{
    uint8_t p[28 + 20] = {0};
    fill(p, 8, 9);                      /* initiator SPI */
    p[16] = 33; p[17] = 0x20; p[18] = 34; /* SA payload, IKEv2, IKE_SA_INIT */
    p[27] = sizeof p;
    ni_tunnel_state st = {0};
    CHECK(ni_tunnel_packet(&st, 17, 500, 500, 0, p, sizeof p));
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "IPsec");
    p[27] = 99;                         /* length mismatch: not IKE */
    ni_tunnel_state st2 = {0};
    ni_tunnel_packet(&st2, 17, 500, 500, 0, p, sizeof p);
    CHECK(ni_tunnel_protocol(&st2, NULL) == NI_TUN_NONE);
}

TEST(esp_and_gre)
{
    ni_tunnel_state st = {0};
    CHECK(ni_tunnel_packet(&st, 50, 0, 0, 0, (const uint8_t *)"\1\2\3\4", 4));
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "IPsec");
    const uint8_t gre[] = {0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 0};
    ni_tunnel_state g = {0};
    ni_tunnel_packet(&g, 47, 0, 0, 0, gre, sizeof gre);
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&g, NULL)), "PPTP");
}

TEST(pptp_and_tinc)
{
    uint8_t p[156] = {0, 156, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1};
    ni_tunnel_state st = {0};
    ni_tunnel_packet(&st, 6, 40000, 1723, 0, p, sizeof p);
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&st, NULL)), "PPTP");
    const char *t = "0 laptop 17.7\n";
    ni_tunnel_state t2 = {0};
    ni_tunnel_packet(&t2, 6, 40000, 655, 0, (const uint8_t *)t, strlen(t));
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(&t2, NULL)), "tinc");
}

TEST(random_udp_not_a_tunnel)
{
    int hits = 0;
    for (unsigned seed = 0; seed < 2000; seed++) {
        uint8_t a[200], b[200];
        fill(a, sizeof a, seed); fill(b, sizeof b, seed + 7777);
        size_t na = 20 + seed % 180, nb = 20 + (seed * 7) % 180;
        ni_tunnel_state st = {0};
        for (int i = 0; i < 6; i++) {
            ni_tunnel_packet(&st, 17, 40000, 3478, 0, a, na);
            ni_tunnel_packet(&st, 17, 40000, 3478, 1, b, nb);
        }
        if (ni_tunnel_protocol(&st, NULL)) hits++;
    }
    CHECK(hits == 0);
}

TEST(sstp_from_http)
{
    ni_http_req r = { .method = "SSTP_DUPLEX_POST", .path = "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/" };
    ni_session s = { .http = &r };
    CHECK_STR(ni_tunnel_proto_name(ni_tunnel_protocol(NULL, &s)), "SSTP");
}

RUN(T(wireguard_handshake), T(wireguard_wrong_index_rejected), T(openvpn_udp_reset_pair),
    T(openvpn_one_direction), T(openvpn_tcp_framed), T(ike_v2), T(esp_and_gre), T(pptp_and_tinc), T(random_udp_not_a_tunnel),
    T(sstp_from_http))
