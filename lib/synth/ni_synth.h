/* ni_synth.h — the synthetic world: from a scenario file (data/scenarios/,
 * format documented in default.scn) writes a realistic capture of a target
 * network — devices with period-correct User-Agents, local-time-shaped
 * activity (tz database), sessions to services of every category, DNS,
 * VPN tunnels (OpenVPN, WireGuard) and provider APIs, and inbound visitors
 * from many countries with a regional level shift — and reports every
 * session it generated, with the values netintel is expected to derive, to
 * a callback.  Feeding those sessions to ni_profile gives the truth file in
 * the report.json shape.  Same scenario + seed + scale → same bytes. */
#ifndef NI_SYNTH_H
#define NI_SYNTH_H

#include <stdint.h>
#include "netintel/netintel.h"

typedef struct ni_scenario ni_scenario;

/* Loads and checks a scenario; errors name "file:LINE: problem". */
ni_scenario *ni_scenario_load(const char *path, ni_error *err);
void ni_scenario_free(ni_scenario *sc);
const char *ni_scenario_timezone(const ni_scenario *sc);
const char *ni_scenario_target(const ni_scenario *sc);

/* Public addresses of a country for the visitors: a sample of the GeoIP
 * database's IPv4 networks of each country (/28 or larger, at most 4096),
 * listed through the enrichment (ni_enrich_networks) once per country. */
struct ni_enrich;
typedef struct ni_synth_geo ni_synth_geo;
/* en must outlive the object.  NULL on OOM. */
ni_synth_geo *ni_synth_geo_new(struct ni_enrich *en);
void ni_synth_geo_free(ni_synth_geo *g);
/* A country_addr callback (ud = the ni_synth_geo): a host address inside
 * one of cc's networks, r picking it.  NI_ERR_NOTFOUND if cc has none. */
ni_err ni_synth_geo_addr(void *ud, const char *cc, uint64_t r, ni_addr *out);

typedef struct ni_synth_opts {
    uint64_t seed;
    double scale;                       /* multiplies hosts' sessions and visitors (≥ 0.01) */
    const char *out_path;               /* capture to write (pcap) */
    /* a public address that the GeoIP database places in country cc;
     * r varies the choice.  Required for visitors. */
    ni_err (*country_addr)(void *ud, const char *cc, uint64_t r, ni_addr *out);
    void *country_ud;
    /* called for every generated session with its expected evidence and
     * enrichment (strings valid during the call only) */
    void (*on_session)(void *ud, const ni_session *s);
    void *session_ud;
    /* progress: called now and then with the bytes written so far */
    void (*progress)(void *ud, uint64_t bytes, double fraction);
    void *progress_ud;
} ni_synth_opts;

typedef struct ni_synth_summary {
    uint64_t sessions, packets, bytes;
} ni_synth_summary;

ni_err ni_synth_run(const ni_scenario *sc, const ni_synth_opts *o, ni_synth_summary *sum, ni_error *err);

#endif
