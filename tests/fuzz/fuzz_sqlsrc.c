/* fuzz_sqlsrc.c — libFuzzer target for the SQLite sessions reader
 * (lib/ingest/ni_sqlsrc): the input is written as a database file and read
 * back to its end or its first error (damaged pages, a table that is not
 * netintel's, values of the wrong kind). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ingest/ni_sqlsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ni-fuzz-sqlsrc-%ld.sqlite", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ni_error err = {0};
    (void)ni_sqlsrc_probe(path);
    ni_sqlsrc *q = ni_sqlsrc_open(path, &err);
    if (q) {
        ni_session s;
        int r, n = 0;
        while ((r = ni_sqlsrc_next(q, &s, &err)) > 0 && n < 100000) {
            if (s.client.family != 4 && s.client.family != 6) abort();
            n++;
        }
        if (r < 0 && !err.msg[0]) abort();      /* an error always says what */
        ni_sqlsrc_close(q);
    }
    unlink(path);
    /* a read-only reader may leave SQLite's side files of a WAL database */
    char side[80];
    snprintf(side, sizeof side, "%s-wal", path); unlink(side);
    snprintf(side, sizeof side, "%s-shm", path); unlink(side);
    return 0;
}
