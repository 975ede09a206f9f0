/* ni_reportdoc.h — the reader of report.json: parses a document with
 * jansson and checks it against the one description of the contract
 * (ni_reportdef, generated from docs/report-schema.json), so that every
 * consumer (`report`, `diff`, the summary of `profile`) reads a document in
 * which every required key is present with its type, and no key it does not
 * know.  A missing, mistyped or unknown key is an error naming the file and
 * the key's path:  "old.json: report.json key `activity.by_hour` missing".
 * After a successful load the accessors below never meet a missing required
 * key; they are for optional and nullable values too. */
#ifndef NI_REPORTDOC_H
#define NI_REPORTDOC_H

#include <jansson.h>
#include "netintel/netintel.h"
#include "analyze/ni_reportdef.h"

/* Parses text (len bytes; NUL-terminated) as report.json and checks it.
 * name names the document in messages (a file path).  Returns a new
 * reference (json_decref it) or NULL with err set (NI_ERR_FORMAT): not JSON,
 * JSON Lines, not a netintel.profile/1 document, or a key missing, mistyped,
 * out of range or unknown. */
json_t *ni_reportdoc_load(const char *text, size_t len, const char *name, ni_error *err);

/* Checks a parsed document against def (ni_reportdef_root for a whole
 * report.json); NI_OK or NI_ERR_FORMAT with "NAME: report.json key `PATH` ...". */
ni_err ni_reportdoc_check(const json_t *doc, const ni_rd_field *def, const char *name, ni_error *err);

/* Accessors on a checked document: the value at a dotted path ("totals.hosts",
 * "limits.names.dropped"); NULL when an optional key is absent. */
const json_t *ni_reportdoc_get(const json_t *doc, const char *path);
/* Its integer value (0 for null or absent optional values). */
long long ni_reportdoc_int(const json_t *doc, const char *path);
/* Its string value (NULL for null or absent optional values). */
const char *ni_reportdoc_str(const json_t *doc, const char *path);

#endif
