/* ni_topk.h — heavy hitters in bounded memory: a table of at most `cap`
 * string keys, each with a caller's value, kept by the Space-Saving
 * algorithm (A. Metwally, D. Agrawal, A. El Abbadi, "Efficient computation
 * of frequent and top-k elements in data streams", ICDT 2005), weighted.
 *
 * Below the cap it is an ordinary map: every key is kept, every count is
 * exact (error 0), and the table is a function of the set of (key, weight)
 * added, whatever their order.  When a new key arrives at a full table, the
 * key of least count + error leaves (ties: the larger fixed-key hash, then
 * the larger key, so the choice never depends on the table's layout or on
 * the run) and the new key enters with error = that key's count + error.
 *
 * Guarantees (N = total weight added, m = the least count + error kept,
 * m <= N / cap):
 *   - a kept key's true weight lies in [count, count + error], and its count
 *     is exactly the weight added since it last entered;
 *   - a key that is not kept has a true weight of at most m, so every key
 *     weighing more than N / cap is kept, wherever it appears in the stream
 *     (late heavy hitters are found, unlike with a first-come cap);
 *   - kept counts + dropped (the counts of keys that left) = N.
 * Past the cap the kept set depends on the order of the additions (no
 * bounded one-pass summary avoids that); the same additions in the same
 * order give the same table.  Merging two tables (ni_topk_add of each kept
 * key with its count) keeps the guarantees with errors added.
 *
 * Memory: cap entries (96 bytes: value pointer, counters, the key when
 * shorter than 32 bytes, else a pointer to its copy), an index
 * map and a memo of recent keys (4 bytes an entry, at most 4 KiB); nothing
 * grows past cap.  The heap that finds the least key is built only when the
 * table first fills, so a table below its cap costs a map lookup per
 * addition. */
#ifndef NI_TOPK_H
#define NI_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

typedef struct ni_topk ni_topk;

/* Called with a key leaving the table: its value (the callback owns it
 * now), its count since it entered and its error.  key is valid only
 * during the call. */
typedef void (*ni_topk_evict_fn)(void *ud, const char *key, void *value, uint64_t count, uint64_t error);

/* A table of at most cap keys (at least 1); evict is called for every key
 * that leaves (may be NULL: values are then dropped unfreed).  NULL when out
 * of memory. */
ni_topk *ni_topk_new(size_t cap, ni_topk_evict_fn evict, void *ud);
/* Frees the table and its key copies; free_value (if non-NULL) on every kept value. */
void ni_topk_free(ni_topk *t, void (*free_value)(void *));

/* Adds weight w to key and returns its value slot (NULL for a key that just
 * entered).  NULL only when out of memory (the table is unchanged then). */
void **ni_topk_add(ni_topk *t, const char *key, uint64_t w);
/* The same, raising the key's error by err as well (merging tables: the
 * other table's error of the key). */
void **ni_topk_add_error(ni_topk *t, const char *key, uint64_t w, uint64_t err);
/* The value of a kept key, NULL if not kept. */
void *ni_topk_get(const ni_topk *t, const char *key);
/* A kept key's count (since it entered) and error; 0 and 0 if not kept. */
uint64_t ni_topk_count_of(const ni_topk *t, const char *key, uint64_t *error);

size_t ni_topk_count(const ni_topk *t);     /* keys kept */
size_t ni_topk_cap(const ni_topk *t);
uint64_t ni_topk_total(const ni_topk *t);   /* N: all weight added */
uint64_t ni_topk_dropped(const ni_topk *t); /* weight counted for keys that then left */
uint64_t ni_topk_evicted(const ni_topk *t); /* keys that left */
/* The bound on the weight of any key not kept (0 while nothing left). */
uint64_t ni_topk_bound(const ni_topk *t);

/* Iteration over kept keys: *it starts at 0; returns 0 at the end.  Order
 * is the table's (sort for output).  A key is valid until the table next
 * changes (an addition may move it). */
int ni_topk_next(const ni_topk *t, size_t *it, const char **key, void **value);

#endif
