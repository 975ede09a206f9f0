/* ni_world.c — synthetic worlds in the embedding API
 * (include/netintel/synth.h, docs/API.md): the scenario (synth/ni_synth),
 * the GeoIP data that places the visitors (enrich/ni_enrich through
 * ni_synth_geo), and the truth: every generated session counted into a
 * profile (analyze/ni_profile) of the scenario's target and time zone. */
#include "api/ni_world.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_tz.h"
#include "core/ni_buf.h"
#include "core/ni_datadir.h"
#include "enrich/ni_enrich.h"
#include "synth/ni_synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRUTH_MAX (512u << 20)

struct ni_world {
    ni_synth_options o;
    ni_scenario *sc;
    ni_enrich *en;
    ni_tz *tz;
    const char *spec[1];
    ni_profile_config pc;       /* borrowed by the profile */
    ni_profile *prof;
    ni_synth_geo *geo;
    ni_synth_summary sum;
    bool written;
    ni_buf truth;
};

void ni_synth_options_init(ni_synth_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->scale = 1;
}

void ni_world_free(ni_world *w)
{
    if (!w) return;
    ni_profile_free(w->prof);
    ni_synth_geo_free(w->geo);
    ni_tz_free(w->tz);
    ni_enrich_free(w->en);
    ni_scenario_free(w->sc);
    ni_buf_release(&w->truth);
    free(w);
}

ni_world *ni_world_new(const ni_synth_options *o, ni_error *err)
{
    ni_synth_options d;
    if (!o) { ni_synth_options_init(&d); o = &d; }
    if (!(o->scale >= 0.01 && o->scale <= 100000)) {
        ni_error_set(err, NI_ERR_ARG, "scale: %g: expected a number from 0.01 to 100000", o->scale);
        return NULL;
    }
    ni_world *w = calloc(1, sizeof *w);
    if (!w) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    w->o = *o;
    ni_buf_init(&w->truth, TRUTH_MAX);
    char data[512], path[1024];
    const char *scenario = o->scenario;
    if (!scenario) {
        if (ni_data_dir(data, sizeof data)) {
            ni_error_set(err, NI_ERR_NOTFOUND, "data directory not found (set NETINTEL_DATA)");
            ni_world_free(w);
            return NULL;
        }
        snprintf(path, sizeof path, "%s/scenarios/default.scn", data);
        scenario = path;
    }
    if (!(w->sc = ni_scenario_load(scenario, err))) { ni_world_free(w); return NULL; }
    const char *env = getenv("NETINTEL_GEOIP");
    ni_enrich_config ec = { NULL, o->geoip_path ? o->geoip_path : (env && *env ? env : NULL), NULL, false };
    if (!(w->en = ni_enrich_new(&ec, err)) || !(w->tz = ni_tz_load(ni_scenario_timezone(w->sc), err))) {
        ni_world_free(w);
        return NULL;
    }
    w->spec[0] = ni_scenario_target(w->sc);
    ni_profile_config pc = { w->spec, 1, w->tz, 0, 0, ni_enrich_profile_lookups(w->en), NULL, 0, false, NULL };
    w->pc = pc;
    if (!(w->prof = ni_profile_new(&w->pc, err))) { ni_world_free(w); return NULL; }
    if (!(w->geo = ni_synth_geo_new(w->en))) {
        ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        ni_world_free(w);
        return NULL;
    }
    /* the run's own copies: the caller's strings need not outlive this call */
    w->o.scenario = NULL;
    w->o.geoip_path = NULL;
    return w;
}

static void on_session(void *ud, const ni_session *s) { ni_profile_add(ud, s); }

ni_err ni_world_write(ni_world *w, const char *path, ni_error *err)
{
    if (w->written) return ni_error_set(err, NI_ERR_ARG, "%s: the world was written already", path);
    w->written = true;
    ni_synth_opts so = { w->o.seed, w->o.scale, path, ni_synth_geo_addr, w->geo, on_session, w->prof,
                         w->o.progress, w->o.progress_ud };
    return ni_synth_run(w->sc, &so, &w->sum, err);
}

void ni_world_get_summary(const ni_world *w, ni_world_summary *out)
{
    out->sessions = w->sum.sessions;
    out->packets = w->sum.packets;
    out->bytes = w->sum.bytes;
}

ni_err ni_world_truth(ni_world *w, const char **json, size_t *len, ni_error *err)
{
    ni_buf_clear(&w->truth);
    if (ni_profile_json(w->prof, &w->truth)) {
        if (w->truth.err == NI_ERR_LIMIT) return ni_error_set(err, NI_ERR_LIMIT, "the truth is larger than %u MiB", TRUTH_MAX >> 20);
        return ni_error_set(err, w->truth.err ? w->truth.err : NI_ERR_NOMEM, "cannot write the truth");
    }
    *json = ni_buf_str(&w->truth);
    *len = w->truth.len;
    return NI_OK;
}
