/* cmd_sessions.c — `netintel sessions`: captures → one record per session,
 * as JSON Lines (the contract in docs/sessions.md) or CSV, written as
 * sessions end.  Several captures form one run ("-" = standard input).
 * A damaged input gets one line "netintel: <file>: <problem>" and the exit
 * status 1, after every session read before the damage is written; usage
 * errors exit 2.  A run summary goes to stderr, or as JSON to --stats FILE;
 * progress is shown on stderr only when it is a terminal (src/cli_engine.c).
 * `-i IFACE` captures live instead (docs/live.md): the interface is opened,
 * root given up (src/cli_priv.c), then the output opened; sessions reach a
 * pipe about every second; a signal is the normal end (exit 0). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netintel/netintel.h"
#include "cli.h"
#include "cli_engine.h"
#include "cli_out.h"

static const char usage_text[] =
    "usage: netintel sessions [options] CAPTURE...\n"
    "       netintel sessions [options] -i IFACE\n"
    "\n"
    "Reads pcap/pcapng captures (also .gz/.zst; '-' = standard input) and writes\n"
    "one record per session (bidirectional flow) as it ends, with its evidence\n"
    "(HTTP, TLS, DNS) and enrichment (GeoIP, ASN, User-Agent, service, VPN).\n"
    "Zeek's logs (a log file or a directory of logs) are read too (docs/zeek.md).\n"
    "\n"
    "options:\n"
    "  --target SPEC       the target space, repeatable: CIDRs (comma-separated),\n"
    "                      @FILE (one prefix a line), a preset (kp), country:CC, asn:N;\n"
    "                      sets each session's direction (outbound, inbound, ...)\n"
    "  --format FMT        jsonl (default), csv (every JSON Lines field; formula\n"
    "                      cells quoted with a leading ') or sqlite (a database,\n"
    "                      table sessions: docs/store.md; also -o FILE.sqlite)\n"
    "  -o, --output FILE   write to FILE instead of standard output: a regular file\n"
    "                      is replaced atomically, a symlink followed, a device or\n"
    "                      FIFO written through (docs/sessions.md); an existing\n"
    "                      netintel SQLite database is appended to; also\n"
    "                      clickhouse://HOST:PORT/DB?table=T: inserted into a\n"
    "                      ClickHouse table (docs/store.md)\n"
    "  --no-enrich         evidence only: no GeoIP, ASN, User-Agent, service, VPN fields\n"
    CLI_ENGINE_OPTIONS_HELP
    CLI_LIVE_OPTIONS_HELP
    "  -h, --help          this help\n"
    "\n"
    "defaults: --max-flows %u, --tcp-timeout %lld, --udp-timeout %lld, --active-timeout %lld\n"
    "exit status: 0 ok, 1 an input or output failed (nothing is written when no\n"
    "input could be read), 2 usage error, 128+N stopped by signal N (what was\n"
    "read is written; a second signal exits at once); a live capture (-i) ends\n"
    "normally on SIGINT/SIGTERM: 0\n";

static void usage(FILE *f)
{
    ni_options d;
    ni_options_init(&d);
    fprintf(f, usage_text, (unsigned)d.max_flows, (long long)(d.tcp_idle_us / 1000000),
            (long long)(d.udp_idle_us / 1000000), (long long)(d.active_us / 1000000));
}

static int usage_error(const char *fmt, const char *arg) { return cli_usage_error("sessions", fmt, arg); }

static void flush_output(void *ud) { ni_output_flush(ud, NULL); }

int cmd_sessions(int argc, char **argv)
{
    enum { O_FORMAT = 300 };
    static const struct option own[] = {
        { "format", required_argument, NULL, O_FORMAT },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        CLI_LIVE_LONG_OPTIONS,
    };
    struct option opts[64];
    cli_engine_options(opts, 64, own, sizeof own / sizeof own[0]);
    cli_engine run;
    cli_engine_init(&run, "sessions");
    ni_format fmt = NI_FORMAT_JSONL;
    bool fmt_given = false;
    const char *out_path = NULL;
    ni_error err = { 0 };
    int rc = 0, c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:i:j:", opts, NULL)) != -1) {
        int r = cli_engine_option(&run, c, optarg);
        if (r == 0) continue;
        if (r != 1) { cli_engine_release(&run); return r < 0 ? 1 : 2; }
        switch (c) {
        case 'h': usage(stdout); cli_engine_release(&run); return 0;
        case O_FORMAT:
            if (ni_format_parse(optarg, &fmt) != NI_OK) {
                cli_engine_release(&run);
                return usage_error("--format: '%s': expected jsonl, csv or sqlite", optarg);
            }
            fmt_given = true;
            break;
        case 'o': out_path = optarg; break;
        case ':': cli_engine_release(&run); return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: cli_engine_release(&run); return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if ((rc = cli_engine_live_check(&run, argc - optind))) { cli_engine_release(&run); return rc; }
    if (optind >= argc && !run.iface) { cli_engine_release(&run); return usage_error("%s", "no capture given"); }
    if (!fmt_given) ni_format_from_name(out_path, &fmt);     /* -o FILE.sqlite */
    if (ni_sink_is_url(out_path) && fmt_given)
        return cli_engine_release(&run), usage_error("%s", "--format does not apply to -o clickhouse://");
    if (fmt == NI_FORMAT_SQLITE && (!out_path || !strcmp(out_path, "-"))) {
        cli_engine_release(&run);
        return usage_error("%s", "--format sqlite needs -o FILE");
    }
    if ((rc = cli_engine_prepare(&run))) { cli_engine_release(&run); return rc; }
    cli_signals_install(true);
    if (!run.no_enrich && ni_run_load(run.run, &err)) {
        fprintf(stderr, "netintel: %s (enrichment data: run scripts/install-deps, or use --no-enrich)\n", err.msg);
        cli_engine_release(&run);
        return 1;
    }

    /* -i: the interface is opened and root given up before any output is */
    if (run.iface && (rc = cli_engine_live_start(&run, NULL))) { cli_engine_release(&run); return rc; }
    /* -o clickhouse://...: a table, not a file (docs/store.md) */
    bool url = ni_sink_is_url(out_path);
    ni_output *out = url ? NULL : cli_out_open(out_path, &err);
    ni_sink *k = url ? ni_sink_new_url(out_path, &err) : out ? ni_sink_new(out, fmt, &err) : NULL;
    if (!k) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        if (out) cli_out_abort(out);
        cli_engine_release(&run);
        return 1;
    }
    if (run.iface) {
        /* sessions reach a pipe or terminal about every second, not when a buffer fills */
        ni_run_every(run.run, 1000000, flush_output, out);
        cli_engine_read(&run, (char **)&run.iface, 1, ni_sink_session, k);
    } else {
        cli_engine_read(&run, argv + optind, argc - optind, ni_sink_session, k);
    }
    ni_error ferr = { 0 };
    if (!run.files_read || run.output_failed || run.output_closed) {
        if (out) cli_out_abort(out);        /* nothing read, or the output is lost: the previous file stays */
    } else if (ni_sink_end(k, &ferr) != NI_OK) {
        if (out) cli_out_abort(out);
        if (ferr.code == NI_ERR_PIPE) run.output_closed = true;
        else { fprintf(stderr, "netintel: %s\n", ferr.msg); run.output_failed = true; }
    } else if (out && cli_out_commit(out, &ferr) != NI_OK) {
        if (ferr.code == NI_ERR_PIPE) run.output_closed = true;
        else { fprintf(stderr, "netintel: %s\n", ferr.msg); run.output_failed = true; }
    }
    cli_engine_warn_unmatched(&run);
    rc = cli_engine_status(&run);
    ni_sink_free(k);
    cli_engine_release(&run);
    return rc;
}
