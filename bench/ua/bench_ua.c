/* bench_ua.c — throughput of lib/enrich/ni_ua (uap-core parse) and of the
 * verdicts on top, on the User-Agents of the uap-core fixture files:
 *   distinct   every UA once, cache off (each parse runs the regexes)
 *   repeated   a working set of 1,000 UAs parsed over and over, cache on
 *   noprefilt  distinct UAs with the literal prefilter off (for scale)
 * Verdicts run as a thread of the enrichment runs them (ni_uav_parse_in with
 * one scratch), twice: the first pass pays for compiling the rules each UA
 * is the first to need, the second is the steady state.
 * Also writes the distinct UAs, one per line, to OUT.txt so that other
 * parsers (bench/ua/peer.js: ua-parser-js) run on the same input.
 *   bench_ua REGEXES.yaml DATA_DIR OUT.txt FIXTURE.yaml... */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"
#include "core/ni_map.h"

/* CPU time of this process, not wall time: the machine may be shared */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char **uas; static size_t nuas, auas;

static void add(const char *s, ni_map *seen)
{
    if (ni_map_get(seen, s)) return;
    if (ni_map_put(seen, s, (void *)1) != NI_OK) return;
    if (nuas == auas) { auas = auas ? auas * 2 : 4096; uas = realloc(uas, auas * sizeof *uas); if (!uas) exit(1); }
    uas[nuas++] = strdup(s);
}

static void read_fixture(const char *path, ni_map *seen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return; }
    yaml_parser_t p; yaml_event_t e;
    yaml_parser_initialize(&p); yaml_parser_set_input_file(&p, f);
    int want = 0, done = 0;
    while (!done && yaml_parser_parse(&p, &e)) {
        if (e.type == YAML_SCALAR_EVENT) {
            const char *v = (const char *)e.data.scalar.value;
            if (want) add(v, seen);
            want = !strcmp(v, "user_agent_string");
        }
        done = e.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p); fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 5) { fprintf(stderr, "usage: bench_ua REGEXES.yaml DATA_DIR OUT.txt FIXTURE.yaml...\n"); return 2; }
    ni_map *seen = ni_map_new(1u << 20);
    for (int i = 4; i < argc; i++) read_fixture(argv[i], seen);
    FILE *o = fopen(argv[3], "w");
    if (!o) { perror(argv[3]); return 1; }
    for (size_t i = 0; i < nuas; i++) fprintf(o, "%s\n", uas[i]);
    fclose(o);
    ni_error err = { 0 };
    double t0 = now();
    ni_ua_db *db = ni_ua_db_load(argv[1], &err);
    if (!db) { fprintf(stderr, "%s\n", err.msg); return 1; }
    ni_ua_db_jit(db);                   /* bulk parsing: every rule JIT-compiled now */
    double tload = now() - t0;
    ni_uav *v = ni_uav_load(argv[2], &err);
    if (!v) { fprintf(stderr, "%s\n", err.msg); return 1; }
    ni_ua *nc = ni_ua_new(db, 0, &err), *c = ni_ua_new(db, 4096, &err), *np = ni_ua_new(db, 0, &err);
    ni_ua_set_prefilter(np, false);
    size_t sink = 0;

    t0 = now();
    for (size_t i = 0; i < nuas; i++) sink += strlen(ni_ua_parse(nc, uas[i], strlen(uas[i]))->browser.family);
    double tdist = now() - t0;

    ni_uav_scratch *sc = ni_uav_scratch_new(v, &err);
    if (!sc) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double tverd[2];
    for (int pass = 0; pass < 2; pass++) {
        t0 = now();
        for (size_t i = 0; i < nuas; i++) { ni_uav_verdict vd; ni_uav_parse_in(v, sc, nc, uas[i], strlen(uas[i]), NULL, &vd); sink += vd.reduced; }
        tverd[pass] = now() - t0;
    }
    ni_uav_scratch_free(sc);

    size_t ws = nuas < 1000 ? nuas : 1000, reps = 2000000;
    for (size_t i = 0; i < ws; i++) ni_ua_parse(c, uas[i], strlen(uas[i]));    /* warm */
    size_t *lens = malloc(ws * sizeof *lens);
    for (size_t i = 0; i < ws; i++) lens[i] = strlen(uas[i]);
    t0 = now();
    for (size_t i = 0; i < reps; i++) { size_t k = (i * 7919) % ws; sink += ni_ua_parse(c, uas[k], lens[k])->browser.family[0]; }
    double trep = now() - t0;

    size_t nnp = nuas < 3000 ? nuas : 3000;
    t0 = now();
    for (size_t i = 0; i < nnp; i++) sink += strlen(ni_ua_parse(np, uas[i], strlen(uas[i]))->browser.family);
    double tnp = now() - t0;

    ni_ua_stats s; ni_ua_get_stats(nc, &s);
    printf("netintel ni_ua: %zu rules loaded + JIT-compiled in %.3f CPU s\n",
           ni_ua_db_rules(db, 0) + ni_ua_db_rules(db, 1) + ni_ua_db_rules(db, 2), tload);
    printf("  distinct UAs (cache off)        %7zu UAs  %10.0f UA/s  (%.1f regexes tried per UA)\n",
           nuas, (double)nuas / tdist, (double)s.regex_tries / (double)s.parses);
    printf("  distinct UAs + verdicts         %7zu UAs  %10.0f UA/s  (first pass: rules compiled on first use)\n", nuas, (double)nuas / tverd[0]);
    printf("  the same again                  %7zu UAs  %10.0f UA/s  (steady state)\n", nuas, (double)nuas / tverd[1]);
    printf("  repeated UAs (1000, cache on)   %7zu UAs  %10.0f UA/s\n", reps, (double)reps / trep);
    printf("  distinct UAs, prefilter off     %7zu UAs  %10.0f UA/s\n", nnp, (double)nnp / tnp);
    fprintf(stderr, "(checksum %zu)\n", sink);
    ni_ua_free(nc); ni_ua_free(c); ni_ua_free(np); ni_ua_db_free(db); ni_uav_free(v);
    free(lens);
    for (size_t i = 0; i < nuas; i++) free(uas[i]);
    free(uas); ni_map_free(seen, NULL);
    return 0;
}
