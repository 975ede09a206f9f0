/* fuzz_zeek.c — libFuzzer target for the Zeek log reader (lib/ingest/ni_zeek):
 * the input is cut at NUL bytes into up to seven logs written into a fresh
 * directory as conn.log, http.log, ssl.log, dns.log, x509.log, quic.log and
 * software.log (TSV or JSON lines, gzip when a piece starts with its magic),
 * which is read as one input to its end: every session must have addresses,
 * the problem line must be one line, and the reader must stop. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ni_zeek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "conn.log", "http.log", "ssl.log", "dns.log", "x509.log",
                                         "quic.log", "software.log" };
    char dir[64], p[128];
    snprintf(dir, sizeof dir, "/tmp/ni-fuzz-zeek-%ld", (long)getpid());
    mkdir(dir, 0700);
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= size && k < sizeof names / sizeof names[0]; i++) {
        if (i < size && data[i] != 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, names[k++]);
        FILE *f = fopen(p, "wb");
        if (f) { fwrite(data + start, 1, i - start, f); fclose(f); }
        start = i + 1;
    }
    ni_error err = {0};
    ni_zeek *z = ni_zeek_open(dir, &err);
    if (z) {
        ni_session s;
        int r, n = 0;
        while ((r = ni_zeek_next(z, &s, &err)) > 0 && n < 1000000) {
            if ((s.client.family != 4 && s.client.family != 6) || (s.server.family != 4 && s.server.family != 6)) abort();
            n++;
        }
        if (r > 0 || (r < 0 && (!err.msg[0] || strchr(err.msg, '\n')))) abort();
        ni_zeek_close(z);
    }
    for (size_t i = 0; i < k; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}
