/* check.c — the uap-core fixture suite: parses every fixture file of
 * tests/corpus/uap (format: that folder's README; uap-core 0.18.0
 * tests/test_ua.yaml, tests/test_os.yaml, tests/test_device.yaml and
 * test_resources/ *.yaml) with lib/enrich/ni_ua and compares the component
 * each file tests, as uap-core's own harness does: browser family, major,
 * minor, patch (not patch_minor); OS family, major, minor, patch,
 * patch_minor; device family, brand, model.  A file passes at >= 99.5% exact
 * agreement.  Every User-Agent is also parsed with the literal prefilter off
 * and without the cache: all three results must be identical (all fields).
 *
 *   check REGEXES.yaml FIXTURE.yaml...      prints "uap: N passed, N failed" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>
#include "enrich/ni_ua.h"

#define SHOW_FAILURES 5

static const char *sc(yaml_document_t *d, int id)
{
    yaml_node_t *n = yaml_document_get_node(d, id);
    if (!n || n->type != YAML_SCALAR_NODE) return NULL;
    /* a plain empty scalar or ~ / null is YAML null */
    const char *v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL")))
        return NULL;
    return v;
}

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static int same_result(const ni_ua_result *a, const ni_ua_result *b)
{
    const char *const *x = (const char *const *)a, *const *y = (const char *const *)b;
    for (size_t i = 0; i < sizeof *a / sizeof(char *); i++) if (!same(x[i], y[i])) return 0;
    return 1;
}

static ni_ua_result copy_result(const ni_ua_result *r, char *store, size_t cap)
{
    ni_ua_result c = *r;
    const char **f = (const char **)&c;
    size_t o = 0;
    for (size_t i = 0; i < sizeof c / sizeof(char *); i++) {
        if (!f[i]) continue;
        size_t n = strlen(f[i]) + 1;
        if (o + n > cap) { f[i] = "(too long)"; continue; }
        memcpy(store + o, f[i], n); f[i] = store + o; o += n;
    }
    return c;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: check REGEXES.yaml FIXTURE.yaml...\n"); return 2; }
    ni_error err = { 0 };
    clock_t t0 = clock();
    ni_ua_db *db = ni_ua_db_load(argv[1], &err);
    if (!db) { fprintf(stderr, "check: %s\n", err.msg); printf("uap: 0 passed, 1 failed\n"); return 1; }
    printf("rules: browser %zu (%zu without literal), os %zu (%zu), device %zu (%zu); loaded in %.2f s\n",
           ni_ua_db_rules(db, 0), ni_ua_db_unfiltered(db, 0), ni_ua_db_rules(db, 1), ni_ua_db_unfiltered(db, 1),
           ni_ua_db_rules(db, 2), ni_ua_db_unfiltered(db, 2), (double)(clock() - t0) / CLOCKS_PER_SEC);
    ni_ua *fast = ni_ua_new(db, 4096, &err), *slow = ni_ua_new(db, 0, &err);
    if (!fast || !slow) { fprintf(stderr, "check: %s\n", err.msg); return 1; }
    ni_ua_set_prefilter(slow, false);
    int passed = 0, failed = 0;
    uint64_t total_cases = 0, total_diff = 0;
    static char store[1 << 16];
    for (int a = 2; a < argc; a++) {
        const char *path = argv[a];
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;   /* not the directories */
        int comp = strstr(base, "device") ? 2 : strstr(base, "_os") ? 1 : 0;
        FILE *f = fopen(path, "rb");
        if (!f) { printf("%s: cannot open\n", path); failed++; continue; }
        yaml_parser_t p; yaml_document_t d;
        yaml_parser_initialize(&p); yaml_parser_set_input_file(&p, f);
        if (!yaml_parser_load(&p, &d)) {
            printf("%s: YAML error line %zu\n", path, (size_t)p.problem_mark.line + 1);
            yaml_parser_delete(&p); fclose(f); failed++; continue;
        }
        yaml_parser_delete(&p); fclose(f);
        yaml_node_t *root = yaml_document_get_root_node(&d), *cases = NULL;
        if (root && root->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
                const char *k = sc(&d, pr->key);
                if (k && !strcmp(k, "test_cases")) cases = yaml_document_get_node(&d, pr->value);
            }
        if (!cases || cases->type != YAML_SEQUENCE_NODE) { printf("%s: no test_cases\n", path); yaml_document_delete(&d); failed++; continue; }
        long n = 0, ok = 0, diff = 0, shown = 0;
        for (yaml_node_item_t *it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
            yaml_node_t *c = yaml_document_get_node(&d, *it);
            if (!c || c->type != YAML_MAPPING_NODE) continue;
            const char *ua = NULL, *want[5] = { 0 };
            static const char *const keys[3][5] = {
                { "family", "major", "minor", "patch", NULL },
                { "family", "major", "minor", "patch", "patch_minor" },
                { "family", "brand", "model", NULL, NULL },
            };
            for (yaml_node_pair_t *pr = c->data.mapping.pairs.start; pr < c->data.mapping.pairs.top; pr++) {
                const char *k = sc(&d, pr->key);
                if (!k) continue;
                if (!strcmp(k, "user_agent_string")) ua = sc(&d, pr->value);
                for (int i = 0; i < 5; i++) if (keys[comp][i] && !strcmp(k, keys[comp][i])) want[i] = sc(&d, pr->value);
            }
            if (!ua) ua = "";
            n++;
            size_t len = strlen(ua);
            ni_ua_result r1 = copy_result(ni_ua_parse(fast, ua, len), store, sizeof store / 2);
            ni_ua_result r2 = copy_result(ni_ua_parse(slow, ua, len), store + sizeof store / 2, sizeof store / 2);
            const ni_ua_result *r3 = ni_ua_parse(fast, ua, len);   /* from the cache */
            if (!same_result(&r1, &r2) || !same_result(&r1, r3)) {
                diff++;
                if (diff <= 3) fprintf(stderr, "  prefilter/cache changed the result: %s\n", ua);
            }
            const char *got[5];
            if (comp == 2) { got[0] = r1.device.family; got[1] = r1.device.brand; got[2] = r1.device.model; got[3] = got[4] = NULL; }
            else {
                const ni_ua_agent *g = comp == 0 ? &r1.browser : &r1.os;
                got[0] = g->family; got[1] = g->major; got[2] = g->minor; got[3] = g->patch; got[4] = g->patch_minor;
            }
            int good = 1;
            for (int i = 0; i < 5; i++) if (keys[comp][i] && !same(got[i], want[i])) good = 0;
            if (good) { ok++; continue; }
            if (shown++ < SHOW_FAILURES) {
                fprintf(stderr, "  %s: %s\n", path, ua);
                for (int i = 0; i < 5; i++)
                    if (keys[comp][i] && !same(got[i], want[i]))
                        fprintf(stderr, "      %s: got %s%s%s, expected %s%s%s\n", keys[comp][i],
                                got[i] ? "'" : "", got[i] ? got[i] : "null", got[i] ? "'" : "",
                                want[i] ? "'" : "", want[i] ? want[i] : "null", want[i] ? "'" : "");
            }
        }
        yaml_document_delete(&d);
        double pct = n ? 100.0 * (double)ok / (double)n : 0;
        int pass = n > 0 && ok * 1000 >= n * 995 && diff == 0;
        printf("%-60s %6ld/%-6ld %7.3f%%  prefilter/cache differences %ld  %s\n", path, ok, n, pct, diff,
               pass ? "PASS" : "FAIL");
        total_cases += (uint64_t)n; total_diff += (uint64_t)diff;
        if (pass) passed++; else failed++;
    }
    ni_ua_stats s1, s2;
    ni_ua_get_stats(fast, &s1); ni_ua_get_stats(slow, &s2);
    printf("regexes tried per parse: %.1f with the prefilter, %.1f without; cache hits %llu of %llu; match errors %llu\n",
           s1.parses - s1.cache_hits ? (double)s1.regex_tries / (double)(s1.parses - s1.cache_hits) : 0.0,
           s2.parses ? (double)s2.regex_tries / (double)s2.parses : 0.0,
           (unsigned long long)s1.cache_hits, (unsigned long long)s1.parses,
           (unsigned long long)(s1.match_errors + s2.match_errors));
    printf("cases %llu, prefilter/cache differences %llu\n", (unsigned long long)total_cases, (unsigned long long)total_diff);
    ni_ua_free(fast); ni_ua_free(slow); ni_ua_db_free(db);
    printf("uap: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
