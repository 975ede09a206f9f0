/* ni_asn.h — autonomous system number and organisation of an IP address,
 * from ip-location-db's range tables (@ip-location-db/asn: asn-ipv4.csv and
 * asn-ipv6.csv, rows "first,last,asn,organisation", RFC 4180 quoting) or
 * from a GeoLite2-ASN MaxMind DB (autonomous_system_number /
 * autonomous_system_organization), and the networks of an ASN for
 * `--target asn:N`.
 *
 * Both sources become two sorted arrays of disjoint ranges (IPv4, IPv6)
 * searched in O(log n).  Parsing the CSVs takes about a second, so the
 * default loader keeps a binary cache, $XDG_CACHE_HOME/netintel/asn.bin (else
 * ~/.cache/netintel/asn.bin, else <data dir>/ext/cache/asn.bin), keyed by
 * the identity of both CSVs (device, inode, size, mtime, ctime: the same
 * files reached through other paths share it), rebuilt when they change and written
 * atomically (temp + rename); a cache that fails its checks is ignored and
 * rebuilt.  Ranges that overlap in the CSV (rare) are resolved in favour of
 * the later-starting range: the earlier one is cut short (counted in
 * ni_asn_info.overlaps).
 *
 * Ownership: ni_asn is a heap object (ni_asn_open or ni_asn_load_* / ni_asn_free) owning every string it
 * returns; lookups only read (shareable between threads). */
#ifndef NI_ASN_H
#define NI_ASN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

#define NI_ASN_DEFAULT_DIR "ext/node_modules/@ip-location-db/asn"
#define NI_ASN_CACHE_REL   "ext/cache/asn.bin"   /* without $XDG_CACHE_HOME and $HOME */
#define NI_ASN_USER_CACHE  "asn.bin"             /* in ni_user_cache_path's directory */

/* A network found by an enumeration (same type as in ni_geo.h). */
typedef ni_err (*ni_net_cb)(void *ud, const ni_addr *addr, unsigned len);

typedef struct ni_asn ni_asn;

typedef struct ni_asn_info {
    const char *source;        /* "csv", "cache" or "mmdb" */
    size_t v4_ranges, v6_ranges, orgs;
    size_t overlaps;           /* ranges cut short (see above); 0 when read from the cache */
    bool cache_written;        /* the CSVs were parsed and the cache rewritten */
    char cache_note[160];      /* why no cache was read or written, "" if none */
} ni_asn_info;

/* Loads the two CSV files (either may be NULL, not both).  cache_path: NULL
 * for no cache, else the cache to read when it matches the CSVs and to
 * (re)write otherwise; a cache that cannot be written is noted in
 * ni_asn_info.cache_note, not an error.  Errors: NI_ERR_NOTFOUND,
 * NI_ERR_DATA "path:LINE: problem", NI_ERR_LIMIT, NI_ERR_NOMEM. */
ni_asn *ni_asn_load_csv(const char *v4_csv, const char *v6_csv, const char *cache_path, ni_error *err);
/* Loads a GeoLite2-ASN style MaxMind DB (verified as ni_geo_open does). */
ni_asn *ni_asn_load_mmdb(const char *path, ni_error *err);
/* explicit_path: a .mmdb file, or a directory holding asn-ipv4.csv /
 * asn-ipv6.csv; NULL: <data dir>/ext/node_modules/@ip-location-db/asn with
 * the cache described above (data dir: the one given, else ni_data_dir()). */
ni_asn *ni_asn_open(const char *explicit_path, const char *data_dir, ni_error *err);
void ni_asn_free(ni_asn *a);
const ni_asn_info *ni_asn_get_info(const ni_asn *a);

typedef struct ni_asn_result {
    bool found;
    uint32_t asn;
    const char *org;           /* owned by the table; "" when unknown */
    ni_addr first, last;       /* the range that matched */
} ni_asn_result;

/* IPv4-mapped IPv6 addresses are looked up as IPv4.  Returns r->found. */
bool ni_asn_lookup(const ni_asn *a, const ni_addr *addr, ni_asn_result *r);

/* Calls fn with the CIDR prefixes that cover every range of asn, in address
 * order.  A nonzero return from fn stops and is returned. */
ni_err ni_asn_prefixes(const ni_asn *a, uint32_t asn, ni_net_cb fn, void *ud);

/* The smallest list of CIDR prefixes covering first..last (same family,
 * first <= last), in order.  NI_ERR_ARG otherwise. */
ni_err ni_range_to_cidrs(const ni_addr *first, const ni_addr *last, ni_net_cb fn, void *ud);

#endif
