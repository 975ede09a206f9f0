/* ni_buf.c — growing byte buffer with a cap (see ni_buf.h). */
#include "core/ni_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ni_buf_init(ni_buf *b, size_t cap)
{
    b->p = NULL; b->len = 0; b->alloc = 0; b->cap = cap; b->err = NI_OK;
}

void ni_buf_release(ni_buf *b)
{
    free(b->p);
    ni_buf_init(b, b->cap);
}

void ni_buf_clear(ni_buf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = 0;
    b->err = NI_OK;
}

void ni_buf_truncate(ni_buf *b, size_t len)
{
    if (len > b->len) len = b->len;
    b->len = len;
    if (b->p) b->p[len] = 0;
    b->err = NI_OK;
}

static ni_err grow(ni_buf *b, size_t extra)
{
    if (b->err) return b->err;
    if (extra > b->cap || b->len > b->cap - extra) return b->err = NI_ERR_LIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc) return NI_OK;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need) n *= 2;
    if (n > b->cap + 1) n = b->cap + 1;
    char *q = realloc(b->p, n);
    if (!q) return b->err = NI_ERR_NOMEM;
    b->p = q; b->alloc = n;
    return NI_OK;
}

ni_err ni_buf_add(ni_buf *b, const void *p, size_t n)
{
    ni_err e = grow(b, n);
    if (e) return e;
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return NI_OK;
}

ni_err ni_buf_adds(ni_buf *b, const char *s) { return ni_buf_add(b, s, strlen(s)); }
ni_err ni_buf_reserve(ni_buf *b, size_t extra)
{
    if (b->err) return b->err;
    if (extra > b->cap || b->len > b->cap - extra) return NI_ERR_LIMIT;   /* not sticky: less may fit */
    return grow(b, extra);
}
ni_err ni_buf_addc(ni_buf *b, char c)
{
    if (!b->err && b->len + 2 <= b->alloc) {   /* room for c and the NUL */
        b->p[b->len++] = c;
        b->p[b->len] = 0;
        return NI_OK;
    }
    return ni_buf_add(b, &c, 1);
}

ni_err ni_buf_vprintf(ni_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return b->err = NI_ERR_FORMAT;
    ni_err e = grow(b, (size_t)n);
    if (e) return e;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return NI_OK;
}

ni_err ni_buf_printf(ni_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ni_err e = ni_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return e;
}
