/* fuzz_mmdb.c — libFuzzer target for lib/enrich/ni_geo and ni_asn's MaxMind
 * DB loading: the input is a whole .mmdb file, handed over through a memfd
 * (/proc/self/fd/N) because libmaxminddb opens files by path.  Checks the
 * contract: a file is either refused with NI_ERR_DATA/NI_ERR_IO and a
 * message naming it, or it answers lookups, a full network walk, a country
 * enumeration and an ASN load without a crash and with NI_OK/NI_ERR_DATA. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "enrich/ni_asn.h"
#include "enrich/ni_geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ni_err net(void *ud, const ni_addr *a, unsigned len, const ni_geo_record *rec)
{
    char cc[3], s[64];
    static const char *const p[] = { "ip", NULL };
    if ((a->family != 4 && a->family != 6) || len > (a->family == 4 ? 32u : 128u)) abort();
    if (ni_geo_record_country(rec, cc) == 1 && strlen(cc) != 2) abort();
    if (ni_geo_record_string(rec, p, s, sizeof s) == 1 && strlen(s) >= sizeof s) abort();
    ++*(size_t *)ud;
    return NI_OK;
}

static ni_err cnet(void *ud, const ni_addr *a, unsigned len)
{
    (void)a; (void)len;
    ++*(size_t *)ud;
    return NI_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.mmdb", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(path, 0, &err);
    if (!g) {
        if (!strstr(err.msg, path) || (err.code != NI_ERR_DATA && err.code != NI_ERR_IO)) abort();
        close(fd);
        return 0;
    }
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t v = i * 67108879u;
        ni_addr a = { .family = (uint8_t)(i & 1 ? 6 : 4),
                      .b = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v } };
        ni_geo_result r;
        ni_err e = ni_geo_lookup(g, &a, &r, &err);
        if (e != NI_OK && e != NI_ERR_DATA) abort();
        if (e == NI_OK && r.found && r.prefix_len > (a.family == 4 ? 32u : 128u)) abort();
    }
    size_t n = 0;
    ni_err e = ni_geo_each_network(g, net, &n, &err);
    if (e != NI_OK && e != NI_ERR_DATA) abort();
    e = ni_geo_country_prefixes(g, "GB", cnet, &n, &err);
    if (e != NI_OK && e != NI_ERR_DATA) abort();
    ni_geo_free(g);
    ni_asn *as = ni_asn_load_mmdb(path, &err);
    ni_asn_free(as);
    close(fd);
    return 0;
}
