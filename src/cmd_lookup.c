/* cmd_lookup.c — `netintel lookup`: answers questions about single items.
 *
 *   netintel lookup --ua [options] < user-agents.txt
 *       one User-Agent per line in, one JSON object per line out:
 *       {"user_agent", then the fields a session carrying it has, named
 *        as in docs/sessions.md (ua_browser, ua_browser_version, ua_os,
 *        ua_os_version, ua_os_detail, ua_maker, ua_model, ua_device_source,
 *        ua_form_factor, ua_kind, windows_version, ua_reduced; null when
 *        absent), model_name and model_released (data/devices.tsv), and
 *        "uap": {browser, os, device} — uap-core's own parse as its
 *        specification defines it}.
 *   netintel lookup ADDRESS|DOMAIN...
 *       one JSON object per argument: {"query", "type", "country",
 *       "continent", "asn", "as_org" (addresses), "service", "category",
 *       "vpn_provider", "vpn_evidence"}.
 *
 * Data directory: --data, else ni_data_dir() (core/ni_datadir.h).
 * Each kind of lookup is one function below; main dispatches on the
 * arguments. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_out.h"
#include "netintel/netintel.h"
#include "core/ni_buf.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "core/ni_arena.h"
#include "core/ni_datadir.h"
#include "enrich/ni_dates.h"
#include "enrich/ni_enrich.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: netintel lookup --ua [options] < user-agents.txt\n"
        "       netintel lookup [--geoip FILE] ADDRESS|DOMAIN...\n"
        "           one JSON object per argument: country, continent, ASN and\n"
        "           organisation (addresses), service, category, VPN provider\n"
        "\n"
        "  --ua                     read one User-Agent per line from stdin, write one\n"
        "                           JSON object per line (uap-core parse + verdicts)\n"
        "  --platform TEXT          Sec-CH-UA-Platform hint for every line\n"
        "  --platform-version TEXT  Sec-CH-UA-Platform-Version hint for every line\n"
        "  --model TEXT             Sec-CH-UA-Model hint for every line\n"
        "  --data DIR               data directory (default: $NETINTEL_DATA, ../data\n"
        "                           beside the executable's directory, the source\n"
        "                           tree's data/, ./data)\n"
        "  --cache N                cached parse results (default %u, 0 = none)\n"
        "  --no-prefilter           try every regex (same results, slower)\n"
        "  --stats FILE             write the parse statistics as JSON to FILE\n"
        "  -h, --help               this help\n", NI_UA_CACHE_DEFAULT);
}

/* Writes a record to standard output.  0 ok; 1 a write failure (said on
 * stderr); -1 the reader closed the pipe (quiet: the run just ends). */
static int out_write(const void *p, size_t n)
{
    if (fwrite(p, 1, n, stdout) == n) return 0;
    if (errno == EPIPE) return -1;
    fprintf(stderr, "netintel lookup: standard output: cannot write: %s\n", strerror(errno));
    return 1;
}

/* Flushes standard output at the end: as out_write. */
static int out_flush(void)
{
    if (fflush(stdout) == 0) return 0;
    int e = errno;
    clearerr(stdout);
    if (e == EPIPE) return -1;
    fprintf(stderr, "netintel lookup: standard output: cannot write: %s\n", strerror(e));
    return 1;
}

/* Fills dir[PATH_MAX] with the data directory (--data, else ni_data_dir). */
static bool data_dir(const char *opt, char *dir)
{
    if (opt) return (size_t)snprintf(dir, PATH_MAX, "%s", opt) < PATH_MAX;
    return ni_data_dir(dir, PATH_MAX) == NI_OK;
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

static int lookup_ua(const char *dir_opt, size_t cache, bool prefilter, const char *stats,
                     const ni_uav_hints *hints)
{
    char dir[PATH_MAX], yaml[PATH_MAX + 64];
    if (!data_dir(dir_opt, dir)) {
        fprintf(stderr, "netintel lookup: no data directory (set NETINTEL_DATA or use --data)\n");
        return 1;
    }
    snprintf(yaml, sizeof yaml, "%s/ext/node_modules/uap-core/regexes.yaml", dir);
    ni_error err = { 0 };
    /* uap-core's own parse (the "uap" object, --cache, --stats) and the
     * enrichment that gives sessions their ua_* fields, so that both say the same */
    ni_ua_db *db = ni_ua_db_load(yaml, &err);
    ni_ua *p = db ? ni_ua_new(db, cache, &err) : NULL;
    ni_enrich_config ec = { dir, NULL, NULL, true };
    ni_enrich *en = p ? ni_enrich_new(&ec, &err) : NULL;
    ni_arena *arena = en ? ni_arena_new(NI_SESSION_ARENA_MAX) : NULL;
    if (!arena) {
        fprintf(stderr, "netintel lookup: %s%s\n", err.msg[0] ? err.msg : "out of memory",
                err.code == NI_ERR_NOTFOUND && !db ? " (run scripts/install-deps)" : "");
        ni_enrich_free(en); ni_ua_free(p); ni_ua_db_free(db);
        return 1;
    }
    ni_ua_set_prefilter(p, prefilter);
    if (ni_enrich_ua_parser(en)) ni_ua_set_prefilter(ni_enrich_ua_parser(en), prefilter);
    ni_enrich_lookups lk = ni_enrich_profile_lookups(en);
    char *line = malloc(NI_LINE_MAX);
    ni_buf out; ni_buf_init(&out, 1u << 20);
    int rc = 0;
    bool closed = false;        /* the reader closed the pipe */
    if (!line) { fprintf(stderr, "netintel lookup: out of memory\n"); rc = 1; }
    while (line && fgets(line, NI_LINE_MAX, stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n') {            /* overlong: keep the start, drop the rest */
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n') {}
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        const ni_ua_result *r = ni_ua_parse(p, line, n);
        ni_session s;
        memset(&s, 0, sizeof s);
        s.arena = arena;
        ni_enrich_ua(en, &s, line, hints->platform, hints->platform_version, hints->model);
        const char *name = NULL, *released = NULL;
        if (s.ua_model && lk.device) lk.device(lk.ud, s.ua_maker, s.ua_model, &name, &released);
        ni_json j;
        ni_buf_clear(&out);
        ni_json_init(&j, &out, 0);
        ni_json_obj_begin(&j);
        ni_json_key(&j, "user_agent"); ni_json_strn(&j, line, n);
        /* the fields a session carrying this User-Agent has (docs/sessions.md) */
        ni_json_kstr(&j, "ua_browser", s.ua_browser);
        ni_json_kstr(&j, "ua_browser_version", s.ua_browser_version);
        ni_json_kstr(&j, "ua_os", s.ua_os);
        ni_json_kstr(&j, "ua_os_version", s.ua_os_version);
        ni_json_kstr(&j, "ua_os_detail", s.ua_os_detail);
        ni_json_kstr(&j, "ua_maker", s.ua_maker);
        ni_json_kstr(&j, "ua_model", s.ua_model);
        ni_json_kstr(&j, "ua_device_source", s.ua_device_source);
        ni_json_kstr(&j, "ua_form_factor", s.ua_form_factor);
        ni_json_kstr(&j, "ua_kind", s.ua_kind ? ni_ua_kind_name(s.ua_kind) : NULL);
        ni_json_kstr(&j, "windows_version", s.windows_version);
        ni_json_kbool(&j, "ua_reduced", s.ua_reduced);
        /* from data/devices.tsv */
        ni_json_kstr(&j, "model_name", name);
        ni_json_kstr(&j, "model_released", released);
        /* uap-core's parse as its specification defines it */
        ni_json_key(&j, "uap");
        ni_json_obj_begin(&j);
        write_agent(&j, "browser", &r->browser);
        write_agent(&j, "os", &r->os);
        ni_json_key(&j, "device");
        ni_json_obj_begin(&j);
        ni_json_kstr(&j, "family", r->device.family);
        ni_json_kstr(&j, "brand", r->device.brand);
        ni_json_kstr(&j, "model", r->device.model);
        ni_json_obj_end(&j);
        ni_json_obj_end(&j);
        ni_json_obj_end(&j);
        ni_arena_reset(arena);
        ni_buf_addc(&out, '\n');
        if (out.err) { fprintf(stderr, "netintel lookup: output record too large\n"); rc = 1; break; }
        int w = out_write(out.p, out.len);
        if (w) { closed = w < 0; rc = w > 0; break; }
    }
    if (line && !closed && ferror(stdin)) { fprintf(stderr, "netintel lookup: read error: %s\n", strerror(errno)); rc = 1; }
    if (!closed && !rc && out_flush() > 0) rc = 1;
    if (stats) {
        ni_ua_stats s;
        ni_ua_get_stats(p, &s);
        ni_json j;
        ni_buf_clear(&out);
        ni_json_init(&j, &out, 2);
        ni_json_obj_begin(&j);
        ni_json_kuint(&j, "parsed", s.parses);
        ni_json_kuint(&j, "cache_hits", s.cache_hits);
        ni_json_kuint(&j, "regex_tries", s.regex_tries);
        ni_json_kuint(&j, "match_errors", s.match_errors);
        ni_json_kuint(&j, "truncated", s.truncated);
        ni_json_obj_end(&j);
        ni_buf_addc(&out, '\n');
        ni_error serr = { 0 };
        if (cli_out_write_all(stats, out.p, out.len, &serr) != NI_OK) {
            fprintf(stderr, "netintel lookup: %s\n", serr.msg);
            rc = 1;
        }
    }
    ni_buf_release(&out);
    free(line);
    ni_arena_free(arena);
    ni_enrich_free(en);
    ni_ua_free(p); ni_ua_db_free(db);
    return rc;
}

/* Address and domain lookups: GeoIP, ASN, service and VPN catalogues, one
 * JSON object per argument. */
static int lookup_names(const char *dir_opt, const char *geoip, int n, char **names)
{
    char dir[PATH_MAX];
    if (!data_dir(dir_opt, dir)) {
        fprintf(stderr, "netintel lookup: no data directory (set NETINTEL_DATA or use --data)\n");
        return 1;
    }
    ni_error err = { 0 };
    const char *env = getenv("NETINTEL_GEOIP");
    ni_enrich_config c = { dir, geoip ? geoip : (env && *env ? env : NULL), NULL, false };
    ni_enrich *en = ni_enrich_new(&c, &err);
    if (!en) { fprintf(stderr, "netintel lookup: %s\n", err.msg); return 1; }
    ni_arena *arena = ni_arena_new(1u << 16);
    ni_buf out; ni_buf_init(&out, 1u << 20);
    int rc = 0;
    bool closed = false;        /* the reader closed the pipe */
    for (int i = 0; i < n && arena; i++) {
        ni_session s;
        memset(&s, 0, sizeof s);
        s.arena = arena;
        ni_addr a;
        bool is_addr = ni_addr_parse(names[i], &a) == NI_OK;
        if (!ni_enrich_lookup(en, names[i], &s)) {
            fprintf(stderr, "netintel lookup: '%s': neither an IP address nor a domain name\n", names[i]);
            rc = 1;
            continue;
        }
        ni_json j;
        ni_buf_clear(&out);
        ni_json_init(&j, &out, 0);
        ni_json_obj_begin(&j);
        ni_json_kstr(&j, "query", names[i]);
        ni_json_kstr(&j, "type", is_addr ? "address" : "domain");
        if (is_addr) {
            ni_json_kstr(&j, "country", s.server_country);
            ni_json_kstr(&j, "continent", s.server_continent);
            ni_json_key(&j, "asn");
            if (s.server_asn) ni_json_uint(&j, s.server_asn); else ni_json_null(&j);
            ni_json_kstr(&j, "as_org", s.server_as_org && *s.server_as_org ? s.server_as_org : NULL);
        }
        ni_json_kstr(&j, "service", s.service);
        ni_json_kstr(&j, "category", s.category);
        ni_json_kstr(&j, "vpn_provider", s.vpn_provider);
        ni_json_kstr(&j, "vpn_evidence", ni_evidence_name(s.vpn_evidence));
        ni_json_obj_end(&j);
        ni_buf_addc(&out, '\n');
        ni_arena_reset(arena);
        int w = out_write(out.p, out.len);
        if (w) { closed = w < 0; if (w > 0) rc = 1; break; }
    }
    if (!closed && out_flush() > 0) rc = 1;
    ni_buf_release(&out);
    ni_arena_free(arena);
    ni_enrich_free(en);
    return rc;
}

int cmd_lookup(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);   /* a closed pipe is EPIPE from the write: the run ends quietly */
    bool ua = false, prefilter = true;
    const char *stats = NULL;
    const char *dir = NULL, *geoip = NULL;
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
        else if (!strcmp(a, "--stats") && has_val) stats = argv[++i];
        else if (!strcmp(a, "--data") && has_val) dir = argv[++i];
        else if (!strcmp(a, "--geoip") && has_val) geoip = argv[++i];
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
        else if (nnames) rc = lookup_names(dir, geoip, nnames, names);
        else { usage(stderr); rc = 2; }
    }
    free(names);
    return rc;
}
