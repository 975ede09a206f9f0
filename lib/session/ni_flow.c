/* ni_flow.c — the bidirectional flow table and TCP stream reassembly (see
 * ni_flow.h for the contract).  Sequence numbers compare modulo 2^32 as in
 * RFC 9293 §3.4.  Layout: a chained hash table (bucket count a power of two,
 * symmetric hash so both orientations land in one bucket) plus three doubly
 * linked lists ordered by last activity: open TCP, open other, closed TCP.
 * Each list has one timeout, so its head is always the first to expire.
 * A fourth list holds half-open TCP flows (bare SYNs: no reply, no payload
 * yet), at most max_flows / NI_FLOWS_HALF_OPEN_DIV of them: past that the
 * oldest is emitted (evicted), so a SYN flood from spoofed sources fills a
 * small part of the table and never pushes out answered sessions. */
#include "session/ni_flow.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_hash.h"
#include "core/ni_limits.h"

enum { L_TCP = 0, L_OTHER = 1, L_CLOSED = 2, L_HALF = 3, L_N = 4 };

/* An out-of-order segment held until the gap before it fills. */
typedef struct ni_seg {
    struct ni_seg *next;
    uint32_t seq, len;
    uint8_t data[];
} ni_seg;

typedef struct ni_stream {
    uint32_t next_seq;      /* next byte expected in order */
    bool init, done;
    uint8_t *buf;           /* unconsumed in-order bytes */
    uint32_t len, alloc;
    ni_seg *ooo;            /* sorted by seq */
    uint32_t ooo_n, ooo_bytes;
    uint64_t seen;          /* in-order bytes delivered */
} ni_stream;

/* A flow's canonical 5-tuple, and the table's hash numbers (see "hashing"
 * below). */
typedef struct flow_key { uint64_t w[5]; uint8_t n; } flow_key;
#define FLOW_HASH_MULS 10           /* 2 per word, 5 words at most */
typedef struct flow_hash_keys { uint64_t a[FLOW_HASH_MULS], b2, b5; } flow_hash_keys;

typedef struct ni_flow {
    struct ni_flow *hnext;
    struct ni_flow *prev, *next;
    uint64_t id;            /* creation order */
    uint64_t first_seq, last_seq;   /* ni_flow_set_seq at creation, at the last packet */
    int64_t active_us;      /* table clock at the last packet */
    int64_t start_us;       /* table clock at creation (active timeout) */
    uint32_t hash;          /* of key, computed once at creation */
    uint8_t list;
    bool fin[2], rst, closed;
    bool dgram_done[2];
    bool pkt_done;              /* on_packet wants no more packets */
    flow_key key;           /* canonical 5-tuple (see hashing) */
    ni_session s;
    ni_stream st[2];
    alignas(max_align_t) unsigned char app[];
} ni_flow;

/* Ended flows kept for the next ones instead of being freed (with their
 * arena's first block): at most this many, so a burst of flows leaves at
 * most FLOW_SPARE_MAX records (each sizeof(ni_flow) + app_size, plus
 * 256 bytes of arena) allocated after it ends; as many arenas handed back
 * by ni_flow_recycle_arena. */
#define FLOW_SPARE_MAX 256

struct ni_flow_table {
    ni_flow_config cfg;
    flow_hash_keys hk;          /* flow keys come from the traffic: keyed hash */
    ni_flow_callbacks cb;
    ni_stats *stats;
    ni_flow **buckets;
    size_t mask;
    size_t nb_max;              /* the bucket count it may grow to (table_resize) */
    struct { ni_flow *head, *tail; size_t n; } lists[L_N];
    size_t count, peak, stream_bytes;
    int64_t now;
    bool have_now;
    uint64_t next_id;
    uint64_t seq;               /* ni_flow_set_seq: the packet being handled */
    uint8_t phase;              /* of the emissions now: NI_FLOW_END_* */
    const ni_flow *ending;      /* the flow being emitted (ni_flow_emit_order) */
    ni_flow *spare;             /* ended flows kept for reuse (linked by hnext) */
    size_t nspare;
    ni_arena *apool[FLOW_SPARE_MAX];    /* ni_flow_recycle_arena: empty arenas for the next flows */
    size_t napool;
    int64_t timeout[L_N];       /* list_timeout of each list */
    int64_t due;                /* no list head expires at or before this clock (see expiry) */
};


static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

void ni_flow_config_default(ni_flow_config *c)
{
    c->max_flows = NI_FLOWS_MAX_DEFAULT;
    c->tcp_idle_us = NI_FLOW_IDLE_TCP_US;
    c->udp_idle_us = NI_FLOW_IDLE_UDP_US;
    c->active_us = NI_FLOW_ACTIVE_US;
    c->closed_linger_us = NI_FLOW_CLOSED_LINGER_US;
    c->stream_total_max = NI_STREAM_TOTAL_MAX;
}

/* ---- hashing ------------------------------------------------------------
 * A flow's key is its 5-tuple in canonical order (the lower endpoint first),
 * packed into 64-bit words: 2 for IPv4 (address << 16 | port per endpoint,
 * the protocol and family in the top bytes of the first), 5 otherwise (each
 * address as two words, then both families and ports and the protocol).  It
 * is built once per packet, hashed once, and kept in the flow, so lookups
 * compare words and the hash is never recomputed (expiry, list moves and
 * bucket unlinking use the stored value).
 *
 * The hash: Thorup's strongly universal vector multiply-shift (M. Thorup,
 * "High Speed Hashing for Integers and Strings", 2015, section 3.3): the
 * key's 32-bit halves x_i, multipliers a_i and offset b drawn per table
 * (64-bit, derived with SipHash from a key from the kernel's random source,
 * ni_hash.h), h = ((b + sum a_i x_i) mod 2^64) >> 32, then ni_hash_mix32
 * (a fixed bijection: see ni_hash.h).  For any two distinct
 * keys fixed without knowing the table's numbers, the pair of 32-bit values
 * is uniform, so they share a bucket with probability 1/buckets: traffic
 * crafted in advance (spoofed tuples, the 5-tuple is the sender's to
 * choose) cannot be made to pile into one chain, as it could with an
 * unkeyed or fixed-seed hash (FNV, Jenkins, CRC).  The numbers never leave
 * the table and no output depends on the hash, so they cannot be learned
 * from what netintel writes.  Cost for IPv4: 4 multiplies and adds (about
 * 20 instructions) against about 230 for SipHash-1-3 over the 39 key bytes
 * hashed before.  Keys of 2 and of 5 words have separate offsets b, so the
 * two families never collide by construction either. */

static void flow_hash_keys_init(flow_hash_keys *m, const ni_hash_key *k)
{
    for (uint8_t i = 0; i < FLOW_HASH_MULS + 2; i++) {
        uint64_t v = ni_hash(k, &i, 1);
        if (i < FLOW_HASH_MULS) m->a[i] = v;
        else if (i == FLOW_HASH_MULS) m->b2 = v;
        else m->b5 = v;
    }
}

static inline uint64_t be32w(const uint8_t *b)
{
    return (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
}
static inline uint64_t be64w(const uint8_t *b) { return be32w(b) << 32 | be32w(b + 4); }

/* The canonical key of a packet's 5-tuple: equal for both orientations. */
static inline void flow_key_make(flow_key *k, const ni_packet *p)
{
    if (p->src.family == 4 && p->dst.family == 4) {
        uint64_t a = be32w(p->src.b) << 16 | p->sport, b = be32w(p->dst.b) << 16 | p->dport;
        uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
        k->w[0] = lo | (uint64_t)p->proto << 48 | (uint64_t)4 << 56;
        k->w[1] = hi;
        k->n = 2;
        return;
    }
    uint64_t a0 = be64w(p->src.b), a1 = be64w(p->src.b + 8);
    uint64_t b0 = be64w(p->dst.b), b1 = be64w(p->dst.b + 8);
    uint64_t ax = (uint64_t)p->src.family << 16 | p->sport, bx = (uint64_t)p->dst.family << 16 | p->dport;
    bool swap = a0 != b0 ? a0 > b0 : a1 != b1 ? a1 > b1 : ax > bx;
    if (swap) {
        uint64_t t;
        t = a0; a0 = b0; b0 = t;
        t = a1; a1 = b1; b1 = t;
        t = ax; ax = bx; bx = t;
    }
    k->w[0] = a0; k->w[1] = a1; k->w[2] = b0; k->w[3] = b1;
    k->w[4] = ax | bx << 24 | (uint64_t)p->proto << 48;
    k->n = 5;
}

static inline uint32_t flow_key_hash(const ni_flow_table *t, const flow_key *k)
{
    const flow_hash_keys *m = &t->hk;
    uint64_t h;
    if (k->n == 2) {
        h = m->b2 + m->a[0] * (uint32_t)k->w[0] + m->a[1] * (k->w[0] >> 32) +
            m->a[2] * (uint32_t)k->w[1] + m->a[3] * (k->w[1] >> 32);
    } else {
        h = m->b5;
        for (int i = 0; i < 5; i++)
            h += m->a[2 * i] * (uint32_t)k->w[i] + m->a[2 * i + 1] * (k->w[i] >> 32);
    }
    return ni_hash_mix32((uint32_t)(h >> 32));   /* regular keys spread as random ones */
}

static inline bool flow_key_eq(const ni_flow *f, const flow_key *k)
{
    if (f->key.n != k->n || f->key.w[0] != k->w[0] || f->key.w[1] != k->w[1]) return false;
    return k->n == 2 || (f->key.w[2] == k->w[2] && f->key.w[3] == k->w[3] && f->key.w[4] == k->w[4]);
}

static inline bool addr_eq(const ni_addr *a, const ni_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

/* ---- lists -------------------------------------------------------------- */
static inline void list_unlink(ni_flow_table *t, ni_flow *f)
{
    if (f->prev) f->prev->next = f->next; else t->lists[f->list].head = f->next;
    if (f->next) f->next->prev = f->prev; else t->lists[f->list].tail = f->prev;
    f->prev = f->next = NULL;
    t->lists[f->list].n--;
}

/* The clock past which a flow last active at active_us has outlived the
 * timeout to (> 0), saturated. */
static inline int64_t deadline(int64_t active_us, int64_t to)
{
    return active_us > INT64_MAX - to ? INT64_MAX : active_us + to;
}

static inline void list_append(ni_flow_table *t, ni_flow *f, uint8_t list)
{
    f->list = list;
    f->next = NULL;
    f->prev = t->lists[list].tail;
    if (f->prev) f->prev->next = f;
    else {                                      /* a new head: it may expire first */
        t->lists[list].head = f;
        int64_t d = deadline(f->active_us, t->timeout[list]);
        if (d < t->due) t->due = d;
    }
    t->lists[list].tail = f;
    t->lists[list].n++;
}

static int64_t list_timeout(const ni_flow_table *t, int list)
{
    return list == L_TCP || list == L_HALF ? t->cfg.tcp_idle_us
         : list == L_OTHER ? t->cfg.udp_idle_us : t->cfg.closed_linger_us;
}

/* ---- table --------------------------------------------------------------
 * The bucket array follows the live flows: FLOW_BUCKETS_MIN at first,
 * doubled when the flows outnumber the buckets (up to the first power of
 * two at or above max_flows), halved when fewer than one in 16 is used.
 * Sized for the flows that are live, not for max_flows, it stays in the
 * CPU's cache: a capture whose sessions are short and spread over time
 * keeps a handful of flows live, and in a 1 MiB array sized for the
 * default max_flows each new flow's bucket was a cache miss (cachegrind,
 * bench/README.md "sixth round": D1 misses 2.43 M → 2.39 M). */
#define FLOW_BUCKETS_MIN 1024u
#define FLOW_BUCKETS_MAX ((size_t)1 << 22)

static ni_flow **buckets_new(size_t nb)
{
    ni_flow **b = calloc(nb, sizeof *b);
    /* each page written now: a large calloc is a fresh mapping whose pages,
     * read first (a lookup), map the zero page, and the first write to
     * each then replaces it, which in a process with other threads
     * interrupts every CPU running one (a TLB shootdown; measured in -j
     * runs).  (A memset would be folded into the calloc by the compiler.) */
    for (size_t i = 0; b && i < nb * sizeof *b; i += 4096) ((volatile unsigned char *)b)[i] = 0;
    return b;
}

/* Rehashes the flows into nb buckets (each flow keeps its hash); without
 * memory for them the table keeps its buckets, only its chains grow. */
static void table_resize(ni_flow_table *t, size_t nb)
{
    ni_flow **nbk = buckets_new(nb);
    if (!nbk) return;
    for (size_t b = 0; b <= t->mask; b++)
        for (ni_flow *f = t->buckets[b], *next; f; f = next) {
            next = f->hnext;
            f->hnext = nbk[f->hash & (nb - 1)];
            nbk[f->hash & (nb - 1)] = f;
        }
    free(t->buckets);
    t->buckets = nbk;
    t->mask = nb - 1;
}

ni_flow_table *ni_flow_table_new(const ni_flow_config *cfg, const ni_flow_callbacks *cb,
                                 ni_stats *st)
{
    ni_flow_config c;
    if (cfg) c = *cfg; else ni_flow_config_default(&c);
    if (c.max_flows == 0 || c.tcp_idle_us <= 0 || c.udp_idle_us <= 0 || c.active_us <= 0 ||
        c.closed_linger_us <= 0 || !st)
        return NULL;
    ni_flow_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cfg = c;
    t->phase = NI_FLOW_END_PACKET;
    ni_hash_key rk;
    ni_hash_key_random(&rk);
    flow_hash_keys_init(&t->hk, &rk);
    if (cb) t->cb = *cb;
    t->stats = st;
    size_t nb = FLOW_BUCKETS_MIN;
    while (nb < c.max_flows && nb < FLOW_BUCKETS_MAX) nb <<= 1;
    t->nb_max = nb;
    if (!(t->buckets = buckets_new(FLOW_BUCKETS_MIN))) { free(t); return NULL; }
    t->mask = FLOW_BUCKETS_MIN - 1;
    for (int l = 0; l < L_N; l++) t->timeout[l] = list_timeout(t, l);
    t->due = INT64_MAX;
    return t;
}

static void stream_free(ni_flow_table *t, ni_stream *s)
{
    t->stream_bytes -= s->alloc + s->ooo_bytes;
    free(s->buf);
    s->buf = NULL; s->len = s->alloc = 0;
    for (ni_seg *g = s->ooo, *n; g; g = n) { n = g->next; free(g); }
    s->ooo = NULL; s->ooo_n = s->ooo_bytes = 0;
}

static void flow_destroy(ni_flow_table *t, ni_flow *f)
{
    stream_free(t, &f->st[0]);
    stream_free(t, &f->st[1]);
    if (t->nspare < FLOW_SPARE_MAX) {   /* kept for the next flow */
        /* on_emit may have taken the arena (a parallel run's lane hands it
         * on with the session): the record is kept without one */
        if (f->s.arena) ni_arena_reset(f->s.arena);
        f->hnext = t->spare;
        t->spare = f;
        t->nspare++;
        return;
    }
    ni_arena_free(f->s.arena);
    free(f);
}

void ni_flow_recycle_arena(ni_flow_table *t, ni_arena *a)
{
    if (!a) return;
    if (t->napool == FLOW_SPARE_MAX) { ni_arena_free(a); return; }
    ni_arena_reset(a);
    t->apool[t->napool++] = a;
}

/* An empty arena: a recycled one, or a new one. */
static ni_arena *arena_take(ni_flow_table *t)
{
    if (t->napool) return t->apool[--t->napool];
    return ni_arena_new(NI_SESSION_ARENA_MAX);
}

/* A zeroed flow record with an empty arena: a spare one, or a new one. */
static ni_flow *flow_alloc(ni_flow_table *t)
{
    ni_flow *f = t->spare;
    if (f) {
        t->spare = f->hnext;
        t->nspare--;
        ni_arena *a = f->s.arena;
        memset(f, 0, sizeof *f + t->cb.app_size);
        f->s.arena = a ? a : arena_take(t);
        if (!f->s.arena) { free(f); return NULL; }
        return f;
    }
    f = calloc(1, sizeof *f + t->cb.app_size);
    if (!f) return NULL;
    f->s.arena = arena_take(t);
    if (!f->s.arena) { free(f); return NULL; }
    return f;
}

void ni_flow_table_free(ni_flow_table *t)
{
    if (!t) return;
    for (int l = 0; l < L_N; l++) {
        for (ni_flow *f = t->lists[l].head, *n; f; f = n) {
            n = f->next;
            if (t->cb.on_release) t->cb.on_release(t->cb.ud, &f->s, f->app);
            flow_destroy(t, f);
        }
    }
    for (ni_flow *f = t->spare, *n; f; f = n) {
        n = f->hnext;
        ni_arena_free(f->s.arena);
        free(f);
    }
    for (size_t i = 0; i < t->napool; i++) ni_arena_free(t->apool[i]);
    free(t->buckets);
    free(t);
}

size_t ni_flow_count(const ni_flow_table *t) { return t->count; }
size_t ni_flow_peak(const ni_flow_table *t) { return t->peak; }
size_t ni_flow_stream_bytes(const ni_flow_table *t) { return t->stream_bytes; }
int64_t ni_flow_now(const ni_flow_table *t) { return t->now; }

size_t ni_flow_buckets(const ni_flow_table *t) { return t->mask + 1; }

size_t ni_flow_chain_max(const ni_flow_table *t)
{
    size_t most = 0;
    for (size_t b = 0; b <= t->mask; b++) {
        size_t n = 0;
        for (const ni_flow *f = t->buckets[b]; f; f = f->hnext) n++;
        if (n > most) most = n;
    }
    return most;
}

static ni_end_reason closed_reason(const ni_flow *f)
{
    return f->rst ? NI_END_RST : NI_END_FIN;
}

/* Removes f from the table, emits its session and frees it.  A session that
 * closed (FIN both ways, or RST) ends "fin"/"rst" whatever ends its linger
 * (end of input, eviction, the active timeout): "eof" is only for sessions
 * still open when the input ended. */
static void flow_end(ni_flow_table *t, ni_flow *f, ni_end_reason reason)
{
    if (f->closed) reason = closed_reason(f);
    ni_flow **pp = &t->buckets[f->hash & t->mask];
    while (*pp && *pp != f) pp = &(*pp)->hnext;
    if (*pp) *pp = f->hnext;
    list_unlink(t, f);
    t->count--;
    if (t->mask + 1 > FLOW_BUCKETS_MIN && t->count < (t->mask + 1) / 16) table_resize(t, (t->mask + 1) / 2);
    /* held segments behind a gap that never filled */
    t->stats->reasm_dropped += f->st[0].ooo_bytes + f->st[1].ooo_bytes;
    f->s.end_reason = (uint8_t)reason;
    t->stats->sessions++;
    t->ending = f;
    if (t->cb.on_finish) t->cb.on_finish(t->cb.ud, &f->s, f->app);
    if (t->cb.on_emit) t->cb.on_emit(t->cb.ud, &f->s);
    t->ending = NULL;
    if (t->cb.on_release) t->cb.on_release(t->cb.ud, &f->s, f->app);
    flow_destroy(t, f);
}


/* t->due made exact again: the earliest deadline of a list head.  It stays
 * a lower bound between resets, since only a list's new head can have an
 * earlier deadline than the one before (list_append lowers it then): the
 * lists are in activity order, so removing a head only moves it later. */
static void due_reset(ni_flow_table *t)
{
    int64_t d = INT64_MAX;
    for (int l = 0; l < L_N; l++) {
        const ni_flow *f = t->lists[l].head;
        if (f) {
            int64_t x = deadline(f->active_us, t->timeout[l]);
            if (x < d) d = x;
        }
    }
    t->due = d;
}

static void expire(ni_flow_table *t)
{
    t->phase = NI_FLOW_END_CLOCK;
    for (int l = 0; l < L_N; l++) {
        int64_t to = t->timeout[l];
        ni_flow *f;
        while ((f = t->lists[l].head) && t->now - f->active_us > to)
            flow_end(t, f, l == L_CLOSED ? closed_reason(f) : NI_END_IDLE);
    }
    t->phase = NI_FLOW_END_PACKET;
    due_reset(t);
}

/* Whether expire has anything to do: a list head past its timeout (checked
 * only once the clock passed t->due). */
static inline bool expiry_due(const ni_flow_table *t)
{
    for (int l = 0; l < L_N; l++) {
        const ni_flow *f = t->lists[l].head;
        if (f && t->now - f->active_us > t->timeout[l]) return true;
    }
    return false;
}

static void evict_one(ni_flow_table *t)
{
    ni_flow *victim = NULL;
    for (int l = 0; l < L_N; l++) {
        ni_flow *h = t->lists[l].head;
        if (h && (!victim || h->active_us < victim->active_us ||
                  (h->active_us == victim->active_us && h->id < victim->id)))
            victim = h;
    }
    if (!victim) return;
    t->stats->evicted++;
    flow_end(t, victim, NI_END_EVICTED);
}

/* Who opened the connection: 1 if the packet's source is the client. */
static int src_is_client(const ni_packet *p)
{
    if (p->proto == 6) {
        uint8_t sa = p->tcp_flags & (NI_TCP_SYN | NI_TCP_ACK);
        if (sa == NI_TCP_SYN) return 1;
        if (sa == (NI_TCP_SYN | NI_TCP_ACK)) return 0;
        if (p->sport != p->dport) return p->sport > p->dport;
        return 1;
    }
    if (p->sport < 1024 && p->dport >= 1024) return 0;
    return 1;
}

static ni_flow *flow_create(ni_flow_table *t, const ni_packet *p, int client_is_src,
                            const flow_key *k, uint32_t h)
{
    if (t->count >= t->cfg.max_flows) evict_one(t);
    size_t half_max = t->cfg.max_flows / NI_FLOWS_HALF_OPEN_DIV;
    if (p->proto == 6 && t->lists[L_HALF].head && t->lists[L_HALF].n >= (half_max ? half_max : 1)) {
        t->stats->evicted++;
        flow_end(t, t->lists[L_HALF].head, NI_END_EVICTED);
    }
    ni_flow *f = flow_alloc(t);
    if (!f) return NULL;
    f->id = t->next_id++;
    f->first_seq = f->last_seq = t->seq;
    f->hash = h;
    f->key = *k;
    f->active_us = f->start_us = t->now;
    ni_session *s = &f->s;
    s->proto = p->proto;
    s->first_us = s->last_us = p->ts_us;
    if (client_is_src) {
        s->client = p->src; s->client_port = p->sport;
        s->server = p->dst; s->server_port = p->dport;
    } else {
        s->client = p->dst; s->client_port = p->dport;
        s->server = p->src; s->server_port = p->sport;
    }
    s->vlan = p->vlan;
    size_t b = h & t->mask;
    f->hnext = t->buckets[b];
    t->buckets[b] = f;
    list_append(t, f, p->proto == 6 ? L_HALF : L_OTHER);
    if (++t->count > t->peak) t->peak = t->count;
    if (t->count > t->mask + 1 && t->mask + 1 < t->nb_max) table_resize(t, (t->mask + 1) * 2);
    if (t->cb.on_start) t->cb.on_start(t->cb.ud, s, f->app);
    return f;
}

/* ---- TCP reassembly ----------------------------------------------------- */
static void stream_done(ni_flow_table *t, ni_stream *s)
{
    s->done = true;
    stream_free(t, s);
}

/* Gives up a direction: bytes held or arriving that cannot be delivered. */
static void stream_give_up(ni_flow_table *t, ni_stream *s, uint64_t extra)
{
    t->stats->reasm_dropped += s->ooo_bytes + extra;
    stream_done(t, s);
}

/* Appends n bytes to the unconsumed buffer; false past NI_STREAM_BUF_MAX or
 * the table's reassembly budget (or OOM). */
static bool stream_keep(ni_flow_table *t, ni_stream *s, const uint8_t *p, uint32_t n)
{
    size_t need = (size_t)s->len + n;
    if (need > NI_STREAM_BUF_MAX) return false;
    if (need > s->alloc) {
        size_t na = s->alloc ? (size_t)s->alloc * 2 : 1024;
        if (na < need) na = need;
        if (na > NI_STREAM_BUF_MAX) na = NI_STREAM_BUF_MAX;
        if (t->stream_bytes - s->alloc + na > t->cfg.stream_total_max) return false;
        uint8_t *nb = realloc(s->buf, na);
        if (!nb) return false;
        t->stream_bytes = t->stream_bytes - s->alloc + na;
        s->buf = nb;
        s->alloc = (uint32_t)na;
    }
    memcpy(s->buf + s->len, p, n);
    s->len = (uint32_t)need;
    return true;
}

/* Hands in-order bytes to on_stream (zero-copy when nothing is pending) and
 * keeps what it does not consume. */
static void stream_deliver(ni_flow_table *t, ni_flow *f, int dir, const uint8_t *data,
                           uint32_t len, int64_t ts)
{
    ni_stream *s = &f->st[dir];
    s->next_seq += len;
    s->seen += len;
    if (!t->cb.on_stream) { stream_done(t, s); return; }
    bool done = false;
    if (s->len == 0) {
        size_t used = t->cb.on_stream(t->cb.ud, &f->s, f->app, dir, data, len, ts, &done);
        if (used > len) used = len;
        if (!done && used < len && !stream_keep(t, s, data + used, (uint32_t)(len - used))) {
            stream_give_up(t, s, len - used);
            return;
        }
    } else {
        if (!stream_keep(t, s, data, len)) { stream_give_up(t, s, len); return; }
        size_t used = t->cb.on_stream(t->cb.ud, &f->s, f->app, dir, s->buf, s->len, ts, &done);
        if (used > s->len) used = s->len;
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= (uint32_t)used;
        if (s->len == 0) {          /* nothing pending: give the memory back */
            t->stream_bytes -= s->alloc;
            free(s->buf);
            s->buf = NULL; s->alloc = 0;
        }
    }
    if (done || s->seen >= NI_STREAM_INSPECT_MAX) stream_done(t, s);
}

/* Holds a segment that starts after a gap, in seq order. */
static void stream_hold(ni_flow_table *t, ni_stream *s, uint32_t seq, const uint8_t *p,
                        uint32_t n)
{
    ni_seg **pp = &s->ooo;
    while (*pp && seq_lt((*pp)->seq, seq)) pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= n) return;   /* duplicate */
    if (s->ooo_n >= NI_STREAM_OOO_SEGS_MAX || (size_t)s->ooo_bytes + n > NI_STREAM_OOO_BYTES_MAX ||
        t->stream_bytes + n > t->cfg.stream_total_max) {
        stream_give_up(t, s, n);
        return;
    }
    ni_seg *g = malloc(sizeof *g + n);
    if (!g) { stream_give_up(t, s, n); return; }
    g->seq = seq; g->len = n;
    memcpy(g->data, p, n);
    g->next = *pp;
    *pp = g;
    s->ooo_n++;
    s->ooo_bytes += n;
    t->stream_bytes += n;
}

/* Delivers held segments that the in-order point has reached. */
static void stream_drain(ni_flow_table *t, ni_flow *f, int dir, int64_t ts)
{
    ni_stream *s = &f->st[dir];
    while (!s->done && s->ooo && seq_leq(s->ooo->seq, s->next_seq)) {
        ni_seg *g = s->ooo;
        s->ooo = g->next;
        s->ooo_n--;
        s->ooo_bytes -= g->len;
        t->stream_bytes -= g->len;
        uint32_t behind = s->next_seq - g->seq;
        if (behind < g->len) stream_deliver(t, f, dir, g->data + behind, g->len - behind, ts);
        free(g);
    }
}

/* One TCP segment of direction dir. */
static void stream_segment(ni_flow_table *t, ni_flow *f, int dir, const ni_packet *p)
{
    ni_stream *s = &f->st[dir];
    if (s->done) return;
    uint32_t seq = p->seq;
    if (p->tcp_flags & NI_TCP_SYN) {
        if (!s->init) { s->init = true; s->next_seq = seq + 1; }
        seq++;                      /* data on a SYN follows the SYN's number */
    }
    const uint8_t *data = p->payload;
    uint32_t len = data ? p->payload_len : 0;
    uint32_t wire = p->payload_wire_len > len ? p->payload_wire_len : len;
    if (wire == 0) return;
    if (!s->init) { s->init = true; s->next_seq = seq; }
    if (seq_lt(seq, s->next_seq)) {            /* retransmission: trim the old part */
        uint32_t behind = s->next_seq - seq;
        if (behind >= wire) return;
        if (behind >= len) { stream_give_up(t, s, wire - behind); return; }
        data += behind; len -= behind; wire -= behind;
        seq = s->next_seq;
    }
    if (seq != s->next_seq) {
        if (wire != len) stream_give_up(t, s, wire);   /* a hole inside the capture */
        else stream_hold(t, s, seq, data, len);
        return;
    }
    if (len) stream_deliver(t, f, dir, data, len, p->ts_us);
    if (wire != len) {                          /* snap length cut the segment */
        if (!s->done) stream_give_up(t, s, wire - len);
        return;
    }
    stream_drain(t, f, dir, p->ts_us);
}

/* ---- packets ------------------------------------------------------------ */
static ni_flow *lookup(ni_flow_table *t, const ni_packet *p, const flow_key *k, uint32_t h, int *dir)
{
    for (ni_flow *f = t->buckets[h & t->mask]; f; f = f->hnext) {
        if (f->hash != h || !flow_key_eq(f, k)) continue;
        /* the same tuple: this packet goes client to server unless its
         * source is not the client endpoint */
        const ni_session *s = &f->s;
        *dir = s->client_port == p->sport && addr_eq(&s->client, &p->src) ? 0 : 1;
        return f;
    }
    return NULL;
}

static void flow_update(ni_flow_table *t, ni_flow *f, int dir, const ni_packet *p)
{
    ni_session *s = &f->s;
    if (p->ts_us < s->first_us) s->first_us = p->ts_us;
    if (p->ts_us > s->last_us) s->last_us = p->ts_us;
    f->active_us = t->now;
    f->last_seq = t->seq;
    if (dir == 0) {
        s->c2s_packets++; s->c2s_bytes += p->ip_len;
        if (p->proto == 6) s->c2s_tcp_flags |= p->tcp_flags;
    } else {
        s->s2c_packets++; s->s2c_bytes += p->ip_len;
        if (p->proto == 6) s->s2c_tcp_flags |= p->tcp_flags;
    }
    uint8_t list = f->list;
    if (list == L_HALF && (dir == 1 || p->payload_len)) list = L_TCP;   /* answered, or data */
    if (p->proto == 6) {
        if (p->tcp_flags & NI_TCP_RST) f->rst = true;
        if (p->tcp_flags & NI_TCP_FIN) f->fin[dir] = true;
        if (f->rst || (f->fin[0] && f->fin[1])) { f->closed = true; list = L_CLOSED; }
        /* The peer acknowledged bytes beyond a gap we hold segments after:
         * it received them, so they will not be sent again. */
        ni_stream *o = &f->st[!dir];
        if ((p->tcp_flags & NI_TCP_ACK) && !o->done && o->ooo && seq_lt(o->ooo->seq, p->ack))
            stream_give_up(t, o, 0);
        stream_segment(t, f, dir, p);
    } else if (p->payload && p->payload_len && !f->dgram_done[dir] && t->cb.on_datagram) {
        f->dgram_done[dir] = t->cb.on_datagram(t->cb.ud, s, f->app, dir, p->payload,
                                               p->payload_len, p->ts_us);
    }
    /* per-packet detectors run after the dissectors saw the payload, so
     * they can tell what the session already is */
    if (t->cb.on_packet && !f->pkt_done) f->pkt_done = t->cb.on_packet(t->cb.ud, s, f->app, dir, p);
    if (list != f->list || f->next) {           /* already its list's tail: nothing moves */
        list_unlink(t, f);
        list_append(t, f, list);
    }
}

ni_err ni_flow_packet(ni_flow_table *t, const ni_packet *p)
{
    /* Only a clock that moves expires anything: at an unchanged time every
     * list's head already outlived the last expiry, and flows moved or
     * created since are active now. */
    if (!t->have_now || p->ts_us > t->now) {
        t->now = p->ts_us;
        t->have_now = true;
        if (t->now > t->due) {
            if (expiry_due(t)) expire(t);
            else due_reset(t);
        }
    }
    flow_key k;
    flow_key_make(&k, p);
    uint32_t h = flow_key_hash(t, &k);
    int dir = 0, orient = -1;
    ni_flow *f = lookup(t, p, &k, h, &dir);
    if (f) {
        bool syn = p->proto == 6 && (p->tcp_flags & (NI_TCP_SYN | NI_TCP_ACK)) == NI_TCP_SYN;
        if (f->closed && syn) {                 /* the tuple is reused */
            flow_end(t, f, closed_reason(f));
            f = NULL;
        } else if (t->now - f->start_us >= t->cfg.active_us) {
            orient = dir == 0;                  /* the continuation keeps its client */
            flow_end(t, f, NI_END_ACTIVE);
            f = NULL;
        }
    }
    if (!f) {
        int cis = orient >= 0 ? orient : src_is_client(p);
        f = flow_create(t, p, cis, &k, h);
        if (!f) return NI_ERR_NOMEM;
        dir = cis ? 0 : 1;
    }
    flow_update(t, f, dir, p);
    return NI_OK;
}

static int cmp_first(const void *a, const void *b)
{
    const ni_flow *x = *(ni_flow *const *)a, *y = *(ni_flow *const *)b;
    if (x->s.first_us != y->s.first_us) return x->s.first_us < y->s.first_us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void ni_flow_flush(ni_flow_table *t)
{
    t->phase = NI_FLOW_END_INPUT;
    size_t n = t->count, k = 0;
    ni_flow **v = n ? malloc(n * sizeof *v) : NULL;
    if (v) {
        for (int l = 0; l < L_N; l++)
            for (ni_flow *f = t->lists[l].head; f; f = f->next) v[k++] = f;
        qsort(v, k, sizeof *v, cmp_first);
        for (size_t i = 0; i < k; i++) flow_end(t, v[i], NI_END_EOF);
        free(v);
    }
    for (int l = 0; l < L_N; l++)           /* only if the array could not be had */
        while (t->lists[l].head) flow_end(t, t->lists[l].head, NI_END_EOF);
    t->phase = NI_FLOW_END_PACKET;
}

/* ---- the order of a run split between tables ---------------------------- */
void ni_flow_set_seq(ni_flow_table *t, uint64_t seq) { t->seq = seq; }

void ni_flow_advance(ni_flow_table *t, int64_t ts_us)
{
    if (t->have_now && ts_us <= t->now) return;     /* nothing newly expires */
    t->now = ts_us;
    t->have_now = true;
    /* as ni_flow_packet: nothing expires before t->due (most calls) */
    if (t->now > t->due) {
        if (expiry_due(t)) expire(t);
        else due_reset(t);
    }
}

void ni_flow_emit_order(const ni_flow_table *t, ni_flow_order *o)
{
    const ni_flow *f = t->ending;
    memset(o, 0, sizeof *o);
    o->phase = t->phase;
    o->seq = t->phase == NI_FLOW_END_INPUT ? UINT64_MAX : t->seq;
    if (!f) return;
    o->list = f->list;
    o->first_seq = f->first_seq;
    o->last_seq = f->last_seq;
    o->first_us = f->s.first_us;
}
