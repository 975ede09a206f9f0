/* test_profile.c — unit tests of lib/analyze/ni_profile: sessions built in
 * the test go in, report JSON comes out and is read back with jansson:
 * local-time activity (Pyongyang's +08:30 years), units (hosts vs clients),
 * visitors' User-Agents excluded from devices, system agents making no
 * device, VPN evidence kinds, a detected level shift, determinism. */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_reportdoc.h"
#include "core/ni_arena.h"
#include "core/ni_hll.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"

#include <jansson.h>
#include <stdlib.h>
#include <math.h>

static int64_t at(const char *s) { int64_t us = 0; ni_time_parse(s, &us); return us; }

static ni_session mk(const char *when, const char *client, const char *server, ni_direction d)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.first_us = s.last_us = at(when);
    s.proto = 6;
    ni_addr_parse(client, &s.client);
    ni_addr_parse(server, &s.server);
    s.direction = d;
    s.c2s_bytes = 100; s.s2c_bytes = 900;
    s.c2s_packets = s.s2c_packets = 1;
    return s;
}

static const char *fake_browser_release(void *ud, const char *family, const char *major)
{
    (void)ud;
    if (!strcmp(family, "Chrome") && !strcmp(major, "49")) return "2016-03-02";
    return NULL;
}

static bool fake_os_life(void *ud, const char *family, const char *version, const char **rel, const char **eos)
{
    (void)ud; (void)family;
    if (!strcmp(version, "XP")) { *rel = "2001-10-25"; *eos = "2014-04-08"; return true; }
    return false;
}

static json_t *run(ni_session *ss, size_t n, const ni_tz *tz)
{
    const char *spec[] = { "kp" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    cfg.lookups.browser_release = fake_browser_release;
    cfg.lookups.os_life = fake_os_life;
    ni_error err = {0};
    ni_profile *p = ni_profile_new(&cfg, &err);
    for (size_t i = 0; i < n; i++) ni_profile_add(p, &ss[i]);
    ni_buf b; ni_buf_init(&b, 1 << 24);
    CHECK_INT(ni_profile_json(p, &b), NI_OK);
    /* determinism: a second profile of the same sessions gives the same bytes */
    ni_profile *q = ni_profile_new(&cfg, &err);
    for (size_t i = 0; i < n; i++) ni_profile_add(q, &ss[i]);
    ni_buf c; ni_buf_init(&c, 1 << 24);
    ni_profile_json(q, &c);
    CHECK(b.len == c.len && !memcmp(b.p, c.p, b.len));
    ni_error derr = {0};
    json_t *root = ni_reportdoc_load(b.p, b.len, "report.json", &derr);   /* what is written matches the description */
    CHECK(root != NULL);
    if (!root) fprintf(stderr, "  %s\n", derr.msg);
    ni_buf_release(&b); ni_buf_release(&c);
    ni_profile_free(p); ni_profile_free(q);
    return root;
}

TEST(activity_local_time)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Asia/Pyongyang", &err);
    ni_session s[3];
    /* 2016-06-01 (Wednesday) 01:30Z = 10:00 local at +08:30 (would be 10:30 at +09) */
    s[0] = mk("2016-06-01T01:30:00Z", "175.45.176.10", "8.8.8.8", NI_DIRECTION_OUTBOUND);
    /* 2019-06-01 (Saturday) 01:30Z = 10:30 local at +09:00 */
    s[1] = mk("2019-06-01T01:30:00Z", "175.45.176.11", "8.8.8.8", NI_DIRECTION_OUTBOUND);
    /* inbound: not in activity */
    s[2] = mk("2019-06-01T05:00:00Z", "1.2.3.4", "175.45.176.1", NI_DIRECTION_INBOUND);
    json_t *r = run(s, 3, tz);
    json_t *act = json_object_get(r, "activity");
    CHECK_INT(json_integer_value(json_array_get(json_object_get(act, "by_hour"), 10)), 2);
    CHECK_INT(json_integer_value(json_array_get(json_object_get(act, "by_weekday"), 2)), 1); /* Wed */
    CHECK_INT(json_integer_value(json_array_get(json_object_get(act, "by_weekday"), 5)), 1); /* Sat */
    CHECK_INT(json_integer_value(json_object_get(act, "sample")), 2);
    json_t *tot = json_object_get(r, "totals");
    CHECK_INT(json_integer_value(json_object_get(tot, "hosts")), 3);
    CHECK_INT(json_integer_value(json_object_get(tot, "inbound")), 1);
    json_decref(r);
    ni_tz_free(tz);
}

/* Activity counts target-initiated outbound sessions only: a lookup (to an
 * outside resolver or the target's own), internal and transit sessions are
 * counted in totals, never in the figures' n. */
TEST(activity_outbound_only)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_http_req rq = { .user_agent = "UA-1" };
    struct { ni_direction d; const char *client, *server; int dns; int http; } rows[] = {
        { NI_DIRECTION_OUTBOUND, "175.45.176.10", "31.13.64.1", 0, 1 },   /* activity */
        { NI_DIRECTION_OUTBOUND, "175.45.176.10", "31.13.64.2", 0, 0 },   /* activity (no evidence at all) */
        { NI_DIRECTION_OUTBOUND, "175.45.176.10", "8.8.8.8", 1, 0 },      /* lookup outside: evidence */
        { NI_DIRECTION_OUTBOUND, "175.45.176.11", "1.1.1.1", 2, 0 },      /* port 53 only */
        { NI_DIRECTION_INTERNAL, "175.45.176.10", "175.45.176.2", 1, 0 }, /* own resolver */
        { NI_DIRECTION_INTERNAL, "175.45.176.10", "175.45.176.3", 0, 1 }, /* intranet site */
        { NI_DIRECTION_TRANSIT, "10.0.0.1", "10.0.0.2", 0, 1 },
    };
    size_t n = sizeof rows / sizeof rows[0];
    ni_session s[8];
    for (size_t i = 0; i < n; i++) {
        s[i] = mk("2024-03-04T10:00:00Z", rows[i].client, rows[i].server, rows[i].d);
        if (rows[i].dns) { s[i].proto = 17; s[i].server_port = 53; }
        if (rows[i].dns == 1) s[i].dns_query = "example.com";
        if (rows[i].http) { s[i].http = &rq; s[i].server_port = 80; }
    }
    json_t *r = run(s, n, tz);
    json_t *act = json_object_get(r, "activity"), *tot = json_object_get(r, "totals");
    CHECK_INT(json_integer_value(json_object_get(act, "sample")), 2);
    CHECK_INT(json_integer_value(json_array_get(json_object_get(act, "by_hour"), 10)), 2);
    CHECK_INT(json_integer_value(json_object_get(tot, "outbound")), 4);
    CHECK_INT(json_integer_value(json_object_get(tot, "outbound_dns")), 2);
    CHECK_INT(json_integer_value(json_object_get(tot, "internal")), 2);
    CHECK_INT(json_integer_value(json_object_get(tot, "internal_dns")), 1);
    CHECK_INT(json_integer_value(json_object_get(tot, "transit")), 1);
    /* the activity finding rests on the same n */
    json_t *f = json_array_get(json_object_get(r, "findings"), 0);
    CHECK_STR(json_string_value(json_object_get(f, "section")), "activity");
    CHECK(strstr(json_string_value(json_object_get(f, "basis")), "of 2 outbound sessions") != NULL);
    json_decref(r);
    ni_tz_free(tz);
}

TEST(devices_units_and_exclusions)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_arena *a = ni_arena_new(1 << 16);
    ni_http_req r1 = { .user_agent = "UA-phone-1" }, r2 = { .user_agent = "UA-phone-2" },
                r3 = { .user_agent = "Microsoft NCSI" }, r4 = { .user_agent = "UA-visitor" };
    ni_session s[5];
    s[0] = mk("2024-03-01T00:00:00Z", "175.45.176.10", "8.8.8.8", NI_DIRECTION_OUTBOUND);
    s[0].http = &r1; s[0].ua_maker = "Samsung"; s[0].ua_model = "SM-S928B"; s[0].ua_form_factor = "mobile"; s[0].ua_kind = NI_UA_KIND_BROWSER;
    s[1] = s[0]; s[1].http = &r2;                           /* same host, second client (NAT) */
    s[2] = mk("2024-03-02T00:00:00Z", "175.45.176.11", "8.8.8.8", NI_DIRECTION_OUTBOUND);
    s[2].http = &r3; s[2].ua_maker = "Microsoft"; s[2].ua_kind = NI_UA_KIND_SYSTEM; s[2].ua_os = "Windows";
    s[2].windows_version = "XP";
    s[3] = mk("2024-03-02T00:00:00Z", "9.9.9.9", "175.45.176.1", NI_DIRECTION_INBOUND);
    s[3].http = &r4; s[3].ua_maker = "Apple"; s[3].ua_kind = NI_UA_KIND_BROWSER;   /* a visitor */
    s[4] = mk("2024-03-03T00:00:00Z", "175.45.176.12", "1.1.1.1", NI_DIRECTION_OUTBOUND);
    s[4].vpn_provider = "NordVPN"; s[4].vpn_evidence = NI_EVIDENCE_TUNNEL; s[4].vpn_protocol = NI_TUN_OPENVPN;
    json_t *r = run(s, 5, tz);
    json_t *dev = json_object_get(r, "devices");
    json_t *makers = json_object_get(dev, "makers");
    CHECK_INT(json_array_size(makers), 1);   /* no Apple (visitor), no Microsoft (system agent) */
    CHECK_STR(json_string_value(json_object_get(json_array_get(makers, 0), "name")), "Samsung");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(makers, 0), "hosts")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(makers, 0), "clients")), 2);
    CHECK_INT(json_integer_value(json_object_get(dev, "unattributed_hosts")), 2);
    json_t *win = json_object_get(r, "windows_versions");
    CHECK_STR(json_string_value(json_object_get(json_array_get(win, 0), "name")), "XP");
    json_t *out = json_object_get(r, "outdated");
    CHECK_INT(json_array_size(out), 1);
    json_t *vpn = json_object_get(r, "vpn");
    CHECK_INT(json_integer_value(json_object_get(vpn, "hosts")), 1);
    json_t *ev = json_object_get(json_array_get(json_object_get(vpn, "by_service"), 0), "evidence");
    CHECK_INT(json_integer_value(json_object_get(ev, "tunnel")), 1);
    CHECK_INT(json_integer_value(json_object_get(ev, "site")), 0);
    json_decref(r);
    ni_arena_free(a);
    ni_tz_free(tz);
}

TEST(visitor_level_shift)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    /* Europe: 40 sessions a month for 6 months, then 8; Asia steady 30. */
    size_t n = 0, cap = 1000;
    ni_session *s = calloc(cap, sizeof *s);
    char when[32];
    for (int m = 1; m <= 12; m++) {
        int eu = m <= 6 ? 40 : 8;
        /* spread over the month; the window then covers Jan 1 .. Dec 28,
         * December counts as 28/31 of a month (scaled) */
        for (int k = 0; k < eu; k++) {
            snprintf(when, sizeof when, "2017-%02d-%02dT12:00:00Z", m, 1 + k % 28);
            s[n] = mk(when, "81.2.69.160", "175.45.176.1", NI_DIRECTION_INBOUND);
            s[n].client_country = "GB"; s[n].client_continent = "Europe"; s[n].sni = "kcna.kp"; n++;
        }
        for (int k = 0; k < 30; k++) {
            snprintf(when, sizeof when, "2017-%02d-%02dT12:00:00Z", m, 1 + k % 28);
            s[n] = mk(when, "1.0.16.1", "175.45.176.2", NI_DIRECTION_INBOUND);
            s[n].client_country = "JP"; s[n].client_continent = "Asia"; s[n].sni = "rodong.rep.kp"; n++;
        }
    }
    json_t *r = run(s, n, tz);
    json_t *ch = json_object_get(json_object_get(r, "inbound"), "changes");
    CHECK_INT(json_array_size(ch), 1);
    json_t *c0 = json_array_get(ch, 0);
    CHECK_STR(json_string_value(json_object_get(c0, "region")), "Europe");
    CHECK_STR(json_string_value(json_object_get(c0, "month")), "2017-07");
    /* after: (8 x 5 + 8 / (27.5/31)) / 6 sessions a month against 40 before */
    CHECK(fabs(json_number_value(json_object_get(c0, "ratio")) - 0.2) < 0.01);
    json_t *sites = json_object_get(json_object_get(r, "inbound"), "sites");
    CHECK_STR(json_string_value(json_object_get(json_array_get(sites, 0), "site")), "rodong.rep.kp");
    json_decref(r);
    free(s);
    ni_tz_free(tz);
}

/* Reduced User-Agents: their frozen placeholders are no version, their real
 * versions are counted, and a Windows version they hide is its own row, so
 * that the Windows rows cover every Windows host. */
TEST(reduced_ua_versions)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_http_req rq[6] = { { .user_agent = "r1" }, { .user_agent = "r2" }, { .user_agent = "r3" },
                          { .user_agent = "r4" }, { .user_agent = "r5" }, { .user_agent = "r6" } };
    struct { const char *host, *os, *ver, *win; bool reduced; const char *os_row; } rows[] = {
        { "175.45.176.10", "Android", "10", NULL, true, NULL },            /* "Android 10; K": placeholder */
        { "175.45.176.10", "Android", "13", NULL, false, "13" },
        { "175.45.176.11", "Windows", "7", "7", true, "7" },               /* NT 6.1 + Chrome/109.0.0.0: real */
        { "175.45.176.12", "Windows", "10", "undetermined", true, "undetermined: reduced User-Agent" },
        { "175.45.176.13", "Windows", "10", "10/11", true, "10/11" },
        { "175.45.176.14", "Mac OS X", "10.15.7", NULL, true, NULL },      /* frozen macOS */
    };
    size_t n = sizeof rows / sizeof rows[0];
    ni_session s[6];
    for (size_t i = 0; i < n; i++) {
        s[i] = mk("2024-03-01T00:00:00Z", rows[i].host, "8.8.8.8", NI_DIRECTION_OUTBOUND);
        s[i].http = &rq[i]; s[i].ua_kind = NI_UA_KIND_BROWSER; s[i].ua_os = rows[i].os; s[i].ua_os_version = rows[i].ver;
        s[i].windows_version = rows[i].win; s[i].ua_reduced = rows[i].reduced;
    }
    json_t *r = run(s, n, tz);
    json_t *os = json_object_get(r, "os"), *win = json_object_get(r, "windows_versions");
    /* every expected OS row is there, and nothing else */
    size_t want = 0, got = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].os_row) continue;
        want++;
        bool found = false;
        for (size_t k = 0; k < json_array_size(os); k++) {
            json_t *o = json_array_get(os, k);
            if (strcmp(json_string_value(json_object_get(o, "name")), rows[i].os)) continue;
            json_t *vs = json_object_get(o, "versions");
            for (size_t v = 0; v < json_array_size(vs); v++)
                if (!strcmp(json_string_value(json_object_get(json_array_get(vs, v), "version")), rows[i].os_row)) found = true;
        }
        CHECK(found);
    }
    for (size_t k = 0; k < json_array_size(os); k++) got += json_array_size(json_object_get(json_array_get(os, k), "versions"));
    CHECK_INT(got, want);
    /* the Windows rows: one per decided version, hosts adding up to the Windows hosts */
    CHECK_INT(json_array_size(win), 3);
    size_t whosts = 0; bool undet = false;
    for (size_t k = 0; k < json_array_size(win); k++) {
        json_t *w = json_array_get(win, k);
        whosts += (size_t)json_integer_value(json_object_get(w, "hosts"));
        if (!strcmp(json_string_value(json_object_get(w, "name")), "undetermined: reduced User-Agent")) undet = true;
    }
    CHECK(undet);
    CHECK_INT(whosts, 3);
    json_decref(r);
    ni_tz_free(tz);
}

/* A fake final-builds table: Chrome's last build for Windows 7. */
static bool fake_final_build(void *ud, const char *family, const char *version, const char *os, const char *os_version,
                             const char **final)
{
    (void)ud;
    *final = NULL;
    if (strcmp(family, "Chrome") || strcmp(os, "Windows") || strcmp(os_version, "7")) return false;
    *final = "109.0.5414.120";
    return !strcmp(version, *final);
}

/* Full builds per major, and hosts stuck at the final build for their OS. */
TEST(full_builds_and_final_build)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    const char *spec[] = { "kp" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    cfg.lookups.final_build = fake_final_build;
    ni_profile *p = ni_profile_new(&cfg, &err);
    ni_http_req rq = { .user_agent = "UA" };
    struct { const char *host, *ver, *win; } rows[] = {
        { "175.45.176.10", "109.0.5414.120", "7" },     /* stuck */
        { "175.45.176.11", "109.0.5414.120", "7" },     /* stuck */
        { "175.45.176.12", "109.0.5414.75", "7" },      /* on Windows 7, older than the final build */
        { "175.45.176.13", "109.0.5414.120", "10/11" }, /* no row: Windows 10 still gets builds */
        { "175.45.176.14", "120.0.6099.109", "10/11" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_session s = mk("2024-03-01T00:00:00Z", rows[i].host, "8.8.8.8", NI_DIRECTION_OUTBOUND);
        s.http = &rq; s.ua_kind = NI_UA_KIND_BROWSER; s.ua_browser = "Chrome"; s.ua_browser_version = rows[i].ver;
        s.ua_os = "Windows"; s.windows_version = rows[i].win;
        ni_profile_add(p, &s);
    }
    ni_buf b; ni_buf_init(&b, 1 << 24);
    CHECK_INT(ni_profile_json(p, &b), NI_OK);
    ni_error derr = {0};
    json_t *r = ni_reportdoc_load(b.p, b.len, "report.json", &derr);
    CHECK(r != NULL);
    json_t *br = json_object_get(r, "browsers");
    json_t *b109 = json_array_get(br, 0);
    CHECK_STR(json_string_value(json_object_get(b109, "version")), "109");
    json_t *builds = json_object_get(b109, "builds");
    CHECK_INT(json_array_size(builds), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(builds, 0), "build")), "109.0.5414.120");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(builds, 0), "hosts")), 3);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(builds, 1), "hosts")), 1);
    json_t *fb = json_object_get(r, "final_builds");
    CHECK_INT(json_array_size(fb), 1);
    json_t *f0 = json_array_get(fb, 0);
    CHECK_STR(json_string_value(json_object_get(f0, "os_version")), "7");
    CHECK_STR(json_string_value(json_object_get(f0, "final")), "109.0.5414.120");
    CHECK_INT(json_integer_value(json_object_get(f0, "hosts")), 3);
    CHECK_INT(json_integer_value(json_object_get(f0, "hosts_at_final")), 2);
    bool found = false;
    json_t *fs = json_object_get(r, "findings");
    for (size_t i = 0; i < json_array_size(fs); i++) {
        const char *t = json_string_value(json_object_get(json_array_get(fs, i), "text"));
        if (strstr(t, "Chrome 109.0.5414.120 on Windows 7 (2 hosts)")) {
            found = true;
            CHECK(strstr(json_string_value(json_object_get(json_array_get(fs, i), "basis")), "2 of 3 hosts") != NULL);
        }
    }
    CHECK(found);
    json_decref(r);
    ni_buf_release(&b);
    ni_profile_free(p);
    ni_tz_free(tz);
}

/* ICD 203: one term per band, and a grammatical clause opening with it. */
TEST(icd203_phrases)
{
    static const struct { double p; const char *term, *phrase; } rows[] = {
        { 0.0, "almost no chance", "there is almost no chance" },
        { 0.049, "almost no chance", "there is almost no chance" },
        { 0.05, "very unlikely", "it is very unlikely" },
        { 0.199, "very unlikely", "it is very unlikely" },
        { 0.20, "unlikely", "it is unlikely" },
        { 0.45, "roughly even odds", "it is roughly even odds" },
        { 0.55, "roughly even odds", "it is roughly even odds" },
        { 0.551, "likely", "it is likely" },
        { 0.80, "likely", "it is likely" },
        { 0.801, "very likely", "it is very likely" },
        { 0.95, "very likely", "it is very likely" },
        { 0.951, "almost certain", "it is almost certain" },
        { 1.0, "almost certain", "it is almost certain" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK_STR(ni_profile_icd203(rows[i].p), rows[i].term);
        CHECK_STR(ni_profile_icd203_phrase(rows[i].p), rows[i].phrase);
        /* the clause ends with the band's term: one term per band */
        const char *ph = ni_profile_icd203_phrase(rows[i].p), *t = ni_profile_icd203(rows[i].p);
        CHECK(strlen(ph) > strlen(t) && !strcmp(ph + strlen(ph) - strlen(t), t));
    }
}

/* The week shape named from what was measured, with the test's p. */
TEST(week_shapes)
{
    static const struct { uint64_t wd[7]; ni_week_kind kind; const char *name; double pmin, pmax; } rows[] = {
        { { 1000, 1000, 1000, 1000, 1000, 100, 80 }, NI_WEEK_FIVE_DAY, "five-day week", 0.95, 1 },
        { { 1000, 1000, 1000, 1000, 1000, 900, 400 }, NI_WEEK_SIX_DAY, "six-day week", 0.95, 1 },
        { { 1000, 1000, 1000, 1000, 1000, 950, 1050 }, NI_WEEK_NONE, "no weekly pattern", 0.95, 1 },
        { { 1000, 1000, 1000, 1000, 1000, 100, 1000 }, NI_WEEK_OTHER, "quiet Saturday, busy Sunday", 0.95, 1 },
        { { 10, 10, 10, 10, 10, 6, 7 }, NI_WEEK_NONE, "no weekly pattern", 0.0, 0.95 },   /* few sessions: weak */
        { { 0, 0, 0, 0, 0, 3, 3 }, NI_WEEK_UNKNOWN, "no weekday sessions", 0.5, 0.5 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_week_shape ws;
        ni_profile_week_shape(rows[i].wd, &ws);
        CHECK_INT(ws.kind, rows[i].kind);
        CHECK_STR(ws.name, rows[i].name);
        CHECK(ws.p >= rows[i].pmin && ws.p <= rows[i].pmax);
    }
    /* the finding names the shape and its term agrees with its text */
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_session s[700];
    size_t n = 0;
    static const int per_day[7] = { 100, 100, 100, 100, 100, 95, 20 };   /* Monday 2024-03-04 */
    for (int d = 0; d < 7; d++)
        for (int k = 0; k < per_day[d]; k++) {
            char when[32];
            snprintf(when, sizeof when, "2024-03-%02dT10:%02d:00Z", 4 + d, k % 60);
            s[n++] = mk(when, "175.45.176.10", "31.13.64.1", NI_DIRECTION_OUTBOUND);
        }
    json_t *r = run(s, n, tz);
    json_t *f = json_array_get(json_object_get(r, "findings"), 0);
    const char *text = json_string_value(json_object_get(f, "text"));
    CHECK(strstr(text, "six-day week") != NULL);
    CHECK(strstr(text, "working-week") == NULL);
    char opening[64];
    snprintf(opening, sizeof opening, "%s that", json_string_value(json_object_get(f, "likelihood")));
    CHECK(strstr(text, opening) != NULL);
    CHECK(strstr(json_string_value(json_object_get(f, "basis")), "500 of 615 outbound sessions on Monday-Friday") != NULL);
    json_decref(r);
    ni_tz_free(tz);
}

/* The per-host view: one entry per target host with what its own sessions
 * showed (never a visitor's), bounded with the losses counted. */
TEST(host_view)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_http_req r1 = { .user_agent = "UA-phone" }, r2 = { .user_agent = "UA-visitor" };
    ni_session s[4];
    s[0] = mk("2024-03-01T00:00:00Z", "175.45.176.10", "31.13.64.1", NI_DIRECTION_OUTBOUND);
    s[0].http = &r1; s[0].ua_kind = NI_UA_KIND_BROWSER; s[0].ua_maker = "Samsung"; s[0].ua_model = "SM-S928B";
    s[0].ua_os = "Android"; s[0].ua_os_version = "14"; s[0].ua_browser = "Chrome Mobile"; s[0].ua_browser_version = "120.0.6099.1";
    s[0].service = "Facebook"; s[0].category = "social"; s[0].service_evidence = NI_EVIDENCE_SNI;
    s[0].vpn_provider = "NordVPN"; s[0].vpn_evidence = NI_EVIDENCE_TUNNEL; s[0].vpn_protocol = NI_TUN_OPENVPN;
    s[1] = mk("2024-03-02T00:00:00Z", "175.45.176.10", "1.1.1.1", NI_DIRECTION_OUTBOUND);
    s[1].vpn_provider = "NordVPN"; s[1].vpn_evidence = NI_EVIDENCE_SITE;
    s[2] = mk("2024-03-03T00:00:00Z", "175.45.176.11", "31.13.64.1", NI_DIRECTION_OUTBOUND);
    s[2].service = "Baidu"; s[2].category = "search"; s[2].service_evidence = NI_EVIDENCE_SNI;
    s[3] = mk("2024-03-04T00:00:00Z", "9.9.9.9", "175.45.176.1", NI_DIRECTION_INBOUND);
    s[3].http = &r2; s[3].ua_kind = NI_UA_KIND_BROWSER; s[3].ua_maker = "Apple";
    json_t *r = run(s, 4, tz);
    json_t *hs = json_object_get(r, "hosts");
    CHECK_INT(json_array_size(hs), 3);          /* .10, .11 and the visited server .1; never the visitor */
    json_t *h = json_array_get(hs, 0);
    CHECK_STR(json_string_value(json_object_get(h, "address")), "175.45.176.10");
    CHECK_INT(json_integer_value(json_object_get(h, "sessions")), 2);
    CHECK_STR(json_string_value(json_object_get(h, "first_seen")), "2024-03-01T00:00:00Z");
    CHECK_STR(json_string_value(json_object_get(h, "last_seen")), "2024-03-02T00:00:00Z");
    static const struct { const char *key, *value; } items[] = {
        { "makers", "Samsung" }, { "models", "Samsung SM-S928B" }, { "os", "Android 14" },
        { "browsers", "Chrome Mobile 120" }, { "services", "Facebook" },
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        json_t *a = json_object_get(h, items[i].key);
        CHECK_INT(json_array_size(a), 1);
        CHECK_STR(json_string_value(json_array_get(a, 0)), items[i].value);
    }
    json_t *v = json_array_get(json_object_get(h, "vpn"), 0);
    CHECK_STR(json_string_value(json_object_get(v, "provider")), "NordVPN");
    json_t *ev = json_object_get(v, "evidence");
    CHECK_INT(json_array_size(ev), 2);
    CHECK_STR(json_string_value(json_array_get(ev, 0)), "tunnel");
    CHECK_STR(json_string_value(json_array_get(ev, 1)), "site");
    for (size_t i = 0; i < json_array_size(hs); i++) {   /* the visitor's maker is nobody's */
        json_t *m = json_object_get(json_array_get(hs, i), "makers");
        for (size_t k = 0; k < json_array_size(m); k++) CHECK(strcmp(json_string_value(json_array_get(m, k)), "Apple"));
    }
    json_decref(r);

    /* capped: the view keeps the hosts of smallest address hash, the same
     * whatever the order of the sessions or how they were split and merged;
     * the others' sessions are counted as lost */
    const char *spec[] = { "kp" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    for (size_t cap = 1; cap <= 3; cap++) {
        ni_profile_caps caps = { .host_view = cap };
        char *first = NULL;
        for (int order = 0; order < 3; order++) {
            ni_profile *p = ni_profile_new_capped(&cfg, &caps, &err), *q = ni_profile_new_capped(&cfg, &caps, &err);
            for (size_t i = 0; i < 4; i++) {
                size_t k = order == 1 ? 3 - i : i;
                ni_profile_add(order == 2 && i % 2 ? q : p, &s[k]);
            }
            if (order == 2) CHECK_INT(ni_profile_merge(p, q), NI_OK);
            CHECK(ni_profile_complete(p));   /* every other figure is still exact */
            ni_buf b; ni_buf_init(&b, 1 << 20);
            CHECK_INT(ni_profile_json(p, &b), NI_OK);
            json_t *c = ni_reportdoc_load(b.p, b.len, "report.json", &err);
            CHECK(c != NULL);
            json_t *hv = json_object_get(c, "hosts");
            CHECK_INT(json_array_size(hv), cap);
            long long kept = 0;
            for (size_t i = 0; i < json_array_size(hv); i++) kept += json_integer_value(json_object_get(json_array_get(hv, i), "sessions"));
            long long dropped = json_integer_value(json_object_get(json_object_get(json_object_get(c, "limits"), "host_view"), "dropped"));
            CHECK_INT(dropped, 4 - kept);
            CHECK_INT(ni_profile_lost(p)->host_view, dropped);
            char *view = json_dumps(hv, JSON_SORT_KEYS);
            if (!first) first = view;
            else { CHECK_STR(view, first); free(view); }
            json_decref(c);
            ni_buf_release(&b);
            ni_profile_free(p); ni_profile_free(q);
        }
        free(first);
    }
    ni_tz_free(tz);
}

/* Profiles of two halves merged give the same report as one profile of all. */
TEST(merge_equals_whole)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Asia/Pyongyang", &err);
    const char *spec[] = { "kp" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    ni_profile *whole = ni_profile_new(&cfg, &err), *a = ni_profile_new(&cfg, &err), *b = ni_profile_new(&cfg, &err);
    ni_http_req r1 = { .user_agent = "UA-1" }, r2 = { .user_agent = "UA-2" };
    for (int i = 0; i < 400; i++) {
        char when[32], cl[32];
        snprintf(when, sizeof when, "2017-%02d-%02dT%02d:00:00Z", 1 + i % 12, 1 + i % 27, i % 24);
        snprintf(cl, sizeof cl, "175.45.176.%d", 1 + i % 37);
        ni_session s = mk(when, cl, "31.13.64.1", i % 5 ? NI_DIRECTION_OUTBOUND : NI_DIRECTION_INBOUND);
        if (i % 5 == 0) { s.client = s.server; ni_addr_parse("81.2.69.160", &s.client); s.client_country = "GB"; s.client_continent = "Europe"; s.sni = "kcna.kp"; }
        s.http = i % 2 ? &r1 : &r2;
        s.ua_kind = NI_UA_KIND_BROWSER; s.ua_maker = i % 3 ? "Samsung" : "Apple"; s.ua_os = "Android"; s.ua_os_version = i % 2 ? "13" : "14";
        s.ua_browser = "Chrome Mobile"; s.ua_browser_version = i % 2 ? "120.0" : "121.0";
        s.service = i % 4 ? "Facebook" : "Baidu"; s.category = i % 4 ? "social" : "search"; s.service_evidence = NI_EVIDENCE_SNI;
        if (i % 9 == 0) { s.vpn_provider = "NordVPN"; s.vpn_evidence = NI_EVIDENCE_TUNNEL; s.vpn_protocol = NI_TUN_OPENVPN; }
        ni_profile_add(whole, &s);
        ni_profile_add(i < 150 ? a : b, &s);
    }
    CHECK_INT(ni_profile_merge(a, b), NI_OK);
    ni_buf x, y;
    ni_buf_init(&x, 1 << 24); ni_buf_init(&y, 1 << 24);
    ni_profile_json(whole, &x);
    ni_profile_json(a, &y);
    CHECK(x.len == y.len && !memcmp(x.p, y.p, x.len));
    ni_buf_release(&x); ni_buf_release(&y);
    ni_profile_free(whole); ni_profile_free(a); ni_profile_free(b);
    ni_tz_free(tz);
}

static const char *acme(void *ud, const char *kind, const char *name) { (void)ud; (void)kind; (void)name; return "Acme"; }

/* Ten target hosts, each with its own service and User-Agent, all Samsung
 * phones on Android, ten Android versions; one vendor (Acme) for everything,
 * so Acme has 12 evidence items.  Each cap in turn is set low; the refused
 * insertions are counted exactly, the rest is unchanged, and "limits" says so.
 * Tables of names (sections, versions, evidence) refuse nothing since issue
 * 11: past their cap they keep the busiest names (ni_topk) and
 * limits.rows counts the names that left and their sessions, complete
 * staying true. */
TEST(limits_count_what_was_refused)
{
    static const struct {
        const char *name;
        ni_profile_caps caps;
        unsigned long long names, hosts, clients, versions, evidence;
        long long services, os_hosts;       /* rows of services, hosts of Android */
        const char *table;                  /* the table in limits.rows, with ... */
        long long evicted;                  /* ... names (1 session each) that left */
    } rows[] = {
        /* default caps: nothing refused */
        { "defaults", { 0 }, 0, 0, 0, 0, 0, 10, 10, NULL, 0 },
        /* 4 names per section: 6 of the 10 services left (6 sessions); the
         * old names cap refuses nothing */
        { "rows", { .rows = 4 }, 0, 0, 0, 0, 0, 4, 10, "services", 6 },
        { "names", { .names = 4 }, 0, 0, 0, 0, 0, 10, 10, NULL, 0 },
        /* addresses and clients are never refused any more (issue 11): past
         * the exact bound they are estimated, here 10 hosts from a bound of
         * 3 (the estimate of 10 values is 10); the old caps refuse nothing */
        { "distinct", { .distinct = 3 }, 0, 0, 0, 0, 0, 10, 10, NULL, 0 },
        /* ... except in the per-host OS view (User-Agent and stack OS, issue
         * 12), a map of target clients under the hosts cap: hosts 4..10 */
        { "hosts", { .hosts = 3, .clients = 2 }, 0, 7, 0, 0, 0, 10, 10, NULL, 0 },
        /* 3 Android versions kept: 7 left */
        { "versions", { .versions = 3 }, 0, 0, 0, 0, 0, 10, 10, "os.versions", 7 },
        /* 5 evidence items for Acme: 7 of its 12 left (each 1 session) */
        { "evidence", { .evidence = 5 }, 0, 0, 0, 0, 0, 10, 10, "vendors.evidence", 7 },
    };
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        ni_profile_config cfg = { .tz = tz };
        cfg.lookups.vendor = acme;
        ni_profile *p = ni_profile_new_capped(&cfg, &rows[r].caps, &err);
        char svc[10][16], ver[10][16], ua[10][16], cl[10][32];
        ni_http_req req[10];
        for (int i = 0; i < 10; i++) {
            snprintf(svc[i], sizeof svc[i], "S%d", i);
            snprintf(ver[i], sizeof ver[i], "%d", i + 4);
            snprintf(ua[i], sizeof ua[i], "UA-%d", i);
            snprintf(cl[i], sizeof cl[i], "175.45.176.%d", i + 1);
            memset(&req[i], 0, sizeof req[i]);
            req[i].user_agent = ua[i];
            ni_session s = mk("2024-03-04T10:00:00Z", cl[i], "8.8.8.8", NI_DIRECTION_OUTBOUND);
            s.http = &req[i]; s.ua_kind = NI_UA_KIND_BROWSER; s.ua_maker = "Samsung"; s.ua_os = "Android"; s.ua_os_version = ver[i];
            s.service = svc[i]; s.category = "social";
            ni_profile_add(p, &s);
        }
        const ni_profile_losses *l = ni_profile_lost(p);
        unsigned long long got[5] = { l->names, l->hosts, l->clients, l->versions, l->evidence };
        unsigned long long want[5] = { rows[r].names, rows[r].hosts, rows[r].clients, rows[r].versions, rows[r].evidence };
        for (int k = 0; k < 5; k++) {
            if (got[k] != want[k]) fprintf(stderr, "  row %s: count %d is %llu, expected %llu\n", rows[r].name, k, got[k], want[k]);
            CHECK(got[k] == want[k]);
        }
        CHECK_INT(l->out_of_memory, 0);
        bool none = !(want[0] | want[1] | want[2] | want[3] | want[4]);
        CHECK(ni_profile_complete(p) == none);
        ni_buf b; ni_buf_init(&b, 1 << 24);
        CHECK_INT(ni_profile_json(p, &b), NI_OK);
        json_t *d = ni_reportdoc_load(b.p, b.len, "report.json", &err);
        CHECK(d != NULL);
        CHECK(json_is_boolean(ni_reportdoc_get(d, "limits.complete")) && json_is_true(ni_reportdoc_get(d, "limits.complete")) == none);
        static const char *const keys[5] = { "names", "hosts", "clients", "versions", "evidence" };
        static const size_t defaults[5] = { NI_PROFILE_NAMES_MAX, NI_PROFILE_HOSTS_MAX, NI_PROFILE_CLIENTS_MAX,
                                            NI_PROFILE_VERSIONS_MAX, NI_PROFILE_EVIDENCE_MAX };
        const size_t set[5] = { rows[r].caps.names, rows[r].caps.hosts, rows[r].caps.clients, rows[r].caps.versions,
                                rows[r].caps.evidence };
        for (int k = 0; k < 5; k++) {
            char path[64];
            snprintf(path, sizeof path, "limits.%s.dropped", keys[k]);
            CHECK(ni_reportdoc_int(d, path) == (long long)want[k]);
            snprintf(path, sizeof path, "limits.%s.cap", keys[k]);
            CHECK(ni_reportdoc_int(d, path) == (long long)(set[k] ? set[k] : defaults[k]));
        }
        CHECK_INT(json_array_size(ni_reportdoc_get(d, "services")), rows[r].services);
        /* limits.rows: only when a table lost names; kept + dropped = total */
        const json_t *tabs = ni_reportdoc_get(d, "limits.rows.tables");
        CHECK((tabs != NULL) == (rows[r].table != NULL));
        if (rows[r].table) {
            CHECK_INT(json_array_size(tabs), 1);
            const json_t *t0 = json_array_get(tabs, 0);
            CHECK_STR(json_string_value(json_object_get(t0, "table")), rows[r].table);
            CHECK_INT(json_integer_value(json_object_get(t0, "evicted")), rows[r].evicted);
            CHECK_INT(json_integer_value(json_object_get(t0, "dropped")), rows[r].evicted);
            /* Space-Saving: no name that left had more than total / cap (+1) */
            long long bound = json_integer_value(json_object_get(t0, "bound"));
            CHECK(bound >= 1 && bound <= 12 / (long long)(rows[r].caps.rows | rows[r].caps.versions | rows[r].caps.evidence) + 1);
            CHECK_INT(ni_reportdoc_int(d, "limits.rows.cap"), rows[r].caps.rows ? rows[r].caps.rows : NI_PROFILE_ROWS_MAX);
            if (!strcmp(rows[r].table, "services")) {
                CHECK_INT(json_integer_value(json_object_get(t0, "kept")), 4);
                CHECK_INT(json_integer_value(json_object_get(t0, "total")), 10);
                /* each kept service entered a full table after the first 4: sessions_error 1 */
                const json_t *sv = ni_reportdoc_get(d, "services");
                long long sum = 0, errs = 0;
                for (size_t i = 0; i < json_array_size(sv); i++) {
                    sum += json_integer_value(json_object_get(json_array_get(sv, i), "sessions"));
                    errs += json_object_get(json_array_get(sv, i), "sessions_error") != NULL;
                }
                CHECK_INT(sum + json_integer_value(json_object_get(t0, "dropped")), 10);
                CHECK(errs >= 1);
            }
        }
        json_t *os0 = json_array_get(ni_reportdoc_get(d, "os"), 0);
        CHECK_INT(json_integer_value(json_object_get(os0, "hosts")), rows[r].os_hosts);
        /* an estimate says so beside the figure, and limits.distinct counts them */
        bool est = rows[r].caps.distinct && rows[r].caps.distinct < 10;
        CHECK(json_is_true(json_object_get(os0, "hosts_estimated")) == est);
        CHECK(json_is_true(json_object_get(os0, "clients_estimated")) == est);
        CHECK(est ? json_real_value(json_object_get(os0, "hosts_error")) == NI_HLL_ERROR : !json_object_get(os0, "hosts_error"));
        CHECK(est == (ni_reportdoc_get(d, "limits.distinct") != NULL));
        if (est) {
            CHECK_INT(ni_reportdoc_int(d, "limits.distinct.exact_max"), 3);
            CHECK(ni_reportdoc_int(d, "limits.distinct.estimated") >= 8);
            CHECK(json_is_true(ni_reportdoc_get(d, "totals.hosts_estimated")));
            CHECK_INT(ni_reportdoc_int(d, "totals.hosts"), 10);
            /* a finding resting on estimates says so ("about"), and its basis too */
            const json_t *fs = ni_reportdoc_get(d, "findings");
            int said = 0;
            for (size_t i = 0; i < json_array_size(fs); i++) {
                const json_t *fi = json_array_get(fs, i);
                if (strcmp(json_string_value(json_object_get(fi, "section")), "devices")) continue;
                said += strstr(json_string_value(json_object_get(fi, "text")), "(about 10 of about 10 hosts") != NULL;
                said += strstr(json_string_value(json_object_get(fi, "basis")), "their error is added") != NULL;
            }
            CHECK_INT(said, 2);
        }
        json_decref(d);
        ni_buf_release(&b);
        ni_profile_free(p);
    }
    ni_tz_free(tz);
}

RUN(T(host_view), T(icd203_phrases), T(week_shapes), T(limits_count_what_was_refused), T(merge_equals_whole), T(reduced_ua_versions), T(full_builds_and_final_build), T(activity_local_time), T(activity_outbound_only), T(devices_units_and_exclusions), T(visitor_level_shift))
