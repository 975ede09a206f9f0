/* test_dns.c — DNS message dissection (lib/dissect/ni_dns) and the
 * address→name cache (lib/dissect/ni_dnscache): names, compression, loops
 * and limits, truncation at every length, answers, the cache's ageing and
 * eviction; then real captures (nDPI's dns.pcap, dns_fragmented.pcap and
 * every other DNS-over-UDP flow in the nDPI corpus) against the query name
 * and first answer nDPI lists for each flow. */
#include "ni_test.h"
#include "ni_test_pcap.h"

#include <stdlib.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_dns.h"
#include "dissect/ni_dnscache.h"

#ifndef NI_CORPUS
#define NI_CORPUS "tests/corpus"
#endif

/* ---- a tiny message builder ---- */
typedef struct mb { uint8_t b[4096]; size_t n; } mb;

static void u8(mb *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void u16(mb *m, unsigned v) { u8(m, v >> 8); u8(m, v & 255); }
static void u32(mb *m, uint32_t v) { u16(m, v >> 16); u16(m, v & 0xffff); }
static void name(mb *m, const char *dotted)          /* uncompressed, ends with root */
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);
        u8(m, (unsigned)l);
        memcpy(m->b + m->n, dotted, l);
        m->n += l;
        dotted += l + (dot ? 1 : 0);
    }
    u8(m, 0);
}
static void hdr(mb *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    m->n = 0;
    u16(m, 0x1234); u16(m, flags); u16(m, qd); u16(m, an); u16(m, ns); u16(m, ar);
}

static ni_session *sess_new(void)
{
    ni_session *s = calloc(1, sizeof *s);
    s->arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    return s;
}
static void sess_free(ni_session *s) { ni_arena_free(s->arena); free(s); }

static unsigned count_list(const ni_strlist *l) { unsigned n = 0; for (; l; l = l->next) n++; return n; }
static const char *list_at(const ni_strlist *l, unsigned i) { while (l && i--) l = l->next; return l ? l->s : NULL; }

/* A response: www.Example.COM CNAME edge.cdn.example (compressed) with
 * A 192.0.2.7 and AAAA 2001:db8::7 for the target. */
static void build_response(mb *m)
{
    hdr(m, 0x8180, 1, 3, 0, 0);
    size_t qname = m->n;
    name(m, "www.Example.COM");
    u16(m, 1); u16(m, 1);
    u16(m, 0xc000 | (unsigned)qname); u16(m, 5); u16(m, 1); u32(m, 300);
    size_t rdl = m->n; u16(m, 0);
    size_t target = m->n;
    u8(m, 4); memcpy(m->b + m->n, "edge", 4); m->n += 4;
    u8(m, 3); memcpy(m->b + m->n, "cdn", 3); m->n += 3;
    u16(m, 0xc000 | (unsigned)(qname + 4));            /* -> "example.com" */
    m->b[rdl] = 0; m->b[rdl + 1] = (uint8_t)(m->n - rdl - 2);
    u16(m, 0xc000 | (unsigned)target); u16(m, 1); u16(m, 1); u32(m, 60); u16(m, 4);
    u8(m, 192); u8(m, 0); u8(m, 2); u8(m, 7);
    u16(m, 0xc000 | (unsigned)target); u16(m, 28); u16(m, 0x8001); u32(m, 60); u16(m, 16);
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    memcpy(m->b + m->n, v6, 16); m->n += 16;
}

TEST(query_and_response)
{
    mb m;
    hdr(&m, 0x0100, 1, 0, 0, 0);
    name(&m, "WWW.Example.COM");
    u16(&m, 1); u16(&m, 1);
    CHECK(ni_dns_plausible(m.b, m.n));
    ni_session *s = sess_new();
    ni_dns_info info;
    CHECK_INT(ni_dns_parse(s, m.b, m.n, &info), NI_OK);
    CHECK(!info.response);
    CHECK_STR(info.qname, "www.example.com");
    CHECK_INT(info.qtype, 1);
    CHECK_STR(s->dns_query, "www.example.com");
    CHECK(s->dns_answers == NULL);

    build_response(&m);
    CHECK(ni_dns_plausible(m.b, m.n));
    CHECK_INT(ni_dns_parse(s, m.b, m.n, &info), NI_OK);
    CHECK(info.response);
    CHECK_INT(info.rcode, 0);
    CHECK_INT(info.naddr, 2);
    CHECK_INT(info.ttl[0], 60);
    CHECK_INT(count_list(s->dns_answers), 3);
    CHECK_STR(list_at(s->dns_answers, 0), "edge.cdn.example.com");
    CHECK_STR(list_at(s->dns_answers, 1), "192.0.2.7");
    CHECK_STR(list_at(s->dns_answers, 2), "2001:db8::7");
    /* the same answers again are not duplicated */
    CHECK_INT(ni_dns_parse(s, m.b, m.n, &info), NI_OK);
    CHECK_INT(count_list(s->dns_answers), 3);
    sess_free(s);

    /* a response seen without its query still gives the query name */
    s = sess_new();
    CHECK_INT(ni_dns_parse(s, m.b, m.n, &info), NI_OK);
    CHECK_STR(s->dns_query, "www.example.com");
    sess_free(s);
}

TEST(first_query_only)
{
    mb m;
    ni_session *s = sess_new();
    ni_dns_info info;
    hdr(&m, 0x0100, 1, 0, 0, 0); name(&m, "first.example"); u16(&m, 1); u16(&m, 1);
    ni_dns_parse(s, m.b, m.n, &info);
    hdr(&m, 0x0100, 1, 0, 0, 0); name(&m, "second.example"); u16(&m, 1); u16(&m, 1);
    ni_dns_parse(s, m.b, m.n, &info);
    CHECK_STR(info.qname, "second.example");
    CHECK_STR(s->dns_query, "first.example");
    sess_free(s);
}

TEST(names_escapes_limits)
{
    char out[NI_DNS_TEXT_MAX];
    size_t next;
    /* escapes: a dot and a space inside a label, a byte 0xff */
    uint8_t e[] = {3, 'a', '.', 'B', 3, ' ', 0xff, 'Z', 0};
    CHECK_INT(ni_dns_name(e, sizeof e, 0, out, sizeof out, &next), 16);
    CHECK_STR(out, "a\\046b.\\032\\255z");
    CHECK_INT(next, sizeof e);
    /* root name */
    uint8_t root[] = {0};
    CHECK_INT(ni_dns_name(root, 1, 0, out, sizeof out, &next), 0);
    CHECK_STR(out, "");
    /* self-pointer loop */
    uint8_t loop[] = {0xc0, 0x00};
    CHECK(ni_dns_name(loop, sizeof loop, 0, out, sizeof out, &next) < 0);
    /* two pointers pointing at each other, after a label */
    uint8_t loop2[] = {1, 'a', 0xc0, 4, 0xc0, 2};
    CHECK(ni_dns_name(loop2, sizeof loop2, 0, out, sizeof out, &next) < 0);
    /* a chain of NI_DNS_POINTERS_MAX + 1 pointers, each to the previous one */
    uint8_t chain[2 * (NI_DNS_POINTERS_MAX + 2) + 1];
    chain[0] = 0;
    size_t k = 1;
    for (unsigned i = 0; i <= NI_DNS_POINTERS_MAX; i++, k += 2) {
        size_t to = i == 0 ? 0 : k - 2;
        chain[k] = (uint8_t)(0xc0 | (to >> 8)); chain[k + 1] = (uint8_t)to;
    }
    CHECK(ni_dns_name(chain, k, k - 2, out, sizeof out, &next) < 0);
    /* exactly NI_DNS_POINTERS_MAX pointers is fine */
    CHECK_INT(ni_dns_name(chain, k, k - 4, out, sizeof out, &next), 0);
    CHECK_INT(next, k - 2);
    /* pointer past the end of the message */
    uint8_t past[] = {0xc0, 0x10};
    CHECK_INT(ni_dns_name(past, sizeof past, 0, out, sizeof out, &next), -1);
    /* label type 01 (extended) */
    uint8_t ext[] = {0x41, 0};
    CHECK_INT(ni_dns_name(ext, sizeof ext, 0, out, sizeof out, &next), -1);
    /* truncated label */
    uint8_t tr[] = {5, 'a', 'b'};
    CHECK_INT(ni_dns_name(tr, sizeof tr, 0, out, sizeof out, &next), -2);
    /* 255 wire bytes max: 4 labels of 63 = 257 > 255 */
    uint8_t big[300];
    size_t bn = 0;
    for (int i = 0; i < 4; i++) { big[bn++] = 63; memset(big + bn, 'x', 63); bn += 63; }
    big[bn++] = 0;
    CHECK_INT(ni_dns_name(big, bn, 0, out, sizeof out, &next), -1);
    /* 3 x 63 + 61 = 253 + 1 = within the limit */
    big[3 * 64] = 61; big[3 * 64 + 62] = 0;
    CHECK_INT(ni_dns_name(big, 3 * 64 + 63, 0, out, sizeof out, &next), 3 * 64 + 61);
}

TEST(truncated_every_length)
{
    mb m;
    build_response(&m);
    size_t qend = 12 + 17 + 4;                      /* header + name + type/class */
    for (size_t n = 0; n < m.n; n++) {
        ni_session *s = sess_new();
        ni_dns_info info;
        ni_err e = ni_dns_parse(s, m.b, n, &info);
        CHECK(e == NI_ERR_TRUNCATED);
        if (n >= qend) CHECK_STR(s->dns_query, "www.example.com");
        else CHECK(s->dns_query == NULL);
        sess_free(s);
    }
}

TEST(plausibility)
{
    mb m;
    hdr(&m, 0x0100, 1, 0, 0, 0); name(&m, "a.example"); u16(&m, 1); u16(&m, 1);
    CHECK(ni_dns_plausible(m.b, m.n));
    CHECK(!ni_dns_plausible(m.b, 11));
    hdr(&m, 0x1800, 1, 0, 0, 0); name(&m, "a.example"); u16(&m, 1); u16(&m, 1);  /* opcode 3 */
    CHECK(!ni_dns_plausible(m.b, m.n));
    hdr(&m, 0x0100, 0, 0, 0, 0);
    CHECK(!ni_dns_plausible(m.b, m.n));
    hdr(&m, 0x0100, 1, 200, 0, 0); name(&m, "a.example"); u16(&m, 1); u16(&m, 1);
    CHECK(!ni_dns_plausible(m.b, m.n));
    CHECK(!ni_dns_plausible((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18));
}

TEST(answers_capped)
{
    mb m;
    hdr(&m, 0x8180, 1, 40, 0, 0);
    name(&m, "many.example"); u16(&m, 1); u16(&m, 1);
    for (unsigned i = 0; i < 40; i++) {
        u16(&m, 0xc00c); u16(&m, 1); u16(&m, 1); u32(&m, 10); u16(&m, 4);
        u8(&m, 10); u8(&m, 0); u8(&m, 0); u8(&m, i);
    }
    ni_session *s = sess_new();
    ni_dns_info info;
    CHECK_INT(ni_dns_parse(s, m.b, m.n, &info), NI_OK);
    CHECK_INT(count_list(s->dns_answers), NI_DNS_ANSWERS_MAX);
    CHECK_INT(info.naddr, NI_DNS_ANSWERS_MAX);
    CHECK_STR(list_at(s->dns_answers, 31), "10.0.0.31");
    sess_free(s);
}

/* ---- the cache ---- */
static ni_addr A(const char *t) { ni_addr a; ni_addr_parse(t, &a); return a; }

TEST(cache_basic_and_age)
{
    ni_dnscache *c = ni_dnscache_new(0, 0);
    ni_addr cl = A("10.0.0.1"), cl2 = A("10.0.0.2"), x = A("192.0.2.1"), y = A("2001:db8::1");
    int64_t t0 = 1700000000ll * 1000000;
    CHECK_INT(ni_dnscache_add(c, &cl, &x, "www.example.com", 60, t0), NI_OK);
    CHECK_INT(ni_dnscache_add(c, &cl, &y, "v6.example.com", 100000, t0), NI_OK);
    CHECK_INT(ni_dnscache_add(c, &cl, &y, "", 60, t0), NI_ERR_ARG);
    CHECK_STR(ni_dnscache_lookup(c, &cl, &x, t0), "www.example.com");
    CHECK(ni_dnscache_lookup(c, &cl2, &x, t0) == NULL);          /* another client */
    CHECK(ni_dnscache_lookup(c, &cl, &x, t0 - 1) == NULL);        /* before the answer */
    /* TTL 60 s + grace */
    CHECK_STR(ni_dnscache_lookup(c, &cl, &x, t0 + 60 * 1000000ll + NI_DNSCACHE_TTL_GRACE_US), "www.example.com");
    CHECK(ni_dnscache_lookup(c, &cl, &x, t0 + 60 * 1000000ll + NI_DNSCACHE_TTL_GRACE_US + 1) == NULL);
    /* long TTL: capped by the maximum age */
    CHECK_STR(ni_dnscache_lookup(c, &cl, &y, t0 + NI_DNSCACHE_AGE_MAX_US), "v6.example.com");
    CHECK(ni_dnscache_lookup(c, &cl, &y, t0 + NI_DNSCACHE_AGE_MAX_US + 1) == NULL);
    /* a newer answer replaces the name */
    CHECK_INT(ni_dnscache_add(c, &cl, &x, "other.example.com", 60, t0 + 10), NI_OK);
    CHECK_STR(ni_dnscache_lookup(c, &cl, &x, t0 + 20), "other.example.com");
    CHECK_INT(ni_dnscache_count(c), 2);
    ni_dnscache_free(c);
}

TEST(cache_eviction)
{
    enum { MAX = 100 };
    ni_dnscache *c = ni_dnscache_new(MAX, 0);
    ni_addr cl = A("10.0.0.1");
    char nm[32];
    for (unsigned i = 0; i < MAX + 50; i++) {
        ni_addr a = A("192.0.2.0");
        a.b[2] = (uint8_t)(i >> 8); a.b[3] = (uint8_t)i;
        snprintf(nm, sizeof nm, "n%u.example", i);
        CHECK_INT(ni_dnscache_add(c, &cl, &a, nm, 3600, 1000 + i), NI_OK);
        CHECK(ni_dnscache_count(c) <= MAX);
    }
    CHECK_INT(ni_dnscache_count(c), MAX);
    unsigned found = 0;
    for (unsigned i = 0; i < MAX + 50; i++) {
        ni_addr a = A("192.0.2.0");
        a.b[2] = (uint8_t)(i >> 8); a.b[3] = (uint8_t)i;
        const char *n = ni_dnscache_lookup(c, &cl, &a, 5000);
        snprintf(nm, sizeof nm, "n%u.example", i);
        if (i < 50) CHECK(n == NULL);               /* the 50 oldest were evicted */
        else { CHECK_STR(n, nm); found += n != NULL; }
    }
    CHECK_INT(found, MAX);
    /* refreshing an old entry makes it the newest: the next eviction spares it */
    ni_addr a50 = A("192.0.2.50");
    CHECK_INT(ni_dnscache_add(c, &cl, &a50, "again.example", 3600, 9000), NI_OK);
    ni_addr fresh = A("198.51.100.1");
    CHECK_INT(ni_dnscache_add(c, &cl, &fresh, "fresh.example", 3600, 9001), NI_OK);
    CHECK_STR(ni_dnscache_lookup(c, &cl, &a50, 9500), "again.example");
    CHECK_STR(ni_dnscache_lookup(c, &cl, &fresh, 9500), "fresh.example");
    CHECK(ni_dnscache_count(c) <= MAX);
    ni_dnscache_free(c);
}

/* ---- real captures against nDPI's listed query name and first answer ---- */
typedef struct flow_rec {
    char a[64], b[64];             /* endpoints, as nDPI writes them */
    ni_session *s;
    unsigned msgs, errs;
    char later[4][NI_DNS_TEXT_MAX]; /* question names of responses */
    unsigned nlater;
} flow_rec;

typedef struct walk {
    flow_rec f[512];
    unsigned n;
} walk;

static void on_pkt(void *ctx, const tp_pkt *pk)
{
    walk *w = ctx;
    if (pk->proto != 17 || !pk->len) return;
    if (pk->sport != 53 && pk->dport != 53 && pk->sport != 5353 && pk->dport != 5353 &&
        pk->sport != 5355 && pk->dport != 5355)
        return;
    char a[64], b[64];
    tp_endpoint(&pk->src, pk->sport, a, sizeof a);
    tp_endpoint(&pk->dst, pk->dport, b, sizeof b);
    flow_rec *f = NULL;
    for (unsigned i = 0; i < w->n && !f; i++)
        if ((!strcmp(w->f[i].a, a) && !strcmp(w->f[i].b, b)) || (!strcmp(w->f[i].a, b) && !strcmp(w->f[i].b, a)))
            f = &w->f[i];
    if (!f) {
        if (w->n == sizeof w->f / sizeof w->f[0]) return;
        f = &w->f[w->n++];
        snprintf(f->a, sizeof f->a, "%s", a);
        snprintf(f->b, sizeof f->b, "%s", b);
        f->s = sess_new();
    }
    ni_dns_info info;
    f->msgs++;
    if (ni_dns_parse(f->s, pk->payload, pk->len, &info) != NI_OK) f->errs++;
    if (info.response && f->nlater < 4)
        snprintf(f->later[f->nlater++], sizeof f->later[0], "%s", info.qname);
}

/* nDPI writes characters outside [a-z0-9._-] of a name as '_'. */
static void ndpi_form(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        char c = in[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        out[i] = ok ? c : '_';
    }
    out[i] = 0;
}

/* Compares every DNS-over-UDP flow of one capture that nDPI names; returns
 * the number of flows compared, adds disagreements to *bad. */
static unsigned answers_checked;

static unsigned compare_capture(const char *pcap, const char *out, unsigned *bad, unsigned *answered_not_first,
                                bool verbose)
{
    walk *w = calloc(1, sizeof *w);
    size_t ne = 0;
    tp_expect *ex = tp_read_expect(out, &ne);
    unsigned compared = 0;
    if (tp_walk(pcap, on_pkt, w) < 0 || !ex) { (*bad)++; goto done; }
    FILE *f = fopen(out, "r");
    char *line = NULL;
    size_t lc = 0;
    while (f && getline(&line, &lc, f) > 0) {
        if (!strstr(line, "[proto: 5") && !strstr(line, "/DNS")) continue;
        char l4[8], a[80], arrow[8], b[80], host[300], first[128];
        int num;
        if (sscanf(line, "\t%d\t%7s %79s %7s %79s", &num, l4, a, arrow, b) != 5 || strcmp(l4, "UDP")) continue;
        if (!tp_field(line, "[Hostname/SNI: ", host, sizeof host)) continue;
        flow_rec *fr = NULL;
        for (unsigned i = 0; i < w->n && !fr; i++)
            if ((!strcmp(w->f[i].a, a) && !strcmp(w->f[i].b, b)) || (!strcmp(w->f[i].a, b) && !strcmp(w->f[i].b, a)))
                fr = &w->f[i];
        if (!fr) continue;                          /* not on a DNS port */
        compared++;
        char ours[300] = "";
        if (fr->s->dns_query) ndpi_form(fr->s->dns_query, ours, sizeof ours);
        bool ok = !strcmp(ours, host);
        /* known difference: nDPI names the query whose response it saw,
         * netintel the first query of the flow */
        for (unsigned i = 0; i < fr->nlater && !ok; i++)
            if (!strcmp(fr->later[i], host)) { ok = true; (*answered_not_first)++; }
        /* "[Hostname/SNI: x][addr]": the first answer address, 0.0.0.0 = none */
        char key[340];
        snprintf(key, sizeof key, "[Hostname/SNI: %s][", host);
        const char *ap = strstr(line, key);
        first[0] = 0;
        /* (a response lost to IP fragmentation, which the test walker does
         * not reassemble, cannot give answers: only flows with a response
         * that parsed whole) */
        if (ap && sscanf(ap + strlen(key), "%127[^]]", first) == 1 && strcmp(first, "0.0.0.0") != 0 &&
            fr->errs == 0 && fr->nlater > 0) {
            bool has = false;
            answers_checked++;
            for (const ni_strlist *l = fr->s->dns_answers; l; l = l->next) has |= !strcmp(l->s, first);
            ok &= has;
        }
        if (!ok) {
            (*bad)++;
            if (verbose)
                fprintf(stderr, "  %s flow %d %s: nDPI '%s' [%s], ours '%s'\n", pcap, num, a, host, first,
                        fr->s->dns_query ? fr->s->dns_query : "(null)");
        }
    }
    free(line);
    if (f) fclose(f);
done:
    for (unsigned i = 0; i < w->n; i++) sess_free(w->f[i].s);
    free(w);
    free(ex);
    return compared;
}

TEST(corpus_dns_pcap)
{
    unsigned bad = 0, other = 0;
    /* flow 2 starts with a response (nDPI lists the server first) and gives
     * "www.l.google.com", not the later query; flow 1 runs over PPPoE, which
     * the test walker does not decode */
    unsigned n = compare_capture(NI_CORPUS "/ndpi/pcap/dns.pcap", NI_CORPUS "/ndpi/result/dns.pcap.out", &bad,
                                 &other, true);
    CHECK_INT(n, 1);
    CHECK_INT(bad, 0);
    CHECK_INT(other, 0);
}

TEST(corpus_dns_fragmented)
{
    unsigned bad = 0, other = 0;
    unsigned n = compare_capture(NI_CORPUS "/ndpi/pcap/dns_fragmented.pcap",
                                 NI_CORPUS "/ndpi/result/dns_fragmented.pcap.out", &bad, &other, true);
    CHECK(n >= 15);
    CHECK_INT(bad, 0);
    CHECK_INT(other, 0);
}

TEST(corpus_all_dns_flows)
{
    /* every capture of the nDPI development set: each UDP DNS flow nDPI
     * names must give the same query name and include nDPI's first answer */
    const char *names[] = {
        "1kxun.pcap", "anyconnect-vpn.pcap", "bad-dns-traffic.pcap", "conncheck.pcap",
        "dns-tunnel-iodine.pcap", "dns_ambiguous_names.pcap", "dns_long_domainname.pcap",
        "instagram.pcap", "iphone.pcap", "mullvad_dns.pcap", "netflix.pcap", "punycode-idn.pcap",
        "wechat.pcap", "weibo.pcap", "whatsapp_login_chat.pcap", "sites.pcapng", "facebook.pcap",
        "reddit.pcap", "tumblr.pcap", "googledns_android10.pcap",
    };
    unsigned total = 0, bad = 0, other = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[512], o[512];
        snprintf(p, sizeof p, NI_CORPUS "/ndpi/pcap/%s", names[i]);
        snprintf(o, sizeof o, NI_CORPUS "/ndpi/result/%s.out", names[i]);
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        fclose(f);
        total += compare_capture(p, o, &bad, &other, true);
    }
    fprintf(stderr, "  corpus DNS flows compared: %u, same: %u, nDPI names a later answered query: %u, "
            "disagreements: %u; first answers checked: %u\n", total, total - bad - other, other, bad,
            answers_checked);
    CHECK(total >= 100);
    CHECK(other <= 3);
    CHECK_INT(bad, 0);
}

/* ---- transactions (s->dns) ---- */
static void query_msg(mb *m, unsigned id, const char *qname, unsigned qtype)
{
    hdr(m, 0x0100, 1, 0, 0, 0);
    m->b[0] = (uint8_t)(id >> 8); m->b[1] = (uint8_t)id;
    name(m, qname);
    u16(m, qtype); u16(m, 1);
}
/* A response to (id, qname, qtype) with rcode and, when ip is set, one A
 * answer with this TTL, then one TXT answer "hi\1" when txt. */
static void response_msg(mb *m, unsigned id, const char *qname, unsigned qtype, unsigned rcode,
                         const uint8_t *ip, uint32_t ttl, bool txt)
{
    hdr(m, 0x8180 | rcode, 1, (ip ? 1u : 0u) + (txt ? 1u : 0u), 0, 0);
    m->b[0] = (uint8_t)(id >> 8); m->b[1] = (uint8_t)id;
    name(m, qname);
    u16(m, qtype); u16(m, 1);
    if (ip) { u16(m, 0xc00c); u16(m, 1); u16(m, 1); u32(m, ttl); u16(m, 4); for (int i = 0; i < 4; i++) u8(m, ip[i]); }
    if (txt) { u16(m, 0xc00c); u16(m, 16); u16(m, 1); u32(m, ttl + 7); u16(m, 4); u8(m, 3); u8(m, 'h'); u8(m, 'i'); u8(m, 1); }
}
static const ni_dns_txn *txn_at(const ni_session *s, unsigned i)
{
    const ni_dns_txn *t = s->dns;
    while (t && i--) t = t->next;
    return t;
}
static unsigned txn_count(const ni_session *s) { unsigned n = 0; for (const ni_dns_txn *t = s->dns; t; t = t->next) n++; return n; }

TEST(transactions_pairing)
{
    mb m;
    ni_dns_info info;
    ni_session *s = sess_new();
    static const uint8_t ip1[4] = {192, 0, 2, 1}, ip2[4] = {192, 0, 2, 2};
    /* two queries in flight, answered out of order; one retransmitted */
    query_msg(&m, 1, "a.example", 1); ni_dns_parse(s, m.b, m.n, &info);
    query_msg(&m, 2, "b.example", 16); ni_dns_parse(s, m.b, m.n, &info);
    query_msg(&m, 1, "a.example", 1); ni_dns_parse(s, m.b, m.n, &info);      /* retransmission */
    response_msg(&m, 2, "b.example", 16, 0, NULL, 30, true); ni_dns_parse(s, m.b, m.n, &info);
    response_msg(&m, 1, "a.example", 1, 0, ip1, 300, false); ni_dns_parse(s, m.b, m.n, &info);
    response_msg(&m, 1, "a.example", 1, 0, ip1, 300, false); ni_dns_parse(s, m.b, m.n, &info); /* duplicate */
    /* a query never answered; an NXDOMAIN; a response without its query */
    query_msg(&m, 3, "c.example", 28); ni_dns_parse(s, m.b, m.n, &info);
    query_msg(&m, 4, "d.example", 1); ni_dns_parse(s, m.b, m.n, &info);
    response_msg(&m, 4, "d.example", 1, 3, NULL, 0, false); ni_dns_parse(s, m.b, m.n, &info);
    response_msg(&m, 9, "e.example", 1, 0, ip2, 60, false); ni_dns_parse(s, m.b, m.n, &info);
    /* the same id for another name is another transaction */
    query_msg(&m, 4, "f.example", 10); ni_dns_parse(s, m.b, m.n, &info);
    response_msg(&m, 4, "f.example", 10, 5, NULL, 0, false); ni_dns_parse(s, m.b, m.n, &info);
    /* an unknown type */
    query_msg(&m, 5, "g.example", 65280); ni_dns_parse(s, m.b, m.n, &info);

    CHECK_INT(txn_count(s), 7);
    CHECK_INT(s->dns_count, 7);
    CHECK_INT(s->dns_dropped, 0);
    CHECK_STR(s->dns_query, "a.example");
    const ni_dns_txn *t = txn_at(s, 0);
    CHECK_STR(t->query, "a.example"); CHECK_STR(t->qtype, "A"); CHECK_STR(t->rcode, "NOERROR");
    CHECK_INT(count_list(t->answers), 1); CHECK_STR(list_at(t->answers, 0), "192.0.2.1");
    CHECK_INT(t->ttl, 300); CHECK(t->queried);
    t = txn_at(s, 1);
    CHECK_STR(t->query, "b.example"); CHECK_STR(t->qtype, "TXT"); CHECK_STR(t->rcode, "NOERROR");
    CHECK_STR(list_at(t->answers, 0), "hi\\001"); CHECK_INT(t->ttl, 37);
    t = txn_at(s, 2);
    CHECK_STR(t->query, "c.example"); CHECK_STR(t->qtype, "AAAA");
    CHECK(t->rcode == NULL); CHECK(t->answers == NULL); CHECK_INT(t->ttl, -1);
    t = txn_at(s, 3);
    CHECK_STR(t->query, "d.example"); CHECK_STR(t->rcode, "NXDOMAIN"); CHECK_INT(t->ttl, -1);
    t = txn_at(s, 4);
    CHECK_STR(t->query, "e.example"); CHECK_STR(t->rcode, "NOERROR"); CHECK(!t->queried);
    CHECK_STR(list_at(t->answers, 0), "192.0.2.2"); CHECK_INT(t->ttl, 60);
    t = txn_at(s, 5);
    CHECK_STR(t->query, "f.example"); CHECK_STR(t->qtype, "NULL"); CHECK_STR(t->rcode, "REFUSED");
    t = txn_at(s, 6);
    CHECK_STR(t->query, "g.example"); CHECK_STR(t->qtype, "TYPE65280");
    /* the session-wide answers are unchanged: A/AAAA/CNAME only, no TXT */
    CHECK_INT(count_list(s->dns_answers), 2);
    sess_free(s);
}

TEST(transactions_truncated_and_limits)
{
    mb m;
    ni_dns_info info;
    static const uint8_t ip[4] = {198, 51, 100, 5};
    /* a response cut inside its answer still completes its transaction */
    response_msg(&m, 7, "t.example", 1, 0, ip, 10, false);
    for (size_t n = 0; n < m.n; n++) {
        ni_session *s = sess_new();
        query_msg(&m, 7, "t.example", 1);
        mb q = m;
        CHECK_INT(ni_dns_parse(s, q.b, q.n, &info), NI_OK);
        response_msg(&m, 7, "t.example", 1, 0, ip, 10, false);
        CHECK(ni_dns_parse(s, m.b, n, &info) != NI_OK);
        CHECK_INT(txn_count(s), 1);
        bool question_whole = n >= 12 + 11 + 4;
        CHECK_STR(s->dns->rcode, question_whole ? "NOERROR" : NULL);
        CHECK(s->dns->answers == NULL);
        sess_free(s);
    }
    /* mnemonics */
    char b[12];
    CHECK_STR(ni_dns_qtype_name(1, b), "A");
    CHECK_STR(ni_dns_qtype_name(255, b), "ANY");
    CHECK_STR(ni_dns_qtype_name(65, b), "HTTPS");
    CHECK_STR(ni_dns_qtype_name(65535, b), "TYPE65535");
    CHECK_STR(ni_dns_rcode_name(2, b), "SERVFAIL");
    CHECK_STR(ni_dns_rcode_name(15, b), "RCODE15");
    /* at most NI_DNS_TRANSACTIONS_MAX transactions; the rest are counted */
    ni_session *s = sess_new();
    for (unsigned i = 0; i < NI_DNS_TRANSACTIONS_MAX + 10; i++) {
        char qn[32];
        snprintf(qn, sizeof qn, "n%u.example", i);
        query_msg(&m, i, qn, 1);
        ni_dns_parse(s, m.b, m.n, &info);
    }
    CHECK_INT(txn_count(s), NI_DNS_TRANSACTIONS_MAX);
    CHECK_INT(s->dns_dropped, 10);
    CHECK_STR(s->dns_tail->query, "n255.example");
    sess_free(s);
    /* long names fill the arena before the count: DNS leaves its reserve */
    s = sess_new();
    unsigned sent = 0;
    for (unsigned i = 0; i < NI_DNS_TRANSACTIONS_MAX; i++, sent++) {
        char qn[260];
        snprintf(qn, sizeof qn, "%060u.%060u.%060u.%060u.x", i, i, i, i);
        query_msg(&m, i, qn, 1);
        ni_dns_parse(s, m.b, m.n, &info);
    }
    CHECK(s->dns_count < NI_DNS_TRANSACTIONS_MAX);
    CHECK_INT(s->dns_count + s->dns_dropped, sent);
    CHECK(ni_arena_used(s->arena) + NI_DNS_ARENA_RESERVE - 512 <= NI_SESSION_ARENA_MAX);
    sess_free(s);
}

RUN(T(transactions_pairing), T(transactions_truncated_and_limits), T(query_and_response), T(first_query_only), T(names_escapes_limits), T(truncated_every_length),
    T(plausibility), T(answers_capped), T(cache_basic_and_age), T(cache_eviction), T(corpus_dns_pcap),
    T(corpus_dns_fragmented), T(corpus_all_dns_flows))
