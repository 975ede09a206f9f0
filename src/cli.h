/* cli.h — the subcommand table's types and the commands' entry points.
 * Each cmd_<name>(argc, argv) gets argv[0] = "<name>" and returns the exit
 * status: 0 ok, 1 failure, 2 usage error. */
#ifndef NI_CLI_H
#define NI_CLI_H

struct ni_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

/* Set by -q/--quiet (src/main.c): commands print no progress, warnings or
 * summaries on stderr; errors are still printed. */
extern int cli_quiet;

int cmd_sessions(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_schema(int argc, char **argv);

#endif
