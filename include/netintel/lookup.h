/* lookup.h — look-ups of the embedding API as `netintel lookup` and
 * `netintel --version` print them: the versions of the data a run would
 * use, an address or a domain as one JSON line, and User-Agents as one JSON
 * line each (the ua_* fields a session carrying it gets, and uap-core's own
 * parse).  Included by netintel.h; documented in docs/API.md ("Look-ups",
 * "Data versions"). */
#ifndef NETINTEL_LOOKUP_H
#define NETINTEL_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ni_run;                  /* run.h (this header may be read before it) */

/* ---- data versions -------------------------------------------------------- */
/* Which data a run would use: the data directory, the versions of the data
 * packages (read from their package.json) and the GeoIP database with its
 * metadata.  Empty strings for what is missing. */
typedef struct ni_data_info {
    char data_dir[1024];        /* "" when none was found */
    char uap_core[64];          /* uap-core's version, "" when missing */
    char browser_compat[64];    /* @mdn/browser-compat-data */
    char geoip_package[64];     /* @ip-location-db/geo-whois-asn-country-mmdb */
    char asn_package[64];       /* @ip-location-db/asn */
    char geoip_path[1024];      /* the GeoIP database that would be opened, "" none */
    char geoip_type[64];        /* its metadata database_type */
    uint64_t geoip_build_epoch; /* its metadata build_epoch, 0 unknown */
} ni_data_info;

/* Fills out without loading anything.  data_dir NULL: $NETINTEL_DATA, else
 * the defaults (netintel(1)); geoip_path NULL: $NETINTEL_GEOIP, else the
 * defaults.  NI_OK unless memory ran out. */
ni_err ni_data_info_get(const char *data_dir, const char *geoip_path, ni_data_info *out, ni_error *err);

/* ---- an address or a domain, as JSON ----------------------------------------- */
/* One JSON object and a newline, as `netintel lookup ADDRESS|DOMAIN` writes
 * it: query, type ("address" or "domain"), for addresses country,
 * continent, asn and as_org, then service, category, vpn_provider and
 * vpn_evidence (null when unknown).  *line (len bytes, NUL-terminated)
 * belongs to the run until its next look-up.  NI_ERR_ARG: neither an
 * address nor a domain name ("'x': neither an IP address nor a domain
 * name"); the codes of ni_run_load. */
ni_err ni_run_lookup_json(struct ni_run *r, const char *text, const char **line, size_t *len, ni_error *err);

/* ---- User-Agents, as JSON ------------------------------------------------------ */
#define NI_UA_LOOKUP_CACHE_DEFAULT 8192u    /* cached parse results */
#define NI_UA_LOOKUP_LINE_MAX 65536u        /* longest User-Agent line `lookup --ua` reads */

/* A User-Agent reader: uap-core's parser and the enrichment of the ua_*
 * fields, loaded once (no GeoIP or ASN data). */
typedef struct ni_ua_lookup ni_ua_lookup;

/* data_dir NULL: as for ni_data_info_get.  cache: parse results kept
 * (0 none); prefilter false tries every rule (same results, slower).
 * NULL with err set: NI_ERR_NOTFOUND (no data directory, or uap-core's
 * regexes.yaml missing), NI_ERR_DATA, NI_ERR_NOMEM. */
ni_ua_lookup *ni_ua_lookup_new(const char *data_dir, size_t cache, bool prefilter, ni_error *err);
void ni_ua_lookup_free(ni_ua_lookup *q);

/* One JSON object and a newline for ua[0..n), as `netintel lookup --ua`
 * writes it: user_agent; the fields a session carrying it has, named as in
 * docs/sessions.md (ua_browser, ua_browser_version, ua_os, ua_os_version,
 * ua_os_detail, ua_maker, ua_model, ua_device_source, ua_form_factor,
 * ua_kind, windows_version, ua_reduced); model_name and model_released
 * (data/devices.tsv); "uap": {browser, os, device}, uap-core's own parse.
 * The client hints may be NULL.  *line (len bytes, NUL-terminated) stays
 * valid until the next call.  NI_ERR_LIMIT: the record is too large. */
ni_err ni_ua_lookup_json(ni_ua_lookup *q, const char *ua, size_t n, const char *platform,
                         const char *platform_version, const char *model,
                         const char **line, size_t *len, ni_error *err);

/* The parser's counters so far, as the JSON object of `lookup --ua --stats`
 * (parsed, cache_hits, regex_tries, match_errors, truncated), with a final
 * newline; *text as for ni_ua_lookup_json. */
ni_err ni_ua_lookup_stats_json(ni_ua_lookup *q, const char **text, size_t *len, ni_error *err);

#ifdef __cplusplus
}
#endif
#endif
