/* cmd_profile.c — `netintel profile`: captures of a target space → the
 * intelligence profile, written as DIR/report.json (the contract,
 * docs/report-schema.json), DIR/report.html and DIR/report.md, each
 * atomically; a short summary goes to standard output.  Sessions come from
 * the same engine as `sessions` and are enriched, then aggregated
 * (ni_run_profile, netintel/run.h); the HTML and Markdown are rendered from
 * the JSON (ni_profile_write).  `-i IFACE` profiles a live capture
 * (docs/live.md); `--every T` rewrites the report over the run so far every
 * T while it runs (ni_run_every). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netintel/netintel.h"
#include "cli.h"
#include "cli_engine.h"
#include "cli_out.h"

static const char usage_text[] =
    "usage: netintel profile [options] --target SPEC -o DIR INPUT...\n"
    "       netintel profile [options] --target SPEC -o DIR -i IFACE [--every T]\n"
    "\n"
    "Reads captures of a target space (pcap/pcapng, .gz/.zst, '-') or stored\n"
    "sessions (the JSON Lines of 'netintel sessions', its SQLite database, or a\n"
    "ClickHouse table: clickhouse://HOST:PORT/DB?table=T, read with the target and\n"
    "--since/--until in its WHERE) or Zeek's logs (a log file or a directory of\n"
    "logs), recognised by content, and writes its profile:\n"
    "DIR/report.json, DIR/report.html and DIR/report.md.\n"
    "\n"
    "options:\n"
    "  --target SPEC       the target space (required): CIDRs, @FILE, a preset (kp),\n"
    "                      country:CC, asn:N; repeatable\n"
    "  --tz ZONE           local time zone of the target (default: the preset's, else UTC)\n"
    "  --since DATE        only sessions from DATE (YYYY-MM-DD or RFC 3339)\n"
    "  --until DATE        only sessions before DATE\n"
    "  --events FILE       annotations drawn on the figures: TSV whose first row names\n"
    "                      the columns: date, label[, region[, site]]\n"
    "  -o, --output DIR    where the reports go (created if missing)\n"
    CLI_ENGINE_OPTIONS_HELP
    CLI_LIVE_OPTIONS_HELP
    "  --every T           with -i: write the report (over the whole run so far) every T\n"
    "                      (seconds, or with s, m, h, d: 10m), each file atomically\n"
    "  -h, --help          this help\n"
    "\n"
    "exit status: 0 ok, 1 an input or output failed (nothing is written when no\n"
    "input could be read) or counts were lost at a cap (report.json \"limits\"),\n"
    "2 usage error, 128+N stopped by signal N (what was read is written; a\n"
    "second signal exits at once); a live capture (-i) ends normally on\n"
    "SIGINT/SIGTERM: 0\n";

static int usage_error(const char *fmt, const char *arg) { return cli_usage_error("profile", fmt, arg); }

/* --every: the report so far, rewritten (each file atomically) while the
 * capture goes on; a failure is named and the capture goes on. */
typedef struct snapshot {
    ni_profile *prof;
    const char *dir;
    unsigned written, failed;
} snapshot;

static void write_snapshot(void *ud)
{
    snapshot *s = ud;
    ni_error err = { 0 };
    if (ni_profile_write(s->prof, s->dir, &err)) {
        s->failed++;
        fprintf(stderr, "netintel: %s: %s\n", s->dir, err.msg[0] ? err.msg : "cannot write the report");
    } else {
        s->written++;
    }
}

/* The report just written (and checked) by ni_profile_write_summary. */
static void summary(const char *dir, const ni_report_summary *r)
{
    printf("profile: %llu sessions (%llu outbound, %llu inbound, %llu internal), %llu target hosts\n",
           (unsigned long long)r->sessions, (unsigned long long)r->outbound, (unsigned long long)r->inbound,
           (unsigned long long)r->internal, (unsigned long long)r->hosts);
    printf("window:  %s .. %s\n", r->first ? r->first : "-", r->last ? r->last : "-");
    for (size_t i = 0; i < r->n_findings && i < 6; i++) printf("  - %s\n", r->findings[i]);
    printf("report:  %s/report.html\n", dir);
}

int cmd_profile(int argc, char **argv)
{
    enum { O_TZ = 300, O_SINCE, O_UNTIL, O_EVENTS, O_EVERY };
    static const struct option own[] = {
        { "tz", required_argument, NULL, O_TZ },
        { "since", required_argument, NULL, O_SINCE },
        { "until", required_argument, NULL, O_UNTIL },
        { "events", required_argument, NULL, O_EVENTS },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { "every", required_argument, NULL, O_EVERY },
        CLI_LIVE_LONG_OPTIONS,
    };
    struct option opts[64];
    size_t no = cli_engine_options(opts, 64, own, sizeof own / sizeof own[0]);
    (void)no;
    cli_engine run;
    cli_engine_init(&run, "profile");
    run.no_summary = true;      /* the profile prints its own summary */
    const char *tzname = NULL, *dir = NULL, *events_path = NULL;
    int64_t since = 0, until = 0, every = 0;
    int c, rc = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:i:j:", opts, NULL)) != -1) {
        int r = cli_engine_option(&run, c, optarg);
        if (r == 0) continue;
        if (r != 1) { cli_engine_release(&run); return r < 0 ? 1 : 2; }
        switch (c) {
        case 'h': printf("%s", usage_text); cli_engine_release(&run); return 0;
        case 'o': dir = optarg; break;
        case O_TZ: tzname = optarg; break;
        case O_EVENTS: events_path = optarg; break;
        case O_EVERY:
            if (!cli_parse_interval(optarg, &every)) {
                cli_engine_release(&run);
                return usage_error("--every: '%s': expected seconds > 0, or with s, m, h or d", optarg);
            }
            break;
        case O_SINCE: case O_UNTIL:
            if (ni_time_parse(optarg, c == O_SINCE ? &since : &until)) {
                cli_engine_release(&run);
                return usage_error(c == O_SINCE ? "--since: '%s': expected YYYY-MM-DD or RFC 3339"
                                                : "--until: '%s': expected YYYY-MM-DD or RFC 3339", optarg);
            }
            break;
        case ':': cli_engine_release(&run); return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: cli_engine_release(&run); return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!run.nspecs) { cli_engine_release(&run); return usage_error("%s", "--target is required"); }
    if (!dir) { cli_engine_release(&run); return usage_error("%s", "-o DIR is required"); }
    if ((rc = cli_engine_live_check(&run, argc - optind))) { cli_engine_release(&run); return rc; }
    if (every && !run.iface) { cli_engine_release(&run); return usage_error("%s", "--every needs -i IFACE"); }
    if (optind >= argc && !run.iface) { cli_engine_release(&run); return usage_error("%s", "no capture given"); }
    if (since && until && since >= until) {     /* [since, until) would hold nothing */
        cli_engine_release(&run);
        return usage_error("%s", since == until ? "--since and --until give an empty window"
                                                : "--since is after --until");
    }
    run.opts.tz = tzname;
    run.opts.since_us = since;
    run.opts.until_us = until;
    run.opts.events_path = events_path;
    if ((rc = cli_engine_prepare(&run))) { cli_engine_release(&run); return rc; }
    cli_signals_install(true);

    /* the events, the time zone (a bad one is a usage error) and the data */
    ni_error err = {0};
    ni_profile *prof = ni_run_profile(run.run, &err);
    if (!prof) {
        if (err.code == NI_ERR_ARG) fprintf(stderr, "netintel profile: %s\n", err.msg);
        else fprintf(stderr, "netintel: %s\n", err.msg);
        cli_engine_release(&run);
        return err.code == NI_ERR_ARG ? 2 : 1;
    }
    /* every input goes through the run's one source interface, in the
     * order given: captures, and stored sessions (JSON Lines written by
     * `netintel sessions`), whose direction is recomputed for this target
     * and whose enrichment is redone with the current data */
    /* -i: the interface is opened and root given up before anything is written */
    if (run.iface && (rc = cli_engine_live_start(&run, dir))) { cli_engine_release(&run); return rc; }
    snapshot snap = { prof, dir, 0, 0 };
    if (every) ni_run_every(run.run, every, write_snapshot, &snap);
    int r = run.iface ? cli_engine_read(&run, (char **)&run.iface, 1, NULL, NULL)
                      : cli_engine_read(&run, argv + optind, argc - optind, NULL, NULL);
    if (r == 2) rc = 2;
    if (!rc && !run.files_read) {       /* nothing could be read: the previous report stays */
        rc = run.interrupted ? cli_signal_status() : 1;      /* each failure was named */
    }
    if (!rc) cli_engine_warn_unmatched(&run);
    if (!rc) {
        /* capped as `report` and `diff` read it; checked against the
         * description before anything is written */
        ni_report_summary sum;
        if (ni_profile_write_summary(prof, dir, cli_quiet ? NULL : &sum, &err)) {
            fprintf(stderr, "netintel: %s: %s\n", dir, err.msg[0] ? err.msg : "cannot write the report");
            rc = 1;
        } else if (!cli_quiet) {
            summary(dir, &sum);
            ni_report_summary_release(&sum);
        }
        if (!ni_profile_complete(prof)) {
            ni_profile_loss l;
            ni_profile_get_losses(prof, &l);
            fprintf(stderr, "netintel: profile: counts lost (names %llu, hosts %llu, clients %llu, versions %llu, "
                    "evidence %llu past their caps; %llu out of memory); see \"limits\" in %s/report.json\n",
                    (unsigned long long)l.names, (unsigned long long)l.hosts, (unsigned long long)l.clients,
                    (unsigned long long)l.versions, (unsigned long long)l.evidence,
                    (unsigned long long)l.out_of_memory, dir);
            rc = 1;
        }
    }
    if (!rc) rc = cli_engine_status(&run);
    cli_engine_release(&run);
    return rc;
}
