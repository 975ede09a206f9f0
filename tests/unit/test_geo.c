/* test_geo.c — unit tests of lib/enrich/ni_geo (MaxMind DB country lookups,
 * verification at open, network enumeration) and lib/enrich/ni_country.
 *
 * Expected values come from third-party data, never from this code:
 *  - MaxMind's test databases and the JSON they were generated from
 *    (tests/corpus/mmdb, see its README): the first address of every
 *    JSON network must give that network's country (the most specific JSON
 *    network containing the address wins, as in the writer);
 *  - the generic test databases, whose contents the README documents as
 *    ranges split into CIDR blocks: the blocks are recomputed with
 *    ni_range_to_cidrs and must be the database's networks;
 *  - every corrupt database of the corpus must be refused;
 *  - the installed ip-location-db database: 175.45.176.0/22 is North
 *    Korea's APNIC allocation (Star Joint Venture, AS131279) and 8.8.8.8 is
 *    Google's US resolver.
 * Run from the source tree (run-all does) or with NETINTEL_DATA set. */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ni_test.h"
#include "core/ni_prefix.h"
#include "enrich/ni_asn.h"
#include "enrich/ni_country.h"
#include "enrich/ni_geo.h"

#define MMDB "tests/corpus/mmdb/"

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

/* "::a.b.c.d/len" (len >= 96) is the IPv4 network a.b.c.d/(len-96). */
static bool parse_net(const char *key, ni_addr *a, unsigned *len)
{
    if (ni_prefix_parse(key, a, len) != NI_OK) return false;
    static const uint8_t zero[12];
    if (a->family == 6 && *len >= 96 && !memcmp(a->b, zero, 12) && strchr(key, '.')) {
        uint8_t v4[4];
        memcpy(v4, a->b + 12, 4);
        memset(a, 0, sizeof *a);
        a->family = 4;
        memcpy(a->b, v4, 4);
        *len -= 96;
    }
    return true;
}

static bool contains(const ni_addr *net, unsigned len, const ni_addr *a)
{
    if (net->family != a->family) return false;
    for (unsigned i = 0; i < len; i++) {
        unsigned bit = 0x80u >> (i % 8);
        if ((net->b[i / 8] & bit) != (a->b[i / 8] & bit)) return false;
    }
    return true;
}

/* A JSON source file as networks with their record. */
typedef struct jnet { ni_addr a; unsigned len; json_t *rec; } jnet;
typedef struct jsrc { json_t *root; jnet *n; size_t count; } jsrc;

static bool jsrc_load(jsrc *s, const char *path)
{
    memset(s, 0, sizeof *s);
    json_error_t je;
    s->root = json_load_file(path, 0, &je);
    if (!s->root || !json_is_array(s->root)) return false;
    s->n = calloc(json_array_size(s->root) + 1, sizeof *s->n);
    size_t i;
    json_t *el;
    json_array_foreach(s->root, i, el) {
        const char *key;
        json_t *v;
        json_object_foreach(el, key, v) {
            if (!parse_net(key, &s->n[s->count].a, &s->n[s->count].len)) return false;
            s->n[s->count++].rec = v;
        }
    }
    return s->count > 0;
}

static void jsrc_free(jsrc *s) { json_decref(s->root); free(s->n); }

/* The record of the most specific JSON network containing a. */
static json_t *jsrc_find(const jsrc *s, const ni_addr *a)
{
    json_t *best = NULL;
    int best_len = -1;
    for (size_t i = 0; i < s->count; i++)
        if ((int)s->n[i].len > best_len && contains(&s->n[i].a, s->n[i].len, a)) {
            best = s->n[i].rec;
            best_len = (int)s->n[i].len;
        }
    return best;
}

static const char *json_country(json_t *rec)
{
    const char *c = json_string_value(json_object_get(json_object_get(rec, "country"), "iso_code"));
    if (!c) c = json_string_value(json_object_get(json_object_get(rec, "registered_country"), "iso_code"));
    return c ? c : "";
}

/* Every JSON network of name's source against name's database. */
static void check_country_db(const char *name, size_t min_networks)
{
    char dbp[256], jp[256];
    snprintf(dbp, sizeof dbp, MMDB "test-data/%s.mmdb", name);
    snprintf(jp, sizeof jp, MMDB "source-data/%s.json", name);
    jsrc s;
    CHECK(jsrc_load(&s, jp));
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(dbp, 0, &err);
    CHECK(g != NULL);
    if (!g) { fprintf(stderr, "  %s\n", err.msg); jsrc_free(&s); return; }
    size_t ok = 0, with_country = 0, registered_only = 0;
    for (size_t i = 0; i < s.count; i++) {
        const char *want = json_country(jsrc_find(&s, &s.n[i].a));
        ni_geo_result r;
        ni_err e = ni_geo_lookup(g, &s.n[i].a, &r, &err);
        CHECK_INT(e, NI_OK);
        CHECK(r.found);
        CHECK_STR(r.country, want);
        if (e == NI_OK && r.found && !strcmp(r.country, want)) ok++;
        with_country += *want != 0;
        registered_only += r.registered;
        /* the IPv4-mapped form gives the same answer */
        if (s.n[i].a.family == 4) {
            ni_addr m;
            memset(&m, 0, sizeof m);
            m.family = 6; m.b[10] = m.b[11] = 0xff;
            memcpy(m.b + 12, s.n[i].a.b, 4);
            ni_geo_result r2;
            CHECK_INT(ni_geo_lookup(g, &m, &r2, &err), NI_OK);
            CHECK_STR(r2.country, r.country);
        }
    }
    CHECK_INT(ok, s.count);
    CHECK(s.count >= min_networks);
    printf("  %s: %zu/%zu JSON networks agree (%zu with a country, %zu from registered_country)\n",
           name, ok, s.count, with_country, registered_only);
    ni_geo_free(g);
    jsrc_free(&s);
}

TEST(json_geoip2_country) { check_country_db("GeoIP2-Country-Test", 300); }
TEST(json_geolite2_country) { check_country_db("GeoLite2-Country-Test", 100); }
TEST(json_geoip2_city) { check_country_db("GeoIP2-City-Test", 10); }
TEST(json_geolite2_city) { check_country_db("GeoLite2-City-Test", 10); }

/* ---- generic test databases --------------------------------------------- */

typedef struct netlist { ni_addr a[64]; unsigned len[64]; size_t n; } netlist;

static ni_err collect(void *ud, const ni_addr *a, unsigned len)
{
    netlist *l = ud;
    if (l->n == 64) return NI_ERR_LIMIT;
    l->a[l->n] = *a;
    l->len[l->n++] = len;
    return NI_OK;
}

static ni_err collect_rec(void *ud, const ni_addr *a, unsigned len, const ni_geo_record *rec)
{
    (void)rec;
    return collect(ud, a, len);
}

static const char *const p_ip[] = { "ip", NULL };

/* Every address of [first, last] looks up the "ip" of its block, the block
 * being one of the CIDRs of the documented range. */
static void check_blocks(ni_geo *g, const char *first, const char *last, bool v4_as_mapped_text)
{
    netlist blocks = { .n = 0 };
    ni_addr f = A(first), l = A(last);
    CHECK_INT(ni_range_to_cidrs(&f, &l, collect, &blocks), NI_OK);
    CHECK(blocks.n >= 5);
    for (size_t b = 0; b < blocks.n; b++) {
        /* first and last address of the block, and the address after it */
        ni_addr probe[2] = { blocks.a[b], blocks.a[b] };
        unsigned bits = blocks.a[b].family == 4 ? 32 : 128;
        for (unsigned i = blocks.len[b]; i < bits; i++) probe[1].b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
        for (int k = 0; k < 2; k++) {
            char buf[64];
            ni_error err = { 0 };
            CHECK_INT(ni_geo_lookup_string(g, &probe[k], p_ip, buf, sizeof buf, &err), 1);
            ni_addr got = A(buf), want = blocks.a[b];
            if (v4_as_mapped_text && want.family == 4) {      /* "::1.1.1.16" */
                memset(&want, 0, sizeof want);
                want.family = 6;
                memcpy(want.b + 12, blocks.a[b].b, 4);
            }
            CHECK(ni_addr_cmp(&got, &want) == 0);
            ni_geo_result r;
            CHECK_INT(ni_geo_lookup(g, &probe[k], &r, &err), NI_OK);
            CHECK(r.found);
            CHECK_INT(r.prefix_len, blocks.len[b]);
            CHECK_STR(r.country, "");
        }
    }
    /* just outside the range: nothing */
    ni_addr before = f, after = l;
    for (int i = (f.family == 4 ? 3 : 15); i >= 0; i--) if (before.b[i]--) break;
    for (int i = (l.family == 4 ? 3 : 15); i >= 0; i--) if (++after.b[i]) break;
    ni_geo_result r;
    CHECK_INT(ni_geo_lookup(g, &before, &r, NULL), NI_OK);
    CHECK(!r.found);
    CHECK_INT(ni_geo_lookup(g, &after, &r, NULL), NI_OK);
    CHECK(!r.found);
    /* the enumeration yields exactly these blocks (in this family) */
    netlist all = { .n = 0 };
    CHECK_INT(ni_geo_each_network(g, collect_rec, &all, NULL), NI_OK);
    size_t same_family = 0, matched = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (all.a[i].family != f.family) continue;
        same_family++;
        for (size_t b = 0; b < blocks.n; b++)
            if (!ni_addr_cmp(&all.a[i], &blocks.a[b]) && all.len[i] == blocks.len[b]) matched++;
    }
    CHECK_INT(same_family, blocks.n);
    CHECK_INT(matched, blocks.n);
}

TEST(generic_ipv4_24)
{
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(MMDB "test-data/MaxMind-DB-test-ipv4-24.mmdb", 0, &err);
    CHECK(g != NULL);
    if (!g) return;
    CHECK_INT(ni_geo_ip_version(g), 4);
    CHECK_STR(ni_geo_database_type(g), "Test");
    check_blocks(g, "1.1.1.1", "1.1.1.32", false);
    /* IPv6 in an IPv4-only database: no record, no error */
    ni_geo_result r;
    ni_addr v6 = A("2001:db8::1");
    CHECK_INT(ni_geo_lookup(g, &v6, &r, &err), NI_OK);
    CHECK(!r.found);
    ni_geo_free(g);
}

TEST(generic_ipv6_32)
{
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(MMDB "test-data/MaxMind-DB-test-ipv6-32.mmdb", 0, &err);
    CHECK(g != NULL);
    if (!g) return;
    CHECK_INT(ni_geo_ip_version(g), 6);
    check_blocks(g, "::1:ffff:ffff", "::2:0:59", false);
    ni_geo_free(g);
}

TEST(generic_mixed_24)
{
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(MMDB "test-data/MaxMind-DB-test-mixed-24.mmdb", 0, &err);
    CHECK(g != NULL);
    if (!g) return;
    check_blocks(g, "1.1.1.1", "1.1.1.32", true);
    check_blocks(g, "::1:ffff:ffff", "::2:0:59", false);
    /* aliases of the IPv4 subtree answer too, but are not enumerated twice */
    char buf[64];
    ni_addr m = A("::ffff:1.1.1.17"), six4 = A("2002:101:111::");
    CHECK_INT(ni_geo_lookup_string(g, &m, p_ip, buf, sizeof buf, &err), 1);
    CHECK_STR(buf, "::1.1.1.16");
    CHECK_INT(ni_geo_lookup_string(g, &six4, p_ip, buf, sizeof buf, &err), 1);
    CHECK_STR(buf, "::1.1.1.16");
    ni_geo_free(g);
}

TEST(generic_no_ipv4_search_tree)
{
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(MMDB "test-data/MaxMind-DB-no-ipv4-search-tree.mmdb", 0, &err);
    CHECK(g != NULL);
    if (!g) return;
    static const char *const top[] = { NULL };
    const char *probes[] = { "1.1.1.3", "::1", "::ffff:ffff:ffff:ffff" };
    for (size_t i = 0; i < 3; i++) {
        char buf[32];
        ni_addr a = A(probes[i]);
        CHECK_INT(ni_geo_lookup_string(g, &a, top, buf, sizeof buf, &err), 1);
        CHECK_STR(buf, "::/64");
    }
    ni_geo_result r;
    ni_addr a = A("::1");
    CHECK_INT(ni_geo_lookup(g, &a, &r, &err), NI_OK);
    CHECK(r.found);
    CHECK_INT(r.prefix_len, 64);
    a = A("1::1");
    CHECK_INT(ni_geo_lookup(g, &a, &r, &err), NI_OK);
    CHECK(!r.found);
    ni_geo_free(g);
}

TEST(generic_decoder)
{
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(MMDB "test-data/MaxMind-DB-test-decoder.mmdb", NI_GEO_VERIFY_ALWAYS, &err);
    CHECK(g != NULL);   /* every data type, zero and maximal values: all valid */
    if (!g) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK(ni_geo_records_checked(g) >= 3);
    static const char *const p_s[] = { "utf8_string", NULL };
    static const char *const p_x[] = { "map", "mapX", "utf8_stringX", NULL };
    static const char *const p_arr[] = { "array", "0", NULL };
    char buf[64];
    ni_addr a = A("1.1.1.0");
    CHECK_INT(ni_geo_lookup_string(g, &a, p_s, buf, sizeof buf, &err), 1);
    CHECK_STR(buf, "unicode! \xe2\x98\xaf - \xe2\x99\xab");
    CHECK_INT(ni_geo_lookup_string(g, &a, p_x, buf, sizeof buf, &err), 1);
    CHECK_STR(buf, "hello");
    CHECK_INT(ni_geo_lookup_string(g, &a, p_arr, buf, sizeof buf, &err), 0);  /* a uint32 */
    CHECK_INT(ni_geo_lookup_string(g, &a, p_s, buf, 4, &err), -1);            /* too small */
    a = A("::0.0.0.0");
    CHECK_INT(ni_geo_lookup_string(g, &a, p_s, buf, sizeof buf, &err), 1);
    CHECK_STR(buf, "");
    ni_geo_free(g);
}

/* ---- corrupt databases --------------------------------------------------- */

static size_t refuse_dir(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) { n += refuse_dir(p); continue; }
        ni_error err = { 0 };
        ni_geo *g = ni_geo_open(p, 0, &err);
        CHECK(g == NULL);
        if (g) { fprintf(stderr, "  accepted %s\n", p); ni_geo_free(g); continue; }
        CHECK_INT(err.code, NI_ERR_DATA);
        CHECK(strstr(err.msg, p) != NULL);              /* names the file */
        CHECK(strchr(err.msg, '\n') == NULL);           /* one line */
        n++;
    }
    closedir(d);
    return n;
}

TEST(bad_databases_refused)
{
    size_t n = refuse_dir(MMDB "bad-data");
    CHECK(n >= 21);
    const char *broken[] = { "GeoIP2-City-Test-Broken-Double-Format", "GeoIP2-City-Test-Invalid-Node-Count",
                             "MaxMind-DB-test-broken-pointers-24", "MaxMind-DB-test-broken-search-tree-24" };
    for (size_t i = 0; i < 4; i++) {
        char p[256];
        snprintf(p, sizeof p, MMDB "test-data/%s.mmdb", broken[i]);
        ni_error err = { 0 };
        ni_geo *g = ni_geo_open(p, 0, &err);
        CHECK(g == NULL);
        ni_geo_free(g);
        CHECK_INT(err.code, NI_ERR_DATA);
        CHECK(strstr(err.msg, p) != NULL);
    }
    /* not a database at all, and a missing file */
    ni_error err = { 0 };
    CHECK(ni_geo_open("data/countries.tsv", 0, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(ni_geo_open("/nonexistent/x.mmdb", 0, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
}

/* Truncations of a good database are refused or, if the metadata survives,
 * answer cleanly. */
TEST(truncated_database)
{
    FILE *fp = fopen(MMDB "test-data/GeoIP2-Country-Test.mmdb", "rb");
    CHECK(fp != NULL);
    if (!fp) return;
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    CHECK(n > 1000);
    char path[] = "/tmp/test_geo_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    size_t refused = 0;
    for (size_t cut = 0; cut < n; cut += n / 37 + 1) {
        FILE *o = fopen(path, "wb");
        fwrite(buf, 1, cut, o);
        fclose(o);
        ni_error err = { 0 };
        ni_geo *g = ni_geo_open(path, 0, &err);
        CHECK(g == NULL);            /* the metadata is at the end */
        refused += g == NULL;
        ni_geo_free(g);
    }
    CHECK(refused >= 30);
    unlink(path);
}

/* ---- path resolution ----------------------------------------------------- */

TEST(resolve_path_order)
{
    char buf[4096];
    ni_error err = { 0 };
    unsetenv("NETINTEL_GEOIP");
    CHECK_INT(ni_geo_resolve_path("/x/explicit.mmdb", "data", buf, sizeof buf, &err), NI_OK);
    CHECK_STR(buf, "/x/explicit.mmdb");
    setenv("NETINTEL_GEOIP", "/y/env.mmdb", 1);
    CHECK_INT(ni_geo_resolve_path("/x/explicit.mmdb", "data", buf, sizeof buf, &err), NI_OK);
    CHECK_STR(buf, "/x/explicit.mmdb");
    CHECK_INT(ni_geo_resolve_path(NULL, "data", buf, sizeof buf, &err), NI_OK);
    CHECK_STR(buf, "/y/env.mmdb");
    unsetenv("NETINTEL_GEOIP");
    ni_err r = ni_geo_resolve_path(NULL, "/nonexistent-dir", buf, sizeof buf, &err);
    if (access(NI_GEO_SYSTEM_PATH, R_OK) == 0) {
        CHECK_INT(r, NI_OK);
        CHECK_STR(buf, NI_GEO_SYSTEM_PATH);
    } else {
        CHECK_INT(r, NI_ERR_NOTFOUND);
        CHECK(strstr(err.msg, "/nonexistent-dir/") != NULL);
        CHECK_INT(ni_geo_resolve_path(NULL, data_dir(), buf, sizeof buf, &err), NI_OK);
        CHECK(strstr(buf, "geo-whois-asn-country.mmdb") != NULL);
    }
}

/* ---- countries ----------------------------------------------------------- */

static void count_each(void *ud, const ni_country_info *ci)
{
    size_t *n = ud;
    (*n)++;
    CHECK(ci->source && *ci->source);
    CHECK(ci->continent && *ci->continent);
}

TEST(countries_table)
{
    ni_error err = { 0 };
    ni_countries *c = ni_countries_load(data_dir(), &err);
    CHECK(c != NULL);
    if (!c) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK_INT(ni_countries_count(c), 249);      /* ISO 3166-1 officially assigned codes */
    size_t n = 0;
    ni_countries_each(c, count_each, &n);
    CHECK_INT(n, 249);
    const ni_country_info *kp = ni_countries_get(c, "kp");
    CHECK(kp != NULL);
    if (kp) {
        CHECK_STR(kp->alpha3, "PRK");
        CHECK_STR(kp->continent, "Asia");
        CHECK_STR(kp->subregion, "Eastern Asia");
        CHECK_INT(kp->m49, 408);
    }
    const ni_country_info *us = ni_countries_get(c, "US");
    CHECK(us && !strcmp(us->continent, "North America") && !strcmp(us->subregion, "Northern America"));
    const ni_country_info *gb = ni_countries_get(c, "GB");
    CHECK(gb && !strcmp(gb->alpha3, "GBR") && !strcmp(gb->subregion, "Northern Europe"));
    CHECK(ni_countries_get(c, "XX") == NULL);
    CHECK(ni_countries_get(c, "K") == NULL);
    CHECK(ni_countries_get(c, "KPX") == NULL);
    CHECK(ni_countries_get(c, NULL) == NULL);
    ni_countries_free(c);
}

TEST(countries_bad_rows)
{
    const char *bad[] = {
        "alpha2\talpha3\tname\tcontinent\tsubregion\tm49\tsource\nKP\tPRK\tKorea\tMars\t\t408\tx\n",
        "alpha2\talpha3\tname\tcontinent\tsubregion\tm49\tsource\nKP\tPRK\tKorea\tAsia\t\t408\t\n",
        "alpha2\talpha3\tname\tcontinent\tsubregion\tm49\tsource\nkp\tPRK\tKorea\tAsia\t\t408\tx\n",
        "alpha2\talpha3\tname\tcontinent\tsubregion\tm49\tsource\nKP\tPRK\tKorea\tAsia\t\t408\tx\nKP\tPRK\tKorea\tAsia\t\t408\tx\n",
        "alpha2\talpha3\tname\tcontinent\tsubregion\tsource\nKP\tPRK\tKorea\tAsia\t\tx\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[] = "/tmp/test_geo_cc_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0) return;
        CHECK(write(fd, bad[i], strlen(bad[i])) == (ssize_t)strlen(bad[i]));
        close(fd);
        ni_error err = { 0 };
        ni_countries *c = ni_countries_load_file(path, &err);
        CHECK(c == NULL);
        CHECK_INT(err.code, NI_ERR_DATA);
        CHECK(strstr(err.msg, path) != NULL);
        ni_countries_free(c);
        unlink(path);
    }
}

/* ---- the installed ip-location-db database --------------------------------- */

static ni_geo *open_real(void)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/" NI_GEO_DEFAULT_REL, data_dir());
    ni_error err = { 0 };
    double t0 = now_s();
    ni_geo *g = ni_geo_open(p, NI_GEO_VERIFY_ALWAYS, &err);
    double t1 = now_s();
    CHECK(g != NULL);
    if (!g) { fprintf(stderr, "  %s\n", err.msg); return NULL; }
    printf("  %s: opened and verified in %.1f ms (%u nodes, %zu records)\n", p, (t1 - t0) * 1e3,
           ni_geo_node_count(g), ni_geo_records_checked(g));
    CHECK(t1 - t0 < 2.0);
    return g;
}

TEST(real_lookups)
{
    ni_geo *g = open_real();
    if (!g) return;
    ni_error err = { 0 };
    ni_countries *c = ni_countries_load(data_dir(), &err);
    CHECK(c != NULL);
    struct { const char *ip, *cc; } cases[] = {
        { "175.45.176.1", "KP" }, { "175.45.179.254", "KP" }, { "::ffff:175.45.176.1", "KP" },
        { "8.8.8.8", "US" }, { "2001:4860:4860::8888", "US" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ni_addr a = A(cases[i].ip);
        ni_geo_result r;
        CHECK_INT(ni_geo_lookup(g, &a, &r, &err), NI_OK);
        CHECK(r.found);
        CHECK_STR(r.country, cases[i].cc);
    }
    ni_addr a = A("175.45.176.1");
    ni_geo_result r;
    ni_geo_lookup(g, &a, &r, &err);
    CHECK(r.prefix_len <= 22);
    const ni_country_info *ci = ni_countries_get(c, r.country);
    CHECK(ci && !strcmp(ci->continent, "Asia") && !strcmp(ci->subregion, "Eastern Asia"));
    /* private space has no country */
    a = A("10.1.2.3");
    CHECK_INT(ni_geo_lookup(g, &a, &r, &err), NI_OK);
    CHECK(!r.found || !r.country[0]);
    /* every country the database gives is an ISO 3166-1 code of the table
     * (sampled over the IPv4 space) */
    size_t unknown = 0, found = 0;
    double t0 = now_s();
    const uint32_t N = 1u << 20;
    for (uint32_t i = 0; i < N; i++) {
        uint32_t v = i * 4093u + 0x01000000u;
        ni_addr q;
        memset(&q, 0, sizeof q);
        q.family = 4;
        q.b[0] = (uint8_t)(v >> 24); q.b[1] = (uint8_t)(v >> 16); q.b[2] = (uint8_t)(v >> 8); q.b[3] = (uint8_t)v;
        if (ni_geo_lookup(g, &q, &r, &err) != NI_OK) { CHECK(0); break; }
        if (r.country[0]) { found++; if (!ni_countries_get(c, r.country)) unknown++; }
    }
    double dt = now_s() - t0;
    printf("  %u lookups in %.3f s: %.0f lookups/s; %zu with a country, %zu not in countries.tsv\n",
           N, dt, N / dt, found, unknown);
    CHECK(found > N / 2);
    CHECK(unknown * 1000 < found);   /* at most a few non-ISO codes (EU, ...) */
    ni_countries_free(c);
    ni_geo_free(g);
}

typedef struct kpwalk { ni_geo *g; size_t n, wrong; bool has_22; } kpwalk;

static ni_err kp_net(void *ud, const ni_addr *a, unsigned len)
{
    kpwalk *w = ud;
    w->n++;
    ni_addr want = A("175.45.176.0");
    if (!ni_addr_cmp(a, &want) && len == 22) w->has_22 = true;
    ni_geo_result r;
    if (ni_geo_lookup(w->g, a, &r, NULL) != NI_OK || strcmp(r.country, "KP")) w->wrong++;
    return NI_OK;
}

static ni_err stop_net(void *ud, const ni_addr *a, unsigned len)
{
    (void)a; (void)len;
    ++*(int *)ud;
    return NI_ERR_LIMIT;
}

TEST(real_country_prefixes)
{
    ni_geo *g = open_real();
    if (!g) return;
    kpwalk w = { .g = g };
    ni_error err = { 0 };
    double t0 = now_s();
    CHECK_INT(ni_geo_country_prefixes(g, "kp", kp_net, &w, &err), NI_OK);
    printf("  country:KP → %zu prefixes in %.1f ms\n", w.n, (now_s() - t0) * 1e3);
    CHECK(w.has_22);
    CHECK_INT(w.wrong, 0);
    CHECK(w.n >= 1);
    int calls = 0;
    CHECK_INT(ni_geo_country_prefixes(g, "US", stop_net, &calls, &err), NI_ERR_LIMIT);
    CHECK_INT(calls, 1);
    CHECK_INT(ni_geo_country_prefixes(g, "K1", kp_net, &w, &err), NI_ERR_ARG);
    ni_geo_free(g);
}

/* Country enumeration on a MaxMind test DB agrees with its JSON. */
typedef struct gbwalk { jsrc *s; size_t n, wrong; } gbwalk;

static ni_err gb_net(void *ud, const ni_addr *a, unsigned len)
{
    (void)len;
    gbwalk *w = ud;
    w->n++;
    if (strcmp(json_country(jsrc_find(w->s, a)), "GB")) w->wrong++;
    return NI_OK;
}

TEST(test_db_country_prefixes)
{
    jsrc s;
    CHECK(jsrc_load(&s, MMDB "source-data/GeoIP2-Country-Test.json"));
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(MMDB "test-data/GeoIP2-Country-Test.mmdb", 0, &err);
    CHECK(g != NULL);
    if (!g) { jsrc_free(&s); return; }
    gbwalk w = { .s = &s };
    CHECK_INT(ni_geo_country_prefixes(g, "GB", gb_net, &w, &err), NI_OK);
    size_t json_gb = 0;
    for (size_t i = 0; i < s.count; i++) json_gb += !strcmp(json_country(s.n[i].rec), "GB");
    CHECK(w.n >= 1);
    CHECK(json_gb >= 1);
    CHECK_INT(w.wrong, 0);
    ni_geo_free(g);
    jsrc_free(&s);
}

RUN(T(json_geoip2_country), T(json_geolite2_country), T(json_geoip2_city), T(json_geolite2_city),
    T(generic_ipv4_24), T(generic_ipv6_32), T(generic_mixed_24), T(generic_no_ipv4_search_tree),
    T(generic_decoder), T(bad_databases_refused), T(truncated_database), T(resolve_path_order),
    T(countries_table), T(countries_bad_rows), T(real_lookups), T(real_country_prefixes),
    T(test_db_country_prefixes))
