/* test_diff.c — unit tests of lib/analyze/ni_diff: two profiles whose device
 * mix and weekday pattern differ; the diff finds the shift, gains and losses,
 * and calls a tiny-sample change insignificant. */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_diff.h"
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

TEST(maker_shift_and_weekdays)
{
    char *a = make(400, 40, "2024-03-02T10:00:00Z", "Facebook");   /* Saturday, 10% Apple */
    char *b = make(400, 200, "2024-03-04T10:00:00Z", "VK");        /* Monday, 50% Apple */
    ni_buf jo, md; ni_buf_init(&jo, 1 << 24); ni_buf_init(&md, 1 << 24);
    ni_error err = {0};
    CHECK_INT(ni_diff_reports(a, "old.json", b, "new.json", &jo, &md, &err), NI_OK);
    json_error_t je;
    json_t *d = json_loads(ni_buf_str(&jo), 0, &je);
    CHECK(d != NULL);
    json_t *apple = find_share(d, "makers", "Apple");
    CHECK(apple != NULL);
    if (apple) {
        CHECK(fabs(json_number_value(json_object_get(apple, "old_share")) - 0.1) < 1e-9);
        CHECK(fabs(json_number_value(json_object_get(apple, "new_share")) - 0.5) < 1e-9);
        CHECK_STR(json_string_value(json_object_get(apple, "significance")), "almost certain");
    }
    json_t *ws = json_object_get(json_object_get(d, "activity"), "weekday_share");
    CHECK(json_number_value(json_object_get(ws, "old")) == 0);
    CHECK(json_number_value(json_object_get(ws, "new")) == 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(d, "gained"), 0), "name")), "VK");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(d, "lost"), 0), "name")), "Facebook");
    CHECK(strstr(ni_buf_str(&md), "| makers | Apple |") != NULL);
    json_decref(d);
    ni_buf_release(&jo); ni_buf_release(&md);
    free(a); free(b);
}

TEST(small_sample_not_significant)
{
    char *a = make(4, 1, "2024-03-04T10:00:00Z", "Facebook");
    char *b = make(4, 2, "2024-03-04T10:00:00Z", "Facebook");
    ni_buf jo, md; ni_buf_init(&jo, 1 << 24); ni_buf_init(&md, 1 << 24);
    ni_error err = {0};
    CHECK_INT(ni_diff_reports(a, "a", b, "b", &jo, &md, &err), NI_OK);
    json_t *d = json_loads(ni_buf_str(&jo), 0, NULL);
    json_t *apple = find_share(d, "makers", "Apple");
    CHECK(apple && !strcmp(json_string_value(json_object_get(apple, "significance")), "unlikely"));
    json_decref(d);
    CHECK_INT(ni_diff_reports("[]", "x.json", b, "b", &jo, &md, &err), NI_ERR_FORMAT);
    CHECK(strstr(err.msg, "x.json") != NULL);
    ni_buf_release(&jo); ni_buf_release(&md);
    free(a); free(b);
}

RUN(T(maker_shift_and_weekdays), T(small_sample_not_significant))
