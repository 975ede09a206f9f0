/* test_catalog.c — unit tests of lib/enrich/ni_tsv and ni_catalog: TSV
 * format errors ("file:LINE: problem"), domain-suffix matching on label
 * boundaries (longest wins, "*." rows, case, trailing dot), prefix matching,
 * contradictions, and lookups against the shipped data/services.tsv and
 * data/vpn.tsv, the per-thread memo against direct lookups; prints lookups
 * per second. */
#include "ni_test.h"
#include "enrich/ni_tsv.h"
#include "enrich/ni_catalog.h"
#include "core/ni_limits.h"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
    return path;
}

static const char *svc(const ni_catalog *c, const char *name)
{
    const ni_catalog_entry *e = ni_catalog_service_domain(c, name);
    return e ? e->name : "-";
}

static const char *vpn(const ni_catalog *c, const char *name)
{
    const ni_catalog_entry *e = ni_catalog_vpn_domain(c, name);
    return e ? ni_vpn_kind_name(e->kind) : "-";
}

TEST(tsv_format)
{
    ni_tsv t; ni_error err = { 0 };
    const char *p = write_tmp("a.tsv", "# comment\n\nname\tvalue\r\nx\t1\n# c\n\ny\t\n");
    CHECK_INT(ni_tsv_open(&t, p, &err), NI_OK);
    CHECK_INT(ni_tsv_col(&t, "value"), 1);
    CHECK_INT(ni_tsv_col(&t, "nope"), -1);
    CHECK_INT(ni_tsv_next(&t, &err), 1);
    CHECK_STR(ni_tsv_field(&t, 0), "x"); CHECK_STR(ni_tsv_field(&t, 1), "1");
    CHECK_INT(t.line, 4);
    CHECK_INT(ni_tsv_next(&t, &err), 1);
    CHECK_STR(ni_tsv_field(&t, 0), "y"); CHECK_STR(ni_tsv_field(&t, 1), "");
    CHECK_STR(ni_tsv_field(&t, 7), "");
    CHECK_INT(ni_tsv_next(&t, &err), 0);
    ni_tsv_close(&t);

    p = write_tmp("b.tsv", "a\tb\n1\t2\n1\t2\t3\n");
    CHECK_INT(ni_tsv_open(&t, p, &err), NI_OK);
    CHECK_INT(ni_tsv_next(&t, &err), 1);
    CHECK_INT(ni_tsv_next(&t, &err), -1);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(strstr(err.msg, "b.tsv:3: 3 fields, the header has 2") != NULL);
    ni_tsv_close(&t);

    p = write_tmp("c.tsv", "# only a comment\n");
    CHECK_INT(ni_tsv_open(&t, p, &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "c.tsv: empty file") != NULL);
    CHECK_INT(ni_tsv_open(&t, "/nonexistent/x.tsv", &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "/nonexistent/x.tsv: cannot open") != NULL);
    p = write_tmp("d.tsv", "a\ta\n");
    CHECK_INT(ni_tsv_open(&t, p, &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "duplicate header column 'a'") != NULL);

    /* a NUL byte and an over-long line are errors, not truncations */
    snprintf(err.msg, sizeof err.msg, "%s", "");
    char path[128];
    snprintf(path, sizeof path, "%s/e.tsv", tmpdir);
    FILE *f = fopen(path, "wb");
    fwrite("a\nx\0y\n", 1, 6, f);
    fclose(f);
    CHECK_INT(ni_tsv_open(&t, path, &err), NI_OK);
    CHECK_INT(ni_tsv_next(&t, &err), -1);
    CHECK(strstr(err.msg, "e.tsv:2: NUL byte") != NULL);
    ni_tsv_close(&t);
    f = fopen(path, "wb");
    fputs("a\n", f);
    for (int i = 0; i < 70000; i++) fputc('x', f);
    fputc('\n', f);
    fclose(f);
    CHECK_INT(ni_tsv_open(&t, path, &err), NI_OK);
    CHECK_INT(ni_tsv_next(&t, &err), -1);
    CHECK(strstr(err.msg, "e.tsv:2: line longer than") != NULL);
    ni_tsv_close(&t);
    /* a line of exactly NI_LINE_MAX bytes is one; lines found across the
     * reader's read-ahead window (ni_tsv.c), the last one without its
     * newline; a NUL past the limit is the long line's error */
    f = fopen(path, "wb");
    fputs("a\tb\n", f);
    for (int i = 0; i < (int)NI_LINE_MAX - 2; i++) fputc(i ? 'y' : 'x', f);
    fputs("\tz\n", f);
    for (int i = 0; i < 30000; i++) fprintf(f, "r%d\t%d\r\n", i, i * 7);
    fputs("last\tline", f);
    fclose(f);
    CHECK_INT(ni_tsv_open(&t, path, &err), NI_OK);
    CHECK_INT(ni_tsv_next(&t, &err), 1);
    CHECK_INT(strlen(ni_tsv_field(&t, 0)), NI_LINE_MAX - 2);
    CHECK_STR(ni_tsv_field(&t, 1), "z");
    int rows = 0, wrong = 0;
    char want[2][32];
    for (int i = 0; i < 30000; i++) {
        if (ni_tsv_next(&t, &err) != 1) { wrong++; break; }
        snprintf(want[0], sizeof want[0], "r%d", i);
        snprintf(want[1], sizeof want[1], "%d", i * 7);
        if (strcmp(ni_tsv_field(&t, 0), want[0]) || strcmp(ni_tsv_field(&t, 1), want[1])) wrong++;
        rows++;
    }
    CHECK_INT(rows, 30000);
    CHECK_INT(wrong, 0);
    CHECK_INT(ni_tsv_next(&t, &err), 1);
    CHECK_STR(ni_tsv_field(&t, 0), "last"); CHECK_STR(ni_tsv_field(&t, 1), "line");
    CHECK_INT(t.line, 30003);
    CHECK_INT(ni_tsv_next(&t, &err), 0);
    ni_tsv_close(&t);
    f = fopen(path, "wb");
    fputs("a\n", f);
    for (int i = 0; i < 70000; i++) fputc(i == 66000 ? 0 : 'x', f);
    fclose(f);
    CHECK_INT(ni_tsv_open(&t, path, &err), NI_OK);
    CHECK_INT(ni_tsv_next(&t, &err), -1);
    CHECK(strstr(err.msg, "e.tsv:2: line longer than") != NULL);
    ni_tsv_close(&t);
}

TEST(domain_rules)
{
    const char *p = write_tmp("s.tsv",
        "type\tmatch\tservice\tcategory\tsource\n"
        "domain\tqq.com\tQQ\tmessaging\thttps://im.qq.com/\n"
        "domain\tweixin.qq.com\tWeChat\tmessaging\thttps://www.wechat.com/\n"
        "domain\t*.weixin.qq.com\tWeChat\tmessaging\thttps://www.wechat.com/\n"
        "domain\tfacebook.com\tFacebook\tsocial\thttps://www.facebook.com/\n"
        "domain\t*.cdn.example\tCDN\tcdn\thttps://cdn.example/\n"
        "domain\tfacebook.com\tFacebook\tsocial\thttps://www.facebook.com/\n"   /* identical repeat */
        "prefix\t157.240.0.0/16\tFacebook\tsocial\thttps://www.facebook.com/\n"
        "prefix\t157.240.1.0/24\tEdge\tcdn\thttps://x.example/\n"
        "prefix\t2a03:2880::/32\tFacebook\tsocial\thttps://www.facebook.com/\n");
    ni_catalog *c = ni_catalog_new();
    ni_error err = { 0 };
    CHECK_INT(ni_catalog_load_services(c, p, &err), NI_OK);
    CHECK_INT(ni_catalog_service_rows(c), 8);
    CHECK_STR(svc(c, "qq.com"), "QQ");
    CHECK_STR(svc(c, "mail.qq.com"), "QQ");
    CHECK_STR(svc(c, "weixin.qq.com"), "WeChat");
    CHECK_STR(svc(c, "long.weixin.qq.com"), "WeChat");
    CHECK_STR(svc(c, "a.b.weixin.qq.com"), "WeChat");
    CHECK_STR(svc(c, "xweixin.qq.com"), "QQ");          /* not a label boundary */
    CHECK_STR(svc(c, "notfacebook.com"), "-");
    CHECK_STR(svc(c, "facebook.com.evil.net"), "-");
    CHECK_STR(svc(c, "WWW.FaceBook.COM."), "Facebook");
    CHECK_STR(svc(c, "facebook.com.."), "-");
    CHECK_STR(svc(c, ".facebook.com"), "-");
    CHECK_STR(svc(c, "www..facebook.com"), "-");
    CHECK_STR(svc(c, ""), "-");
    CHECK_STR(svc(c, "com"), "-");
    CHECK_STR(svc(c, "cdn.example"), "-");                /* "*." rows need a subdomain */
    CHECK_STR(svc(c, "a.cdn.example"), "CDN");
    CHECK(ni_catalog_service_domain(c, NULL) == NULL);
    const ni_catalog_entry *e = ni_catalog_service_domain(c, "x.weixin.qq.com");
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->match, "*.weixin.qq.com");
        CHECK_STR(e->category, "messaging");
        CHECK_STR(e->type, "domain");
        CHECK_INT(e->line, 4);
        CHECK(e->kind == NI_VPN_KIND_NONE);
    }
    ni_addr a;
    ni_addr_parse("157.240.9.9", &a);
    e = ni_catalog_service_addr(c, &a);
    CHECK(e && !strcmp(e->name, "Facebook"));
    ni_addr_parse("157.240.1.9", &a);
    e = ni_catalog_service_addr(c, &a);
    CHECK(e && !strcmp(e->name, "Edge"));
    ni_addr_parse("::ffff:157.240.9.9", &a);
    e = ni_catalog_service_addr(c, &a);
    CHECK(e && !strcmp(e->name, "Facebook"));
    ni_addr_parse("2a03:2880:f003::1", &a);
    e = ni_catalog_service_addr(c, &a);
    CHECK(e && !strcmp(e->name, "Facebook") && !strcmp(e->type, "prefix"));
    ni_addr_parse("8.8.8.8", &a);
    CHECK(ni_catalog_service_addr(c, &a) == NULL);
    ni_catalog_free(c);
}

TEST(vpn_rules)
{
    const char *p = write_tmp("v.tsv",
        "type\tmatch\tprovider\tkind\tsource\n"
        "domain\tprov.example\tProv\tsite\thttps://prov.example/\n"
        "domain\t*.prov.example\tProv\tserver\thttps://prov.example/\n"
        "domain\tapi.prov.example\tProv\tapi\thttps://prov.example/\n"
        "domain\tdl.cdn.example\tProv\tupdate\thttps://prov.example/\n"
        "domain\t*.zone.example\tProv\tserver\thttps://prov.example/\n");
    ni_catalog *c = ni_catalog_new();
    ni_error err = { 0 };
    CHECK_INT(ni_catalog_load_vpn(c, p, &err), NI_OK);
    CHECK_STR(vpn(c, "prov.example"), "site");
    CHECK_STR(vpn(c, "www.prov.example"), "site");         /* www: the zone's own row */
    CHECK_STR(vpn(c, "WWW.Prov.Example."), "site");
    CHECK_STR(vpn(c, "www2.prov.example"), "server");
    CHECK_STR(vpn(c, "a.www.prov.example"), "server");     /* only the label right under the zone */
    CHECK_STR(vpn(c, "us12.prov.example"), "server");
    CHECK_STR(vpn(c, "api.prov.example"), "api");
    CHECK_STR(vpn(c, "v2.api.prov.example"), "api");
    CHECK_STR(vpn(c, "dl.cdn.example"), "update");
    CHECK_STR(vpn(c, "www.zone.example"), "server");       /* no site row for the zone: still a server */
    CHECK_STR(ni_vpn_kind_name(NI_VPN_KIND_UPDATE), "update");
    CHECK(ni_vpn_kind_name(NI_VPN_KIND__COUNT) == NULL);
    ni_catalog_free(c);
    p = write_tmp("v.tsv", "type\tmatch\tprovider\tkind\tsource\ndomain\ta.example\tA\tproxy\thttps://a/\n");
    c = ni_catalog_new();
    CHECK_INT(ni_catalog_load_vpn(c, p, &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "v.tsv:2: kind 'proxy' is not api, site, server or update") != NULL);
    ni_catalog_free(c);
}

static void expect_load_error(const char *body, const char *needle)
{
    const char *p = write_tmp("bad.tsv", body);
    ni_catalog *c = ni_catalog_new();
    ni_error err = { 0 };
    CHECK_INT(ni_catalog_load_services(c, p, &err), NI_ERR_DATA);
    if (!strstr(err.msg, needle)) {
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.msg, needle);
        CHECK(0);
    }
    ni_catalog_free(c);
}

TEST(load_errors)
{
    const char *h = "type\tmatch\tservice\tcategory\tsource\n";
    char b[1024];
    snprintf(b, sizeof b, "%sdomain\tqq.com\tQQ\tmessaging\thttps://a/\ndomain\tqq.com\tWeChat\tmessaging\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:3: 'qq.com' is already 'QQ' (line 2), not 'WeChat'");
    snprintf(b, sizeof b, "%sprefix\t10.0.0.0/8\tA\tcloud\thttps://a/\nprefix\t10.1.2.3/8\tB\tcloud\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:3: '10.1.2.3/8' is already 'A'");
    snprintf(b, sizeof b, "%sdomain\tQQ.com\tQQ\tmessaging\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:2: bad domain 'QQ.com'");
    snprintf(b, sizeof b, "%sdomain\ta..b\tQQ\tmessaging\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:2: bad domain");
    snprintf(b, sizeof b, "%sprefix\t10.0.0.0/40\tQQ\tmessaging\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:2: bad prefix '10.0.0.0/40'");
    snprintf(b, sizeof b, "%sdomain\tqq.com\tQQ\tmessaging\tnone\n", h);
    expect_load_error(b, "bad.tsv:2: source 'none' is not an http(s) URL");
    snprintf(b, sizeof b, "%sregex\tqq.com\tQQ\tmessaging\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:2: type 'regex'");
    snprintf(b, sizeof b, "%sdomain\tqq.com\tQQ\tMessaging!\thttps://a/\n", h);
    expect_load_error(b, "bad.tsv:2: bad category");
    expect_load_error("type\tmatch\tservice\tsource\n", "bad.tsv: no column 'category'");
    ni_catalog *c = ni_catalog_new();
    ni_error err = { 0 };
    CHECK_INT(ni_catalog_load(c, "/nonexistent", &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "/nonexistent/services.tsv: cannot open") != NULL);
    ni_catalog_free(c);
}

TEST(shipped_catalogues)
{
    ni_catalog *c = ni_catalog_new();
    ni_error err = { 0 };
    CHECK_INT(ni_catalog_load(c, "data", &err), NI_OK);
    if (err.code) fprintf(stderr, "  %s\n", err.msg);
    CHECK(ni_catalog_service_rows(c) >= 500);
    CHECK(ni_catalog_vpn_rows(c) >= 45);
    CHECK_STR(svc(c, "weixin.qq.com"), "WeChat");
    CHECK_STR(svc(c, "short.weixin.qq.com"), "WeChat");
    CHECK_STR(svc(c, "www.qq.com"), "QQ");
    CHECK_STR(svc(c, "notfacebook.com"), "-");
    CHECK_STR(svc(c, "star-mini.c10r.facebook.com"), "Facebook");
    CHECK_STR(svc(c, "scontent.cdninstagram.com"), "Instagram");
    CHECK_STR(svc(c, "rr3---sn-abc.googlevideo.com"), "YouTube");
    CHECK_STR(svc(c, "mail.google.com"), "Gmail");
    CHECK_STR(svc(c, "www.google.com"), "Google");
    CHECK_STR(svc(c, "api.steampowered.com"), "Steam");
    CHECK_STR(svc(c, "ctldl.windowsupdate.com"), "Windows Update");
    const ni_catalog_entry *e = ni_catalog_service_domain(c, "www.pornhub.com");
    CHECK(e && !strcmp(e->category, "adult"));
    e = ni_catalog_service_domain(c, "ak.xboxlive.com");
    CHECK(e && !strcmp(e->category, "gaming"));
    ni_addr a;
    ni_addr_parse("149.154.167.51", &a);                 /* Telegram DC */
    e = ni_catalog_service_addr(c, &a);
    CHECK(e && !strcmp(e->name, "Telegram"));
    CHECK_STR(vpn(c, "us1234.nordvpn.com"), "server");
    CHECK_STR(vpn(c, "www.nordvpn.com"), "site");
    CHECK_STR(vpn(c, "nordvpn.com"), "site");
    CHECK_STR(vpn(c, "api.nordvpn.com"), "server");    /* no sourced api row: the server zone */
    CHECK_STR(vpn(c, "downloads.nordcdn.com"), "update");
    CHECK_STR(vpn(c, "germany-frankfurt-1-ca-version-2.expressnetw.com"), "server");
    CHECK_STR(vpn(c, "node-ch-05.protonvpn.net"), "server");
    CHECK_STR(vpn(c, "87-1-de.cg-dialup.net"), "server");
    CHECK_STR(vpn(c, "au-melbourne.privateinternetaccess.com"), "server");
    CHECK_STR(vpn(c, "www.privateinternetaccess.com"), "site");
    CHECK_STR(vpn(c, "jp1.vpn.goldenfrog.com"), "server");
    CHECK_STR(vpn(c, "vpn-api.proton.me"), "api");
    CHECK_STR(vpn(c, "it-mil-v086.prod.surfshark.com"), "server");
    CHECK_STR(vpn(c, "api.cloudflareclient.com"), "api");
    CHECK_STR(vpn(c, "www.facebook.com"), "-");
    ni_addr_parse("162.159.192.7", &a);                  /* WARP endpoint (nDPI capture) */
    e = ni_catalog_vpn_addr(c, &a);
    CHECK(e && !strcmp(e->name, "Cloudflare WARP") && e->kind == NI_VPN_KIND_SERVER);

    /* speed: mixed names, many labels deep */
    static const char *names[] = { "a.b.c.d.weixin.qq.com", "www.example.org", "scontent-lhr8-1.xx.fbcdn.net",
        "rr1---sn-5hne6nsk.googlevideo.com", "unknown.invalid", "us8123.nordvpn.com", "x.y.z.w.v.u.t.s.example.net" };
    enum { N = 2000000 };
    size_t hits = 0;
    clock_t t0 = clock();
    for (int i = 0; i < N; i++) hits += ni_catalog_service_domain(c, names[i % 7]) != NULL;
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(hits > 0);
    ni_addr_parse("157.240.22.35", &a);
    t0 = clock();
    size_t ah = 0;
    for (int i = 0; i < N; i++) { a.b[3] = (uint8_t)i; ah += ni_catalog_service_addr(c, &a) != NULL; }
    double s2 = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_INT(ah, N);
    printf("catalog: %.2f M domain lookups/s, %.2f M address lookups/s (%zu service rows, %zu VPN rows)\n",
           N / (s > 0 ? s : 1e-9) / 1e6, N / (s2 > 0 ? s2 : 1e-9) / 1e6,
           ni_catalog_service_rows(c), ni_catalog_vpn_rows(c));
    ni_catalog_free(c);
}

/* The memo answers what the catalogue answers: every name of a mix larger
 * than the memo (collisions replace slots), each side asked alone and
 * together, in two rounds (misses then hits), names past the longest kept,
 * and a memo moved to another catalogue forgets the first one's matches. */
TEST(memo)
{
    ni_catalog *c = ni_catalog_new(), *c2 = ni_catalog_new();
    ni_error err = { 0 };
    CHECK_INT(ni_catalog_load(c, "data", &err), NI_OK);
    const char *p = write_tmp("s.tsv", "type\tmatch\tservice\tcategory\tsource\n"
                              "domain\tnordvpn.com\tNotNord\tother\thttps://a/\n");
    CHECK_INT(ni_catalog_load_services(c2, p, &err), NI_OK);
    ni_catalog_memo *m = ni_catalog_memo_new();
    CHECK(m != NULL);
    static const char *base[] = { "weixin.qq.com", "us1234.nordvpn.com", "www.nordvpn.com", "nordvpn.com",
        "WWW.FaceBook.COM.", "scontent.cdninstagram.com", "vpn-api.proton.me", "api.cloudflareclient.com",
        "unknown.invalid", "com", "", "facebook.com..", "rr1---sn-5hne6nsk.googlevideo.com" };
    enum { NB = sizeof base / sizeof base[0], NN = 3 * NI_CATALOG_MEMO };
    char name[300];
    size_t mismatches = 0, found = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NN; i++) {
            if (i % 7 == 6) {   /* longer than the memo keeps */
                memset(name, 'a', 80);
                snprintf(name + 80, sizeof name - 80, "%d.%s", i, base[i % NB]);
            } else if (i < NB) snprintf(name, sizeof name, "%s", base[i]);
            else snprintf(name, sizeof name, "h%d.%s", i % 1000, base[i % NB]);
            const ni_catalog_entry *s1 = NULL, *v1 = NULL, *s2 = NULL, *v2 = NULL;
            int ask = (i + round) % 3;   /* 0: both, 1: service only, 2: VPN only */
            ni_catalog_domains(c, m, name, ask == 2 ? NULL : &s1, ask == 1 ? NULL : &v1);
            ni_catalog_domains(c, m, name, &s2, &v2);
            const ni_catalog_entry *ws = ni_catalog_service_domain(c, name), *wv = ni_catalog_vpn_domain(c, name);
            if ((ask != 2 && s1 != ws) || (ask != 1 && v1 != wv) || s2 != ws || v2 != wv) mismatches++;
            found += ws != NULL || wv != NULL;
        }
    CHECK_INT(mismatches, 0);
    CHECK(found > NN);
    const ni_catalog_entry *s = NULL, *v = NULL;
    ni_catalog_domains(c, m, NULL, &s, &v);
    CHECK(s == NULL && v == NULL);
    ni_catalog_domains(c, m, "nordvpn.com", &s, &v);
    CHECK(s == ni_catalog_service_domain(c, "nordvpn.com") && v != NULL);
    ni_catalog_domains(c2, m, "nordvpn.com", &s, &v);
    CHECK(s && !strcmp(s->name, "NotNord") && v == NULL);
    ni_catalog_domains(c, NULL, "nordvpn.com", &s, &v);   /* no memo: looked up directly */
    CHECK(v == ni_catalog_vpn_domain(c, "nordvpn.com") && v != NULL);
    ni_catalog_memo_free(m);
    ni_catalog_free(c);
    ni_catalog_free(c2);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ni-test-catalog-XXXXXX");
    if (!mkdtemp(tmpdir)) snprintf(tmpdir, sizeof tmpdir, "/tmp");
}

TEST(init) { setup(); CHECK(tmpdir[0] == '/'); }

TEST(cleanup)
{
    static const char *files[] = { "a.tsv", "b.tsv", "c.tsv", "d.tsv", "e.tsv", "s.tsv", "bad.tsv", "v.tsv" };
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    CHECK_INT(rmdir(tmpdir), 0);
}

RUN(T(init), T(tsv_format), T(domain_rules), T(vpn_rules), T(load_errors), T(shipped_catalogues), T(memo), T(cleanup))
