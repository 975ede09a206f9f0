/* fuzz_stored.c — libFuzzer target for the stored-sessions reader
 * (lib/ingest/ni_stored): the input is written as a JSON Lines file and
 * read back to its end or its first bad line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ingest/ni_stored.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ni-fuzz-stored-%ld.jsonl", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ni_error err = {0};
    ni_stored *st = ni_stored_open(path, &err);
    if (st) {
        ni_session s;
        int r, n = 0;
        while ((r = ni_stored_next(st, &s, &err)) > 0 && n < 100000) {
            if (s.client.family != 4 && s.client.family != 6) abort();
            n++;
        }
        ni_stored_close(st);
    }
    unlink(path);
    return 0;
}
