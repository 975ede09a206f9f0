/* cmd_report.c — `netintel report REPORT.json [-o DIR]`: renders the
 * human-readable views of a profile again from its report.json (schema
 * netintel.profile/1, docs/report-schema.json): DIR/report.html (one
 * self-contained file, inline CSS and SVG) and DIR/report.md, both through
 * ni_report_render (netintel/run.h).  DIR defaults to the directory holding
 * REPORT.json.  Both views are rendered in memory first and only then
 * written, each atomically, so a bad document never replaces a good
 * report.  Errors: one line "netintel: FILE: problem", exit 1. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "netintel/netintel.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: netintel report REPORT.json [-o DIR]\n"
        "\n"
        "Renders DIR/report.html (self-contained: inline CSS and SVG charts, no\n"
        "scripts, no network requests) and DIR/report.md (the same sections and\n"
        "tables) from a report.json written by 'netintel profile'\n"
        "(schema netintel.profile/1, see docs/report.md).\n"
        "\n"
        "  -o, --output DIR   where to write (default: REPORT.json's directory;\n"
        "                     created if missing)\n"
        "  -h, --help         this help\n");
}

int cmd_report(int argc, char **argv)
{
    const char *in = NULL, *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) { fprintf(stderr, "netintel: %s needs a directory\n", a); return 2; }
            outdir = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            outdir = a + 9;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "netintel: report: unknown option '%s' (see 'netintel report --help')\n", a);
            return 2;
        } else if (in) {
            fprintf(stderr, "netintel: report: one REPORT.json only ('%s' is extra)\n", a);
            return 2;
        } else {
            in = a;
        }
    }
    if (!in) { usage(stderr); return 2; }
    if (outdir && !*outdir) { fprintf(stderr, "netintel: report: -o needs a directory\n"); return 2; }

    ni_error err = {0};
    if (ni_report_render(in, outdir, &err)) {
        fprintf(stderr, "netintel: %s\n", err.msg[0] ? err.msg : ni_strerror(err.code));
        return 1;
    }
    return 0;
}
