/* cmd_lookup.c — `netintel lookup`: answers questions about single items.
 *
 *   netintel lookup --ua [options] < user-agents.txt
 *       one User-Agent per line in, one JSON object per line out:
 *       {"user_agent", "browser": {family, major, minor, patch, patch_minor},
 *        "os": {same}, "device": {family, brand, model}  — as uap-core
 *        defines them, null when absent — then netintel's verdicts: maker,
 *        model, form_factor, kind, windows_version, reduced}.
 *   netintel lookup ADDRESS|DOMAIN...
 *       (address and domain lookups: not available yet)
 *
 * Data directory: $NETINTEL_DATA, else ../data next to the executable's
 * directory (/proc/self/exe), else ./data (run from the source tree).
 * Each kind of lookup is one function below; main dispatches on the
 * arguments. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "netintel/netintel.h"
#include "core/ni_buf.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: netintel lookup --ua [options] < user-agents.txt\n"
        "       netintel lookup ADDRESS|DOMAIN...   (not available yet)\n"
        "\n"
        "  --ua                     read one User-Agent per line from stdin, write one\n"
        "                           JSON object per line (uap-core parse + verdicts)\n"
        "  --platform TEXT          Sec-CH-UA-Platform hint for every line\n"
        "  --platform-version TEXT  Sec-CH-UA-Platform-Version hint for every line\n"
        "  --model TEXT             Sec-CH-UA-Model hint for every line\n"
        "  --data DIR               data directory (default: $NETINTEL_DATA, ../data\n"
        "                           beside the executable's directory, ./data)\n"
        "  --cache N                cached parse results (default %u, 0 = none)\n"
        "  --no-prefilter           try every regex (same results, slower)\n"
        "  --stats                  print parse statistics to stderr at the end\n"
        "  -h, --help               this help\n", NI_UA_CACHE_DEFAULT);
}

static bool is_dir_with(const char *dir, const char *file)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, file) >= sizeof p) return false;
    return access(p, R_OK) == 0;
}

/* Fills dir[PATH_MAX] with the data directory; false if none found. */
static bool data_dir(const char *opt, char *dir)
{
    const char *env = getenv("NETINTEL_DATA");
    if (opt) { snprintf(dir, PATH_MAX, "%s", opt); return true; }
    if (env && *env) { snprintf(dir, PATH_MAX, "%s", env); return true; }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) { *s = 0; s = strrchr(exe, '/'); }
        if (s) {
            *s = 0;
            if ((size_t)snprintf(dir, PATH_MAX, "%s/data", exe[0] ? exe : "") < PATH_MAX &&
                is_dir_with(dir, "ua-agents.tsv"))
                return true;
        }
    }
    snprintf(dir, PATH_MAX, "data");
    return is_dir_with(dir, "ua-agents.tsv");
}

static void write_agent(ni_json *j, const char *key, const ni_ua_agent *a)
{
    ni_json_key(j, key);
    ni_json_obj_begin(j);
    ni_json_kstr(j, "family", a->family);
    ni_json_kstr(j, "major", a->major);
    ni_json_kstr(j, "minor", a->minor);
    ni_json_kstr(j, "patch", a->patch);
    ni_json_kstr(j, "patch_minor", a->patch_minor);
    ni_json_obj_end(j);
}

static int lookup_ua(const char *dir_opt, size_t cache, bool prefilter, bool stats,
                     const ni_uav_hints *hints)
{
    char dir[PATH_MAX], yaml[PATH_MAX + 64];
    if (!data_dir(dir_opt, dir)) {
        fprintf(stderr, "netintel lookup: no data directory (set NETINTEL_DATA or use --data)\n");
        return 1;
    }
    snprintf(yaml, sizeof yaml, "%s/ext/node_modules/uap-core/regexes.yaml", dir);
    ni_error err = { 0 };
    ni_ua_db *db = ni_ua_db_load(yaml, &err);
    ni_ua *p = db ? ni_ua_new(db, cache, &err) : NULL;
    ni_uav *v = p ? ni_uav_load(dir, &err) : NULL;
    if (!v) {
        fprintf(stderr, "netintel lookup: %s%s\n", err.msg,
                err.code == NI_ERR_NOTFOUND && !db ? " (run scripts/install-deps)" : "");
        ni_ua_free(p); ni_ua_db_free(db);
        return 1;
    }
    ni_ua_set_prefilter(p, prefilter);
    char *line = malloc(NI_LINE_MAX);
    ni_buf out; ni_buf_init(&out, 1u << 20);
    int rc = 0;
    if (!line) { fprintf(stderr, "netintel lookup: out of memory\n"); rc = 1; }
    while (line && fgets(line, NI_LINE_MAX, stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n') {            /* overlong: keep the start, drop the rest */
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n') {}
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        ni_uav_verdict vd;
        ni_uav_parse(v, p, line, n, hints, &vd);
        const ni_ua_result *r = vd.ua;
        ni_json j;
        ni_buf_clear(&out);
        ni_json_init(&j, &out, 0);
        ni_json_obj_begin(&j);
        ni_json_key(&j, "user_agent"); ni_json_strn(&j, line, n);
        write_agent(&j, "browser", &r->browser);
        write_agent(&j, "os", &r->os);
        ni_json_key(&j, "device");
        ni_json_obj_begin(&j);
        ni_json_kstr(&j, "family", r->device.family);
        ni_json_kstr(&j, "brand", r->device.brand);
        ni_json_kstr(&j, "model", r->device.model);
        ni_json_obj_end(&j);
        ni_json_kstr(&j, "maker", vd.maker);
        ni_json_kstr(&j, "model", vd.model);
        ni_json_kstr(&j, "form_factor", vd.form_factor);
        ni_json_kstr(&j, "kind", vd.kind);
        ni_json_kstr(&j, "windows_version", vd.windows_version);
        ni_json_kbool(&j, "reduced", vd.reduced);
        ni_json_obj_end(&j);
        ni_buf_addc(&out, '\n');
        if (out.err) { fprintf(stderr, "netintel lookup: output record too large\n"); rc = 1; break; }
        if (fwrite(out.p, 1, out.len, stdout) != out.len) { fprintf(stderr, "netintel lookup: write error: %s\n", strerror(errno)); rc = 1; break; }
    }
    if (line && ferror(stdin)) { fprintf(stderr, "netintel lookup: read error: %s\n", strerror(errno)); rc = 1; }
    if (fflush(stdout) != 0) { fprintf(stderr, "netintel lookup: write error: %s\n", strerror(errno)); rc = 1; }
    if (stats) {
        ni_ua_stats s;
        ni_ua_get_stats(p, &s);
        fprintf(stderr, "lookup: %llu parsed, %llu from cache, %llu regexes tried, %llu match errors, %llu truncated\n",
                (unsigned long long)s.parses, (unsigned long long)s.cache_hits,
                (unsigned long long)s.regex_tries, (unsigned long long)s.match_errors,
                (unsigned long long)s.truncated);
    }
    ni_buf_release(&out);
    free(line);
    ni_uav_free(v); ni_ua_free(p); ni_ua_db_free(db);
    return rc;
}

/* Address and domain lookups (GeoIP, ASN, services, VPN): not yet built. */
static int lookup_names(int n, char **names)
{
    (void)names;
    fprintf(stderr, "netintel lookup: address and domain lookups are not available yet "
                    "(%d argument%s given); only --ua works for now\n", n, n == 1 ? "" : "s");
    return 1;
}

int cmd_lookup(int argc, char **argv)
{
    bool ua = false, prefilter = true, stats = false;
    const char *dir = NULL;
    size_t cache = NI_UA_CACHE_DEFAULT;
    ni_uav_hints hints = { 0 };
    int nnames = 0;
    char **names = calloc((size_t)argc + 1, sizeof *names);
    if (!names) { fprintf(stderr, "netintel lookup: out of memory\n"); return 1; }
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); rc = 0; }
        else if (!strcmp(a, "--ua")) ua = true;
        else if (!strcmp(a, "--no-prefilter")) prefilter = false;
        else if (!strcmp(a, "--stats")) stats = true;
        else if (!strcmp(a, "--data") && has_val) dir = argv[++i];
        else if (!strcmp(a, "--platform") && has_val) hints.platform = argv[++i];
        else if (!strcmp(a, "--platform-version") && has_val) hints.platform_version = argv[++i];
        else if (!strcmp(a, "--model") && has_val) hints.model = argv[++i];
        else if (!strcmp(a, "--cache") && has_val) {
            char *end; errno = 0;
            long long v = strtoll(argv[++i], &end, 10);
            if (errno || *end || v < 0 || v > (1ll << 24)) {
                fprintf(stderr, "netintel lookup: --cache: '%s' is not a count (0..16777216)\n", argv[i]);
                rc = 2;
            } else cache = (size_t)v;
        }
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "netintel lookup: unknown option or missing value: %s\n", a);
            usage(stderr); rc = 2;
        }
        else names[nnames++] = argv[i];
    }
    if (rc < 0) {
        if (ua && nnames) { fprintf(stderr, "netintel lookup: --ua reads stdin; give no other arguments\n"); rc = 2; }
        else if (ua) rc = lookup_ua(dir, cache, prefilter, stats, &hints);
        else if (nnames) rc = lookup_names(nnames, names);
        else { usage(stderr); rc = 2; }
    }
    free(names);
    return rc;
}
