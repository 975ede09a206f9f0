/* fuzz_tz.c — libFuzzer target for the TZif reader (lib/analyze/ni_tz):
 * the input is written as a zone file under a private TZDIR and loaded; a
 * zone that loads is then asked for offsets across four centuries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/ni_tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/ni-fuzz-tz-XXXXXX");
        if (!mkdtemp(dir)) { dir[0] = 0; return 0; }
        setenv("TZDIR", dir, 1);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/Fuzz", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Fuzz", &err);
    if (tz) {
        ni_localtime lt;
        for (int64_t y = -20; y < 400; y += 7) {
            int64_t us = y * 365 * 86400LL * 1000000LL;
            ni_tz_local(tz, us, &lt);
            if (lt.hour < 0 || lt.hour > 23 || lt.weekday < 0 || lt.weekday > 6) abort();
        }
        ni_tz_free(tz);
    }
    return 0;
}
