/* ni_map.h — a string-keyed hash map (open addressing, linear probing,
 * SipHash keyed per map: ni_hash.h) whose keys are copied into the map and whose values are opaque
 * pointers owned by the caller; and ni_addrset, a set of IP addresses for
 * exact distinct counts ("hosts").  Both grow by doubling up to a cap given
 * at creation; an insert past the cap fails with NI_ERR_LIMIT. */
#ifndef NI_MAP_H
#define NI_MAP_H

#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "core/ni_hash.h"

typedef struct ni_map ni_map;

/* A map whose hash key is drawn at random (ni_hash_key_random). */
ni_map *ni_map_new(size_t cap);
/* The same with a given key (tests: reproducible collisions). */
ni_map *ni_map_new_keyed(size_t cap, const ni_hash_key *key);
/* Frees the map and its key copies; calls free_value (if non-NULL) on every value. */
void ni_map_free(ni_map *m, void (*free_value)(void *));
void *ni_map_get(const ni_map *m, const char *key);
/* Inserts or replaces; returns NI_OK, NI_ERR_NOMEM or NI_ERR_LIMIT. */
ni_err ni_map_put(ni_map *m, const char *key, void *value);
/* Removes key (freeing its copy); returns its value (the caller's), NULL if absent. */
void *ni_map_remove(ni_map *m, const char *key);
/* Returns the value slot of key, inserting it with NULL if absent (NULL on failure). */
void **ni_map_slot(ni_map *m, const char *key);
size_t ni_map_count(const ni_map *m);
/* The longest probe sequence a present key needs (1 = every key in its home slot). */
size_t ni_map_probe_max(const ni_map *m);
/* Iteration: *it starts at 0; returns 0 at the end.  Order is the table's. */
int ni_map_next(const ni_map *m, size_t *it, const char **key, void **value);
/* Keys in byte order (caller frees the array, not the strings). */
const char **ni_map_sorted_keys(const ni_map *m);

typedef struct ni_addrset ni_addrset;
ni_addrset *ni_addrset_new(size_t cap);
void ni_addrset_free(ni_addrset *s);
/* 1 if added, 0 if present, -1 on failure (cap reached or OOM). */
int ni_addrset_add(ni_addrset *s, const ni_addr *a);
int ni_addrset_has(const ni_addrset *s, const ni_addr *a);
size_t ni_addrset_count(const ni_addrset *s);
int ni_addrset_next(const ni_addrset *s, size_t *it, ni_addr *out);
/* Adds every member of src to dst. */
ni_err ni_addrset_merge(ni_addrset *dst, const ni_addrset *src);

#endif
