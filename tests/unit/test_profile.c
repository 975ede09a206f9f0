/* test_profile.c — unit tests of lib/analyze/ni_profile: sessions built in
 * the test go in, report JSON comes out and is read back with jansson:
 * local-time activity (Pyongyang's +08:30 years), units (hosts vs clients),
 * visitors' User-Agents excluded from devices, system agents making no
 * device, VPN evidence kinds, a detected level shift, determinism. */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "core/ni_arena.h"
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
    json_error_t je;
    json_t *root = json_loads(ni_buf_str(&b), 0, &je);
    CHECK(root != NULL);
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

TEST(reduced_ua_versions_not_counted)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_http_req r1 = { .user_agent = "reduced" }, r2 = { .user_agent = "full" };
    ni_session s[2];
    s[0] = mk("2024-03-01T00:00:00Z", "175.45.176.10", "8.8.8.8", NI_DIRECTION_OUTBOUND);
    s[0].http = &r1; s[0].ua_kind = NI_UA_KIND_BROWSER; s[0].ua_os = "Android"; s[0].ua_os_version = "10"; s[0].ua_reduced = true;
    s[1] = mk("2024-03-01T00:01:00Z", "175.45.176.10", "8.8.8.8", NI_DIRECTION_OUTBOUND);
    s[1].http = &r2; s[1].ua_kind = NI_UA_KIND_APP; s[1].ua_os = "Android"; s[1].ua_os_version = "13";
    json_t *r = run(s, 2, tz);
    json_t *os = json_array_get(json_object_get(r, "os"), 0);
    CHECK_STR(json_string_value(json_object_get(os, "name")), "Android");
    json_t *vs = json_object_get(os, "versions");
    CHECK_INT(json_array_size(vs), 1);            /* 13 only: "Android 10; K" is a placeholder */
    CHECK_STR(json_string_value(json_object_get(json_array_get(vs, 0), "version")), "13");
    json_decref(r);
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

RUN(T(merge_equals_whole), T(reduced_ua_versions_not_counted), T(activity_local_time), T(devices_units_and_exclusions), T(visitor_level_shift))
