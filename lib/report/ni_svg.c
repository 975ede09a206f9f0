/* ni_svg.c — SVG chart primitives (see ni_svg.h).  Colours come from one
 * palette readable in print and by colour-blind readers (Okabe-Ito). */
#include "report/ni_svg.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const palette[] = { "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                                       "#D55E00", "#F0E442", "#000000" };
#define NPAL (sizeof palette / sizeof palette[0])
#define BAR "#0072B2"
#define ACCENT "#D55E00"

void ni_svg_escape(ni_buf *b, const char *s)
{
    if (!s) return;
    for (; *s; s++) {
        switch (*s) {
        case '<': ni_buf_adds(b, "&lt;"); break;
        case '>': ni_buf_adds(b, "&gt;"); break;
        case '&': ni_buf_adds(b, "&amp;"); break;
        case '"': ni_buf_adds(b, "&quot;"); break;
        case '\'': ni_buf_adds(b, "&#39;"); break;
        default: ni_buf_addc(b, *s);
        }
    }
}

/* Charts are drawn at their natural size in CSS pixels (width/height
 * attributes) and shrink with the page (max-width in the report's CSS);
 * "wide" charts (many x labels) keep a minimum width on phones and scroll
 * sideways inside their wrapper instead of shrinking their text away. */
static void open_svg(ni_buf *b, const char *title, int w, int h, int wide)
{
    ni_buf_printf(b, "<svg class=\"chart%s\" role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "xmlns=\"http://www.w3.org/2000/svg\" preserveAspectRatio=\"xMinYMin meet\" "
                  "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\"><title>",
                  wide ? " wide" : "", w, h, w, h);
    ni_svg_escape(b, title);
    ni_buf_adds(b, "</title>");
}

static double vmax(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) if (v[i] > m) m = v[i];
    return m;
}

/* Axis ticks: a "nice" step (1, 2, 2.5 or 5 × 10^k, at least 1) giving at
 * most 5 intervals, and the axis top (a multiple of the step at or above m). */
static double nice_step(double m, int *nticks)
{
    if (!(m > 0)) { *nticks = 1; return 1; }
    if (m > 1e15) m = 1e15;
    double raw = m / 5, e = pow(10, floor(log10(raw))), f = raw / e;
    double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
    if (step < 1) step = 1;
    int n = (int)ceil(m / step - 1e-9);
    *nticks = n < 1 ? 1 : n;
    return step;
}

/* Integers with thousands separators (12,345); others with up to 2 decimals. */
static void fmt_num(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        char t[32];
        snprintf(t, sizeof t, "%.0f", fabs(v));
        size_t len = strlen(t), o = 0;
        if (v < 0 && o + 1 < n) buf[o++] = '-';
        for (size_t i = 0; i < len && o + 1 < n; i++) {
            if (i && (len - i) % 3 == 0 && o + 2 < n) buf[o++] = ',';
            buf[o++] = t[i];
        }
        buf[o] = 0;
    } else {
        snprintf(buf, n, "%.2f", v);
    }
}

/* Label text cut to at most max characters (UTF-8 aware): when longer, the
 * first max - 1 characters and "…" (the full text stays in the <title>). */
static void label(ni_buf *b, const char *s, size_t max)
{
    if (!s) return;
    size_t chars = 0, cut = 0;
    for (size_t i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80) continue;   /* continuation byte */
        if (chars == max - 1) cut = i;
        chars++;
    }
    if (chars <= max) { ni_svg_escape(b, s); return; }
    char tmp[256];
    size_t n = cut < sizeof tmp - 1 ? cut : sizeof tmp - 1;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;   /* never split a character */
    memcpy(tmp, s, n);
    tmp[n] = 0;
    ni_svg_escape(b, tmp);
    ni_buf_adds(b, "\xE2\x80\xA6");
}

/* Horizontal grid lines and y-axis numbers for plot area [T, T+ph], x from L to x2. */
static double y_axis(ni_buf *b, double m, int L, int x2, int T, double ph)
{
    int nt;
    double step = nice_step(m, &nt), top = step * nt;
    char num[32];
    for (int g = 0; g <= nt; g++) {
        double y = T + ph - ph * g / nt;
        fmt_num(num, sizeof num, step * g);
        ni_buf_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>"
                      "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" fill=\"#444\">%s</text>",
                      L, y, x2, y, g ? "#e3e3e3" : "#999", L - 5, y + 4, num);
    }
    return top;
}

void ni_svg_vbars(ni_buf *b, const char *title, const char *const *labels, const double *values,
                  const int *highlight, size_t n)
{
    const int L = 56, R = 8, T = 18, B = 28, H = 250;
    int W = n > 12 ? 660 : 460;
    open_svg(b, title, W, H, n > 12);
    double ph = H - T - B;
    double top = y_axis(b, vmax(values, n), L, W - R, T, ph);
    double pw = (double)(W - L - R) / (double)(n ? n : 1);
    char num[32];
    for (size_t i = 0; i < n; i++) {
        double h = top > 0 ? ph * values[i] / top : 0, x = L + pw * (double)i + pw * 0.12;
        fmt_num(num, sizeof num, values[i]);
        ni_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                      x, T + ph - h, pw * 0.76, h, highlight && highlight[i] ? ACCENT : BAR);
        ni_svg_escape(b, labels[i]);
        ni_buf_printf(b, ": %s</title></rect>", num);
        if (n <= 12)   /* few bars: the value above each */
            ni_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">%s</text>",
                          L + pw * (double)i + pw / 2, T + ph - h - 4, num);
        ni_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">",
                      L + pw * (double)i + pw / 2, H - B + 17);
        label(b, labels[i], 12);
        ni_buf_adds(b, "</text>");
    }
    ni_buf_adds(b, "</svg>\n");
}

void ni_svg_hbars(ni_buf *b, const char *title, const char *const *labels, const double *values,
                  const char *const *value_text, size_t n)
{
    const int W = 560, L = 176, R = 96, row = 26, T = 4;
    int H = T * 2 + row * (int)(n ? n : 1);
    open_svg(b, title, W, H, 0);
    double top = vmax(values, n);
    if (top <= 0) top = 1;
    ni_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", L, T, L, H - T);
    for (size_t i = 0; i < n; i++) {
        double y = T + row * (double)i, w = (W - L - R) * values[i] / top;
        if (values[i] > 0 && w < 1) w = 1;  /* a non-zero value stays visible */
        ni_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\" text-anchor=\"end\" fill=\"#222\">", L - 6, y + 18);
        label(b, labels[i], 22);
        ni_buf_printf(b, "</text><rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                      L, y + 5, w, row - 9, BAR);
        ni_svg_escape(b, labels[i]);
        ni_buf_adds(b, ": ");
        ni_svg_escape(b, value_text[i]);
        ni_buf_printf(b, "</title></rect><text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#222\">", L + w + 6, y + 18);
        ni_svg_escape(b, value_text[i]);
        ni_buf_adds(b, "</text>");
    }
    ni_buf_adds(b, "</svg>\n");
}

/* White → palette blue at t in [0, 1]. */
static void heat(char *out, size_t n, double t)
{
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    int R = (int)(255 - t * (255 - 0x00)), G = (int)(255 - t * (255 - 0x72)), B = (int)(255 - t * (255 - 0xB2));
    snprintf(out, n, "#%02x%02x%02x", R, G, B);
}

void ni_svg_heatmap(ni_buf *b, const char *title, const char *const *rl, size_t rows,
                    const char *const *cl, size_t cols, const double *v)
{
    const int L = 44, T = 22, cw = 26, ch = 26, LEG = 40;
    int W = L + cw * (int)cols + 8, H = T + ch * (int)rows + LEG;
    open_svg(b, title, W, H, cols > 12);
    double top = vmax(v, rows * cols);
    char num[32], col[16];
    for (size_t c = 0; c < cols; c++) {
        ni_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" fill=\"#444\">",
                      L + cw * (double)c + cw / 2.0, T - 7);
        label(b, cl[c], 4);
        ni_buf_adds(b, "</text>");
    }
    for (size_t r = 0; r < rows; r++) {
        ni_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">",
                      L - 5, T + ch * (double)r + ch * 0.66);
        label(b, rl[r], 5);
        ni_buf_adds(b, "</text>");
        for (size_t c = 0; c < cols; c++) {
            double x = v[r * cols + c];
            heat(col, sizeof col, top > 0 ? x / top : 0);
            fmt_num(num, sizeof num, x);
            ni_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\"><title>",
                          L + cw * (int)c, T + ch * (int)r, cw, ch, col);
            ni_svg_escape(b, rl[r]);
            ni_buf_adds(b, " ");
            ni_svg_escape(b, cl[c]);
            ni_buf_printf(b, ": %s</title></rect>", num);
        }
    }
    /* legend: five swatches from 0 to the maximum */
    int ly = T + ch * (int)rows + 12;
    ni_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\" fill=\"#444\">scale</text>", L - 5, ly + 13);
    for (int k = 0; k < 5; k++) {
        heat(col, sizeof col, k / 4.0);
        fmt_num(num, sizeof num, top * k / 4.0);
        if (num[0] && strchr(num, '.')) fmt_num(num, sizeof num, floor(top * k / 4.0 + 0.5));
        ni_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"18\" fill=\"%s\" stroke=\"#bbb\"/>"
                      "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#444\">%s</text>",
                      L + k * 74, ly, col, L + k * 74 + 23, ly + 14, num);
    }
    ni_buf_adds(b, "</svg>\n");
}

void ni_svg_lines(ni_buf *b, const char *title, const char *const *names, size_t ns,
                  const char *const *xl, size_t np, const double *v, const ni_svg_mark *marks, size_t nm)
{
    const int W = 700, L = 56, R = 132, T = 24, B = 56, H = 320;
    open_svg(b, title, W, H, 1);
    double ph = H - T - B, pw = np > 1 ? (double)(W - L - R) / (double)(np - 1) : 0;
    double x0 = np > 1 ? L : L + (W - L - R) / 2.0;
    double top = y_axis(b, vmax(v, ns * np), L, W - R, T, ph);
    size_t step = np > 12 ? (np + 11) / 12 : 1;
    for (size_t i = 0; i < np; i += step) {
        double x = x0 + pw * (double)i;
        ni_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>"
                      "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"end\" fill=\"#444\" "
                      "transform=\"rotate(-40 %.1f %d)\">", x, T + ph, x, T + ph + 4, x, H - B + 16, x, H - B + 16);
        ni_svg_escape(b, xl[i]);
        ni_buf_adds(b, "</text>");
    }
    for (size_t s = 0; s < ns; s++) {
        const char *col = palette[s % NPAL];
        ni_buf_printf(b, "<g><title>");
        ni_svg_escape(b, names[s]);
        ni_buf_printf(b, "</title><polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\" stroke-linejoin=\"round\" points=\"", col);
        for (size_t i = 0; i < np; i++)
            ni_buf_printf(b, "%.1f,%.1f ", x0 + pw * (double)i, T + ph - ph * v[s * np + i] / top);
        ni_buf_adds(b, "\"/>");
        if (np <= 36)
            for (size_t i = 0; i < np; i++)
                ni_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"/>",
                              x0 + pw * (double)i, T + ph - ph * v[s * np + i] / top, col);
        ni_buf_adds(b, "</g>");
        /* legend: a line swatch and the name */
        int ly = T + 8 + 20 * (int)s;
        ni_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
                      "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#222\">", W - R + 10, ly, W - R + 28, ly, col,
                      W - R + 33, ly + 4);
        label(b, names[s], 13);
        ni_buf_adds(b, "</text>");
    }
    for (size_t k = 0; k < nm; k++) {
        if (marks[k].point >= np) continue;
        double x = x0 + pw * (double)marks[k].point;
        bool right_half = x > L + (W - L - R) / 2.0;
        ni_buf_printf(b, "<line class=\"change\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-dasharray=\"5 3\" stroke-width=\"1.6\"/>"
                      "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" font-weight=\"600\" fill=\"%s\" text-anchor=\"%s\">",
                      x, T - 10, x, T + ph, ACCENT, right_half ? x - 5 : x + 5, T - 12 + 14 * (int)(k + 1), ACCENT,
                      right_half ? "end" : "start");
        ni_svg_escape(b, marks[k].label);
        ni_buf_adds(b, "</text>");
    }
    ni_buf_adds(b, "</svg>\n");
}

/* ---- bipartite figure ------------------------------------------------------ */

#define BG_W 760
#define BG_ROW 20
#define BG_TOP 34                  /* first node row (headings above) */
#define BG_XL 236                  /* left node column */
#define BG_XR 524                  /* right node column */
#define BG_LABEL 30                /* label characters */

static const struct { const char *colour, *dash; } bg_styles[] = {
    { "#0072B2", NULL }, { "#D55E00", "7 4" }, { "#009E73", "2 3" }, { "#666666", "10 3 2 3" },
};
#define BG_NSTYLES (sizeof bg_styles / sizeof bg_styles[0])

static double bg_width(double w)
{
    double x = 0.75 + log1p(w > 0 ? w : 0);
    return x > 7 ? 7 : x;
}

static void bg_stroke(ni_buf *b, size_t style, double width)
{
    size_t s = style < BG_NSTYLES ? style : BG_NSTYLES - 1;
    ni_buf_printf(b, " stroke=\"%s\" stroke-width=\"%.1f\"", bg_styles[s].colour, width);
    if (bg_styles[s].dash) ni_buf_printf(b, " stroke-dasharray=\"%s\"", bg_styles[s].dash);
}

/* y of node i of a column of k nodes among rows, centred vertically. */
static double bg_y(size_t i, size_t k, size_t rows)
{
    return BG_TOP + (double)(rows - k) * BG_ROW / 2.0 + (double)i * BG_ROW + BG_ROW / 2.0;
}

static void bg_node(ni_buf *b, const char *cls, const char *name, double x, double y, bool right)
{
    ni_buf_adds(b, "<g class=\"");
    ni_buf_adds(b, cls);
    ni_buf_adds(b, "\"><title>");
    ni_svg_escape(b, name);
    ni_buf_printf(b, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#333\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"%s\">",
                  x, y, right ? x + 9 : x - 9, y + 4, right ? "start" : "end");
    label(b, name, BG_LABEL);
    ni_buf_adds(b, "</text></g>");
}

void ni_svg_bipartite(ni_buf *b, const char *title, const ni_svg_bigraph *g)
{
    size_t kl = g->nleft + (g->left_more ? 1 : 0), kr = g->nright + (g->right_more ? 1 : 0);
    size_t rows = kl > kr ? kl : kr;
    if (rows == 0) rows = 1;
    size_t ns = g->nstyles < BG_NSTYLES ? g->nstyles : BG_NSTYLES;
    int legend_y = BG_TOP + (int)rows * BG_ROW + 22;
    int h = legend_y + 26;
    open_svg(b, title, BG_W, h, 1);
    ni_buf_printf(b, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"end\">", BG_XL);
    ni_svg_escape(b, g->left_head);
    ni_buf_printf(b, "</text><text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", BG_XR);
    ni_svg_escape(b, g->right_head);
    ni_buf_adds(b, "</text>");

    /* edges first, nodes drawn over them */
    ni_buf_adds(b, "<g class=\"edges\" fill=\"none\" stroke-linecap=\"round\" stroke-opacity=\"0.7\">");
    for (size_t i = 0; i < g->nedges; i++) {
        const ni_svg_edge *e = &g->edges[i];
        if (e->from >= g->nleft || e->to >= g->nright) continue;
        double y1 = bg_y(e->from, kl, rows), y2 = bg_y(e->to, kr, rows), xm = (BG_XL + BG_XR) / 2.0;
        ni_buf_adds(b, "<path class=\"edge\" data-from=\"");
        ni_svg_escape(b, g->left[e->from]);
        ni_buf_adds(b, "\" data-to=\"");
        ni_svg_escape(b, g->right[e->to]);
        ni_buf_printf(b, "\" data-weight=\"%.0f\" data-style=\"", e->weight);
        ni_svg_escape(b, e->style < g->nstyles ? g->style_names[e->style] : "");
        ni_buf_printf(b, "\" d=\"M%d %.1f C%.1f %.1f %.1f %.1f %d %.1f\"", BG_XL, y1, xm, y1, xm, y2, BG_XR, y2);
        bg_stroke(b, e->style, bg_width(e->weight));
        ni_buf_adds(b, "><title>");
        ni_svg_escape(b, e->note);
        ni_buf_adds(b, "</title></path>");
    }
    ni_buf_adds(b, "</g>");

    for (size_t i = 0; i < g->nleft; i++) bg_node(b, "node left", g->left[i], BG_XL, bg_y(i, kl, rows), false);
    for (size_t i = 0; i < g->nright; i++) bg_node(b, "node right", g->right[i], BG_XR, bg_y(i, kr, rows), true);
    if (g->left_more) {
        ni_buf_printf(b, "<text class=\"more\" x=\"%d\" y=\"%.1f\" font-size=\"12\" font-style=\"italic\" "
                      "text-anchor=\"end\">", BG_XL - 9, bg_y(g->nleft, kl, rows) + 4);
        ni_svg_escape(b, g->left_more);
        ni_buf_adds(b, "</text>");
    }
    if (g->right_more) {
        ni_buf_printf(b, "<text class=\"more\" x=\"%d\" y=\"%.1f\" font-size=\"12\" font-style=\"italic\">",
                      BG_XR + 9, bg_y(g->nright, kr, rows) + 4);
        ni_svg_escape(b, g->right_more);
        ni_buf_adds(b, "</text>");
    }

    /* legend: one stroke sample per style, then the width rule */
    int x = 20;
    ni_buf_adds(b, "<g class=\"legend\" font-size=\"12\">");
    for (size_t s = 0; s < ns; s++) {
        ni_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"", x, legend_y, x + 34, legend_y);
        bg_stroke(b, s, 3);
        ni_buf_printf(b, "/><text x=\"%d\" y=\"%d\">", x + 40, legend_y + 4);
        ni_svg_escape(b, g->style_names[s]);
        ni_buf_adds(b, "</text>");
        x += 60 + 7 * (int)strlen(g->style_names[s] ? g->style_names[s] : "");
    }
    ni_buf_printf(b, "<text x=\"%d\" y=\"%d\">line width: log(1 + sessions)</text></g></svg>", x + 10, legend_y + 4);
}
