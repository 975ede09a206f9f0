/* test_diff.c — unit tests of lib/analyze/ni_diff: two profiles whose device
 * mix and weekday pattern differ; the diff finds the shift, gains and losses,
 * and calls a tiny-sample change insignificant; identical figures are "no
 * change" with no rows; the Holm adjustment on a table of p-values; and
 * documents that are not report.json refused naming the file (table). */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_diff.h"
#include "analyze/ni_reportdoc.h"
#include "core/ni_time.h"

#include <jansson.h>
#include <stdlib.h>
#include <math.h>

static int64_t at(const char *s) { int64_t us = 0; ni_time_parse(s, &us); return us; }

/* n hosts: first `apple` of them Apple, the rest Samsung; sessions on `day`. */
static char *make(int n, int apple, const char *day, const char *service)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    ni_profile_config cfg = { .tz = tz };
    ni_profile *p = ni_profile_new(&cfg, &err);
    ni_http_req r = { .user_agent = "UA" };
    for (int i = 0; i < n; i++) {
        ni_session s;
        memset(&s, 0, sizeof s);
        s.first_us = s.last_us = at(day);
        s.client.family = 4; s.client.b[0] = 175; s.client.b[1] = 45; s.client.b[2] = (uint8_t)(176 + i / 256); s.client.b[3] = (uint8_t)i;
        ni_addr_parse("8.8.8.8", &s.server);
        s.direction = NI_DIRECTION_OUTBOUND;
        s.http = &r; s.ua_kind = NI_UA_KIND_BROWSER;
        s.ua_maker = i < apple ? "Apple" : "Samsung";
        s.service = service; s.category = "social";
        ni_profile_add(p, &s);
    }
    ni_buf b; ni_buf_init(&b, 1 << 24);
    ni_profile_json(p, &b);
    ni_profile_free(p);
    ni_tz_free(tz);
    return b.p;
}

static json_t *find_share(json_t *d, const char *section, const char *name)
{
    json_t *sh = json_object_get(d, "shares");
    for (size_t i = 0; i < json_array_size(sh); i++) {
        json_t *e = json_array_get(sh, i);
        if (!strcmp(json_string_value(json_object_get(e, "section")), section) &&
            !strcmp(json_string_value(json_object_get(e, "name")), name)) return e;
    }
    return NULL;
}


typedef struct result { ni_err rc; bool changed; json_t *d; char md[1 << 16]; char msg[512]; } result;

static result *diff(const char *a, const char *b)
{
    result *r = calloc(1, sizeof *r);
    ni_buf jo, md; ni_buf_init(&jo, 1 << 24); ni_buf_init(&md, 1 << 24);
    ni_error err = {0};
    r->rc = ni_diff_reports(a, "old.json", b, "new.json", &r->changed, &jo, &md, &err);
    r->d = r->rc ? NULL : json_loads(ni_buf_str(&jo), 0, NULL);
    snprintf(r->md, sizeof r->md, "%s", ni_buf_str(&md));
    snprintf(r->msg, sizeof r->msg, "%s", err.msg);
    ni_buf_release(&jo); ni_buf_release(&md);
    return r;
}

static void result_free(result *r) { json_decref(r->d); free(r); }

TEST(maker_shift_and_weekdays)
{
    char *a = make(400, 40, "2024-03-02T10:00:00Z", "Facebook");   /* Saturday, 10% Apple */
    char *b = make(400, 200, "2024-03-04T10:00:00Z", "VK");        /* Monday, 50% Apple */
    result *r = diff(a, b);
    CHECK_INT(r->rc, NI_OK);
    CHECK(r->changed);
    json_t *d = r->d;
    CHECK(d != NULL);
    json_t *apple = find_share(d, "makers", "Apple");
    CHECK(apple != NULL);
    if (apple) {
        CHECK(fabs(json_number_value(json_object_get(apple, "old_share")) - 0.1) < 1e-9);
        CHECK(fabs(json_number_value(json_object_get(apple, "new_share")) - 0.5) < 1e-9);
        CHECK(json_is_true(json_object_get(apple, "significant")));
        CHECK(json_number_value(json_object_get(apple, "p_holm")) >= json_number_value(json_object_get(apple, "p")));
    }
    CHECK_STR(json_string_value(json_object_get(d, "correction")), "holm");
    CHECK(json_integer_value(json_object_get(d, "comparisons")) > 1);
    json_t *ws = json_object_get(json_object_get(d, "activity"), "weekday_share");
    CHECK(json_number_value(json_object_get(ws, "old")) == 0);
    CHECK(json_number_value(json_object_get(ws, "new")) == 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(d, "gained"), 0), "name")), "VK");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(d, "lost"), 0), "name")), "Facebook");
    CHECK(strstr(r->md, "| makers | Apple |") != NULL);
    CHECK(strstr(r->md, "Holm") != NULL);
    CHECK(strstr(r->md, "not the probability that the change is real") != NULL);
    CHECK(strstr(r->md, "how likely") == NULL);
    result_free(r);
    free(a); free(b);
}

TEST(small_sample_not_significant)
{
    char *a = make(4, 1, "2024-03-04T10:00:00Z", "Facebook");
    char *b = make(4, 2, "2024-03-04T10:00:00Z", "Facebook");
    result *r = diff(a, b);
    CHECK_INT(r->rc, NI_OK);
    CHECK(r->changed);
    json_t *apple = find_share(r->d, "makers", "Apple");
    CHECK(apple && json_is_false(json_object_get(apple, "significant")));
    /* rows whose figures did not change are not compared */
    CHECK(find_share(r->d, "services", "Facebook") == NULL);
    result_free(r);
    free(a); free(b);
}

TEST(same_figures_no_change)
{
    /* identical documents, and documents differing only in target/window */
    char *a = make(50, 10, "2024-03-04T10:00:00Z", "Facebook");
    char *b = make(50, 10, "2024-03-04T10:00:00Z", "Facebook");
    json_t *t = json_loads(b, 0, NULL);
    json_array_append_new(json_object_get(json_object_get(t, "target"), "spec"), json_string("10.0.0.0/8"));
    char *c = json_dumps(t, JSON_INDENT(2));
    json_decref(t);
    const char *news[] = { b, c };
    for (size_t i = 0; i < 2; i++) {
        result *r = diff(a, news[i]);
        CHECK_INT(r->rc, NI_OK);
        CHECK(!r->changed);
        CHECK(strstr(r->md, "No change") != NULL);
        CHECK(strstr(r->md, "+0.0") == NULL);
        CHECK_INT(json_array_size(json_object_get(r->d, "shares")), 0);
        CHECK_INT(json_integer_value(json_object_get(r->d, "comparisons")), 0);
        result_free(r);
    }
    /* one figure changed (bytes only): changed, section named */
    t = json_loads(b, 0, NULL);
    json_object_set_new(json_object_get(t, "totals"), "bytes", json_integer(1));
    char *e = json_dumps(t, 0);
    json_decref(t);
    result *r = diff(a, e);
    CHECK(r->changed);
    CHECK_STR(json_string_value(json_array_get(json_object_get(r->d, "sections_changed"), 0)), "totals");
    result_free(r);
    free(a); free(b); free(c); free(e);
}

TEST(refuses_what_is_not_a_report)
{
    char *good = make(5, 1, "2024-03-04T10:00:00Z", "Facebook");
    json_t *t = json_loads(good, 0, NULL);
    json_object_del(json_object_get(t, "activity"), "by_hour");
    char *missing = json_dumps(t, 0);
    json_object_set_new(json_object_get(t, "totals"), "hosts", json_string("12"));
    json_object_set_new(json_object_get(t, "activity"), "by_hour", json_array());
    char *mistyped = json_dumps(t, 0);
    json_decref(t);
    const struct { const char *doc, *msg; } rows[] = {
        { "[]", "old.json: not a report.json" },
        { "", "old.json: not a report.json: not JSON" },
        { "{\"first\":\"x\"}\n{\"first\":\"y\"}\n", "old.json: JSON Lines" },
        { "{\"schema\":\"netintel.diff/2\"}", "old.json: not a report.json" },
        { missing, "old.json: report.json key `activity.by_hour` missing" },
        { mistyped, "old.json: report.json key `totals.hosts` is a string, expected an integer" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        result *r = diff(rows[i].doc, good);
        CHECK_INT(r->rc, NI_ERR_FORMAT);
        CHECK(!strncmp(r->msg, rows[i].msg, strlen(rows[i].msg)));   /* starts with */
        CHECK(strchr(r->msg, '\n') == NULL);
        result_free(r);
    }
    free(good); free(missing); free(mistyped);
}

TEST(holm_table)
{
    static const struct { size_t n; double p[5], adj[5]; } rows[] = {
        { 1, { 0.03 }, { 0.03 } },
        { 4, { 0.01, 0.04, 0.03, 0.005 }, { 0.03, 0.06, 0.06, 0.02 } },
        { 3, { 0.5, 0.5, 0.001 }, { 1.0, 1.0, 0.003 } },
        { 5, { 0.2, 0.3, 0.4, 0.5, 0.6 }, { 1.0, 1.0, 1.0, 1.0, 1.0 } },
        { 2, { 0.01, 0.01 }, { 0.02, 0.02 } },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double adj[5];
        ni_diff_holm(rows[i].p, adj, rows[i].n);
        for (size_t k = 0; k < rows[i].n; k++) CHECK(fabs(adj[k] - rows[i].adj[k]) < 1e-12);
    }
}

RUN(T(maker_shift_and_weekdays), T(small_sample_not_significant), T(same_figures_no_change),
    T(refuses_what_is_not_a_report), T(holm_table))
