/* test_asn.c — unit tests of lib/enrich/ni_asn: range → CIDR conversion
 * (edge cases and properties), CSV parsing (RFC 4180 quoting, overlaps,
 * errors with line numbers), the binary cache (reuse, invalidation, damage),
 * GeoLite2-ASN MaxMind DB loading checked against the JSON it was generated
 * from (tests/corpus/mmdb/source-data/GeoLite2-ASN-Test.json, the most
 * specific network wins), and the installed @ip-location-db/asn tables
 * (175.45.176.0/22 is AS131279 Star Joint Venture, North Korea's APNIC
 * allocation; 8.8.8.8 is AS15169 Google), with cold/warm load times. */
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ni_test.h"
#include "core/ni_prefix.h"
#include "enrich/ni_asn.h"
#include "core/ni_verified.h"

static const char *data_dir(void)
{
    const char *e = getenv("NETINTEL_DATA");
    return e && *e ? e : "data";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static ni_addr A(const char *s)
{
    ni_addr a;
    memset(&a, 0, sizeof a);
    if (ni_addr_parse(s, &a) != NI_OK) fprintf(stderr, "  bad test address %s\n", s);
    return a;
}

/* ---- range → CIDR ---------------------------------------------------------- */

#define MAXN 600
typedef struct nets { ni_addr a[MAXN]; unsigned len[MAXN]; size_t n; } nets;

static ni_err collect(void *ud, const ni_addr *a, unsigned len)
{
    nets *l = ud;
    if (l->n == MAXN) return NI_ERR_LIMIT;
    l->a[l->n] = *a;
    l->len[l->n++] = len;
    return NI_OK;
}

static void fmt(const nets *l, size_t i, char *buf, size_t n)
{
    char t[NI_ADDR_STRLEN];
    snprintf(buf, n, "%s/%u", ni_addr_format(&l->a[i], t), l->len[i]);
}

static nets *cidrs(const char *f, const char *l)
{
    static nets out;
    out.n = 0;
    ni_addr a = A(f), b = A(l);
    CHECK_INT(ni_range_to_cidrs(&a, &b, collect, &out), NI_OK);
    return &out;
}

static void expect(const char *f, const char *l, const char *const *want, size_t nwant)
{
    nets *r = cidrs(f, l);
    CHECK_INT(r->n, nwant);
    for (size_t i = 0; i < r->n && i < nwant; i++) {
        char buf[64];
        fmt(r, i, buf, sizeof buf);
        CHECK_STR(buf, want[i]);
    }
}

TEST(cidr_edges)
{
    const char *one[] = { "192.0.2.7/32" };
    expect("192.0.2.7", "192.0.2.7", one, 1);
    const char *all4[] = { "0.0.0.0/0" };
    expect("0.0.0.0", "255.255.255.255", all4, 1);
    const char *all6[] = { "::/0" };
    expect("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", all6, 1);
    const char *top[] = { "255.255.255.255/32" };
    expect("255.255.255.255", "255.255.255.255", top, 1);
    const char *upper[] = { "128.0.0.0/1" };
    expect("128.0.0.0", "255.255.255.255", upper, 1);
    const char *kp[] = { "175.45.176.0/22" };
    expect("175.45.176.0", "175.45.179.255", kp, 1);
    const char *doc[] = { "1.1.1.1/32", "1.1.1.2/31", "1.1.1.4/30", "1.1.1.8/29", "1.1.1.16/28", "1.1.1.32/32" };
    expect("1.1.1.1", "1.1.1.32", doc, 6);
    const char *v6top[] = { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127" };
    expect("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", v6top, 1);
    /* all but the first and last address: 31 + 31 and 127 + 127 prefixes */
    CHECK_INT(cidrs("0.0.0.1", "255.255.255.254")->n, 62);
    CHECK_INT(cidrs("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")->n, 254);
    /* refused */
    nets out = { .n = 0 };
    ni_addr a = A("10.0.0.2"), b = A("10.0.0.1"), c = A("::1");
    CHECK_INT(ni_range_to_cidrs(&a, &b, collect, &out), NI_ERR_ARG);
    CHECK_INT(ni_range_to_cidrs(&a, &c, collect, &out), NI_ERR_ARG);
    CHECK_INT(out.n, 0);
}

/* Properties over pseudo-random ranges: the prefixes are aligned, in order,
 * contiguous, cover exactly first..last, and no two neighbours could merge. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)rng; }

TEST(cidr_properties)
{
    for (int iter = 0; iter < 2000; iter++) {
        uint32_t x = rnd32(), y = rnd32();
        if (iter % 3 == 0) y = x + (rnd32() % 5000);
        if (y < x) { uint32_t t = x; x = y; y = t; }
        ni_addr f = { .family = 4 }, l = { .family = 4 };
        for (int i = 0; i < 4; i++) { f.b[i] = (uint8_t)(x >> (24 - 8 * i)); l.b[i] = (uint8_t)(y >> (24 - 8 * i)); }
        static nets buf;
        nets *r = &buf;
        buf.n = 0;
        CHECK_INT(ni_range_to_cidrs(&f, &l, collect, r), NI_OK);
        uint64_t next = x;
        bool ok = r->n > 0 && r->n <= 62;
        for (size_t i = 0; i < r->n && ok; i++) {
            uint32_t s = ((uint32_t)r->a[i].b[0] << 24) | ((uint32_t)r->a[i].b[1] << 16) |
                         ((uint32_t)r->a[i].b[2] << 8) | r->a[i].b[3];
            uint64_t size = 1ull << (32 - r->len[i]);
            if (s != next || (s & (size - 1))) ok = false;
            if (i && r->len[i] == r->len[i - 1] && ((s - size) & (2 * size - 1)) == 0) ok = false; /* mergeable */
            next = s + size;
        }
        if (ok && next != (uint64_t)y + 1) ok = false;
        CHECK(ok);
        if (!ok) break;
    }
}

static ni_err stop_second(void *ud, const ni_addr *a, unsigned len)
{
    (void)a; (void)len;
    return ++*(int *)ud == 2 ? NI_ERR_LIMIT : NI_OK;
}

TEST(cidr_callback_stops)
{
    int calls = 0;
    ni_addr a = A("1.1.1.1"), b = A("1.1.1.32");
    CHECK_INT(ni_range_to_cidrs(&a, &b, stop_second, &calls), NI_ERR_LIMIT);
    CHECK_INT(calls, 2);
}

/* ---- CSV and cache --------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    if (tmpdir[0]) return;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_asn_XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
}

static const char csv4[] =
    "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
    "2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\r\n"
    "10.0.0.0,10.0.255.255,64512,Private one\n"
    "10.0.128.0,10.1.0.255,64513,Overlapping later\n"
    "175.45.176.0,175.45.179.255,131279,Star Joint Venture Co. Ltd.\n"
    "\n"
    "200.0.0.0,200.0.0.255,65000,\n";
static const char csv6[] =
    "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n"
    "2001:db8::,2001:db8::ff,64496,Cloudflare, Inc.\n";

static void check_small(const ni_asn *a)
{
    struct { const char *ip; uint32_t asn; const char *org; } c[] = {
        { "1.0.0.1", 13335, "Cloudflare, Inc." }, { "1.0.0.255", 13335, "Cloudflare, Inc." },
        { "2.26.210.1", 201907, "LLC \"SPUTNIK\"" }, { "10.0.1.1", 64512, "Private one" },
        { "10.0.128.0", 64513, "Overlapping later" }, { "10.1.0.255", 64513, "Overlapping later" },
        { "::ffff:175.45.177.1", 131279, "Star Joint Venture Co. Ltd." }, { "200.0.0.9", 65000, "" },
        { "2001:4860::8888", 15169, "Google LLC" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        ni_addr x = A(c[i].ip);
        ni_asn_result r;
        CHECK(ni_asn_lookup(a, &x, &r));
        CHECK_INT(r.asn, c[i].asn);
        CHECK_STR(r.org, c[i].org);
    }
    const char *miss[] = { "0.255.255.255", "1.0.1.0", "10.1.1.0", "255.255.255.255", "2001:db8::100", "::" };
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        ni_addr x = A(miss[i]);
        ni_asn_result r;
        CHECK(!ni_asn_lookup(a, &x, &r));
        CHECK(!r.found);
    }
    const ni_asn_info *in = ni_asn_get_info(a);
    CHECK_INT(in->v4_ranges, 6);
    CHECK_INT(in->v6_ranges, 1);
}

static ni_err count_net(void *ud, const ni_addr *addr, unsigned len)
{
    (void)addr; (void)len;
    (*(size_t *)ud)++;
    return NI_OK;
}

TEST(csv_and_cache)
{
    make_tmpdir();
    char p4[128], p6[128], cache[128];
    snprintf(p4, sizeof p4, "%s/asn-ipv4.csv", tmpdir);
    snprintf(p6, sizeof p6, "%s/asn-ipv6.csv", tmpdir);
    snprintf(cache, sizeof cache, "%s/cache/asn.bin", tmpdir);
    write_file(p4, csv4);
    write_file(p6, csv6);
    ni_error err = { 0 };
    /* an unquoted comma in the organisation is a fifth field: refused with the line */
    ni_asn *a = ni_asn_load_csv(p4, p6, NULL, &err);
    CHECK(a == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(strstr(err.msg, "asn-ipv6.csv:2:") != NULL);
    write_file(p6, "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n");
    char cdir[128];
    snprintf(cdir, sizeof cdir, "%s/cache", tmpdir);
    mkdir(cdir, 0755);
    a = ni_asn_load_csv(p4, p6, cache, &err);
    CHECK(a != NULL);
    if (!a) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK_STR(ni_asn_get_info(a)->source, "csv");
    CHECK(ni_asn_get_info(a)->cache_written);
    CHECK_INT(ni_asn_get_info(a)->overlaps, 1);
    check_small(a);
    ni_asn_free(a);
    /* second load: from the cache, same answers */
    a = ni_asn_load_csv(p4, p6, cache, &err);
    CHECK(a && !strcmp(ni_asn_get_info(a)->source, "cache"));
    if (a) check_small(a);
    ni_asn_free(a);
    /* once the cache file is old enough for its check to be remembered
     * (NI_VERIFIED_SETTLE_S), a load checks it whole and remembers that, and
     * the next uses it where it lies (mapped): the same answers, prefixes too */
    char xdg[160], vpath[200];
    snprintf(xdg, sizeof xdg, "%s/xdg", tmpdir);
    mkdir(xdg, 0755);
    setenv("XDG_CACHE_HOME", xdg, 1);
    unsetenv("NETINTEL_VERIFY_ALWAYS");
    struct timespec settle = { NI_VERIFIED_SETTLE_S, 200000000 };
    nanosleep(&settle, NULL);
    for (int round = 0; round < 2; round++) {
        a = ni_asn_load_csv(p4, p6, cache, &err);
        CHECK(a && !strcmp(ni_asn_get_info(a)->source, "cache"));
        if (a) check_small(a);
        size_t nets = 0;
        CHECK(a && ni_asn_prefixes(a, 15169, count_net, &nets) == NI_OK);
        CHECK_INT(nets, 1);
        ni_asn_free(a);
    }
    snprintf(vpath, sizeof vpath, "%s/netintel/verified", xdg);
    FILE *vf = fopen(vpath, "r");
    char vline[256];
    bool remembered = false;
    while (vf && fgets(vline, sizeof vline, vf)) if (!strncmp(vline, "asn-cache-sum/", 14)) remembered = true;
    if (vf) fclose(vf);
    CHECK(remembered);
    unlink(vpath);
    snprintf(vpath, sizeof vpath, "%s/netintel", xdg); rmdir(vpath);
    rmdir(xdg);
    unsetenv("XDG_CACHE_HOME");
    /* a damaged cache is ignored and rewritten */
    FILE *fp = fopen(cache, "r+b");
    CHECK(fp != NULL);
    if (fp) { fseek(fp, 40, SEEK_SET); fputc(0x5a, fp); fclose(fp); }
    a = ni_asn_load_csv(p4, p6, cache, &err);
    CHECK(a && !strcmp(ni_asn_get_info(a)->source, "csv"));
    CHECK(a && strstr(ni_asn_get_info(a)->cache_note, "checksum") != NULL);
    CHECK(a && ni_asn_get_info(a)->cache_written);
    if (a) check_small(a);
    ni_asn_free(a);
    /* a changed CSV invalidates the cache */
    write_file(p4, "9.9.9.0,9.9.9.255,19281,Quad9\n");
    a = ni_asn_load_csv(p4, p6, cache, &err);
    CHECK(a && !strcmp(ni_asn_get_info(a)->source, "csv"));
    if (a) {
        ni_asn_result r;
        ni_addr x = A("9.9.9.9"), y = A("1.0.0.1");
        CHECK(ni_asn_lookup(a, &x, &r) && r.asn == 19281);
        CHECK(!ni_asn_lookup(a, &y, &r));
    }
    ni_asn_free(a);
    /* a cache that cannot be written is a note, not an error */
    a = ni_asn_load_csv(p4, p6, "/nonexistent-dir/asn.bin", &err);
    CHECK(a != NULL);
    CHECK(a && !ni_asn_get_info(a)->cache_written && ni_asn_get_info(a)->cache_note[0]);
    ni_asn_free(a);
}

TEST(csv_errors)
{
    make_tmpdir();
    const char *bad[] = {
        "1.0.0.0,1.0.0.255,13335\n",                       /* 3 fields */
        "1.0.0.0,1.0.0.255,13335,Org\n1.0.1.0,1.0.0.255,1,x\n", /* ends before start (line 2) */
        "1.0.0.0,::1,1,x\n",                               /* mixed families */
        "1.0.0.0,1.0.0.255,4294967296,x\n",                /* ASN too large */
        "1.0.0.0,1.0.0.255,-1,x\n",
        "1.0.0.0,1.0.0.255,1,\"unterminated\n",
        "1.0.0.0,1.0.0.256,1,x\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/bad%zu.csv", tmpdir, i);
        write_file(p, bad[i]);
        ni_error err = { 0 };
        ni_asn *a = ni_asn_load_csv(p, NULL, NULL, &err);
        CHECK(a == NULL);
        ni_asn_free(a);
        CHECK_INT(err.code, NI_ERR_DATA);
        CHECK(strstr(err.msg, p) != NULL);
        unlink(p);
    }
    ni_error err = { 0 };
    CHECK(ni_asn_load_csv("/nonexistent/a.csv", NULL, NULL, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
    CHECK(ni_asn_load_csv(NULL, NULL, NULL, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_ARG);
}

/* ---- GeoLite2-ASN test database against its JSON ---------------------------- */

typedef struct jnet { ni_addr a; unsigned len; json_t *rec; } jnet;

static bool contains(const ni_addr *net, unsigned len, const ni_addr *a)
{
    if (net->family != a->family) return false;
    for (unsigned i = 0; i < len; i++) {
        unsigned bit = 0x80u >> (i % 8);
        if ((net->b[i / 8] & bit) != (a->b[i / 8] & bit)) return false;
    }
    return true;
}

static void check_asn_json(const char *db, const char *json, size_t min_networks)
{
    json_error_t je;
    json_t *root = json_load_file(json, 0, &je);
    CHECK(root && json_is_array(root));
    if (!root) return;
    jnet *n = calloc(json_array_size(root), sizeof *n);
    size_t count = 0, i;
    json_t *el;
    json_array_foreach(root, i, el) {
        const char *key;
        json_t *v;
        json_object_foreach(el, key, v) {
            ni_addr a;
            unsigned len;
            CHECK_INT(ni_prefix_parse(key, &a, &len), NI_OK);
            static const uint8_t zero[12];
            if (a.family == 6 && len >= 96 && !memcmp(a.b, zero, 12) && strchr(key, '.')) {
                uint8_t v4[4];
                memcpy(v4, a.b + 12, 4);
                memset(&a, 0, sizeof a);
                a.family = 4;
                memcpy(a.b, v4, 4);
                len -= 96;
            }
            n[count++] = (jnet){ a, len, v };
        }
    }
    ni_error err = { 0 };
    double t0 = now_s();
    ni_asn *a = ni_asn_load_mmdb(db, &err);
    double dt = now_s() - t0;
    CHECK(a != NULL);
    if (!a) { fprintf(stderr, "  %s\n", err.msg); free(n); json_decref(root); return; }
    size_t ok = 0, with_asn = 0;
    for (size_t k = 0; k < count; k++) {
        json_t *best = NULL;
        int best_len = -1;
        for (size_t j = 0; j < count; j++)
            if ((int)n[j].len > best_len && contains(&n[j].a, n[j].len, &n[k].a)) { best = n[j].rec; best_len = (int)n[j].len; }
        json_t *jasn = json_object_get(best, "autonomous_system_number");
        const char *jorg = json_string_value(json_object_get(best, "autonomous_system_organization"));
        ni_asn_result r;
        bool f = ni_asn_lookup(a, &n[k].a, &r);
        if (!json_is_integer(jasn)) { CHECK(!f); ok += !f; continue; }
        with_asn++;
        CHECK(f);
        CHECK_INT(r.asn, json_integer_value(jasn));
        CHECK_STR(r.org, jorg ? jorg : "");
        ok += f && (long long)r.asn == json_integer_value(jasn) && !strcmp(r.org, jorg ? jorg : "");
    }
    CHECK_INT(ok, count);
    CHECK(count >= min_networks);
    printf("  %s: %zu/%zu JSON networks agree (%zu with an ASN); loaded in %.1f ms, %zu+%zu ranges\n",
           db, ok, count, with_asn, dt * 1e3, ni_asn_get_info(a)->v4_ranges, ni_asn_get_info(a)->v6_ranges);
    ni_asn_free(a);
    free(n);
    json_decref(root);
}

TEST(mmdb_geolite2_asn)
{
    check_asn_json("tests/corpus/mmdb/test-data/GeoLite2-ASN-Test.mmdb",
                   "tests/corpus/mmdb/source-data/GeoLite2-ASN-Test.json", 700);
}

TEST(mmdb_geoip2_isp)   /* the ISP database carries the same two keys */
{
    check_asn_json("tests/corpus/mmdb/test-data/GeoIP2-ISP-Test.mmdb",
                   "tests/corpus/mmdb/source-data/GeoIP2-ISP-Test.json", 100);
}

TEST(mmdb_bad_refused)
{
    ni_error err = { 0 };
    const char *p = "tests/corpus/mmdb/test-data/MaxMind-DB-test-broken-pointers-24.mmdb";
    CHECK(ni_asn_load_mmdb(p, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(strstr(err.msg, p) != NULL);
    CHECK(ni_asn_open("/nonexistent.mmdb", NULL, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
}

/* ---- the installed @ip-location-db/asn tables ------------------------------ */

typedef struct kpw { bool has22; size_t n; } kpw;
static ni_err kp_net(void *ud, const ni_addr *a, unsigned len)
{
    kpw *w = ud;
    ni_addr want = A("175.45.176.0");
    if (!ni_addr_cmp(a, &want) && len == 22) w->has22 = true;
    w->n++;
    return NI_OK;
}

TEST(real_tables)
{
    char v4[4096], v6[4096], cache[128];
    snprintf(v4, sizeof v4, "%s/" NI_ASN_DEFAULT_DIR "/asn-ipv4.csv", data_dir());
    snprintf(v6, sizeof v6, "%s/" NI_ASN_DEFAULT_DIR "/asn-ipv6.csv", data_dir());
    make_tmpdir();
    snprintf(cache, sizeof cache, "%s/real-asn.bin", tmpdir);
    unlink(cache);
    ni_error err = { 0 };
    double t0 = now_s();
    ni_asn *cold = ni_asn_load_csv(v4, v6, cache, &err);
    double t1 = now_s();
    CHECK(cold != NULL);
    if (!cold) { fprintf(stderr, "  %s\n", err.msg); return; }
    ni_asn *warm = ni_asn_load_csv(v4, v6, cache, &err);
    double t2 = now_s();
    CHECK(warm != NULL);
    if (!warm) { ni_asn_free(cold); return; }
    const ni_asn_info *ci = ni_asn_get_info(cold), *wi = ni_asn_get_info(warm);
    CHECK_STR(ci->source, "csv");
    CHECK_STR(wi->source, "cache");
    CHECK_INT(wi->v4_ranges, ci->v4_ranges);
    CHECK_INT(wi->v6_ranges, ci->v6_ranges);
    CHECK(ci->v4_ranges > 100000 && ci->v6_ranges > 10000);
    CHECK(t2 - t1 < 1.0);
    printf("  @ip-location-db/asn: %zu IPv4 + %zu IPv6 ranges, %zu organisations, %zu overlaps; "
           "cold (CSV) %.0f ms, warm (cache) %.0f ms\n", ci->v4_ranges, ci->v6_ranges, ci->orgs,
           ci->overlaps, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    struct { const char *ip; uint32_t asn; } c[] = {
        { "175.45.176.1", 131279 }, { "175.45.179.255", 131279 }, { "8.8.8.8", 15169 },
        { "::ffff:8.8.4.4", 15169 }, { "2001:4860:4860::8888", 15169 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        ni_addr x = A(c[i].ip);
        ni_asn_result r1, r2;
        CHECK(ni_asn_lookup(cold, &x, &r1));
        CHECK(ni_asn_lookup(warm, &x, &r2));
        CHECK_INT(r1.asn, c[i].asn);
        CHECK_INT(r2.asn, c[i].asn);
        CHECK_STR(r1.org, r2.org);
    }
    ni_addr priv = A("10.1.2.3");
    ni_asn_result r;
    CHECK(!ni_asn_lookup(warm, &priv, &r));
    /* cold and warm agree on a sample of the whole IPv4 space */
    size_t differ = 0, found = 0;
    const uint32_t N = 1u << 20;
    double t3 = now_s();
    for (uint32_t i = 0; i < N; i++) {
        uint32_t v = i * 4093u;
        ni_addr q = { .family = 4, .b = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v } };
        found += ni_asn_lookup(warm, &q, &r);
    }
    double dt = now_s() - t3;
    for (uint32_t i = 0; i < N; i += 7) {
        uint32_t v = i * 4093u;
        ni_addr q = { .family = 4, .b = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v } };
        ni_asn_result a1, a2;
        bool f1 = ni_asn_lookup(cold, &q, &a1), f2 = ni_asn_lookup(warm, &q, &a2);
        if (f1 != f2 || a1.asn != a2.asn || strcmp(a1.org, a2.org)) differ++;
    }
    CHECK_INT(differ, 0);
    CHECK(found > N / 2);
    printf("  %u lookups in %.3f s: %.0f lookups/s\n", N, dt, N / dt);
    kpw w = { false, 0 };
    CHECK_INT(ni_asn_prefixes(warm, 131279, kp_net, &w), NI_OK);
    CHECK(w.has22);
    printf("  asn:131279 → %zu prefixes\n", w.n);
    ni_asn_free(cold);
    ni_asn_free(warm);
    unlink(cache);
}

TEST(default_open)
{
    ni_error err = { 0 };
    ni_asn *a = ni_asn_open(NULL, data_dir(), &err);
    CHECK(a != NULL);
    if (!a) { fprintf(stderr, "  %s\n", err.msg); return; }
    ni_addr x = A("8.8.8.8");
    ni_asn_result r;
    CHECK(ni_asn_lookup(a, &x, &r) && r.asn == 15169);
    ni_asn_free(a);
    /* a directory with the CSVs, and an mmdb, by explicit path */
    make_tmpdir();
    char p[128];
    snprintf(p, sizeof p, "%s/asn-ipv4.csv", tmpdir);
    write_file(p, "8.8.8.0,8.8.8.255,15169,Google LLC\n");
    a = ni_asn_open(tmpdir, NULL, &err);
    CHECK(a && ni_asn_lookup(a, &x, &r) && r.asn == 15169 && !strcmp(r.org, "Google LLC"));
    ni_asn_free(a);
    a = ni_asn_open("tests/corpus/mmdb/test-data/GeoLite2-ASN-Test.mmdb", NULL, &err);
    CHECK(a && !strcmp(ni_asn_get_info(a)->source, "mmdb"));
    ni_addr y = A("1.128.0.1");
    CHECK(a && ni_asn_lookup(a, &y, &r) && r.asn == 1221 && !strcmp(r.org, "Telstra Pty Ltd"));
    ni_asn_free(a);
}

static void cleanup(void)
{
    if (!tmpdir[0]) return;
    const char *names[] = { "asn-ipv4.csv", "asn-ipv6.csv", "cache/asn.bin", "cache", "real-asn.bin" };
    char p[160];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        if (unlink(p) != 0) rmdir(p);
    }
    rmdir(tmpdir);
}

TEST(zz_cleanup) { cleanup(); CHECK(access(tmpdir, F_OK) != 0 || !tmpdir[0]); }

RUN(T(cidr_edges), T(cidr_properties), T(cidr_callback_stops), T(csv_and_cache), T(csv_errors),
    T(mmdb_geolite2_asn), T(mmdb_geoip2_isp), T(mmdb_bad_refused), T(real_tables), T(default_open),
    T(zz_cleanup))
