/* ni_engine.h — the sessions pipeline: inputs through the one source
 * interface (lib/ingest/ni_input: captures, stored sessions) → link/IP/
 * transport decode (lib/decode) → flow table with TCP reassembly (ni_flow) →
 * the evidence producers (lib/dissect/ni_producer: content dissectors, tunnel
 * detector, nDPI) → emit.  Each session is emitted as soon as it ends (a
 * stored session as soon as it is read): first to the enrichment hooks, in
 * the order they were added (they fill the session's enrichment fields,
 * allocating in s->arena), then to the sink (an output writer, the profile).
 * Memory stays bounded by the flow table's limits whatever the input length.
 *
 * The engine never prints: problems come back as ni_error ("<file>:
 * <problem>"), warnings (an unsupported link type, once per file) and
 * progress through callbacks.  Ownership: the engine borrows the target
 * (it must outlive the engine); sessions passed to hooks and the sink are
 * valid only during the call. */
#ifndef NI_ENGINE_H
#define NI_ENGINE_H

#include <stdint.h>
#include "netintel/netintel.h"
#include "ingest/ni_input.h"
#include "session/ni_flow.h"
#include "session/ni_target.h"
#include <stdbool.h>

#define NI_ENGINE_HOOKS_MAX 8

typedef struct ni_engine ni_engine;

typedef struct ni_engine_config {
    ni_flow_config flow;        /* ni_flow_config_default() for the defaults */
    const ni_target *target;    /* NULL: direction "unknown" */
    bool ndpi;                  /* ask nDPI for a second opinion (ndpi_protocol) */
    bool ndpi_lazy;             /* make nDPI's module when first needed (the reader of a
                                   parallel run: its DNS flows rarely need it) */
} ni_engine_config;

/* Enrichment: may modify s before output. */
typedef void (*ni_engine_hook)(void *ud, ni_session *s);
/* Enrichment that depends on the session alone (not on the sessions before
 * it), run before the hooks by the thread that finished the session: in a
 * parallel run a worker lane, each with its own *state (NULL at first: the
 * hook makes it when it needs it, e.g. its caches, and keeps it there;
 * ni_engine_lane_free frees it when the engine is freed).  It must touch
 * nothing shared but read-only data.  Returns false when it could not run
 * (no memory for its state): the merge then runs it again, with a state of
 * its own. */
typedef bool (*ni_engine_lane_hook)(void *ud, void **state, ni_session *s);
typedef void (*ni_engine_lane_free)(void *ud, void *state);
/* Output: an error stops the run (ni_engine_read returns it). */
typedef ni_err (*ni_engine_sink)(void *ud, const ni_session *s, ni_error *err);
/* A one-line warning "<file>: <problem>". */
typedef void (*ni_engine_warn)(void *ud, const char *msg);

typedef struct ni_engine_progress {
    const char *path;
    uint64_t done, total;       /* input bytes of this file; total 0 = unknown */
    const ni_stats *stats;
} ni_engine_progress;
typedef void (*ni_engine_progress_fn)(void *ud, const ni_engine_progress *p);

/* cfg NULL = defaults.  NULL on OOM or a bad flow configuration (err says). */
ni_engine *ni_engine_new(const ni_engine_config *cfg, ni_error *err);
/* Frees everything; live flows are dropped unless ni_engine_finish ran. */
void ni_engine_free(ni_engine *e);

/* Hooks run in the order added, each session's lane hooks before its
 * hooks; add them before the first input.  NI_ERR_LIMIT past
 * NI_ENGINE_HOOKS_MAX of either kind. */
ni_err ni_engine_add_hook(ni_engine *e, ni_engine_hook fn, void *ud);
ni_err ni_engine_add_lane_hook(ni_engine *e, ni_engine_lane_hook fn, ni_engine_lane_free free_fn, void *ud);
void ni_engine_set_sink(ni_engine *e, ni_engine_sink fn, void *ud);
void ni_engine_set_warn(ni_engine *e, ni_engine_warn fn, void *ud);
/* fn is called every `every` frames (0 = 65536). */
void ni_engine_set_progress(ni_engine *e, ni_engine_progress_fn fn, void *ud, uint64_t every);

/* Asked before each frame: when fn returns true the read stops there and
 * returns NI_ERR_INTERRUPTED (live sessions stay for ni_engine_finish). */
typedef bool (*ni_engine_stop_fn)(void *ud);
void ni_engine_set_stop(ni_engine *e, ni_engine_stop_fn fn, void *ud);
/* How the next inputs are opened (a BPF filter, flows forced; ni_input.h);
 * o and its strings must outlive the engine.  Default: none. */
void ni_engine_set_input(ni_engine *e, const ni_input_options *o);

/* Called between items: on each tick of a live source (NI_ITEM_TICK: the
 * flow table's clock has just moved to the wall-clock time and timed-out
 * sessions were emitted) and every 1024 items; the callee decides from
 * its own clock whether something is due (the profile's --every). */
typedef void (*ni_engine_tick_fn)(void *ud);
void ni_engine_set_tick(ni_engine *e, ni_engine_tick_fn fn, void *ud);

/* Opens path now, as ni_engine_read would (a network interface while the
 * caller still has the privileges to capture); the next ni_engine_read of
 * the same path reads this input instead of opening it again.  One at a
 * time (NI_ERR_ARG for a second); freed by ni_engine_free if never read. */
ni_err ni_engine_open(ni_engine *e, const char *path, ni_error *err);

/* Inputs read so far that were live captures (a stop request ends such a
 * read normally: ni_engine_read returns NI_OK, not NI_ERR_INTERRUPTED). */
unsigned ni_engine_live_reads(const ni_engine *e);

/* Worker threads for the frames of captures (a parallel run of n + 1
 * threads: the reader, the DNS-port flows and the packets' order stay in
 * the calling thread, the other flows go to n worker lanes (one thread
 * each) by a hash of their two addresses; the sessions are merged into one thread's order by whichever thread would
 * otherwise wait; the design and its guarantee are at "parallel runs" in
 * ni_engine.c and "Threads" in docs/ARCHITECTURE.md).  The lane hooks then
 * run in the thread that finished the session, the hooks and the sink in
 * the thread that merges at the time: any of the run's threads, one session
 * at a time (each call after the one before: the run's lock orders them),
 * in the order one thread would give, so they need no locks of their own
 * but must not rely on which thread calls them; the warn, progress and stop
 * callbacks stay in the caller's thread.  n 0 (the default): no thread.
 * Call before the first input.  NI_ERR_ARG for n above NI_THREADS_MAX,
 * NI_ERR_NOMEM. */
ni_err ni_engine_set_threads(ni_engine *e, unsigned n, ni_error *err);

/* Reads one input to its end through the source interface (lib/ingest/
 * ni_input: a capture, "-" = stdin, or stored sessions).  Frames go through
 * decode, the flow table and the producers; sessions that end meanwhile are
 * emitted, the others stay live, so several inputs form one run, read in the
 * order given.  Sessions a source yields whole (stored sessions) get their
 * direction for this run's target and are emitted at once.  On a damaged
 * input returns its error after using every item before the damage; a sink
 * error also stops the read and is returned. */
ni_err ni_engine_read(ni_engine *e, const char *path, ni_error *err);

/* One finished session from a source other than packets: direction, then
 * the enrichment hooks and the sink, as for the flow table's sessions. */
ni_err ni_engine_session(ni_engine *e, ni_session *s, ni_error *err);

/* One frame of the given link type (for sources other than files). */
ni_err ni_engine_frame(ni_engine *e, int linktype, const uint8_t *p, uint32_t caplen,
                       uint32_t wirelen, int64_t ts_us, ni_error *err);

/* Emits every live session (end "eof") in order of first packet.  Returns a
 * sink error if one happened. */
ni_err ni_engine_finish(ni_engine *e, ni_error *err);

const ni_stats *ni_engine_stats(const ni_engine *e);
size_t ni_engine_peak_flows(const ni_engine *e);

#endif
