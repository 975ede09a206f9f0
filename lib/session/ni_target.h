/* ni_target.h — the target space: the set of IPv4/IPv6 prefixes a study is
 * about, and the direction of each session relative to it.
 *
 * `--target` specs (comma-separated items, the option repeatable):
 *   175.45.176.0/22, 2001:db8::/32, 192.0.2.7   CIDRs or bare addresses
 *   @file      one prefix a line; '#' starts a comment
 *   kp         a preset: <data dir>/targets/kp.tsv, lines "prefix<TAB>source",
 *              header comments such as "# timezone: Asia/Pyongyang"; a line of
 *              a preset or @file may also be country:CC or asn:N"
 *   country:KP, asn:131279   resolved through a resolver callback (the GeoIP
 *              / ASN module); without one they are refused with a clear error
 * The data dir is $NETINTEL_DATA, else ../data beside the executable
 * (/proc/self/exe), else ./data (the source tree when run from it).
 *
 * Lookups are longest-prefix matches (core/ni_prefix.h), O(prefix length).
 * Ownership: ni_target is a heap object (_new/_free); strings returned are
 * owned by it. */
#ifndef NI_TARGET_H
#define NI_TARGET_H

#include <stddef.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "core/ni_datadir.h"

typedef struct ni_target ni_target;

/* Resolves "country:<value>" (kind "country") or "asn:<value>" (kind "asn")
 * by adding prefixes with ni_target_add_prefix.  Returns NI_OK or an error
 * (err's message is the problem only; the caller prefixes the spec). */
typedef ni_err (*ni_target_resolver)(void *ud, const char *kind, const char *value,
                                     ni_target *t, ni_error *err);

ni_target *ni_target_new(void);
void ni_target_free(ni_target *t);

void ni_target_set_resolver(ni_target *t, ni_target_resolver fn, void *ud);
/* Overrides the data dir search (tests); the string is copied. */
ni_err ni_target_set_data_dir(ni_target *t, const char *dir);

/* Adds one --target argument.  Errors are NI_ERR_ARG (or NOTFOUND/DATA/LIMIT)
 * with the message "--target: '<item>': <problem>". */
ni_err ni_target_add_spec(ni_target *t, const char *spec, ni_error *err);
ni_err ni_target_add_prefix(ni_target *t, const ni_addr *a, unsigned len);
/* The same as a prefix callback (ud = the ni_target), for look-ups that
 * list networks, e.g. ni_enrich_networks in a resolver. */
ni_err ni_target_add_net(void *ud, const ni_addr *a, unsigned len);

/* True once any spec was added (even one that matched no prefix). */
bool ni_target_defined(const ni_target *t);
size_t ni_target_count(const ni_target *t);
bool ni_target_contains(const ni_target *t, const ni_addr *a);
/* outbound / inbound / internal / transit; unknown when t is NULL or empty
 * of specs. */
ni_direction ni_target_direction(const ni_target *t, const ni_addr *client, const ni_addr *server);
/* Calls fn for every prefix of the target, in address order (IPv4
 * prefixes as themselves, family 4). */
void ni_target_walk(const ni_target *t, void (*fn)(void *ud, const ni_addr *a, unsigned len), void *ud);
/* The time zone named by the first preset that gives one ("Asia/Pyongyang"),
 * or NULL. */
const char *ni_target_timezone(const ni_target *t);

/* ni_data_dir() (core/ni_datadir.h) finds the data dir. */

#endif
