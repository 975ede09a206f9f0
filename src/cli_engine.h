/* cli_engine.h — what the commands that read captures share, over the
 * embedding API (netintel/run.h): the engine options (--target, flow limits
 * and timeouts, --geoip/--asn, --no-enrich, --stats) into ni_options, the
 * run (ni_run_new: the target, with country:/asn: resolved through the
 * GeoIP and ASN data), reading every input with progress on a terminal, the
 * one-line errors, the --target match warnings and the run summary; and
 * live capture's options (-i ...), the opening of the interface and the
 * change of user after it (docs/live.md). */
#ifndef NI_CLI_ENGINE_H
#define NI_CLI_ENGINE_H

#include <getopt.h>
#include <stdbool.h>
#include "netintel/netintel.h"

#define CLI_ENGINE_OPTIONS_HELP \
    "  --filter EXPR       read only the frames of captures that the BPF expression\n" \
    "                      accepts (pcap-filter(7), as tcpdump); other inputs are refused\n" \
    "  --flows             read every capture as NetFlow/IPFIX export datagrams\n" \
    "                      (as the collect command reads them), whatever its content\n" \
    "  --max-flows N       live flows kept at once; the least recently active is\n" \
    "                      emitted when full\n" \
    "  --tcp-timeout S     TCP idle timeout in seconds\n" \
    "  --udp-timeout S     UDP/other idle timeout in seconds\n" \
    "  --active-timeout S  split sessions longer than S seconds\n" \
    "  --geoip FILE        MaxMind-format country database (default: $NETINTEL_GEOIP,\n" \
    "                      /usr/share/GeoIP/GeoLite2-Country.mmdb, or the bundled one)\n" \
    "  --asn PATH          GeoLite2-ASN .mmdb or a folder of ip-location-db ASN CSVs\n" \
    "  --no-ndpi           do not ask nDPI for a second opinion\n" \
    "  --stats FILE        write the run summary as JSON to FILE, not to stderr\n" \
    "  -j, --threads N     CPUs to use for captures: the reader and N-1 worker\n" \
    "                      threads (default: the CPUs it may run on; 1: one thread);\n" \
    "                      the sessions and the report are the same for every N\n"

/* Live capture (sessions and profile): -i and the options that go with it,
 * handled by cli_engine_option; commands list CLI_LIVE_LONG_OPTIONS among
 * their own options and "i:" in their short ones. */
enum { CLI_O_SNAPLEN = 500, CLI_O_BUFFER, CLI_O_DURATION, CLI_O_COUNT, CLI_O_USER, CLI_O_KEEP_ROOT };
#define CLI_LIVE_LONG_OPTIONS \
    { "interface", required_argument, NULL, 'i' }, \
    { "snaplen", required_argument, NULL, CLI_O_SNAPLEN }, \
    { "buffer", required_argument, NULL, CLI_O_BUFFER }, \
    { "duration", required_argument, NULL, CLI_O_DURATION }, \
    { "count", required_argument, NULL, CLI_O_COUNT }, \
    { "user", required_argument, NULL, CLI_O_USER }, \
    { "keep-root", no_argument, NULL, CLI_O_KEEP_ROOT }

#define CLI_LIVE_OPTIONS_HELP \
    "live capture (docs/live.md; instead of inputs):\n" \
    "  -i, --interface IFACE  capture from the network interface IFACE until\n" \
    "                      SIGINT/SIGTERM (exit 0), --count or --duration; needs root\n" \
    "                      or CAP_NET_RAW; --filter applies\n" \
    "  --snaplen N         bytes kept of each frame (default 262144)\n" \
    "  --buffer SIZE       kernel capture buffer, bytes or with K, M, G (default: libpcap's\n" \
    "                      2M); raise it when the summary shows dropped frames\n" \
    "  --duration T        stop after T (seconds, or with s, m, h, d: 90s, 10m, 1h)\n" \
    "  --count N           stop after N frames\n" \
    "  --user NAME         as root: become NAME once the interface is open (default\n" \
    "                      nobody); outputs are written as NAME; refuses to go on as\n" \
    "                      root when it cannot\n" \
    "  --keep-root         stay root (no --user change)\n"

typedef struct cli_engine {
    const char *cmd;
    ni_options opts;            /* targets = specs once prepared */
    char **specs;               /* --target arguments as given */
    size_t nspecs;
    const char *stats_path;
    bool threads_given;         /* -j: else the CPUs the process may run on */
    bool no_enrich;
    bool no_summary;            /* no run summary on stderr (--stats still writes it) */
    ni_run *run;                /* made by cli_engine_prepare */

    /* what the reads saw (cumulative; a command that reads other inputs
     * itself adds them to files_read / files_failed) */
    unsigned files_read;        /* inputs read, to their end or up to damage after some frames */
    unsigned files_failed;      /* inputs that failed (each named on stderr) */
    bool interrupted;           /* a signal stopped the run (cli_out.h) */
    bool output_closed;         /* the reader of the output pipe went away: end quietly */
    bool output_failed;         /* an output failed (named on stderr) */

    /* live capture (-i) */
    const char *iface;
    const char *user;           /* --user; NULL: "nobody" */
    bool keep_root;
    bool live_opts;             /* an option of live capture was given (needs -i) */
    int live_signal;            /* the signal that ended the capture, 0 none */
} cli_engine;

/* "netintel CMD: <fmt with arg> (see 'netintel CMD --help')" on stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);

void cli_engine_init(cli_engine *r, const char *cmd);
/* The end of a command, which returns to main's exit next: the run's
 * memory is left to the exit (ni_run_exit). */
void cli_engine_release(cli_engine *r);
/* The shared long options followed by own[] and a terminator, into out. */
size_t cli_engine_options(struct option *out, size_t max, const struct option *own, size_t nown);
/* 0: the option was ours and is handled; 1: not ours; 2: usage error
 * (printed); -1: a failure such as out of memory (printed; exit 1). */
int cli_engine_option(cli_engine *r, int c, const char *arg);
/* Makes the run (r->run) from the options: builds the target (loading the
 * GeoIP/ASN data when a spec needs it).  Returns 0, or the exit status after
 * printing the error: 2 for a bad spec (unknown country, malformed ASN, ...),
 * 1 for out of memory or a read error. */
int cli_engine_prepare(cli_engine *r);
/* Reads the inputs through the run (the session callback may be NULL),
 * finishes, prints each failure as "netintel: <file>: <problem>" and the
 * summary (stderr or --stats; nothing is written to --stats when no input
 * could be read).  A signal (cli_out.h) stops the reading: the sessions in
 * flight are finished and written, `interrupted` is set.  An output failure
 * (the callback's NI_ERR_OUTPUT) stops the run and is named as such, never
 * as a failed input; a closed output pipe (NI_ERR_PIPE) stops it quietly.
 * Returns 0, 1 (a failure), 2 (usage) or 1 when no input could be read. */
int cli_engine_read(cli_engine *r, char **files, int nfiles, ni_session_fn fn, void *ud);

/* Checks the live options against the inputs (-i excludes inputs and
 * --flows; --snaplen & co. need -i): 0 or 2 after the usage error. */
int cli_engine_live_check(cli_engine *r, int ninputs);
/* -i: opens the interface (ni_run_open) and, as root, becomes --user for
 * good (refusing to go on as root when it cannot, unless --keep-root);
 * then checks that out_dir (when not NULL) and --stats can be written by
 * the user.  Call after the data is loaded and before opening outputs.
 * 0, or the exit status after the error (2 usage, 1 failure). */
int cli_engine_live_start(cli_engine *r, const char *out_dir);
/* Parses a duration: seconds, or a number with s, m, h or d ("10m");
 * false unless 0 < T <= 10 years. */
bool cli_parse_interval(const char *s, int64_t *us);

/* "netintel CMD: warning: --target 'SPEC' matches no session" on stderr for
 * each spec that matched none (not when nothing could be read, the run was
 * interrupted or the output pipe closed: the inputs were not all seen). */
void cli_engine_warn_unmatched(const cli_engine *r);
/* The exit status of a finished run: 128 + signal when interrupted, else 1
 * when an input or output failed, else 0. */
int cli_engine_status(const cli_engine *r);

/* Seconds (may be fractional) → µs; false unless 0 < s <= 10 years. */
bool cli_parse_seconds(const char *s, int64_t *us);

#endif
