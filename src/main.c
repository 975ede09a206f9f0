/* main.c — the netintel command-line tool: a git-style table of subcommands,
 * each in src/cmd_<name>.c returning its exit status (0 ok, 1 failure,
 * 2 usage).  The tool uses the library only through its headers. */
#include <stdio.h>
#include <string.h>
#include "netintel/netintel.h"
#include "cli.h"

static const struct ni_command commands[] = {
    { "profile", cmd_profile, "captures of a target space -> report.json, report.html, report.md" },
    { "sessions", cmd_sessions, "read captures into sessions (JSON Lines or CSV)" },
    { "lookup", cmd_lookup, "parse User-Agents (--ua); addresses and domains later" },
    { "report", cmd_report, "render report.html and report.md again from a report.json" },
    { "diff", cmd_diff, "what changed between two report.json files" },
    { "synth", cmd_synth, "write a synthetic capture of a target network (and its truth)" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: netintel <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'netintel <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout); return 0;
    }
    if (!strcmp(argv[1], "--version")) { printf("netintel %s\n", NI_VERSION); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "netintel: '%s' is not a command (see 'netintel --help')\n", argv[1]);
    return 2;
}
