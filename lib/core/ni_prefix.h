/* ni_prefix.h — longest-prefix match over IPv4 and IPv6 prefixes: a binary
 * trie per family (path-compressed), answering in O(prefix length).  Used for
 * the target space, service and VPN prefix catalogues.  Each prefix carries
 * an opaque value pointer owned by the caller. */
#ifndef NI_PREFIX_H
#define NI_PREFIX_H

#include <stdint.h>
#include <stddef.h>
#include "netintel/netintel.h"

typedef struct ni_prefix_set ni_prefix_set;

/* New empty set holding at most NI_TARGET_PREFIXES_MAX prefixes (NULL on OOM). */
ni_prefix_set *ni_prefix_new(void);
/* Same with an explicit cap on the number of prefixes. */
ni_prefix_set *ni_prefix_new_cap(size_t max_prefixes);
void ni_prefix_free(ni_prefix_set *ps);

/* Inserts addr/len (host bits beyond len are ignored).  Re-inserting the same
 * prefix replaces its value.  NI_ERR_ARG for a bad length, NI_ERR_LIMIT past
 * the set's cap, NI_ERR_NOMEM on OOM.  IPv4-mapped IPv6 prefixes of length >= 96
 * are stored as the IPv4 prefix they map. */
ni_err ni_prefix_add(ni_prefix_set *ps, const ni_addr *addr, unsigned len, void *value);

/* For sampling: adds addr/len (value NULL) unless the set already holds
 * `want` prefixes or reached its cap, which are not errors (NI_OK, nothing
 * added); a bad length or out of memory is returned. */
ni_err ni_prefix_add_upto(ni_prefix_set *ps, const ni_addr *addr, unsigned len, size_t want);

/* Parses "a.b.c.d/len", "x::/len" or a bare address (= /32 or /128).
 * Returns NI_OK or NI_ERR_ARG. */
ni_err ni_prefix_parse(const char *text, ni_addr *addr, unsigned *len);

/* Longest matching prefix: returns 1 and sets *value (and *len if non-NULL),
 * or 0 when no prefix covers a.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
 * match IPv4 prefixes. */
int ni_prefix_lookup(const ni_prefix_set *ps, const ni_addr *a, void **value, unsigned *len);

size_t ni_prefix_count(const ni_prefix_set *ps);

/* Calls fn for every prefix in address order. */
void ni_prefix_walk(const ni_prefix_set *ps,
                    void (*fn)(void *ud, const ni_addr *addr, unsigned len, void *value), void *ud);

#endif
