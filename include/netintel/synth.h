/* synth.h — synthetic worlds in the embedding API (`netintel synth`): a
 * scenario (data/scenarios/) becomes a realistic capture of a simulated
 * target network, and its truth — the profile netintel must find in that
 * capture, as a report.json — computed from the sessions as generated.
 * Same scenario, seed and scale: the same bytes.  Included by netintel.h;
 * documented in docs/API.md ("Synthetic worlds"). */
#ifndef NETINTEL_SYNTH_H
#define NETINTEL_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include "netintel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ni_synth_options {
    const char *scenario;       /* NULL: <data directory>/scenarios/default.scn */
    const char *geoip_path;     /* places the visitors; NULL: $NETINTEL_GEOIP, else the defaults */
    uint64_t seed;              /* default 1 */
    double scale;               /* multiplies sessions and visitors, 0.01 .. 100000 (default 1) */
    /* called now and then while writing with the bytes so far and the
     * fraction done; NULL: none */
    void (*progress)(void *ud, uint64_t bytes, double fraction);
    void *progress_ud;
} ni_synth_options;

void ni_synth_options_init(ni_synth_options *o);

typedef struct ni_world ni_world;

/* Loads and checks the scenario, the GeoIP data and the time zone.  NULL
 * with err set: NI_ERR_NOTFOUND (no data directory, missing scenario),
 * NI_ERR_FORMAT ("file:LINE: problem"), NI_ERR_ARG (scale out of range),
 * NI_ERR_DATA, NI_ERR_NOMEM. */
ni_world *ni_world_new(const ni_synth_options *o, ni_error *err);
void ni_world_free(ni_world *w);

/* Writes the capture (pcap) to path, by name ("-": standard output); call
 * it once.  NI_ERR_IO when the capture cannot be written (the message is
 * the writer's; the caller names the path), the codes of ni_world_new. */
ni_err ni_world_write(ni_world *w, const char *path, ni_error *err);

/* What ni_world_write generated. */
typedef struct ni_world_summary {
    uint64_t sessions, packets, bytes;
} ni_world_summary;
void ni_world_get_summary(const ni_world *w, ni_world_summary *out);

/* The truth of the capture written: a report.json (docs/report-schema.json)
 * of the sessions as generated.  *json (len bytes, NUL-terminated) belongs
 * to w.  NI_ERR_LIMIT, NI_ERR_NOMEM. */
ni_err ni_world_truth(ni_world *w, const char **json, size_t *len, ni_error *err);

#ifdef __cplusplus
}
#endif
#endif
