/* ni_report.h — the human-readable views of a profile: one self-contained
 * HTML file (inline CSS and SVG charts, no scripts, no network requests,
 * readable printed and on a phone) and a Markdown file with the same content
 * as tables.  Both are rendered from the report.json document (schema
 * netintel.profile/1, docs/report-schema.json), which stays the single
 * source of every figure. */
#ifndef NI_REPORT_H
#define NI_REPORT_H

#include <jansson.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"

/* json is the text of report.json.  On a document that does not parse or is
 * not a netintel.profile/1, returns NI_ERR_FORMAT with err set. */
ni_err ni_report_html(const char *json, ni_buf *out, ni_error *err);
ni_err ni_report_markdown(const char *json, ni_buf *out, ni_error *err);
/* The same from a document already parsed and checked by ni_reportdoc_load
 * (one parse for both views); doc is only read. */
ni_err ni_report_html_doc(const json_t *doc, ni_buf *out, ni_error *err);
ni_err ni_report_markdown_doc(const json_t *doc, ni_buf *out, ni_error *err);

#endif
