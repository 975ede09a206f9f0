/* ni_engine.c — the sessions pipeline (see ni_engine.h): wires the flow
 * table's callbacks to the evidence producers (ni_producer.h), the target
 * (direction), the enrichment hooks and the sink. */
#include "session/ni_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_limits.h"
#include "decode/ni_decode.h"
#include "dissect/ni_producer.h"
#include "ingest/ni_input.h"

#include <stdalign.h>
#include <stddef.h>

/* Per-flow state: what the producers share, then each producer's state at
 * its own (aligned) offset. */
typedef struct flow_hdr {
    ni_pflow f;
    uint32_t pkt_done;          /* bit i: producer i wants no more packets */
} flow_hdr;

typedef struct producer_slot {
    const ni_producer *p;
    void *ctx;
    size_t off;                 /* of its state in the per-flow block */
} producer_slot;

struct ni_engine {
    ni_stats stats;
    ni_flow_table *flows;
    producer_slot prod[NI_PRODUCERS_MAX];   /* the enabled producers, in table order */
    unsigned nprod;
    int stream_prod, dgram_prod;            /* the one consuming streams / datagrams, -1 none */
    uint32_t pkt_mask;                      /* producers with on_packet */
    const ni_target *target;
    const ni_input_options *input;          /* ni_engine_set_input, NULL none */
    struct { ni_engine_hook fn; void *ud; } hooks[NI_ENGINE_HOOKS_MAX];
    unsigned nhooks;
    ni_engine_sink sink;
    void *sink_ud;
    ni_err sink_err;            /* first sink failure; later sessions are not written */
    ni_error sink_msg;
    ni_engine_warn warn;
    void *warn_ud;
    ni_engine_stop_fn stop;
    void *stop_ud;
    ni_engine_progress_fn progress;
    void *progress_ud;
    uint64_t progress_every;
    bool warned_linktype;       /* this file already warned about */
    const char *cur_path;
    ni_engine_tick_fn tick;
    void *tick_ud;
    ni_input *pending;          /* ni_engine_open's, until read */
    char *pending_path;
    unsigned live_reads;
    uint64_t capture_base[3];   /* capture counters of the live inputs already closed */
};

static ni_pflow *pflow(void *app, ni_session *s)
{
    ni_pflow *f = &((flow_hdr *)app)->f;
    f->s = s;
    return f;
}

static void *pstate(const ni_engine *e, void *app, unsigned i) { return (unsigned char *)app + e->prod[i].off; }

/* ---- flow table callbacks: the producers, then enrichment and the sink ---- */
static void cb_start(void *ud, ni_session *s, void *app)
{
    ni_engine *e = ud;
    s->direction = ni_target_direction(e->target, &s->client, &s->server);
    ni_pflow *f = pflow(app, s);
    for (unsigned i = 0; i < e->nprod; i++)
        if (e->prod[i].p->on_start) e->prod[i].p->on_start(e->prod[i].ctx, pstate(e, app, i), f);
}

static size_t cb_stream(void *ud, ni_session *s, void *app, int dir, const uint8_t *p, size_t n,
                        int64_t ts, bool *done)
{
    ni_engine *e = ud;
    if (e->stream_prod < 0) { *done = true; return n; }
    unsigned i = (unsigned)e->stream_prod;
    return e->prod[i].p->on_stream(e->prod[i].ctx, pstate(e, app, i), pflow(app, s), dir, p, n, ts, done);
}

static bool cb_datagram(void *ud, ni_session *s, void *app, int dir, const uint8_t *p, size_t n,
                        int64_t ts)
{
    ni_engine *e = ud;
    if (e->dgram_prod < 0) return true;
    unsigned i = (unsigned)e->dgram_prod;
    return e->prod[i].p->on_datagram(e->prod[i].ctx, pstate(e, app, i), pflow(app, s), dir, p, n, ts);
}

static bool cb_packet(void *ud, ni_session *s, void *app, int dir, const ni_packet *p)
{
    ni_engine *e = ud;
    flow_hdr *h = app;
    ni_pflow *f = pflow(app, s);
    for (unsigned i = 0; i < e->nprod; i++) {
        uint32_t bit = 1u << i;
        if (!(e->pkt_mask & bit) || (h->pkt_done & bit)) continue;
        if (e->prod[i].p->on_packet(e->prod[i].ctx, pstate(e, app, i), f, dir, p)) h->pkt_done |= bit;
    }
    return (h->pkt_done & e->pkt_mask) == e->pkt_mask;
}

static void cb_finish(void *ud, ni_session *s, void *app)
{
    ni_engine *e = ud;
    ni_pflow *f = pflow(app, s);
    for (unsigned i = 0; i < e->nprod; i++)
        if (e->prod[i].p->on_finish) e->prod[i].p->on_finish(e->prod[i].ctx, pstate(e, app, i), f);
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
    for (unsigned i = 0; i < e->nprod; i++)
        if (e->prod[i].p->release) e->prod[i].p->release(e->prod[i].ctx, pstate(e, app, i));
}

/* ---- lifetime ----------------------------------------------------------- */
static void free_producers(ni_engine *e)
{
    for (unsigned i = 0; i < e->nprod; i++)
        if (e->prod[i].p->ctx_free && e->prod[i].ctx) e->prod[i].p->ctx_free(e->prod[i].ctx);
    e->nprod = 0;
}

/* Makes the enabled producers' contexts and lays out the per-flow block;
 * returns its size, 0 on failure (err says). */
static size_t make_producers(ni_engine *e, const ni_producer_opts *o, ni_error *err)
{
    const size_t align = alignof(max_align_t);
    size_t off = (sizeof(flow_hdr) + align - 1) / align * align;
    e->stream_prod = e->dgram_prod = -1;
    for (const ni_producer *const *pp = ni_producers; *pp; pp++) {
        const ni_producer *p = *pp;
        void *ctx = NULL;
        if (p->ctx_new) {
            ni_error ce = { NI_OK, "" };
            ctx = p->ctx_new(o, &e->stats, &ce);
            if (!ctx && ce.code != NI_OK) {
                if (err) *err = ce;
                free_producers(e);
                return 0;
            }
            if (!ctx) continue;                 /* disabled by the options */
        }
        if (e->nprod >= NI_PRODUCERS_MAX) {
            if (p->ctx_free && ctx) p->ctx_free(ctx);
            ni_error_set(err, NI_ERR_LIMIT, "too many evidence producers");
            free_producers(e);
            return 0;
        }
        unsigned i = e->nprod++;
        e->prod[i] = (producer_slot){ p, ctx, off };
        off += (p->state_size + align - 1) / align * align;
        if (p->on_stream && e->stream_prod < 0) e->stream_prod = (int)i;
        if (p->on_datagram && e->dgram_prod < 0) e->dgram_prod = (int)i;
        if (p->on_packet) e->pkt_mask |= 1u << i;
    }
    return off;
}

ni_engine *ni_engine_new(const ni_engine_config *cfg, ni_error *err)
{
    ni_engine *e = calloc(1, sizeof *e);
    if (!e) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    ni_flow_config fc;
    if (cfg) { fc = cfg->flow; e->target = cfg->target; } else ni_flow_config_default(&fc);
    ni_producer_opts po = { cfg && cfg->ndpi };
    size_t app_size = make_producers(e, &po, err);
    if (!app_size) { free(e); return NULL; }
    ni_flow_callbacks cb = { e, app_size, cb_start, cb_stream, cb_datagram, cb_emit,
                             cb_release, cb_packet, cb_finish };
    e->flows = ni_flow_table_new(&fc, &cb, &e->stats);
    if (!e->flows) {
        ni_error_set(err, fc.max_flows ? NI_ERR_NOMEM : NI_ERR_ARG,
                     fc.max_flows ? "out of memory for the flow table" : "bad flow table limits");
        free_producers(e);
        free(e);
        return NULL;
    }
    e->progress_every = 65536;
    return e;
}

void ni_engine_free(ni_engine *e)
{
    if (!e) return;
    ni_input_close(e->pending);
    free(e->pending_path);
    ni_flow_table_free(e->flows);       /* releases the producers' state of live flows */
    free_producers(e);
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
void ni_engine_set_stop(ni_engine *e, ni_engine_stop_fn fn, void *ud) { e->stop = fn; e->stop_ud = ud; }
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

ni_err ni_engine_session(ni_engine *e, ni_session *s, ni_error *err)
{
    if (e->sink_err) return sink_error(e, err);
    s->direction = ni_target_direction(e->target, &s->client, &s->server);
    e->stats.sessions++;
    cb_emit(e, s);
    if (e->sink_err) return sink_error(e, err);
    return NI_OK;
}

static void report_progress(ni_engine *e, const ni_input *in)
{
    ni_input_progress is;
    ni_input_stats(in, &is);
    ni_engine_progress pr = { e->cur_path, is.done, is.total, &e->stats };
    e->progress(e->progress_ud, &pr);
}

void ni_engine_set_input(ni_engine *e, const ni_input_options *o) { e->input = o; }
void ni_engine_set_tick(ni_engine *e, ni_engine_tick_fn fn, void *ud) { e->tick = fn; e->tick_ud = ud; }
unsigned ni_engine_live_reads(const ni_engine *e) { return e->live_reads; }

ni_err ni_engine_open(ni_engine *e, const char *path, ni_error *err)
{
    if (e->pending) return ni_error_set(err, NI_ERR_ARG, "%s: another input is already open", path);
    if (!(e->pending_path = strdup(path))) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    if (!(e->pending = ni_input_open_opts(path, e->input, err))) {
        free(e->pending_path);
        e->pending_path = NULL;
        return err && err->code ? err->code : NI_ERR_IO;
    }
    return NI_OK;
}

/* A live input's kernel counters into the run's: those of the inputs
 * already closed plus this one's so far. */
static void capture_counters(ni_engine *e, const ni_input *in, bool closing)
{
    ni_input_progress is = { 0 };
    ni_input_stats(in, &is);
    if (!is.live) return;
    e->stats.capture_received = e->capture_base[0] + is.received;
    e->stats.capture_dropped = e->capture_base[1] + is.dropped;
    e->stats.capture_if_dropped = e->capture_base[2] + is.if_dropped;
    if (closing) {
        e->capture_base[0] = e->stats.capture_received;
        e->capture_base[1] = e->stats.capture_dropped;
        e->capture_base[2] = e->stats.capture_if_dropped;
    }
}

ni_err ni_engine_read(ni_engine *e, const char *path, ni_error *err)
{
    if (e->sink_err) return sink_error(e, err);
    ni_input *in = NULL;
    if (e->pending && !strcmp(e->pending_path, path)) {
        in = e->pending;
        e->pending = NULL;
        free(e->pending_path);
        e->pending_path = NULL;
    } else if (!(in = ni_input_open_opts(path, e->input, err))) {
        return err && err->code ? err->code : NI_ERR_IO;
    }
    bool live = !strcmp(ni_input_kind(in), "live");
    if (live) e->live_reads++;
    e->cur_path = ni_input_path(in);
    e->warned_linktype = false;
    ni_err r = NI_OK;
    ni_item it;
    uint64_t n = 0;
    for (;;) {
        if (e->stop && e->stop(e->stop_ud)) {
            /* a live capture has no end of its own: a stop request is its end */
            if (!live) r = ni_error_set(err, NI_ERR_INTERRUPTED, "%s: interrupted", e->cur_path);
            break;
        }
        int k = ni_input_next(in, &it, err);
        if (k == 0) break;
        if (k < 0) { r = err ? err->code : NI_ERR_FORMAT; if (!r) r = NI_ERR_FORMAT; break; }
        if (it.kind == NI_ITEM_TICK) {
            ni_flow_advance(e->flows, it.tick_us);
            capture_counters(e, in, false);
            if (e->tick) e->tick(e->tick_ud);
            if (e->sink_err) { r = sink_error(e, err); break; }
            continue;
        }
        if (it.kind == NI_ITEM_FRAME)
            r = ni_engine_frame(e, it.frame.linktype, it.frame.data, it.frame.caplen, it.frame.wirelen,
                                it.frame.ts_us, err);
        else
            r = ni_engine_session(e, it.session, err);
        if (r != NI_OK) break;
        ++n;
        if (e->progress && n % e->progress_every == 0) report_progress(e, in);
        if (e->tick && n % 1024 == 0) {
            if (live) capture_counters(e, in, false);
            e->tick(e->tick_ud);
        }
    }
    if (e->progress) report_progress(e, in);
    capture_counters(e, in, true);
    e->cur_path = NULL;
    ni_input_close(in);
    return r;
}

ni_err ni_engine_finish(ni_engine *e, ni_error *err)
{
    ni_flow_flush(e->flows);
    if (e->sink_err) return sink_error(e, err);
    return NI_OK;
}
