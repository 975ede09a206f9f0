/* test_flow.c — the flow table and TCP reassembly on synthetic packet
 * sequences with fake callbacks: orientation, counters, timeouts, eviction,
 * bounded memory, in-order delivery through retransmissions, reordering and
 * gaps. */
#include "ni_test.h"
#include "session/ni_flow.h"
#include "core/ni_limits.h"
#include "core/ni_arena.h"

#include <stdlib.h>

#define S 1000000ll

/* ---- fakes -------------------------------------------------------------- */
typedef struct emitted {
    ni_addr client, server;
    uint16_t cport, sport;
    uint8_t proto, end, cflags, sflags;
    uint64_t cp, cb, sp, sb;
    int64_t first, last;
} emitted;

typedef struct fake {
    emitted out[64];
    int n_out;
    int starts, releases;
    /* stream: what was consumed per direction, in order */
    uint8_t got[2][600000];
    size_t got_len[2];
    int stream_calls[2];
    int zero_copy_hits;
    const uint8_t *last_payload;    /* the packet payload most recently fed */
    int line_mode;                  /* consume only through the last '\n' */
    size_t done_after;              /* set done once this many bytes consumed (0 = never) */
    int dgrams[2];
    int dgram_done_after;
} fake;

static void on_start(void *ud, ni_session *s, void *app)
{
    (void)s;
    fake *f = ud;
    f->starts++;
    CHECK(*(int *)app == 0);        /* per-flow state arrives zeroed */
    *(int *)app = 7;
}

static size_t on_stream(void *ud, ni_session *s, void *app, int dir, const uint8_t *p, size_t n,
                        int64_t ts, bool *done)
{
    (void)s; (void)ts;
    fake *f = ud;
    CHECK(*(int *)app == 7);
    f->stream_calls[dir]++;
    if (p == f->last_payload) f->zero_copy_hits++;
    size_t use = n;
    if (f->line_mode) {
        use = 0;
        for (size_t i = n; i > 0; i--) if (p[i - 1] == '\n') { use = i; break; }
    }
    if (f->got_len[dir] + use <= sizeof f->got[dir]) {
        memcpy(f->got[dir] + f->got_len[dir], p, use);
        f->got_len[dir] += use;
    }
    if (f->done_after && f->got_len[dir] >= f->done_after) *done = true;
    return use;
}

static bool on_datagram(void *ud, ni_session *s, void *app, int dir, const uint8_t *p, size_t n,
                        int64_t ts)
{
    (void)s; (void)app; (void)p; (void)n; (void)ts;
    fake *f = ud;
    f->dgrams[dir]++;
    return f->dgram_done_after && f->dgrams[dir] >= f->dgram_done_after;
}

static void on_emit(void *ud, ni_session *s)
{
    fake *f = ud;
    if (f->n_out >= 64) return;
    emitted *e = &f->out[f->n_out++];
    e->client = s->client; e->server = s->server;
    e->cport = s->client_port; e->sport = s->server_port;
    e->proto = s->proto; e->end = s->end_reason;
    e->cflags = s->c2s_tcp_flags; e->sflags = s->s2c_tcp_flags;
    e->cp = s->c2s_packets; e->cb = s->c2s_bytes; e->sp = s->s2c_packets; e->sb = s->s2c_bytes;
    e->first = s->first_us; e->last = s->last_us;
}

static void on_release(void *ud, ni_session *s, void *app)
{
    (void)s; (void)app;
    ((fake *)ud)->releases++;
}

static ni_flow_table *mk(fake *f, const ni_flow_config *cfg, ni_stats *st)
{
    memset(st, 0, sizeof *st);
    ni_flow_callbacks cb = { f, sizeof(int), on_start, on_stream, on_datagram, on_emit, on_release, NULL, NULL };
    return ni_flow_table_new(cfg, &cb, st);
}

static ni_addr A(int last)
{
    ni_addr a; memset(&a, 0, sizeof a);
    a.family = 4; a.b[0] = 10; a.b[1] = 0; a.b[2] = (uint8_t)(last >> 8); a.b[3] = (uint8_t)last;
    return a;
}

static ni_packet pk(int64_t ts, int src, uint16_t sport, int dst, uint16_t dport, uint8_t proto)
{
    ni_packet p; memset(&p, 0, sizeof p);
    p.ts_us = ts; p.src = A(src); p.dst = A(dst); p.sport = sport; p.dport = dport;
    p.proto = proto; p.ip_len = 40;
    return p;
}

static ni_packet tcp(int64_t ts, int src, uint16_t sport, int dst, uint16_t dport, uint8_t flags,
                     uint32_t seq, const void *data, uint32_t len)
{
    ni_packet p = pk(ts, src, sport, dst, dport, 6);
    p.tcp_flags = flags; p.seq = seq; p.ack = 0;
    p.payload = data; p.payload_len = p.payload_wire_len = len;
    p.ip_len = 40 + len;
    return p;
}

static void feed(ni_flow_table *t, fake *f, ni_packet p)
{
    f->last_payload = p.payload;
    CHECK(ni_flow_packet(t, &p) == NI_OK);
}

/* ---- tests -------------------------------------------------------------- */
TEST(handshake_counters_and_fin)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    CHECK(t != NULL);
    feed(t, &f, tcp(1 * S, 1, 50000, 2, 80, NI_TCP_SYN, 100, NULL, 0));
    feed(t, &f, tcp(1 * S + 10, 2, 80, 1, 50000, NI_TCP_SYN | NI_TCP_ACK, 900, NULL, 0));
    feed(t, &f, tcp(1 * S + 20, 1, 50000, 2, 80, NI_TCP_ACK | NI_TCP_PSH, 101, "GET / HTTP/1.1\r\n", 16));
    feed(t, &f, tcp(1 * S + 30, 2, 80, 1, 50000, NI_TCP_ACK, 901, "HTTP/1.1 200 OK\r\n", 17));
    feed(t, &f, tcp(1 * S + 40, 1, 50000, 2, 80, NI_TCP_ACK | NI_TCP_FIN, 117, NULL, 0));
    feed(t, &f, tcp(1 * S + 50, 2, 80, 1, 50000, NI_TCP_ACK | NI_TCP_FIN, 918, NULL, 0));
    CHECK_INT(ni_flow_count(t), 1);
    CHECK_INT(f.n_out, 0);                       /* lingers after FIN both ways */
    /* an unrelated packet after the linger closes it */
    feed(t, &f, pk(1 * S + 50 + NI_FLOW_CLOSED_LINGER_US + 1, 7, 1234, 8, 53, 17));
    CHECK_INT(f.n_out, 1);
    emitted *e = &f.out[0];
    CHECK_INT(e->end, NI_END_FIN);
    CHECK_INT(e->cport, 50000); CHECK_INT(e->sport, 80);
    CHECK_INT(e->client.b[3], 1); CHECK_INT(e->server.b[3], 2);
    CHECK_INT(e->cp, 3); CHECK_INT(e->sp, 3);
    CHECK_INT(e->cb, 40 * 3 + 16); CHECK_INT(e->sb, 40 * 3 + 17);
    CHECK_INT(e->cflags, NI_TCP_SYN | NI_TCP_ACK | NI_TCP_PSH | NI_TCP_FIN);
    CHECK_INT(e->sflags, NI_TCP_SYN | NI_TCP_ACK | NI_TCP_FIN);
    CHECK_INT(e->first, 1 * S); CHECK_INT(e->last, 1 * S + 50);
    CHECK(f.got_len[0] == 16 && memcmp(f.got[0], "GET / HTTP/1.1\r\n", 16) == 0);
    CHECK(f.got_len[1] == 17 && memcmp(f.got[1], "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_INT(f.zero_copy_hits, 2);
    CHECK_INT(st.sessions, 1);
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 2);                       /* the UDP one, at EOF */
    CHECK_INT(f.out[1].end, NI_END_EOF);
    CHECK_INT(f.starts, 2); CHECK_INT(f.releases, 2);
    CHECK_INT(ni_flow_count(t), 0);
    ni_flow_table_free(t);
}

TEST(orientation_rules)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    /* SYN-ACK first: its receiver is the client */
    feed(t, &f, tcp(1 * S, 2, 443, 1, 40000, NI_TCP_SYN | NI_TCP_ACK, 1, NULL, 0));
    /* mid-stream, server speaks first: the higher (ephemeral) port is the client */
    feed(t, &f, tcp(2 * S, 3, 80, 4, 51000, NI_TCP_ACK, 1, NULL, 0));
    /* mid-stream, equal ports: the first sender */
    feed(t, &f, tcp(3 * S, 5, 5000, 6, 5000, NI_TCP_ACK, 1, NULL, 0));
    /* UDP reply from a service port first: the other side is the client */
    feed(t, &f, pk(4 * S, 7, 53, 8, 40001, 17));
    /* UDP between two high ports: the first sender */
    feed(t, &f, pk(5 * S, 9, 40000, 10, 50000, 17));
    /* UDP between two service ports: the first sender */
    feed(t, &f, pk(6 * S, 11, 123, 12, 123, 17));
    /* the reverse direction joins the same flow */
    feed(t, &f, pk(7 * S, 8, 40001, 7, 53, 17));
    CHECK_INT(ni_flow_count(t), 6);
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 6);
    CHECK_INT(f.out[0].client.b[3], 1); CHECK_INT(f.out[0].cport, 40000); CHECK_INT(f.out[0].sp, 1);
    CHECK_INT(f.out[1].client.b[3], 4); CHECK_INT(f.out[1].cport, 51000);
    CHECK_INT(f.out[2].client.b[3], 5);
    CHECK_INT(f.out[3].client.b[3], 8); CHECK_INT(f.out[3].sport, 53);
    CHECK_INT(f.out[3].cp, 1); CHECK_INT(f.out[3].sp, 1);
    CHECK_INT(f.out[4].client.b[3], 9);
    CHECK_INT(f.out[5].client.b[3], 11);
    ni_flow_table_free(t);
}

TEST(idle_timeouts_per_protocol)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    feed(t, &f, tcp(0, 1, 50000, 2, 80, NI_TCP_ACK, 1, NULL, 0));
    feed(t, &f, pk(0, 3, 40000, 4, 53, 17));
    /* 61 s later: the UDP flow is idle, the TCP one is not */
    feed(t, &f, pk(61 * S, 5, 40000, 6, 53, 17));
    CHECK_INT(f.n_out, 1);
    CHECK_INT(f.out[0].proto, 17); CHECK_INT(f.out[0].end, NI_END_IDLE);
    for (int i = 100; i <= 300; i += 50) feed(t, &f, pk(i * S, 5, 40000, 6, 53, 17));
    CHECK_INT(f.n_out, 1);
    /* 301 s after the TCP packet: only the TCP flow is idle long enough */
    feed(t, &f, pk(301 * S + 1, 5, 40000, 6, 53, 17));
    CHECK_INT(f.n_out, 2);
    CHECK_INT(f.out[1].proto, 6); CHECK_INT(f.out[1].end, NI_END_IDLE);
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 3);
    CHECK_INT(f.out[2].cp, 7);                   /* one UDP flow carried all seven */
    ni_flow_table_free(t);
}

TEST(configurable_timeouts_and_active_split)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_flow_config c; ni_flow_config_default(&c);
    c.udp_idle_us = 5 * S; c.active_us = 20 * S;
    ni_stats st; ni_flow_table *t = mk(&f, &c, &st);
    /* a UDP exchange every 4 s for 50 s: never idle, split by the active timeout */
    for (int i = 0; i <= 12; i++)
        feed(t, &f, i % 2 ? pk(i * 4 * S, 2, 53, 1, 40000, 17) : pk(i * 4 * S, 1, 40000, 2, 53, 17));
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 3);
    CHECK_INT(f.out[0].end, NI_END_ACTIVE);
    CHECK_INT(f.out[1].end, NI_END_ACTIVE);
    CHECK_INT(f.out[2].end, NI_END_EOF);
    uint64_t total = 0;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(f.out[i].client.b[3], 1);      /* continuations keep their client */
        total += f.out[i].cp + f.out[i].sp;
    }
    CHECK_INT(total, 13);
    CHECK_INT(f.out[0].first, 0); CHECK_INT(f.out[0].last, 16 * S);
    CHECK_INT(f.out[1].first, 20 * S);
    ni_flow_table_free(t);
    /* invalid configurations are refused */
    c.max_flows = 0;
    CHECK(mk(&f, &c, &st) == NULL);
}

TEST(eviction_emits_least_recent)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_flow_config c; ni_flow_config_default(&c);
    c.max_flows = 3;
    ni_stats st; ni_flow_table *t = mk(&f, &c, &st);
    feed(t, &f, pk(1 * S, 1, 40000, 100, 53, 17));
    feed(t, &f, pk(2 * S, 2, 40000, 100, 53, 17));
    feed(t, &f, pk(3 * S, 3, 40000, 100, 53, 17));
    feed(t, &f, pk(4 * S, 100, 53, 1, 40000, 17));   /* flow 1 becomes the most recent */
    feed(t, &f, pk(5 * S, 4, 40000, 100, 53, 17));   /* table full: flow 2 goes */
    CHECK_INT(f.n_out, 1);
    CHECK_INT(f.out[0].client.b[3], 2); CHECK_INT(f.out[0].end, NI_END_EVICTED);
    feed(t, &f, tcp(6 * S, 5, 40000, 100, 80, NI_TCP_SYN, 1, NULL, 0)); /* flow 3 goes */
    CHECK_INT(f.n_out, 2);
    CHECK_INT(f.out[1].client.b[3], 3);
    CHECK_INT(st.evicted, 2);
    CHECK_INT(ni_flow_peak(t), 3);
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 5);
    CHECK_INT(st.sessions, 5);
    /* flushed in order of first packet: 1 (t=1), 4 (t=5), 5 (t=6) */
    CHECK_INT(f.out[2].client.b[3], 1);
    CHECK_INT(f.out[3].client.b[3], 4);
    CHECK_INT(f.out[4].client.b[3], 5);
    ni_flow_table_free(t);
}

TEST(memory_does_not_grow_with_capture_length)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_flow_config c; ni_flow_config_default(&c);
    c.max_flows = 500;
    ni_stats st; ni_flow_table *t = mk(&f, &c, &st);
    static uint8_t junk[1400];
    memset(junk, 'x', sizeof junk);
    f.line_mode = 1;                 /* never consumes: every byte stays pending */
    for (int i = 0; i < 200000; i++) {
        ni_packet p = tcp(i, 1 + i % 60000, (uint16_t)(1024 + i % 50000), 200, 80, NI_TCP_ACK,
                          (uint32_t)i * 1400u, junk, sizeof junk);
        CHECK(ni_flow_packet(t, &p) == NI_OK);
        if (ni_flow_count(t) > 500) { CHECK(0); break; }
        if (ni_flow_stream_bytes(t) > 500u * NI_STREAM_BUF_MAX) { CHECK(0); break; }
    }
    CHECK_INT(ni_flow_peak(t), 500);
    CHECK(st.evicted > 100000);
    ni_flow_flush(t);
    CHECK_INT(ni_flow_count(t), 0);
    CHECK_INT(ni_flow_stream_bytes(t), 0);
    CHECK_INT(st.sessions, st.evicted + 500);
    ni_flow_table_free(t);
}

TEST(rst_and_tuple_reuse)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    feed(t, &f, tcp(1 * S, 1, 50000, 2, 80, NI_TCP_SYN, 1, NULL, 0));
    feed(t, &f, tcp(1 * S + 1, 2, 80, 1, 50000, NI_TCP_RST | NI_TCP_ACK, 0, NULL, 0));
    feed(t, &f, tcp(2 * S, 1, 50000, 2, 80, NI_TCP_SYN, 777, NULL, 0));  /* reuse */
    CHECK_INT(f.n_out, 1);
    CHECK_INT(f.out[0].end, NI_END_RST);
    CHECK_INT(f.out[0].cp, 1); CHECK_INT(f.out[0].sp, 1);
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 2);
    CHECK_INT(f.out[1].cp, 1); CHECK_INT(f.out[1].first, 2 * S);
    ni_flow_table_free(t);
}

TEST(unordered_time_uses_max_and_min)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    feed(t, &f, pk(100 * S, 1, 40000, 2, 53, 17));
    feed(t, &f, pk(90 * S, 2, 53, 1, 40000, 17));   /* an older file read second */
    feed(t, &f, pk(95 * S, 3, 40000, 4, 53, 17));
    CHECK_INT(ni_flow_now(t), 100 * S);
    ni_flow_flush(t);
    CHECK_INT(f.n_out, 2);
    CHECK_INT(f.out[0].first, 90 * S); CHECK_INT(f.out[0].last, 100 * S);
    CHECK_INT(f.out[1].first, 95 * S);
    ni_flow_table_free(t);
}

/* A 3000-byte stream cut into segments and fed with retransmissions,
 * overlaps and reordering must arrive exactly once and in order. */
TEST(reassembly_in_order_through_reordering)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    static uint8_t msg[3000];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (i % 50 == 49) ? '\n' : (uint8_t)('a' + i % 26);
    f.line_mode = 1;
    uint32_t isn = 0xfffffe00u;                   /* wraps around 2^32 */
    feed(t, &f, tcp(1, 1, 50000, 2, 80, NI_TCP_SYN, isn, NULL, 0));
    uint32_t b = isn + 1;
    struct { uint32_t off, len; } segs[] = {
        { 0, 500 }, { 1000, 500 }, { 500, 700 },   /* hole, then an overlapping fill */
        { 300, 200 },                              /* pure retransmission */
        { 2500, 500 }, { 1500, 300 }, { 1800, 700 }, { 1700, 900 },
    };
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++)
        feed(t, &f, tcp(2 + (int64_t)i, 1, 50000, 2, 80, NI_TCP_ACK, b + segs[i].off,
                        msg + segs[i].off, segs[i].len));
    CHECK_INT(f.got_len[0], 3000);
    CHECK(memcmp(f.got[0], msg, 3000) == 0);
    CHECK_INT(st.reasm_dropped, 0);
    CHECK(f.zero_copy_hits >= 1);
    ni_flow_flush(t);
    CHECK_INT(ni_flow_stream_bytes(t), 0);
    ni_flow_table_free(t);
}

TEST(no_syn_starts_at_first_segment_and_done_stops)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    f.done_after = 10;
    feed(t, &f, tcp(1, 1, 50000, 2, 80, NI_TCP_ACK, 5000, "0123456789", 10));
    feed(t, &f, tcp(2, 1, 50000, 2, 80, NI_TCP_ACK, 5010, "abcdefghij", 10));
    CHECK_INT(f.stream_calls[0], 1);
    CHECK_INT(f.got_len[0], 10);
    ni_flow_flush(t);
    ni_flow_table_free(t);
}

TEST(gap_that_never_fills_ends_direction)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    static uint8_t d[100];
    memset(d, 'z', sizeof d);
    feed(t, &f, tcp(1, 1, 50000, 2, 80, NI_TCP_ACK, 0, d, 100));
    /* segment 100..200 lost; more than NI_STREAM_OOO_SEGS_MAX arrive after it */
    for (unsigned i = 0; i <= NI_STREAM_OOO_SEGS_MAX; i++)
        feed(t, &f, tcp(2 + i, 1, 50000, 2, 80, NI_TCP_ACK, 200 + i * 100, d, 100));
    CHECK(st.reasm_dropped >= (NI_STREAM_OOO_SEGS_MAX + 1) * 100);
    int calls = f.stream_calls[0];
    feed(t, &f, tcp(100, 1, 50000, 2, 80, NI_TCP_ACK, 100, d, 100));   /* too late */
    CHECK_INT(f.stream_calls[0], calls);
    CHECK_INT(f.got_len[0], 100);
    CHECK_INT(ni_flow_stream_bytes(t), 0);
    /* the other direction: an ACK from the peer beyond the gap gives up at once */
    feed(t, &f, tcp(200, 2, 80, 1, 50000, NI_TCP_ACK, 0, d, 100));
    feed(t, &f, tcp(201, 2, 80, 1, 50000, NI_TCP_ACK, 200, d, 100));   /* hole 100..200 */
    CHECK(ni_flow_stream_bytes(t) > 0);
    ni_packet a = tcp(202, 1, 50000, 2, 80, NI_TCP_ACK, 2000, NULL, 0);
    a.ack = 300;
    feed(t, &f, a);
    CHECK_INT(ni_flow_stream_bytes(t), 0);
    feed(t, &f, tcp(203, 2, 80, 1, 50000, NI_TCP_ACK, 100, d, 100));
    CHECK_INT(f.got_len[1], 100);
    ni_flow_flush(t);
    ni_flow_table_free(t);
}

TEST(unconsumed_bytes_are_bounded)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    f.line_mode = 1;                             /* no newline ever: nothing consumed */
    static uint8_t d[1000];
    memset(d, 'q', sizeof d);
    for (uint32_t i = 0; i < 40; i++)
        feed(t, &f, tcp(1 + i, 1, 50000, 2, 80, NI_TCP_ACK, i * 1000, d, 1000));
    /* re-presented with new bytes appended until the buffer cap, then done */
    CHECK_INT(f.stream_calls[0], NI_STREAM_BUF_MAX / 1000);
    CHECK(st.reasm_dropped > 0);
    CHECK_INT(ni_flow_stream_bytes(t), 0);
    ni_flow_flush(t);
    ni_flow_table_free(t);
}

TEST(inspect_limit_and_snaplen_cut)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    static uint8_t d[1400];
    memset(d, 'w', sizeof d);
    uint32_t n = NI_STREAM_INSPECT_MAX / 1400 + 10;
    for (uint32_t i = 0; i < n; i++)
        feed(t, &f, tcp(1 + i, 1, 50000, 2, 80, NI_TCP_ACK, i * 1400, d, 1400));
    CHECK(f.got_len[0] >= NI_STREAM_INSPECT_MAX);
    CHECK(f.got_len[0] < NI_STREAM_INSPECT_MAX + 1400);
    /* server side: a segment cut by the snap length ends the direction */
    ni_packet p = tcp(100000, 2, 80, 1, 50000, NI_TCP_ACK, 0, d, 60);
    p.payload_wire_len = 1400;
    feed(t, &f, p);
    feed(t, &f, tcp(100001, 2, 80, 1, 50000, NI_TCP_ACK, 1400, d, 100));
    CHECK_INT(f.got_len[1], 60);
    CHECK_INT(st.reasm_dropped, 1340);
    ni_flow_flush(t);
    ni_flow_table_free(t);
}

TEST(datagrams_until_done)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    f.dgram_done_after = 2;
    for (int i = 0; i < 5; i++) {
        ni_packet p = pk(i, 1, 40000, 2, 443, 17);
        p.payload = (const uint8_t *)"x"; p.payload_len = 1;
        feed(t, &f, p);
    }
    ni_packet r = pk(9, 2, 443, 1, 40000, 17);
    r.payload = (const uint8_t *)"y"; r.payload_len = 1;
    feed(t, &f, r);
    CHECK_INT(f.dgrams[0], 2);
    CHECK_INT(f.dgrams[1], 1);
    ni_flow_flush(t);
    CHECK_INT(f.out[0].cp, 5);
    ni_flow_table_free(t);
}

TEST(ipv6_and_free_without_flush)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_stats st; ni_flow_table *t = mk(&f, NULL, &st);
    ni_packet p = pk(1, 0, 40000, 0, 53, 17);
    ni_addr_parse("2001:db8::1", &p.src);
    ni_addr_parse("2001:db8::2", &p.dst);
    feed(t, &f, p);
    ni_packet q = p;
    q.src = p.dst; q.dst = p.src; q.sport = 53; q.dport = 40000;
    feed(t, &f, q);
    CHECK_INT(ni_flow_count(t), 1);
    ni_flow_table_free(t);                       /* frees without emitting */
    CHECK_INT(f.n_out, 0);
    CHECK_INT(f.releases, 1);
}

/* A SYN flood: half-open TCP flows (bare SYNs, no reply) take at most
 * max_flows / NI_FLOWS_HALF_OPEN_DIV places; past that the oldest half-open
 * flow is evicted, never an answered one, and a reply or payload makes a
 * flow an ordinary open one. */
TEST(half_open_flows_are_capped)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_flow_config c; ni_flow_config_default(&c);
    c.max_flows = 8 * NI_FLOWS_HALF_OPEN_DIV;       /* 8 half-open places */
    ni_stats st; ni_flow_table *t = mk(&f, &c, &st);
    feed(t, &f, tcp(1 * S, 1, 40000, 200, 80, NI_TCP_SYN, 1, NULL, 0));      /* answered */
    feed(t, &f, tcp(1 * S, 200, 80, 1, 40000, NI_TCP_SYN | NI_TCP_ACK, 9, NULL, 0));
    feed(t, &f, tcp(1 * S, 2, 40000, 200, 80, NI_TCP_SYN, 1, NULL, 0));      /* carries data */
    feed(t, &f, tcp(1 * S, 2, 40000, 200, 80, NI_TCP_ACK, 2, "GET", 3));
    for (int i = 0; i < 1000; i++)                                              /* the flood */
        feed(t, &f, tcp(2 * S + i, 1000 + i, 1024, 200, 443, NI_TCP_SYN, 1, NULL, 0));
    CHECK_INT(ni_flow_count(t), 2 + 8);
    CHECK_INT(st.evicted, 1000 - 8);
    for (int i = 0; i < f.n_out; i++) {
        CHECK_INT(f.out[i].end, NI_END_EVICTED);
        CHECK(f.out[i].client.b[2] * 256 + f.out[i].client.b[3] >= 1000);
    }
    CHECK_INT(f.out[0].client.b[2] * 256 + f.out[0].client.b[3], 1000);  /* oldest first */
    ni_flow_flush(t);
    CHECK_INT(st.sessions, 1000 + 2);
    ni_flow_table_free(t);
}

/* Structured tuples (one client address and port walking through
 * sources, ports in steps of powers of two, IPv6 addresses differing in two
 * bytes) spread over the buckets: 2^15 live flows in as many buckets, none
 * holding more than a handful (a weak or unkeyed hash on such regular keys
 * puts hundreds in one chain). */
TEST(structured_tuples_spread_over_buckets)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_flow_config c;
    ni_flow_config_default(&c);
    c.max_flows = 65536;
    ni_stats st; memset(&st, 0, sizeof st);
    ni_flow_callbacks cb = { &f, sizeof(int), on_start, NULL, NULL, NULL, on_release, NULL, NULL };
    for (int kind = 0; kind < 3; kind++) {
        ni_flow_table *t = ni_flow_table_new(&c, &cb, &st);
        CHECK(t != NULL);
        if (!t) return;
        for (int i = 0; i < 32768; i++) {
            ni_packet p;
            if (kind == 0) p = pk(S, i, 40000, 70000, 443, 17);
            else if (kind == 1) p = pk(S, 1, (uint16_t)((i & 255) << 8), 2, (uint16_t)(i >> 8 << 4), 17);
            else {
                p = pk(S, 1, 5353, 2, 53, 17);
                p.src.family = p.dst.family = 6;
                p.src.b[15] = (uint8_t)i;
                p.src.b[7] = (uint8_t)(i >> 8);
            }
            CHECK(ni_flow_packet(t, &p) == NI_OK);
        }
        if (ni_flow_count(t) != 32768) fprintf(stderr, "kind %d: %zu flows, evicted %llu\n", kind, ni_flow_count(t), (unsigned long long)st.evicted);
        CHECK_INT(ni_flow_count(t), 32768);
        CHECK(ni_flow_chain_max(t) <= 12);
        ni_flow_table_free(t);
    }
}

/* The bucket array follows the live flows: it doubles as they outnumber
 * it (every flow still found: its second packet starts no new flow), and
 * halves back to its first size as they end. */
TEST(buckets_grow_and_shrink_with_live_flows)
{
    static fake f; memset(&f, 0, sizeof f);
    ni_flow_config c;
    ni_flow_config_default(&c);
    c.max_flows = 20000;
    ni_stats st;
    ni_flow_table *t = mk(&f, &c, &st);
    CHECK(t != NULL);
    if (!t) return;
    size_t first = ni_flow_buckets(t);
    CHECK(first <= 1024);
    for (int round = 0; round < 2; round++)     /* every flow twice: found again after the growth */
        for (int i = 0; i < 12000; i++) {
            ni_packet p = pk(S + round, 1 + i % 3000, (uint16_t)(1024 + i / 3000), 70000, 53, 17);
            CHECK(ni_flow_packet(t, &p) == NI_OK);
        }
    CHECK_INT(ni_flow_count(t), 12000);
    CHECK_INT(st.sessions, 0);
    CHECK(ni_flow_buckets(t) >= 12000 && ni_flow_buckets(t) <= 32768);
    CHECK(ni_flow_chain_max(t) <= 12);
    ni_flow_advance(t, 1000 * S);               /* every one idle past its timeout */
    CHECK_INT(ni_flow_count(t), 0);
    CHECK_INT(st.sessions, 12000);
    CHECK_INT(ni_flow_buckets(t), first);
    ni_packet p = pk(1001 * S, 1, 1024, 70000, 53, 17);   /* and it still works */
    CHECK(ni_flow_packet(t, &p) == NI_OK);
    CHECK(ni_flow_packet(t, &p) == NI_OK);
    CHECK_INT(ni_flow_count(t), 1);
    ni_flow_table_free(t);
}

/* A parallel run's on_emit takes the session's arena with it (sets it to
 * NULL); the flow record is then reused with a new arena, and a reused
 * record's arena is empty and its state zeroed. */
static int arena_starts, arena_bad;
static void take_start(void *ud, ni_session *s, void *app)
{
    (void)ud;
    arena_starts++;
    if (!s->arena || ni_arena_used(s->arena) != 0 || *(int *)app != 0 || s->c2s_packets) arena_bad++;
    if (s->arena && !ni_arena_strdup(s->arena, "evidence")) arena_bad++;
    *(int *)app = 9;
}
static void take_emit(void *ud, ni_session *s)
{
    int *n = ud;
    if ((*n)++ % 2 == 0) { ni_arena_free(s->arena); s->arena = NULL; }
}

TEST(reused_records_and_taken_arenas)
{
    int emitted = 0;
    ni_stats st; memset(&st, 0, sizeof st);
    ni_flow_callbacks cb = { &emitted, sizeof(int), take_start, NULL, NULL, take_emit, NULL, NULL, NULL };
    ni_flow_table *t = ni_flow_table_new(NULL, &cb, &st);
    CHECK(t != NULL);
    if (!t) return;
    arena_starts = arena_bad = 0;
    for (int i = 0; i < 3000; i++) {
        ni_packet p = pk((int64_t)i * 100 * S, i % 7, (uint16_t)(1000 + i), 9, 53, 17);
        CHECK(ni_flow_packet(t, &p) == NI_OK);    /* each ends the previous ones by idle time */
    }
    ni_flow_flush(t);
    CHECK_INT(arena_starts, 3000);
    CHECK_INT(emitted, 3000);
    CHECK_INT(arena_bad, 0);
    ni_flow_table_free(t);
}

RUN(T(half_open_flows_are_capped), T(handshake_counters_and_fin), T(orientation_rules), T(idle_timeouts_per_protocol),
    T(configurable_timeouts_and_active_split), T(eviction_emits_least_recent),
    T(memory_does_not_grow_with_capture_length), T(rst_and_tuple_reuse),
    T(unordered_time_uses_max_and_min), T(reassembly_in_order_through_reordering),
    T(no_syn_starts_at_first_segment_and_done_stops), T(gap_that_never_fills_ends_direction),
    T(unconsumed_bytes_are_bounded), T(inspect_limit_and_snaplen_cut), T(datagrams_until_done),
    T(ipv6_and_free_without_flush), T(structured_tuples_spread_over_buckets),
    T(buckets_grow_and_shrink_with_live_flows),
    T(reused_records_and_taken_arenas))
