/* cmd_collect.c — `netintel collect`: a flow collector.  Receives NetFlow
 * v5/v9 and IPFIX exports on UDP sockets (--listen, repeatable) or reads
 * captures of export datagrams (--read), pairs the records into sessions
 * (lib/ingest/ni_netflow) and writes them like `sessions` does (JSON Lines
 * or CSV, enriched unless --no-enrich).  SIGINT/SIGTERM (or --duration)
 * end a live run: everything received is decoded, pending records are
 * emitted, the output is committed.  A summary (datagrams, records,
 * templates, lost records, kernel drops...) goes to stderr or --stats.
 * Written on the embedding API alone (netintel/collect.h: the collector's
 * sessions go through a run, out through ni_sink as in `sessions`). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netintel/netintel.h"
#include "cli.h"
#include "cli_engine.h"
#include "cli_out.h"

static const char usage_text[] =
    "usage: netintel collect --listen udp://HOST:PORT... [options]\n"
    "       netintel collect --read CAPTURE... [options]\n"
    "\n"
    "A flow collector: NetFlow v5, v9 and IPFIX records (from routers, nfdump,\n"
    "softflowd...) become sessions, the two directions of a conversation paired\n"
    "into one; each says its source (netflow5, netflow9, ipfix) and, when the\n"
    "exporter samples, 'sampled: N' (its counts are estimates).\n"
    "\n"
    "options:\n"
    "  --listen udp://HOST:PORT  receive exports on this socket, repeatable\n"
    "                      (IPv6: udp://[ADDR]:PORT); runs until SIGINT/SIGTERM\n"
    "  --read CAPTURE      read export datagrams from a pcap/pcapng capture, repeatable\n"
    "  --duration S        stop listening after S seconds\n"
    "  --pair-timeout S    join the two directions when they arrive within S seconds\n"
    "  --template-timeout S  forget templates not refreshed for S seconds\n"
    "  --target SPEC       the target space, repeatable (as for sessions); sets direction\n"
    "  --format FMT        jsonl (default) or csv\n"
    "  -o, --output FILE   write to FILE (atomically, when the run ends) instead of\n"
    "                      standard output; or clickhouse://HOST:PORT/DB?table=T:\n"
    "                      inserted into a ClickHouse table as they end (docs/store.md)\n"
    "  --no-enrich         no GeoIP, ASN, service, VPN fields\n"
    "  --geoip FILE        MaxMind-format country database (default: $NETINTEL_GEOIP,\n"
    "                      /usr/share/GeoIP/GeoLite2-Country.mmdb, or the bundled one)\n"
    "  --asn PATH          GeoLite2-ASN .mmdb or a folder of ip-location-db ASN CSVs\n"
    "  --stats FILE        write the run summary as JSON to FILE, not to stderr\n"
    "  -h, --help          this help\n"
    "\n"
    "defaults: --pair-timeout %lld, --template-timeout %lld\n"
    "exit status: 0 ok, 1 an input, socket or output failed, 2 usage error\n";

static void usage(FILE *f)
{
    ni_collector_options d;
    ni_collector_options_init(&d);
    fprintf(f, usage_text, (long long)(d.pair_timeout_us / 1000000), (long long)(d.template_ttl_us / 1000000));
}

static int usage_error(const char *fmt, const char *arg) { return cli_usage_error("collect", fmt, arg); }

/* The run a signal stops (ni_run_interrupt is async-signal-safe). */
static ni_run *volatile signal_run;
static void on_signal(int sig)
{
    (void)sig;
    if (signal_run) ni_run_interrupt(signal_run);
}

/* The output: sessions through ni_sink, its failure remembered. */
typedef struct sink {
    ni_sink *k;
    bool failed;
} sink;

static ni_err sink_write(void *ud, const ni_session *s, ni_error *err)
{
    sink *k = ud;
    ni_err e = ni_sink_session(k->k, s, err);
    if (e) k->failed = true;
    return e;
}

static unsigned long warnings;
static void warn(void *ud, const char *msg)
{
    (void)ud;
    if (cli_quiet) return;
    if (++warnings <= 20) fprintf(stderr, "netintel: %s\n", msg);
    else if (warnings == 21) fprintf(stderr, "netintel: further warnings about export datagrams not shown\n");
}

#define STAT_FIELDS(X) \
    X(datagrams) X(v5) X(v9) X(ipfix) X(not_export) X(malformed) X(records) X(records_short) \
    X(no_template) X(templates) X(templates_bad) X(template_withdrawals) X(templates_expired) \
    X(template_limit) X(domain_limit) X(options_records) X(lost_records) X(lost_datagrams) \
    X(sessions) X(paired) X(biflows) X(sampled) X(pending_evicted)

/* The first exporter streams of the summary on stderr. */
#define EXPORTERS_SHOWN 256

static void summary(const char *stats_path, ni_collector *col, int *rc)
{
    if (stats_path) {
        const char *text;
        size_t len;
        ni_error ferr = { 0 };
        if (ni_collector_stats_json(col, &text, &len, &ferr) != NI_OK ||
            cli_out_write_all(stats_path, text, len, &ferr) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", ferr.msg);
            *rc = 1;
        }
        return;
    }
    if (cli_quiet) return;
    ni_collector_stats st;
    ni_collector_get_stats(col, &st);
    static ni_collector_exporter ex[EXPORTERS_SHOWN];
    size_t nex = ni_collector_exporters(col, ex, EXPORTERS_SHOWN);
    fprintf(stderr, "summary:");
#define T(f) fprintf(stderr, " " #f " %llu,", (unsigned long long)st.f);
    STAT_FIELDS(T)
#undef T
    fprintf(stderr, " kernel_drops %llu\n", (unsigned long long)st.kernel_drops);
    for (size_t i = 0; i < nex && i < EXPORTERS_SHOWN; i++)
        if (ex[i].lost) {
            char a[NI_ADDR_STRLEN];
            bool v9 = !strcmp(ex[i].source, "netflow9");
            fprintf(stderr, "exporter %s %s domain %u: %llu %s lost (sequence gaps)\n",
                    ni_addr_format(&ex[i].address, a), ex[i].source, ex[i].domain,
                    (unsigned long long)ex[i].lost, v9 ? "export datagrams" : "records");
        }
    if (st.sampled)
        fprintf(stderr, "note: %llu sessions come from sampled records: their packet and byte counts are "
                        "estimates (scaled by the sampling interval)\n", (unsigned long long)st.sampled);
}

int cmd_collect(int argc, char **argv)
{
    enum { O_FORMAT = 400, O_LISTEN, O_READ, O_DURATION, O_PAIR, O_TTL };
    static const struct option own[] = {
        { "listen", required_argument, NULL, O_LISTEN },
        { "read", required_argument, NULL, O_READ },
        { "duration", required_argument, NULL, O_DURATION },
        { "pair-timeout", required_argument, NULL, O_PAIR },
        { "template-timeout", required_argument, NULL, O_TTL },
        { "format", required_argument, NULL, O_FORMAT },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
    };
    /* the shared engine options that apply to flow records */
    static const char *const unused[] = { "max-flows", "tcp-timeout", "udp-timeout", "active-timeout", "no-ndpi",
                                          "filter", "flows", "threads" };
    struct option all[64], opts[64];
    size_t n = cli_engine_options(all, 64, own, sizeof own / sizeof own[0]), k = 0;
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        for (size_t u = 0; u < sizeof unused / sizeof unused[0]; u++) skip |= !strcmp(all[i].name, unused[u]);
        if (!skip) opts[k++] = all[i];
    }
    memset(&opts[k], 0, sizeof opts[k]);

    cli_engine run;
    cli_engine_init(&run, "collect");
    run.threads_given = true;           /* flow records: no worker threads */
    ni_format fmt = NI_FORMAT_JSONL;
    const char *out_path = NULL;
    const char *listen[NI_COLLECTOR_LISTEN_MAX];
    const char **reads = calloc((size_t)argc + 1, sizeof *reads);   /* each --read takes an argument */
    size_t nlisten = 0, nreads = 0;
    int64_t duration = 0;
    ni_collector_options cfg;
    ni_collector_options_init(&cfg);
    int rc = 0, c;
    if (!reads) { fprintf(stderr, "netintel collect: out of memory\n"); return 1; }
#define USAGE(...) do { cli_engine_release(&run); free(reads); return usage_error(__VA_ARGS__); } while (0)

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        int r = cli_engine_option(&run, c, optarg);
        if (r == 0) continue;
        if (r == 2 || r < 0) { cli_engine_release(&run); free(reads); return r < 0 ? 1 : 2; }
        switch (c) {
        case 'h': usage(stdout); cli_engine_release(&run); free(reads); return 0;
        case O_FORMAT:
            if (ni_format_parse(optarg, &fmt) != NI_OK) USAGE("--format: '%s': expected jsonl or csv", optarg);
            break;
        case O_LISTEN:
            if (nlisten >= NI_COLLECTOR_LISTEN_MAX) USAGE("%s", "too many --listen");
            listen[nlisten++] = optarg;
            break;
        case O_READ:
            if (nreads >= run.opts.max_inputs) USAGE("%s", "too many --read");
            reads[nreads++] = optarg;
            break;
        case O_DURATION: case O_PAIR: case O_TTL: {
            int64_t us;
            if (!cli_parse_seconds(optarg, &us))
                USAGE(c == O_DURATION ? "--duration: '%s': expected seconds > 0"
                      : c == O_PAIR ? "--pair-timeout: '%s': expected seconds > 0"
                      : "--template-timeout: '%s': expected seconds > 0", optarg);
            if (c == O_DURATION) duration = us;
            else if (c == O_PAIR) cfg.pair_timeout_us = us;
            else cfg.template_ttl_us = us;
            break;
        }
        case 'o': out_path = optarg; break;
        case ':': USAGE("option '%s' needs a value", argv[optind - 1]);
        default: USAGE("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) USAGE("unexpected argument '%s'", argv[optind]);
    if (!nlisten && !nreads) USAGE("%s", "give --listen or --read");
    if (nlisten && nreads) USAGE("%s", "--listen and --read do not mix");
#undef USAGE
    if ((rc = cli_engine_prepare(&run))) { cli_engine_release(&run); free(reads); return rc; }

    ni_error err = { 0 };
    if (!run.no_enrich && ni_run_load(run.run, &err)) {
        fprintf(stderr, "netintel: %s (enrichment data: run scripts/install-deps, or use --no-enrich)\n", err.msg);
        cli_engine_release(&run);
        free(reads);
        return 1;
    }
    ni_run_on_warning(run.run, warn, NULL);
    ni_collector *col = ni_collector_new(run.run, &cfg, &err);
    if (!col) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        cli_engine_release(&run);
        free(reads);
        return 1;
    }
    for (size_t i = 0; i < nlisten; i++) {
        if (ni_collector_listen(col, listen[i], &err) != NI_OK) {
            fprintf(stderr, "netintel collect: %s\n", err.msg);
            rc = err.code == NI_ERR_ARG ? 2 : 1;
            ni_collector_free(col);
            cli_engine_release(&run);
            free(reads);
            return rc;
        }
    }

    sink k2 = { NULL, false };
    /* -o clickhouse://...: a table, not a file (docs/store.md) */
    bool url = ni_sink_is_url(out_path);
    ni_output *out = url ? NULL : ni_output_open(out_path, &err);
    if (url ? !(k2.k = ni_sink_new_url(out_path, &err)) : !out || !(k2.k = ni_sink_new(out, fmt, &err))) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        ni_output_abort(out);
        ni_collector_free(col);
        cli_engine_release(&run);
        free(reads);
        return 1;
    }
    ni_run_on_session(run.run, sink_write, &k2);

    if (nlisten) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;       /* no SA_RESTART: poll returns at once */
        sigemptyset(&sa.sa_mask);
        signal_run = run.run;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (!cli_quiet)
            for (size_t i = 0; i < ni_collector_sockets(col); i++)
                fprintf(stderr, "netintel: listening on %s (port %u)\n", listen[i], ni_collector_port(col, i));
        if (ni_collector_run(col, duration, &err) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", err.msg);
            rc = 1;
        }
    }
    for (size_t i = 0; i < nreads && !k2.failed; i++) {
        ni_error ferr = { 0 };
        if (ni_collector_read(col, reads[i], &ferr) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", ferr.msg[0] ? ferr.msg : ni_strerror(ferr.code));
            rc = 1;
        }
    }
    ni_error ferr = { 0 };
    if (!k2.failed && ni_collector_finish(col, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        rc = 1;
    }
    if (!k2.failed && ni_sink_end(k2.k, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        k2.failed = true;
    }
    if (k2.failed) {
        ni_output_abort(out);
        rc = 1;
    } else if (out && ni_output_commit(out, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        rc = 1;
    }
    summary(run.stats_path, col, &rc);
    ni_sink_free(k2.k);
    ni_collector_free(col);
    signal_run = NULL;
    cli_engine_release(&run);
    free(reads);
    return rc;
}
