/* fuzz_chrows.c — libFuzzer target for the ClickHouse row stream parser
 * (lib/ingest/ni_chsrc: TabSeparatedWithNamesAndTypes as a server sends
 * it): the input is fed in pieces of varying size, as curl's write
 * callback delivers it, and every record it yields must be one JSON line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ni_chsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_ch_rows *r = ni_ch_rows_new();
    if (!r) return 0;
    ni_buf out;
    ni_buf_init(&out, 1u << 24);
    ni_error err = {0};
    ni_err e = NI_OK;
    size_t off = 0, step = size ? (size_t)data[0] % 97 + 1 : 1;
    while (off < size && !e) {
        size_t n = size - off < step ? size - off : step;
        e = ni_ch_rows_feed(r, (const char *)data + off, n, &out, &err);
        off += n;
        step = step * 7 % 113 + 1;
        /* each record is a line holding no raw newline */
        if (out.len && out.p[out.len - 1] != '\n') abort();
        ni_buf_clear(&out);
    }
    if (!e) e = ni_ch_rows_end(r, &err);
    if (e && !err.msg[0]) abort();      /* an error always says what */
    ni_ch_rows_free(r);
    ni_buf_release(&out);
    return 0;
}
