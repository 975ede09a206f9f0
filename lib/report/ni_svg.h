/* ni_svg.h — inline SVG charts for the HTML report: vertical bars (hour of
 * day, weekday), horizontal bars (makers, OS, providers, shares), a heatmap
 * (weekday × hour), a multi-series line chart (region × month) with
 * marked change points, and a bipartite figure (hosts and their providers).  Output is plain SVG 1.1 text with a <title> per
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

/* A bipartite figure (after the study's figure of hosts and the services
 * they used): nodes in two columns under their headings, edges drawn as
 * curves from left to right whose width grows with log(1 + weight) and
 * whose stroke (colour and dash pattern) is the edge's style, explained in
 * a legend.  left_more / right_more, when not NULL, are written under their
 * column ("and 4 more hosts").  Nodes and edges each have a <title>; edges
 * also carry data-from, data-to (node labels), data-weight and data-style
 * (style name) for programs reading the figure.  Output depends only on the
 * arguments (order kept as given). */
typedef struct ni_svg_edge {
    size_t from, to;            /* indices into left / right */
    double weight;              /* e.g. sessions */
    size_t style;               /* index into style_names (< 4 distinct strokes) */
    const char *note;           /* the edge's <title> text */
} ni_svg_edge;
typedef struct ni_svg_bigraph {
    const char *left_head, *right_head;
    const char *const *left; size_t nleft; const char *left_more;
    const char *const *right; size_t nright; const char *right_more;
    const ni_svg_edge *edges; size_t nedges;
    const char *const *style_names; size_t nstyles;
} ni_svg_bigraph;
void ni_svg_bipartite(ni_buf *b, const char *title, const ni_svg_bigraph *g);

#endif
