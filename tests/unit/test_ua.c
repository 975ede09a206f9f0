/* test_ua.c — unit tests of lib/enrich/ni_ua (uap-core semantics, literal
 * prefilter, cache) and lib/enrich/ni_uaverdict (maker, form factor, kind,
 * Windows version, reduced UAs).  Synthetic regexes files pin down the
 * specification's rules one at a time; the shipped regexes.yaml and data/
 * tables are used for the verdicts.  Run from the source tree (run-all does)
 * or with NETINTEL_DATA set. */
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>
#include "ni_test.h"
#include "core/ni_limits.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"

static const char *data_dir(void)
{
    const char *e = getenv("NETINTEL_DATA");
    return e && *e ? e : "data";
}

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *tmpfile_with(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test_ua_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) { close(fd); return NULL; }
    close(fd);
    return path;
}

static ni_ua_db *load_text(const char *yaml, ni_error *err)
{
    const char *p = tmpfile_with(yaml);
    if (!p) return NULL;
    ni_ua_db *db = ni_ua_db_load(p, err);
    unlink(p);
    return db;
}

static const char SYNTH[] =
    "user_agent_parsers:\n"
    "  - regex: '(Foo)Bar/(\\d+)\\.(\\d+)(?:\\.(\\d+)|)'\n"
    "  - regex: 'Quux/(\\d+)'\n"
    "    family_replacement: 'Quux $1 Browser'\n"
    "    v1_replacement: '7'\n"
    "  - regex: '(Ba)(z)?/(\\d+)'\n"
    "    family_replacement: '  $1$2 '\n"
    "  - regex: '(Empty)()/'\n"
    "  - regex: '(Late)/(\\d+)'\n"
    "  - regex: '(Lat)e/(\\d+)'\n"
    "os_parsers:\n"
    "  - regex: 'Win(95|98|NT)'\n"
    "    os_replacement: 'Windows $1'\n"
    "    os_v1_replacement: '$1'\n"
    "  - regex: '(Os)X (\\d+)_(\\d+)_(\\d+)_(\\d+)'\n"
    "device_parsers:\n"
    "  - regex: '; *(Pedi)_(Plus) Build'\n"
    "    device_replacement: 'Odys $1 $2'\n"
    "    brand_replacement: 'Odys'\n"
    "    model_replacement: '$1 $2'\n"
    "  - regex: 'PHONE-(\\w+)'\n"
    "    regex_flag: 'i'\n"
    "  - regex: 'Blank(\\s*)x'\n"
    "    device_replacement: '$1'\n"
    "    brand_replacement: '$1'\n"
    "    model_replacement: '$9'\n";

TEST(spec_groups_and_replacements)
{
    ni_error err = { 0 };
    ni_ua_db *db = load_text(SYNTH, &err);
    CHECK(db != NULL);
    if (!db) { fprintf(stderr, "%s\n", err.msg); return; }
    ni_ua *u = ni_ua_new(db, 0, &err);
    const ni_ua_result *r;
    const char *s;

    s = "x FooBar/3.4 y";              /* groups by position; an unset group is null */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->browser.family, "Foo");
    CHECK_STR(r->browser.major, "3");
    CHECK_STR(r->browser.minor, "4");
    CHECK_STR(r->browser.patch, NULL);
    CHECK_STR(r->os.family, "Other");
    CHECK_STR(r->device.family, "Other");
    CHECK_STR(r->device.brand, NULL);

    s = "Quux/12";                      /* $1 in family, literal v1 */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->browser.family, "Quux 12 Browser");
    CHECK_STR(r->browser.major, "7");
    CHECK_STR(r->browser.minor, NULL);

    s = "Ba/5";                         /* unset $2 is "", the replacement is trimmed */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->browser.family, "Ba");
    CHECK_STR(r->browser.major, NULL);  /* group 2 (z) unset: no v1 */

    s = "Empty/";                       /* an empty group is absent */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->browser.family, "Empty");
    CHECK_STR(r->browser.major, NULL);

    s = "Late/9";                       /* first rule in file order wins */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->browser.family, "Late");

    s = "Mozilla (WinNT) OsX 10_15_7_1";
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->os.family, "Windows NT");
    CHECK_STR(r->os.major, "NT");
    s = "OsX 10_15_7_1";
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->os.family, "Os");
    CHECK_STR(r->os.patch_minor, "1");

    s = "Linux; Pedi_Plus Build/1";     /* the specification's device example */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->device.family, "Odys Pedi Plus");
    CHECK_STR(r->device.brand, "Odys");
    CHECK_STR(r->device.model, "Pedi Plus");

    s = "my phone-X1 here";             /* regex_flag i; no replacements: family = model = $1 */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->device.family, "X1");
    CHECK_STR(r->device.brand, NULL);
    CHECK_STR(r->device.model, "X1");
    s = "PHONE-X1";                     /* case sensitive elsewhere: still matches (flag i) */
    CHECK_STR(ni_ua_parse(u, s, strlen(s))->device.model, "X1");
    s = "Blank   x";                    /* whitespace-only replacement → absent; family Other */
    r = ni_ua_parse(u, s, strlen(s));
    CHECK_STR(r->device.family, "Other");
    CHECK_STR(r->device.brand, NULL);
    CHECK_STR(r->device.model, NULL);
    s = "foobar/3.4";                   /* case sensitive by default */
    CHECK_STR(ni_ua_parse(u, s, strlen(s))->browser.family, "Other");

    ni_ua_free(u);
    ni_ua_db_free(db);
}

/* Patterns whose literals sit in alternations, optional parts, lookarounds,
 * quantified atoms and caseless rules: with and without the prefilter the
 * answers must be the same on strings built to hit each corner. */
TEST(prefilter_equivalence)
{
    static const char yaml[] =
        "user_agent_parsers:\n"
        "  - regex: '(?:Opt)?(Req)uired'\n"
        "  - regex: 'a(bc|de)f(\\d)'\n"
        "  - regex: 'xy{0,2}zz(\\d)'\n"
        "  - regex: '(?!Neg)(\\w+)Look'\n"
        "  - regex: '(?i)(cAsE)d'\n"
        "  - regex: 'Pl+us(\\d)'\n"
        "  - regex: '^(Start)\\b'\n"
        "  - regex: '[Cc]lass(ic)'\n"
        "  - regex: '(Dot).Any'\n"
        "  - regex: 'Esc\\.(\\d)\\/'\n"
        "  - regex: 'Br{2}ace(\\d)'\n"
        "os_parsers:\n"
        "  - regex: '(One|Two|)Three'\n"
        "device_parsers:\n"
        "  - regex: '(Cased)X'\n"
        "    regex_flag: 'i'\n";
    static const char *const inputs[] = {
        "Required", "OptRequired", "required", "abcf1", "adef2", "af3", "xzz1", "xyzz2", "xyyzz3", "xyyyzz4",
        "NegLook", "WordLook", "CASED", "cased", "CaSeD", "Plus1", "Pllllus2", "Pus3", "Start here", "Startx",
        "Classic", "classic", "DotxAny", "Esc.1/", "Esc11/", "Brrace1", "Brace2", "Three", "OneThree", "casedx",
        "CASEDX", "", "zzzz", "Esc.", NULL
    };
    ni_error err = { 0 };
    ni_ua_db *db = load_text(yaml, &err);
    CHECK(db != NULL);
    if (!db) { fprintf(stderr, "%s\n", err.msg); return; }
    ni_ua *on = ni_ua_new(db, 0, &err), *off = ni_ua_new(db, 0, &err);
    ni_ua_set_prefilter(off, false);
    int matched = 0;
    for (int i = 0; inputs[i]; i++) {
        size_t n = strlen(inputs[i]);
        ni_ua_result a = *ni_ua_parse(on, inputs[i], n);
        const char *af = a.browser.family, *ao = a.os.family, *ad = a.device.family;
        char keep[3][64];
        snprintf(keep[0], 64, "%s", af); snprintf(keep[1], 64, "%s", ao); snprintf(keep[2], 64, "%s", ad);
        const ni_ua_result *b = ni_ua_parse(off, inputs[i], n);
        CHECK_STR(keep[0], b->browser.family);
        CHECK_STR(keep[1], b->os.family);
        CHECK_STR(keep[2], b->device.family);
        if (strcmp(keep[0], "Other")) matched++;
    }
    CHECK(matched >= 20);              /* the inputs do exercise the rules */
    ni_ua_stats s;
    ni_ua_get_stats(on, &s);
    ni_ua_stats t;
    ni_ua_get_stats(off, &t);
    CHECK(s.regex_tries < t.regex_tries);   /* and the prefilter does skip work */
    ni_ua_free(on); ni_ua_free(off);
    ni_ua_db_free(db);
}

TEST(load_errors)
{
    ni_error err = { 0 };
    CHECK(ni_ua_db_load("/nonexistent/regexes.yaml", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
    CHECK(load_text("user_agent_parsers:\n  - regex: '(unclosed'\n", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(strstr(err.msg, "user_agent_parsers[0]") != NULL);
    CHECK(load_text("user_agent_parsers: [ {regex: 'a' \n", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(load_text("- just a list\n", &err) == NULL);
    CHECK(load_text("os_parsers:\n  - os_replacement: 'x'\n", &err) == NULL);
    CHECK(strstr(err.msg, "no regex") != NULL);
}

static ni_ua_db *real_db(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/ext/node_modules/uap-core/regexes.yaml", data_dir());
    ni_error err = { 0 };
    ni_ua_db *db = ni_ua_db_load(p, &err);
    if (!db) fprintf(stderr, "  %s\n", err.msg);
    return db;
}

TEST(real_rules_and_cache)
{
    ni_ua_db *db = real_db();
    CHECK(db != NULL);
    if (!db) return;
    CHECK(ni_ua_db_rules(db, NI_UA_LIST_BROWSER) > 300);
    CHECK(ni_ua_db_rules(db, NI_UA_LIST_DEVICE) > 500);
    /* most rules must have a literal, or the prefilter does nothing */
    CHECK(ni_ua_db_unfiltered(db, NI_UA_LIST_DEVICE) * 10 < ni_ua_db_rules(db, NI_UA_LIST_DEVICE));
    ni_error err = { 0 };
    ni_ua *u = ni_ua_new(db, 8, &err);     /* tiny cache: eviction is exercised */
    const char *ff = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
    const ni_ua_result *r = ni_ua_parse(u, ff, strlen(ff));
    CHECK_STR(r->browser.family, "Firefox");
    CHECK_STR(r->browser.major, "120");
    CHECK_STR(r->os.family, "Linux");
    char buf[128];
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "Mozilla/5.0 (iPhone; CPU iPhone OS 16_%d like Mac OS X) Mobile/15E148", i % 50);
        r = ni_ua_parse(u, buf, strlen(buf));
        char want[8]; snprintf(want, sizeof want, "%d", i % 50);
        CHECK_STR(r->os.family, "iOS");
        CHECK_STR(r->os.minor, want);
        CHECK_STR(r->device.brand, "Apple");
    }
    r = ni_ua_parse(u, ff, strlen(ff));       /* evicted long ago: parsed again */
    CHECK_STR(r->browser.family, "Firefox");
    r = ni_ua_parse(u, ff, strlen(ff));       /* now from the cache */
    CHECK_STR(r->browser.major, "120");
    ni_ua_stats s;
    ni_ua_get_stats(u, &s);
    CHECK(s.cache_hits >= 1);
    CHECK_INT(s.parses, 203);
    /* NUL bytes, a lone byte, an overlong UA: answers, no crash */
    r = ni_ua_parse(u, "curl/8\0x", 8);
    CHECK_STR(r->browser.family, "curl");
    r = ni_ua_parse(u, "", 0);
    CHECK_STR(r->browser.family, "Other");
    size_t big = NI_UA_LEN_MAX * 2;
    char *l = malloc(big);
    if (l) {
        memset(l, 'A', big);
        memcpy(l, "Wget/1.2 ", 9);
        r = ni_ua_parse(u, l, big);
        CHECK_STR(r->browser.family, "Wget");
        ni_ua_get_stats(u, &s);
        CHECK_INT(s.truncated, 1);
        free(l);
    }
    ni_ua_free(u);
    ni_ua_db_free(db);
}

/* The start-up cache (uap.bin under $XDG_CACHE_HOME/netintel): a first load
 * verifies regexes.yaml (every rule compiled), a second keeps what it read,
 * later ones read the cache (checked whole, then, once that is remembered,
 * used where it lies, mapped); all parse alike, and a damaged cache is
 * ignored. */
TEST(start_up_cache)
{
    char cache[] = "/tmp/test_ua_cache_XXXXXX", bin[256], ver[256], path[1024];
    CHECK(mkdtemp(cache) != NULL);
    setenv("XDG_CACHE_HOME", cache, 1);
    unsetenv("NETINTEL_VERIFY_ALWAYS");
    snprintf(bin, sizeof bin, "%s/netintel/uap.bin", cache);
    snprintf(ver, sizeof ver, "%s/netintel/verified", cache);
    snprintf(path, sizeof path, "%s/ext/node_modules/uap-core/regexes.yaml", data_dir());
    static const char *const uas[] = {
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        "curl/8.4.0",
    };
    enum { NU = sizeof uas / sizeof uas[0] };
    char want[NU][3][64];
    for (int round = 0; round < 6; round++) {
        if (round == 3) {                        /* old enough for its check to be remembered */
            struct timespec settle = { 2, 200000000 };
            nanosleep(&settle, NULL);
        }
        if (round == 5) {
            FILE *vf = fopen(ver, "r");
            char line[256];
            bool remembered = false;
            while (vf && fgets(line, sizeof line, vf)) if (!strncmp(line, "uap-cache-sum/", 14)) remembered = true;
            if (vf) fclose(vf);
            CHECK(remembered);
            CHECK(ni_test_damage_middle(bin));     /* damage: one byte in the middle */
        }
        ni_error err = { 0 };
        ni_ua_db *db = ni_ua_db_load(path, &err);
        CHECK(db != NULL);
        if (!db) { fprintf(stderr, "  %s\n", err.msg); break; }
        struct stat st;
        if (round >= 2) CHECK(stat(bin, &st) == 0);
        ni_ua *u = ni_ua_new(db, 16, &err);
        CHECK(u != NULL);
        for (int i = 0; u && i < NU; i++) {
            const ni_ua_result *r = ni_ua_parse(u, uas[i], strlen(uas[i]));
            const char *got[3] = { r->browser.family, r->os.family, r->device.family };
            for (int k = 0; k < 3; k++) {
                if (round == 0) snprintf(want[i][k], sizeof want[i][k], "%s", got[k] ? got[k] : "");
                ni_t_current = uas[i];
                CHECK_STR(got[k] ? got[k] : "", want[i][k]);
            }
        }
        ni_t_current = "start_up_cache";
        ni_ua_free(u);
        ni_ua_db_free(db);
    }
    CHECK_STR(want[0][0], "Firefox");
    unlink(bin); unlink(ver);
    char p[300];
    snprintf(p, sizeof p, "%s/netintel", cache); rmdir(p);
    rmdir(cache);
    unsetenv("XDG_CACHE_HOME");
}

typedef struct vcase {
    const char *ua, *platform, *pver, *model;
    const char *maker, *vmodel, *form, *kind, *win;
    int reduced;
} vcase;

TEST(verdicts)
{
    ni_ua_db *db = real_db();
    ni_error err = { 0 };
    ni_uav *v = ni_uav_load(data_dir(), &err);
    CHECK(db != NULL);
    CHECK(v != NULL);
    if (!db || !v) { fprintf(stderr, "  %s\n", err.msg); ni_ua_db_free(db); ni_uav_free(v); return; }
    ni_ua *u = ni_ua_new(db, 64, &err);
    static const vcase cases[] = {
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, "desktop", "browser", "10/11", 1 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
          "\"Windows\"", "\"15.0.0\"", NULL, NULL, NULL, "desktop", "browser", "11", 1 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
          "\"Windows\"", "\"10.0.0\"", NULL, NULL, NULL, "desktop", "browser", "10", 1 },
        { "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
          NULL, NULL, NULL, NULL, NULL, "desktop", "browser", "7", 0 },
        { "Mozilla/5.0 (Windows NT 5.2; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, "desktop", "browser", "XP x64/Server 2003", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
          NULL, NULL, NULL, "Microsoft", NULL, "console", "browser", NULL, 0 },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, "mobile", "browser", NULL, 1 },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          "\"Android\"", "\"14.0.0\"", "\"Pixel 8\"", "Google", "Pixel 8", "mobile", "browser", NULL, 1 },
        { "Mozilla/5.0 (Linux; Android 12; Redmi Note 11 Build/SKQ1.211103.001) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.128 Mobile Safari/537.36",
          NULL, NULL, NULL, "Xiaomi", "Redmi Note 11", "mobile", "browser", NULL, 0 },
        { "Mozilla/5.0 (Linux; Android 12; POCO F3 Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.127 Mobile Safari/537.36",
          NULL, NULL, NULL, "Xiaomi", "POCO F3", "mobile", "browser", NULL, 0 },
        { "Mozilla/5.0 (Linux; Android 12; RMX3363) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.0.0 Mobile Safari/537.36",
          NULL, NULL, NULL, "realme", "RMX3363", "mobile", "browser", NULL, 1 },
        { "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.5615.48 Safari/537.36",
          NULL, NULL, NULL, "Samsung", "Galaxy Tab S8 11.0\" WiFi", "tablet", "browser", NULL, 0 },
        { "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
          NULL, NULL, NULL, "Apple", "iPad", "tablet", "browser", NULL, 0 },
        { "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
          NULL, NULL, NULL, "Samsung", NULL, "tv", "browser", NULL, 0 },
        { "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          NULL, NULL, NULL, NULL, NULL, "bot", "bot", NULL, 0 },
        { "Microsoft NCSI", NULL, NULL, NULL, NULL, NULL, "other", "system", NULL, 0 },
        { "Microsoft-CryptoAPI/10.0", NULL, NULL, NULL, NULL, NULL, "other", "system", NULL, 0 },
        { "Debian APT-HTTP/1.3 (2.6.1)", NULL, NULL, NULL, NULL, NULL, "other", "system", NULL, 0 },
        { "curl/8.4.0", NULL, NULL, NULL, NULL, NULL, "other", "tool", NULL, 0 },
        { "python-requests/2.31.0", NULL, NULL, NULL, NULL, NULL, "other", "tool", NULL, 0 },
        { "Dalvik/2.1.0 (Linux; U; Android 12; SM-A525F Build/SP1A.210812.016)",
          NULL, NULL, NULL, "Samsung", "SM-A525F", "mobile", "app", NULL, 0 },
        { "", NULL, NULL, NULL, NULL, NULL, "other", "other", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const vcase *c = &cases[i];
        ni_uav_hints h = { c->platform, c->pver, c->model };
        ni_uav_verdict vd;
        ni_uav_parse(v, u, c->ua, strlen(c->ua), &h, &vd);
        ni_t_current = c->ua[0] ? c->ua : "(empty)";
        CHECK_STR(vd.maker, c->maker);
        if (c->vmodel) CHECK_STR(vd.model, c->vmodel);
        CHECK_STR(vd.form_factor, c->form);
        CHECK_STR(vd.kind, c->kind);
        CHECK_STR(vd.windows_version, c->win);
        CHECK_INT(vd.reduced, c->reduced);
    }
    ni_t_current = "verdicts";
    ni_ua_free(u);
    ni_ua_db_free(db);
    ni_uav_free(v);
}

/* Issue 10: which database named the device, the OS netintel reports, and
 * Windows versions of reduced User-Agents. */
typedef struct ocase {
    const char *ua, *platform, *pver, *model;
    const char *source, *maker, *vmodel, *os, *detail, *win;
    int replaced;
} ocase;

TEST(devices_os_windows)
{
    ni_ua_db *db = real_db();
    ni_error err = { 0 };
    ni_uav *v = ni_uav_load(data_dir(), &err);
    CHECK(db != NULL);
    CHECK(v != NULL);
    if (!db || !v) { fprintf(stderr, "  %s\n", err.msg); ni_ua_db_free(db); ni_uav_free(v); return; }
    ni_ua *u = ni_ua_new(db, 64, &err);
    static const ocase cases[] = {
        /* uap-core knows the device: it stays the source */
        { "Mozilla/5.0 (Linux; Android 13; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
          NULL, NULL, NULL, "uap-core", "Samsung", "SM-A546B", "Android", NULL, NULL, 0 },
        { "Mozilla/5.0 (PlayStation 4 5.55) AppleWebKit/601.2 (KHTML, like Gecko)",
          NULL, NULL, NULL, "uap-core", "Sony", "PlayStation 4", "PlayStation", NULL, NULL, 1 },
        /* uap-core has only a generic device: node-device-detector decides */
        { "Mozilla/5.0 (Linux; Android 13; 23021RAAEG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          NULL, NULL, NULL, "device-detector", "Xiaomi", "Redmi Note 12", "Android", NULL, NULL, 0 },
        { "Mozilla/5.0 (Linux; Android 12; POCO F3 Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.127 Mobile Safari/537.36",
          NULL, NULL, NULL, "device-detector", "Xiaomi", "POCO F3", "Android", NULL, NULL, 0 },
        { "Mozilla/5.0 (Linux; Android 11; CPH2269) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
          NULL, NULL, NULL, "uap-core", "OPPO", "CPH2269", "Android", NULL, NULL, 0 },
        { "Mozilla/5.0 (Linux; Android 13; V2207) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36",
          NULL, NULL, NULL, "device-detector", "vivo", NULL, "Android", NULL, NULL, 0 },
        /* reduced Android with a Sec-CH-UA-Model hint: device-detector reads the hint */
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          "\"Android\"", "\"13.0.0\"", "\"23021RAAEG\"", "device-detector", "Xiaomi", "Redmi Note 12", "Android", NULL, NULL, 0 },
        /* nothing to say about the device */
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Android", NULL, NULL, 0 },
        /* consoles are no Windows hosts */
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
          NULL, NULL, NULL, "device-detector", "Microsoft", "Xbox One", "Xbox", NULL, NULL, 1 },
        { "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
          NULL, NULL, NULL, "device-detector", "Nintendo", "Switch", "Nintendo", NULL, NULL, 1 },
        /* HarmonyOS is its own OS */
        { "Mozilla/5.0 (Linux; Android 12; HarmonyOS; ANA-AN00; HMSCore 6.11.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.0.322 Mobile Safari/537.36",
          NULL, NULL, NULL, "uap-core", "Huawei", NULL, "HarmonyOS", NULL, NULL, 1 },
        { "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile",
          NULL, NULL, NULL, NULL, NULL, NULL, "HarmonyOS", NULL, NULL, 1 },
        /* Linux distributions count under Linux */
        { "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
          NULL, NULL, NULL, NULL, NULL, NULL, "Linux", "Ubuntu", NULL, 1 },
        { "Mozilla/5.0 (X11; Linux x86_64; Fedora 38) Gecko/20100101 Firefox/118.0",
          NULL, NULL, NULL, NULL, NULL, NULL, "Linux", "Fedora", NULL, 1 },
        /* Windows versions: real unless the frozen NT 10.0 of Chrome 107..109 */
        { "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "7", 0 },
        { "Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "8.1", 0 },
        { "Mozilla/5.0 (Windows NT 6.2; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "8", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "undetermined", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36 Edg/109.0.1518.78",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "undetermined", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
          "\"Windows\"", "\"0.3.0\"", NULL, NULL, NULL, NULL, "Windows", NULL, "8.1", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "10/11", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/106.0.0.0 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "10/11", 0 },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.125 Safari/537.36",
          NULL, NULL, NULL, NULL, NULL, NULL, "Windows", NULL, "10/11", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ocase *c = &cases[i];
        ni_uav_hints h = { c->platform, c->pver, c->model };
        ni_uav_verdict vd;
        ni_uav_parse(v, u, c->ua, strlen(c->ua), &h, &vd);
        ni_t_current = c->ua;
        CHECK_STR(vd.device_source, c->source);
        CHECK_STR(vd.maker, c->maker);
        if (c->vmodel) CHECK_STR(vd.model, c->vmodel);
        CHECK_STR(vd.os, c->os);
        if (c->detail) CHECK(vd.os_detail && !strncmp(vd.os_detail, c->detail, strlen(c->detail)));
        else CHECK(vd.os_detail == NULL || c->replaced == 0);
        CHECK_STR(vd.windows_version, c->win);
        CHECK_INT(vd.os_replaced, c->replaced);
    }
    ni_t_current = "devices_os_windows";
    ni_ua_free(u);
    ni_ua_db_free(db);
    ni_uav_free(v);
}

/* Every ua-makers.tsv source is checked: "(e.g. CODE)" — a User-Agent that
 * names CODE gets the row's maker; "uap-core 0.18.0 regexes.yaml
 * brand_replacement 'X'" — regexes.yaml has that replacement. */
TEST(maker_sources)
{
    ni_ua_db *db = real_db();
    ni_error err = { 0 };
    ni_uav *v = ni_uav_load(data_dir(), &err);
    ni_ua *u = db ? ni_ua_new(db, 64, &err) : NULL;
    CHECK(u != NULL && v != NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/ua-makers.tsv", data_dir());
    FILE *f = fopen(path, "r");
    snprintf(path, sizeof path, "%s/ext/node_modules/uap-core/regexes.yaml", data_dir());
    FILE *y = fopen(path, "r");
    CHECK(f != NULL && y != NULL);
    static char yaml[1 << 20];
    size_t yn = y ? fread(yaml, 1, sizeof yaml - 1, y) : 0;
    yaml[yn] = 0;
    if (y) fclose(y);
    char line[4096];
    int examples = 0, replacements = 0;
    while (u && v && f && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || !strncmp(line, "maker\t", 6)) continue;
        line[strcspn(line, "\n")] = 0;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        CHECK(t2 != NULL);
        if (!t2) continue;
        *t1 = 0;
        const char *src = t2 + 1;
        ni_t_current = src;
        const char *eg = strstr(src, "(e.g. ");
        if (eg) {
            char code[128];
            size_t n = strcspn(eg + 6, ")");
            snprintf(code, sizeof code, "%.*s", (int)n, eg + 6);
            char ua[512];
            snprintf(ua, sizeof ua, "Mozilla/5.0 (Linux; Android 12; %s Build/SP1A) AppleWebKit/537.36 "
                     "(KHTML, like Gecko) Chrome/110.0.5481.153 Mobile Safari/537.36", code);
            ni_uav_verdict vd;
            ni_uav_parse(v, u, ua, strlen(ua), NULL, &vd);
            CHECK_STR(vd.maker, line);
            examples++;
        }
        const char *br = strstr(src, "brand_replacement '");
        if (br) {
            char want[160];
            size_t n = strcspn(br + 19, "'");
            snprintf(want, sizeof want, "brand_replacement: '%.*s'", (int)n, br + 19);
            CHECK(strstr(yaml, want) != NULL);
            replacements++;
        }
    }
    ni_t_current = "maker_sources";
    if (f) fclose(f);
    CHECK(examples >= 15);
    CHECK(replacements >= 20);
    ni_ua_free(u);
    ni_ua_db_free(db);
    ni_uav_free(v);
}

TEST(verdict_table_errors)
{
    char dir[] = "/tmp/test_uav_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    ni_error err = { 0 };
    CHECK(ni_uav_load(dir, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
    char p[128];
    snprintf(p, sizeof p, "%s/ua-makers.tsv", dir);
    FILE *f = fopen(p, "w");
    if (f) { fputs("maker\twhen\tsource\nAcme\tbogus:x\ttest\n", f); fclose(f); }
    CHECK(ni_uav_load(dir, &err) == NULL);
    CHECK_INT(err.code, NI_ERR_DATA);
    CHECK(strstr(err.msg, "ua-makers.tsv:2") != NULL);
    unlink(p);
    rmdir(dir);
}

/* The prefilter's analysis of one pattern (ni_ua_required, used by
 * ni_devdet for its model rules): the literals are lower-cased, every
 * requirement must be met, one alternative of each suffices, and a pattern
 * without a usable literal filters nothing. */
TEST(required_literals)
{
    char req[512];
    size_t n = ni_ua_required("(?:MI 8|Mi-8)(?: Build|[;)])", req, sizeof req);
    CHECK(n > 1);
    const char *a = "mozilla/5.0 (linux; android 10; mi 8 build/qkq1)";
    const char *b = "mozilla/5.0 (linux; android 10; mi-8)";
    const char *c = "mozilla/5.0 (linux; android 10; redmi 9 build/qkq1)";
    CHECK(ni_ua_required_met(req, a, strlen(a)));
    CHECK(ni_ua_required_met(req, b, strlen(b)));
    CHECK(!ni_ua_required_met(req, c, strlen(c)));
    /* two requirements: both needed */
    n = ni_ua_required("SM-G99[0-9]+.*Chrome/", req, sizeof req);
    CHECK(n > 1);
    const char *d = "sm-g991b applewebkit chrome/110";
    const char *e = "sm-g991b applewebkit firefox/110";
    CHECK(ni_ua_required_met(req, d, strlen(d)));
    CHECK(!ni_ua_required_met(req, e, strlen(e)));
    /* nothing usable: "\0", met by anything */
    n = ni_ua_required("[a-z]+\\d", req, sizeof req);
    CHECK_INT(n, 1);
    CHECK(ni_ua_required_met(req, "", 0));
    /* no literal of two letters or more but through small classes: their
     * members become alternatives ("pg-" or "pn-"; "k4b", "k4m" or "k55") */
    n = ni_ua_required("P[GN]-|K(?:4[bm]|55)", req, sizeof req);
    CHECK(n > 1);
    const char *f = "mozilla/5.0 (linux; pn-100)", *g = "mozilla/5.0 (linux; k4m)", *h = "mozilla/5.0 (linux; px-100 k5)";
    CHECK(ni_ua_required_met(req, f, strlen(f)));
    CHECK(ni_ua_required_met(req, g, strlen(g)));
    CHECK(!ni_ua_required_met(req, h, strlen(h)));
    /* not a small class: negated, \w, a wide range */
    CHECK_INT(ni_ua_required("P[^GN]-|P\\w-|P[a-z]-", req, sizeof req), 1);
    /* too small a buffer: 0 (the caller does not filter) */
    CHECK_INT(ni_ua_required("(?:MI 8|Mi-8)", req, 4), 0);
}

RUN(T(start_up_cache), T(spec_groups_and_replacements), T(prefilter_equivalence), T(load_errors),
    T(real_rules_and_cache), T(verdicts), T(devices_os_windows), T(maker_sources), T(verdict_table_errors),
    T(required_literals))
