/* ni_svg.c — SVG chart primitives (see ni_svg.h).  Colours come from one
 * palette readable in print and by colour-blind readers (Okabe-Ito). */
#include "report/ni_svg.h"

#include <math.h>
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

static void open_svg(ni_buf *b, const char *title, int w, int h)
{
    ni_buf_printf(b, "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
                  "preserveAspectRatio=\"xMinYMin meet\"><title>", w, h);
    ni_svg_escape(b, title);
    ni_buf_adds(b, "</title>");
}

static double vmax(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) if (v[i] > m) m = v[i];
    return m;
}

/* A "nice" axis maximum: 1, 2 or 5 × 10^k at or above m. */
static double nice(double m)
{
    if (m <= 0) return 1;
    double e = pow(10, floor(log10(m))), f = m / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.2f", v);
}

void ni_svg_vbars(ni_buf *b, const char *title, const char *const *labels, const double *values,
                  const int *highlight, size_t n)
{
    const int W = 720, H = 260, L = 50, R = 10, T = 10, B = 40;
    open_svg(b, title, W, H);
    double top = nice(vmax(values, n));
    double pw = (double)(W - L - R) / (n ? n : 1), ph = H - T - B;
    char num[32];
    for (int g = 0; g <= 4; g++) {
        double y = T + ph - ph * g / 4.0;
        fmt_num(num, sizeof num, top * g / 4.0);
        ni_buf_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">%s</text>",
                      L, y, W - R, y, L - 4, y + 4, num);
    }
    for (size_t i = 0; i < n; i++) {
        double h = top > 0 ? ph * values[i] / top : 0, x = L + pw * i + pw * 0.1;
        fmt_num(num, sizeof num, values[i]);
        ni_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                      x, T + ph - h, pw * 0.8, h, highlight && highlight[i] ? ACCENT : BAR);
        ni_svg_escape(b, labels[i]);
        ni_buf_printf(b, ": %s</title></rect>", num);
        ni_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" fill=\"#222\">",
                      L + pw * i + pw / 2, H - B + 16);
        ni_svg_escape(b, labels[i]);
        ni_buf_adds(b, "</text>");
    }
    ni_buf_adds(b, "</svg>\n");
}

void ni_svg_hbars(ni_buf *b, const char *title, const char *const *labels, const double *values,
                  const char *const *value_text, size_t n)
{
    const int W = 720, L = 200, R = 90, row = 24, T = 6;
    int H = T * 2 + row * (int)(n ? n : 1);
    open_svg(b, title, W, H);
    double top = vmax(values, n);
    if (top <= 0) top = 1;
    for (size_t i = 0; i < n; i++) {
        double y = T + row * (double)i, w = (W - L - R) * values[i] / top;
        ni_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">", L - 6, y + 16);
        ni_svg_escape(b, labels[i]);
        ni_buf_printf(b, "</text><rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                      L, y + 4, w, row - 8, BAR);
        ni_svg_escape(b, labels[i]);
        ni_buf_adds(b, ": ");
        ni_svg_escape(b, value_text[i]);
        ni_buf_printf(b, "</title></rect><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222\">", L + w + 6, y + 16);
        ni_svg_escape(b, value_text[i]);
        ni_buf_adds(b, "</text>");
    }
    ni_buf_adds(b, "</svg>\n");
}

void ni_svg_heatmap(ni_buf *b, const char *title, const char *const *rl, size_t rows,
                    const char *const *cl, size_t cols, const double *v)
{
    const int L = 40, T = 20, cw = 27, ch = 24;
    int W = L + cw * (int)cols + 10, H = T + ch * (int)rows + 10;
    open_svg(b, title, W, H);
    double top = vmax(v, rows * cols);
    for (size_t c = 0; c < cols; c++) {
        ni_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">",
                      L + cw * (double)c + cw / 2.0, T - 6);
        ni_svg_escape(b, cl[c]);
        ni_buf_adds(b, "</text>");
    }
    char num[32];
    for (size_t r = 0; r < rows; r++) {
        ni_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#222\">",
                      L - 4, T + ch * (double)r + ch * 0.65);
        ni_svg_escape(b, rl[r]);
        ni_buf_adds(b, "</text>");
        for (size_t c = 0; c < cols; c++) {
            double x = v[r * cols + c], t = top > 0 ? x / top : 0;
            /* white → palette blue */
            int R = (int)(255 - t * (255 - 0x00)), G = (int)(255 - t * (255 - 0x72)), B = (int)(255 - t * (255 - 0xB2));
            fmt_num(num, sizeof num, x);
            ni_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\" stroke=\"#fff\"><title>",
                          L + cw * (int)c, T + ch * (int)r, cw, ch, R, G, B);
            ni_svg_escape(b, rl[r]);
            ni_buf_adds(b, " ");
            ni_svg_escape(b, cl[c]);
            ni_buf_printf(b, ": %s</title></rect>", num);
        }
    }
    ni_buf_adds(b, "</svg>\n");
}

void ni_svg_lines(ni_buf *b, const char *title, const char *const *names, size_t ns,
                  const char *const *xl, size_t np, const double *v, const ni_svg_mark *marks, size_t nm)
{
    const int W = 720, L = 50, R = 130, T = 10, B = 50;
    const int H = 300;
    open_svg(b, title, W, H);
    double top = nice(vmax(v, ns * np)), pw = np > 1 ? (double)(W - L - R) / (double)(np - 1) : 0, ph = H - T - B;
    char num[32];
    for (int g = 0; g <= 4; g++) {
        double y = T + ph - ph * g / 4.0;
        fmt_num(num, sizeof num, top * g / 4.0);
        ni_buf_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">%s</text>",
                      L, y, W - R, y, L - 4, y + 4, num);
    }
    size_t step = np > 12 ? (np + 11) / 12 : 1;
    for (size_t i = 0; i < np; i += step) {
        ni_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" fill=\"#444\" "
                      "transform=\"rotate(-40 %.1f %d)\">", L + pw * i, H - B + 14, L + pw * i, H - B + 14);
        ni_svg_escape(b, xl[i]);
        ni_buf_adds(b, "</text>");
    }
    for (size_t s = 0; s < ns; s++) {
        const char *col = palette[s % NPAL];
        ni_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (size_t i = 0; i < np; i++)
            ni_buf_printf(b, "%.1f,%.1f ", L + pw * i, T + ph - ph * v[s * np + i] / top);
        ni_buf_adds(b, "\"><title>");
        ni_svg_escape(b, names[s]);
        ni_buf_adds(b, "</title></polyline>");
        ni_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"%s\">", W - R + 8, T + 14 + 16 * (int)s, col);
        ni_svg_escape(b, names[s]);
        ni_buf_adds(b, "</text>");
    }
    for (size_t k = 0; k < nm; k++) {
        if (marks[k].point >= np) continue;
        double x = L + pw * marks[k].point;
        ni_buf_printf(b, "<line class=\"change\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-dasharray=\"4 3\" stroke-width=\"1.5\"/>"
                      "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"%s\">",
                      x, T, x, T + ph, ACCENT, x + 3, T + 12 + 14 * (int)k, ACCENT);
        ni_svg_escape(b, marks[k].label);
        ni_buf_adds(b, "</text>");
    }
    ni_buf_adds(b, "</svg>\n");
}
