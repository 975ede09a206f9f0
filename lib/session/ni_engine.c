/* ni_engine.c — the sessions pipeline (see ni_engine.h): wires the flow
 * table's callbacks to the evidence producers (ni_producer.h), the target
 * (direction), the enrichment hooks and the sink; and, with
 * ni_engine_set_threads, the same pipeline split between the calling
 * thread (reader, a lane and the merge) and worker lanes, in one thread's
 * order ("parallel runs" below). */
#include "session/ni_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_hash.h"
#include "core/ni_limits.h"
#include "core/ni_arena.h"
#include "decode/ni_decode.h"
#include "dissect/ni_dissect.h"
#include "dissect/ni_producer.h"
#include "ingest/ni_input.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
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

typedef struct par par;
typedef struct par_lane par_lane;

struct ni_engine {
    ni_stats stats;
    ni_engine_config cfg;       /* as made (the lanes of a parallel run copy it) */
    par *par;                   /* a parallel run (ni_engine_set_threads), NULL none */
    par_lane *lane;             /* this engine is a lane of a parallel run: emits to it */
    ni_flow_table *flows;
    size_t app_size;                        /* of the per-flow block (make_producers) */
    producer_slot prod[NI_PRODUCERS_MAX];   /* the enabled producers, in table order */
    unsigned nprod;
    int stream_prod, dgram_prod;            /* the one consuming streams / datagrams, -1 none */
    uint32_t pkt_mask;                      /* producers with on_packet */
    const ni_target *target;
    const ni_input_options *input;          /* ni_engine_set_input, NULL none */
    struct { ni_engine_hook fn; void *ud; } hooks[NI_ENGINE_HOOKS_MAX];
    unsigned nhooks;
    struct { ni_engine_lane_hook fn; ni_engine_lane_free free; void *ud; } lhooks[NI_ENGINE_HOOKS_MAX];
    unsigned nlhooks;
    void *lstate[NI_ENGINE_HOOKS_MAX];      /* the lane hooks' state in the thread that delivers */
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

/* A session goes out: the lane hooks not run yet (bit i of todo: lane hook
 * i, with the state in lstate[i]), the hooks, then the sink. */
static void deliver(ni_engine *e, ni_session *s, uint32_t todo, void **lstate)
{
    for (unsigned i = 0; i < e->nlhooks; i++)
        if (todo & (1u << i)) e->lhooks[i].fn(e->lhooks[i].ud, &lstate[i], s);
    for (unsigned i = 0; i < e->nhooks; i++) e->hooks[i].fn(e->hooks[i].ud, s);
    if (e->sink && !e->sink_err) {
        ni_err r = e->sink(e->sink_ud, s, &e->sink_msg);
        if (r) e->sink_err = r;
    }
}

static void lane_push(ni_engine *le, ni_session *s);

static void cb_emit(void *ud, ni_session *s)
{
    ni_engine *e = ud;
    if (e->lane) lane_push(e, s);
    else deliver(e, s, UINT32_MAX, e->lstate);
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

/* A flow table calling this engine back. */
static ni_flow_table *make_table(ni_engine *e, const ni_flow_config *fc)
{
    ni_flow_callbacks cb = { e, e->app_size, cb_start, cb_stream, cb_datagram, cb_emit,
                             cb_release, cb_packet, cb_finish };
    return ni_flow_table_new(fc, &cb, &e->stats);
}

ni_engine *ni_engine_new(const ni_engine_config *cfg, ni_error *err)
{
    ni_engine *e = calloc(1, sizeof *e);
    if (!e) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    ni_flow_config fc;
    if (cfg) { fc = cfg->flow; e->target = cfg->target; } else ni_flow_config_default(&fc);
    e->cfg.flow = fc;
    e->cfg.target = e->target;
    e->cfg.ndpi = cfg && cfg->ndpi;
    ni_producer_opts po = { cfg && cfg->ndpi, cfg && cfg->ndpi && cfg->ndpi_lazy };
    size_t app_size = make_producers(e, &po, err);
    if (!app_size) { free(e); return NULL; }
    e->app_size = app_size;
    e->flows = make_table(e, &fc);
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

static void par_free(par *P);

void ni_engine_free(ni_engine *e)
{
    if (!e) return;
    par_free(e->par);                   /* stops the threads first */
    ni_input_close(e->pending);
    free(e->pending_path);
    ni_flow_table_free(e->flows);       /* releases the producers' state of live flows */
    free_producers(e);
    for (unsigned i = 0; i < e->nlhooks; i++)
        if (e->lstate[i] && e->lhooks[i].free) e->lhooks[i].free(e->lhooks[i].ud, e->lstate[i]);
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

ni_err ni_engine_add_lane_hook(ni_engine *e, ni_engine_lane_hook fn, ni_engine_lane_free free_fn, void *ud)
{
    if (e->nlhooks >= NI_ENGINE_HOOKS_MAX) return NI_ERR_LIMIT;
    e->lhooks[e->nlhooks].fn = fn;
    e->lhooks[e->nlhooks].free = free_fn;
    e->lhooks[e->nlhooks].ud = ud;
    e->nlhooks++;
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
static size_t par_peak_flows(const par *P);
size_t ni_engine_peak_flows(const ni_engine *e)
{
    return e->par ? par_peak_flows(e->par) : ni_flow_peak(e->flows);
}

static ni_err sink_error(ni_engine *e, ni_error *err)
{
    if (err) *err = e->sink_msg;
    return e->sink_err;
}

/* ---- frames ------------------------------------------------------------- */
static ni_err par_frame(ni_engine *e, const ni_packet *pk, ni_error *err);
static ni_err par_sync(ni_engine *e, ni_error *err);
static void par_unsync(ni_engine *e);
static ni_err par_finish(ni_engine *e, ni_error *err);

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
    if (e->par) return par_frame(e, &pk, err);
    if (ni_flow_packet(e->flows, &pk) != NI_OK)
        return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory for a new flow",
                            e->cur_path ? e->cur_path : "input");
    if (e->sink_err) return sink_error(e, err);
    return NI_OK;
}

ni_err ni_engine_session(ni_engine *e, ni_session *s, ni_error *err)
{
    if (e->par && par_sync(e, err)) return err && err->code ? err->code : NI_ERR_NOMEM;
    if (e->sink_err) { if (e->par) par_unsync(e); return sink_error(e, err); }
    s->direction = ni_target_direction(e->target, &s->client, &s->server);
    e->stats.sessions++;
    deliver(e, s, UINT32_MAX, e->lstate);
    if (e->par) par_unsync(e);
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

static bool par_failed(ni_engine *e);
static ni_err par_failure(ni_engine *e, ni_error *err);

ni_err ni_engine_read(ni_engine *e, const char *path, ni_error *err)
{
    if (e->par ? par_failed(e) : e->sink_err != NI_OK) return e->par ? par_failure(e, err) : sink_error(e, err);
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
    if (e->par) return par_finish(e, err);
    ni_flow_flush(e->flows);
    if (e->sink_err) return sink_error(e, err);
    return NI_OK;
}

/* ---- parallel runs ---------------------------------------------------------
 * ni_engine_set_threads(e, n): n worker threads beside the calling thread,
 * n + 1 busy threads in all.  The calling thread (the reader) reads and
 * decodes frames and numbers the packets (the run's sequence); the flows are
 * split between n + 1 lanes, each a flow table with its own producers: lane
 * 0 is the reader's own (this engine's), lanes 1..n the workers' lane
 * engines.  Lane 0 keeps the flows of DNS ports (UDP 53, 5353, 5355; TCP 53):
 * those are the only flows whose answers feed the DNS cache (ni_dissect),
 * and what they teach is attached to the batch at the packet that taught it,
 * so each worker adds it to its own cache at the same point of the sequence
 * as one engine would: every lane's cache holds, at each packet, what one
 * engine's would.  The other flows go by a symmetric hash of their two
 * addresses (lane_share: the reader could take a share; it takes none).  The
 * reader handles its own packets at once and copies the workers' into
 * batches, which every worker walks: its own packets through its flow
 * table, the others' as the clock (ni_flow_advance), so flows expire at the
 * same packet as in one table.  Each session leaves its lane with its place
 * in the run (ni_flow_emit_order), after the lane hooks (order-independent
 * work) ran in the thread that finished it, with that thread's state, and is
 * handed over at the end of the lane's batch (the reader's: when it
 * publishes one).  Once the reader had to wait for each of the last
 * PAR_IDLE_STREAK batches (the workers are the bottleneck: a flood, one
 * tiny session a packet), a worker leaves its sessions' lane hooks to the
 * merge (their todo bits), which the waiting reader takes: the same
 * results (a lane hook's depend on the session alone), from the merge's
 * caches.  The merge takes the lanes' sessions in that order (a k-way
 * merge: a lane's next session goes when no other lane can still emit an
 * earlier one, by its queue's head or its watermark) and runs the hooks
 * and the sink.  It has no thread of its own: it is a token (P->merging)
 * that whichever thread would otherwise wait takes (wait_merging: a worker
 * with no batch or too many sessions undelivered, the reader with no batch
 * free, at a session source, at the end), merging until its own work is
 * ready; nothing sleeps while the token is free and a hand-over came since
 * a merge last found nothing to deliver.  So the hooks and the sink see the
 * same sessions in the same order as with one thread, one at a time (the
 * token passes under the mutex), except when a table is full (each lane
 * holds a share of max_flows, so which flow is evicted differs) and for
 * nDPI's caches of earlier detections keyed by one address (per lane; those
 * keyed by the pair of addresses stay exact).
 *
 * The threads meet under one mutex once per batch: a lane hands over the
 * sessions it finished (its chunks of sessions, by pointer) and takes back
 * the emptied chunks (PAR_CHUNKS_KEEP kept) and the arenas of its delivered
 * sessions, reset for its flow table's next flows (ni_flow_recycle_arena; a
 * few hundred kept, the rest freed in the thread that allocated them); a
 * thread signals another only if it waits, and a thread waiting for
 * batches only once PAR_WAKE can go (fewer wake-ups).
 *
 * Memory: PAR_BATCHES batches of at most PAR_BATCH_PKTS packets and
 * PAR_BATCH_BYTES bytes of IP packets, and per lane the sessions finished
 * and not yet delivered, past PAR_QUEUE_SOFT of which the lane waits (a
 * worker before its next batch, the reader before filling one), merging if
 * no other thread does. */

#define PAR_BATCH_PKTS NI_PAR_BATCH_PKTS
#define PAR_BATCH_BYTES NI_PAR_BATCH_BYTES
#define PAR_BATCHES NI_PAR_BATCHES
#define PAR_QUEUE_SOFT NI_PAR_QUEUE_SOFT
#define PAR_WAKE (PAR_BATCHES / 2)      /* batches that wake a waiting reader or worker */
#define PAR_IDLE_STREAK NI_PAR_IDLE_STREAK
#define PAR_CHUNK 32u                   /* sessions in a chunk of a lane's queue (about 17 KiB) */
#define PAR_CHUNKS_KEEP 32u             /* emptied chunks a lane keeps for its next sessions */
/* The fields that different threads write are kept in cache lines apart
 * (PAR_LINE): a line written by one thread and read or written by another
 * at each packet or session moves between their CPUs every time. */
#define PAR_LINE 64

typedef struct par_key {
    uint64_t seq;
    uint8_t phase, list;
    int64_t first_us;
    uint64_t order;             /* CLOCK: last_seq; INPUT: first_seq */
} par_key;

typedef struct par_msg {
    par_key k;
    uint32_t todo;              /* the lane hooks still to run (deliver) */
    ni_session s;
} par_msg;

/* Sessions in order, in chunks that pass between the threads by pointer:
 * a chunk holds v[head] .. v[n - 1]; a queue is a list of chunks. */
typedef struct par_chunk {
    struct par_chunk *next;
    uint32_t head, n;
    par_msg v[PAR_CHUNK];
} par_chunk;

typedef struct par_q {
    par_chunk *first, *last;
} par_q;

typedef struct par_op {         /* one entry a DNS answer taught the cache */
    ni_addr client, addr;
    uint32_t ttl, name;         /* name: offset in the batch's names */
    int64_t ts_us;
} par_op;

/* A batch: packet i is ent[i] (pointers into data; a worker's packets
 * only), of lane lane[i], at ts[i]; its DNS-cache entries end at op_end[i]
 * (they start where packet i-1's end).  lane, ts and op_end apart: every
 * worker reads them for every packet, ent only for its own. */
typedef struct par_batch {
    alignas(PAR_LINE) uint64_t seq0;
    uint32_t n;
    ni_packet *ent;
    uint8_t *lane;
    int64_t *ts;
    uint32_t *op_end;
    uint8_t *data;
    size_t used;
    par_op *ops;
    uint32_t nops, opcap;
    char *names;
    size_t names_used, names_cap;
    unsigned pending;           /* workers yet to finish it (under mu) */
} par_batch;

typedef struct par_arenas {
    ni_arena **v;
    size_t n, cap;
} par_arenas;

struct par_lane {
    par *P;
    unsigned id;
    ni_engine *eng;             /* lane 0: the run's own engine; a worker's: NULL once it freed it */
    ni_stats stats;             /* a worker's lane engine's, kept when it is freed */
    size_t peak;                /* its flow table's peak, kept then */
    ni_dissect *dx;             /* a worker's content dissector: its DNS cache is fed from the ops */
    void *lstate[NI_ENGINE_HOOKS_MAX];  /* a worker: the lane hooks' state in its thread */
    pthread_t th;
    bool started;
    /* the lane's own thread's */
    alignas(PAR_LINE) par_q out;        /* sessions it finished since its last hand-over */
    uint64_t nout;              /* how many */
    par_q spare;                /* empty chunks to fill */
    unsigned nspare;
    bool defer;                 /* a worker: its sessions' lane hooks left to the merge
                                   (this batch; set under mu) */
    /* under mu */
    alignas(PAR_LINE) pthread_cond_t cv;    /* a worker waits here */
    bool waiting;               /* the worker waits on cv */
    par_q hand;                 /* sessions handed over, for the merge */
    par_q freed;                /* chunks delivered, back to the lane's thread */
    par_key wm;                 /* every later session of this lane comes after wm */
    bool done;                  /* nothing more will come */
    uint64_t next;              /* a worker: the batch it handles next */
    uint64_t backlog;           /* sessions handed over and not delivered yet */
    par_arenas spent;           /* arenas of delivered sessions, for the lane's thread to free */
    /* the merging thread's (P->merging) */
    alignas(PAR_LINE) par_q in;         /* sessions to merge */
    par_q rfreed;               /* chunks delivered, not handed back yet */
    par_key rwm;                /* wm and done as last seen */
    bool rdone;
    par_arenas rspent;          /* delivered, not handed back yet */
    uint64_t rdelivered;
};

struct par {
    /* set up before the threads start */
    ni_engine *e;
    unsigned nw;                /* worker lanes: lane[1..nw] */
    par_lane *lane;
    ni_mshift lane_hk;          /* the lane hash's numbers (pair_hash) */
    uint64_t share0, share;     /* lane_share: the reader's and each worker's units */
    ni_engine_config lane_cfg;  /* of the workers' lane engines */
    /* the reader's (failed: read by it at each packet, set rarely) */
    alignas(PAR_LINE) par_batch *cur;   /* being filled by the reader */
    uint64_t seq;               /* the next packet's sequence number */
    atomic_bool failed;         /* a sink error or a lane's NI_ERR_NOMEM: the reader stops */
    /* under mu */
    alignas(PAR_LINE) pthread_mutex_t mu;
    pthread_cond_t cv_reader;   /* the reader waits here (reader_waiting) */
    bool reader_waiting;
    int reader_until;           /* what it waits for (par_waiter) */
    bool merging;               /* a thread holds the merge */
    uint64_t changes;           /* hand-overs so far */
    uint64_t merged_upto;       /* changes when a merge last found nothing more */
    uint64_t published;         /* batches handed to the workers */
    uint32_t wait_streak;       /* batches in a row the reader had to wait for (PAR_IDLE_STREAK) */
    bool finishing, aborting, finished;
    ni_error lane_fail;         /* a worker could not make its lane engine */
    bool nomem;                 /* a lane could not allocate */
    /* the merging thread's */
    alignas(PAR_LINE) void *mstate[NI_ENGINE_HOOKS_MAX];    /* the merge's lane hook state (hooks a lane could not run) */
    par_batch batch[PAR_BATCHES];
};

static int key_cmp(const par_key *a, const par_key *b)
{
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    if (a->phase != b->phase) return a->phase < b->phase ? -1 : 1;
    if (a->phase == NI_FLOW_END_CLOCK) {
        if (a->list != b->list) return a->list < b->list ? -1 : 1;
    } else if (a->phase == NI_FLOW_END_INPUT) {
        if (a->first_us != b->first_us) return a->first_us < b->first_us ? -1 : 1;
    } else {
        return 0;               /* ended by one packet: one lane's, in its order */
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

static par_key key_before(uint64_t seq)
{
    par_key k = { seq, NI_FLOW_END_CLOCK, 0, INT64_MIN, 0 };
    return k;
}

static const par_key key_end = { UINT64_MAX, NI_FLOW_END_INPUT, 0, INT64_MIN, 0 };

static void fail_nomem(par *P)          /* mu held */
{
    P->nomem = true;
    atomic_store(&P->failed, true);
}

static void set_nomem(par *P)
{
    pthread_mutex_lock(&P->mu);
    fail_nomem(P);
    pthread_mutex_unlock(&P->mu);
}

/* ---- queues of sessions ----- */
static bool q_empty(const par_q *q) { return !q->first; }

static void q_append(par_q *q, par_chunk *c)
{
    c->next = NULL;
    if (q->last) q->last->next = c;
    else q->first = c;
    q->last = c;
}

/* Moves every chunk of from to the end of to. */
static void q_splice(par_q *to, par_q *from)
{
    if (!from->first) return;
    if (to->last) to->last->next = from->first;
    else to->first = from->first;
    to->last = from->last;
    *from = (par_q){ 0 };
}

static par_chunk *q_pop(par_q *q)
{
    par_chunk *c = q->first;
    if (c && !(q->first = c->next)) q->last = NULL;
    return c;
}

/* Frees the chunks and the arenas of the sessions still in them. */
static void q_free(par_q *q)
{
    for (par_chunk *c; (c = q_pop(q));) {
        for (uint32_t i = c->head; i < c->n; i++) ni_arena_free(c->v[i].s.arena);
        free(c);
    }
}

/* The lane's thread takes back the chunks the merge emptied: at most
 * PAR_CHUNKS_KEEP kept for its next sessions, the rest freed (a burst of
 * sessions, a flood's evictions, does not leave every lane that many). */
static void chunks_recycle(par_lane *L, par_q *back)
{
    for (par_chunk *c; (c = q_pop(back));) {
        if (L->nspare >= PAR_CHUNKS_KEEP) { free(c); continue; }
        q_append(&L->spare, c);
        L->nspare++;
    }
}

static bool arenas_push(par_arenas *a, ni_arena *x)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        ni_arena **nv = realloc(a->v, nc * sizeof *nv);
        if (!nv) return false;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return true;
}

static void arenas_free(par_arenas *a)
{
    for (size_t i = 0; i < a->n; i++) ni_arena_free(a->v[i]);
    free(a->v);
    *a = (par_arenas){ 0 };
}

/* The lane's thread takes back its delivered sessions' arenas: to its flow
 * table for the next flows (t NULL: freed). */
static void arenas_recycle(par_arenas *a, ni_flow_table *t)
{
    for (size_t i = 0; i < a->n; i++) {
        if (t) ni_flow_recycle_arena(t, a->v[i]);
        else ni_arena_free(a->v[i]);
    }
    free(a->v);
    *a = (par_arenas){ 0 };
}

/* on_emit of a lane: the lane hooks (the run's engine's, fixed before the
 * first input) with this thread's state, then the session (and its arena)
 * to the lane's out with its place in the run. */
static void lane_push(ni_engine *le, ni_session *s)
{
    par_lane *L = le->lane;
    par *P = L->P;
    ni_engine *e = P->e;
    par_chunk *c = L->out.last;
    if (!c || c->n == PAR_CHUNK) {
        if ((c = q_pop(&L->spare))) L->nspare--;
        else if (!(c = malloc(sizeof *c))) { set_nomem(P); return; }
        c->head = c->n = 0;
        q_append(&L->out, c);
    }
    par_msg *m = &c->v[c->n];
    ni_flow_order o;
    ni_flow_emit_order(le->flows, &o);
    m->k.seq = o.seq;
    m->k.phase = o.phase;
    m->k.list = o.list;
    m->k.first_us = o.first_us;
    m->k.order = o.phase == NI_FLOW_END_CLOCK ? o.last_seq : o.first_seq;
    m->todo = UINT32_MAX;
    void **st = L->id ? L->lstate : e->lstate;
    for (unsigned i = 0; i < e->nlhooks && !L->defer; i++)
        if (e->lhooks[i].fn(e->lhooks[i].ud, &st[i], s)) m->todo &= ~(1u << i);
    m->s = *s;
    s->arena = NULL;                    /* the message owns it now */
    c->n++;
    L->nout++;
}

/* What a waiting thread waits for: a worker's next batch (or its end) and
 * room; the reader's batch to fill, everything read so far delivered
 * (UNTIL_SYNC), or everything (UNTIL_END). */
enum { UNTIL_BATCH, UNTIL_SYNC, UNTIL_END, UNTIL_WORK };

/* Under mu: are the reader's next k batches to fill free? */
static bool batches_free(const par *P, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        if (P->batch[(P->published + i) % PAR_BATCHES].pending) return false;
    return true;
}

/* Under mu: wakes the threads that wait (their turn to merge may have come). */
static void wake_all(par *P)
{
    if (P->reader_waiting) pthread_cond_signal(&P->cv_reader);
    for (unsigned i = 1; i <= P->nw; i++)
        if (P->lane[i].waiting) pthread_cond_signal(&P->lane[i].cv);
}

/* Under mu, by the lane's thread: its finished sessions go to the merge,
 * with its new watermark; it takes back the arenas to recycle (in *spent,
 * once mu is released) and the emptied chunks (in *back, for
 * chunks_recycle).  A thread waiting to merge is woken if none merges. */
static void hand_over(par *P, par_lane *L, par_key wm, par_arenas *spent, par_q *back)
{
    q_splice(&L->hand, &L->out);
    L->backlog += L->nout;
    L->nout = 0;
    *back = L->freed;
    L->freed = (par_q){ 0 };
    L->wm = wm;
    P->changes++;
    if (!P->merging) {
        /* a reader waiting for a batch to fill is woken once PAR_WAKE are
         * free, not at each: fewer wake-ups (and it merges meanwhile) */
        if (P->reader_waiting) {
            if (P->reader_until != UNTIL_BATCH || batches_free(P, PAR_WAKE))
                pthread_cond_signal(&P->cv_reader);
        } else
            for (unsigned i = 1; i <= P->nw; i++)
                if (P->lane[i].waiting && &P->lane[i] != L) { pthread_cond_signal(&P->lane[i].cv); break; }
    }
    *spent = L->spent;
    L->spent = (par_arenas){ 0 };
}

/* ---- the merge: by whichever thread would wait ----- */

/* Under mu, by the merging thread: takes what the lanes handed over and
 * hands back what was delivered. */
static void collect(par *P)
{
    for (unsigned i = 0; i <= P->nw; i++) {
        par_lane *L = &P->lane[i];
        q_splice(&L->in, &L->hand);
        q_splice(&L->freed, &L->rfreed);
        L->rwm = L->wm;
        L->rdone = L->done;
        if (L->rspent.n) {
            if (!L->spent.n) {
                par_arenas t = L->spent;
                L->spent = L->rspent;
                L->rspent = t;
                L->rspent.n = 0;
            } else {
                for (size_t k = 0; k < L->rspent.n; k++)
                    if (!arenas_push(&L->spent, L->rspent.v[k])) ni_arena_free(L->rspent.v[k]);
                L->rspent.n = 0;
            }
        }
        L->backlog -= L->rdelivered;
        L->rdelivered = 0;
    }
}


typedef struct par_waiter {
    int until;
    par_lane *L;                /* UNTIL_WORK: the worker's lane */
} par_waiter;

/* Under mu: a lane's sessions handed over and not delivered yet.  Its
 * backlog drops only when the merge collects; the merging thread itself
 * (merging) also counts what it delivered since, so that a thread there
 * for its backlog goes back to its own work once under PAR_QUEUE_SOFT
 * instead of merging everything while the other waits for it. */
static uint64_t undelivered(const par_lane *L, bool merging)
{
    return merging ? L->backlog - L->rdelivered : L->backlog;
}

static bool worker_can_go(const par *P, const par_lane *L, bool merging)
{
    return P->aborting ||
           ((L->next != P->published || P->finishing) && undelivered(L, merging) <= PAR_QUEUE_SOFT);
}

/* Under mu: may the waiting thread go on?  (merging: asked by the thread
 * that holds the merge, between its deliveries) */
static bool ready(const par *P, const par_waiter *w, bool merging)
{
    if (P->aborting) return true;
    if (w->until == UNTIL_WORK) return worker_can_go(P, w->L, merging);
    if (w->until == UNTIL_BATCH)
        return !P->batch[P->published % PAR_BATCHES].pending && undelivered(&P->lane[0], merging) <= PAR_QUEUE_SOFT;
    if (P->merging) return false;
    for (unsigned i = 0; i <= P->nw; i++) {
        const par_lane *L = &P->lane[i];
        if (L->backlog) return false;
        if (i && (w->until == UNTIL_SYNC ? L->next != P->published : !L->done)) return false;
    }
    return true;
}

/* Delivers the sessions that no lane can still precede (mu not held, the
 * merge held), looking every 32 whether the thread's own work is ready;
 * false once nothing more can go with what was collected. */
static bool merge(par *P, const par_waiter *w)
{
    ni_engine *e = P->e;
    unsigned nl = P->nw + 1;
    for (unsigned n = 1;; n++) {
        par_lane *best = NULL;
        for (unsigned i = 0; i < nl; i++) {
            par_lane *L = &P->lane[i];
            if (!q_empty(&L->in) && (!best || key_cmp(&L->in.first->v[L->in.first->head].k,
                                                      &best->in.first->v[best->in.first->head].k) < 0))
                best = L;
        }
        if (!best) return false;
        par_chunk *c = best->in.first;
        const par_key *bk = &c->v[c->head].k;
        for (unsigned i = 0; i < nl; i++) {
            par_lane *L = &P->lane[i];
            if (L != best && q_empty(&L->in) && !L->rdone && key_cmp(bk, &L->rwm) >= 0) return false;
        }
        par_msg *m = &c->v[c->head++];
        deliver(e, &m->s, m->todo, P->mstate);
        if (e->sink_err != NI_OK) atomic_store(&P->failed, true);
        if (!arenas_push(&best->rspent, m->s.arena)) ni_arena_free(m->s.arena);
        best->rdelivered++;
        if (c->head == c->n) q_append(&best->rfreed, q_pop(&best->in));
        if (n % 32 == 0 && w->until != UNTIL_SYNC && w->until != UNTIL_END) {
            pthread_mutex_lock(&P->mu);
            bool go = ready(P, w, true);
            pthread_mutex_unlock(&P->mu);
            if (go) return true;
        }
    }
}

/* Under mu: waits until ready(w), merging meanwhile whenever no other
 * thread merges and a hand-over came since a merge last found nothing to
 * deliver (so nothing sleeps while a session could go: a lane past
 * PAR_QUEUE_SOFT waits for the merge).  The merge stops when the thread's
 * own work is ready (a worker's batch, the reader's batch to fill), so it
 * goes to whichever thread would otherwise wait. */
static void wait_merging(par *P, const par_waiter *w, pthread_cond_t *cv, bool *waiting)
{
    while (!ready(P, w, false)) {
        if (!P->merging && P->changes != P->merged_upto) {
            P->merging = true;
            for (;;) {
                uint64_t seen = P->changes;
                collect(P);
                pthread_mutex_unlock(&P->mu);
                bool stopped = merge(P, w);
                pthread_mutex_lock(&P->mu);
                if (stopped || P->aborting) break;
                if (P->changes == seen) { P->merged_upto = seen; break; }
            }
            collect(P);                 /* hands back what was delivered */
            P->merging = false;
            wake_all(P);
            continue;
        }
        /* before it sleeps, a thread wakes any waiting one that can go,
         * which the wake-ups put off till PAR_WAKE batches may have left
         * asleep (the reader waiting for its own sessions to go, which a
         * worker's batch holds back; a worker's last batch) */
        if (cv == &P->cv_reader) {
            P->reader_until = w->until;
            for (unsigned i = 1; i <= P->nw; i++) {
                par_lane *L = &P->lane[i];
                if (L->waiting && worker_can_go(P, L, false)) pthread_cond_signal(&L->cv);
            }
        } else if (P->reader_waiting) {
            par_waiter rw = { P->reader_until, NULL };
            if (ready(P, &rw, false)) pthread_cond_signal(&P->cv_reader);
        }
        *waiting = true;
        pthread_cond_wait(cv, &P->mu);
        *waiting = false;
    }
}

/* ---- workers ----- */
static ni_dissect *find_dissect(ni_engine *e);
static void run_batch(par_lane *L, const par_batch *b)
{
    ni_flow_table *t = L->eng->flows;
    uint32_t op = 0;
    uint8_t id = (uint8_t)L->id;
    const uint32_t n = b->n;
    for (uint32_t i = 0; i < n; i++) {
        ni_flow_set_seq(t, b->seq0 + i);
        if (b->lane[i] == id) {
            if (ni_flow_packet(t, &b->ent[i]) != NI_OK) set_nomem(L->P);
        } else {
            ni_flow_advance(t, b->ts[i]);
        }
        if (op == b->op_end[i]) continue;
        for (; op < b->op_end[i]; op++) {
            const par_op *o = &b->ops[op];
            if (L->dx) ni_dissect_learn(L->dx, &o->client, &o->addr, b->names + o->name, o->ttl, o->ts_us);
        }
    }
}

static void *worker_main(void *arg)
{
    par_lane *L = arg;
    par *P = L->P;
    ni_error ce = { NI_OK, "" };
    ni_engine *le = ni_engine_new(&P->lane_cfg, &ce);
    if (le) {
        le->lane = L;
        L->eng = le;
        L->dx = find_dissect(le);
    } else if (ce.code == NI_OK) {
        ni_error_set(&ce, NI_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&P->mu);
    if (!le) {          /* the run stops at its next packet; the batches still pass */
        if (P->lane_fail.code == NI_OK) P->lane_fail = ce;
        atomic_store(&P->failed, true);
    }
    par_waiter w = { UNTIL_WORK, L };
    for (;;) {
        wait_merging(P, &w, &L->cv, &L->waiting);
        if (P->aborting) break;
        par_arenas spent;
        par_q back;
        if (L->next == P->published) {          /* finishing, every batch done */
            L->defer = P->wait_streak >= PAR_IDLE_STREAK;
            pthread_mutex_unlock(&P->mu);
            if (le) ni_flow_flush(le->flows);
            pthread_mutex_lock(&P->mu);
            /* its counters kept for par_finish, before it learns that the
             * lane is done: it does not wait for what follows */
            if (le) {
                L->stats = le->stats;
                L->peak = ni_flow_peak(le->flows);
                L->eng = NULL;
                le->lane = NULL;
            }
            L->done = true;
            hand_over(P, L, key_end, &spent, &back);
            pthread_mutex_unlock(&P->mu);
            arenas_free(&spent);
            chunks_recycle(L, &back);
            /* the lane engine goes now, in this thread, while the merge
             * and the caller finish (its sessions own their arenas; nDPI's
             * module is the longest to free, ~15 ms): par_finish does not
             * join this thread, par_free does, so a process that exits
             * once its run is done (ni_run_exit) does not wait for it */
            if (le) ni_engine_free(le);
            return NULL;
        }
        par_batch *b = &P->batch[L->next % PAR_BATCHES];
        L->defer = P->wait_streak >= PAR_IDLE_STREAK;
        pthread_mutex_unlock(&P->mu);
        if (le) run_batch(L, b);
        pthread_mutex_lock(&P->mu);
        L->next++;
        b->pending--;
        hand_over(P, L, key_before(b->seq0 + b->n), &spent, &back);
        if (spent.n || back.first) {
            pthread_mutex_unlock(&P->mu);
            arenas_recycle(&spent, le ? le->flows : NULL);
            chunks_recycle(L, &back);
            pthread_mutex_lock(&P->mu);
        } else {
            free(spent.v);
        }
    }
    pthread_mutex_unlock(&P->mu);
    return NULL;
}

/* ---- the reader ----- */
static bool dns_port_flow(const ni_packet *p)
{
    if (p->proto == 17) {
        for (int i = 0; i < 2; i++) {
            uint16_t port = i ? p->dport : p->sport;
            if (port == 53 || port == 5353 || port == 5355) return true;
        }
        return false;
    }
    return p->proto == 6 && (p->sport == 53 || p->dport == 53);
}

/* The lane of a packet's flow: lane 0 for DNS ports, else by a symmetric
 * hash of its two addresses, keyed per run so that chosen addresses cannot
 * pile flows on one lane, into share0 units for the reader and share units
 * for each worker.  Symmetric by ordering the two ends (lower first), then
 * Thorup's strongly universal multiply-shift (ni_mshift, numbers drawn per
 * run) over the families and the ordered addresses' 32-bit words: for two
 * IPv4 addresses three multiplies, where a seeded mix of each end cost
 * about 45 instructions a packet.  By addresses, not the 5-tuple: nDPI
 * keeps caches of what earlier flows between two hosts showed (tinc's
 * meta-connection announces the UDP tunnel's port, BitTorrent and STUN
 * peers), which then stay in one lane. */
static uint32_t pair_hash(const par *P, const ni_addr *a, const ni_addr *b)
{
    if (a->family == 4 && b->family == 4) {
        uint32_t x, y;
        memcpy(&x, a->b, 4);
        memcpy(&y, b->b, 4);
        uint32_t w[3] = { 4, x < y ? x : y, x < y ? y : x };
        return ni_mshift_hash(&P->lane_hk, w, 3);
    }
    int c = a->family != b->family ? (a->family < b->family ? -1 : 1) : memcmp(a->b, b->b, 16);
    const ni_addr *lo = c <= 0 ? a : b, *hi = c <= 0 ? b : a;
    uint32_t w[9];
    w[0] = (uint32_t)lo->family << 8 | hi->family;
    memcpy(w + 1, lo->b, 16);
    memcpy(w + 5, hi->b, 16);
    return ni_mshift_hash(&P->lane_hk, w, 9);
}

static uint32_t lane_of(const par *P, const ni_packet *p)
{
    if (dns_port_flow(p)) return 0;
    if (P->nw == 1 && !P->share0) return 1;    /* one worker, the reader no share: no hash */
    uint64_t u = ((uint64_t)pair_hash(P, &p->src, &p->dst) * (P->share0 + P->nw * P->share)) >> 32;
    return u < P->share0 ? 0 : 1 + (uint32_t)((u - P->share0) / P->share);
}

/* The batch being filled goes to the workers, the reader's sessions to the
 * merge. */
static void publish(par *P)
{
    par_batch *b = P->cur;
    if (!b) return;
    par_arenas spent;
    par_q back;
    pthread_mutex_lock(&P->mu);
    b->pending = P->nw;
    P->published++;
    hand_over(P, &P->lane[0], key_before(P->seq), &spent, &back);
    for (unsigned i = 1; i <= P->nw; i++)       /* once PAR_WAKE batches wait for it */
        if (P->lane[i].waiting && P->published - P->lane[i].next >= PAR_WAKE) pthread_cond_signal(&P->lane[i].cv);
    pthread_mutex_unlock(&P->mu);
    arenas_recycle(&spent, P->e->flows);
    chunks_recycle(&P->lane[0], &back);
    P->cur = NULL;
}

/* The next batch to fill, once the workers are done with it (and the
 * reader's own sessions are few enough), merging meanwhile. */
static par_batch *take_batch(par *P)
{
    par_waiter w = { UNTIL_BATCH, NULL };
    pthread_mutex_lock(&P->mu);
    if (ready(P, &w, false)) P->wait_streak = 0;
    else if (P->wait_streak < UINT32_MAX) P->wait_streak++;
    wait_merging(P, &w, &P->cv_reader, &P->reader_waiting);
    pthread_mutex_unlock(&P->mu);
    par_batch *b = &P->batch[P->published % PAR_BATCHES];
    b->seq0 = P->seq;
    b->n = 0;
    b->used = 0;
    b->nops = 0;
    b->names_used = 0;
    P->cur = b;
    return b;
}

/* The reader's own lane learned a DNS answer: attach it to the packet. */
static void learn_op(void *ud, const ni_addr *client, const ni_addr *addr, const char *name, uint32_t ttl,
                     int64_t ts_us)
{
    par *P = ud;
    par_batch *b = P->cur;
    if (!b) return;
    size_t len = strlen(name) + 1;
    if (b->nops == b->opcap) {
        uint32_t nc = b->opcap ? b->opcap * 2 : 256;
        par_op *no = realloc(b->ops, nc * sizeof *no);
        if (!no) { set_nomem(P); return; }
        b->ops = no;
        b->opcap = nc;
    }
    if (b->names_used + len > b->names_cap) {
        size_t nc = b->names_cap ? b->names_cap * 2 : 16384;
        while (nc < b->names_used + len) nc *= 2;
        char *nn = realloc(b->names, nc);
        if (!nn) { set_nomem(P); return; }
        b->names = nn;
        b->names_cap = nc;
    }
    memcpy(b->names + b->names_used, name, len);
    b->ops[b->nops++] = (par_op){ *client, *addr, ttl, (uint32_t)b->names_used, ts_us };
    b->names_used += len;
}

static bool par_failed(ni_engine *e) { return atomic_load(&e->par->failed); }

static ni_err par_failure(ni_engine *e, ni_error *err)
{
    par *P = e->par;
    pthread_mutex_lock(&P->mu);
    bool nomem = P->nomem;
    ni_error lf = P->lane_fail;
    pthread_mutex_unlock(&P->mu);
    if (lf.code != NI_OK) {
        if (err) *err = lf;
        return lf.code;
    }
    if (!nomem && e->sink_err) return sink_error(e, err);
    return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory for a new flow", e->cur_path ? e->cur_path : "input");
}

static ni_err par_frame(ni_engine *e, const ni_packet *pk, ni_error *err)
{
    par *P = e->par;
    if (atomic_load_explicit(&P->failed, memory_order_relaxed)) return par_failure(e, err);
    par_batch *b = P->cur;
    uint32_t lane = lane_of(P, pk);
    uint32_t len = lane && pk->l3 ? pk->l3_caplen : 0;
    if (b && (b->n == PAR_BATCH_PKTS || b->used + len > PAR_BATCH_BYTES)) { publish(P); b = NULL; }
    if (!b) b = take_batch(P);
    uint32_t i = b->n;
    b->lane[i] = (uint8_t)lane;
    b->ts[i] = pk->ts_us;
    ni_flow_set_seq(e->flows, P->seq++);
    ni_err r = NI_OK;
    if (lane) {                             /* a worker's: its bytes go with it */
        ni_packet *en = &b->ent[i];
        *en = *pk;
        if (len > PAR_BATCH_BYTES) len = 0; /* cannot happen: a capture's frames are smaller */
        if (len) {
            uint8_t *d = b->data + b->used;
            memcpy(d, pk->l3, len);
            en->l3 = d;
            if (pk->payload && pk->payload >= pk->l3 && pk->payload + pk->payload_len <= pk->l3 + len)
                en->payload = d + (pk->payload - pk->l3);
            else if (pk->payload) { en->payload = NULL; en->payload_len = 0; }
            b->used += len;
        } else {
            en->l3 = NULL;
            en->l3_caplen = 0;
            en->payload = NULL;
            en->payload_len = 0;
        }
        ni_flow_advance(e->flows, pk->ts_us);
    } else {
        r = ni_flow_packet(e->flows, pk);
    }
    b->op_end[i] = b->nops;
    b->n++;
    if (r != NI_OK)
        return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory for a new flow", e->cur_path ? e->cur_path : "input");
    return NI_OK;
}

/* Everything read so far through the hooks and the sink, and the merge
 * held: the caller then delivers a session itself (a session source in a
 * parallel run) and lets go (par_unsync). */
static ni_err par_sync(ni_engine *e, ni_error *err)
{
    par *P = e->par;
    publish(P);
    par_waiter w = { UNTIL_SYNC, NULL };
    pthread_mutex_lock(&P->mu);
    for (unsigned i = 1; i <= P->nw; i++)       /* every batch published is needed now */
        if (P->lane[i].waiting) pthread_cond_signal(&P->lane[i].cv);
    wait_merging(P, &w, &P->cv_reader, &P->reader_waiting);
    bool failed = atomic_load(&P->failed) || P->aborting;
    if (!failed) P->merging = true;
    pthread_mutex_unlock(&P->mu);
    if (failed) return par_failure(e, err);
    return NI_OK;
}

static void par_unsync(ni_engine *e)
{
    par *P = e->par;
    pthread_mutex_lock(&P->mu);
    P->merging = false;
    pthread_mutex_unlock(&P->mu);
}

static void par_join(par *P)
{
    for (unsigned i = 1; i <= P->nw; i++)
        if (P->lane[i].started) { pthread_join(P->lane[i].th, NULL); P->lane[i].started = false; }
}

static void add_stats(ni_stats *to, const ni_stats *from)
{
    uint64_t *t = (uint64_t *)to;
    const uint64_t *f = (const uint64_t *)from;
    for (size_t i = 0; i < sizeof *to / sizeof *t; i++) t[i] += f[i];
}

static ni_err par_finish(ni_engine *e, ni_error *err)
{
    par *P = e->par;
    if (!P->finished) {
        publish(P);
        pthread_mutex_lock(&P->mu);
        P->finishing = true;
        for (unsigned i = 1; i <= P->nw; i++)
            if (P->lane[i].waiting) pthread_cond_signal(&P->lane[i].cv);
        pthread_mutex_unlock(&P->mu);
        ni_flow_flush(e->flows);            /* lane 0's own, to its out */
        par_arenas spent;
        par_q back;
        par_waiter w = { UNTIL_END, NULL };
        pthread_mutex_lock(&P->mu);
        P->lane[0].done = true;
        hand_over(P, &P->lane[0], key_end, &spent, &back);
        wait_merging(P, &w, &P->cv_reader, &P->reader_waiting);
        pthread_mutex_unlock(&P->mu);
        arenas_free(&spent);
        chunks_recycle(&P->lane[0], &back);
        /* every lane is done (UNTIL_END): the workers kept their counters
         * and may still be freeing their lane engines (par_free joins
         * them); what they hand over is theirs no more */
        P->finished = true;
        pthread_mutex_lock(&P->mu);
        for (unsigned i = 0; i <= P->nw; i++) {
            arenas_free(&P->lane[i].spent);
            if (i) add_stats(&e->stats, P->lane[i].eng ? &P->lane[i].eng->stats : &P->lane[i].stats);
        }
        pthread_mutex_unlock(&P->mu);
    }
    if (atomic_load(&P->failed)) return par_failure(e, err);
    return NI_OK;
}

static size_t par_peak_flows(const par *P)
{
    size_t n = ni_flow_peak(P->e->flows);
    for (unsigned i = 1; i <= P->nw; i++)
        n += P->lane[i].eng ? ni_flow_peak(P->lane[i].eng->flows) : P->lane[i].peak;
    return n;
}

static void par_free(par *P)
{
    if (!P) return;
    pthread_mutex_lock(&P->mu);
    P->aborting = true;
    for (unsigned i = 1; P->lane && i <= P->nw; i++) pthread_cond_signal(&P->lane[i].cv);
    pthread_cond_signal(&P->cv_reader);
    pthread_mutex_unlock(&P->mu);
    if (P->lane) par_join(P);
    for (unsigned i = 0; P->lane && i <= P->nw; i++) {
        par_lane *L = &P->lane[i];
        q_free(&L->out);
        q_free(&L->hand);
        q_free(&L->in);
        q_free(&L->spare);
        q_free(&L->freed);
        q_free(&L->rfreed);
        arenas_free(&L->spent);
        arenas_free(&L->rspent);
        if (i && L->eng) { L->eng->lane = NULL; ni_engine_free(L->eng); }  /* after the join */
        for (unsigned h = 0; i && h < P->e->nlhooks; h++)
            if (L->lstate[h] && P->e->lhooks[h].free) P->e->lhooks[h].free(P->e->lhooks[h].ud, L->lstate[h]);
        if (i) pthread_cond_destroy(&L->cv);
    }
    for (unsigned i = 0; i < PAR_BATCHES; i++) {
        free(P->batch[i].ent);
        free(P->batch[i].lane);
        free(P->batch[i].ts);
        free(P->batch[i].op_end);
        free(P->batch[i].data);
        free(P->batch[i].ops);
        free(P->batch[i].names);
    }
    for (unsigned h = 0; h < P->e->nlhooks; h++)
        if (P->mstate[h] && P->e->lhooks[h].free) P->e->lhooks[h].free(P->e->lhooks[h].ud, P->mstate[h]);
    free(P->lane);
    pthread_mutex_destroy(&P->mu);
    pthread_cond_destroy(&P->cv_reader);
    P->e->lane = NULL;
    free(P);
}

static ni_dissect *find_dissect(ni_engine *e)
{
    for (unsigned i = 0; i < e->nprod; i++)
        if (e->prod[i].p == &ni_dissect_producer) return e->prod[i].ctx;
    return NULL;
}

/* The reader's share of the ordinary flows, in units of a worker's
 * PAR_SHARE: none.  The reader also reads, decodes, keeps the DNS flows and
 * takes the merge when it would wait, so its spare time is used anyway.
 * Measured (per-thread CPU, `sessions -o FILE` and `profile` on the 307 MB
 * synthetic capture, -j 2): a share of 10 % or 25 % of a worker's left the
 * busiest thread the same within the noise or made the reader the busiest,
 * and made the reader's nDPI module (lazy: its DNS flows rarely need it),
 * about 9 MiB and 60 M instructions of start-up (the 3 M-source SYN flood's
 * profile peaked at 126 MiB, 108 without).  From two workers on the reader is the
 * busiest thread already.  Any share gives the same output. */
#define PAR_SHARE 64u
static uint64_t lane_share(unsigned nw)
{
    (void)nw;
    return 0;
}

ni_err ni_engine_set_threads(ni_engine *e, unsigned n, ni_error *err)
{
    if (n > NI_THREADS_MAX)
        return ni_error_set(err, NI_ERR_ARG, "threads: %u worker lanes: expected at most %u", n, NI_THREADS_MAX);
    if (e->par || e->stats.packets || e->stats.sessions)
        return ni_error_set(err, NI_ERR_ARG, "threads: set before the first input");
    if (n == 0) return NI_OK;
    par *P = aligned_alloc(PAR_LINE, sizeof *P);    /* (a multiple of PAR_LINE) */
    if (!P) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    memset(P, 0, sizeof *P);
    P->e = e;
    P->nw = n;
    P->share = PAR_SHARE;
    P->share0 = lane_share(n);
    /* adaptive: the threads hold it briefly, once a batch; a thread that
     * finds it taken spins a little before it sleeps */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&P->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_cond_init(&P->cv_reader, NULL);
    atomic_init(&P->failed, false);
    ni_mshift_init(&P->lane_hk);
    e->par = P;                         /* par_free undoes what follows */
    P->lane = aligned_alloc(PAR_LINE, (n + 1) * sizeof *P->lane);
    if (!P->lane) goto nomem;
    memset(P->lane, 0, (n + 1) * sizeof *P->lane);
    for (unsigned i = 1; i <= n; i++) pthread_cond_init(&P->lane[i].cv, NULL);
    for (unsigned i = 0; i < PAR_BATCHES; i++) {
        par_batch *b = &P->batch[i];
        b->ent = malloc(PAR_BATCH_PKTS * sizeof *b->ent);
        b->lane = malloc(PAR_BATCH_PKTS * sizeof *b->lane);
        b->ts = malloc(PAR_BATCH_PKTS * sizeof *b->ts);
        b->op_end = malloc(PAR_BATCH_PKTS * sizeof *b->op_end);
        b->data = malloc(PAR_BATCH_BYTES);
        if (!b->ent || !b->lane || !b->ts || !b->op_end || !b->data) goto nomem;
    }
    /* each lane a share of the flow table's limits, by its share of the
     * flows; the reader's (with the DNS flows) at least a worker's quarter */
    ni_engine_config lc = e->cfg;
    lc.ndpi_lazy = false;               /* the workers' flows need it */
    uint64_t units = P->share0 + n * P->share, u0 = P->share0 > P->share / 4 ? P->share0 : P->share / 4;
    uint64_t wmax = e->cfg.flow.max_flows * (units - u0) / units / n;
    lc.flow.max_flows = wmax ? (uint32_t)wmax : 1;
    lc.flow.stream_total_max = e->cfg.flow.stream_total_max / units * (units - u0) / n;
    ni_flow_config rc = e->cfg.flow;
    rc.max_flows = e->cfg.flow.max_flows - (uint32_t)(wmax * n);
    if (!rc.max_flows) rc.max_flows = 1;
    rc.stream_total_max = e->cfg.flow.stream_total_max - lc.flow.stream_total_max * n;
    ni_flow_table *rt = make_table(e, &rc);
    if (!rt) goto nomem;
    ni_flow_table_free(e->flows);       /* empty: before the first input */
    e->flows = rt;
    for (unsigned i = 0; i <= n; i++) {
        par_lane *L = &P->lane[i];
        L->P = P;
        L->id = i;
        L->wm = L->rwm = key_before(0);
        if (i == 0) L->eng = e;
    }
    P->lane_cfg = lc;
    e->lane = &P->lane[0];
    ni_dissect *dx = find_dissect(e);
    if (dx) ni_dissect_set_learn(dx, learn_op, P);
    /* each worker makes its lane engine in its own thread (nDPI's start-up
     * runs in parallel, and beside the caller's); a failure there stops the
     * run at its first packet (par_failure) */
    for (unsigned i = 1; i <= n; i++) {
        if (pthread_create(&P->lane[i].th, NULL, worker_main, &P->lane[i])) goto nothread;
        P->lane[i].started = true;
    }
    return NI_OK;
nothread:
    if (dx) ni_dissect_set_learn(dx, NULL, NULL);
    e->par = NULL;
    par_free(P);
    return ni_error_set(err, NI_ERR_NOMEM, "cannot start a thread");
nomem:
    e->par = NULL;
    par_free(P);
    return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
}
