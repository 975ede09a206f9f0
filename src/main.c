/* main.c — the netintel command-line tool: a git-style table of subcommands,
 * each in src/cmd_<name>.c returning its exit status (0 ok, 1 failure,
 * 2 usage).  Besides the commands: `--version`/`-V` (program and data
 * versions), `help [CMD]`, and `-q`/`--quiet` anywhere before `--`
 * (no progress, warnings or summaries on stderr; errors still shown). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "netintel/netintel.h"
#include "cli.h"

int cli_quiet;

static const struct ni_command commands[] = {
    { "profile", cmd_profile, "captures of a target space -> report.json, report.html, report.md" },
    { "sessions", cmd_sessions, "read captures into sessions (JSON Lines or CSV)" },
    { "lookup", cmd_lookup, "addresses and domains (country, ASN, service, VPN); User-Agents (--ua)" },
    { "report", cmd_report, "render report.html and report.md again from a report.json" },
    { "diff", cmd_diff, "what changed between two report.json files" },
    { "collect", cmd_collect, "a flow collector: NetFlow v5/v9 and IPFIX exports -> sessions" },
    { "synth", cmd_synth, "write a synthetic capture of a target network (and its truth)" },
    { "schema", cmd_schema, "the SQL that creates the sessions table of a store (SQLite, ClickHouse)" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: netintel [-q] <command> [options] [args]\n"
               "       netintel --version | help [<command>]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\noptions of every command:\n"
               "  -q, --quiet   no progress, warnings or summaries on stderr (errors stay)\n"
               "  -h, --help    the command's options\n"
               "  -V, --version program and data versions\n"
               "\n'netintel help <command>' shows a command's options; 'man netintel' the rest\n"
               "(environment: NETINTEL_DATA, NETINTEL_GEOIP, TZDIR).\n");
}

static const struct ni_command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i].name)) return &commands[i];
    return NULL;
}

static int version(void)
{
    printf("netintel %s\n", NI_VERSION);
    ni_data_info v;
    ni_error err = { 0 };
    if (ni_data_info_get(NULL, NULL, &v, &err) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        return 1;
    }
#define SHOW(label, val) printf("%-26s %s\n", label, (val)[0] ? (val) : "not installed (make deps)")
    SHOW("data directory", v.data_dir);
    SHOW("uap-core", v.uap_core);
    SHOW("@mdn/browser-compat-data", v.browser_compat);
    SHOW("@ip-location-db/asn", v.asn_package);
    if (v.geoip_path[0]) {
        char day[16] = "unknown";
        time_t t = (time_t)v.geoip_build_epoch;
        struct tm tm;
        if (v.geoip_build_epoch && gmtime_r(&t, &tm)) strftime(day, sizeof day, "%Y-%m-%d", &tm);
        printf("%-26s %s (%s, built %s%s%s)\n", "GeoIP database", v.geoip_path,
               v.geoip_type[0] ? v.geoip_type : "unknown type", day,
               v.geoip_package[0] && strstr(v.geoip_path, "@ip-location-db") ? ", package " : "",
               v.geoip_package[0] && strstr(v.geoip_path, "@ip-location-db") ? v.geoip_package : "");
    } else {
        SHOW("GeoIP database", v.geoip_path);
    }
#undef SHOW
    return 0;
}

int main(int argc, char **argv)
{
    /* -q/--quiet anywhere before "--" is the tool's, not the command's */
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { while (i < argc) argv[n++] = argv[i++]; break; }
        if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) { cli_quiet = 1; continue; }
        argv[n++] = argv[i];
    }
    argc = n;
    argv[argc] = NULL;

    if (argc < 2) { usage(stderr); return 2; }
    const char *a = argv[1];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
    if (!strcmp(a, "--version") || !strcmp(a, "-V") || !strcmp(a, "version")) return version();
    if (!strcmp(a, "help")) {
        if (argc < 3) { usage(stdout); return 0; }
        const struct ni_command *c = find(argv[2]);
        if (!c) {
            fprintf(stderr, "netintel: '%s' is not a command (see 'netintel --help')\n", argv[2]);
            return 2;
        }
        char *hargv[] = { (char *)c->name, "--help", NULL };
        return c->fn(2, hargv);
    }
    const struct ni_command *c = find(a);
    if (c) return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "netintel: '%s' is not a command (see 'netintel --help')\n", a);
    return 2;
}
