/* fuzz_http.c — libFuzzer target for the HTTP/1.x request dissector
 * (lib/dissect/ni_http): the input is parsed as one request head and as a
 * client→server stream delivered in pieces whose sizes come from the first
 * input byte, the way the flow table presents stream bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    if (!s.arena) return 0;
    ni_http_body body;
    uint64_t blen;
    size_t head = ni_http_head_len(data, size);
    ni_http_parse_request(&s, data, head ? head : size, false, &body, &blen);
    ni_http_parse_request(&s, data, size, true, &body, &blen);
    ni_arena_free(s.arena);

    /* the stream, in pieces of 1..256 bytes */
    memset(&s, 0, sizeof s);
    s.arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    if (!s.arena) return 0;
    size_t step = size ? (size_t)data[0] + 1 : 1;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) { ni_arena_free(s.arena); return 0; }
    ni_app_state st;
    memset(&st, 0, sizeof st);
    ni_http_counts cnt = {0, 0};
    size_t have = 0, pos = 0;
    while (pos < size && !st.done[0]) {
        size_t k = size - pos < step ? size - pos : step;
        memcpy(buf + have, data + pos, k);
        have += k;
        pos += k;
        size_t used = ni_http_stream(&st, &s, buf, have, &cnt);
        if (used > have) abort();                    /* contract: never more than given */
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    for (const ni_http_req *r = s.http; r; r = r->next)
        if (!r->method || !r->path) abort();         /* every request has both */
    free(buf);
    ni_arena_free(s.arena);
    return 0;
}
