/* check.c — the mmdb suite's checker (run by tests/mmdb/run under
 * AddressSanitizer + UndefinedBehaviorSanitizer): for one MaxMind DB file,
 * the verdict of ni_geo_open must be the expected one (refused for the
 * corpus's corrupt files, accepted for the others), and for an accepted file
 * every deterministic mutant (bytes overwritten, file truncated) must be
 * either refused with a message naming the file or answer every lookup,
 * network walk and ASN load cleanly (NI_OK / NI_ERR_DATA), without a crash.
 *
 *   check accept|refuse FILE [MUTANTS]
 * Prints one line and exits 0 when the file behaved, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "enrich/ni_asn.h"
#include "enrich/ni_geo.h"

static ni_err count_net(void *ud, const ni_addr *a, unsigned len, const ni_geo_record *rec)
{
    (void)a; (void)len;
    char cc[3];
    ni_geo_record_country(rec, cc);
    ++*(size_t *)ud;
    return NI_OK;
}

/* Exercises an accepted database; returns false on a contract violation. */
static bool exercise(ni_geo *g, const char *path)
{
    bool ok = true;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t v = i * 16777259u;
        ni_addr a = { .family = 4, .b = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v } };
        if (i & 1) { a.family = 6; a.b[4] = (uint8_t)i; a.b[0] = 0x20; a.b[1] = (uint8_t)(i >> 1); }
        ni_geo_result r;
        ni_error err = { 0 };
        ni_err e = ni_geo_lookup(g, &a, &r, &err);
        if (e != NI_OK && e != NI_ERR_DATA) ok = false;
        if (e == NI_ERR_DATA && !strstr(err.msg, path)) ok = false;
        static const char *const p_ip[] = { "ip", NULL };
        char buf[64];
        ni_geo_lookup_string(g, &a, p_ip, buf, sizeof buf, &err);
    }
    size_t n = 0;
    ni_error err = { 0 };
    ni_err e = ni_geo_each_network(g, count_net, &n, &err);
    if (e != NI_OK && e != NI_ERR_DATA) ok = false;
    ni_asn *as = ni_asn_load_mmdb(path, &err);
    ni_asn_free(as);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: check accept|refuse FILE [MUTANTS]\n"); return 2; }
    bool want_accept = !strcmp(argv[1], "accept");
    const char *path = argv[2];
    int mutants = argc > 3 ? atoi(argv[3]) : 0;
    ni_error err = { 0 };
    ni_geo *g = ni_geo_open(path, 0, &err);
    if (!g != !want_accept) {
        printf("%s: FAILED (%s, expected %s)\n", path, g ? "accepted" : err.msg, argv[1]);
        ni_geo_free(g);
        return 1;
    }
    if (!g) {
        bool named = strstr(err.msg, path) != NULL && err.code == NI_ERR_DATA;
        printf("%s: %s (%s)\n", path, named ? "ok" : "FAILED", err.msg);
        return named ? 0 : 1;
    }
    bool ok = exercise(g, path);
    ni_geo_free(g);
    /* mutants */
    FILE *fp = fopen(path, "rb");
    if (!fp) { printf("%s: FAILED (cannot reread)\n", path); return 1; }
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *orig = malloc((size_t)size), *buf = malloc((size_t)size);
    if (!orig || !buf || fread(orig, 1, (size_t)size, fp) != (size_t)size) { printf("%s: FAILED (read)\n", path); return 1; }
    fclose(fp);
    char tmp[] = "/tmp/mmdb_mutant_XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) { printf("%s: FAILED (mkstemp)\n", path); return 1; }
    close(fd);
    uint64_t rng = 0x243f6a8885a308d3ull ^ (uint64_t)size;
    int refused = 0, accepted = 0;
    for (int m = 0; m < mutants && ok; m++) {
        memcpy(buf, orig, (size_t)size);
        size_t len = (size_t)size;
        int kind = m % 4;
        int flips = 1 + m % 3;
        for (int f = 0; f < flips; f++) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            size_t pos = (size_t)(rng % (uint64_t)size);
            if (kind == 0) buf[pos] ^= (uint8_t)(1u << (rng >> 40) % 8);        /* bit flip */
            else if (kind == 1) buf[pos] = 0xff;
            else if (kind == 2) buf[pos] = (uint8_t)(rng >> 32);
            else len = pos;                                                    /* truncate */
        }
        FILE *o = fopen(tmp, "wb");
        if (!o) { ok = false; break; }
        fwrite(buf, 1, len, o);
        fclose(o);
        ni_error e2 = { 0 };
        ni_geo *mg = ni_geo_open(tmp, 0, &e2);
        if (!mg) {
            refused++;
            if (!strstr(e2.msg, tmp)) { ok = false; printf("  mutant %d: message does not name the file: %s\n", m, e2.msg); }
            continue;
        }
        accepted++;
        if (!exercise(mg, tmp)) { ok = false; printf("  mutant %d: contract violated\n", m); }
        ni_geo_free(mg);
    }
    unlink(tmp);
    free(orig);
    free(buf);
    printf("%s: %s (accepted; %d mutants refused, %d accepted and answered cleanly)\n", path,
           ok ? "ok" : "FAILED", refused, accepted);
    return ok ? 0 : 1;
}
