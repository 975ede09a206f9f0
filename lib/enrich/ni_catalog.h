/* ni_catalog.h — the service and VPN-provider catalogues (data/services.tsv,
 * data/vpn.tsv): host names → service/provider by the longest domain suffix
 * on a label boundary, and addresses → service/provider by the longest IP
 * prefix (ni_prefix).  Lookups hash each label suffix of the name (at most
 * NI_DNS_LABELS_MAX probes), never scan the catalogue.
 *
 * Catalogue rows (TSV, see docs/catalogues.md):
 *   services.tsv  type  match  service   category  source
 *   vpn.tsv       type  match  provider  kind      source
 * (VPN kind: api, site, server or update).
 * type is "domain" or "prefix".  A domain "example.com" matches example.com
 * and every name under it; "*.example.com" matches only names under it,
 * except "www.example.com" when example.com has its own row (the web site
 * of a server zone: www.nordvpn.com is the site, us1234.nordvpn.com a server).
 * A prefix is a CIDR ("192.0.2.0/24", "2001:db8::/32") or a bare address.
 * Two rows with the same type and match that name different services
 * (providers) are an error; identical repeats are ignored.
 *
 * Ownership: the catalogue owns every entry and string it returns; they stay
 * valid (and unchanged) until ni_catalog_free(), so they may be stored in
 * session records that the catalogue outlives.  Lookups only read: one
 * loaded catalogue may be shared by threads. */
#ifndef NI_CATALOG_H
#define NI_CATALOG_H

#include "netintel/netintel.h"

/* What a VPN row names: the provider's API, its web site, its servers, or
 * the hosts its apps fetch updates and configuration files from. */
typedef enum ni_vpn_kind {
    NI_VPN_KIND_NONE = 0, NI_VPN_KIND_API, NI_VPN_KIND_SITE, NI_VPN_KIND_SERVER, NI_VPN_KIND_UPDATE,
    NI_VPN_KIND__COUNT
} ni_vpn_kind;
/* "api", "site", "server", "update"; NULL for NONE. */
const char *ni_vpn_kind_name(ni_vpn_kind k);

typedef struct ni_catalog_entry {
    const char *name;      /* service ("WeChat") or provider ("NordVPN") */
    const char *category;  /* services: "messaging", ...; VPN rows: "vpn" */
    ni_vpn_kind kind;      /* VPN rows: api, site or server; services: NONE */
    const char *type;      /* "domain" or "prefix" */
    const char *match;     /* the row's match as written ("*.weixin.qq.com") */
    const char *source;    /* the row's source URL */
    unsigned line;         /* line in its file */
} ni_catalog_entry;

typedef struct ni_catalog ni_catalog;

/* Empty catalogue; NULL on OOM. */
ni_catalog *ni_catalog_new(void);
void ni_catalog_free(ni_catalog *c);

/* Loads <data_dir>/services.tsv and <data_dir>/vpn.tsv. */
ni_err ni_catalog_load(ni_catalog *c, const char *data_dir, ni_error *err);
/* Loads one file each (may be called more than once; later files add rows
 * and must not contradict earlier ones).  Errors: NI_ERR_DATA with
 * "path:LINE: problem" (or "path: problem"), NI_ERR_NOMEM, NI_ERR_LIMIT. */
ni_err ni_catalog_load_services(ni_catalog *c, const char *path, ni_error *err);
ni_err ni_catalog_load_vpn(ni_catalog *c, const char *path, ni_error *err);

/* Longest-suffix match of a host name (case-insensitive, one trailing dot
 * ignored); NULL when no row matches or the name is not a plausible host
 * name (empty, longer than 253, empty label). */
const ni_catalog_entry *ni_catalog_service_domain(const ni_catalog *c, const char *name);
const ni_catalog_entry *ni_catalog_vpn_domain(const ni_catalog *c, const char *name);
/* One thread's memory of the names it looked up (the catalogue itself is
 * read-only and shared): NI_CATALOG_MEMO slots in pairs, a name's pair
 * chosen by its keyed hash (ni_hash.h: names come from the traffic), the
 * pair's less recently used slot replaced on a miss, each holding a name of at most NI_CATALOG_MEMO_NAME bytes as
 * given (compared in full) and its matches, found once per name and side.
 * A memo belongs to one thread and serves one catalogue (used with another,
 * it forgets what it held).  NULL on OOM. */
typedef struct ni_catalog_memo ni_catalog_memo;
ni_catalog_memo *ni_catalog_memo_new(void);
void ni_catalog_memo_free(ni_catalog_memo *m);
/* ni_catalog_service_domain(c, name) into *svc and ni_catalog_vpn_domain(c,
 * name) into *vpn, through m (NULL: looked up directly); a NULL svc or vpn
 * is a side not wanted. */
void ni_catalog_domains(const ni_catalog *c, ni_catalog_memo *m, const char *name, const ni_catalog_entry **svc,
                        const ni_catalog_entry **vpn);
/* Longest-prefix match of an address (IPv4-mapped IPv6 matches IPv4 rows). */
const ni_catalog_entry *ni_catalog_service_addr(const ni_catalog *c, const ni_addr *a);
const ni_catalog_entry *ni_catalog_vpn_addr(const ni_catalog *c, const ni_addr *a);

/* Rows loaded: services and VPN (domain + prefix rows, repeats counted once). */
size_t ni_catalog_service_rows(const ni_catalog *c);
size_t ni_catalog_vpn_rows(const ni_catalog *c);
/* Calls fn for every distinct entry (services first, then VPN) in file order. */
void ni_catalog_each(const ni_catalog *c, void (*fn)(void *ud, const ni_catalog_entry *e), void *ud);

#endif
