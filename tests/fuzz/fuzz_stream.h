/* fuzz_stream.h — for the fuzz targets that drive the stream dissectors
 * (fuzz_dissect, fuzz_proxy): replays n bytes of one direction of a TCP
 * stream in pieces of `step`, keeping what the dissector did not consume,
 * as the flow layer's reassembly does.  Aborts if the dissector claims more
 * than it was given (the fuzzer reports it). */
#ifndef NI_FUZZ_STREAM_H
#define NI_FUZZ_STREAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/ni_dissect.h"

static inline void fuzz_stream_feed(ni_dissect *dx, ni_app_state *st, ni_session *s, int dir,
                                    const uint8_t *p, size_t n, size_t step)
{
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return;
    size_t have = 0, pos = 0;
    while (pos < n && !st->done[dir]) {
        size_t k = n - pos < step ? n - pos : step;
        memcpy(buf + have, p + pos, k);
        have += k;
        pos += k;
        size_t used = ni_dissect_stream(dx, st, s, dir, buf, have, 0);
        if (used > have) abort();
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    free(buf);
}

#endif
