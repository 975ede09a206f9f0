/* test_vpn.c — unit tests of the VPN parts of enrichment: lib/enrich/
 * ni_vpnlearn (endpoints learned from DNS answers: the time rule, the bound,
 * re-learning), ni_sslvpn (data/sslvpn.tsv: load errors, path / method /
 * nDPI / tunnel matches) and ni_enrich_session on synthetic sessions with the
 * shipped data: a certificate CN naming a provider's server, a tunnel to an
 * address another host's DNS answer tied to a provider (and not after the
 * answer aged out), corporate SSL-VPN gateways as their own category, and
 * the profile's VPN section keeping them apart (vpn.corporate); and
 * ni_enrich_ua's copies into a nearly full session arena. */
#include "ni_test.h"
#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "enrich/ni_catalog.h"
#include "enrich/ni_enrich.h"
#include "enrich/ni_sslvpn.h"
#include "enrich/ni_vpnlearn.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_reportdoc.h"
#include "analyze/ni_tz.h"
#include "core/ni_buf.h"
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#define S(x) ((int64_t)(x) * 1000000)

static ni_addr ip(const char *s)
{
    ni_addr a;
    memset(&a, 0, sizeof a);
    ni_addr_parse(s, &a);
    return a;
}

TEST(learn_time_rule)
{
    ni_vpnlearn *l = ni_vpnlearn_new(0);
    CHECK(l != NULL);
    ni_catalog_entry nord = { .name = "NordVPN", .kind = NI_VPN_KIND_SERVER };
    ni_addr a = ip("198.51.100.7"), b = ip("198.51.100.8"), v6 = ip("2001:db8::7");
    ni_vpnlearn_add(l, &a, &nord, S(1000), S(600));
    ni_vpnlearn_add(l, &v6, &nord, S(1000), 0);                  /* no TTL: the DNS cache's age */
    CHECK_INT(ni_vpnlearn_count(l), 2);
    CHECK(ni_vpnlearn_get(l, &a, S(1000)) == &nord);
    CHECK(ni_vpnlearn_get(l, &a, S(1600)) == &nord);               /* at the end of its life */
    CHECK(ni_vpnlearn_get(l, &a, S(1601)) == NULL);                /* aged out */
    CHECK(ni_vpnlearn_get(l, &a, S(1000) - NI_VPNLEARN_SKEW_US) == &nord);   /* started just before */
    CHECK(ni_vpnlearn_get(l, &a, S(1000) - NI_VPNLEARN_SKEW_US - 1) == NULL); /* before the answer */
    CHECK(ni_vpnlearn_get(l, &b, S(1000)) == NULL);
    CHECK(ni_vpnlearn_get(l, &v6, S(1000) + NI_DNSCACHE_AGE_MAX_US) == &nord);
    CHECK(ni_vpnlearn_get(l, &v6, S(1000) + NI_DNSCACHE_AGE_MAX_US + 1) == NULL);
    /* a TTL longer than the cap is capped */
    ni_vpnlearn_add(l, &b, &nord, S(0), NI_DNSCACHE_AGE_MAX_US * 10);
    CHECK(ni_vpnlearn_get(l, &b, NI_DNSCACHE_AGE_MAX_US + 1) == NULL);
    /* re-learned: the newer answer counts */
    ni_catalog_entry pia = { .name = "Private Internet Access", .kind = NI_VPN_KIND_SERVER };
    ni_vpnlearn_add(l, &a, &pia, S(5000), S(60));
    CHECK_INT(ni_vpnlearn_count(l), 3);
    CHECK(ni_vpnlearn_get(l, &a, S(5030)) == &pia);
    CHECK(ni_vpnlearn_get(l, &a, S(1200)) == NULL);                /* before the newer answer */
    /* an IPv4-looking IPv6 address is another key */
    ni_addr mapped = ip("::ffff:198.51.100.9"), plain = ip("198.51.100.9");
    ni_vpnlearn_add(l, &plain, &nord, S(0), S(60));
    CHECK(ni_vpnlearn_get(l, &mapped, S(1)) == NULL);
    ni_addr none = { 0 };
    ni_vpnlearn_add(l, &none, &nord, S(0), S(60));
    CHECK(ni_vpnlearn_get(l, &none, S(1)) == NULL);
    CHECK(ni_vpnlearn_get(NULL, &a, S(1)) == NULL);
    ni_vpnlearn_free(l);
}

TEST(learn_bounded)
{
    enum { CAP = 64 };
    ni_vpnlearn *l = ni_vpnlearn_new(CAP);
    ni_catalog_entry e = { .name = "P", .kind = NI_VPN_KIND_SERVER };
    char buf[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "10.%d.%d.1", i / 256, i % 256);
        ni_addr a = ip(buf);
        ni_vpnlearn_add(l, &a, &e, S(i), S(100000));
        CHECK(ni_vpnlearn_count(l) <= CAP);
    }
    CHECK_INT(ni_vpnlearn_count(l), CAP);
    int kept = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "10.%d.%d.1", i / 256, i % 256);
        ni_addr a = ip(buf);
        int has = ni_vpnlearn_get(l, &a, S(1000)) != NULL;
        kept += has;
        CHECK_INT(has, i >= 1000 - CAP);      /* the oldest are forgotten first */
    }
    CHECK_INT(kept, CAP);
    ni_vpnlearn_free(l);
}

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ni-test-vpn-%d.tsv", (int)getpid());
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
    return path;
}

static void expect_sslvpn_error(const char *body, const char *needle)
{
    ni_error err = { 0 };
    const char *p = write_tmp(body);
    ni_sslvpn *t = ni_sslvpn_load(p, &err);
    CHECK(t == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    if (!strstr(err.msg, needle)) { fprintf(stderr, "  \"%s\" lacks \"%s\"\n", err.msg, needle); CHECK(0); }
    ni_sslvpn_free(t);
    unlink(p);
}

TEST(sslvpn_table)
{
    const char *h = "type\tmatch\tproduct\tsource\n";
    char b[512];
    snprintf(b, sizeof b, "%spath\tremote/login\tF\thttps://a/\n", h);
    expect_sslvpn_error(b, ":2: path 'remote/login' does not start with '/'");
    snprintf(b, sizeof b, "%spath\tpost /x\tF\thttps://a/\n", h);
    expect_sslvpn_error(b, ":2: bad method in 'post /x'");
    snprintf(b, sizeof b, "%sregex\t/x\tF\thttps://a/\n", h);
    expect_sslvpn_error(b, ":2: type 'regex' is not path, ndpi or tunnel");
    snprintf(b, sizeof b, "%stunnel\tFortiVPN\tF\thttps://a/\n", h);
    expect_sslvpn_error(b, ":2: unknown tunnel protocol 'FortiVPN'");
    snprintf(b, sizeof b, "%spath\t/x\tF\tnone\n", h);
    expect_sslvpn_error(b, ":2: source 'none' is not an http(s) URL");
    snprintf(b, sizeof b, "%spath\t/x\t\thttps://a/\n", h);
    expect_sslvpn_error(b, ":2: empty product");
    expect_sslvpn_error("type\tmatch\tsource\n", "no column 'product'");

    ni_error err = { 0 };
    ni_sslvpn *t = ni_sslvpn_load("data/sslvpn.tsv", &err);
    CHECK(t != NULL);
    if (!t) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK(ni_sslvpn_rows(t) >= 20);
    ni_session s;
    memset(&s, 0, sizeof s);
    ni_http_req q = { .method = "GET", .path = "/remote/login?lang=en" };
    s.http = &q;
    CHECK_STR(ni_sslvpn_match(t, &s), "Fortinet SSL-VPN");
    q.path = "/remote/logi";                                   /* a prefix of the row is not enough */
    CHECK_STR(ni_sslvpn_match(t, &s), NULL);
    q.path = "/REMOTE/LOGIN";                                  /* paths compare exactly */
    CHECK_STR(ni_sslvpn_match(t, &s), NULL);
    q.path = "/dana-na/auth/url_default/welcome.cgi";
    CHECK_STR(ni_sslvpn_match(t, &s), "Pulse Connect Secure");
    q.path = "/ssl-vpn/prelogin.esp?tmp=tmp";
    CHECK_STR(ni_sslvpn_match(t, &s), "Palo Alto GlobalProtect");
    q.path = "/global-protect/prelogin.esp";
    CHECK_STR(ni_sslvpn_match(t, &s), "Palo Alto GlobalProtect");
    q.path = "/logon/LogonPoint/tmindex.html";
    CHECK_STR(ni_sslvpn_match(t, &s), "Citrix Gateway");
    q.path = "/vpnsvc/connect.cgi";                            /* the signature is a POST */
    CHECK_STR(ni_sslvpn_match(t, &s), NULL);
    q.method = "POST";
    CHECK_STR(ni_sslvpn_match(t, &s), "SoftEther VPN");
    /* a later request of the session counts too */
    ni_http_req q0 = { .method = "GET", .path = "/index.html", .next = &q };
    s.http = &q0;
    CHECK_STR(ni_sslvpn_match(t, &s), "SoftEther VPN");
    s.http = NULL;
    CHECK_STR(ni_sslvpn_match(t, &s), NULL);
    s.ndpi_protocol = "FortiClient";
    CHECK_STR(ni_sslvpn_match(t, &s), "Fortinet SSL-VPN");
    s.ndpi_protocol = "TLS.FortiClient";
    CHECK_STR(ni_sslvpn_match(t, &s), "Fortinet SSL-VPN");
    s.ndpi_protocol = "FortiClientX";
    CHECK_STR(ni_sslvpn_match(t, &s), NULL);
    s.ndpi_protocol = NULL;
    s.tunnel = NI_TUN_ANYCONNECT;
    CHECK_STR(ni_sslvpn_match(t, &s), "Cisco AnyConnect");
    s.tunnel = NI_TUN_OPENVPN;
    CHECK_STR(ni_sslvpn_match(t, &s), NULL);
    ni_sslvpn_free(t);
}

/* ---- enrichment with the shipped data ------------------------------------ */
static ni_enrich *en;
static ni_arena *arena;

static ni_session mk(int64_t t, const char *client, const char *server, uint8_t proto)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.first_us = t; s.last_us = t + S(1);
    s.proto = proto;
    s.client = ip(client);
    s.server = ip(server);
    s.arena = arena;
    return s;
}

TEST(enrich_setup)
{
    ni_error err = { 0 };
    ni_enrich_config cfg = { .data_dir = "data", .no_geo = true };
    en = ni_enrich_new(&cfg, &err);
    if (!en) fprintf(stderr, "  %s\n", err.msg);
    CHECK(en != NULL);
    arena = ni_arena_new(1 << 16);
    CHECK(arena != NULL);
}

TEST(cert_names)
{
    if (!en) { CHECK(0); return; }
    /* a server certificate whose CN is a provider's server name */
    ni_session s = mk(S(100), "10.0.0.5", "203.0.113.50", 6);
    s.tls_cert_subject = "CN=us5063.nordvpn.com";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "NordVPN");
    CHECK_STR(ni_evidence_name(s.vpn_evidence), "endpoint");
    CHECK_STR(s.service, "NordVPN");
    /* a wildcard CN, other attributes around it */
    s = mk(S(100), "10.0.0.5", "203.0.113.51", 6);
    s.tls_cert_subject = "C=CH,O=Example,CN=*.protonvpn.net";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "Proton VPN");
    /* a CN naming the provider's web site is a site visit, not use */
    s = mk(S(100), "10.0.0.5", "203.0.113.52", 6);
    s.tls_cert_subject = "CN=www.expressvpn.com";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "ExpressVPN");
    CHECK_STR(ni_evidence_name(s.vpn_evidence), "site");
    /* a CN that only contains a provider's name on no label boundary */
    s = mk(S(100), "10.0.0.5", "203.0.113.53", 6);
    s.tls_cert_subject = "CN=notnordvpn.com";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, NULL);
    /* an escaped comma before the CN does not confuse the reader */
    s = mk(S(100), "10.0.0.5", "203.0.113.54", 6);
    s.tls_cert_subject = "O=A\\, Inc.,CN=cg-dialup.net";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "CyberGhost");
    /* a CN that is not a host name */
    s = mk(S(100), "10.0.0.5", "203.0.113.55", 6);
    s.tls_cert_subject = "CN=Private Internet Access";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, NULL);
    /* the organisation still names a provider (vpn-certs.tsv) */
    s.tls_cert_issuer = "C=US,O=Private Internet Access,CN=Private Internet Access";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "Private Internet Access");
    /* only a subjectAltName names the provider: same rule and evidence as
     * the CN (an address entry and an unrelated name before it) */
    ni_strlist san3 = { "us5063.nordvpn.com", NULL }, san2 = { "www.example.org", &san3 },
               san1 = { "192.0.2.7", &san2 };
    s = mk(S(100), "10.0.0.5", "203.0.113.56", 6);
    s.tls_cert_subject = "CN=www.example.org,O=Example";
    s.cert_names = &san1;
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "NordVPN");
    CHECK_STR(ni_evidence_name(s.vpn_evidence), "endpoint");
    CHECK_STR(s.service, "NordVPN");
    /* a wildcard SAN naming a provider's web site: a site visit */
    ni_strlist wild = { "*.expressvpn.com", NULL };
    s = mk(S(100), "10.0.0.5", "203.0.113.57", 6);
    s.cert_names = &wild;
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "ExpressVPN");
    CHECK_STR(ni_evidence_name(s.vpn_evidence), "site");
    /* no label boundary: no provider */
    ni_strlist near = { "notnordvpn.com", NULL };
    s = mk(S(100), "10.0.0.5", "203.0.113.58", 6);
    s.cert_names = &near;
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, NULL);
}

TEST(learned_endpoints)
{
    if (!en) { CHECK(0); return; }
    /* host A asks for a NordVPN server name */
    ni_session d = mk(S(1000), "10.0.0.1", "10.0.0.53", 17);
    ni_strlist ans2 = { "198.51.100.77", NULL }, ans1 = { "2001:db8::77", &ans2 };
    d.dns_query = "us5063.nordvpn.com";
    d.dns_answers = &ans1;
    ni_enrich_session(en, &d);
    CHECK_STR(d.vpn_provider, "NordVPN");                       /* the lookup itself: a site visit */
    CHECK_STR(ni_evidence_name(d.vpn_evidence), "site");
    /* host B opens an OpenVPN tunnel to that address without any name */
    ni_session t = mk(S(1010), "10.0.0.2", "198.51.100.77", 17);
    t.tunnel = NI_TUN_OPENVPN;
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, "NordVPN");
    CHECK_STR(ni_evidence_name(t.vpn_evidence), "endpoint");
    CHECK_STR(ni_tunnel_proto_name(t.vpn_protocol), "OpenVPN");
    t = mk(S(1010), "10.0.0.3", "2001:db8::77", 17);
    t.tunnel = NI_TUN_WIREGUARD;
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, "NordVPN");
    /* a non-tunnel session to the address is not attributed */
    t = mk(S(1010), "10.0.0.2", "198.51.100.77", 6);
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, NULL);
    /* after the answer aged out: unattributed */
    t = mk(S(1000) + NI_DNSCACHE_AGE_MAX_US + S(1), "10.0.0.2", "198.51.100.77", 17);
    t.tunnel = NI_TUN_OPENVPN;
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, NULL);
    CHECK_STR(ni_evidence_name(t.vpn_evidence), "tunnel");
    /* a tunnel that started before the answer: unattributed */
    t = mk(S(900), "10.0.0.2", "198.51.100.77", 17);
    t.tunnel = NI_TUN_OPENVPN;
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, NULL);
    /* a CNAME target naming a provider's servers teaches too */
    ni_session c = mk(S(2000), "10.0.0.1", "10.0.0.53", 17);
    ni_strlist c2 = { "198.51.100.88", NULL }, c1 = { "de-fra.prod.surfshark.com", &c2 };
    c.dns_query = "vpn.corp.example";
    c.dns_answers = &c1;
    ni_enrich_session(en, &c);
    t = mk(S(2001), "10.0.0.9", "198.51.100.88", 17);
    t.tunnel = NI_TUN_WIREGUARD;
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, "Surfshark");
    /* a provider's web site does not teach (only server and API names do) */
    ni_session w = mk(S(3000), "10.0.0.1", "10.0.0.53", 17);
    ni_strlist w1 = { "198.51.100.99", NULL };
    w.dns_query = "www.expressvpn.com";
    w.dns_answers = &w1;
    ni_enrich_session(en, &w);
    t = mk(S(3001), "10.0.0.9", "198.51.100.99", 17);
    t.tunnel = NI_TUN_OPENVPN;
    ni_enrich_session(en, &t);
    CHECK_STR(t.vpn_provider, NULL);
}

TEST(ssl_vpn_category)
{
    if (!en) { CHECK(0); return; }
    ni_session s = mk(S(100), "10.0.0.5", "203.0.113.60", 6);
    ni_http_req q = { .method = "GET", .host = "vpn.corp.example", .path = "/remote/login" };
    s.http = &q;
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "Fortinet SSL-VPN");
    CHECK_STR(s.category, "ssl-vpn");
    CHECK_STR(s.service, "Fortinet SSL-VPN");
    CHECK_STR(ni_evidence_name(s.vpn_evidence), "endpoint");
    /* AnyConnect from nDPI's label alone */
    s = mk(S(100), "10.0.0.5", "203.0.113.61", 6);
    s.ndpi_protocol = "CiscoVPN";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "Cisco AnyConnect");
    CHECK_STR(ni_tunnel_proto_name(s.vpn_protocol), "AnyConnect");
    CHECK_STR(ni_evidence_name(s.vpn_evidence), "tunnel");
    CHECK_STR(s.category, "ssl-vpn");
    /* nDPI's "TLS.CloudflareWarp" is WARP's API over TLS, not a WireGuard tunnel */
    s = mk(S(100), "10.0.0.5", "104.18.47.234", 6);
    s.ndpi_protocol = "TLS.CloudflareWarp";
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, "Cloudflare WARP");
    CHECK(s.vpn_protocol == NI_TUN_NONE);
    s = mk(S(100), "10.0.0.5", "104.18.47.234", 17);
    s.ndpi_protocol = "CloudflareWarp";
    ni_enrich_session(en, &s);
    CHECK_STR(ni_tunnel_proto_name(s.vpn_protocol), "WireGuard");
    /* an ordinary web request is nothing */
    s = mk(S(100), "10.0.0.5", "203.0.113.62", 6);
    ni_http_req r = { .method = "GET", .host = "example.org", .path = "/remote/" };
    s.http = &r;
    ni_enrich_session(en, &s);
    CHECK_STR(s.vpn_provider, NULL);
    CHECK(s.category == NULL || strcmp(s.category, "ssl-vpn"));
}

static json_t *jget(const json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *x = o;
    for (char *k = strtok(buf, "."); k && x; k = strtok(NULL, ".")) x = json_object_get(x, k);
    return (json_t *)x;
}

TEST(profile_corporate)
{
    ni_error err = { 0 };
    ni_tz *tz = ni_tz_load("UTC", &err);
    const char *spec[] = { "175.45.176.0/22" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    ni_session s[4];
    s[0] = mk(S(1700000000), "175.45.176.10", "203.0.113.60", 6);     /* a FortiGate login */
    s[0].vpn_provider = "Fortinet SSL-VPN"; s[0].vpn_evidence = NI_EVIDENCE_ENDPOINT;
    s[0].service = "Fortinet SSL-VPN"; s[0].category = "ssl-vpn";
    s[1] = s[0]; s[1].client = ip("175.45.176.11");                    /* another host, AnyConnect */
    s[1].vpn_provider = "Cisco AnyConnect"; s[1].service = "Cisco AnyConnect";
    s[1].vpn_protocol = NI_TUN_ANYCONNECT; s[1].vpn_evidence = NI_EVIDENCE_TUNNEL;
    s[2] = mk(S(1700000100), "175.45.176.12", "198.51.100.77", 17);    /* a consumer provider */
    s[2].vpn_provider = "NordVPN"; s[2].vpn_protocol = NI_TUN_WIREGUARD; s[2].vpn_evidence = NI_EVIDENCE_ENDPOINT;
    s[3] = s[0]; s[3].first_us = s[3].last_us = S(1700000200);         /* the first host again */
    for (int i = 0; i < 4; i++) s[i].direction = NI_DIRECTION_OUTBOUND;
    ni_profile *p = ni_profile_new(&cfg, &err);
    CHECK(p != NULL);
    if (!p) { ni_tz_free(tz); return; }
    for (int i = 0; i < 4; i++) ni_profile_add(p, &s[i]);
    ni_buf b;
    ni_buf_init(&b, 1 << 24);
    CHECK_INT(ni_profile_json(p, &b), NI_OK);
    json_t *r = ni_reportdoc_load(b.p, b.len, "report.json", &err);     /* matches the schema */
    if (!r) fprintf(stderr, "  %s\n", err.msg);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(json_integer_value(jget(r, "vpn.hosts")), 1);              /* consumer providers only */
        CHECK_INT(json_integer_value(jget(r, "vpn.hosts_with_use")), 1);
        CHECK_INT(json_integer_value(jget(r, "vpn.services")), 1);
        const json_t *bs = jget(r, "vpn.by_service");
        CHECK_INT(json_array_size(bs), 1);
        CHECK_STR(json_string_value(json_object_get(json_array_get(bs, 0), "service")), "NordVPN");
        CHECK_INT(json_integer_value(jget(r, "vpn.corporate.hosts")), 2);
        const json_t *bp = jget(r, "vpn.corporate.by_product");
        CHECK_INT(json_array_size(bp), 2);
        const json_t *f = json_array_get(bp, 0);                            /* most hosts/sessions first */
        CHECK_STR(json_string_value(json_object_get(f, "product")), "Fortinet SSL-VPN");
        CHECK_INT(json_integer_value(json_object_get(f, "sessions")), 2);
        CHECK_INT(json_integer_value(jget(f, "evidence.endpoint")), 2);
        const json_t *g = json_array_get(bp, 1);
        CHECK_STR(json_string_value(json_object_get(g, "product")), "Cisco AnyConnect");
        CHECK_INT(json_integer_value(jget(g, "evidence.tunnel")), 1);
        json_decref(r);
    }
    ni_buf_release(&b);
    ni_profile_free(p);
    ni_tz_free(tz);
}

/* ni_enrich_ua copies a User-Agent's fields into the session's arena as one
 * by one copies would fill it: all when they fit, else each that still fits,
 * in field order (an arena capped just short of them all). */
TEST(ua_fields_arena)
{
    if (!en) { CHECK(0); return; }
    static const char ua[] = "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
                             "Chrome/116.0.0.0 Mobile Safari/537.36";
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = ni_arena_new(1 << 16);
    ni_enrich_ua(en, &s, ua, "\"Android\"", "\"13.0.0\"", "\"SM-S918B\"");
    const char *want[10] = { s.ua_browser, s.ua_browser_version, s.ua_os, s.ua_os_version, s.ua_maker, s.ua_model,
                             s.ua_form_factor, s.windows_version, s.ua_os_detail, s.ua_device_source };
    size_t all = ni_arena_used(s.arena), set = 0;
    for (int i = 0; i < 10; i++) set += want[i] != NULL;
    CHECK(set >= 6);
    CHECK_STR(s.ua_browser, "Chrome Mobile");
    for (size_t cap = all - 48; cap <= all; cap += 8) {
        ni_session t;
        memset(&t, 0, sizeof t);
        t.arena = ni_arena_new(cap);
        ni_enrich_ua(en, &t, ua, "\"Android\"", "\"13.0.0\"", "\"SM-S918B\"");
        const char *got[10] = { t.ua_browser, t.ua_browser_version, t.ua_os, t.ua_os_version, t.ua_maker,
                                t.ua_model, t.ua_form_factor, t.windows_version, t.ua_os_detail, t.ua_device_source };
        size_t used = 0;
        for (int i = 0; i < 10; i++) {
            size_t n = want[i] ? (strlen(want[i]) + 1 + 15) & ~(size_t)15 : 0;
            bool fits = want[i] && used + n <= cap;
            if (fits) used += n;
            if (fits) CHECK_STR(got[i], want[i]);
            else CHECK(got[i] == NULL);
        }
        CHECK_INT(ni_arena_used(t.arena), used);
        CHECK(cap < all ? used < all : used == all);
        ni_arena_free(t.arena);
    }
    ni_arena_free(s.arena);
}

TEST(enrich_cleanup)
{
    ni_enrich_free(en);
    ni_arena_free(arena);
    en = NULL;
    CHECK(1);
}

RUN(T(learn_time_rule), T(learn_bounded), T(sslvpn_table), T(enrich_setup), T(cert_names), T(learned_endpoints),
    T(ssl_vpn_category), T(profile_corporate), T(ua_fields_arena), T(enrich_cleanup))
