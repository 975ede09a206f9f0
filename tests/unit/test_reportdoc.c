/* test_reportdoc.c — unit tests of lib/analyze/ni_reportdoc and the
 * description it checks against (ni_reportdef, generated from
 * docs/report-schema.json): a real report.json passes; each mutation of the
 * contract (renamed, retyped, missing, extra, wrong length, wrong value,
 * wrong form of a tagged object) is refused with one line naming the file
 * and the key's path; the description covers every key the writer writes and
 * agrees with docs/report-schema.json on which keys are required. */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_reportdoc.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t at(const char *s) { int64_t us = 0; ni_time_parse(s, &us); return us; }

static bool os_life(void *ud, const char *family, const char *version, const char **rel, const char **eos)
{
    (void)ud; (void)family;
    if (!strcmp(version, "XP")) { *rel = "2001-10-25"; *eos = "2014-04-08"; return true; }
    return false;
}

static const char *browser_release(void *ud, const char *family, const char *major)
{
    (void)ud; (void)family; (void)major;
    return "2016-03-02";
}

/* A report.json with every section and array filled. */
static char *full_report(void)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Asia/Pyongyang", &err);
    const char *spec[] = { "kp" };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz };
    cfg.lookups.os_life = os_life;
    cfg.lookups.browser_release = browser_release;
    ni_profile *p = ni_profile_new(&cfg, &err);
    ni_http_req r = { .user_agent = "Mozilla/5.0 (Windows NT 5.1) Chrome/49.0" };
    for (int i = 0; i < 400; i++) {
        ni_session s;
        memset(&s, 0, sizeof s);
        s.first_us = s.last_us = at("2023-01-02T01:00:00Z") + (int64_t)i * 86400 * 1000000;
        s.client.family = 4; s.client.b[0] = 175; s.client.b[1] = 45; s.client.b[2] = 176; s.client.b[3] = (uint8_t)(i % 20);
        ni_addr_parse("31.13.64.1", &s.server);
        s.direction = NI_DIRECTION_OUTBOUND;
        s.http = &r; s.ua_kind = NI_UA_KIND_BROWSER; s.ua_maker = "Samsung"; s.ua_model = "SM-S928B"; s.ua_form_factor = "mobile";
        s.ua_os = "Windows"; s.ua_os_version = "XP"; s.windows_version = "XP"; s.ua_browser = "Chrome";
        s.ua_browser_version = "49.0";
        s.service = "Facebook"; s.category = "social"; s.service_evidence = NI_EVIDENCE_SNI;
        s.vpn_provider = "NordVPN"; s.vpn_protocol = NI_TUN_OPENVPN; s.vpn_evidence = NI_EVIDENCE_TUNNEL;
        ni_profile_add(p, &s);
        s.direction = NI_DIRECTION_INBOUND;
        ni_addr_parse("81.2.69.160", &s.client);
        ni_addr_parse("175.45.176.1", &s.server);
        s.sni = "kcna.kp"; s.client_country = "GB"; s.client_continent = "Europe";
        for (int k = 0; k < (i < 200 ? 20 : 2); k++) ni_profile_add(p, &s);   /* a drop half way */
    }
    ni_buf b; ni_buf_init(&b, 1 << 24);
    ni_profile_json(p, &b);
    ni_profile_free(p);
    ni_tz_free(tz);
    return b.p;
}

TEST(writer_output_passes)
{
    char *j = full_report();
    ni_error err = {0};
    json_t *d = ni_reportdoc_load(j, strlen(j), "full.json", &err);
    CHECK(d != NULL);
    if (!d) printf("  %s\n", err.msg);
    /* every array is filled, so every described key was checked */
    CHECK(json_array_size(ni_reportdoc_get(d, "outdated")) >= 2);
    CHECK(json_array_size(ni_reportdoc_get(d, "inbound.changes")) == 1);
    CHECK(json_array_size(ni_reportdoc_get(d, "vpn.by_service")) == 1);
    CHECK_INT(ni_reportdoc_int(d, "limits.names.cap"), NI_PROFILE_NAMES_MAX);
    CHECK(ni_reportdoc_get(d, "no.such.key") == NULL);
    CHECK(ni_reportdoc_str(d, "target.timezone") && !strcmp(ni_reportdoc_str(d, "target.timezone"), "Asia/Pyongyang"));
    json_decref(d);
    free(j);
}

/* path "a.b[2].c" → the parent object/array and the last key or index */
static json_t *walk_to(json_t *d, const char *path, char *last, size_t n)
{
    json_t *v = d;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *s = buf, *tok;
    while ((tok = strsep(&s, "."))) {
        char *br = strchr(tok, '[');
        size_t idx = 0;
        if (br) { idx = (size_t)strtoul(br + 1, NULL, 10); *br = 0; }
        if (!s && !br) { snprintf(last, n, "%s", tok); return v; }
        v = json_object_get(v, tok);
        if (br && !s) { snprintf(last, n, "[%zu]", idx); return v; }
        if (br) v = json_array_get(v, idx);
    }
    return NULL;
}

TEST(mutations_refused_naming_the_key)
{
    char *j = full_report();
    enum { DEL, SET_STR, SET_INT, SET_NULL, SET_STRVAL, POP, DUP };
    static const struct { const char *path; int op; const char *val; const char *msg; } rows[] = {
        { "totals", DEL, NULL, "key `totals` missing" },
        { "services[0].hosts", DEL, NULL, "key `services[0].hosts` missing" },
        { "inbound.by_region_month[0].month", DEL, NULL, "key `inbound.by_region_month[0].month` missing" },
        { "findings[0].basis", DEL, NULL, "key `findings[0].basis` missing" },
        { "activity.sample", SET_STR, "12", "key `activity.sample` is a string, expected an integer" },
        { "totals.hosts", SET_NULL, NULL, "key `totals.hosts` is null, expected an integer" },
        { "devices.models[0].lag_days", SET_STR, "3", "key `devices.models[0].lag_days` is a string, expected an integer or null" },
        { "totals.bytes", SET_INT, "-1", "key `totals.bytes` is -1, out of range" },
        { "vpn.note", SET_STR, "x", "key `vpn.note` is not part of netintel.profile/1" },
        { "total", SET_INT, "1", "key `total` is not part of netintel.profile/1" },
        { "activity.by_hour", POP, NULL, "key `activity.by_hour` has 23 items, expected 24" },
        { "findings[0].likelihood", SET_STRVAL, "probable", "key `findings[0].likelihood` is \"probable\", not one of its values" },
        { "activity.unit", SET_STRVAL, "hosts", "key `activity.unit` is \"hosts\", expected \"sessions\"" },
        { "window.first", SET_STRVAL, "yesterday", "key `window.first` is \"yesterday\", expected an RFC 3339 time in UTC" },
        { "devices.models[0].first_seen", SET_STRVAL, "2024-1-1", "expected a date YYYY-MM-DD" },
        { "inbound.changes[0].month", SET_STRVAL, "2024-13", "expected a month YYYY-MM" },
        { "outdated[0].kind", SET_STRVAL, "phone", "key `outdated[0].kind` has a value of none of its forms" },
        { "outdated[0].end_of_support", DEL, NULL, "key `outdated[0].end_of_support` missing" },
        { "devices.form_factor.mobile", SET_STR, "1", "key `devices.form_factor.mobile` is a string, expected an integer" },
        { "vendors[0].roles", DUP, NULL, "key `vendors[0].roles[1]` repeats an earlier item" },
        { "limits.hosts.cap", DEL, NULL, "key `limits.hosts.cap` missing" },
        { "limits.complete", SET_STR, "yes", "key `limits.complete` is a string, expected a boolean" },
        { "target.timezone", SET_STRVAL, "", "key `target.timezone` is empty" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *d = json_loads(j, 0, NULL);
        char last[64];
        json_t *parent = walk_to(d, rows[i].path, last, sizeof last);
        CHECK(parent != NULL);
        if (!parent) { json_decref(d); continue; }
        switch (rows[i].op) {
        case DEL: CHECK(json_object_del(parent, last) == 0); break;
        case SET_STR: json_object_set_new(parent, last, json_string(rows[i].val)); break;
        case SET_INT: json_object_set_new(parent, last, json_integer(strtoll(rows[i].val, NULL, 10))); break;
        case SET_NULL: json_object_set_new(parent, last, json_null()); break;
        case SET_STRVAL: CHECK(json_object_get(parent, last) != NULL); json_object_set_new(parent, last, json_string(rows[i].val)); break;
        case POP: { json_t *a = json_object_get(parent, last); CHECK(json_array_remove(a, json_array_size(a) - 1) == 0); break; }
        case DUP: { json_t *a = json_object_get(parent, last); json_array_append(a, json_array_get(a, 0)); break; }
        }
        char *text = json_dumps(d, 0);
        ni_error err = {0};
        json_t *r = ni_reportdoc_load(text, strlen(text), "m.json", &err);
        CHECK(r == NULL);
        CHECK_INT(err.code, NI_ERR_FORMAT);
        if (!strstr(err.msg, rows[i].msg)) printf("  row %zu: %s\n", i, err.msg);
        CHECK(strstr(err.msg, rows[i].msg) != NULL);
        CHECK(!strncmp(err.msg, "m.json: ", 8));
        json_decref(r);
        free(text);
        json_decref(d);
    }
    /* limits is optional (documents written before it existed still read) */
    json_t *d = json_loads(j, 0, NULL);
    json_object_del(d, "limits");
    char *text = json_dumps(d, 0);
    ni_error err = {0};
    json_t *r = ni_reportdoc_load(text, strlen(text), "old.json", &err);
    CHECK(r != NULL);
    json_decref(r); free(text); json_decref(d);
    free(j);
}

/* The table agrees with docs/report-schema.json on every object's keys and
 * which are required (the generator is checked byte for byte by
 * tests/schema/run; this checks the compiled table itself). */
static void agree(const json_t *schema, const json_t *defs, const json_t *node, const ni_rd_field *f, const char *path, int *bad)
{
    const json_t *ref = json_object_get(node, "$ref");
    if (ref) node = json_object_get(defs, json_string_value(ref) + strlen("#/$defs/"));
    const json_t *props = json_object_get(node, "properties"), *req = json_object_get(node, "required");
    if (props) {
        if (f->nprops != json_object_size(props)) { printf("  %s: %zu keys, schema %zu\n", path, f->nprops, json_object_size(props)); (*bad)++; }
        for (size_t i = 0; i < f->nprops; i++) {
            const json_t *p = json_object_get(props, f->props[i].name);
            int required = 0;
            for (size_t k = 0; k < json_array_size(req); k++)
                if (!strcmp(json_string_value(json_array_get(req, k)), f->props[i].name)) required = 1;
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", path, f->props[i].name);
            if (!p || required != f->props[i].required) { printf("  %s: not in the schema or required differs\n", sub); (*bad)++; continue; }
            agree(schema, defs, p, &f->props[i], sub, bad);
        }
    }
    const json_t *items = json_object_get(node, "items");
    if (items && f->items && !json_object_get(items, "oneOf")) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s[]", path);
        agree(schema, defs, items, f->items, sub, bad);
    }
}

TEST(table_agrees_with_schema)
{
    json_error_t je;
    json_t *s = json_load_file(NI_SOURCE_DATA "/../docs/report-schema.json", 0, &je);
    CHECK(s != NULL);
    if (!s) return;
    int bad = 0;
    agree(s, json_object_get(s, "$defs"), s, &ni_reportdef_root, "", &bad);
    CHECK_INT(bad, 0);
    CHECK_STR(ni_reportdef_schema, json_string_value(json_object_get(json_object_get(json_object_get(s, "properties"), "schema"), "const")));
    json_decref(s);
}

RUN(T(writer_output_passes), T(mutations_refused_naming_the_key), T(table_agrees_with_schema))
