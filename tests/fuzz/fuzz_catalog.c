/* fuzz_catalog.c — libFuzzer target for the catalogue loaders
 * (lib/enrich/ni_tsv, ni_catalog): the input is written as a services.tsv
 * and as a vpn.tsv and loaded; what loads is then queried with names and
 * addresses taken from the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enrich/ni_catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ni-fuzz-cat-%ld.tsv", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    for (int kind = 0; kind < 2; kind++) {
        ni_catalog *c = ni_catalog_new();
        if (!c) break;
        ni_error err = {0};
        ni_err e = kind ? ni_catalog_load_vpn(c, path, &err) : ni_catalog_load_services(c, path, &err);
        if (!e) {
            char name[256];
            size_t n = size < sizeof name - 1 ? size : sizeof name - 1;
            memcpy(name, data, n);
            name[n] = 0;
            (void)ni_catalog_service_domain(c, name);
            (void)ni_catalog_vpn_domain(c, name);
            ni_addr a = {0};
            a.family = 4;
            memcpy(a.b, data, size < 4 ? size : 4);
            (void)ni_catalog_service_addr(c, &a);
        }
        ni_catalog_free(c);
    }
    unlink(path);
    return 0;
}
