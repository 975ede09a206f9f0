/* fuzz_ua.c — libFuzzer target for lib/enrich/ni_ua and ni_uaverdict: the
 * input is "USER-AGENT[\nPLATFORM\nPLATFORM-VERSION\nMODEL]" (bytes, NULs
 * allowed in the User-Agent).  Checks the contract: the parse with the
 * literal prefilter and cache equals the parse that tries every regex,
 * the verdicts (with node-device-detector's database, ni_devdet, where
 * uap-core has no real device) take only their documented values,
 * families are never NULL, every field fits NI_UA_FIELD_MAX, and the
 * verdicts take only their documented values, and verdicts made with one
 * scratch kept across inputs (ni_uav_scratch, as a thread of the enrichment
 * keeps it) equal those made with a fresh one.  The rules come from
 * $NETINTEL_DATA, else the data/ folder of the source tree whose
 * tests/fuzz/corpus/ is named on the command line, else ./data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/ni_limits.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The fuzzer process's one set of rules (test code: a static is fine). */
static ni_ua_db *db;
static ni_ua *fast, *slow;
static ni_uav *verdicts;
static ni_uav_scratch *scratch;
static char data_dir[1024] = "data";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *env = getenv("NETINTEL_DATA");
    if (env && *env) { snprintf(data_dir, sizeof data_dir, "%s", env); return 0; }
    for (int i = 1; i < *argc; i++) {
        const char *m = strstr((*argv)[i], "/tests/fuzz/corpus");
        if (m && m - (*argv)[i] < 900) {
            snprintf(data_dir, sizeof data_dir, "%.*s/data", (int)(m - (*argv)[i]), (*argv)[i]);
            break;
        }
    }
    return 0;
}

static void setup(void)
{
    const char *dir = data_dir;
    char p[1024];
    snprintf(p, sizeof p, "%s/ext/node_modules/uap-core/regexes.yaml", dir);
    ni_error err = { 0 };
    db = ni_ua_db_load(p, &err);
    if (db) { fast = ni_ua_new(db, 64, &err); slow = ni_ua_new(db, 0, &err); }
    if (db) verdicts = ni_uav_load(dir, &err);
    if (verdicts) scratch = ni_uav_scratch_new(verdicts, &err);
    if (!db || !fast || !slow || !verdicts || !scratch) { fprintf(stderr, "fuzz_ua: %s\n", err.msg); abort(); }
    ni_ua_set_prefilter(slow, false);
}

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void check_fields(const ni_ua_result *r)
{
    const char *const *f = (const char *const *)r;
    for (size_t i = 0; i < sizeof *r / sizeof(char *); i++)
        if (f[i] && strlen(f[i]) >= NI_UA_FIELD_MAX) abort();
    if (!r->browser.family || !r->os.family || !r->device.family) abort();
}

static int one_of(const char *s, const char *const *set)
{
    if (!s) return 0;
    for (; *set; set++) if (!strcmp(s, *set)) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) setup();
    char *p = malloc(size + 1);                 /* exactly sized (plus a NUL for the hints) */
    if (!p) return 0;
    memcpy(p, data, size);
    p[size] = 0;
    char *nl = memchr(p, '\n', size);
    size_t ualen = nl ? (size_t)(nl - p) : size;
    ni_uav_hints h = { 0 };
    if (nl) {
        *nl = 0;
        h.platform = nl + 1;
        char *q = strchr(h.platform, '\n');
        if (q) { *q = 0; h.platform_version = q + 1; q = strchr(h.platform_version, '\n'); }
        if (q) { *q = 0; h.model = q + 1; }
    }
    ni_ua_result a = *ni_ua_parse(fast, p, ualen);
    char keep[13][NI_UA_FIELD_MAX];
    const char **fa = (const char **)&a;
    for (int i = 0; i < 13; i++) if (fa[i]) { snprintf(keep[i], sizeof keep[i], "%s", fa[i]); fa[i] = keep[i]; }
    check_fields(&a);
    const ni_ua_result *b = ni_ua_parse(slow, p, ualen);
    check_fields(b);
    const char *const *fb = (const char *const *)b;
    for (int i = 0; i < 13; i++) if (!same(fa[i], fb[i])) abort();

    static const char *const forms[] = { "mobile", "tablet", "desktop", "console", "tv", "bot", "other", NULL };
    static const char *const kinds[] = { "browser", "app", "system", "bot", "tool", "other", NULL };
    ni_uav_verdict v;
    ni_uav_parse(verdicts, fast, p, ualen, &h, &v);
    if (!one_of(v.form_factor, forms) || !one_of(v.kind, kinds)) abort();
    if (v.model && strlen(v.model) >= NI_UA_FIELD_MAX) abort();
    /* the device database that decided (ni_devdet is reached through here) */
    static const char *const sources[] = { "uap-core", "device-detector", NULL };
    if (v.device_source && !one_of(v.device_source, sources)) abort();
    if (!v.device_source && (v.maker || v.model)) abort();
    ni_uav_verdict w;
    ni_uav_decide_in(verdicts, scratch, p, ualen, v.ua, &h, &w);
    if (!same(v.maker, w.maker) || !same(v.model, w.model) || !same(v.form_factor, w.form_factor) ||
        !same(v.kind, w.kind) || !same(v.windows_version, w.windows_version) || v.reduced != w.reduced ||
        !same(v.device_source, w.device_source) || !same(v.os, w.os) || !same(v.os_detail, w.os_detail) ||
        strcmp(v.dd.brand, w.dd.brand) || strcmp(v.dd.model, w.dd.model) || strcmp(v.dd.type, w.dd.type))
        abort();
    free(p);
    return 0;
}
