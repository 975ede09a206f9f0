/* ni_flow.h — the bidirectional flow table and per-direction TCP stream
 * reassembly (the "sessions" stage).
 *
 * Packets (ni_packet, from lib/decode) are matched to flows keyed by the
 * 5-tuple (protocol, both addresses, both ports) in either orientation.  Each
 * flow carries a ni_session record (counters, flags, times) and its
 * reassembly state; when the flow ends (TCP FIN both ways or RST after a short
 * linger, idle timeout, active timeout, table full, end of input) the session
 * is handed to on_emit and the flow is freed.
 *
 * The table does not know the dissectors: it calls back.
 *   on_start     a flow was created (client/server known); app points to
 *                cb.app_size zeroed bytes of per-flow state for the callee
 *   on_stream    in-order TCP bytes of direction dir (0 = client→server),
 *                from the first unconsumed byte; returns bytes consumed (the
 *                rest is presented again with the next bytes appended) and
 *                sets *done when it needs no more bytes of this direction
 *   on_datagram  one UDP/other payload; returns true when done with dir
 *   on_emit      the session is complete; it is valid only during the call
 *   on_release   the flow is going away (after on_emit): free app state
 *   on_packet    every packet (until it returns true), for detectors
 *   on_finish    just before on_emit, with the per-flow state
 * Any callback may be NULL.
 *
 * Time is the largest packet timestamp seen so far (inputs may be unordered
 * across files); timeouts compare against it.  Flows are kept in four lists
 * (TCP open, other open, closed TCP, half-open TCP) each ordered by last
 * activity, so expiry and eviction are O(1) per packet.  Memory: at most
 * max_flows live flows, of which at most max_flows / NI_FLOWS_HALF_OPEN_DIV
 * half-open (bare SYNs without reply or payload: a SYN flood);
 * reassembly buffers are bounded per direction (NI_STREAM_*) and in total
 * (stream_total_max); up to 256 ended flow records are kept for reuse.
 * TCP reassembly follows RFC 9293 §3.4 sequence arithmetic (modulo 2^32).
 *
 * Ownership: the table owns flows, sessions and their arenas; pointers given
 * to callbacks are valid only during the call. */
#ifndef NI_FLOW_H
#define NI_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "decode/ni_decode.h"

typedef struct ni_flow_table ni_flow_table;

typedef struct ni_flow_config {
    uint32_t max_flows;         /* live flows (>= 1); default NI_FLOWS_MAX_DEFAULT */
    int64_t tcp_idle_us;        /* TCP idle timeout */
    int64_t udp_idle_us;        /* UDP and other protocols idle timeout */
    int64_t active_us;          /* sessions longer than this are split */
    int64_t closed_linger_us;   /* closed TCP flows are kept this long */
    size_t stream_total_max;    /* all reassembly buffers together */
} ni_flow_config;

/* Fills c with the defaults of ni_limits.h. */
void ni_flow_config_default(ni_flow_config *c);

typedef struct ni_flow_callbacks {
    void *ud;
    size_t app_size;            /* bytes of per-flow state handed as `app` */
    void (*on_start)(void *ud, ni_session *s, void *app);
    size_t (*on_stream)(void *ud, ni_session *s, void *app, int dir,
                        const uint8_t *p, size_t n, int64_t ts_us, bool *done);
    bool (*on_datagram)(void *ud, ni_session *s, void *app, int dir,
                        const uint8_t *p, size_t n, int64_t ts_us);
    void (*on_emit)(void *ud, ni_session *s);
    void (*on_release)(void *ud, ni_session *s, void *app);
    /* every packet of the flow (before its payload is dissected) until it
     * returns true: for per-packet detectors (tunnels, nDPI) */
    bool (*on_packet)(void *ud, ni_session *s, void *app, int dir, const ni_packet *p);
    /* the flow ends: called just before on_emit, with the per-flow state */
    void (*on_finish)(void *ud, ni_session *s, void *app);
} ni_flow_callbacks;

/* New table; cfg NULL = defaults.  Counters (sessions, evicted,
 * reasm_dropped) go to *st, which must outlive the table.  NULL on OOM or
 * when cfg is invalid (max_flows 0, a timeout <= 0). */
ni_flow_table *ni_flow_table_new(const ni_flow_config *cfg, const ni_flow_callbacks *cb,
                                 ni_stats *st);
/* Frees every live flow without emitting (call ni_flow_flush first to emit). */
void ni_flow_table_free(ni_flow_table *t);

/* Accounts one decoded packet: expires flows timed out at the new time,
 * finds or creates its flow (evicting the least recently active one when the
 * table is full), updates counters and feeds the payload.  NI_ERR_NOMEM when
 * a flow cannot be allocated (the packet is then not counted in a session). */
ni_err ni_flow_packet(ni_flow_table *t, const ni_packet *p);


/* Emits every live flow (reason NI_END_EOF) in order of first packet. */
void ni_flow_flush(ni_flow_table *t);

/* An arena on_emit took with a session (a parallel run's), done with, back
 * to the table for its next flows (reset; at most 256 kept, the rest freed);
 * in the thread that uses the table.  NULL is ignored. */
void ni_flow_recycle_arena(ni_flow_table *t, ni_arena *a);

/* ---- a run split between tables (parallel runs, ni_engine) ----------------
 * The packets of one run are numbered in the order read (the sequence); a
 * table may see only some of them (its flows'), and must then be told the
 * clock of the others (ni_flow_advance) so that flows expire at the same
 * packet as in one table.  Where a session's end falls in the run is then
 * the same whichever table held it: ni_flow_emit_order, during on_emit.
 * One table given every packet emits in exactly this order. */
enum { NI_FLOW_END_CLOCK = 0,   /* expired by the clock, before packet seq */
       NI_FLOW_END_PACKET = 1,  /* ended by packet seq (closed and reused, active timeout, table full) */
       NI_FLOW_END_INPUT = 2 }; /* live at the end of input (ni_flow_flush) */
typedef struct ni_flow_order {
    uint64_t seq;               /* the packet handled when it ended; UINT64_MAX at the end of input */
    uint8_t phase;              /* NI_FLOW_END_* */
    uint8_t list;               /* CLOCK: the activity list it expired from (they expire in list order) */
    uint64_t first_seq, last_seq;   /* its first and last packet */
    int64_t first_us;           /* INPUT: flushed in order of (first_us, first_seq) */
} ni_flow_order;
/* The sequence number of the packet about to be handed to ni_flow_packet or
 * ni_flow_advance (default 0: a table that never needs the order). */
void ni_flow_set_seq(ni_flow_table *t, uint64_t seq);
/* The clock reached ts_us with a packet of another table, or time passed
 * without a packet (a live capture while nothing arrives): expires what
 * ni_flow_packet would before it (no-op unless the clock moves forward). */
void ni_flow_advance(ni_flow_table *t, int64_t ts_us);
/* During on_emit (and on_finish): where this end falls in the run. */
void ni_flow_emit_order(const ni_flow_table *t, ni_flow_order *o);

/* Live flows now, and the most ever live at once. */
size_t ni_flow_count(const ni_flow_table *t);
size_t ni_flow_peak(const ni_flow_table *t);
/* Bytes now held in reassembly buffers (all flows). */
size_t ni_flow_stream_bytes(const ni_flow_table *t);
/* The table's clock: the largest timestamp seen. */
int64_t ni_flow_now(const ni_flow_table *t);
/* The most live flows in one hash bucket now, and the buckets (for tests
 * of the hash and of the table's growth). */
size_t ni_flow_chain_max(const ni_flow_table *t);
size_t ni_flow_buckets(const ni_flow_table *t);

#endif
