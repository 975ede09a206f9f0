/* ni_diff.h — what changed between two profiles (two periods or two
 * targets): activity shape (peak hours, weekday share), shares of device
 * makers, operating systems, Windows versions and browsers among hosts,
 * services and VPN providers gained or lost, and visitors' regions.  Each
 * changed share is tested with a two-proportion z-test; its p-value (the
 * chance of a difference at least this large between two samples of the
 * same population — not the chance that the change is real) is also given
 * adjusted for the number of comparisons in the diff (Holm–Bonferroni), and a
 * change is called significant when the adjusted p is below 0.05.  Input:
 * two report.json documents read through lib/analyze/ni_reportdoc (a
 * missing or mistyped key is an error naming the file and the key); output:
 * JSON (schema netintel.diff/2) and Markdown. */
#ifndef NI_DIFF_H
#define NI_DIFF_H

#include <stdbool.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"

#define NI_DIFF_ALPHA 0.05      /* family-wise error rate of the Holm procedure */

/* old_json / new_json: report.json texts (NUL-terminated).  Writes the diff
 * as JSON into json_out and as Markdown into md_out and sets *changed: false
 * when the two reports carry the same figures (every key but "target" and
 * "window" equal).  NI_ERR_FORMAT with err naming old_name or new_name when
 * a document is not a report.json. */
ni_err ni_diff_reports(const char *old_json, const char *old_name, const char *new_json,
                       const char *new_name, bool *changed, ni_buf *json_out, ni_buf *md_out, ni_error *err);

/* Holm–Bonferroni: adj[i] = the adjusted p-value of p[i] among n (adj may be p). */
void ni_diff_holm(const double *p, double *adj, size_t n);

#endif
