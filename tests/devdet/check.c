/* check.c — the netintel side of the device-detector oracle suite: parses
 * every distinct User-Agent of the uap-core fixture files named on the
 * command line with the full User-Agent verdict (uap-core, then
 * node-device-detector's database where uap-core gives a generic device:
 * lib/enrich/ni_uaverdict, ni_devdet) and writes, for each one whose device
 * verdict came from device-detector's data, a line
 *     USER-AGENT \t BRAND \t MODEL \t TYPE
 * (the database's answer netintel used) to OUT.tsv, for oracle.js to compare
 * with node-device-detector itself.  It also parses each of those with the
 * literal prefilter off: the answers must be identical.
 *
 *   check DATA_DIR OUT.tsv FIXTURE.yaml...
 * prints counts and "devdet-prefilter: N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "core/ni_map.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: check DATA_DIR OUT.tsv FIXTURE.yaml...\n"); return 2; }
    ni_error err = { 0 };
    char path[4096];
    snprintf(path, sizeof path, "%s/ext/node_modules/uap-core/regexes.yaml", argv[1]);
    ni_ua_db *db = ni_ua_db_load(path, &err);
    ni_uav *v = db ? ni_uav_load(argv[1], &err) : NULL;
    ni_ua *u = v ? ni_ua_new(db, 4096, &err) : NULL;
    if (!u) { fprintf(stderr, "check: %s\n", err.msg); printf("devdet-prefilter: 0 passed, 1 failed\n"); return 1; }
    FILE *out = fopen(argv[2], "w");
    if (!out) { perror(argv[2]); printf("devdet-prefilter: 0 passed, 1 failed\n"); return 1; }
    ni_map *seen = ni_map_new(1u << 20);
    long total = 0, skipped = 0, from_dd = 0, from_uap = 0, none = 0, pf_diff = 0;
    for (int a = 3; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f) { fprintf(stderr, "check: %s: cannot open\n", argv[a]); printf("devdet-prefilter: 0 passed, 1 failed\n"); return 1; }
        yaml_parser_t p; yaml_document_t d;
        yaml_parser_initialize(&p); yaml_parser_set_input_file(&p, f);
        int ok = yaml_parser_load(&p, &d);
        yaml_parser_delete(&p); fclose(f);
        if (!ok) { fprintf(stderr, "check: %s: YAML error\n", argv[a]); printf("devdet-prefilter: 0 passed, 1 failed\n"); return 1; }
        yaml_node_t *root = yaml_document_get_root_node(&d), *cases = NULL;
        if (root && root->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(&d, pr->key);
                if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, "test_cases"))
                    cases = yaml_document_get_node(&d, pr->value);
            }
        for (yaml_node_item_t *it = cases && cases->type == YAML_SEQUENCE_NODE ? cases->data.sequence.items.start : NULL;
             it && it < cases->data.sequence.items.top; it++) {
            yaml_node_t *c = yaml_document_get_node(&d, *it);
            if (!c || c->type != YAML_MAPPING_NODE) continue;
            const char *ua = NULL;
            for (yaml_node_pair_t *pr = c->data.mapping.pairs.start; pr < c->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(&d, pr->key), *val = yaml_document_get_node(&d, pr->value);
                if (k && val && k->type == YAML_SCALAR_NODE && val->type == YAML_SCALAR_NODE &&
                    !strcmp((char *)k->data.scalar.value, "user_agent_string"))
                    ua = (const char *)val->data.scalar.value;
            }
            if (!ua || ni_map_get(seen, ua)) continue;
            ni_map_put(seen, ua, (void *)1);
            total++;
            if (strpbrk(ua, "\t\r\n")) { skipped++; continue; }   /* not one TSV line */
            ni_uav_verdict vd;
            ni_uav_parse(v, u, ua, strlen(ua), NULL, &vd);
            if (!vd.device_source) { none++; continue; }
            if (strcmp(vd.device_source, "device-detector")) { from_uap++; continue; }
            from_dd++;
            fprintf(out, "%s\t%s\t%s\t%s\n", ua, vd.dd.brand, vd.dd.model, vd.dd.type);
            ni_devdet_result slow;
            ni_devdet_parse_ex(ni_uav_devdet(v), ua, strlen(ua), NULL, NULL, false, &slow);
            if (strcmp(slow.brand, vd.dd.brand) || strcmp(slow.model, vd.dd.model) || strcmp(slow.type, vd.dd.type)) {
                if (pf_diff++ < 3) fprintf(stderr, "  prefilter changed the answer: %s\n", ua);
            }
        }
        yaml_document_delete(&d);
    }
    fclose(out);
    printf("distinct User-Agents %ld (%ld not one line): device from device-detector %ld, from uap-core %ld, none %ld\n",
           total, skipped, from_dd, from_uap, none);
    printf("prefilter on/off differences: %ld\n", pf_diff);
    printf("devdet-prefilter: %d passed, %d failed\n", pf_diff == 0 && from_dd > 0, !(pf_diff == 0 && from_dd > 0));
    ni_map_free(seen, NULL);
    ni_ua_free(u); ni_uav_free(v); ni_ua_db_free(db);
    return pf_diff ? 1 : 0;
}
