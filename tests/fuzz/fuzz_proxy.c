/* fuzz_proxy.c — libFuzzer target for the proxy preambles (lib/dissect/
 * ni_proxy): the input is read as a client request (SOCKS 4/4A/5), as each
 * kind of server reply, and then as a whole session through the content
 * dissectors — client bytes up to the split given by the first input byte,
 * the rest as the server's — delivered in pieces, the way the flow table
 * presents stream bytes.  Contract checks: never more bytes consumed than
 * given, the destination always NUL-terminated within its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_dissect.h"
#include "fuzz_stream.h"
#include "dissect/ni_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dest[NI_PROXY_DEST_MAX];
    ni_proxy_kind kind = NI_PROXY_NONE;
    size_t used = 0;
    (void)ni_proxy_probe(data, size);
    if (ni_proxy_client(data, size, &kind, dest, sizeof dest, &used) == NI_PROXY_DONE &&
        (used > size || memchr(dest, 0, sizeof dest) == NULL))
        abort();
    for (int k = NI_PROXY_NONE; k < NI_PROXY__COUNT; k++) {
        ni_proxy_server((ni_proxy_kind)k, data, size, &used);
        if (used > size) abort();
    }

    ni_stats stats;
    memset(&stats, 0, sizeof stats);
    ni_dissect *dx = ni_dissect_new(&stats);
    if (!dx) return 0;
    ni_session s;
    memset(&s, 0, sizeof s);
    s.proto = 6;
    s.client.family = s.server.family = 4;
    s.client.b[0] = 10; s.server.b[0] = 192;
    s.client_port = 40000; s.server_port = 1080;
    s.arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    if (!s.arena) { ni_dissect_free(dx); return 0; }
    ni_app_state st;
    memset(&st, 0, sizeof st);
    size_t split = size ? (size_t)data[0] * 4 : 0;
    if (split > size) split = size;
    size_t step = size > 1 ? (size_t)(data[1] & 31) + 1 : 1;
    fuzz_stream_feed(dx, &st, &s, 0, data, split, step);
    fuzz_stream_feed(dx, &st, &s, 1, data + split, size - split, step);
    if (s.proxy_dest && s.proxy == NI_PROXY_NONE) abort();      /* a destination without a proxy */
    ni_app_state_release(&st);
    ni_arena_free(s.arena);
    ni_dissect_free(dx);
    return 0;
}
