/* ni_arena.c — bump allocator with a cap (see ni_arena.h). Blocks grow
 * geometrically from 256 bytes; the first block is kept across resets. */
#include "core/ni_arena.h"

#include <stdlib.h>
#include <string.h>

typedef struct ni_block {
    struct ni_block *next;
    size_t size, used;
    /* data follows, max_align_t aligned */
} ni_block;

#define NI_BLOCK_HDR ((sizeof(ni_block) + 15) & ~(size_t)15)

struct ni_arena {
    ni_block *head;     /* current block (newest) */
    size_t cap, used;
};

ni_arena *ni_arena_new(size_t cap)
{
    ni_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cap = cap;
    return a;
}

void ni_arena_free(ni_arena *a)
{
    if (!a) return;
    ni_block *b = a->head;
    while (b) { ni_block *n = b->next; free(b); b = n; }
    free(a);
}

void ni_arena_reset(ni_arena *a)
{
    ni_block *b = a->head, *last = NULL;
    while (b) {
        ni_block *n = b->next;
        if (n) free(b); else last = b;
        b = n;
    }
    a->head = last;
    if (last) { last->used = 0; last->next = NULL; }
    a->used = 0;
}

/* n bytes (rounded up to 16), not zeroed: a new block when the current one
 * has no room (kept out of line, the common case is a bump). */
static void *grow_alloc(ni_arena *a, size_t n)
{
    ni_block *b = a->head;
    size_t sz = b ? b->size * 2 : 256;
    while (sz < n) sz *= 2;
    if (sz > a->cap) sz = a->cap < n ? n : a->cap;
    ni_block *nb = malloc(NI_BLOCK_HDR + sz);
    if (!nb) return NULL;
    nb->size = sz; nb->used = n; nb->next = b;
    a->head = nb;
    a->used += n;
    return (char *)nb + NI_BLOCK_HDR;
}

static inline void *raw_alloc(ni_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (n > a->cap || a->used > a->cap - n) return NULL;
    ni_block *b = a->head;
    if (!b || b->size - b->used < n) return grow_alloc(a, n);
    void *p = (char *)b + NI_BLOCK_HDR + b->used;
    b->used += n;
    a->used += n;
    return p;
}

void *ni_arena_alloc(ni_arena *a, size_t n)
{
    void *p = raw_alloc(a, n);
    if (p) memset(p, 0, n ? (n + 15) & ~(size_t)15 : 16);     /* the padding too, as ever */
    return p;
}

char *ni_arena_strndup(ni_arena *a, const char *s, size_t n)
{
    char *d = raw_alloc(a, n + 1);     /* every byte written below: no zeroing */
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *ni_arena_strdup(ni_arena *a, const char *s)
{
    if (!a || !s) return NULL;
    return ni_arena_strndup(a, s, strlen(s));
}

size_t ni_arena_used(const ni_arena *a) { return a->used; }
