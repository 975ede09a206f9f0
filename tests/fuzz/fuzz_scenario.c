/* fuzz_scenario.c — libFuzzer target for the scenario reader
 * (lib/synth/ni_synth): the input is written as a scenario file and
 * loaded; a scenario that loads must name a target and a time zone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "synth/ni_synth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ni-fuzz-scn-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ni_error err = {0};
    ni_scenario *sc = ni_scenario_load(path, &err);
    if (sc) {
        if (!ni_scenario_target(sc)[0] || !ni_scenario_timezone(sc)[0]) abort();
        ni_scenario_free(sc);
    }
    unlink(path);
    return 0;
}
