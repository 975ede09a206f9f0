/* ni_out.h — sessions as text: JSON Lines (RFC 8259, one object per line,
 * the field contract of docs/sessions.md) and CSV (RFC 4180: a header row,
 * then every JSON Lines field as a fixed column — both written from one walk
 * over the fields; arrays and objects as their JSON text in one cell,
 * tcp_flags as two columns; CRLF line ends; cells quoted when they hold a
 * comma, quote, CR or LF; invalid UTF-8 replaced by U+FFFD as in JSON; a
 * cell starting with = + - @ TAB CR that is not a number prefixed with a
 * single quote, the OWASP rule against formula injection).  Absent evidence
 * is omitted (JSON) or left empty (CSV).  The writer formats into a caller's
 * ni_buf; the caller writes the bytes wherever it wants (core/ni_file.h). */
#ifndef NI_OUT_H
#define NI_OUT_H

#include "netintel/netintel.h"
#include "core/ni_buf.h"

typedef enum ni_out_format { NI_OUT_JSONL = 0, NI_OUT_CSV } ni_out_format;

/* "jsonl" / "json" / "csv" → format; NI_ERR_ARG otherwise. */
ni_err ni_out_format_parse(const char *name, ni_out_format *fmt);

/* Appends what comes before the first session (the CSV header row). */
void ni_out_begin(ni_buf *b, ni_out_format fmt);
/* Appends one session (a JSON line or a CSV row, with its line end). */
void ni_out_session(ni_buf *b, ni_out_format fmt, const ni_session *s);

/* Helpers shared with other writers. */
const char *ni_out_proto_name(uint8_t proto, char buf[4]);     /* "tcp", ..., else "47" */
const char *ni_out_end_name(uint8_t reason);                   /* "fin", ..., NULL for none */
const char *ni_out_tcp_flags(uint8_t flags, char buf[9]);      /* "SAPFRUEC" order */

#endif
