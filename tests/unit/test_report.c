/* test_report.c — unit tests of lib/report: a profile built from sessions is
 * rendered to HTML and Markdown; every figure is present, the HTML has no
 * script and no external reference, hostile strings are escaped, and a
 * document that is not a profile (or misses a key) is refused with a clear
 * error. */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "report/ni_report.h"
#include "core/ni_time.h"
#include <jansson.h>
#include <stdlib.h>

static int64_t at(const char *s) { int64_t us = 0; ni_time_parse(s, &us); return us; }

static char *profile_json(void)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Asia/Pyongyang", &err);
    const char *spec[] = { "kp" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    ni_profile *p = ni_profile_new(&cfg, &err);
    ni_http_req r = { .user_agent = "Mozilla/5.0 <script>alert(1)</script>" };
    for (int i = 0; i < 50; i++) {
        ni_session s;
        memset(&s, 0, sizeof s);
        s.first_us = s.last_us = at("2024-02-20T01:00:00Z") + (int64_t)i * 3600 * 1000000;
        ni_addr_parse("175.45.176.9", &s.client);
        ni_addr_parse("31.13.64.1", &s.server);
        s.direction = NI_DIRECTION_OUTBOUND;
        s.http = &r; s.ua_maker = "Samsung<b>"; s.ua_kind = NI_UA_KIND_BROWSER; s.ua_os = "Android"; s.ua_os_version = "14";
        s.service = "Facebook"; s.category = "social"; s.service_evidence = NI_EVIDENCE_SNI;
        ni_profile_add(p, &s);
        s.direction = NI_DIRECTION_INBOUND;
        ni_addr_parse("81.2.69.160", &s.client);
        ni_addr_parse("175.45.176.1", &s.server);
        s.sni = "kcna.kp"; s.client_country = "GB"; s.client_continent = "Europe";
        ni_profile_add(p, &s);
    }
    ni_buf b; ni_buf_init(&b, 1 << 24);
    ni_profile_json(p, &b);
    ni_profile_free(p);
    ni_tz_free(tz);
    return b.p;
}

TEST(html_has_every_figure)
{
    char *json = profile_json();
    ni_buf h; ni_buf_init(&h, 1 << 24);
    ni_error err = {0};
    CHECK_INT(ni_report_html(json, &h, &err), NI_OK);
    const char *s = ni_buf_str(&h);
    const char *figs[] = { "fig-hour", "fig-weekday", "fig-heatmap", "fig-categories", "fig-services", "fig-makers",
                           "fig-form-factor", "fig-models", "fig-os", "fig-windows", "fig-browsers", "fig-outdated",
                           "fig-vpn", "fig-sites", "fig-regions", "fig-hosts", "fig-host-providers" };
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        char id[64];
        snprintf(id, sizeof id, "id=\"%s\"", figs[i]);
        CHECK(strstr(s, id) != NULL);
    }
    CHECK(strstr(s, "<script") == NULL);
    CHECK(strstr(s, "Samsung&lt;b&gt;") != NULL);
    CHECK(strstr(s, "src=\"http") == NULL && strstr(s, "href=\"http") == NULL);
    CHECK(strstr(s, "<svg") != NULL);
    CHECK(strstr(s, "Asia/Pyongyang") != NULL);
    ni_buf_release(&h);
    free(json);
}

TEST(markdown_same_content)
{
    char *json = profile_json();
    ni_buf m; ni_buf_init(&m, 1 << 24);
    ni_error err = {0};
    CHECK_INT(ni_report_markdown(json, &m, &err), NI_OK);
    const char *s = ni_buf_str(&m);
    CHECK(strstr(s, "## 2. Pattern of life") != NULL);
    /* overview: outbound lookups, internal and transit sessions have their own counts */
    CHECK(strstr(s, "| sessions | outbound | of which DNS lookups | inbound | internal | of which DNS lookups | transit |") != NULL);
    CHECK(strstr(s, "| 100 | 50 | 0 | 50 | 0 | 0 | 0 | 2 |") != NULL);
    CHECK(strstr(s, "counts the 50 target-initiated outbound sessions") != NULL);
    CHECK(strstr(s, "| Facebook | social | 1 | 50 |") != NULL);
    CHECK(strstr(s, "Samsung\\<b\\>") != NULL);
    CHECK(strstr(s, "kcna.kp") != NULL);
    CHECK(strstr(s, "## 9. Findings") != NULL);
    /* the host view: one row per target host, with what its sessions showed */
    CHECK(strstr(s, "## 10. Hosts") != NULL);
    CHECK(strstr(s, "| 175.45.176.9 | 2024-02-20 to 2024-02-22 | 50 | Samsung\\<b\\> | Android 14 | - | Facebook | - |") != NULL);
    CHECK(strstr(s, "| 175.45.176.1 |") != NULL);
    ni_buf_release(&m);
    free(json);
}

TEST(incomplete_counts_shown)
{
    /* limits.complete false: the overview says which cap dropped what;
     * complete (or absent, from an older document): nothing is said */
    char *json = profile_json();
    static const struct { int complete, drop, keep; const char *want; } rows[] = {
        { 1, 0, 1, NULL },
        { 1, 0, 0, NULL },
        { 0, 5, 1, "Incomplete counts: hosts past the cap of 3 (5 dropped); the figures concerned are lower bounds" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *d = json_loads(json, 0, NULL);
        json_t *l = json_object_get(d, "limits");
        json_object_set_new(l, "complete", json_boolean(rows[i].complete));
        json_object_set_new(json_object_get(l, "hosts"), "cap", json_integer(3));
        json_object_set_new(json_object_get(l, "hosts"), "dropped", json_integer(rows[i].drop));
        if (!rows[i].keep) json_object_del(d, "limits");
        char *text = json_dumps(d, 0);
        ni_buf m; ni_buf_init(&m, 1 << 24);
        ni_error err = {0};
        CHECK_INT(ni_report_markdown(text, &m, &err), NI_OK);
        if (rows[i].want) CHECK(strstr(ni_buf_str(&m), rows[i].want) != NULL);
        else CHECK(strstr(ni_buf_str(&m), "Incomplete counts") == NULL);
        ni_buf_release(&m);
        free(text);
        json_decref(d);
    }
    free(json);
}

TEST(bad_documents)
{
    /* every refusal names the problem (and the key, for a document that is
     * JSON but not the contract); nothing missing reads as 0 */
    static const struct { const char *doc, *msg; } rows[] = {
        { "{not json", "not JSON" },
        { "{\"a\":1}\n{\"a\":2}\n", "JSON Lines" },
        { "[1,2]", "not a report.json" },
        { "{\"schema\":\"other\"}", "not a report.json" },
        { "{\"schema\":\"netintel.profile/9\"}", "netintel.profile/9" },
        { "{\"schema\":\"netintel.profile/1\"}", "key `target` missing" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_buf b; ni_buf_init(&b, 1 << 20);
        ni_error err = {0};
        CHECK_INT(ni_report_markdown(rows[i].doc, &b, &err), NI_ERR_FORMAT);
        CHECK(strstr(err.msg, rows[i].msg) != NULL);
        CHECK(!strncmp(err.msg, "report.json: ", 13));
        CHECK_INT(ni_report_html(rows[i].doc, &b, &err), NI_ERR_FORMAT);
        ni_buf_release(&b);
    }
}

RUN(T(html_has_every_figure), T(markdown_same_content), T(incomplete_counts_shown), T(bad_documents))
