/* test_live.c — unit tests of live capture's pieces: the flow table's clock
 * moved by time alone (ni_flow_advance: what a live source's ticks do), a
 * profile written in the middle of a run (profile --every) changing nothing
 * of the final report, and the live source through ni_input (ni_live):
 * refusals with the interface named, --duration and --count ending it, a
 * tick while nothing arrives.  The end-to-end test with real traffic is
 * tests/live/run (a network namespace and tcpreplay). */
#include "ni_test.h"
#include "analyze/ni_profile.h"
#include "core/ni_buf.h"
#include "core/ni_time.h"
#include "ingest/ni_input.h"
#include "session/ni_flow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S 1000000LL

/* ---- the flow table's clock ----------------------------------------------- */
typedef struct seen { int n; uint8_t end[8]; } seen;

static void on_emit(void *ud, ni_session *s)
{
    seen *e = ud;
    if (e->n < 8) e->end[e->n] = s->end_reason;
    e->n++;
}

static ni_packet udp(int64_t ts, int src, int dst)
{
    ni_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.src.family = p.dst.family = 4;
    p.src.b[0] = p.dst.b[0] = 10;
    p.src.b[3] = (uint8_t)src;
    p.dst.b[3] = (uint8_t)dst;
    p.sport = 5000; p.dport = 53; p.proto = 17; p.ip_len = 60;
    return p;
}

TEST(advance_expires_without_packets)
{
    seen e = { 0 };
    ni_stats st = { 0 };
    ni_flow_config c;
    ni_flow_config_default(&c);
    c.udp_idle_us = 2 * S;
    ni_flow_callbacks cb = { &e, 0, NULL, NULL, NULL, on_emit, NULL, NULL, NULL };
    ni_flow_table *t = ni_flow_table_new(&c, &cb, &st);
    CHECK(t != NULL);
    ni_packet a = udp(100 * S, 1, 2), b = udp(101 * S, 3, 4);
    CHECK_INT(ni_flow_packet(t, &a), NI_OK);
    CHECK_INT(ni_flow_packet(t, &b), NI_OK);
    ni_flow_advance(t, 101 * S + S / 2);        /* neither idle for 2 s yet */
    CHECK_INT(e.n, 0);
    ni_flow_advance(t, 102 * S + S / 2);        /* the first is, the second not */
    CHECK_INT(e.n, 1);
    CHECK_INT(e.end[0], NI_END_IDLE);
    CHECK_INT(ni_flow_count(t), 1);
    ni_flow_advance(t, 50 * S);                 /* the clock never goes back */
    CHECK_INT(ni_flow_now(t), 102 * S + S / 2);
    ni_flow_advance(t, 104 * S);
    CHECK_INT(e.n, 2);
    CHECK_INT(ni_flow_count(t), 0);
    ni_flow_table_free(t);
}

/* ---- a report in the middle of a run ---------------------------------------- */
static ni_session sess(int i)
{
    static const char *const sni[] = { "kcna.kp", "www.google.com", "rodong.rep.kp", NULL, "example.org" };
    ni_session s;
    memset(&s, 0, sizeof s);
    s.first_us = s.last_us = 1700000000 * S + (int64_t)i * 977 * S;
    s.proto = i % 3 ? 6 : 17;
    s.client.family = s.server.family = 4;
    s.client.b[0] = 175; s.client.b[1] = 45; s.client.b[2] = 176; s.client.b[3] = (uint8_t)(i % 40);
    s.server.b[0] = 8; s.server.b[1] = 8; s.server.b[2] = (uint8_t)(i % 7); s.server.b[3] = 8;
    s.server_port = 443;
    s.direction = i % 11 ? NI_DIRECTION_OUTBOUND : NI_DIRECTION_INBOUND;
    s.c2s_packets = s.s2c_packets = 1 + (uint64_t)(i % 5);
    s.c2s_bytes = 100 + (uint64_t)i;
    s.s2c_bytes = 1000 + (uint64_t)i * 3;
    s.sni = sni[i % 5];
    s.server_country = i % 2 ? "US" : "CN";
    return s;
}

TEST(snapshot_changes_nothing)
{
    ni_error err = { 0 };
    ni_tz *tz = ni_tz_load("UTC", &err);
    CHECK(tz != NULL);
    const char *spec[] = { "175.45.176.0/22" };
    ni_profile_capture cap = { "eth0", 10, 2, 0, true };
    ni_profile_config cfg = { .target_spec = spec, .n_target_spec = 1, .tz = tz, .capture = &cap };
    ni_profile *a = ni_profile_new(&cfg, &err), *b = ni_profile_new(&cfg, &err);
    CHECK(a && b);
    ni_buf ja, jb, snap1, snap2;
    ni_buf_init(&ja, 1 << 24); ni_buf_init(&jb, 1 << 24);
    ni_buf_init(&snap1, 1 << 24); ni_buf_init(&snap2, 1 << 24);
    for (int i = 0; i < 600; i++) {
        ni_session s = sess(i);
        ni_profile_add(a, &s);
        ni_profile_add(b, &s);
        if (i == 299) {         /* a snapshot of a, twice: the same bytes */
            CHECK_INT(ni_profile_json(a, &snap1), NI_OK);
            CHECK_INT(ni_profile_json(a, &snap2), NI_OK);
            CHECK(snap1.len == snap2.len && !memcmp(snap1.p, snap2.p, snap1.len));
            CHECK(strstr(ni_buf_str(&snap1), "\"in_progress\": true") != NULL);
        }
    }
    cap.in_progress = false;
    CHECK_INT(ni_profile_json(a, &ja), NI_OK);
    CHECK_INT(ni_profile_json(b, &jb), NI_OK);
    CHECK(ja.len == jb.len && !memcmp(ja.p, jb.p, ja.len));     /* the snapshot left no trace */
    CHECK(ja.len != snap1.len || memcmp(ja.p, snap1.p, ja.len));
    CHECK(strstr(ni_buf_str(&ja), "\"interface\": \"eth0\"") != NULL);
    CHECK(strstr(ni_buf_str(&ja), "\"in_progress\": false") != NULL);
    ni_buf_release(&ja); ni_buf_release(&jb); ni_buf_release(&snap1); ni_buf_release(&snap2);
    ni_profile_free(a);
    ni_profile_free(b);
    ni_tz_free(tz);
}

/* ---- the live source through ni_input ------------------------------------------ */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(live_refusals_name_the_interface)
{
    ni_input_options o = { 0 };
    o.live = true;
    ni_error err = { 0 };
    ni_input *in = ni_input_open_opts("nosuch-if0", &o, &err);
    CHECK(in == NULL);
    CHECK(!strncmp(err.msg, "nosuch-if0: ", 12));
    if (geteuid() == 0) CHECK_INT(err.code, NI_ERR_NOTFOUND);      /* unprivileged: permission denied first */
    else CHECK(err.code == NI_ERR_IO || err.code == NI_ERR_NOTFOUND);
    o.live = false;
    o.flows = true;
    o.filter = "udp";
    in = ni_input_open_opts("x.pcap", &o, &err);       /* a filter still refused for other kinds */
    CHECK(in == NULL);
    if (geteuid() != 0) return;
    o = (ni_input_options){ 0 };
    o.live = true;
    o.filter = "tcp port";
    in = ni_input_open_opts("lo", &o, &err);
    CHECK(in == NULL);
    CHECK_INT(err.code, NI_ERR_ARG);
    CHECK(strstr(err.msg, "lo: filter 'tcp port'") == err.msg);
}

TEST(live_duration_ticks_and_count)
{
    if (geteuid() != 0) { printf("  (not root: no capture on lo)\n"); return; }
    ni_input_options o = { 0 };
    o.live = true;
    o.filter = "udp port 9 and host 192.0.2.77";        /* nothing on lo matches: only ticks */
    o.live_cfg.duration_us = 700000;
    ni_error err = { 0 };
    double t0 = now_s();
    ni_input *in = ni_input_open_opts("lo", &o, &err);
    CHECK(in != NULL);
    if (!in) { fprintf(stderr, "  %s\n", err.msg); return; }
    CHECK_STR(ni_input_kind(in), "live");
    CHECK_STR(ni_input_path(in), "lo");
    int ticks = 0, frames = 0, k;
    ni_item it;
    while ((k = ni_input_next(in, &it, &err)) == 1) {
        if (it.kind == NI_ITEM_TICK) {
            ticks++;
            int64_t wall = (int64_t)time(NULL) * S;
            CHECK(it.tick_us > wall - 3 * S && it.tick_us <= wall + S);
        } else frames++;
    }
    double dt = now_s() - t0;
    CHECK_INT(k, 0);                            /* --duration: a clean end */
    CHECK_INT(frames, 0);
    CHECK(ticks >= 2);                          /* at least every 200 ms while nothing comes */
    CHECK(dt >= 0.69 && dt < 3.0);
    ni_input_progress pr;
    ni_input_stats(in, &pr);
    CHECK(pr.live);
    CHECK_INT(pr.received, 0);
    ni_input_close(in);

    /* --count: frames of our own on lo */
    o.filter = "udp port 9";
    o.live_cfg.duration_us = 10 * S;
    o.live_cfg.count = 3;
    in = ni_input_open_opts("lo", &o, &err);
    CHECK(in != NULL);
    if (!in) return;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 6; i++) sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof to);   /* kept in the ring */
    close(fd);
    frames = 0;
    while ((k = ni_input_next(in, &it, &err)) == 1) frames += it.kind == NI_ITEM_FRAME;
    CHECK_INT(k, 0);
    CHECK_INT(frames, 3);
    ni_input_close(in);
}

RUN(T(advance_expires_without_packets), T(snapshot_changes_nothing), T(live_refusals_name_the_interface),
    T(live_duration_ticks_and_count))
