/* ni_str.c — ASCII case folding and string duplication (see ni_str.h). */
#include "core/ni_str.h"

#include <stdlib.h>
#include <string.h>

void ni_ascii_lower_n(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = ni_ascii_lower(src[i]);
}

size_t ni_ascii_lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = ni_ascii_lower(src[i]);
    dst[i] = 0;
    return i;
}

bool ni_ascii_ieq(const void *p, size_t n, const char *lower)
{
    const char *b = p;
    for (size_t i = 0; i < n; i++)
        if (!lower[i] || ni_ascii_lower(b[i]) != lower[i]) return false;
    return lower[n] == 0;
}

char *ni_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}
