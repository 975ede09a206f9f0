/* ni_vpnlearn.h — VPN endpoints learned from DNS answers: address → the
 * VPN catalogue row (provider, kind) whose server or API name some host's
 * DNS answer tied to that address.  Unlike the producers' DNS cache
 * (per client), one answer serves every host: once any host asked for
 * us1234.nordvpn.com and got 198.51.100.7, a tunnel from any host to
 * 198.51.100.7 is NordVPN's (evidence "endpoint", docs/sessions.md).
 *
 * Time rule (deterministic; enrichment sees sessions when they end, so the
 * DNS session may be enriched after the tunnel it explains — such a tunnel
 * stays unattributed): an entry learned at time L (the DNS session's first
 * packet) with lifetime A applies to a session whose first packet is at t
 * when L <= t + NI_VPNLEARN_SKEW_US and t <= L + A.  A is the answer's TTL
 * plus the DNS cache's grace, capped at NI_DNSCACHE_AGE_MAX_US; without a
 * TTL it is NI_DNSCACHE_AGE_MAX_US (the DNS cache's ageing).
 *
 * Bounds: at most `max_entries` addresses; when full, the address learned
 * first is forgotten (a re-learned address keeps its place and takes the
 * newer time, provider and lifetime).  Keys are hashed with a per-table
 * random SipHash key.  The table does not own the catalogue rows. */
#ifndef NI_VPNLEARN_H
#define NI_VPNLEARN_H

#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "enrich/ni_catalog.h"

typedef struct ni_vpnlearn ni_vpnlearn;

/* max_entries 0 = NI_VPNLEARN_ENTRIES_MAX.  NULL on OOM. */
ni_vpnlearn *ni_vpnlearn_new(size_t max_entries);
void ni_vpnlearn_free(ni_vpnlearn *l);

/* Records that addr is e's (learned at at_us, valid for life_us; life_us
 * <= 0 or above NI_DNSCACHE_AGE_MAX_US means NI_DNSCACHE_AGE_MAX_US). */
void ni_vpnlearn_add(ni_vpnlearn *l, const ni_addr *addr, const ni_catalog_entry *e, int64_t at_us,
                     int64_t life_us);

/* The row learned for addr that applies at t_us (the time rule above), or NULL. */
const ni_catalog_entry *ni_vpnlearn_get(const ni_vpnlearn *l, const ni_addr *addr, int64_t t_us);

/* Addresses held. */
size_t ni_vpnlearn_count(const ni_vpnlearn *l);

#endif
