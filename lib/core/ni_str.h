/* ni_str.h — the small string helpers every module needs, written once:
 * ASCII case folding (locale-independent, bytes >= 0x80 untouched: the
 * folding DNS names (RFC 4343), HTTP field names and tokens (RFC 9110 §5.1)
 * and catalogue keys use) and string duplication on the heap. */
#ifndef NI_STR_H
#define NI_STR_H

#include <stddef.h>
#include <stdbool.h>

/* 'A'..'Z' → 'a'..'z'; every other byte unchanged. */
static inline char ni_ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c; }
static inline int ni_ascii_lower_int(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Lower-cases the first n bytes of src into dst (which may be src). */
void ni_ascii_lower_n(char *dst, const char *src, size_t n);

/* Lower-cased copy of the string src into dst[cap] (cap > 0), truncated to
 * cap - 1 bytes and NUL-terminated; returns the length written. */
size_t ni_ascii_lower_copy(char *dst, size_t cap, const char *src);

/* True if the n bytes at p equal `lower` (a lower-case string) ignoring ASCII case. */
bool ni_ascii_ieq(const void *p, size_t n, const char *lower);

/* A heap copy of s (free() it), or NULL when s is NULL or memory is short. */
char *ni_strdup(const char *s);

#endif
