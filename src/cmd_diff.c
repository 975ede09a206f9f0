/* cmd_diff.c — `netintel diff OLD/report.json NEW/report.json`: what changed
 * between two periods or two targets (ni_report_diff, netintel/run.h), as Markdown on
 * standard output (or -o FILE.md) and JSON with --json FILE.  Exit status as
 * diff(1): 0 the reports carry the same figures, 1 they differ, 2 trouble
 * (usage, unreadable file, not a report.json: one line naming the file). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netintel/netintel.h"
#include "cli.h"

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
    ni_error err = {0};
    bool changed = false;
    int rc;
    if (ni_report_diff(argv[optind], argv[optind + 1], md_path, json_path, &changed, &err)) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        rc = 2;
    } else {
        rc = changed ? 1 : 0;
    }
    return rc;
}
