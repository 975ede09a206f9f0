/* ni_tsv.h — reader for the plain-text catalogues under data/ (<name>.tsv).
 *
 * Format: UTF-8 text, one record per line, fields separated by TAB.  The
 * first non-comment, non-blank line is the header naming the columns.  Lines
 * starting with '#' and blank lines are skipped.  Every record has exactly as
 * many fields as the header (an empty field is "").  A trailing CR is
 * dropped.  Lines longer than NI_LINE_MAX, NUL bytes and field-count mismatches
 * are errors reported as "data/x.tsv:LINE: problem".
 *
 * Usage:
 *     ni_tsv t;
 *     if (ni_tsv_open(&t, path, err)) return err->code;
 *     int c_name = ni_tsv_col(&t, "name");           (-1 if absent)
 *     while ((r = ni_tsv_next(&t, err)) > 0) use ni_tsv_field(&t, c_name);
 *     ni_tsv_close(&t);
 * Field strings point into the reader's line buffer: valid until the next
 * ni_tsv_next()/ni_tsv_close(); copy what you keep. */
#ifndef NI_TSV_H
#define NI_TSV_H

#include <stdio.h>
#include "netintel/netintel.h"

#define NI_TSV_COLS_MAX 32

typedef struct ni_tsv {
    FILE *f;
    char path[256];             /* as given, for messages */
    unsigned line;              /* 1-based number of the current line */
    char *buf;                  /* NI_LINE_MAX + 1 bytes */
    char *win;                  /* the file read ahead (NI_TSV_WINDOW bytes): lines are found in it with memchr */
    size_t wlen, woff;          /* bytes in win, and where the next line starts */
    int eof;
    char *hdr;                  /* copy of the header line */
    const char *cols[NI_TSV_COLS_MAX];
    unsigned ncols;
    const char *fields[NI_TSV_COLS_MAX];
} ni_tsv;

/* Opens path and reads the header.  NI_ERR_DATA (missing file, empty file,
 * bad header) with err set; on error nothing needs closing. */
ni_err ni_tsv_open(ni_tsv *t, const char *path, ni_error *err);
/* Column index of name in the header, or -1. */
int ni_tsv_col(const ni_tsv *t, const char *name);
/* Same, but sets err ("data/x.tsv: no column 'name'") and returns -1 when absent. */
int ni_tsv_need(const ni_tsv *t, const char *name, ni_error *err);
/* Reads the next record: 1 = a record, 0 = end of file, -1 = error (err set,
 * code NI_ERR_DATA). */
int ni_tsv_next(ni_tsv *t, ni_error *err);
/* Field i of the current record ("" when i < 0 or out of range). */
const char *ni_tsv_field(const ni_tsv *t, int i);
/* Sets err to "path:LINE: <message>" for the current line; returns NI_ERR_DATA. */
ni_err ni_tsv_error(const ni_tsv *t, ni_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ni_tsv_close(ni_tsv *t);

#endif
