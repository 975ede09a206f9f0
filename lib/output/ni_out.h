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

/* ---- the field walk, for other writers (stores) ----------------------------
 * ni_out_fields calls fn once per field of s, in the JSON Lines order, with
 * the same values JSON Lines writes: STR text (invalid UTF-8 replaced by
 * U+FFFD, as in JSON Lines), UINT numbers, TRUE flags (present only when
 * true), JSON arrays and objects as their JSON Lines text (tcp_flags
 * included).  present is false for absent evidence.  s NULL: every field's
 * name and kind, nothing present (a schema).  Text is valid during the call. */
typedef enum ni_out_kind { NI_OUT_STR = 1, NI_OUT_UINT, NI_OUT_TRUE, NI_OUT_JSON } ni_out_kind;
typedef struct ni_out_field {
    const char *name;
    ni_out_kind kind;
    bool present;
    const char *text;           /* STR, JSON */
    uint64_t num;               /* UINT */
} ni_out_field;
typedef void (*ni_out_field_fn)(void *ud, const ni_out_field *f);
void ni_out_fields(const ni_session *s, ni_out_field_fn fn, void *ud);

/* Helpers shared with other writers. */
const char *ni_out_proto_name(uint8_t proto, char buf[4]);     /* "tcp", ..., else "47" */
const char *ni_out_end_name(uint8_t reason);                   /* "fin", ..., NULL for none */
const char *ni_out_tcp_flags(uint8_t flags, char buf[9]);      /* "SAPFRUEC" order */

#endif
