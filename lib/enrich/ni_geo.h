/* ni_geo.h — country of an IP address from a MaxMind DB file (libmaxminddb;
 * format: MaxMind DB spec 2.0, "MaxMind-DB-spec.md" in maxmind/MaxMind-DB),
 * refusing corrupt databases at open, and the networks of a country for
 * `--target country:CC`.
 *
 * Which database (ni_geo_resolve_path), first that applies:
 *   1. an explicit path (the CLI's --geoip FILE);
 *   2. $NETINTEL_GEOIP;
 *   3. /usr/share/GeoIP/GeoLite2-Country.mmdb, when that file exists;
 *   4. <data dir>/ext/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/
 *      geo-whois-asn-country.mmdb (installed by scripts/install-deps).
 * The data dir is the one given, else ni_data_dir() (core/ni_datadir.h:
 * $NETINTEL_DATA, else ../data beside the executable, else ./data, else the
 * source tree's data/).
 *
 * Schemas: GeoIP2/GeoLite2 Country and City databases (country.iso_code,
 * falling back to registered_country.iso_code) and ip-location-db's
 * (a top-level country_code).  Any other MaxMind DB opens, and its lookups
 * find no country (ni_geo_lookup_string reads any string value).
 *
 * Verification at open (see docs/geoip.md): the metadata is decoded by a
 * bounded parser of our own before libmaxminddb sees it, its values are
 * checked, the whole search tree is walked (node pointers in range, no
 * cycle, no path longer than the tree depth, no record pointing into the
 * 16-byte separator or past the data section) and every distinct data record
 * reached is decoded with MMDB_get_entry_data_list and checked (item count,
 * UTF-8 strings).  A database that fails is refused with NI_ERR_DATA and a
 * message naming the file.  Lookups that fail later still return NI_ERR_DATA.
 * The tree/data walk (most of the time of an open) is done once per file:
 * a database that passed it is remembered by its identity (device, inode,
 * size, mtime, ctime: core/ni_verified.h) and not walked again while that
 * stays the same; the metadata checks run at every open.
 *
 * Ownership: ni_geo is a heap object (_open/_free); lookups only read, so
 * one database may be shared by threads. */
#ifndef NI_GEO_H
#define NI_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

#define NI_GEO_DEFAULT_REL "ext/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"
#define NI_GEO_SYSTEM_PATH "/usr/share/GeoIP/GeoLite2-Country.mmdb"

/* A network found by an enumeration: addr/len, IPv4 networks as family 4. */
typedef ni_err (*ni_net_cb)(void *ud, const ni_addr *addr, unsigned len);

typedef struct ni_geo ni_geo;

/* Open flags */
#define NI_GEO_NO_VERIFY 1u   /* skip the tree/data walk (metadata checks stay) */
#define NI_GEO_VERIFY_ALWAYS 2u /* walk even a file remembered as verified */

/* ni_verified.h's name for the walk; the number changes with the checks */
#define NI_GEO_VERIFIED_KIND "mmdb-tree/1"

/* Picks the database path as listed above into buf.  NI_ERR_NOTFOUND (err
 * says which paths were tried) when none exists. */
ni_err ni_geo_resolve_path(const char *explicit_path, const char *data_dir,
                           char *buf, size_t n, ni_error *err);

/* Opens and verifies path.  NULL with err set (NI_ERR_NOTFOUND, NI_ERR_DATA
 * "path: problem", NI_ERR_NOMEM). */
ni_geo *ni_geo_open(const char *path, unsigned flags, ni_error *err);
void ni_geo_free(ni_geo *g);

const char *ni_geo_path(const ni_geo *g);
const char *ni_geo_database_type(const ni_geo *g);   /* metadata database_type */
unsigned ni_geo_ip_version(const ni_geo *g);         /* 4 or 6 */
uint64_t ni_geo_build_epoch(const ni_geo *g);
uint32_t ni_geo_node_count(const ni_geo *g);
/* Distinct data records decoded by the verification (0 with NO_VERIFY). */
size_t ni_geo_records_checked(const ni_geo *g);

typedef struct ni_geo_result {
    bool found;            /* the database has a record for the address */
    char country[3];       /* ISO 3166-1 alpha-2 (upper case) or "" */
    bool registered;       /* country came from registered_country */
    unsigned prefix_len;   /* length of the matching network, in the
                              address's family (IPv4: 0..32) */
} ni_geo_result;

/* Looks a up (IPv4-mapped IPv6 is looked up as IPv4; IPv6 in an IPv4-only
 * database finds nothing).  NI_OK (r->found tells), NI_ERR_ARG for a family-0
 * address, NI_ERR_DATA when the database fails during the lookup. */
ni_err ni_geo_lookup(const ni_geo *g, const ni_addr *a, ni_geo_result *r, ni_error *err);

/* The string at path (NULL-terminated list of map keys / array indexes) in
 * a's record, copied into buf.  1 = found, 0 = no record or no string there,
 * -1 = error (err set; also when buf is too small). */
int ni_geo_lookup_string(const ni_geo *g, const ni_addr *a, const char *const *path,
                         char *buf, size_t n, ni_error *err);

/* ---- walking the networks ---------------------------------------------- */
typedef struct ni_geo_record ni_geo_record;   /* valid during the callback */
typedef ni_err (*ni_geo_net_fn)(void *ud, const ni_addr *addr, unsigned len,
                                const ni_geo_record *rec);

/* Calls fn for every network that has a record, in address order: IPv4
 * networks (an IPv4 tree, or the ::/96 subtree of an IPv6 tree) as family 4,
 * then IPv6 networks; the IPv4 aliases of an IPv6 tree (::ffff:0:0/96,
 * 2002::/16) are not repeated.  A nonzero return from fn stops the walk and
 * is returned. */
ni_err ni_geo_each_network(const ni_geo *g, ni_geo_net_fn fn, void *ud, ni_error *err);
/* Record identity (its data-section offset): equal records, equal ids. */
uint32_t ni_geo_record_id(const ni_geo_record *r);
/* String / unsigned integer at path in the record: 1 found, 0 absent or
 * another type, -1 decoding error. */
int ni_geo_record_string(const ni_geo_record *r, const char *const *path, char *buf, size_t n);
int ni_geo_record_uint(const ni_geo_record *r, const char *const *path, uint64_t *v);
/* The record's country as ni_geo_lookup reads it ("" when none). */
int ni_geo_record_country(const ni_geo_record *r, char cc[3]);

/* Calls fn for every network whose country is cc (two letters, any case). */
ni_err ni_geo_country_prefixes(const ni_geo *g, const char *cc, ni_net_cb fn, void *ud,
                               ni_error *err);

#endif
