/* cmd_report.c — `netintel report REPORT.json [-o DIR]`: renders the
 * human-readable views of a profile again from its report.json (schema
 * netintel.profile/1, docs/report-schema.json): DIR/report.html (one
 * self-contained file, inline CSS and SVG) and DIR/report.md, both through
 * lib/report/ni_report.  DIR defaults to the directory holding REPORT.json.
 * Both views are rendered in memory first and only then written, each
 * atomically (lib/core/ni_file), so a bad document never replaces a good
 * report.  Errors: one line "netintel: FILE: problem", exit 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "netintel/netintel.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_limits.h"
#include "report/ni_report.h"

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

/* Reads the whole file into a NUL-terminated ni_buf capped at
 * NI_REPORT_JSON_MAX; errors name the file. */
static int read_file(const char *path, ni_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "netintel: %s: %s\n", path, strerror(errno)); return 1; }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ni_buf_add(b, chunk, n)) break;
    int rerr = ferror(f);
    fclose(f);
    if (b->err == NI_ERR_LIMIT) {
        fprintf(stderr, "netintel: %s: larger than %u MiB\n", path, NI_REPORT_JSON_MAX >> 20);
        return 1;
    }
    if (b->err) { fprintf(stderr, "netintel: %s: %s\n", path, ni_strerror(b->err)); return 1; }
    if (rerr) { fprintf(stderr, "netintel: %s: read error\n", path); return 1; }
    if (b->len == 0) { fprintf(stderr, "netintel: %s: empty file, not a report.json\n", path); return 1; }
    if (memchr(b->p, 0, b->len)) { fprintf(stderr, "netintel: %s: contains a NUL byte, not JSON\n", path); return 1; }
    return 0;
}

/* The library names the document "report.json"; name the real file. */
static void report_error(const char *path, const ni_error *err)
{
    const char *m = err->msg;
    if (!strncmp(m, "report.json: ", 13)) m += 13;
    fprintf(stderr, "netintel: %s: %s\n", path, *m ? m : ni_strerror(err->code));
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

    ni_buf json; ni_buf_init(&json, NI_REPORT_JSON_MAX);
    if (read_file(in, &json)) { ni_buf_release(&json); return 1; }

    ni_buf html, md;
    ni_buf_init(&html, NI_REPORT_OUT_MAX);
    ni_buf_init(&md, NI_REPORT_OUT_MAX);
    ni_error err = {0};
    int rc = 1;
    if (ni_report_html(ni_buf_str(&json), &html, &err) || ni_report_markdown(ni_buf_str(&json), &md, &err)) {
        report_error(in, &err);
        goto done;
    }

    /* the output directory: -o, else the input's own directory */
    char *dir = NULL;
    if (outdir) dir = strdup(outdir);
    else {
        const char *slash = strrchr(in, '/');
        dir = slash ? strndup(in, (size_t)(slash - in) + (slash == in)) : strdup(".");
    }
    if (!dir) { fprintf(stderr, "netintel: report: out of memory\n"); goto done; }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0777) != 0) {
            fprintf(stderr, "netintel: %s: %s\n", dir, strerror(errno));
            free(dir);
            goto done;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "netintel: %s: not a directory\n", dir);
        free(dir);
        goto done;
    }
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dir[--dl] = 0;
    const char *sep = dir[dl - 1] == '/' ? "" : "/";
    ni_buf path; ni_buf_init(&path, 8192);
    ni_buf_printf(&path, "%s%sreport.html", dir, sep);
    if (path.err || ni_file_write_all(ni_buf_str(&path), html.p, html.len, &err)) {
        if (path.err) fprintf(stderr, "netintel: %s: path too long\n", dir);
        else fprintf(stderr, "netintel: %s\n", err.msg);
    } else {
        ni_buf_clear(&path);
        ni_buf_printf(&path, "%s%sreport.md", dir, sep);
        if (path.err || ni_file_write_all(ni_buf_str(&path), md.p, md.len, &err)) {
            if (path.err) fprintf(stderr, "netintel: %s: path too long\n", dir);
            else fprintf(stderr, "netintel: %s\n", err.msg);
        } else {
            rc = 0;
        }
    }
    ni_buf_release(&path);
    free(dir);
done:
    ni_buf_release(&json);
    ni_buf_release(&html);
    ni_buf_release(&md);
    return rc;
}
