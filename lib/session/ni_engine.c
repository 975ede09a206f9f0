/* ni_engine.c — the sessions pipeline (see ni_engine.h): wires the flow
 * table's callbacks to the dissectors, the target (direction), the
 * enrichment hooks and the sink. */
#include "session/ni_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/ni_decode.h"
#include "dissect/ni_dissect.h"
#include "ingest/ni_source.h"
#include "dissect/ni_ndpi.h"
#include "dissect/ni_tunnel.h"

/* Per-flow state: the dissectors' and the per-packet detectors'. */
typedef struct flow_state {
    ni_app_state app;
    ni_tunnel_state tun;
    ni_ndpi_flow *nd;
    bool nd_done;
} flow_state;

struct ni_engine {
    ni_stats stats;
    ni_flow_table *flows;
    ni_dissect *dx;
    ni_ndpi *ndpi;              /* NULL when disabled */
    const ni_target *target;
    struct { ni_engine_hook fn; void *ud; } hooks[NI_ENGINE_HOOKS_MAX];
    unsigned nhooks;
    ni_engine_sink sink;
    void *sink_ud;
    ni_err sink_err;            /* first sink failure; later sessions are not written */
    ni_error sink_msg;
    ni_engine_warn warn;
    void *warn_ud;
    ni_engine_progress_fn progress;
    void *progress_ud;
    uint64_t progress_every;
    bool warned_linktype;       /* this file already warned about */
    const char *cur_path;
};

/* ---- flow table callbacks ----------------------------------------------- */
static void cb_start(void *ud, ni_session *s, void *app)
{
    ni_engine *e = ud;
    (void)app;
    s->direction = ni_target_direction(e->target, &s->client, &s->server);
    ni_dissect_session_start(e->dx, s);
}

static size_t cb_stream(void *ud, ni_session *s, void *app, int dir, const uint8_t *p, size_t n,
                        int64_t ts, bool *done)
{
    ni_engine *e = ud;
    ni_app_state *st = &((flow_state *)app)->app;
    size_t used = ni_dissect_stream(e->dx, st, s, dir, p, n, ts);
    *done = st->done[dir] != 0;
    return used;
}

static bool cb_datagram(void *ud, ni_session *s, void *app, int dir, const uint8_t *p, size_t n,
                        int64_t ts)
{
    ni_engine *e = ud;
    ni_app_state *st = &((flow_state *)app)->app;
    ni_dissect_datagram(e->dx, st, s, dir, p, n, ts);
    return st->done[dir] != 0;
}

static bool cb_packet(void *ud, ni_session *s, void *app, int dir, const ni_packet *p)
{
    ni_engine *e = ud;
    flow_state *fs = app;
    bool tun_done = ni_tunnel_packet(&fs->tun, s->proto, s->client_port, s->server_port, dir,
                                     p->payload, p->payload_len);
    /* nDPI fills gaps: it is not asked about sessions that netintel's own
     * dissectors recognised as HTTP or DNS (their names are authoritative);
     * TLS, QUIC and unrecognised sessions get its second opinion */
    if (e->ndpi && !fs->nd_done && (fs->app.proto == NI_APP_HTTP || fs->app.proto == NI_APP_DNS)) {
        ni_ndpi_drop(e->ndpi, &fs->nd);
        fs->nd_done = true;
    }
    if (e->ndpi && !fs->nd_done && p->l3 && p->l3_caplen)
        fs->nd_done = ni_ndpi_packet(e->ndpi, &fs->nd, p->l3, p->l3_caplen, p->ts_us);
    return tun_done && (fs->nd_done || !e->ndpi);
}

static void cb_finish(void *ud, ni_session *s, void *app)
{
    ni_engine *e = ud;
    flow_state *fs = app;
    s->tunnel = ni_tunnel_protocol(&fs->tun, s);
    if (e->ndpi) ni_ndpi_finish(e->ndpi, &fs->nd, s);
}

static void cb_emit(void *ud, ni_session *s)
{
    ni_engine *e = ud;
    for (unsigned i = 0; i < e->nhooks; i++) e->hooks[i].fn(e->hooks[i].ud, s);
    if (e->sink && !e->sink_err) e->sink_err = e->sink(e->sink_ud, s, &e->sink_msg);
}

static void cb_release(void *ud, ni_session *s, void *app)
{
    ni_engine *e = ud;
    (void)s;
    flow_state *fs = app;
    ni_app_state_release(&fs->app);
    if (e->ndpi) ni_ndpi_drop(e->ndpi, &fs->nd);
}

/* ---- lifetime ----------------------------------------------------------- */
ni_engine *ni_engine_new(const ni_engine_config *cfg, ni_error *err)
{
    ni_engine *e = calloc(1, sizeof *e);
    if (!e) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    ni_flow_config fc;
    if (cfg) { fc = cfg->flow; e->target = cfg->target; } else ni_flow_config_default(&fc);
    ni_flow_callbacks cb = { e, sizeof(flow_state), cb_start, cb_stream, cb_datagram, cb_emit,
                             cb_release, cb_packet, cb_finish };
    if (cfg && cfg->ndpi && !(e->ndpi = ni_ndpi_new(err))) { free(e); return NULL; }
    e->flows = ni_flow_table_new(&fc, &cb, &e->stats);
    if (!e->flows) {
        ni_error_set(err, fc.max_flows ? NI_ERR_NOMEM : NI_ERR_ARG,
                     fc.max_flows ? "out of memory for the flow table" : "bad flow table limits");
        ni_ndpi_free(e->ndpi);
        free(e);
        return NULL;
    }
    e->dx = ni_dissect_new(&e->stats);
    if (!e->dx) {
        ni_flow_table_free(e->flows);
        ni_ndpi_free(e->ndpi);
        free(e);
        ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->progress_every = 65536;
    return e;
}

void ni_engine_free(ni_engine *e)
{
    if (!e) return;
    ni_flow_table_free(e->flows);       /* releases app state of live flows */
    ni_dissect_free(e->dx);
    ni_ndpi_free(e->ndpi);
    free(e);
}

ni_err ni_engine_add_hook(ni_engine *e, ni_engine_hook fn, void *ud)
{
    if (e->nhooks >= NI_ENGINE_HOOKS_MAX) return NI_ERR_LIMIT;
    e->hooks[e->nhooks].fn = fn;
    e->hooks[e->nhooks].ud = ud;
    e->nhooks++;
    return NI_OK;
}

void ni_engine_set_sink(ni_engine *e, ni_engine_sink fn, void *ud) { e->sink = fn; e->sink_ud = ud; }
void ni_engine_set_warn(ni_engine *e, ni_engine_warn fn, void *ud) { e->warn = fn; e->warn_ud = ud; }
void ni_engine_set_progress(ni_engine *e, ni_engine_progress_fn fn, void *ud, uint64_t every)
{
    e->progress = fn;
    e->progress_ud = ud;
    e->progress_every = every ? every : 65536;
}

const ni_stats *ni_engine_stats(const ni_engine *e) { return &e->stats; }
size_t ni_engine_peak_flows(const ni_engine *e) { return ni_flow_peak(e->flows); }

static ni_err sink_error(ni_engine *e, ni_error *err)
{
    if (err) *err = e->sink_msg;
    return e->sink_err;
}

/* ---- frames ------------------------------------------------------------- */
ni_err ni_engine_frame(ni_engine *e, int linktype, const uint8_t *p, uint32_t caplen,
                       uint32_t wirelen, int64_t ts_us, ni_error *err)
{
    e->stats.packets++;
    e->stats.bytes += wirelen > caplen ? wirelen : caplen;
    if (!ni_decode_linktype_supported(linktype)) {
        e->stats.unsupported++;
        if (!e->warned_linktype && e->warn) {
            char msg[NI_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s: unsupported link type %d (frames skipped)",
                     e->cur_path ? e->cur_path : "input", linktype);
            e->warn(e->warn_ud, msg);
        }
        e->warned_linktype = true;
        return NI_OK;
    }
    ni_packet pk;
    if (ni_decode_frame(linktype, p, caplen, ts_us, &pk, &e->stats) != NI_DECODE_OK) return NI_OK;
    if (ni_flow_packet(e->flows, &pk) != NI_OK)
        return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory for a new flow",
                            e->cur_path ? e->cur_path : "input");
    if (e->sink_err) return sink_error(e, err);
    return NI_OK;
}

ni_err ni_engine_read(ni_engine *e, const char *path, ni_error *err)
{
    if (e->sink_err) return sink_error(e, err);
    ni_source *src = ni_source_open(path, err);
    if (!src) return err ? err->code : NI_ERR_IO;
    e->cur_path = ni_source_path(src);
    e->warned_linktype = false;
    ni_err r = NI_OK;
    ni_frame f;
    uint64_t n = 0;
    for (;;) {
        int k = ni_source_next(src, &f, err);
        if (k == 0) break;
        if (k < 0) { r = err ? err->code : NI_ERR_FORMAT; if (!r) r = NI_ERR_FORMAT; break; }
        if ((r = ni_engine_frame(e, f.linktype, f.data, f.caplen, f.wirelen, f.ts_us, err)) != NI_OK)
            break;
        if (e->progress && ++n % e->progress_every == 0) {
            ni_engine_progress pr = { e->cur_path, 0, 0, &e->stats };
            ni_source_progress(src, &pr.done, &pr.total);
            e->progress(e->progress_ud, &pr);
        }
    }
    if (e->progress) {
        ni_engine_progress pr = { e->cur_path, 0, 0, &e->stats };
        ni_source_progress(src, &pr.done, &pr.total);
        e->progress(e->progress_ud, &pr);
    }
    e->cur_path = NULL;
    ni_source_close(src);
    return r;
}

ni_err ni_engine_finish(ni_engine *e, ni_error *err)
{
    ni_flow_flush(e->flows);
    if (e->sink_err) return sink_error(e, err);
    return NI_OK;
}
