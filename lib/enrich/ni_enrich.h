/* ni_enrich.h — enrichment of sessions: what the evidence means.  One object
 * loads every catalogue and database once (GeoIP country and ASN, the
 * User-Agent rules and netintel's verdicts, service and VPN catalogues,
 * release dates, vendors, nDPI's VPN names) and fills the enrichment fields of
 * each session:
 *   geo      client/server country, continent, ASN and organisation;
 *   UA       browser, OS, maker, model, form factor, kind, Windows version
 *            (first User-Agent of the session, with its client hints);
 *   service  by SNI, else HTTP Host, else the DNS-learned name, else the
 *            server address (service_evidence says which);
 *   VPN      provider from the VPN catalogue (names, prefixes, the server
 *            certificate's CN or O=), an address any host's DNS answer tied
 *            to a provider's server name (tunnels only: ni_vpnlearn), a
 *            corporate SSL-VPN gateway (ni_sslvpn: category "ssl-vpn") or
 *            nDPI; the evidence is "tunnel" when a tunnel protocol was seen
 *            on the session, "endpoint" when the server is a provider's
 *            server (by prefix, server-naming domain, certificate, learned
 *            address, gateway signature), "site" for its web site or API.
 *            Rules and order: docs/sessions.md, "VPN attribution".  The
 *            learned addresses are state: sessions must be enriched in the
 *            order they end (ni_enrich_session_ordered, below).
 * Threads: the loaded data is read-only once ni_enrich_new returns; what
 * changes as sessions go by is in two parts.  The caches (User-Agents, SYN
 * fingerprints, geography) are in an ni_enrich_lane, one per thread
 * (ni_enrich_lane_new); the addresses learned from DNS answers are in the
 * ni_enrich itself, used by ni_enrich_session_ordered alone.  So any number
 * of threads may each run ni_enrich_session_lane with their own lane, while
 * one thread runs ni_enrich_session_ordered on the sessions in the order
 * they end; ni_enrich_session (both parts, with the object's own lane), the
 * look-ups and ni_enrich_ua belong to one thread at a time.
 * Strings set on the session are owned by the catalogues (which outlive the
 * sessions) or copied into the session's arena. */
#ifndef NI_ENRICH_H
#define NI_ENRICH_H

#include <stdbool.h>
#include "netintel/netintel.h"

typedef struct ni_enrich ni_enrich;

typedef struct ni_enrich_config {
    const char *data_dir;       /* NULL: ni_data_dir() (core/ni_datadir.h) */
    const char *geoip_path;     /* NULL: NETINTEL_GEOIP, /usr/share/GeoIP/GeoLite2-Country.mmdb, bundled */
    const char *asn_path;       /* NULL: bundled ranges; or a GeoLite2-ASN .mmdb */
    bool no_geo;                /* skip GeoIP/ASN */
} ni_enrich_config;

ni_enrich *ni_enrich_new(const ni_enrich_config *cfg, ni_error *err);
void ni_enrich_free(ni_enrich *en);

/* Fills the enrichment fields of s (evidence fields must be final):
 * ni_enrich_session_lane then ni_enrich_session_ordered, with the object's
 * own caches. */
void ni_enrich_session(ni_enrich *en, ni_session *s);

/* One thread's caches over en's data (en must outlive it).  NULL on OOM. */
typedef struct ni_enrich_lane ni_enrich_lane;
ni_enrich_lane *ni_enrich_lane_new(ni_enrich *en, ni_error *err);
void ni_enrich_lane_free(ni_enrich_lane *l);

/* The part of the enrichment that depends on the session alone (geography,
 * User-Agent, TCP/IP stack, service, VPN evidence but for the addresses
 * learned from DNS answers), in any thread that owns l.  A tunnel left with
 * no provider evidence is left with vpn_evidence "none" for the part below. */
void ni_enrich_session_lane(ni_enrich_lane *l, ni_session *s);
/* The part that depends on the sessions before s: DNS answers of s teach
 * the VPN endpoints they name (ni_vpnlearn), and a tunnel the lane part left
 * undecided gets its provider from them or from the rest of the rules.  Call
 * on every session, after ni_enrich_session_lane, in the order they end. */
void ni_enrich_session_ordered(ni_enrich *en, ni_session *s);

/* Look-ups the profile makes in the enrichment catalogues; any may be NULL.
 * Dates are "YYYY-MM-DD" strings owned by the provider (NULL = unknown). */
typedef struct ni_enrich_lookups {
    void *ud;
    /* device model code (e.g. "SM-S928B") → marketing name and release date */
    bool (*device)(void *ud, const char *maker, const char *code, const char **name, const char **released);
    /* browser family and major version → release date */
    const char *(*browser_release)(void *ud, const char *family, const char *major);
    /* OS family and version → release and end-of-support dates */
    bool (*os_life)(void *ud, const char *family, const char *version, const char **released, const char **eos);
    /* software or service name → vendor (e.g. "Chrome" → "Google") */
    const char *(*vendor)(void *ud, const char *kind, const char *name);
    /* browser family at a full version on an OS version: the last build of
     * that browser for that OS (data/final-builds.tsv) in *final (NULL when
     * the OS still gets new builds); returns true when the version is it */
    bool (*final_build)(void *ud, const char *family, const char *version, const char *os,
                        const char *os_version, const char **final);
    /* OS family (a User-Agent's or the TCP/IP stack's) → its kernel family
     * ("windows", "linux", "darwin"...; data/tcp-os.tsv), NULL if unknown */
    const char *(*os_stack)(void *ud, const char *family);
} ni_enrich_lookups;

/* Look-ups for the profile (device names, release dates, lifecycles, vendors). */
ni_enrich_lookups ni_enrich_profile_lookups(ni_enrich *en);

/* Single look-ups for `netintel lookup`: fills a session-like record for an
 * address (countries, ASN, service, provider) or a domain (service,
 * provider).  Returns false when the text is neither. */
bool ni_enrich_lookup(ni_enrich *en, const char *text, ni_session *out);

/* Parses a User-Agent (and hints) into the ua_* fields of s. */
void ni_enrich_ua(ni_enrich *en, ni_session *s, const char *ua, const char *platform,
                  const char *platform_version, const char *model);

/* Internals exposed for `lookup --ua`: the parser objects (may be NULL). */
struct ni_ua;
struct ni_uav;
struct ni_ua *ni_enrich_ua_parser(ni_enrich *en);
const struct ni_uav *ni_enrich_ua_verdicts(ni_enrich *en);


/* The networks of `country:CC` (the GeoIP database's networks of CC) or
 * `asn:N` (the ASN data's ranges of AS N as CIDR prefixes), each handed to
 * fn(fn_ud, address, prefix length) — target resolution (ni_target_add_net).
 * NI_ERR_NOTFOUND when there is none, NI_ERR_ARG for a bad value or kind,
 * NI_ERR_UNSUPPORTED when the data is not loaded; fn's error stops the walk. */
typedef ni_err (*ni_enrich_net_fn)(void *ud, const ni_addr *addr, unsigned len);
ni_err ni_enrich_networks(ni_enrich *en, const char *kind, const char *value, ni_enrich_net_fn fn, void *fn_ud,
                          ni_error *err);

#endif
