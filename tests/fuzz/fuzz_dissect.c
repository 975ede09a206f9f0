/* fuzz_dissect.c — libFuzzer target for the dispatcher (lib/dissect/
 * ni_dissect): the input is replayed as a TCP session on port 53 (so that
 * HTTP, TLS and DNS-over-TCP decisions are all reachable), with the
 * client→server and server→client bytes split at the first input byte and
 * delivered in small pieces, then as UDP datagrams on DNS, SSDP and QUIC
 * ports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_dissect.h"
#include "fuzz_stream.h"

static void session(ni_session *s, uint8_t proto, uint16_t cport, uint16_t sport)
{
    memset(s, 0, sizeof *s);
    s->proto = proto;
    s->client.family = s->server.family = 4;
    s->client.b[0] = 10; s->client.b[3] = 1;
    s->server.b[0] = 10; s->server.b[3] = 2;
    s->client_port = cport;
    s->server_port = sport;
    s->arena = ni_arena_new(NI_SESSION_ARENA_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    if (!dx) return 0;
    size_t cut = size ? (size_t)data[0] * size / 256 : 0;
    size_t step = size > 1 ? (size_t)(data[1 % size] & 63) + 1 : 1;

    static const uint16_t tcp_ports[] = {53, 80, 443};
    for (size_t i = 0; i < sizeof tcp_ports / sizeof tcp_ports[0]; i++) {
        ni_session s;
        ni_app_state st;
        session(&s, 6, 40000, tcp_ports[i]);
        if (!s.arena) break;
        memset(&st, 0, sizeof st);
        ni_dissect_session_start(dx, &s);
        fuzz_stream_feed(dx, &st, &s, 0, data, size, step);
        fuzz_stream_feed(dx, &st, &s, 1, data + cut, size - cut, step);
        fuzz_stream_feed(dx, &st, &s, 0, data, size, size ? size : 1);
        ni_app_state_release(&st);
        ni_arena_free(s.arena);
    }

    static const uint16_t udp_ports[] = {53, 5353, 1900, 443};
    for (size_t i = 0; i < sizeof udp_ports / sizeof udp_ports[0]; i++) {
        ni_session s;
        ni_app_state st;
        session(&s, 17, 50000, udp_ports[i]);
        if (!s.arena) break;
        memset(&st, 0, sizeof st);
        ni_dissect_session_start(dx, &s);
        ni_dissect_datagram(dx, &st, &s, 0, data, size, 1);
        ni_dissect_datagram(dx, &st, &s, 1, data + cut, size - cut, 2);
        ni_dissect_datagram(dx, &st, &s, 0, data, cut, 3);
        ni_app_state_release(&st);
        ni_arena_free(s.arena);
    }
    ni_dissect_free(dx);
    return 0;
}
