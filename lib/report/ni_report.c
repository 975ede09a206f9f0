/* ni_report.c — HTML and Markdown views of report.json (see ni_report.h).
 * One walk over the document drives both: each section emits headings,
 * paragraphs, a figure (an SVG chart, HTML only) and a table through a small
 * writer that knows the output mode, so both files always carry the same
 * figures, units and sample sizes. */
#include "report/ni_report.h"
#include "report/ni_svg.h"
#include "analyze/ni_reportdoc.h"
#include "core/ni_limits.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NI_REPORT_ROWS_MAX 50   /* rows shown per table (the JSON has all) */
#define NI_REPORT_BARS_MAX 15   /* bars per horizontal bar chart */
#define NI_REPORT_GRAPH_HOSTS_MAX 31      /* hosts in the hosts-to-providers figure */
#define NI_REPORT_GRAPH_PROVIDERS_MAX 35  /* providers in it (the study's figure: 31 hosts, 35 services) */

typedef struct doc {
    ni_buf *out;
    int html;
    int fig;        /* figures numbered so far */
} doc;

/* A JSON number as a double that every later cast can hold: non-finite
 * values become 0 and magnitudes are capped at 1e15 (report.json may come
 * from anywhere: `netintel report` renders what it is given). */
static double jv(const json_t *v)
{
    double d = json_number_value(v);
    if (!isfinite(d)) return 0;
    if (d > 1e15) return 1e15;
    if (d < -1e15) return -1e15;
    return d;
}

/* ---- small JSON accessors ---------------------------------------------- */
static const char *js(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
static double jnum(const json_t *o, const char *k) { return jv(json_object_get(o, k)); }
static json_int_t ji(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : (json_int_t)jv(v);
}

/* ---- writer ------------------------------------------------------------ */
static void text(doc *d, const char *s)
{
    if (d->html) { ni_svg_escape(d->out, s); return; }
    for (; s && *s; s++) {  /* Markdown: escape table and emphasis characters */
        if (strchr("|*_`[]<>\\", *s)) ni_buf_addc(d->out, '\\');
        ni_buf_addc(d->out, *s == '\n' ? ' ' : *s);
    }
}

static void heading(doc *d, int level, const char *id, const char *s)
{
    if (d->html) {
        ni_buf_printf(d->out, "<h%d id=\"%s\">", level, id);
        text(d, s);
        ni_buf_printf(d->out, "</h%d>\n", level);
    } else {
        for (int i = 0; i < level; i++) ni_buf_addc(d->out, '#');
        ni_buf_addc(d->out, ' ');
        text(d, s);
        ni_buf_adds(d->out, "\n\n");
    }
}

static void para(doc *d, const char *s)
{
    if (d->html) { ni_buf_adds(d->out, "<p>"); text(d, s); ni_buf_adds(d->out, "</p>\n"); }
    else { text(d, s); ni_buf_adds(d->out, "\n\n"); }
}

static void fig_begin(doc *d, const char *id, const char *caption)
{
    if (d->html) {
        ni_buf_printf(d->out, "<figure id=\"%s\" class=\"fig\"><figcaption><b>Figure %d.</b> ", id, ++d->fig);
        text(d, caption);
        ni_buf_adds(d->out, "</figcaption>\n");
    } else {
        ni_buf_printf(d->out, "*Figure %d. ", ++d->fig);
        text(d, caption);
        ni_buf_adds(d->out, "*\n\n");
    }
}

static void fig_end(doc *d) { if (d->html) ni_buf_adds(d->out, "</figure>\n"); }

/* A note the reader must not miss: bold lead-in, then the text. */
static void note(doc *d, const char *lead, const char *s)
{
    if (d->html) { ni_buf_adds(d->out, "<p class=\"note\"><strong>"); text(d, lead); ni_buf_adds(d->out, "</strong> "); }
    else { ni_buf_adds(d->out, "**"); text(d, lead); ni_buf_adds(d->out, "** "); }
    text(d, s);
    ni_buf_adds(d->out, d->html ? "</p>\n" : "\n\n");
}

/* An SVG chart sits in a wrapper that scrolls sideways on narrow screens. */
static void chart_begin(doc *d) { ni_buf_adds(d->out, "<div class=\"cw\">"); }
static void chart_end(doc *d) { ni_buf_adds(d->out, "</div>\n"); }

typedef struct table {
    const char *const *head;
    size_t cols;
    char **cells;   /* rows × cols, owned */
    size_t rows, cap;
} table;

static void t_rowv(table *t, const char *const *cells)
{
    if (t->rows >= NI_REPORT_ROWS_MAX) return;
    if (t->rows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, nc * t->cols * sizeof *c);
        if (!c) return;
        t->cells = c; t->cap = nc;
    }
    for (size_t i = 0; i < t->cols; i++) t->cells[t->rows * t->cols + i] = strdup(cells[i] ? cells[i] : "");
    t->rows++;
}

static void t_row(table *t, ...)
{
    const char *cells[32] = {0};
    va_list ap;
    va_start(ap, t);
    for (size_t i = 0; i < t->cols && i < 32; i++) cells[i] = va_arg(ap, const char *);
    va_end(ap);
    t_rowv(t, cells);
}

/* A cell holding a number ("1,234", "-80", "12.5%") is right-aligned. */
static int numeric(const char *s)
{
    if (!s || !*s) return 0;
    if (*s == '-') s++;
    if (*s < '0' || *s > '9') return 0;
    for (; *s; s++) if (!strchr("0123456789,.%", *s)) return 0;
    return 1;
}

static void t_emit(doc *d, table *t)
{
    if (d->html) {
        /* a column whose cells are all numbers (or "-") is right-aligned, heading included */
        unsigned char isnum[64] = {0};
        for (size_t i = 0; i < t->cols && i < sizeof isnum; i++) {
            isnum[i] = t->rows > 0;
            for (size_t r = 0; r < t->rows && isnum[i]; r++) {
                const char *c = t->cells[r * t->cols + i];
                if (!numeric(c) && strcmp(c, "-")) isnum[i] = 0;
            }
        }
        ni_buf_printf(d->out, "<div class=\"tw\"><table%s><thead><tr>", t->cols > 12 ? " class=\"wide\"" : "");
        for (size_t i = 0; i < t->cols; i++) {
            /* a column of numbers has its heading aligned with them */
            ni_buf_adds(d->out, i < sizeof isnum && isnum[i] ? "<th class=\"n\">" : "<th>");
            text(d, t->head[i]);
            ni_buf_adds(d->out, "</th>");
        }
        ni_buf_adds(d->out, "</tr></thead><tbody>\n");
        for (size_t r = 0; r < t->rows; r++) {
            ni_buf_adds(d->out, "<tr>");
            for (size_t i = 0; i < t->cols; i++) {
                const char *c = t->cells[r * t->cols + i];
                ni_buf_adds(d->out, i < sizeof isnum && isnum[i] ? "<td class=\"n\">" : "<td>");
                text(d, c);
                ni_buf_adds(d->out, "</td>");
            }
            ni_buf_adds(d->out, "</tr>\n");
        }
        if (!t->rows) ni_buf_printf(d->out, "<tr><td colspan=\"%zu\">(none observed)</td></tr>\n", t->cols);
        ni_buf_adds(d->out, "</tbody></table></div>\n");
    } else {
        ni_buf_adds(d->out, "|");
        for (size_t i = 0; i < t->cols; i++) { ni_buf_adds(d->out, " "); text(d, t->head[i]); ni_buf_adds(d->out, " |"); }
        ni_buf_adds(d->out, "\n|");
        for (size_t i = 0; i < t->cols; i++) ni_buf_adds(d->out, "---|");
        ni_buf_adds(d->out, "\n");
        for (size_t r = 0; r < t->rows; r++) {
            ni_buf_adds(d->out, "|");
            for (size_t i = 0; i < t->cols; i++) { ni_buf_adds(d->out, " "); text(d, t->cells[r * t->cols + i]); ni_buf_adds(d->out, " |"); }
            ni_buf_adds(d->out, "\n");
        }
        if (!t->rows) ni_buf_adds(d->out, "| (none observed) |\n");
        ni_buf_adds(d->out, "\n");
    }
    for (size_t i = 0; i < t->rows * t->cols; i++) free(t->cells[i]);
    free(t->cells);
    t->cells = NULL; t->rows = t->cap = 0;
}

/* Integers with thousands separators ("30,905,839"), the same in both views. */
static const char *num(char *buf, size_t n, long long v)
{
    char t[32], *d = t + sizeof t;          /* the digits, written backwards (no printf) */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { *--d = (char)('0' + u % 10); u /= 10; } while (u);
    size_t len = (size_t)(t + sizeof t - d), o = 0;
    memmove(t, d, len);
    if (v < 0 && o + 1 < n) buf[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = t[i];
    }
    buf[o] = 0;
    return buf;
}
#define N(buf, v) num(buf, sizeof buf, (long long)(v))

/* A distinct count of row o: "≈ 3,001,234 (±0.8%)" when report.json marks
 * it estimated (<key>_estimated, <key>_error: limits.distinct), else as N. */
static const char *num_distinct(char *buf, size_t n, const json_t *o, const char *key)
{
    char k[64], t[32];
    snprintf(k, sizeof k, "%s_estimated", key);
    if (!json_is_true(json_object_get(o, k))) return num(buf, n, (long long)ji(o, key));
    snprintf(k, sizeof k, "%s_error", key);
    snprintf(buf, n, "\u2248 %s (\u00b1%.1f%%)", num(t, sizeof t, (long long)ji(o, key)), 100 * jnum(o, k));
    return buf;
}
#define NE(buf, o, key) num_distinct(buf, sizeof buf, (o), (key))

/* The sessions of row o: "1,234", or "1,234–1,290" when the row entered a
 * full table (sessions_error: its true sessions lie in that range). */
static const char *num_sessions(char *buf, size_t n, const json_t *o)
{
    long long s = ji(o, "sessions"), e = ji(o, "sessions_error");
    if (e <= 0) return num(buf, n, s);
    char a[32], b[32];
    snprintf(buf, n, "%s\u2013%s", num(a, sizeof a, s), num(b, sizeof b, s + e));
    return buf;
}
#define NS(buf, o) num_sessions(buf, sizeof buf, (o))

/* The entry of limits.rows.tables for table, NULL when that table never
 * lost a name. */
static const json_t *rows_entry(const json_t *r, const char *table)
{
    const json_t *tabs = json_object_get(json_object_get(json_object_get(r, "limits"), "rows"), "tables");
    for (size_t i = 0; i < json_array_size(tabs); i++) {
        const json_t *t = json_array_get(tabs, i);
        if (js(t, "table") && !strcmp(js(t, "table"), table)) return json_array_get(tabs, i);
    }
    return NULL;
}

/* Under a table cut to its busiest names (limits.rows): what it holds,
 * what left it and the most any name not shown had. */
static void rows_note(doc *d, const json_t *r, const char *table)
{
    const json_t *t = rows_entry(r, table);
    if (!t) return;
    char buf[768], a[32], b[32], c[32], e[32], f[32];
    const char *unit = js(t, "unit") ? js(t, "unit") : "sessions";
    snprintf(buf, sizeof buf, "this table met its cap of %s names and keeps the busiest by %s (Space-Saving): "
             "names left it %s times, taking %s of its %s %s with them, and no name that is not listed had more "
             "than %s %s (report.json limits.rows). A %s figure shown as a range belongs to a name that entered "
             "the full table: its true value lies in the range, and its other figures count the lower end.",
             N(a, ji(t, "cap")), unit, N(b, ji(t, "evicted")), N(c, ji(t, "dropped")), N(e, ji(t, "total")), unit,
             N(f, ji(t, "bound")), unit, unit);
    note(d, "Cut to the busiest names:", buf);
}

/* Horizontal bars from an array of objects: label key, value key. */
static void hbars(doc *d, const char *title, const json_t *arr, const char *lk, const char *vk, const char *unit)
{
    if (!d->html) return;
    size_t n = json_array_size(arr);
    if (n > NI_REPORT_BARS_MAX) n = NI_REPORT_BARS_MAX;
    if (!n) return;
    const char *labels[NI_REPORT_BARS_MAX];
    double values[NI_REPORT_BARS_MAX];
    char vt[NI_REPORT_BARS_MAX][48];
    const char *vtp[NI_REPORT_BARS_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        labels[i] = js(o, lk) ? js(o, lk) : "?";
        values[i] = jnum(o, vk);
        if (!*unit) snprintf(vt[i], sizeof vt[i], "%.1f%%", values[i] * 100);   /* a share 0..1 */
        else {
            char nb[32];
            size_t ul = strlen(unit);
            /* "1 host", "2 hosts" */
            snprintf(vt[i], sizeof vt[i], "%s %.*s", N(nb, (long long)values[i]),
                     (int)(values[i] == 1 && ul > 1 && unit[ul - 1] == 's' ? ul - 1 : ul), unit);
        }
        vtp[i] = vt[i];
    }
    chart_begin(d);
    ni_svg_hbars(d->out, title, labels, values, vtp, n);
    chart_end(d);
}

/* Horizontal bars from a JSON object name → count, largest first. */
static void hbars_obj(doc *d, const char *title, const json_t *obj, const char *unit)
{
    json_t *arr = json_array();
    const char *k; json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t i = 0;
        while (i < json_array_size(arr) && json_integer_value(json_object_get(json_array_get(arr, i), "v")) >= json_integer_value(v)) i++;
        json_array_insert_new(arr, i, json_pack("{s:s, s:I}", "k", k, "v", (json_int_t)json_integer_value(v)));
    }
    hbars(d, title, arr, "k", "v", unit);
    json_decref(arr);
}

/* ---- sections ---------------------------------------------------------- */
static const char *const weekdays[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

static void sec_overview(doc *d, const json_t *r)
{
    const json_t *t = json_object_get(r, "totals"), *w = json_object_get(r, "window"), *tg = json_object_get(r, "target");
    char buf[1024], a[32], b[32], c[32], e[32], f[32];
    heading(d, 2, "overview", "1. Overview");
    ni_buf spec; ni_buf_init(&spec, 4096);
    const json_t *sp = json_object_get(tg, "spec");
    for (size_t i = 0; i < json_array_size(sp); i++)
        ni_buf_printf(&spec, "%s%s", i ? ", " : "", json_string_value(json_array_get(sp, i)));
    snprintf(buf, sizeof buf, "Target: %s (time zone %s). Window: %s to %s (UTC).",
             spec.len ? ni_buf_str(&spec) : "none", js(tg, "timezone") ? js(tg, "timezone") : "UTC",
             js(w, "first") ? js(w, "first") : "-", js(w, "last") ? js(w, "last") : "-");
    para(d, buf);
    ni_buf_release(&spec);
    const json_t *cap = json_object_get(r, "capture");
    if (cap) {
        char c1[32], c2[32], c3[32];
        snprintf(buf, sizeof buf, "Live capture on %s%s: the kernel received %s frames, dropped %s (capture buffer "
                 "full) and the interface %s (report.json capture).%s",
                 js(cap, "interface") ? js(cap, "interface") : "-",
                 json_is_true(json_object_get(cap, "in_progress")) ? ", still running" : "",
                 N(c1, ji(cap, "received")), N(c2, ji(cap, "dropped")), N(c3, ji(cap, "if_dropped")),
                 json_is_true(json_object_get(cap, "in_progress"))
                     ? " Sessions still open are counted when they end." : "");
        if (ji(cap, "dropped") > 0 || ji(cap, "if_dropped") > 0)
            note(d, "Frames were dropped.", buf);
        else
            para(d, buf);
    }
    const json_t *lim = json_object_get(r, "limits");
    if (lim && !json_is_true(json_object_get(lim, "complete"))) {
        static const char *const caps[] = { "names", "hosts", "clients", "versions", "evidence", "host_view" };
        ni_buf lb; ni_buf_init(&lb, 1024);
        ni_buf_adds(&lb, "Incomplete counts: ");
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
            const json_t *c = json_object_get(lim, caps[i]);
            if (ji(c, "dropped") > 0)
                ni_buf_printf(&lb, "%s past the cap of %lld (%lld dropped); ", caps[i], (long long)ji(c, "cap"), (long long)ji(c, "dropped"));
        }
        if (ji(lim, "out_of_memory") > 0) ni_buf_printf(&lb, "%lld out of memory; ", (long long)ji(lim, "out_of_memory"));
        ni_buf_adds(&lb, "the figures concerned are lower bounds (report.json limits).");
        para(d, ni_buf_str(&lb));
        ni_buf_release(&lb);
    }
    const json_t *rt = json_object_get(json_object_get(lim, "rows"), "tables");
    if (json_array_size(rt)) {
        ni_buf lb; ni_buf_init(&lb, 2048);
        char x[32], y[32];
        ni_buf_printf(&lb, "%zu table%s held more names than %s cap and keep%s the busiest (report.json limits.rows; "
                      "every listed figure is exact for what it counts, sessions shown as a range excepted): ",
                      json_array_size(rt), json_array_size(rt) == 1 ? "" : "s", json_array_size(rt) == 1 ? "its" : "their",
                      json_array_size(rt) == 1 ? "s" : "");
        for (size_t i = 0; i < json_array_size(rt); i++) {
            const json_t *o = json_array_get(rt, i);
            ni_buf_printf(&lb, "%s%s (%s %s of names not kept, none above %s)", i ? "; " : "", js(o, "table"),
                          N(x, ji(o, "dropped")), js(o, "unit") ? js(o, "unit") : "sessions", N(y, ji(o, "bound")));
        }
        ni_buf_adds(&lb, ".");
        note(d, "Tables cut to their busiest names.", ni_buf_str(&lb));
        ni_buf_release(&lb);
    }
    if (ji(t, "sampled_sessions") > 0) {
        char s1[32], s2[32];
        snprintf(buf, sizeof buf, "%s of the %s sessions come from sampled flow records (report.json "
                 "totals.sampled_sessions): their packets and bytes are the exported counts times the sampling "
                 "interval, so the counts of this report are estimates.",
                 N(s1, ji(t, "sampled_sessions")), N(s2, ji(t, "sessions")));
        note(d, "Counts are estimates.", buf);
    }
    static const char *const head[] = { "sessions", "outbound", "of which DNS lookups", "inbound", "internal",
                                        "of which DNS lookups", "transit", "target hosts", "bytes" };
    table tb = { head, 9, NULL, 0, 0 };
    char g[32], h[32], k[32], m[32];
    t_row(&tb, N(a, ji(t, "sessions")), N(b, ji(t, "outbound")), N(h, ji(t, "outbound_dns")), N(c, ji(t, "inbound")),
          N(e, ji(t, "internal")), N(k, ji(t, "internal_dns")), N(m, ji(t, "transit")), NE(f, t, "hosts"),
          N(g, ji(t, "bytes")));
    t_emit(d, &tb);
    char n1[32], n2[32], n3[32];
    snprintf(buf, sizeof buf, "Activity (section 2) counts the %s target-initiated outbound sessions that are not DNS "
             "lookups. DNS lookups are evidence, not activity; internal sessions (%s, lookups to the target's own "
             "resolvers among them) and transit sessions (%s) are counted here only.",
             N(n1, ji(t, "outbound") - ji(t, "outbound_dns")), N(n2, ji(t, "internal")), N(n3, ji(t, "transit")));
    para(d, buf);
    if (json_object_get(t, "ndpi_examined")) {
        snprintf(buf, sizeof buf, "nDPI examined %s of the %s sessions: those netintel's own evidence (server name, "
                 "HTTP Host, DNS answer) left unnamed, and those its VPN and proxy signatures could concern.",
                 N(n1, ji(t, "ndpi_examined")), N(n2, ji(t, "sessions")));
        para(d, buf);
    }
}

static void sec_activity(doc *d, const json_t *r, const char *tzname)
{
    const json_t *a = json_object_get(r, "activity");
    char cap[512], buf[64];
    heading(d, 2, "activity", "2. Pattern of life");
    long long n = ji(a, "sample");
    const json_t *bh = json_object_get(a, "by_hour"), *bw = json_object_get(a, "by_weekday"),
                 *peaks = json_object_get(a, "peak_hours");
    double hv[24], wv[7], hm[7 * 24];
    int hl[24] = {0};
    const char *hlab[24];
    char hours[24][12];
    for (int h = 0; h < 24; h++) {
        hv[h] = jv(json_array_get(bh, (size_t)h));
        snprintf(hours[h], sizeof hours[h], "%02d", h);
        hlab[h] = hours[h];
    }
    for (size_t i = 0; i < json_array_size(peaks); i++) {
        json_int_t h = json_integer_value(json_array_get(peaks, i));
        if (h >= 0 && h < 24) hl[h] = 1;
    }
    for (int w = 0; w < 7; w++) {
        wv[w] = jv(json_array_get(bw, (size_t)w));
        const json_t *row = json_array_get(json_object_get(a, "by_weekday_hour"), (size_t)w);
        for (int h = 0; h < 24; h++) hm[w * 24 + h] = jv(json_array_get(row, (size_t)h));
    }
    char nb[32];
    snprintf(cap, sizeof cap, "Outbound sessions by hour of day, local time (%s); n = %s sessions; peak hours highlighted.",
             tzname, N(nb, n));
    fig_begin(d, "fig-hour", cap);
    if (d->html) { chart_begin(d); ni_svg_vbars(d->out, "Outbound sessions by local hour", hlab, hv, hl, 24); chart_end(d); }
    /* one row: hours across (compact, like the heatmap's table) */
    const char *hh[25] = { "local hour" }, *hr[25] = { "sessions" };
    char hc[24][32];
    for (int h = 0; h < 24; h++) { hh[h + 1] = hours[h]; hr[h + 1] = N(hc[h], (long long)hv[h]); }
    table t = { hh, 25, NULL, 0, 0 };
    t_rowv(&t, hr);
    t_emit(d, &t);
    fig_end(d);
    snprintf(cap, sizeof cap, "Outbound sessions by weekday (Monday first), local time; n = %s sessions.", N(nb, n));
    fig_begin(d, "fig-weekday", cap);
    if (d->html) { chart_begin(d); ni_svg_vbars(d->out, "Outbound sessions by weekday", weekdays, wv, NULL, 7); chart_end(d); }
    static const char *const wh[] = { "weekday", "sessions" };
    table tw = { wh, 2, NULL, 0, 0 };
    for (int w = 0; w < 7; w++) t_row(&tw, weekdays[w], N(buf, (long long)wv[w]));
    t_emit(d, &tw);
    fig_end(d);
    snprintf(cap, sizeof cap, "Weekday × hour heatmap of outbound sessions (local time); n = %s sessions.", N(nb, n));
    fig_begin(d, "fig-heatmap", cap);
    if (d->html) { chart_begin(d); ni_svg_heatmap(d->out, "Weekday by hour heatmap", weekdays, 7, hlab, 24, hm); chart_end(d); }
    const char *hmh[25] = { "weekday" };
    for (int h = 0; h < 24; h++) hmh[h + 1] = hours[h];
    table th = { hmh, 25, NULL, 0, 0 };
    char cells[24][32];
    for (int w = 0; w < 7; w++) {
        const char *row[25] = { weekdays[w] };
        for (int h = 0; h < 24; h++) row[h + 1] = N(cells[h], (long long)hm[w * 24 + h]);
        t_rowv(&th, row);
    }
    t_emit(d, &th);
    fig_end(d);
}

static void sec_services(doc *d, const json_t *r)
{
    char cap[256], a[32], b[32], c[32], a2[32], ev[128];
    heading(d, 2, "services", "3. Foreign services used");
    const json_t *cats = json_object_get(r, "categories"), *svc = json_object_get(r, "services");
    fig_begin(d, "fig-categories", "Service categories by target hosts reaching them (unit: hosts = distinct target addresses).");
    hbars(d, "Service categories by hosts", cats, "category", "hosts", "hosts");
    static const char *const ch[] = { "category", "hosts", "sessions", "bytes" };
    table t = { ch, 4, NULL, 0, 0 };
    char e2[32];
    for (size_t i = 0; i < json_array_size(cats); i++) {
        const json_t *o = json_array_get(cats, i);
        t_row(&t, js(o, "category"), NE(a, o, "hosts"), NS(b, o), N(e2, ji(o, "bytes")));
    }
    t_emit(d, &t);
    rows_note(d, r, "categories");
    fig_end(d);
    snprintf(cap, sizeof cap, "Services by hosts; evidence counts sessions named by TLS SNI, HTTP Host, a DNS-learned name or an address prefix.");
    fig_begin(d, "fig-services", cap);
    hbars(d, "Services by hosts", svc, "service", "hosts", "hosts");
    static const char *const sh[] = { "service", "category", "hosts", "sessions", "bytes", "evidence" };
    table s = { sh, 6, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(svc); i++) {
        const json_t *o = json_array_get(svc, i), *e = json_object_get(o, "evidence");
        /* only the kinds that named the service: "SNI 1,944; DNS name 25" */
        static const char *const ek[] = { "sni", "http_host", "dns_name", "ip" };
        static const char *const en[] = { "SNI", "HTTP Host", "DNS name", "address" };
        size_t el = 0;
        ev[0] = 0;
        for (int k = 0; k < 4; k++) {
            if (ji(e, ek[k]) <= 0 || el >= sizeof ev) continue;
            el += (size_t)snprintf(ev + el, sizeof ev - el, "%s%s %s", el ? "; " : "", en[k], N(c, ji(e, ek[k])));
        }
        if (!ev[0]) snprintf(ev, sizeof ev, "-");
        t_row(&s, js(o, "service"), js(o, "category"), NE(a, o, "hosts"), NS(b, o),
              N(a2, ji(o, "bytes")), ev);
    }
    t_emit(d, &s);
    rows_note(d, r, "services");
    fig_end(d);
}

static void sec_devices(doc *d, const json_t *r)
{
    const json_t *dv = json_object_get(r, "devices");
    char cap[512], a[32], b[32], c[32];
    heading(d, 2, "devices", "4. Devices");
    snprintf(cap, sizeof cap, "Device makers of target clients (hosts = distinct target addresses; clients = distinct "
             "address and User-Agent pairs); n = %lld hosts with an identified maker, %lld hosts unattributed. "
             "Visitors' and system agents' User-Agents are not counted.",
             (long long)ji(dv, "sample_hosts"), (long long)ji(dv, "unattributed_hosts"));
    fig_begin(d, "fig-makers", cap);
    hbars(d, "Device makers by hosts", json_object_get(dv, "makers"), "name", "hosts", "hosts");
    static const char *const mh[] = { "maker", "hosts", "clients", "sessions" };
    table t = { mh, 4, NULL, 0, 0 };
    const json_t *mk = json_object_get(dv, "makers");
    for (size_t i = 0; i < json_array_size(mk); i++) {
        const json_t *o = json_array_get(mk, i);
        t_row(&t, js(o, "name"), NE(a, o, "hosts"), NE(b, o, "clients"), NS(c, o));
    }
    t_emit(d, &t);
    rows_note(d, r, "devices.makers");
    fig_end(d);
    fig_begin(d, "fig-form-factor", "Form factor of target devices (unit: hosts; clients in the table).");
    hbars_obj(d, "Form factors by hosts", json_object_get(dv, "form_factor"), "hosts");
    static const char *const fh[] = { "form factor", "hosts", "clients" };
    table f = { fh, 3, NULL, 0, 0 };
    const json_t *ff = json_object_get(dv, "form_factor"), *fc = json_object_get(dv, "form_factor_clients");
    const char *k; json_t *v;
    json_object_foreach((json_t *)ff, k, v)
        t_row(&f, k, N(a, json_integer_value(v)), N(b, ji(fc, k)));
    t_emit(d, &f);
    fig_end(d);
    fig_begin(d, "fig-models", "Device models with first sighting, release date and lag (days from release to first seen).");
    static const char *const dh[] = { "maker", "model", "code", "hosts", "first seen", "released", "lag (days)" };
    table m = { dh, 7, NULL, 0, 0 };
    const json_t *models = json_object_get(dv, "models");
    for (size_t i = 0; i < json_array_size(models); i++) {
        const json_t *o = json_array_get(models, i), *lag = json_object_get(o, "lag_days");
        char l[32] = "-";
        if (json_is_integer(lag)) N(l, json_integer_value(lag));
        t_row(&m, js(o, "maker"), js(o, "model"), js(o, "code"), NE(a, o, "hosts"), js(o, "first_seen"),
              js(o, "released") ? js(o, "released") : "unknown", l);
    }
    t_emit(d, &m);
    rows_note(d, r, "devices.models");
    fig_end(d);
}

/* The OS of the TCP/IP stack: hosts that sent no User-Agent, and hosts
 * whose two OS disagree (absent from documents without tcp_os). */
static void sec_os_stack(doc *d, const json_t *r)
{
    const json_t *st = json_object_get(r, "os_stack"), *dis = json_object_get(r, "os_disagreements");
    if (!st) return;
    char a[32], b[32], c[32], buf[768];
    fig_begin(d, "fig-os-stack", "Operating systems from the TCP/IP stack of target hosts that sent no User-Agent "
              "(their client SYNs matched against p0f's database and data/tcp-os.tsv; family only; unit: hosts).");
    hbars(d, "OS from the TCP/IP stack by hosts", st, "name", "hosts", "hosts");
    static const char *const sh[] = { "OS (from TCP/IP stack)", "hosts", "sessions" };
    table t = { sh, 3, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(st); i++) {
        const json_t *o = json_array_get(st, i);
        t_row(&t, js(o, "name"), N(a, ji(o, "hosts")), NS(b, o));
    }
    t_emit(d, &t);
    fig_end(d);
    if (!dis) return;
    snprintf(buf, sizeof buf, "User-Agent and TCP/IP stack: %s of the %s target hosts with both an OS from their "
             "User-Agents and one from their stack disagree on its family (different kernel families), a sign of "
             "NAT, proxies or User-Agents of another system (findings, section 9).",
             N(a, ji(dis, "hosts")), N(b, ji(dis, "compared")));
    para(d, buf);
    const json_t *pairs = json_object_get(dis, "pairs");
    if (!json_array_size(pairs)) return;
    static const char *const ph[] = { "User-Agent OS", "stack OS", "hosts" };
    table pt = { ph, 3, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(pairs); i++) {
        const json_t *o = json_array_get(pairs, i);
        t_row(&pt, js(o, "user_agent_os"), js(o, "stack_os"), N(c, ji(o, "hosts")));
    }
    t_emit(d, &pt);
}

static void sec_software(doc *d, const json_t *r)
{
    char a[32], b[32], c[32], vers[512];
    heading(d, 2, "software", "5. Software");
    const json_t *os = json_object_get(r, "os");
    fig_begin(d, "fig-os", "Operating systems of target clients (unit: hosts; clients in the table).");
    hbars(d, "Operating systems by hosts", os, "name", "hosts", "hosts");
    static const char *const oh[] = { "OS", "hosts", "clients", "versions (hosts)" };
    table t = { oh, 4, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(os); i++) {
        const json_t *o = json_array_get(os, i), *vs = json_object_get(o, "versions");
        ni_buf vb; ni_buf_init(&vb, sizeof vers - 1);
        for (size_t k = 0; k < json_array_size(vs) && k < 8; k++) {
            const json_t *v = json_array_get(vs, k);
            ni_buf_printf(&vb, "%s%s (%lld)", k ? ", " : "", js(v, "version"), (long long)ji(v, "hosts"));
        }
        snprintf(vers, sizeof vers, "%s", ni_buf_str(&vb));
        ni_buf_release(&vb);
        t_row(&t, js(o, "name"), NE(a, o, "hosts"), NE(b, o, "clients"), vers);
    }
    t_emit(d, &t);
    rows_note(d, r, "os");
    fig_end(d);
    sec_os_stack(d, r);
    const json_t *win = json_object_get(r, "windows_versions");
    fig_begin(d, "fig-windows", "Windows versions (from \"Windows NT x.y\"; 11 only when client hints prove it; hosts whose version a reduced User-Agent hides are their own bar; unit: hosts).");
    hbars(d, "Windows versions by hosts", win, "name", "hosts", "hosts");
    static const char *const wh[] = { "Windows", "hosts", "clients", "end of support" };
    table w = { wh, 4, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(win); i++) {
        const json_t *o = json_array_get(win, i);
        t_row(&w, js(o, "name"), NE(a, o, "hosts"), NE(b, o, "clients"), js(o, "end_of_support") ? js(o, "end_of_support") : "-");
    }
    t_emit(d, &w);
    rows_note(d, r, "windows_versions");
    fig_end(d);
    const json_t *br = json_object_get(r, "browsers");
    fig_begin(d, "fig-browsers", "Browsers and versions with release date and age when first seen (unit: hosts).");
    static const char *const bh[] = { "browser", "version", "hosts", "released", "first seen", "age (days)",
                                      "full builds (hosts)" };
    table bt = { bh, 7, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(br); i++) {
        const json_t *o = json_array_get(br, i), *age = json_object_get(o, "age_days"), *bl = json_object_get(o, "builds");
        char ag[32] = "-";
        if (json_is_integer(age)) N(ag, json_integer_value(age));
        ni_buf bb; ni_buf_init(&bb, 4096);
        for (size_t k = 0; k < json_array_size(bl); k++) {
            const json_t *v = json_array_get(bl, k);
            ni_buf_printf(&bb, "%s%s (%lld)", k ? ", " : "", js(v, "build"), (long long)ji(v, "hosts"));
        }
        t_row(&bt, js(o, "name"), js(o, "version"), NE(a, o, "hosts"), js(o, "released") ? js(o, "released") : "unknown",
              js(o, "first_seen"), ag, bb.len ? ni_buf_str(&bb) : "-");
        ni_buf_release(&bb);
    }
    t_emit(d, &bt);
    rows_note(d, r, "browsers");
    fig_end(d);
    const json_t *od = json_object_get(r, "outdated");
    fig_begin(d, "fig-outdated", "Outdated or unsupported software seen on target hosts; a final build is the last build of a browser for an old OS (data/final-builds.tsv): hosts at it get no more browser updates.");
    static const char *const uh[] = { "kind", "name", "version", "hosts", "reason" };
    table u = { uh, 5, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(od); i++) {
        const json_t *o = json_array_get(od, i);
        t_row(&u, js(o, "kind"), js(o, "name"), js(o, "version"), NE(c, o, "hosts"), js(o, "reason"));
    }
    /* hosts stuck at the final build of their browser for their OS */
    const json_t *fb = json_object_get(r, "final_builds");
    for (size_t i = 0; i < json_array_size(fb); i++) {
        const json_t *o = json_array_get(fb, i);
        if (ji(o, "hosts_at_final") <= 0) continue;
        char why[256], n1[32];
        snprintf(why, sizeof why, "final build for %s %s (%s of the %s hosts with %s on it)", js(o, "os"),
                 js(o, "os_version"), NE(c, o, "hosts_at_final"), NE(n1, o, "hosts"), js(o, "browser"));
        t_row(&u, "final build", js(o, "browser"), js(o, "final"), NE(c, o, "hosts_at_final"), why);
    }
    t_emit(d, &u);
    fig_end(d);
}

static void sec_vpn(doc *d, const json_t *r)
{
    const json_t *v = json_object_get(r, "vpn");
    char cap[512], a[32], b[32], c[32], e1[32], e2[32];
    heading(d, 2, "vpn", "6. VPN and proxy use");
    snprintf(cap, sizeof cap, "%lld target hosts reached %lld VPN or proxy providers (%lld with tunnel or endpoint "
             "evidence, out of %lld target hosts with outbound sessions). Evidence: tunnel = protocol seen, endpoint = "
             "address attributed to the provider, site = provider web site or API only (a visit, not proof of use).",
             (long long)ji(v, "hosts"), (long long)ji(v, "services"), (long long)ji(v, "hosts_with_use"),
             (long long)ji(v, "sample_hosts"));
    fig_begin(d, "fig-vpn", cap);
    hbars(d, "VPN providers by hosts", json_object_get(v, "by_service"), "service", "hosts", "hosts");
    static const char *const vh[] = { "provider", "hosts", "sessions", "tunnel", "endpoint", "site" };
    table t = { vh, 6, NULL, 0, 0 };
    const json_t *bs = json_object_get(v, "by_service");
    for (size_t i = 0; i < json_array_size(bs); i++) {
        const json_t *o = json_array_get(bs, i), *e = json_object_get(o, "evidence");
        t_row(&t, js(o, "service"), NE(a, o, "hosts"), NS(b, o), N(c, ji(e, "tunnel")),
              N(e1, ji(e, "endpoint")), N(e2, ji(e, "site")));
    }
    t_emit(d, &t);
    static const char *const uh[] = { "tunnel protocol without a known provider", "hosts", "sessions" };
    table u = { uh, 3, NULL, 0, 0 };
    const json_t *un = json_object_get(v, "unattributed");
    for (size_t i = 0; i < json_array_size(un); i++) {
        const json_t *o = json_array_get(un, i);
        t_row(&u, js(o, "protocol"), NE(a, o, "hosts"), NS(b, o));
    }
    t_emit(d, &u);
    fig_end(d);

    /* corporate SSL-VPN gateways: their own category (absent from older reports) */
    const json_t *corp = json_object_get(v, "corporate");
    if (!corp) return;
    const json_t *bp = json_object_get(corp, "by_product");
    snprintf(cap, sizeof cap, "%lld target hosts reached corporate SSL-VPN gateways (%zu products: Fortinet, "
             "GlobalProtect, Pulse/Ivanti, AnyConnect, Citrix, SoftEther, ...), counted apart from the consumer VPN "
             "providers above. Evidence: tunnel = the product's tunnel protocol seen, endpoint = the gateway's login "
             "or signature paths or nDPI's label.", (long long)ji(corp, "hosts"), json_array_size(bp));
    fig_begin(d, "fig-sslvpn", cap);
    static const char *const ch[] = { "corporate SSL-VPN gateway", "hosts", "sessions", "tunnel", "endpoint" };
    table g = { ch, 5, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(bp); i++) {
        const json_t *o = json_array_get(bp, i), *e = json_object_get(o, "evidence");
        t_row(&g, js(o, "product"), N(a, ji(o, "hosts")), NS(b, o), N(c, ji(e, "tunnel")),
              N(e1, ji(e, "endpoint")));
    }
    t_emit(d, &g);
    fig_end(d);
}

/* "YYYY-MM" → months since year 0; -1 when not that form. */
static int month_idx(const char *ym)
{
    if (!ym || strlen(ym) != 7 || ym[4] != '-') return -1;
    for (int i = 0; i < 7; i++) if (i != 4 && (ym[i] < '0' || ym[i] > '9')) return -1;
    int y = (ym[0] - '0') * 1000 + (ym[1] - '0') * 100 + (ym[2] - '0') * 10 + (ym[3] - '0');
    int m = (ym[5] - '0') * 10 + (ym[6] - '0');
    if (m < 1 || m > 12) return -1;
    return y * 12 + m - 1;
}

static void sec_visitors(doc *d, const json_t *r)
{
    const json_t *in = json_object_get(r, "inbound");
    char cap[512], a[32], b[32], sh[32];
    heading(d, 2, "visitors", "7. Visitors of the target's sites");
    snprintf(cap, sizeof cap, "Share of inbound sessions per target site (by TLS SNI or HTTP Host, else server "
             "address); n = %s inbound sessions.", N(a, ji(in, "sessions")));
    fig_begin(d, "fig-sites", cap);
    hbars(d, "Inbound sessions share by site", json_object_get(in, "sites"), "site", "share", "");
    static const char *const sth[] = { "site", "sessions", "visitors", "share" };
    table t = { sth, 4, NULL, 0, 0 };
    const json_t *st = json_object_get(in, "sites");
    for (size_t i = 0; i < json_array_size(st); i++) {
        const json_t *o = json_array_get(st, i);
        snprintf(sh, sizeof sh, "%.1f%%", jnum(o, "share") * 100);
        t_row(&t, js(o, "site"), NS(a, o), NE(b, o, "visitors"), sh);
    }
    t_emit(d, &t);
    rows_note(d, r, "inbound.sites");
    static const char *const ch[] = { "source country", "continent", "sessions", "share" };
    table c = { ch, 4, NULL, 0, 0 };
    const json_t *bc = json_object_get(in, "by_country");
    for (size_t i = 0; i < json_array_size(bc); i++) {
        const json_t *o = json_array_get(bc, i);
        snprintf(sh, sizeof sh, "%.1f%%", jnum(o, "share") * 100);
        t_row(&c, js(o, "country"), js(o, "continent") ? js(o, "continent") : "-", NS(a, o), sh);
    }
    t_emit(d, &c);
    rows_note(d, r, "inbound.by_country");
    fig_end(d);

    /* continent × month */
    const json_t *rm = json_object_get(in, "by_region_month"), *chg = json_object_get(in, "changes");
    size_t n = json_array_size(rm);
    int lo = 1 << 30, hi = -1;
    const char *regions[16]; size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(rm, i);
        const char *rg = js(o, "region");
        if (!rg || !js(o, "month")) continue;        /* not a row of ours */
        int m = month_idx(js(o, "month"));
        if (m < 0) continue;
        if (m < lo) lo = m;
        if (m > hi) hi = m;
        size_t k = 0;
        while (k < nr && strcmp(regions[k], rg)) k++;
        if (k == nr && nr < 16) regions[nr++] = rg;
    }
    snprintf(cap, sizeof cap, "Inbound sessions per month by visitors' continent; detected level shifts marked "
             "(Poisson level-shift test, p < 0.001, factor ≥ 2).");
    fig_begin(d, "fig-regions", cap);
    if (d->html && nr && hi >= lo && hi - lo < NI_PROFILE_MONTHS_MAX) {
        size_t np = (size_t)(hi - lo + 1);
        double *vals = calloc(nr * np, sizeof *vals);
        char (*xl)[16] = calloc(np, sizeof *xl);
        const char **xp = calloc(np, sizeof *xp);
        ni_svg_mark marks[16]; size_t nm = 0;
        char mlabel[16][64];
        if (vals && xl && xp) {
            for (size_t i = 0; i < np; i++) {
                int m = lo + (int)i;
                snprintf(xl[i], sizeof xl[i], "%04d-%02d", (m / 12) % 10000, m % 12 + 1);
                xp[i] = xl[i];
            }
            for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(rm, i);
                const char *rg = js(o, "region");
                int m = month_idx(js(o, "month"));
                if (!rg || m < lo || m > hi) continue;
                size_t k = 0;
                while (k < nr && strcmp(regions[k], rg)) k++;
                if (k < nr) vals[k * np + (size_t)(m - lo)] = jnum(o, "sessions");
            }
            for (size_t i = 0; i < json_array_size(chg) && nm < 16; i++) {
                const json_t *o = json_array_get(chg, i);
                size_t k = 0;
                while (k < nr && strcmp(regions[k], js(o, "region") ? js(o, "region") : "")) k++;
                int m = month_idx(js(o, "month"));
                if (k == nr || m < lo || m > hi) continue;
                snprintf(mlabel[nm], sizeof mlabel[nm], "%s ×%.2f from %s", js(o, "region"), jnum(o, "ratio"), js(o, "month"));
                marks[nm].series = k; marks[nm].point = (size_t)(m - lo); marks[nm].label = mlabel[nm];
                nm++;
            }
            chart_begin(d);
            ni_svg_lines(d->out, "Inbound sessions per month by continent", regions, nr, xp, np, vals, marks, nm);
            chart_end(d);
        }
        free(vals); free(xl); free(xp);
    }
    static const char *const gh[] = { "continent", "change from", "before (sessions a month)", "after (sessions a month)", "ratio", "events nearby" };
    table g = { gh, 6, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(chg); i++) {
        const json_t *o = json_array_get(chg, i), *evs = json_object_get(o, "events");
        char be[32], af[32], ra[32], evb[256] = "";
        snprintf(be, sizeof be, "%.1f", jnum(o, "before"));
        snprintf(af, sizeof af, "%.1f", jnum(o, "after"));
        snprintf(ra, sizeof ra, "%.2f", jnum(o, "ratio"));
        for (size_t k = 0; k < json_array_size(evs); k++) {
            size_t l = strlen(evb);
            snprintf(evb + l, sizeof evb - l, "%s%s", k ? "; " : "", json_string_value(json_array_get(evs, k)));
        }
        t_row(&g, js(o, "region"), js(o, "month"), be, af, ra, evb[0] ? evb : "-");
    }
    t_emit(d, &g);
    fig_end(d);
}

static void sec_vendors(doc *d, const json_t *r)
{
    char a[32], b[32], roles[128];
    heading(d, 2, "vendors", "8. Vendor exposure");
    para(d, "Every vendor whose hardware, software or service appears in the target's outbound traffic, for sanctions "
            "and export-control due diligence (unit: hosts = distinct target addresses).");
    static const char *const vh[] = { "vendor", "roles", "hosts", "sessions", "first seen (UTC)", "last seen (UTC)", "evidence" };
    table t = { vh, 7, NULL, 0, 0 };
    const json_t *vs = json_object_get(r, "vendors");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        const json_t *o = json_array_get(vs, i), *rl = json_object_get(o, "roles"), *ev = json_object_get(o, "evidence");
        roles[0] = 0;
        for (size_t k = 0; k < json_array_size(rl); k++) {
            size_t l = strlen(roles);
            snprintf(roles + l, sizeof roles - l, "%s%s", k ? ", " : "", json_string_value(json_array_get(rl, k)));
        }
        char evb[512] = "";
        for (size_t k = 0; k < json_array_size(ev) && k < 6; k++) {
            size_t l = strlen(evb);
            snprintf(evb + l, sizeof evb - l, "%s%s", k ? "; " : "", js(json_array_get(ev, k), "item"));
        }
        /* the UTC date of first and last sighting (the JSON keeps the instant) */
        char fs[16] = "-", ls[16] = "-";
        if (js(o, "first_seen")) snprintf(fs, sizeof fs, "%.10s", js(o, "first_seen"));
        if (js(o, "last_seen")) snprintf(ls, sizeof ls, "%.10s", js(o, "last_seen"));
        t_row(&t, js(o, "vendor"), roles, NE(a, o, "hosts"), NS(b, o), fs, ls, evb);
    }
    t_emit(d, &t);
    rows_note(d, r, "vendors");
}

/* Appends s at out + *o as snprintf(out + *o, n - *o, "%s", s) would when
 * *o < n (cut to the buffer, NUL-terminated), and adds its whole length to
 * *o as snprintf's return value would (so *o >= n once it was cut). */
static void cat_n(char *out, size_t n, size_t *o, const char *s)
{
    size_t len = strlen(s);
    if (*o < n) {
        size_t room = n - 1 - *o, k = len < room ? len : room;
        memcpy(out + *o, s, k);
        out[*o + k] = 0;
    }
    *o += len;
}

/* A host's items of one kind joined ("Android 13, Windows 7"); "-" if none. */
static void host_list(const json_t *arr, char *out, size_t n)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t k = 0; k < json_array_size(arr) && o < n; k++) {
        const json_t *v = json_array_get(arr, k);
        const char *s = json_is_string(v) ? json_string_value(v) : js(v, "provider");
        if (!s) continue;
        if (o) cat_n(out, n, &o, ", ");
        cat_n(out, n, &o, s);
        const json_t *ev = json_is_object(v) ? json_object_get(v, "evidence") : NULL;
        for (size_t e = 0; ev && e < json_array_size(ev) && o < n; e++) {
            const char *es = json_string_value(json_array_get(ev, e));
            cat_n(out, n, &o, e ? "+" : " (");
            cat_n(out, n, &o, es ? es : "(null)");
            if (e + 1 == json_array_size(ev)) cat_n(out, n, &o, ")");
        }
    }
    if (!out[0] && n > 1) { out[0] = '-'; out[1] = 0; }
}

/* ---- the hosts-to-providers figure ----------------------------------------
 * Target hosts (left) linked to the VPN and proxy providers they used
 * (right), from hosts[].vpn: an edge per (host, provider), its width from
 * the sessions (hosts[].vpn[].sessions; 1 in documents written before it),
 * its stroke from the strongest evidence kind (tunnel, endpoint, site).
 * Providers by sessions over all hosts, then name; hosts in report order
 * (most sessions first); at most NI_REPORT_GRAPH_*_MAX of each, the rest
 * named as "and K more".  The same links follow as a table (the text
 * alternative, and the Markdown's view). */
static const char *const graph_styles[] = { "tunnel", "endpoint", "site" };

typedef struct gprov { const char *name; double weight; } gprov;

static int cmp_gprov(const void *x, const void *y)
{
    const gprov *a = x, *b = y;
    if (a->weight != b->weight) return a->weight < b->weight ? 1 : -1;
    return strcmp(a->name, b->name);
}

static double vpn_weight(const json_t *v)
{
    const json_t *s = json_object_get(v, "sessions");
    return s ? jv(s) : 1;
}

/* Strongest evidence kind of a host's provider item: index into graph_styles. */
static size_t vpn_style(const json_t *v)
{
    size_t best = 2;
    const json_t *ev = json_object_get(v, "evidence");
    for (size_t e = 0; e < json_array_size(ev); e++) {
        const char *k = json_string_value(json_array_get(ev, e));
        for (size_t s = 0; k && s < best; s++) if (!strcmp(k, graph_styles[s])) best = s;
    }
    return best;
}

static void sec_host_graph(doc *d, const json_t *hs)
{
    size_t nh = json_array_size(hs), np = 0, pcap = 16;
    gprov *pv = malloc(pcap * sizeof *pv);
    if (!pv) return;
    size_t vpn_hosts = 0;
    for (size_t i = 0; i < nh; i++) {
        const json_t *vp = json_object_get(json_array_get(hs, i), "vpn");
        if (json_array_size(vp)) vpn_hosts++;
        for (size_t k = 0; k < json_array_size(vp); k++) {
            const json_t *v = json_array_get(vp, k);
            const char *name = js(v, "provider");
            if (!name) continue;
            size_t j = 0;
            while (j < np && strcmp(pv[j].name, name)) j++;
            if (j == np) {
                if (np == pcap) {
                    gprov *q = realloc(pv, 2 * pcap * sizeof *pv);
                    if (!q) break;
                    pv = q; pcap *= 2;
                }
                pv[np++] = (gprov){ name, 0 };
            }
            pv[j].weight += vpn_weight(v);
        }
    }
    qsort(pv, np, sizeof *pv, cmp_gprov);
    size_t shown_p = np < NI_REPORT_GRAPH_PROVIDERS_MAX ? np : NI_REPORT_GRAPH_PROVIDERS_MAX;

    const char *left[NI_REPORT_GRAPH_HOSTS_MAX], *right[NI_REPORT_GRAPH_PROVIDERS_MAX];
    for (size_t j = 0; j < shown_p; j++) right[j] = pv[j].name;
    ni_svg_edge *edges = malloc((NI_REPORT_GRAPH_HOSTS_MAX * NI_REPORT_GRAPH_PROVIDERS_MAX + 1) * sizeof *edges);
    char (*notes)[192] = malloc((NI_REPORT_GRAPH_HOSTS_MAX * NI_REPORT_GRAPH_PROVIDERS_MAX + 1) * sizeof *notes);
    if (!edges || !notes) { free(edges); free(notes); free(pv); return; }
    size_t nl = 0, ne = 0;
    static const char *const gh[] = { "host", "provider", "evidence", "sessions" };
    table t = { gh, 4, NULL, 0, 0 };
    for (size_t i = 0; i < nh && nl < NI_REPORT_GRAPH_HOSTS_MAX; i++) {
        const json_t *o = json_array_get(hs, i);
        const json_t *vp = json_object_get(o, "vpn");
        const char *addr = js(o, "address");
        if (!addr) continue;
        size_t before = ne;
        for (size_t k = 0; k < json_array_size(vp); k++) {
            const json_t *v = json_array_get(vp, k);
            const char *name = js(v, "provider");
            size_t j = 0;
            while (name && j < shown_p && strcmp(right[j], name)) j++;
            if (!name || j == shown_p) continue;
            char evs[64] = "", w[32];
            const json_t *ev = json_object_get(v, "evidence");
            for (size_t e = 0, o2 = 0; e < json_array_size(ev) && o2 < sizeof evs; e++)
                o2 += (size_t)snprintf(evs + o2, sizeof evs - o2, "%s%s", e ? ", " : "",
                                       json_string_value(json_array_get(ev, e)) ? json_string_value(json_array_get(ev, e)) : "?");
            double wt = vpn_weight(v);
            snprintf(notes[ne], sizeof notes[ne], "%s to %s: %s session%s; evidence: %s", addr, name,
                     N(w, (long long)wt), wt == 1 ? "" : "s", evs[0] ? evs : "-");
            edges[ne] = (ni_svg_edge){ nl, j, wt, vpn_style(v), notes[ne] };
            t_row(&t, addr, name, evs[0] ? evs : "-", N(w, (long long)wt));
            ne++;
        }
        if (ne > before) left[nl++] = addr;
    }
    size_t shown_hosts = nl;
    char lm[64], rm[64];
    snprintf(lm, sizeof lm, "and %zu more hosts", vpn_hosts - shown_hosts);
    snprintf(rm, sizeof rm, "and %zu more providers", np - shown_p);

    char cap[512], a[32], b2[32];
    snprintf(cap, sizeof cap, "Target hosts linked to the VPN and proxy providers they used (%s hosts, %s providers%s). "
             "Line width grows with the sessions (log scale); the line style is the strongest evidence: "
             "tunnel = protocol seen, endpoint = provider's server, site = web site or API only. "
             "The table lists the same links.", N(a, (long long)vpn_hosts), N(b2, (long long)np),
             vpn_hosts > shown_hosts || np > shown_p ? "; the figure shows the most used" : "");
    fig_begin(d, "fig-host-providers", cap);
    if (d->html && ne) {
        ni_svg_bigraph g = {
            .left_head = "target hosts", .right_head = "VPN and proxy providers",
            .left = left, .nleft = nl, .left_more = vpn_hosts > shown_hosts ? lm : NULL,
            .right = right, .nright = shown_p, .right_more = np > shown_p ? rm : NULL,
            .edges = edges, .nedges = ne, .style_names = graph_styles, .nstyles = 3,
        };
        chart_begin(d);
        ni_svg_bipartite(d->out, "Target hosts and the VPN and proxy providers they used", &g);
        chart_end(d);
    }
    t_emit(d, &t);
    fig_end(d);
    free(edges);
    free(notes);
    free(pv);
}

static void sec_hosts(doc *d, const json_t *r)
{
    const json_t *hs = json_object_get(r, "hosts");
    if (!hs) return;   /* a document written before the host view */
    char a[32], cap[256];
    heading(d, 2, "hosts", "10. Hosts");
    const json_t *lim = json_object_get(json_object_get(r, "limits"), "host_view");
    snprintf(cap, sizeof cap, "One row per target host, most sessions first (%s hosts%s; unit: sessions).",
             N(a, json_array_size(hs)), ji(lim, "dropped") > 0 ? ", more past the cap: report.json limits.host_view" : "");
    fig_begin(d, "fig-hosts", cap);
    static const char *const hh[] = { "address", "seen (UTC)", "sessions", "devices", "OS", "browsers", "services",
                                      "VPN (evidence)", "OS (TCP/IP stack)" };
    table t = { hh, 9, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(hs); i++) {
        const json_t *o = json_array_get(hs, i);
        char seen[40] = "-", dev[512], os[256], br[256], sv[512], vp[512], mk[256], tos[256];
        if (js(o, "first_seen") && js(o, "last_seen"))
            snprintf(seen, sizeof seen, "%.10s to %.10s", js(o, "first_seen"), js(o, "last_seen"));
        host_list(json_object_get(o, "models"), dev, sizeof dev);
        if (!strcmp(dev, "-")) { host_list(json_object_get(o, "makers"), mk, sizeof mk); snprintf(dev, sizeof dev, "%s", mk); }
        host_list(json_object_get(o, "os"), os, sizeof os);
        host_list(json_object_get(o, "browsers"), br, sizeof br);
        host_list(json_object_get(o, "services"), sv, sizeof sv);
        host_list(json_object_get(o, "vpn"), vp, sizeof vp);
        host_list(json_object_get(o, "tcp_os"), tos, sizeof tos);
        t_row(&t, js(o, "address"), seen, NS(a, o), dev, os, br, sv, vp, tos);
    }
    t_emit(d, &t);
    fig_end(d);
    sec_host_graph(d, hs);
}

static void sec_dns_tunnels(doc *d, const json_t *r)
{
    const json_t *dt = json_object_get(r, "dns_tunnels");
    if (!dt) return;   /* a document written before the section */
    char a[32], b[32], c[32], e[32], en[32], ln[32], cap[640];
    heading(d, 2, "dns", "11. DNS tunnels");
    snprintf(cap, sizeof cap, "Target clients that looked up many distinct, long, high-entropy names under one suffix "
             "(%s pair%s): at least 50 distinct names whose leftmost labels average at least 20 characters and 2.5 "
             "bits per character. Unit: names = distinct names under the suffix (~ = estimate), queries = DNS "
             "transactions; entropy in bits per character, length in characters.",
             N(a, json_array_size(dt)), json_array_size(dt) == 1 ? "" : "s");
    fig_begin(d, "fig-dns-tunnels", cap);
    static const char *const th[] = { "client", "suffix", "names", "queries", "sessions", "entropy", "length",
                                      "query types", "seen (UTC)", "likelihood" };
    table t = { th, 10, NULL, 0, 0 };
    for (size_t i = 0; i < json_array_size(dt); i++) {
        const json_t *o = json_array_get(dt, i);
        char names[40], qt[256] = "", seen[48] = "-";
        snprintf(names, sizeof names, "%s%s", json_is_true(json_object_get(o, "names_estimated")) ? "~" : "",
                 N(b, ji(o, "names")));
        const json_t *q = json_object_get(o, "qtypes");
        size_t off = 0;
        for (size_t k = 0; k < json_array_size(q) && off < sizeof qt; k++) {
            const json_t *v = json_array_get(q, k);
            off += (size_t)snprintf(qt + off, sizeof qt - off, "%s%s (%lld)", k ? ", " : "",
                                    js(v, "qtype") ? js(v, "qtype") : "?", (long long)ji(v, "queries"));
        }
        if (js(o, "first") && js(o, "last"))
            snprintf(seen, sizeof seen, "%.10s to %.10s", js(o, "first"), js(o, "last"));
        snprintf(en, sizeof en, "%.2f", jnum(o, "mean_entropy"));
        snprintf(ln, sizeof ln, "%.1f", jnum(o, "mean_length"));
        t_row(&t, js(o, "client"), js(o, "suffix"), names, N(c, ji(o, "queries")), NS(e, o), en, ln,
              qt, seen, js(o, "likelihood"));
    }
    t_emit(d, &t);
    rows_note(d, r, "dns_tunnels");
    if (!json_array_size(dt)) para(d, "No client sent names of that shape.");
    fig_end(d);
}

static void sec_findings(doc *d, const json_t *r)
{
    heading(d, 2, "findings", "9. Findings");
    para(d, "Estimative language follows ICD 203 (almost no chance, very unlikely, unlikely, roughly even odds, likely, "
            "very likely, almost certain); each term follows from the stated basis.");
    const json_t *f = json_object_get(r, "findings");
    if (d->html) ni_buf_adds(d->out, "<ol class=\"findings\">\n");
    for (size_t i = 0; i < json_array_size(f); i++) {
        const json_t *o = json_array_get(f, i);
        const char *sec = js(o, "section") ? js(o, "section") : "";
        if (d->html) {
            ni_buf_printf(d->out, "<li><a href=\"#%s\">", strcmp(sec, "software") && strcmp(sec, "visitors") &&
                          strcmp(sec, "vpn") && strcmp(sec, "devices") && strcmp(sec, "services") &&
                          strcmp(sec, "activity") && strcmp(sec, "dns") ? "findings" : sec);
            text(d, sec);
            ni_buf_adds(d->out, "</a>: ");
            text(d, js(o, "text"));
            ni_buf_adds(d->out, " <span class=\"lik\">[");
            text(d, js(o, "likelihood"));
            ni_buf_adds(d->out, "]</span> <span class=\"basis\">Basis: ");
            text(d, js(o, "basis"));
            ni_buf_adds(d->out, "</span></li>\n");
        } else {
            ni_buf_printf(d->out, "%zu. **", i + 1);
            text(d, sec);
            ni_buf_adds(d->out, "**: ");
            text(d, js(o, "text"));
            ni_buf_adds(d->out, " *[");
            text(d, js(o, "likelihood"));
            ni_buf_adds(d->out, "]* Basis: ");
            text(d, js(o, "basis"));
            ni_buf_adds(d->out, "\n");
        }
    }
    if (d->html) ni_buf_adds(d->out, "</ol>\n");
    else ni_buf_adds(d->out, "\n");
}

static const char css[] =
    "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;background:#fff;"
    "margin:0 auto;max-width:62rem;padding:1rem 1.25rem}"
    "h1{font-size:1.6rem;line-height:1.25;margin:.6rem 0 .8rem}"
    "h2{font-size:1.3rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.2rem;break-after:avoid}"
    "nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem;font-size:.95rem}"
    "figure{margin:1.4rem 0 2rem;break-inside:avoid}"
    "figcaption{font-size:.92rem;color:#333;margin-bottom:.5rem;max-width:50rem}"
    ".cw{overflow-x:auto;margin:.2rem 0 .6rem}"
    "svg.chart{display:block;max-width:100%;height:auto}svg.chart.wide{min-width:32rem}"
    ".tw{overflow-x:auto;margin:.4rem 0 .8rem}"
    "table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #ddd;padding:.22rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f1f3f5;white-space:nowrap}td.n,th.n{text-align:right;white-space:nowrap}"
    "table.wide{font-size:.78rem}table.wide th,table.wide td{padding:.2rem .3rem}"
    "tbody tr:nth-child(even){background:#fafafa}"
    "ol.findings li{margin-bottom:.7rem}.lik{font-weight:600}.basis{color:#555;font-size:.85rem;display:block}"
    "p.note{border-left:4px solid #b35900;background:#fff4e5;padding:.4rem .7rem}"
    "footer{margin-top:2.5rem;color:#666;font-size:.8rem}"
    "@media print{body{max-width:none;font-size:10.5pt;padding:0}nav{display:none}"
    "a{color:inherit;text-decoration:none}svg.chart.wide{min-width:0}.cw,.tw{overflow:visible}td{overflow-wrap:anywhere}"
    "tbody tr:nth-child(even){background:none}table.wide{font-size:7pt;width:100%}"
    "table.wide th,table.wide td{padding:.1rem .12rem}th,th.n{white-space:normal}}"
    "@media (max-width:600px){body{padding:.6rem;font-size:14px}h1{font-size:1.3rem}h2{font-size:1.15rem}"
    "table{font-size:.78rem}th,td{padding:.2rem .35rem}}";

/* r: a document checked against the description (ni_reportdoc_load):
 * every key below is present and typed.  r is only read. */
static ni_err render_doc(const json_t *r, ni_buf *out, int html, ni_error *err)
{
    const char *schema = js(r, "schema");
    doc d = { out, html, 0 };
    const char *tz = js(json_object_get(r, "target"), "timezone");
    if (!tz) tz = "UTC";
    if (html) {
        ni_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
                         "<title>netintel profile</title><style>");
        ni_buf_adds(out, css);
        ni_buf_adds(out, "</style></head><body>\n<h1>netintel — profile of the target space</h1>\n"
                         "<nav><a href=\"#overview\">Overview</a><a href=\"#activity\">Activity</a>"
                         "<a href=\"#services\">Services</a><a href=\"#devices\">Devices</a><a href=\"#software\">Software</a>"
                         "<a href=\"#vpn\">VPN</a><a href=\"#visitors\">Visitors</a><a href=\"#vendors\">Vendors</a>"
                         "<a href=\"#findings\">Findings</a><a href=\"#hosts\">Hosts</a><a href=\"#dns\">DNS tunnels</a></nav>\n");
    } else {
        ni_buf_adds(out, "# netintel — profile of the target space\n\n");
    }
    sec_overview(&d, r);
    sec_activity(&d, r, tz);
    sec_services(&d, r);
    sec_devices(&d, r);
    sec_software(&d, r);
    sec_vpn(&d, r);
    sec_visitors(&d, r);
    sec_vendors(&d, r);
    sec_findings(&d, r);
    sec_hosts(&d, r);
    sec_dns_tunnels(&d, r);
    if (html) ni_buf_printf(out, "<footer><p>Generated by netintel %s from report.json (schema %s).</p></footer>\n"
                                 "</body></html>\n", NI_VERSION, schema);
    else ni_buf_printf(out, "---\nGenerated by netintel %s from report.json (schema %s).\n", NI_VERSION, schema);
    if (out->err) return ni_error_set(err, out->err, "report: %s", ni_strerror(out->err));
    return NI_OK;
}

static ni_err render(const char *json, ni_buf *out, int html, ni_error *err)
{
    json_t *r = ni_reportdoc_load(json, strlen(json), "report.json", err);
    if (!r) return err ? err->code : NI_ERR_FORMAT;
    ni_err e = render_doc(r, out, html, err);
    json_decref(r);
    return e;
}

ni_err ni_report_html(const char *json, ni_buf *out, ni_error *err) { return render(json, out, 1, err); }
ni_err ni_report_markdown(const char *json, ni_buf *out, ni_error *err) { return render(json, out, 0, err); }
ni_err ni_report_html_doc(const json_t *doc, ni_buf *out, ni_error *err) { return render_doc(doc, out, 1, err); }
ni_err ni_report_markdown_doc(const json_t *doc, ni_buf *out, ni_error *err) { return render_doc(doc, out, 0, err); }
