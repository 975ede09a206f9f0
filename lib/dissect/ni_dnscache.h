/* ni_dnscache.h — a bounded address→name cache learned from DNS answers:
 * (client address, answered address) → the name the client asked for (the
 * question name, not a CNAME target), with the time of the answer and the
 * record's TTL.  A later session from that client to that address gets the
 * name as dns_name.
 *
 * Bounds: at most `max_entries` entries (NI_DNSCACHE_ENTRIES_MAX by
 * default); when full the oldest insertion is evicted (a refreshed entry
 * counts as new).  Ageing: an entry applies to a session starting at time t
 * when answer_time <= t and t - answer_time <= min(max_age,
 * TTL + NI_DNSCACHE_TTL_GRACE_US).  The grace covers clients that keep using
 * an address a little past its TTL (browser and OS host caches, pooled
 * connections); max_age (NI_DNSCACHE_AGE_MAX_US) caps it for long TTLs.
 * Names are copied (the cache owns them). */
#ifndef NI_DNSCACHE_H
#define NI_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"


typedef struct ni_dnscache ni_dnscache;

/* New cache; max_entries 0 = NI_DNSCACHE_ENTRIES_MAX, max_age_us <= 0 =
 * NI_DNSCACHE_AGE_MAX_US.  NULL on OOM. */
ni_dnscache *ni_dnscache_new(size_t max_entries, int64_t max_age_us);
void ni_dnscache_free(ni_dnscache *c);

/* Records that `client` was told `addr` for `name` at ts_us with ttl
 * seconds.  Replaces an existing entry for (client, addr).  NI_ERR_NOMEM on
 * allocation failure (the cache stays valid), NI_ERR_ARG on an empty name. */
ni_err ni_dnscache_add(ni_dnscache *c, const ni_addr *client, const ni_addr *addr,
                       const char *name, uint32_t ttl, int64_t ts_us);

/* The name for (client, addr) valid at ts_us, or NULL.  The string is owned
 * by the cache and valid until the next ni_dnscache_add or free. */
const char *ni_dnscache_lookup(const ni_dnscache *c, const ni_addr *client,
                               const ni_addr *addr, int64_t ts_us);

/* Entries held now. */
size_t ni_dnscache_count(const ni_dnscache *c);

#endif
