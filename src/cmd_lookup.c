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
 * Written on the embedding API alone (netintel/lookup.h: ni_ua_lookup_json,
 * ni_run_lookup_json).  Data directory: --data, else the defaults
 * (netintel(1)).  Each kind of lookup is one function below; main
 * dispatches on the arguments. */
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
        "  -h, --help               this help\n", NI_UA_LOOKUP_CACHE_DEFAULT);
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

/* The client hints given for every line (--platform...). */
typedef struct hints {
    const char *platform, *platform_version, *model;
} hints;

static int lookup_ua(const char *dir, size_t cache, bool prefilter, const char *stats, const hints *h)
{
    ni_error err = { 0 };
    ni_ua_lookup *q = ni_ua_lookup_new(dir, cache, prefilter, &err);
    if (!q) {
        fprintf(stderr, "netintel lookup: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 1;
    }
    char *line = malloc(NI_UA_LOOKUP_LINE_MAX);
    int rc = 0;
    bool closed = false;        /* the reader closed the pipe */
    if (!line) { fprintf(stderr, "netintel lookup: out of memory\n"); rc = 1; }
    while (line && fgets(line, NI_UA_LOOKUP_LINE_MAX, stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n') {            /* overlong: keep the start, drop the rest */
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n') {}
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        const char *rec;
        size_t len;
        if (ni_ua_lookup_json(q, line, n, h->platform, h->platform_version, h->model, &rec, &len, &err)) {
            fprintf(stderr, "netintel lookup: %s\n", err.msg);
            rc = 1;
            break;
        }
        int w = out_write(rec, len);
        if (w) { closed = w < 0; rc = w > 0; break; }
    }
    if (line && !closed && ferror(stdin)) { fprintf(stderr, "netintel lookup: read error: %s\n", strerror(errno)); rc = 1; }
    if (!closed && !rc && out_flush() > 0) rc = 1;
    if (stats) {
        const char *text;
        size_t len;
        ni_error serr = { 0 };
        if (ni_ua_lookup_stats_json(q, &text, &len, &serr) || cli_out_write_all(stats, text, len, &serr) != NI_OK) {
            fprintf(stderr, "netintel lookup: %s\n", serr.msg);
            rc = 1;
        }
    }
    free(line);
    ni_ua_lookup_free(q);
    return rc;
}

/* Address and domain lookups: GeoIP, ASN, service and VPN catalogues, one
 * JSON object per argument. */
static int lookup_names(const char *dir, const char *geoip, int n, char **names)
{
    ni_error err = { 0 };
    ni_options o;
    ni_options_init(&o);
    o.data_dir = dir;
    o.geoip_path = geoip;
    o.ndpi = false;             /* no capture is read */
    ni_run *run = ni_run_new(&o, &err);
    if (!run || ni_run_load(run, &err)) {
        fprintf(stderr, "netintel lookup: %s\n", err.msg);
        ni_run_free(run);
        return 1;
    }
    int rc = 0;
    bool closed = false;        /* the reader closed the pipe */
    for (int i = 0; i < n; i++) {
        const char *rec;
        size_t len;
        if (ni_run_lookup_json(run, names[i], &rec, &len, &err)) {
            fprintf(stderr, "netintel lookup: %s\n", err.msg);
            rc = 1;
            if (err.code == NI_ERR_ARG) continue;
            break;
        }
        int w = out_write(rec, len);
        if (w) { closed = w < 0; if (w > 0) rc = 1; break; }
    }
    if (!closed && out_flush() > 0) rc = 1;
    ni_run_free(run);
    return rc;
}

int cmd_lookup(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);   /* a closed pipe is EPIPE from the write: the run ends quietly */
    bool ua = false, prefilter = true;
    const char *stats = NULL;
    const char *dir = NULL, *geoip = NULL;
    size_t cache = NI_UA_LOOKUP_CACHE_DEFAULT;
    hints hints = { 0 };
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
