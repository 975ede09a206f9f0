/* ni_err.c — error codes, their text, and the error record filled by failing
 * calls (see netintel.h). */
#include "netintel/netintel.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const ni_err_text[NI_ERR__COUNT] = {
    [NI_OK] = "no error",
    [NI_ERR_NOMEM] = "out of memory",
    [NI_ERR_IO] = "input/output error",
    [NI_ERR_NOTFOUND] = "not found",
    [NI_ERR_FORMAT] = "bad format",
    [NI_ERR_TRUNCATED] = "truncated",
    [NI_ERR_UNSUPPORTED] = "unsupported",
    [NI_ERR_ARG] = "bad argument",
    [NI_ERR_LIMIT] = "limit reached",
    [NI_ERR_DATA] = "missing or corrupt data file",
    [NI_ERR_OUTPUT] = "output failed",
    [NI_ERR_PIPE] = "output pipe closed by its reader",
    [NI_ERR_INTERRUPTED] = "interrupted",
};

const char *ni_strerror(ni_err e)
{
    if ((unsigned)e >= NI_ERR__COUNT) return "unknown error";
    return ni_err_text[e];
}

ni_err ni_error_set(ni_error *err, ni_err code, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *ni_version(void) { return NETINTEL_VERSION; }
