/* ni_diff.c — comparison of two report.json documents (see ni_diff.h).
 * Shares are compared with a two-proportion z-test (pooled variance); the
 * wording of significance follows the p-value: < 0.001 almost certain,
 * < 0.01 very likely, < 0.05 likely, < 0.20 roughly even chance, else
 * unlikely (that the change is real rather than sampling noise). */
#include "analyze/ni_diff.h"
#include "core/ni_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct share_src {
    const char *section;        /* name in the diff */
    const char *path[2];        /* object path to the array in report.json */
    const char *name_key, *name2_key, *count_key;
    const char *unit;
} share_src;

static const share_src sources[] = {
    { "makers", { "devices", "makers" }, "name", NULL, "hosts", "hosts" },
    { "form_factor", { "devices", "form_factor" }, NULL, NULL, NULL, "hosts" },
    { "os", { "os", NULL }, "name", NULL, "hosts", "hosts" },
    { "windows_versions", { "windows_versions", NULL }, "name", NULL, "hosts", "hosts" },
    { "browsers", { "browsers", NULL }, "name", "version", "hosts", "hosts" },
    { "services", { "services", NULL }, "service", NULL, "hosts", "hosts" },
    { "categories", { "categories", NULL }, "category", NULL, "hosts", "hosts" },
    { "vpn", { "vpn", "by_service" }, "service", NULL, "hosts", "hosts" },
    { "visitor_countries", { "inbound", "by_country" }, "country", NULL, "sessions", "sessions" },
};

static const json_t *at_path(const json_t *r, const char *const path[2])
{
    const json_t *v = json_object_get(r, path[0]);
    return path[1] ? json_object_get(v, path[1]) : v;
}

static const char *significance(double p)
{
    if (p < 0.001) return "almost certain";
    if (p < 0.01) return "very likely";
    if (p < 0.05) return "likely";
    if (p < 0.20) return "roughly even chance";
    return "unlikely";
}

static void ztest(double k1, double n1, double k2, double n2, double *z, double *p)
{
    *z = 0; *p = 1;
    if (n1 <= 0 || n2 <= 0) return;
    double pp = (k1 + k2) / (n1 + n2), se = sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2));
    if (se <= 0) return;
    *z = (k2 / n2 - k1 / n1) / se;
    *p = erfc(fabs(*z) / sqrt(2.0));
}

static double r4(double v) { return floor(v * 10000 + 0.5) / 10000; }

/* name → count for one section of one report, in a json object (owned). */
static json_t *counts(const json_t *r, const share_src *s, double *total)
{
    json_t *m = json_object();
    const json_t *a = at_path(r, s->path);
    *total = 0;
    if (json_is_object(a)) { /* form_factor: {"mobile": n, ...} */
        const char *k; json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            json_object_set_new(m, k, json_integer(json_integer_value(v)));
            *total += (double)json_integer_value(v);
        }
        return m;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        const char *n = json_string_value(json_object_get(o, s->name_key));
        if (!n) continue;
        char key[256];
        const char *n2 = s->name2_key ? json_string_value(json_object_get(o, s->name2_key)) : NULL;
        snprintf(key, sizeof key, "%s%s%s", n, n2 ? " " : "", n2 ? n2 : "");
        json_int_t c = json_integer_value(json_object_get(o, s->count_key));
        json_object_set_new(m, key, json_integer(c));
        *total += (double)c;
    }
    return m;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void peak_list(ni_buf *b, const json_t *peaks)
{
    for (size_t i = 0; i < json_array_size(peaks); i++)
        ni_buf_printf(b, "%s%02d:00", i ? ", " : "", (int)json_integer_value(json_array_get(peaks, i)));
    if (!json_array_size(peaks)) ni_buf_adds(b, "none");
}

ni_err ni_diff_reports(const char *old_json, const char *old_name, const char *new_json,
                       const char *new_name, ni_buf *jout, ni_buf *md, ni_error *err)
{
    json_error_t je;
    json_t *o = json_loads(old_json, 0, &je);
    if (!o) return ni_error_set(err, NI_ERR_FORMAT, "%s: line %d: %s", old_name, je.line, je.text);
    json_t *n = json_loads(new_json, 0, &je);
    if (!n) { json_decref(o); return ni_error_set(err, NI_ERR_FORMAT, "%s: line %d: %s", new_name, je.line, je.text); }
    const char *so = json_string_value(json_object_get(o, "schema")), *sn = json_string_value(json_object_get(n, "schema"));
    if (!so || strncmp(so, "netintel.profile/", 17) || !sn || strncmp(sn, "netintel.profile/", 17)) {
        const char *bad = (!so || strncmp(so, "netintel.profile/", 17)) ? old_name : new_name;
        json_decref(o); json_decref(n);
        return ni_error_set(err, NI_ERR_FORMAT, "%s: not a netintel.profile report", bad);
    }

    ni_json jj, *j = &jj;
    ni_json_init(j, jout, 2);
    ni_json_obj_begin(j);
    ni_json_kstr(j, "schema", "netintel.diff/1");
    ni_json_kstr(j, "old", old_name);
    ni_json_kstr(j, "new", new_name);
    ni_buf_printf(md, "# What changed\n\nOld: `%s` — new: `%s`. Significance is the two-proportion z-test's p-value "
                  "worded as how likely the change is real: < 0.001 almost certain, < 0.01 very likely, < 0.05 likely, "
                  "< 0.20 roughly even chance, else unlikely.\n\n", old_name, new_name);

    /* activity */
    const json_t *ao = json_object_get(o, "activity"), *an = json_object_get(n, "activity");
    double wk[2] = {0, 0}, tot[2] = {0, 0};
    const json_t *acts[2] = { ao, an };
    for (int r = 0; r < 2; r++) {
        const json_t *bw = json_object_get(acts[r], "by_weekday");
        for (size_t d = 0; d < 7; d++) {
            double v = json_number_value(json_array_get(bw, d));
            tot[r] += v;
            if (d < 5) wk[r] += v;
        }
    }
    double z, p;
    ztest(wk[0], tot[0], wk[1], tot[1], &z, &p);
    ni_json_key(j, "activity"); ni_json_obj_begin(j);
    ni_json_key(j, "old_peak_hours"); json_t *po = json_object_get(ao, "peak_hours");
    ni_json_arr_begin(j); for (size_t i = 0; i < json_array_size(po); i++) ni_json_int(j, json_integer_value(json_array_get(po, i))); ni_json_arr_end(j);
    ni_json_key(j, "new_peak_hours"); json_t *pn = json_object_get(an, "peak_hours");
    ni_json_arr_begin(j); for (size_t i = 0; i < json_array_size(pn); i++) ni_json_int(j, json_integer_value(json_array_get(pn, i))); ni_json_arr_end(j);
    ni_json_key(j, "weekday_share"); ni_json_obj_begin(j);
    ni_json_kdouble(j, "old", r4(tot[0] ? wk[0] / tot[0] : 0));
    ni_json_kdouble(j, "new", r4(tot[1] ? wk[1] / tot[1] : 0));
    ni_json_kdouble(j, "old_n", tot[0]);
    ni_json_kdouble(j, "new_n", tot[1]);
    ni_json_kdouble(j, "z", r4(z));
    ni_json_kdouble(j, "p", r4(p));
    ni_json_kstr(j, "significance", significance(p));
    ni_json_obj_end(j);
    ni_json_obj_end(j);
    ni_buf pk; ni_buf_init(&pk, 1024);
    ni_buf_adds(md, "## Activity\n\n| | old | new |\n|---|---|---|\n| peak hours (local) | ");
    peak_list(md, po);
    ni_buf_adds(md, " | ");
    peak_list(md, pn);
    ni_buf_printf(md, " |\n| sessions on Monday–Friday | %.1f%% of %.0f | %.1f%% of %.0f |\n\n"
                  "Change in the weekday share: %+.1f points, z = %.2f, p = %.4f (%s).\n\n",
                  tot[0] ? 100 * wk[0] / tot[0] : 0, tot[0], tot[1] ? 100 * wk[1] / tot[1] : 0, tot[1],
                  (tot[1] ? 100 * wk[1] / tot[1] : 0) - (tot[0] ? 100 * wk[0] / tot[0] : 0), z, p, significance(p));
    ni_buf_release(&pk);

    /* shares */
    ni_json_key(j, "shares"); ni_json_arr_begin(j);
    json_t *gained = json_array(), *lost = json_array();
    ni_buf_adds(md, "## Shares\n\n| section | item | old | new | change (points) | p | significance |\n|---|---|---|---|---|---|---|\n");
    for (size_t si = 0; si < sizeof sources / sizeof sources[0]; si++) {
        const share_src *s = &sources[si];
        double n1, n2;
        json_t *c1 = counts(o, s, &n1), *c2 = counts(n, s, &n2);
        /* union of names, sorted */
        size_t cap = json_object_size(c1) + json_object_size(c2), cnt = 0;
        char **names = calloc(cap + 1, sizeof *names);
        const char *k; json_t *v;
        json_object_foreach(c1, k, v) names[cnt++] = (char *)k;
        json_object_foreach(c2, k, v) if (!json_object_get(c1, k)) names[cnt++] = (char *)k;
        qsort(names, cnt, sizeof *names, cmp_str);
        for (size_t i = 0; i < cnt; i++) {
            double k1 = (double)json_integer_value(json_object_get(c1, names[i]));
            double k2 = (double)json_integer_value(json_object_get(c2, names[i]));
            if (k1 == 0 && k2 > 0) {
                json_array_append_new(gained, json_pack("{s:s,s:s,s:f}", "section", s->section, "name", names[i], s->unit, k2));
            } else if (k2 == 0 && k1 > 0) {
                json_array_append_new(lost, json_pack("{s:s,s:s,s:f}", "section", s->section, "name", names[i], s->unit, k1));
            }
            ztest(k1, n1, k2, n2, &z, &p);
            double s1 = n1 ? k1 / n1 : 0, s2 = n2 ? k2 / n2 : 0;
            ni_json_obj_begin(j);
            ni_json_kstr(j, "section", s->section);
            ni_json_kstr(j, "name", names[i]);
            ni_json_kstr(j, "unit", s->unit);
            ni_json_kdouble(j, "old", k1);
            ni_json_kdouble(j, "new", k2);
            ni_json_kdouble(j, "old_n", n1);
            ni_json_kdouble(j, "new_n", n2);
            ni_json_kdouble(j, "old_share", r4(s1));
            ni_json_kdouble(j, "new_share", r4(s2));
            ni_json_kdouble(j, "change", r4(s2 - s1));
            ni_json_kdouble(j, "z", r4(z));
            ni_json_kdouble(j, "p", r4(p));
            ni_json_kstr(j, "significance", significance(p));
            ni_json_obj_end(j);
            ni_buf_printf(md, "| %s | %s | %.1f%% (%.0f/%.0f) | %.1f%% (%.0f/%.0f) | %+.1f | %.4f | %s |\n", s->section,
                          names[i], 100 * s1, k1, n1, 100 * s2, k2, n2, 100 * (s2 - s1), p, significance(p));
        }
        free(names);
        json_decref(c1); json_decref(c2);
    }
    ni_json_arr_end(j);
    ni_buf_adds(md, "\n");

    /* gained / lost: written from the JSON arrays built above */
    const char *titles[2] = { "gained", "lost" };
    json_t *lists[2] = { gained, lost };
    for (int l = 0; l < 2; l++) {
        ni_json_key(j, titles[l]); ni_json_arr_begin(j);
        ni_buf_printf(md, "## %s\n\n", l == 0 ? "Gained (absent before)" : "Lost (absent now)");
        size_t cntl = json_array_size(lists[l]);
        for (size_t i = 0; i < cntl; i++) {
            const json_t *e = json_array_get(lists[l], i);
            const char *sec = json_string_value(json_object_get(e, "section"));
            const char *nm = json_string_value(json_object_get(e, "name"));
            const char *unit = json_object_get(e, "hosts") ? "hosts" : "sessions";
            double c = json_number_value(json_object_get(e, unit));
            ni_json_obj_begin(j);
            ni_json_kstr(j, "section", sec);
            ni_json_kstr(j, "name", nm);
            ni_json_kdouble(j, unit, c);
            ni_json_obj_end(j);
            ni_buf_printf(md, "- %s: %s (%.0f %s)\n", sec, nm, c, unit);
        }
        if (!cntl) ni_buf_adds(md, "- none\n");
        ni_buf_adds(md, "\n");
        ni_json_arr_end(j);
    }
    json_decref(gained); json_decref(lost);

    /* visitors by region: totals per region over the window */
    ni_json_key(j, "visitor_regions"); ni_json_arr_begin(j);
    ni_buf_adds(md, "## Visitors by region\n\n| region | old | new | change (points) | p | significance |\n|---|---|---|---|---|---|\n");
    json_t *reg[2] = { json_object(), json_object() };
    double rt[2] = {0, 0};
    const json_t *docs[2] = { o, n };
    for (int r = 0; r < 2; r++) {
        const json_t *a = json_object_get(json_object_get(docs[r], "inbound"), "by_region_month");
        for (size_t i = 0; i < json_array_size(a); i++) {
            const json_t *e = json_array_get(a, i);
            const char *rg = json_string_value(json_object_get(e, "region"));
            if (!rg) continue;
            double c = json_number_value(json_object_get(e, "sessions"));
            json_object_set_new(reg[r], rg, json_real(json_number_value(json_object_get(reg[r], rg)) + c));
            rt[r] += c;
        }
    }
    {
        size_t cap = json_object_size(reg[0]) + json_object_size(reg[1]), cnt = 0;
        char **names = calloc(cap + 1, sizeof *names);
        const char *k; json_t *v;
        json_object_foreach(reg[0], k, v) names[cnt++] = (char *)k;
        json_object_foreach(reg[1], k, v) if (!json_object_get(reg[0], k)) names[cnt++] = (char *)k;
        qsort(names, cnt, sizeof *names, cmp_str);
        for (size_t i = 0; i < cnt; i++) {
            double k1 = json_number_value(json_object_get(reg[0], names[i]));
            double k2 = json_number_value(json_object_get(reg[1], names[i]));
            ztest(k1, rt[0], k2, rt[1], &z, &p);
            double s1 = rt[0] ? k1 / rt[0] : 0, s2 = rt[1] ? k2 / rt[1] : 0;
            ni_json_obj_begin(j);
            ni_json_kstr(j, "region", names[i]);
            ni_json_kdouble(j, "old_sessions", k1);
            ni_json_kdouble(j, "new_sessions", k2);
            ni_json_kdouble(j, "old_share", r4(s1));
            ni_json_kdouble(j, "new_share", r4(s2));
            ni_json_kdouble(j, "p", r4(p));
            ni_json_kstr(j, "significance", significance(p));
            ni_json_obj_end(j);
            ni_buf_printf(md, "| %s | %.1f%% (%.0f) | %.1f%% (%.0f) | %+.1f | %.4f | %s |\n", names[i], 100 * s1, k1,
                          100 * s2, k2, 100 * (s2 - s1), p, significance(p));
        }
        free(names);
    }
    json_decref(reg[0]); json_decref(reg[1]);
    ni_json_arr_end(j);
    ni_json_obj_end(j);
    ni_buf_addc(jout, '\n');
    json_decref(o); json_decref(n);
    if (jout->err || md->err) return ni_error_set(err, NI_ERR_LIMIT, "diff: output too large");
    return NI_OK;
}
