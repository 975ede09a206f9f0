/* ni_arena.h — a small bump allocator with a byte cap.  Each session owns one
 * arena for its strings and evidence records; freeing the arena frees them
 * all, so per-session data never leaks or outlives its session.  Allocation
 * past the cap fails (returns NULL) instead of growing: callers count the
 * loss and go on. */
#ifndef NI_ARENA_H
#define NI_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct ni_arena ni_arena;

/* New arena that will hand out at most `cap` bytes in total. NULL on OOM. */
ni_arena *ni_arena_new(size_t cap);
void ni_arena_free(ni_arena *a);
/* Frees every block but the first, forgets all allocations. */
void ni_arena_reset(ni_arena *a);

/* Aligned allocation of n zeroed bytes; NULL when over the cap or OOM. */
void *ni_arena_alloc(ni_arena *a, size_t n);
/* Copy of s[0..n) plus NUL. */
char *ni_arena_strndup(ni_arena *a, const char *s, size_t n);
/* Copy of the string s; NULL when s or a is NULL (nothing to copy, or no
 * arena to copy into), over the cap or OOM. */
char *ni_arena_strdup(ni_arena *a, const char *s);
/* Bytes handed out so far. */
size_t ni_arena_used(const ni_arena *a);

#endif
