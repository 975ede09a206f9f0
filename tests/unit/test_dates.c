/* test_dates.c — unit tests of lib/enrich/ni_dates against the shipped data:
 * browser releases from @mdn/browser-compat-data (Chrome 49 → 2016-03-02,
 * Firefox 52 → 2017-03-07, version shortening, min_major), devices
 * (SM-G973F → Galaxy S10, exact beats pattern, longest pattern), OS
 * lifecycles (Windows XP end 2014-04-08), final builds for old OSes (Chrome
 * 49.0.2623.112 on XP), and one-line errors for missing or corrupt files. */
#include "ni_test.h"
#include "enrich/ni_dates.h"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

static ni_dates *D;

TEST(load)
{
    D = ni_dates_new();
    ni_error err = { 0 };
    clock_t t0 = clock();
    CHECK_INT(ni_dates_load(D, "data", &err), NI_OK);
    if (err.code) fprintf(stderr, "  %s\n", err.msg);
    printf("dates: loaded in %.0f ms: %zu browser releases, %zu device rows, %zu OS rows\n",
           (double)(clock() - t0) * 1000 / CLOCKS_PER_SEC, ni_dates_browser_releases(D),
           ni_dates_device_rows(D), ni_dates_os_rows(D));
    CHECK(ni_dates_browser_releases(D) > 500);
    CHECK(ni_dates_device_rows(D) >= 80);
    CHECK(ni_dates_os_rows(D) >= 30);
}

static const char *bdate(const char *fam, const char *ver)
{
    static ni_browser_release r;
    return ni_dates_browser(D, fam, ver, &r) ? r.date : "-";
}

TEST(browsers)
{
    CHECK_STR(bdate("Chrome", "49"), "2016-03-02");
    CHECK_STR(bdate("Chrome", "49.0.2623.112"), "2016-03-02");
    CHECK_STR(bdate("Firefox", "52.0"), "2017-03-07");
    CHECK_STR(bdate("firefox", "52"), "2017-03-07");           /* family case-insensitive */
    ni_browser_release r;
    CHECK_INT(ni_dates_browser(D, "Chrome Mobile", "120.0.6099.43", &r), 1);
    CHECK_STR(r.bcd_key, "chrome_android");
    CHECK_STR(r.version, "120");
    CHECK_INT(ni_dates_browser(D, "Mobile Safari", "17.4.1", &r), 1);
    CHECK_STR(r.bcd_key, "safari_ios");
    CHECK_STR(r.version, "17.4");
    CHECK_INT(ni_dates_browser(D, "IE", "11.0", &r), 1);
    CHECK_STR(r.bcd_key, "ie");
    CHECK_STR(bdate("Firefox iOS", "39.0"), "-");              /* below min_major */
    CHECK(strcmp(bdate("Firefox iOS", "120.0"), "-") != 0);
    CHECK_STR(bdate("Yandex Browser", "23.1"), "-");           /* no mapping */
    CHECK_STR(bdate("Chrome", "9999"), "-");
    CHECK_STR(bdate("Chrome", ""), "-");
    CHECK_STR(bdate("Chrome", "abc"), "-");
    CHECK_STR(bdate(NULL, "1"), "-");
    /* Releases are dated in order: Chrome 100 after Chrome 49 */
    CHECK(strcmp(bdate("Chrome", "100"), bdate("Chrome", "49")) > 0);
}

TEST(devices)
{
    const ni_device_info *d = ni_dates_device(D, "SM-G973F");
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(d->maker, "Samsung");
        CHECK_STR(d->name, "Galaxy S10");
        CHECK_STR(d->release, "2019-03-08");
        CHECK_STR(d->pattern, "SM-G973*");
    }
    d = ni_dates_device(D, "sm-g973u1");                         /* case-insensitive */
    CHECK(d && !strcmp(d->name, "Galaxy S10"));
    d = ni_dates_device(D, "SM-G973");                           /* '*' matches the empty suffix */
    CHECK(d && !strcmp(d->name, "Galaxy S10"));
    CHECK(ni_dates_device(D, "SM-G97") == NULL);
    d = ni_dates_device(D, "Pixel 7");                           /* exact rows: no prefix bleed */
    CHECK(d && !strcmp(d->name, "Pixel 7"));
    d = ni_dates_device(D, "Pixel 7 Pro");
    CHECK(d && !strcmp(d->name, "Pixel 7 Pro"));
    CHECK(ni_dates_device(D, "Pixel 7 Pro XL") == NULL);
    d = ni_dates_device(D, "iPhone15,2");
    CHECK(d && !strcmp(d->name, "iPhone 14 Pro") && !strcmp(d->maker, "Apple"));
    d = ni_dates_device(D, "ELE-L29");
    CHECK(d && !strcmp(d->name, "P30"));
    CHECK(ni_dates_device(D, "") == NULL);
    CHECK(ni_dates_device(D, NULL) == NULL);
}

TEST(os)
{
    const ni_os_info *o = ni_dates_os(D, "Windows", "XP");
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(o->end_of_support, "2014-04-08");
        CHECK_STR(o->name, "Windows XP");
    }
    o = ni_dates_os(D, "windows", "11");
    CHECK(o && o->end_of_support == NULL && !strcmp(o->release, "2021-10-05"));
    o = ni_dates_os(D, "Mac OS X", "10.15.7");
    CHECK(o && !strcmp(o->name, "macOS Catalina"));
    o = ni_dates_os(D, "Android", "14.0.1");
    CHECK(o && !strcmp(o->version, "14"));
    o = ni_dates_os(D, "Android", "12.1");
    CHECK(o && !strcmp(o->name, "Android 12L"));
    CHECK(ni_dates_os(D, "Windows", "12") == NULL);
    CHECK(ni_dates_os(D, "BeOS", "5") == NULL);
}

static void expect_error(ni_err (*load)(ni_dates *, const char *, ni_error *), const char *body,
                         const char *needle)
{
    char path[] = "/tmp/ni-test-dates-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    if (write(fd, body, strlen(body)) < 0) CHECK(0);
    close(fd);
    ni_dates *d = ni_dates_new();
    ni_error err = { 0 };
    CHECK_INT(load(d, path, &err), NI_ERR_DATA);
    if (!strstr(err.msg, needle) || !strstr(err.msg, path) || strchr(err.msg, '\n')) {
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.msg, needle);
        CHECK(0);
    }
    ni_dates_free(d);
    unlink(path);
}

TEST(errors)
{
    expect_error(ni_dates_load_os, "family\tversion\tname\trelease\tend_of_support\tsource\n"
                 "Windows\tXP\tWindows XP\t2001-13-25\t\thttps://a/\n", ":2: bad release date '2001-13-25'");
    expect_error(ni_dates_load_os, "family\tversion\tname\trelease\tend_of_support\tsource\n"
                 "Windows\tXP\tWindows XP\t2001-10-25\t1999-01-01\thttps://a/\n", ":2: end_of_support 1999-01-01 before release");
    expect_error(ni_dates_load_os, "family\tversion\tname\trelease\tend_of_support\tsource\n"
                 "Windows\tXP\tA\t2001-10-25\t\thttps://a/\nWindows\tXP\tB\t2001-10-25\t\thttps://a/\n", ":3: Windows XP appears twice");
    expect_error(ni_dates_load_devices, "maker\tmodel\tname\trelease\tsource\n"
                 "Samsung\tSM-*928*\tX\t2024-01-31\thttps://a/\n", ":2: bad model pattern");
    expect_error(ni_dates_load_devices, "maker\tmodel\tname\trelease\tsource\n"
                 "Samsung\tSM-S928*\tX\t2024-01-31\thttps://a/\nSamsung\tSM-S928*\tY\t2024-01-31\thttps://a/\n",
                 ":3: pattern 'SM-S928*' is already");
    expect_error(ni_dates_load_browser_map, "family\tbcd\tmin_major\tsource\nChrome\tchrome\t-1\thttps://a/\n",
                 ":2: bad min_major");
    expect_error(ni_dates_load_bcd, "{\"__meta\":{},\"api\":{\"browsers\":{}}}", "no top-level \"browsers\"");
    expect_error(ni_dates_load_bcd, "{\"x\":\"\\\"browsers\\\":\", \"browsers\": {\"chrome\": {\"releases\": [}}",
                 "is not a valid JSON object");
    expect_error(ni_dates_load_bcd, "{\"browsers\":{\"chrome\":{\"releases\":{\"1\":{\"release_date\":\"2008/12/11\"}}}}}",
                 "browsers.chrome.releases.1: bad release_date");
    ni_dates *d = ni_dates_new();
    ni_error err = { 0 };
    CHECK_INT(ni_dates_load(d, "/nonexistent", &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "/nonexistent/browsers.tsv: cannot open") != NULL);
    CHECK_INT(ni_dates_load_bcd(d, "/nonexistent/data.json", &err), NI_ERR_DATA);
    CHECK(strstr(err.msg, "/nonexistent/data.json: cannot open") != NULL);
    ni_dates_free(d);
}

typedef struct fcase { const char *browser, *version, *os, *os_version, *final; int is_final; } fcase;

/* data/final-builds.tsv: the last build for an old OS, and the accessor. */
TEST(final_builds)
{
    CHECK(ni_dates_final_build_rows(D) >= 7);
    static const fcase cases[] = {
        { "Chrome", "49.0.2623.112", "Windows", "XP", "49.0.2623.112", 1 },
        { "Chrome", "49.0.2623.112", "Windows", "Vista", "49.0.2623.112", 1 },
        { "chrome", "49.0.2623.87", "windows", "XP", "49.0.2623.112", 0 },    /* an older build */
        { "Chrome", "109.0.5414.120", "Windows", "7", "109.0.5414.120", 1 },
        { "Chrome", "109.0.5414.120", "Windows", "8.1", "109.0.5414.120", 1 },
        { "Chrome", "109.0.0.0", "Windows", "7", "109.0.5414.120", 0 },         /* reduced: not the build */
        { "Firefox", "52.0", "Windows", "XP", "52.9.0", 1 },                      /* UAs say the major only */
        { "Firefox", "51.0", "Windows", "Vista", "52.9.0", 0 },
        { "Chrome", "120.0.6099.144", "Windows", "10", NULL, 0 },               /* still updated */
        { "Chrome Mobile", "49.0.2623.112", "Windows", "XP", NULL, 0 },
        { "Chrome", NULL, "Windows", "XP", "49.0.2623.112", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fcase *c = &cases[i];
        const ni_final_build *row = NULL;
        ni_t_current = c->version ? c->version : "(no version)";
        CHECK_INT(ni_dates_is_final_build(D, c->browser, c->version, c->os, c->os_version, &row), c->is_final);
        CHECK_STR(row ? row->final : NULL, c->final);
        if (row) CHECK(!strncmp(row->source, "https://", 8));
    }
    ni_t_current = "final_builds";
    /* one-line errors naming file:line */
    static const struct { const char *body, *needle; } bad[] = {
        { "browser\tos\tos_version\tfinal\tmatch\tsource\nNetscape\tWindows\tXP\t9.0\tbuild\thttps://a/\n", ":2: browser 'Netscape' is not a family" },
        { "browser\tos\tos_version\tfinal\tmatch\tsource\nChrome\tWindows\t3.1\t9.0\tbuild\thttps://a/\n", ":2: Windows 3.1 has no row in os.tsv" },
        { "browser\tos\tos_version\tfinal\tmatch\tsource\nChrome\tWindows\tXP\t49..1\tbuild\thttps://a/\n", ":2: bad build '49..1'" },
        { "browser\tos\tos_version\tfinal\tmatch\tsource\nChrome\tWindows\tXP\t49.0\tminor\thttps://a/\n", ":2: match 'minor'" },
        { "browser\tos\tos_version\tfinal\tmatch\tsource\nChrome\tWindows\tXP\t49.0\tbuild\tmemory\n", ":2: source 'memory'" },
        { "browser\tos\tos_version\tfinal\tmatch\tsource\nChrome\tWindows\t2000\t49.0\tbuild\thttps://a/\n"
          "Chrome\tWindows\t2000\t49.1\tbuild\thttps://a/\n", ":3: Chrome on Windows 2000 appears twice" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[] = "/tmp/ni-test-final-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0) continue;
        if (write(fd, bad[i].body, strlen(bad[i].body)) < 0) CHECK(0);
        close(fd);
        ni_dates *d = ni_dates_new();
        ni_error err = { 0 };
        CHECK_INT(ni_dates_load(d, "data", &err), NI_OK);           /* browsers and OS rows to check against */
        CHECK_INT(ni_dates_load_final_builds(d, path, &err), NI_ERR_DATA);
        if (!strstr(err.msg, bad[i].needle) || !strstr(err.msg, path)) {
            fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.msg, bad[i].needle);
            CHECK(0);
        }
        ni_dates_free(d);
        unlink(path);
    }
}

TEST(bcd_member_scan)
{
    /* "browsers" nested or inside a string is ignored; the top-level one is used */
    char path[] = "/tmp/ni-test-dates-XXXXXX";
    int fd = mkstemp(path);
    const char *body = "{\"a\":{\"browsers\":1},\"s\":\"\\\"browsers\\\":{\",\"browsers\":"
                       "{\"chrome\":{\"releases\":{\"7\":{\"release_date\":\"2010-10-21\"},\"8\":{}}}}, \"z\": [";
    CHECK(fd >= 0 && write(fd, body, strlen(body)) == (ssize_t)strlen(body));
    close(fd);
    ni_dates *d = ni_dates_new();
    ni_error err = { 0 };
    CHECK_INT(ni_dates_load_bcd(d, path, &err), NI_OK);
    CHECK_INT(ni_dates_browser_releases(d), 1);                  /* "8" has no date */
    unlink(path);
    ni_dates_free(d);
}

TEST(release) { ni_dates_free(D); D = NULL; CHECK(D == NULL); }

/* The cache of data.json's releases (bcd-releases.tsv under
 * $XDG_CACHE_HOME/netintel): written by a first load, read by the next one
 * (a row changed in it shows), ignored when damaged, when the key differs or
 * with NETINTEL_VERIFY_ALWAYS. */
static const char *chrome49(ni_dates *d)
{
    static ni_browser_release r;
    return ni_dates_browser(d, "Chrome", "49.0.2623.112", &r) ? r.date : "-";
}

/* A table with browsers.tsv and data.json (through the cache if any). */
static ni_dates *load_bcd(const char *json)
{
    ni_dates *d = ni_dates_new();
    ni_error err = { 0 };
    CHECK_INT(ni_dates_load_browser_map(d, "data/browsers.tsv", &err), NI_OK);
    CHECK_INT(ni_dates_load_bcd(d, json, &err), NI_OK);
    if (err.code) fprintf(stderr, "  %s\n", err.msg);
    return d;
}

TEST(bcd_cache)
{
    char cache[] = "/tmp/ni-test-dates-cache-XXXXXX", tsv[256];
    CHECK(mkdtemp(cache) != NULL);
    setenv("XDG_CACHE_HOME", cache, 1);
    unsetenv("NETINTEL_VERIFY_ALWAYS");
    snprintf(tsv, sizeof tsv, "%s/netintel/bcd-releases.tsv", cache);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/netintel", cache);
    mkdir(dir, 0700);
    const char *json = "data/ext/node_modules/@mdn/browser-compat-data/data.json";
    ni_dates *d = load_bcd(json);
    CHECK_STR(chrome49(d), "2016-03-02");
    size_t n = ni_dates_browser_releases(d);
    ni_dates_free(d);
    struct stat st;
    CHECK(stat(tsv, &st) == 0);
    /* change Chrome 49's date in the cache: the next load must show it */
    FILE *f = fopen(tsv, "r");
    char *text = calloc(1, 4u << 20);
    size_t len = f && text ? fread(text, 1, (4u << 20) - 1, f) : 0;
    if (f) fclose(f);
    char *row = text ? strstr(text, "\nr\tchrome\t49\t2016-03-02\n") : NULL;
    CHECK(row != NULL);
    if (row) memcpy(row + strlen("\nr\tchrome\t49\t"), "2001", 4);
    f = fopen(tsv, "w");
    if (f) { fwrite(text, 1, len, f); fclose(f); }
    d = load_bcd(json);
    CHECK_INT(ni_dates_browser_releases(d), n);
    CHECK_STR(chrome49(d), "2001-03-02");
    ni_dates_free(d);
    /* NETINTEL_VERIFY_ALWAYS: the file itself is read */
    setenv("NETINTEL_VERIFY_ALWAYS", "1", 1);
    d = load_bcd(json);
    CHECK_STR(chrome49(d), "2016-03-02");
    ni_dates_free(d);
    unsetenv("NETINTEL_VERIFY_ALWAYS");
    /* damaged (the end row cut off): ignored, then rewritten */
    f = fopen(tsv, "w");
    if (f) { fwrite(text, 1, len > 40 ? len - 20 : 0, f); fclose(f); }
    d = load_bcd(json);
    CHECK_INT(ni_dates_browser_releases(d), n);
    CHECK_STR(chrome49(d), "2016-03-02");
    ni_dates_free(d);
    d = load_bcd(json);                                          /* from the rewritten cache */
    CHECK_STR(chrome49(d), "2016-03-02");
    CHECK_INT(ni_dates_browser_releases(d), n);
    ni_dates_free(d);
    free(text);
    unlink(tsv);
    rmdir(dir);
    rmdir(cache);
    unsetenv("XDG_CACHE_HOME");
}

RUN(T(load), T(browsers), T(devices), T(os), T(final_builds), T(errors), T(bcd_member_scan), T(bcd_cache), T(release))
