/* ni_tsv.c — reader for the data/<name>.tsv catalogues (see ni_tsv.h): header
 * line, '#' comments, TAB-separated fields, bounded line length. */
#include "enrich/ni_tsv.h"
#include "core/ni_limits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

ni_err ni_tsv_error(const ni_tsv *t, ni_error *err, const char *fmt, ...)
{
    char what[NI_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ni_error_set(err, NI_ERR_DATA, "%s:%u: %s", t->path, t->line, what);
}

/* The read-ahead window: a longest line and its newline, and as much again. */
#define NI_TSV_WINDOW ((size_t)NI_LINE_MAX + 1 + 65536)

/* Reads one physical line into t->buf (without the newline).  Returns its
 * length, -1 at end of file, -2 on error (err set).  Lines are found with
 * memchr in a window read ahead by fread, not byte by byte; the errors are
 * those of reading byte by byte (a NUL before the NI_LINE_MAX-th byte, else
 * a line longer than NI_LINE_MAX). */
static long read_line(ni_tsv *t, ni_error *err)
{
    for (;;) {
        char *p = t->win + t->woff;
        size_t avail = t->wlen - t->woff;
        char *nl = memchr(p, '\n', avail < (size_t)NI_LINE_MAX + 1 ? avail : (size_t)NI_LINE_MAX + 1);
        if (nl || t->eof || avail > NI_LINE_MAX) {
            if (!nl && avail == 0) return -1;
            size_t n = nl ? (size_t)(nl - p) : avail > NI_LINE_MAX ? (size_t)NI_LINE_MAX + 1 : avail;
            if (memchr(p, 0, n < NI_LINE_MAX ? n : NI_LINE_MAX)) {
                t->line++;
                ni_tsv_error(t, err, "NUL byte");
                return -2;
            }
            if (n > NI_LINE_MAX) {
                t->line++;
                ni_tsv_error(t, err, "line longer than %u bytes", NI_LINE_MAX);
                return -2;
            }
            memcpy(t->buf, p, n);
            t->woff += n + (nl ? 1 : 0);
            t->line++;
            if (n > 0 && t->buf[n - 1] == '\r') n--;
            t->buf[n] = 0;
            return (long)n;
        }
        /* no whole line ahead: keep the part read, read more after it */
        memmove(t->win, p, avail);
        t->wlen = avail;
        t->woff = 0;
        size_t got = fread(t->win + t->wlen, 1, NI_TSV_WINDOW - t->wlen, t->f);
        t->wlen += got;
        if (!got) {
            if (ferror(t->f)) {
                ni_error_set(err, NI_ERR_DATA, "%s: read error: %s", t->path, strerror(errno));
                return -2;
            }
            t->eof = 1;
        }
    }
}

static int skip_line(const char *s, size_t n)
{
    if (n == 0 || s[0] == '#') return 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

/* Splits s[0..n) at TABs into out[]; returns the field count, or
 * NI_TSV_COLS_MAX + 1 when there are too many. */
static unsigned split(char *s, size_t n, const char **out)
{
    unsigned k = 0;
    char *p = s, *end = s + n;
    for (;;) {
        if (k >= NI_TSV_COLS_MAX) return NI_TSV_COLS_MAX + 1;
        char *tab = memchr(p, '\t', (size_t)(end - p));
        out[k++] = p;
        if (!tab) break;
        *tab = 0;
        p = tab + 1;
    }
    return k;
}

ni_err ni_tsv_open(ni_tsv *t, const char *path, ni_error *err)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->f = fopen(path, "rb");
    if (!t->f)
        return ni_error_set(err, NI_ERR_DATA, "%s: cannot open: %s", path, strerror(errno));
    t->buf = malloc(NI_LINE_MAX + 1);
    t->win = malloc(NI_TSV_WINDOW);
    if (!t->buf || !t->win) { ni_tsv_close(t); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    long n;
    while ((n = read_line(t, err)) >= 0 && skip_line(t->buf, (size_t)n)) { }
    if (n == -2) { ni_tsv_close(t); return NI_ERR_DATA; }
    if (n == -1) {
        ni_tsv_close(t);
        return ni_error_set(err, NI_ERR_DATA, "%s: empty file (no header line)", path);
    }
    t->hdr = strdup(t->buf);
    if (!t->hdr) { ni_tsv_close(t); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    t->ncols = split(t->hdr, (size_t)n, t->cols);
    if (t->ncols > NI_TSV_COLS_MAX) {
        ni_err e = ni_tsv_error(t, err, "more than %u columns", NI_TSV_COLS_MAX);
        ni_tsv_close(t);
        return e;
    }
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!t->cols[i][0]) {
            ni_err e = ni_tsv_error(t, err, "header column %u has no name", i + 1);
            ni_tsv_close(t);
            return e;
        }
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(t->cols[i], t->cols[j])) {
                ni_err e = ni_tsv_error(t, err, "duplicate header column '%s'", t->cols[i]);
                ni_tsv_close(t);
                return e;
            }
    }
    return NI_OK;
}

int ni_tsv_col(const ni_tsv *t, const char *name)
{
    for (unsigned i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i], name)) return (int)i;
    return -1;
}

int ni_tsv_need(const ni_tsv *t, const char *name, ni_error *err)
{
    int c = ni_tsv_col(t, name);
    if (c < 0) ni_error_set(err, NI_ERR_DATA, "%s: no column '%s' in the header", t->path, name);
    return c;
}

int ni_tsv_next(ni_tsv *t, ni_error *err)
{
    long n;
    while ((n = read_line(t, err)) >= 0 && skip_line(t->buf, (size_t)n)) { }
    if (n == -1) return 0;
    if (n == -2) return -1;
    unsigned k = split(t->buf, (size_t)n, t->fields);
    if (k != t->ncols) {
        if (k > NI_TSV_COLS_MAX) ni_tsv_error(t, err, "too many fields (header has %u)", t->ncols);
        else ni_tsv_error(t, err, "%u fields, the header has %u", k, t->ncols);
        return -1;
    }
    return 1;
}

const char *ni_tsv_field(const ni_tsv *t, int i)
{
    if (i < 0 || (unsigned)i >= t->ncols || !t->fields[i]) return "";
    return t->fields[i];
}

void ni_tsv_close(ni_tsv *t)
{
    if (t->f) fclose(t->f);
    free(t->buf);
    free(t->win);
    free(t->hdr);
    t->f = NULL; t->buf = NULL; t->win = NULL; t->hdr = NULL;
    t->ncols = 0;
}
