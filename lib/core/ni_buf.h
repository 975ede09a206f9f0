/* ni_buf.h — a growing byte buffer with a cap (after curl's dynbuf).  Output
 * writers (JSON, CSV, Markdown, HTML) build text in a ni_buf; a buffer never
 * grows past the cap given at init, appends past it fail with NI_ERR_LIMIT. */
#ifndef NI_BUF_H
#define NI_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include "netintel/netintel.h"

typedef struct ni_buf {
    char *p;        /* NUL-terminated when len > 0 or after any append */
    size_t len, alloc, cap;
    ni_err err;     /* first error of an append; appends after it are no-ops */
} ni_buf;

void ni_buf_init(ni_buf *b, size_t cap);
void ni_buf_release(ni_buf *b);
void ni_buf_clear(ni_buf *b);          /* len = 0, keeps memory, clears err */
/* Drops what was appended after the first len bytes (len <= b->len), as
 * after a record that failed half-way: keeps memory, clears err. */
void ni_buf_truncate(ni_buf *b, size_t len);
ni_err ni_buf_add(ni_buf *b, const void *p, size_t n);
ni_err ni_buf_adds(ni_buf *b, const char *s);
ni_err ni_buf_addc(ni_buf *b, char c);
/* Room for extra more bytes (and the NUL) at b->p + b->len, for writers that
 * fill it directly and then advance len (keeping p[len] = 0); NI_ERR_LIMIT
 * past the cap — not recorded in err, as the caller may then append less. */
ni_err ni_buf_reserve(ni_buf *b, size_t extra);
/* ni_buf_reserve for the hot paths: where to write the extra bytes, without a
 * call when the memory is there already; NULL when ni_buf_reserve fails. */
static inline char *ni_buf_room(ni_buf *b, size_t extra)
{
    if (!b->err && extra < b->alloc - b->len) return b->p + b->len;   /* alloc 0: never */
    return ni_buf_reserve(b, extra) == NI_OK ? b->p + b->len : NULL;
}
/* Ends an append made through ni_buf_room: len to end, and the NUL. */
static inline void ni_buf_commit(ni_buf *b, char *end)
{
    b->len = (size_t)(end - b->p);
    *end = 0;
}
ni_err ni_buf_printf(ni_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ni_err ni_buf_vprintf(ni_buf *b, const char *fmt, va_list ap);
static inline const char *ni_buf_str(const ni_buf *b) { return b->p ? b->p : ""; }

#endif
