/* ni_svg.h — inline SVG charts for the HTML report: vertical bars (hour of
 * day, weekday), horizontal bars (makers, OS, providers, shares), a heatmap
 * (weekday × hour) and a multi-series line chart (region × month) with
 * marked change points.  Output is plain SVG 1.1 text with a <title> per
 * chart and per mark (readable without JavaScript, scales with the page via
 * viewBox), escaped for XML. */
#ifndef NI_SVG_H
#define NI_SVG_H

#include <stddef.h>
#include "core/ni_buf.h"

/* XML-escapes s into b. */
void ni_svg_escape(ni_buf *b, const char *s);

/* Vertical bars: n values with labels; highlight[i] != 0 draws bar i in the
 * accent colour (peaks).  title is the chart's accessible name. */
void ni_svg_vbars(ni_buf *b, const char *title, const char *const *labels, const double *values,
                  const int *highlight, size_t n);

/* Horizontal bars, values drawn with their text (value_text[i]). */
void ni_svg_hbars(ni_buf *b, const char *title, const char *const *labels, const double *values,
                  const char *const *value_text, size_t n);

/* Heatmap rows × cols (row-major values). */
void ni_svg_heatmap(ni_buf *b, const char *title, const char *const *row_labels, size_t rows,
                    const char *const *col_labels, size_t cols, const double *values);

/* Lines: series s has values[s * npoints + i] at x label xlabels[i];
 * marks: (series, point index) pairs drawn as a vertical dashed line with a
 * label. */
typedef struct ni_svg_mark { size_t series, point; const char *label; } ni_svg_mark;
void ni_svg_lines(ni_buf *b, const char *title, const char *const *series_names, size_t nseries,
                  const char *const *xlabels, size_t npoints, const double *values,
                  const ni_svg_mark *marks, size_t nmarks);

#endif
