/* cmd_diff.c — `netintel diff OLD/report.json NEW/report.json`: what changed
 * between two periods or two targets (lib/analyze/ni_diff), as Markdown on
 * standard output (or -o FILE.md) and JSON with --json FILE.  Exit status as
 * diff(1): 0 the reports carry the same figures, 1 they differ, 2 trouble
 * (usage, unreadable file, not a report.json: one line naming the file). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netintel/netintel.h"
#include "cli.h"
#include "analyze/ni_diff.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_limits.h"

static const char usage_text[] =
    "usage: netintel diff [-o FILE.md] [--json FILE.json] OLD/report.json NEW/report.json\n"
    "\n"
    "Compares two profiles: activity shape, shares of makers, OS, Windows versions\n"
    "and browsers, services and VPN providers gained or lost, visitors' regions.\n"
    "Each changed share is tested (two-proportion z-test); p-values are also given\n"
    "adjusted for the number of comparisons (Holm-Bonferroni).\n"
    "\n"
    "exit status: 0 same figures (\"no change\"), 1 the reports differ,\n"
    "2 trouble (usage, unreadable file, not a report.json)\n";

static int read_file(const char *path, ni_buf *b, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { ni_error_set(err, NI_ERR_NOTFOUND, "%s: cannot open", path); return 1; }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ni_buf_add(b, chunk, n)) {
            fclose(f);
            ni_error_set(err, NI_ERR_LIMIT, "%s: larger than %u MiB, not a report.json", path, NI_REPORT_JSON_MAX >> 20);
            return 1;
        }
    int bad = ferror(f);
    fclose(f);
    if (bad) { ni_error_set(err, NI_ERR_IO, "%s: read error", path); return 1; }
    if (b->len == 0) { ni_error_set(err, NI_ERR_FORMAT, "%s: empty file, not a report.json", path); return 1; }
    if (memchr(b->p, 0, b->len)) { ni_error_set(err, NI_ERR_FORMAT, "%s: contains a NUL byte, not a report.json", path); return 1; }
    return 0;
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", required_argument, NULL, 'j' }, { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *md_path = NULL, *json_path = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': printf("%s", usage_text); return 0;
        case 'o': md_path = optarg; break;
        case 'j': json_path = optarg; break;
        default:
            fprintf(stderr, "netintel diff: bad option '%s' (see 'netintel diff --help')\n", argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "netintel diff: expected two report.json files (see 'netintel diff --help')\n");
        return 2;
    }
    ni_buf a, b, jo, md;
    ni_buf_init(&a, NI_REPORT_JSON_MAX); ni_buf_init(&b, NI_REPORT_JSON_MAX);
    ni_buf_init(&jo, NI_DIFF_OUT_MAX); ni_buf_init(&md, NI_DIFF_OUT_MAX);
    ni_error err = {0};
    bool changed = false;
    int rc;
    if (read_file(argv[optind], &a, &err) || read_file(argv[optind + 1], &b, &err) ||
        ni_diff_reports(ni_buf_str(&a), argv[optind], ni_buf_str(&b), argv[optind + 1], &changed, &jo, &md, &err) ||
        (json_path && ni_file_write_all(json_path, jo.p, jo.len, &err)) ||
        ni_file_write_all(md_path ? md_path : "-", md.p, md.len, &err)) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        rc = 2;
    } else {
        rc = changed ? 1 : 0;
    }
    ni_buf_release(&a); ni_buf_release(&b); ni_buf_release(&jo); ni_buf_release(&md);
    return rc;
}
