/* test_devdet.c — lib/enrich/ni_devdet: the matching rules of
 * node-device-detector 2.2.7 reimplemented (ni_devdet.h), on a small
 * hand-written database in a temporary directory (JavaScript key order,
 * the pattern prefix, gates, model templates, fakes, vendor fragments,
 * client hints, release years, load errors), then on the real database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ni_test.h"
#include "enrich/ni_devdet.h"
#include "core/ni_verified.h"

static char root[64];

static void put(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) { fputs(text, f); fclose(f); }
}

static void make_db(const char *mobiles)
{
    char p[256];
    snprintf(p, sizeof p, "%s/device", root); mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/device-info", root); mkdir(p, 0700);
    put("device/televisions.js", "module.exports = {\n  \"TVCo\": { \"regex\": \"TVCo\", \"device\": \"tv\", \"model\": \"T1\" }\n};\n");
    put("device/shell_tv.js", "module.exports = {};");
    put("device/notebooks.js", "{}");   /* bare JSON is accepted too */
    put("device/consoles.js", "module.exports = { \"Sony\": { \"regex\": \"PlayStation (\\\\d)\", \"device\": \"console\", \"model\": \"PlayStation $1\" } };");
    put("device/car_browsers.js", "module.exports = {};");
    put("device/cameras.js", "module.exports = {};");
    put("device/portable_media_player.js", "module.exports = {};");
    put("device/mobiles.js", mobiles);
    put("vendorfragments.js", "module.exports = { \"Dell\": [ \"MDDR(JS)?\" ] };");
    put("device-info/device.js", "module.exports = { \"zed\": { \"z\": \"DS=6;RE=2021.05;RM=4096;\", \"zed-1\": \"->z\", \"z2\": \"DS=6;RE=2022;\" }, \"acme\": null };");
}

static const char mobiles[] =
    "module.exports = {\n"
    "  \"Acme\": { \"regex\": \"MULTI|ACME[-_ ]|BLD \", \"device\": \"smartphone\", \"models\": [\n"
    "      { \"regex\": \"ACME-(\\\\w+ TD)\", \"model\": \"$1\" },\n"
    "      { \"regex\": \"BLD (Build)\", \"model\": \"$1\" },\n"
    "      { \"regex\": \"ACME_Tab\", \"model\": \"Tab\", \"device\": \"tablet\", \"brand\": \"AcmeTabs\" },\n"
    "      { \"regex\": \"ACME (\\\\d+)\", \"model\": \"A$1 $2\" }\n"
    "  ] },\n"
    "  \"20\": { \"regex\": \"MULTI\", \"device\": \"smartphone\", \"model\": \"twenty\" },\n"
    "  \"3\": { \"regex\": \"MULTI\", \"device\": \"smartphone\", \"model\": \"three\" },\n"
    "  \"Zed\": { \"regex\": \"ZED-(\\\\d)\", \"device\": \"smartphone\", \"model\": \"Z\" },\n"
    "  \"Unknown\": { \"regex\": \"NoName\", \"device\": \"feature phone\", \"model\": \"X\" },\n"
    "  \"Apple\": { \"regex\": \"iPhone\", \"device\": \"smartphone\", \"model\": \"iPhone\" },\n"
    "  \"Possessive\": { \"regex\": \"POS\\\\d++X\", \"device\": \"tablet\", \"model\": \"P\" }\n"
    "};\n";

typedef struct dcase { const char *ua, *hint, *brand, *model, *type; } dcase;

TEST(rules)
{
    snprintf(root, sizeof root, "/tmp/test_devdet_XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    make_db(mobiles);
    ni_error err = { 0 };
    ni_devdet *d = ni_devdet_load(root, &err);
    CHECK(d != NULL);
    if (!d) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK_INT(ni_devdet_brands(d), 9);
    CHECK_INT(ni_devdet_models(d), 4);
    static const dcase cases[] = {
        /* JavaScript order: array-index keys first, ascending, then file order */
        { "Mozilla/5.0 (Linux; Android 9; MULTI)", NULL, "3", "three", "smartphone" },
        /* the prefix: start, or a byte that is no letter, digit, '_' or '-'... */
        { "ZED-1", NULL, "Zed", "Z", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; ZED-1)", NULL, "Zed", "Z", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; xZED-1)", NULL, NULL, NULL, NULL },
        { "Mozilla/5.0 (Linux; Android 9; -ZED-1)", NULL, NULL, NULL, NULL },
        /* ... or "_" after such a byte, or "sprd-" / "MZ-"; matching ignores ASCII case */
        { "Mozilla/5.0 (Linux; Android 9; _ZED-1)", NULL, "Zed", "Z", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; a_ZED-1)", NULL, NULL, NULL, NULL },
        { "Mozilla/5.0 (Linux; Android 9; sprd-zed-1)", NULL, "Zed", "Z", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; MZ-ZED-1)", NULL, "Zed", "Z", "smartphone" },
        /* models: $1, '_' to ' ', a final " TD" dropped; "Build" is no model;
         * a model rule may set type and brand; unset groups are "" */
        { "Mozilla/5.0 (Linux; Android 9; ACME-Ph_one TD)", NULL, "Acme", "Ph one", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; BLD Build/1)", NULL, "Acme", NULL, "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; ACME_Tab)", NULL, "AcmeTabs", "Tab", "tablet" },
        { "Mozilla/5.0 (Linux; Android 9; ACME 7)", NULL, "Acme", "A7 $2", "smartphone" },   /* only $1..$groups */
        { "Mozilla/5.0 (Linux; Android 9; ACME x)", NULL, "Acme", NULL, "smartphone" },
        /* "Unknown" names no brand; "++" is read as "+" */
        { "NoName/1.0", NULL, NULL, "X", "feature phone" },
        { "Mozilla/5.0 (POS123X)", NULL, "Possessive", "P", "tablet" },
        /* an iPhone that says Android is a fake */
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X)", NULL, "Apple", "iPhone", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 9; iPhone)", NULL, NULL, NULL, NULL },
        /* gated lists: televisions only with HbbTV/SmartTvA */
        { "Mozilla/5.0 (Linux) TVCo", NULL, NULL, NULL, NULL },
        { "Mozilla/5.0 (Linux) HbbTV/1.2.1 (; TVCo; ;)", NULL, "TVCo", "T1", "tv" },
        { "Mozilla/5.0 (PlayStation 4 5.55)", NULL, "Sony", "PlayStation 4", "console" },
        /* a desktop User-Agent has no device, unless excluded (ARM; ...) */
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ZED-1", NULL, NULL, NULL, NULL },
        { "Mozilla/5.0 (Windows NT 10.0; ARM; ZED-1)", NULL, "Zed", "Z", "smartphone" },
        /* vendor fragments name a brand */
        { "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0; MDDRJS)", NULL, "Dell", NULL, NULL },
        /* reduced Android: nothing without a model hint; the hint goes in */
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/120.0.0.0 Mobile", NULL, NULL, NULL, NULL },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/120.0.0.0 Mobile", "ZED-2", "Zed", "Z", "smartphone" },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/120.0.0.0 Mobile", "Q9", NULL, "Q9", NULL },
        { "", NULL, NULL, NULL, NULL },
    };
    /* each case with a scratch of its own (ni_devdet_parse_ex), then with
     * one matcher reused for every case in turn, as a thread does: the same
     * answers (nothing of one User-Agent's match is left for the next) */
    ni_devdet_matcher *mt = ni_devdet_matcher_new(d, NULL);
    CHECK(mt != NULL);
    for (int reuse = 0; reuse < 2; reuse++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const dcase *c = &cases[i];
            ni_t_current = c->ua[0] ? c->ua : "(empty)";
            for (int pf = 0; pf < 2; pf++) {
                ni_devdet_result r;
                bool found = reuse ? ni_devdet_match(d, mt, c->ua, strlen(c->ua), c->hint, NULL, pf, &r)
                                   : ni_devdet_parse_ex(d, c->ua, strlen(c->ua), c->hint, NULL, pf, &r);
                CHECK_INT(found, c->brand || c->model);
                CHECK_STR(r.brand, c->brand ? c->brand : "");
                CHECK_STR(r.model, c->model ? c->model : "");
                CHECK_STR(r.type, c->type ? c->type : "");
            }
        }
    ni_devdet_matcher_free(mt);
    ni_t_current = "rules";
    /* release years: "RE=2021.05" → "2021-05", aliases followed, names case-folded */
    CHECK_STR(ni_devdet_release(d, "Zed", "Z"), "2021-05");
    CHECK_STR(ni_devdet_release(d, "Zed", "ZED-1"), "2021-05");
    CHECK_STR(ni_devdet_release(d, "ZED", "z2"), "2022");
    CHECK(ni_devdet_release(d, "Zed", "Z3") == NULL);
    CHECK(ni_devdet_release(d, "Acme", "Z") == NULL);
    CHECK(ni_devdet_release(d, NULL, "Z") == NULL);
    ni_devdet_free(d);
}

typedef struct ecase { const char *file, *text; ni_err code; const char *msg; } ecase;

TEST(load_errors)
{
    ni_error err = { 0 };
    CHECK(ni_devdet_load("/nonexistent/regexes", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
    CHECK(strstr(err.msg, "/nonexistent/regexes/device/televisions.js") != NULL);
    static const ecase cases[] = {
        { "device/mobiles.js", "module.exports = { \"A\": { \"regex\": \"(\" } };", NI_ERR_DATA, "mobiles.js: A: regex '(' does not compile" },
        { "device/mobiles.js", "module.exports = { \"A\": { \"device\": \"tv\" } };", NI_ERR_DATA, "mobiles.js: brand 'A': no regex" },
        { "device/mobiles.js", "module.exports = { \"A\": ", NI_ERR_DATA, "mobiles.js: JSON error" },
        { "device/mobiles.js", "var x = 1;", NI_ERR_DATA, "mobiles.js: not a 'module.exports = <JSON>' module" },
        { "device/mobiles.js", "module.exports = [];", NI_ERR_DATA, "mobiles.js: not an object of brands" },
        { "device/mobiles.js", "module.exports = { \"A\": { \"regex\": \"a\", \"models\": 3 } };", NI_ERR_DATA, "models is not a list" },
        { "vendorfragments.js", "module.exports = { \"Dell\": [ 7 ] };", NI_ERR_DATA, "vendorfragments.js: 'Dell'[0] is not a string" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_db(mobiles);
        put(cases[i].file, cases[i].text);
        ni_t_current = cases[i].text;
        ni_devdet *d = ni_devdet_load(root, &err);
        CHECK(d == NULL);
        ni_devdet_free(d);
        CHECK_INT(err.code, cases[i].code);
        if (!strstr(err.msg, cases[i].msg)) fprintf(stderr, "  got: %s\n", err.msg);
        CHECK(strstr(err.msg, cases[i].msg) != NULL);
    }
    ni_t_current = "load_errors";
    static const char *const files[] = {
        "device/televisions.js", "device/shell_tv.js", "device/notebooks.js", "device/consoles.js",
        "device/car_browsers.js", "device/cameras.js", "device/portable_media_player.js",
        "device/mobiles.js", "vendorfragments.js", "device-info/device.js",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        unlink(p);
    }
    char p[256];
    snprintf(p, sizeof p, "%s/device", root); rmdir(p);
    snprintf(p, sizeof p, "%s/device-info", root); rmdir(p);
    rmdir(root);
}

/* The real database (data/ext, scripts/install-deps): makers uap-core does
 * not know from their model codes. */
TEST(real_database)
{
    const char *e = getenv("NETINTEL_DATA");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/ext/node_modules/node-device-detector/regexes", e && *e ? e : "data");
    ni_error err = { 0 };
    ni_devdet *d = ni_devdet_load(dir, &err);
    CHECK(d != NULL);
    if (!d) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK(ni_devdet_brands(d) > 2000);
    CHECK(ni_devdet_models(d) > 10000);
    static const dcase cases[] = {
        { "Mozilla/5.0 (Linux; Android 13; 23021RAAEG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", NULL, "Xiaomi", "Redmi Note 12", NULL },
        { "Mozilla/5.0 (Linux; Android 12; POCO F3 Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.127 Mobile Safari/537.36", NULL, "POCO", "F3", "smartphone" },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041", NULL, "Microsoft", "Xbox One", "console" },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", NULL, NULL, NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const dcase *c = &cases[i];
        ni_t_current = c->ua;
        ni_devdet_result r;
        bool found = ni_devdet_parse(d, c->ua, strlen(c->ua), c->hint, NULL, &r);
        CHECK_INT(found, c->brand || c->model);
        CHECK_STR(r.brand, c->brand ? c->brand : "");
        CHECK_STR(r.model, c->model ? c->model : "");
        if (c->type) CHECK_STR(r.type, c->type);
    }
    ni_t_current = "real_database";
    CHECK_STR(ni_devdet_release(d, "Samsung", "Galaxy S10"), "2019-02");   /* device-info: RE=2019.02 */
    ni_devdet_free(d);
}

/* The start-up cache (devdet.bin under $XDG_CACHE_HOME/netintel): a first
 * load verifies the files (every regex compiled), a second one (lazy) keeps
 * what it read, a third reads only the cache; all three match alike, and a
 * damaged cache is ignored. */
TEST(start_up_cache)
{
    const char *e = getenv("NETINTEL_DATA");
    char dir[1024], cache[] = "/tmp/test_devdet_cache_XXXXXX", bin[256];
    snprintf(dir, sizeof dir, "%s/ext/node_modules/node-device-detector/regexes", e && *e ? e : "data");
    CHECK(mkdtemp(cache) != NULL);
    setenv("XDG_CACHE_HOME", cache, 1);
    unsetenv("NETINTEL_VERIFY_ALWAYS");
    snprintf(bin, sizeof bin, "%s/netintel/devdet.bin", cache);
    static const char *const uas[] = {
        "Mozilla/5.0 (Linux; Android 13; 23021RAAEG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 12; POCO F3 Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.127 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
        "Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.106 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 9; SAMSUNG SM-T510) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/12.1 Chrome/79.0.3945.136 Safari/537.36",
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 HbbTV/1.5.1 (+DRM; LGE; 65UN7300PUF; WEBOS5.0; 04.00.25; W50_K5LP;)",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0; MDDRJS)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    };
    enum { NU = sizeof uas / sizeof uas[0] };
    ni_devdet_result want[NU];
    size_t brands = 0, models = 0;
    for (int round = 0; round < 6; round++) {
        if (round == 3) {
            /* the cache old enough for its check to be remembered
             * (NI_VERIFIED_SETTLE_S): this round checks it whole and
             * remembers that, the next uses it where it lies (mapped) */
            struct timespec settle = { NI_VERIFIED_SETTLE_S, 200000000 };
            nanosleep(&settle, NULL);
        }
        if (round == 5) {
            char vp[300], line[256];
            snprintf(vp, sizeof vp, "%s/netintel/verified", cache);
            FILE *vf = fopen(vp, "r");
            bool remembered = false;
            while (vf && fgets(line, sizeof line, vf)) if (!strncmp(line, "devdet-cache-sum/", 17)) remembered = true;
            if (vf) fclose(vf);
            CHECK(remembered);
        }
        if (round == 5) {                        /* damage: one byte in the middle */
            CHECK(ni_test_damage_middle(bin));
        }
        ni_error err = { 0 };
        ni_devdet *d = ni_devdet_load(dir, &err);
        CHECK(d != NULL);
        if (!d) { fprintf(stderr, "  %s\n", err.msg); break; }
        struct stat st;
        if (round == 0) CHECK(stat(bin, &st) != 0);          /* verified, nothing kept yet */
        if (round >= 1) CHECK(stat(bin, &st) == 0);
        if (round == 0) { brands = ni_devdet_brands(d); models = ni_devdet_models(d); }
        CHECK_INT(ni_devdet_brands(d), brands);
        CHECK_INT(ni_devdet_models(d), models);
        for (int i = 0; i < NU; i++)
            for (int pf = 0; pf < 2; pf++) {
                ni_devdet_result r;
                memset(&r, 0, sizeof r);
                ni_devdet_parse_ex(d, uas[i], strlen(uas[i]), NULL, NULL, pf, &r);
                if (round == 0 && pf == 0) want[i] = r;
                ni_t_current = uas[i];
                CHECK_STR(r.brand, want[i].brand);
                CHECK_STR(r.model, want[i].model);
                CHECK_STR(r.type, want[i].type);
            }
        ni_t_current = "start_up_cache";
        CHECK_STR(ni_devdet_release(d, "Samsung", "Galaxy S10"), "2019-02");
        ni_devdet_free(d);
    }
    CHECK_STR(want[0].brand, "Xiaomi");
    char p[256];
    unlink(bin);
    snprintf(p, sizeof p, "%s/netintel/verified", cache); unlink(p);
    snprintf(p, sizeof p, "%s/netintel", cache); rmdir(p);
    rmdir(cache);
    unsetenv("XDG_CACHE_HOME");
}

RUN(T(rules), T(load_errors), T(real_database), T(start_up_cache))
