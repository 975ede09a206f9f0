/* ni_diff.c — comparison of two report.json documents (see ni_diff.h).
 * Both documents are read through ni_reportdoc (checked against the one
 * description of report.json), so every figure read here exists.  Shares
 * are compared with a two-proportion z-test (pooled variance, two-sided);
 * every comparison of the diff is collected first, then the p-values are
 * adjusted together (Holm–Bonferroni, family-wise error rate
 * NI_DIFF_ALPHA), then JSON and Markdown are written.  Only rows whose
 * figures changed are compared and listed. */
#include "analyze/ni_diff.h"
#include "analyze/ni_reportdoc.h"
#include "core/ni_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct share_src {
    const char *section;        /* name in the diff */
    const char *path;           /* dotted path to the array (or map) in report.json */
    const char *name_key, *name2_key, *count_key;
    const char *unit;
} share_src;

static const share_src sources[] = {
    { "makers", "devices.makers", "name", NULL, "hosts", "hosts" },
    { "form_factor", "devices.form_factor", NULL, NULL, NULL, "hosts" },
    { "os", "os", "name", NULL, "hosts", "hosts" },
    { "windows_versions", "windows_versions", "name", NULL, "hosts", "hosts" },
    { "browsers", "browsers", "name", "version", "hosts", "hosts" },
    { "services", "services", "service", NULL, "hosts", "hosts" },
    { "categories", "categories", "category", NULL, "hosts", "hosts" },
    { "vpn", "vpn.by_service", "service", NULL, "hosts", "hosts" },
    { "visitor_countries", "inbound.by_country", "country", NULL, "sessions", "sessions" },
};

/* One comparison: a share k/n in each report. */
typedef struct cmp_row {
    const char *section, *unit;     /* section NULL: a visitor region; "activity": the weekday share */
    char *name;
    double k1, n1, k2, n2, z, p, adj;
} cmp_row;

typedef struct rows { cmp_row *r; size_t n, cap; int oom; } rows;

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
static double share(double k, double n) { return n > 0 ? k / n : 0; }

/* Adds a comparison when the figures changed (count or share). */
static void add_row(rows *rs, const char *section, const char *unit, const char *name,
                    double k1, double n1, double k2, double n2)
{
    if (k1 == k2 && share(k1, n1) == share(k2, n2)) return;
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 64;
        cmp_row *r = realloc(rs->r, nc * sizeof *r);
        if (!r) { rs->oom = 1; return; }
        rs->r = r; rs->cap = nc;
    }
    cmp_row *c = &rs->r[rs->n];
    if (!(c->name = strdup(name))) { rs->oom = 1; return; }
    rs->n++;
    c->section = section; c->unit = unit;
    c->k1 = k1; c->n1 = n1; c->k2 = k2; c->n2 = n2;
    ztest(k1, n1, k2, n2, &c->z, &c->p);
}

static int cmp_dbl_idx(const void *a, const void *b, void *ud)
{
    const double *p = ud;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (p[i] != p[j]) return p[i] < p[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

void ni_diff_holm(const double *p, double *adj, size_t n)
{
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    double *q = malloc((n ? n : 1) * sizeof *q);
    if (!ix || !q) {    /* no room to sort: Bonferroni, which Holm never exceeds */
        for (size_t i = 0; i < n; i++) adj[i] = fmin(1, p[i] * (double)n);
        free(ix); free(q);
        return;
    }
    for (size_t i = 0; i < n; i++) { ix[i] = i; q[i] = p[i]; }
    qsort_r(ix, n, sizeof *ix, cmp_dbl_idx, q);
    double run = 0;
    for (size_t r = 0; r < n; r++) {
        double v = fmin(1, (double)(n - r) * q[ix[r]]);
        if (v > run) run = v;
        adj[ix[r]] = run;
    }
    free(ix); free(q);
}

/* name → count for one section of one report, in a json object (owned). */
static json_t *counts(const json_t *r, const share_src *s, double *total)
{
    json_t *m = json_object();
    const json_t *a = ni_reportdoc_get(r, s->path);
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
        char key[512];
        const char *n2 = s->name2_key ? json_string_value(json_object_get(o, s->name2_key)) : NULL;
        snprintf(key, sizeof key, "%s%s%s", n, n2 ? " " : "", n2 ? n2 : "");
        json_int_t c = json_integer_value(json_object_get(o, s->count_key));
        json_object_set_new(m, key, json_integer(c + json_integer_value(json_object_get(m, key))));
        *total += (double)c;
    }
    return m;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted union of the keys of two objects (caller frees the array only). */
static const char **union_keys(const json_t *a, const json_t *b, size_t *n)
{
    const char **names = calloc(json_object_size(a) + json_object_size(b) + 1, sizeof *names);
    size_t cnt = 0;
    const char *k; json_t *v;
    if (names) {
        json_object_foreach((json_t *)a, k, v) names[cnt++] = k;
        json_object_foreach((json_t *)b, k, v) if (!json_object_get(a, k)) names[cnt++] = k;
        qsort(names, cnt, sizeof *names, cmp_str);
    }
    *n = cnt;
    return names;
}

static void peak_list(ni_buf *b, const json_t *peaks)
{
    for (size_t i = 0; i < json_array_size(peaks); i++)
        ni_buf_printf(b, "%s%02d:00", i ? ", " : "", (int)json_integer_value(json_array_get(peaks, i)));
    if (!json_array_size(peaks)) ni_buf_adds(b, "none");
}

static void int_array(ni_json *j, const char *key, const json_t *a)
{
    ni_json_key(j, key);
    ni_json_arr_begin(j);
    for (size_t i = 0; i < json_array_size(a); i++) ni_json_int(j, json_integer_value(json_array_get(a, i)));
    ni_json_arr_end(j);
}

static void j_test(ni_json *j, const cmp_row *c)
{
    ni_json_kdouble(j, "z", r4(c->z));
    ni_json_kdouble(j, "p", r4(c->p));
    ni_json_kdouble(j, "p_holm", r4(c->adj));
    ni_json_kbool(j, "significant", c->adj < NI_DIFF_ALPHA);
}

static const char *verdict(const cmp_row *c) { return c->adj < NI_DIFF_ALPHA ? "yes" : "no"; }

ni_err ni_diff_reports(const char *old_json, const char *old_name, const char *new_json,
                       const char *new_name, bool *changed, ni_buf *jout, ni_buf *md, ni_error *err)
{
    json_t *o = ni_reportdoc_load(old_json, strlen(old_json), old_name, err);
    if (!o) return NI_ERR_FORMAT;
    json_t *n = ni_reportdoc_load(new_json, strlen(new_json), new_name, err);
    if (!n) { json_decref(o); return NI_ERR_FORMAT; }
    const json_t *docs[2] = { o, n };

    /* same figures: every section but the labels target and window */
    json_t *sec_changed = json_array();
    const char *k; json_t *v;
    json_object_foreach(o, k, v) {
        if (!strcmp(k, "target") || !strcmp(k, "window")) continue;
        if (!json_equal(v, json_object_get(n, k))) json_array_append_new(sec_changed, json_string(k));
    }
    json_object_foreach(n, k, v)
        if (!json_object_get(o, k)) json_array_append_new(sec_changed, json_string(k));
    *changed = json_array_size(sec_changed) > 0;

    /* ---- every comparison, before any output */
    rows rs = {0};
    double wk[2] = {0, 0}, tot[2] = {0, 0};
    for (int r = 0; r < 2; r++) {
        const json_t *bw = ni_reportdoc_get(docs[r], "activity.by_weekday");
        for (size_t d = 0; d < 7; d++) {
            double x = (double)json_integer_value(json_array_get(bw, d));
            tot[r] += x;
            if (d < 5) wk[r] += x;
        }
    }
    add_row(&rs, "activity", "sessions", "weekday share", wk[0], tot[0], wk[1], tot[1]);
    json_t *gained = json_array(), *lost = json_array();
    for (size_t si = 0; si < sizeof sources / sizeof sources[0]; si++) {
        const share_src *s = &sources[si];
        double n1, n2;
        json_t *c1 = counts(o, s, &n1), *c2 = counts(n, s, &n2);
        size_t cnt;
        const char **names = union_keys(c1, c2, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            double k1 = (double)json_integer_value(json_object_get(c1, names[i]));
            double k2 = (double)json_integer_value(json_object_get(c2, names[i]));
            if (k1 == 0 && k2 > 0)
                json_array_append_new(gained, json_pack("{s:s,s:s,s:s,s:f}", "section", s->section, "name", names[i], "unit", s->unit, s->unit, k2));
            else if (k2 == 0 && k1 > 0)
                json_array_append_new(lost, json_pack("{s:s,s:s,s:s,s:f}", "section", s->section, "name", names[i], "unit", s->unit, s->unit, k1));
            add_row(&rs, s->section, s->unit, names[i], k1, n1, k2, n2);
        }
        free(names);
        json_decref(c1); json_decref(c2);
    }
    /* visitors by region: totals per region over the window */
    json_t *reg[2] = { json_object(), json_object() };
    double rt[2] = {0, 0};
    for (int r = 0; r < 2; r++) {
        const json_t *a = ni_reportdoc_get(docs[r], "inbound.by_region_month");
        for (size_t i = 0; i < json_array_size(a); i++) {
            const json_t *e = json_array_get(a, i);
            const char *rg = json_string_value(json_object_get(e, "region"));
            double c = (double)json_integer_value(json_object_get(e, "sessions"));
            json_object_set_new(reg[r], rg, json_real(json_number_value(json_object_get(reg[r], rg)) + c));
            rt[r] += c;
        }
    }
    size_t first_region = rs.n, cnt;
    const char **names = union_keys(reg[0], reg[1], &cnt);
    for (size_t i = 0; i < cnt; i++)
        add_row(&rs, NULL, "sessions", names[i], json_number_value(json_object_get(reg[0], names[i])), rt[0],
                json_number_value(json_object_get(reg[1], names[i])), rt[1]);
    free(names);
    json_decref(reg[0]); json_decref(reg[1]);

    double *p = malloc((rs.n + 1) * sizeof *p);
    if (!p) rs.oom = 1;
    for (size_t i = 0; p && i < rs.n; i++) p[i] = rs.r[i].p;
    if (p) ni_diff_holm(p, p, rs.n);
    for (size_t i = 0; p && i < rs.n; i++) rs.r[i].adj = p[i];
    free(p);

    /* ---- JSON */
    ni_json jj, *j = &jj;
    ni_json_init(j, jout, 2);
    ni_json_obj_begin(j);
    ni_json_kstr(j, "schema", "netintel.diff/2");
    ni_json_kstr(j, "old", old_name);
    ni_json_kstr(j, "new", new_name);
    ni_json_kbool(j, "changed", *changed);
    ni_json_key(j, "sections_changed"); ni_json_arr_begin(j);
    for (size_t i = 0; i < json_array_size(sec_changed); i++) ni_json_str(j, json_string_value(json_array_get(sec_changed, i)));
    ni_json_arr_end(j);
    ni_json_kstr(j, "test", "two-proportion z-test, two-sided");
    ni_json_kstr(j, "correction", "holm");
    ni_json_kuint(j, "comparisons", rs.n);
    ni_json_kdouble(j, "alpha", NI_DIFF_ALPHA);
    const cmp_row *wrow = rs.n && rs.r[0].section && !strcmp(rs.r[0].section, "activity") ? &rs.r[0] : NULL;
    ni_json_key(j, "activity"); ni_json_obj_begin(j);
    int_array(j, "old_peak_hours", ni_reportdoc_get(o, "activity.peak_hours"));
    int_array(j, "new_peak_hours", ni_reportdoc_get(n, "activity.peak_hours"));
    ni_json_key(j, "weekday_share"); ni_json_obj_begin(j);
    ni_json_kdouble(j, "old", r4(share(wk[0], tot[0])));
    ni_json_kdouble(j, "new", r4(share(wk[1], tot[1])));
    ni_json_kdouble(j, "old_n", tot[0]);
    ni_json_kdouble(j, "new_n", tot[1]);
    ni_json_kbool(j, "tested", wrow != NULL);
    if (wrow) j_test(j, wrow);
    ni_json_obj_end(j);
    ni_json_obj_end(j);
    ni_json_key(j, "shares"); ni_json_arr_begin(j);
    for (size_t i = wrow ? 1 : 0; i < first_region; i++) {
        const cmp_row *c = &rs.r[i];
        double s1 = share(c->k1, c->n1), s2 = share(c->k2, c->n2);
        ni_json_obj_begin(j);
        ni_json_kstr(j, "section", c->section);
        ni_json_kstr(j, "name", c->name);
        ni_json_kstr(j, "unit", c->unit);
        ni_json_kdouble(j, "old", c->k1);
        ni_json_kdouble(j, "new", c->k2);
        ni_json_kdouble(j, "old_n", c->n1);
        ni_json_kdouble(j, "new_n", c->n2);
        ni_json_kdouble(j, "old_share", r4(s1));
        ni_json_kdouble(j, "new_share", r4(s2));
        ni_json_kdouble(j, "change", r4(s2 - s1));
        j_test(j, c);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    const char *titles[2] = { "gained", "lost" };
    json_t *lists[2] = { gained, lost };
    for (int l = 0; l < 2; l++) {
        ni_json_key(j, titles[l]); ni_json_arr_begin(j);
        for (size_t i = 0; i < json_array_size(lists[l]); i++) {
            const json_t *e = json_array_get(lists[l], i);
            const char *unit = json_string_value(json_object_get(e, "unit"));
            ni_json_obj_begin(j);
            ni_json_kstr(j, "section", json_string_value(json_object_get(e, "section")));
            ni_json_kstr(j, "name", json_string_value(json_object_get(e, "name")));
            ni_json_kdouble(j, unit, json_number_value(json_object_get(e, unit)));
            ni_json_obj_end(j);
        }
        ni_json_arr_end(j);
    }
    ni_json_key(j, "visitor_regions"); ni_json_arr_begin(j);
    for (size_t i = first_region; i < rs.n; i++) {
        const cmp_row *c = &rs.r[i];
        ni_json_obj_begin(j);
        ni_json_kstr(j, "region", c->name);
        ni_json_kdouble(j, "old_sessions", c->k1);
        ni_json_kdouble(j, "new_sessions", c->k2);
        ni_json_kdouble(j, "old_share", r4(share(c->k1, c->n1)));
        ni_json_kdouble(j, "new_share", r4(share(c->k2, c->n2)));
        j_test(j, c);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    ni_json_obj_end(j);
    ni_buf_addc(jout, '\n');

    /* ---- Markdown */
    ni_buf_printf(md, "# What changed\n\nOld: `%s` — new: `%s`.\n\n", old_name, new_name);
    if (!*changed) {
        ni_buf_adds(md, "No change: the two reports carry the same figures (every section but target and window is equal).\n");
    } else {
        ni_buf_adds(md, "Sections whose figures differ: ");
        for (size_t i = 0; i < json_array_size(sec_changed); i++)
            ni_buf_printf(md, "%s%s", i ? ", " : "", json_string_value(json_array_get(sec_changed, i)));
        ni_buf_printf(md, ".\n\nOnly changed rows are listed.  Each changed share is tested with a two-sided "
                      "two-proportion z-test: p is the probability of a difference at least this large if both "
                      "reports were samples of the same population (it is not the probability that the change is "
                      "real).  p (Holm) is p adjusted for the %zu comparisons of this diff (Holm–Bonferroni); "
                      "\"significant\" = p (Holm) < %.2f.\n\n", rs.n, NI_DIFF_ALPHA);
        ni_buf_adds(md, "## Activity\n\n| | old | new |\n|---|---|---|\n| peak hours (local) | ");
        peak_list(md, ni_reportdoc_get(o, "activity.peak_hours"));
        ni_buf_adds(md, " | ");
        peak_list(md, ni_reportdoc_get(n, "activity.peak_hours"));
        ni_buf_printf(md, " |\n| sessions on Monday–Friday | %.1f%% of %.0f | %.1f%% of %.0f |\n\n",
                      100 * share(wk[0], tot[0]), tot[0], 100 * share(wk[1], tot[1]), tot[1]);
        if (wrow)
            ni_buf_printf(md, "Change in the weekday share: %+.1f points, z = %.2f, p = %.4f, p (Holm) = %.4f, "
                          "significant: %s.\n\n", 100 * (share(wk[1], tot[1]) - share(wk[0], tot[0])), wrow->z,
                          wrow->p, wrow->adj, verdict(wrow));
        else ni_buf_adds(md, "The weekday share did not change.\n\n");
        ni_buf_adds(md, "## Shares\n\n");
        if (first_region == (wrow ? 1u : 0u)) ni_buf_adds(md, "No share changed.\n\n");
        else {
            ni_buf_adds(md, "| section | item | old | new | change (points) | p | p (Holm) | significant |\n"
                            "|---|---|---|---|---|---|---|---|\n");
            for (size_t i = wrow ? 1 : 0; i < first_region; i++) {
                const cmp_row *c = &rs.r[i];
                double s1 = share(c->k1, c->n1), s2 = share(c->k2, c->n2);
                ni_buf_printf(md, "| %s | %s | %.1f%% (%.0f/%.0f) | %.1f%% (%.0f/%.0f) | %+.1f | %.4f | %.4f | %s |\n",
                              c->section, c->name, 100 * s1, c->k1, c->n1, 100 * s2, c->k2, c->n2, 100 * (s2 - s1),
                              c->p, c->adj, verdict(c));
            }
            ni_buf_adds(md, "\n");
        }
        for (int l = 0; l < 2; l++) {
            ni_buf_printf(md, "## %s\n\n", l == 0 ? "Gained (absent before)" : "Lost (absent now)");
            size_t cntl = json_array_size(lists[l]);
            for (size_t i = 0; i < cntl; i++) {
                const json_t *e = json_array_get(lists[l], i);
                const char *unit = json_string_value(json_object_get(e, "unit"));
                ni_buf_printf(md, "- %s: %s (%.0f %s)\n", json_string_value(json_object_get(e, "section")),
                              json_string_value(json_object_get(e, "name")), json_number_value(json_object_get(e, unit)), unit);
            }
            if (!cntl) ni_buf_adds(md, "- none\n");
            ni_buf_adds(md, "\n");
        }
        ni_buf_adds(md, "## Visitors by region\n\n");
        if (first_region == rs.n) ni_buf_adds(md, "No region's share of inbound sessions changed.\n");
        else {
            ni_buf_adds(md, "| region | old | new | change (points) | p | p (Holm) | significant |\n|---|---|---|---|---|---|---|\n");
            for (size_t i = first_region; i < rs.n; i++) {
                const cmp_row *c = &rs.r[i];
                double s1 = share(c->k1, c->n1), s2 = share(c->k2, c->n2);
                ni_buf_printf(md, "| %s | %.1f%% (%.0f) | %.1f%% (%.0f) | %+.1f | %.4f | %.4f | %s |\n", c->name, 100 * s1,
                              c->k1, 100 * s2, c->k2, 100 * (s2 - s1), c->p, c->adj, verdict(c));
            }
        }
    }

    for (size_t i = 0; i < rs.n; i++) free(rs.r[i].name);
    free(rs.r);
    json_decref(gained); json_decref(lost); json_decref(sec_changed);
    json_decref(o); json_decref(n);
    if (rs.oom) return ni_error_set(err, NI_ERR_NOMEM, "diff: out of memory");
    if (jout->err || md->err) return ni_error_set(err, NI_ERR_LIMIT, "diff: output too large");
    return NI_OK;
}
