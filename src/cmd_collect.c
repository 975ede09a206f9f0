/* cmd_collect.c — `netintel collect`: a flow collector.  Receives NetFlow
 * v5/v9 and IPFIX exports on UDP sockets (--listen, repeatable) or reads
 * captures of export datagrams (--read), pairs the records into sessions
 * (lib/ingest/ni_netflow) and writes them like `sessions` does (JSON Lines
 * or CSV, enriched unless --no-enrich).  SIGINT/SIGTERM (or --duration)
 * end a live run: everything received is decoded, pending records are
 * emitted, the output is committed.  A summary (datagrams, records,
 * templates, lost records, kernel drops...) goes to stderr or --stats. */
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
#include "api/ni_run.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "enrich/ni_enrich.h"
#include "ingest/ni_collect.h"
#include "ingest/ni_netflow.h"
#include "output/ni_out.h"

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
    "                      standard output\n"
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
    fprintf(f, usage_text, (long long)(NI_NETFLOW_PAIR_US / 1000000),
            (long long)(NI_NETFLOW_TEMPLATE_TTL_US / 1000000));
}

static int usage_error(const char *fmt, const char *arg) { return cli_usage_error("collect", fmt, arg); }

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

typedef struct sink {
    ni_file file;
    ni_out_format fmt;
    ni_buf buf;
    ni_enrich *en;
    const ni_target *target;
} sink;

static ni_err sink_write(void *ud, ni_session *s, ni_error *err)
{
    sink *k = ud;
    s->direction = ni_target_direction(k->target, &s->client, &s->server);
    if (k->en) ni_enrich_session(k->en, s);
    ni_buf_clear(&k->buf);
    ni_out_session(&k->buf, k->fmt, s);
    if (k->buf.err) return ni_error_set(err, k->buf.err, "a session record is too large");
    return ni_file_write(&k->file, k->buf.p, k->buf.len, err);
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

/* The first exporter streams of the summary (--stats); the count says how many there were. */
#define EXPORTERS_SHOWN 256

static void summary(const char *stats_path, const ni_netflow *nf, const ni_collect_stats *cs, int *rc)
{
    const ni_netflow_stats *st = ni_netflow_stats_get(nf);
    static ni_netflow_exporter ex[EXPORTERS_SHOWN];
    size_t nex = ni_netflow_exporters(nf, ex, EXPORTERS_SHOWN);
    if (stats_path) {
        ni_buf b;
        ni_buf_init(&b, 1u << 16);
        ni_json j;
        ni_json_init(&j, &b, 2);
        ni_json_obj_begin(&j);
#define J(f) ni_json_kuint(&j, #f, st->f);
        STAT_FIELDS(J)
#undef J
        ni_json_kuint(&j, "kernel_drops", cs->kernel_drops);
        ni_json_kuint(&j, "oversized", cs->oversized);
        ni_json_kuint(&j, "recv_errors", cs->recv_errors);
        ni_json_kuint(&j, "capture_frames", cs->capture_frames);
        ni_json_kuint(&j, "capture_not_udp", cs->capture_not_udp);
        ni_json_kbool(&j, "estimates", st->sampled > 0);
        ni_json_kuint(&j, "exporter_streams", nex);
        ni_json_key(&j, "exporters");
        ni_json_arr_begin(&j);
        for (size_t i = 0; i < nex && i < EXPORTERS_SHOWN; i++) {
            char a[NI_ADDR_STRLEN];
            ni_json_obj_begin(&j);
            ni_json_kstr(&j, "address", ni_addr_format(&ex[i].address, a));
            ni_json_kstr(&j, "source", ni_netflow_source_name(ex[i].version));
            ni_json_kuint(&j, "domain", ex[i].domain);
            ni_json_kuint(&j, "datagrams", ex[i].datagrams);
            ni_json_kuint(&j, "records", ex[i].records);
            ni_json_kuint(&j, ex[i].version == 9 ? "lost_datagrams" : "lost_records", ex[i].lost);
            ni_json_kuint(&j, "templates", ex[i].templates);
            if (ex[i].sampling) ni_json_kuint(&j, "sampling", ex[i].sampling);
            ni_json_obj_end(&j);
        }
        ni_json_arr_end(&j);
        ni_json_obj_end(&j);
        ni_buf_addc(&b, '\n');
        ni_error ferr = { 0 };
        if (ni_file_write_all(stats_path, b.p, b.len, &ferr) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", ferr.msg);
            *rc = 1;
        }
        ni_buf_release(&b);
        return;
    }
    if (cli_quiet) return;
    fprintf(stderr, "summary:");
#define T(f) fprintf(stderr, " " #f " %llu,", (unsigned long long)st->f);
    STAT_FIELDS(T)
#undef T
    fprintf(stderr, " kernel_drops %llu\n", (unsigned long long)cs->kernel_drops);
    for (size_t i = 0; i < nex && i < EXPORTERS_SHOWN; i++)
        if (ex[i].lost) {
            char a[NI_ADDR_STRLEN];
            fprintf(stderr, "exporter %s %s domain %u: %llu %s lost (sequence gaps)\n",
                    ni_addr_format(&ex[i].address, a), ni_netflow_source_name(ex[i].version), ex[i].domain,
                    (unsigned long long)ex[i].lost, ex[i].version == 9 ? "export datagrams" : "records");
        }
    if (st->sampled)
        fprintf(stderr, "note: %llu sessions come from sampled records: their packet and byte counts are "
                        "estimates (scaled by the sampling interval)\n", (unsigned long long)st->sampled);
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
    static const char *const unused[] = { "max-flows", "tcp-timeout", "udp-timeout", "active-timeout", "no-ndpi" };
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
    ni_out_format fmt = NI_OUT_JSONL;
    const char *out_path = NULL;
    const char *listen[NI_COLLECT_LISTEN_MAX], *reads[NI_INPUTS_MAX];
    size_t nlisten = 0, nreads = 0;
    int64_t duration = 0;
    ni_netflow_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = 0, c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        int r = cli_engine_option(&run, c, optarg);
        if (r == 0) continue;
        if (r == 2) { cli_engine_release(&run); return 2; }
        switch (c) {
        case 'h': usage(stdout); cli_engine_release(&run); return 0;
        case O_FORMAT:
            if (ni_out_format_parse(optarg, &fmt) != NI_OK) {
                cli_engine_release(&run);
                return usage_error("--format: '%s': expected jsonl or csv", optarg);
            }
            break;
        case O_LISTEN:
            if (nlisten >= NI_COLLECT_LISTEN_MAX) { cli_engine_release(&run); return usage_error("%s", "too many --listen"); }
            listen[nlisten++] = optarg;
            break;
        case O_READ:
            if (nreads >= NI_INPUTS_MAX) { cli_engine_release(&run); return usage_error("%s", "too many --read"); }
            reads[nreads++] = optarg;
            break;
        case O_DURATION: case O_PAIR: case O_TTL: {
            int64_t us;
            if (!cli_parse_seconds(optarg, &us)) {
                cli_engine_release(&run);
                return usage_error(c == O_DURATION ? "--duration: '%s': expected seconds > 0"
                                   : c == O_PAIR ? "--pair-timeout: '%s': expected seconds > 0"
                                   : "--template-timeout: '%s': expected seconds > 0", optarg);
            }
            if (c == O_DURATION) duration = us;
            else if (c == O_PAIR) cfg.pair_timeout_us = us;
            else cfg.template_ttl_us = us;
            break;
        }
        case 'o': out_path = optarg; break;
        case ':': cli_engine_release(&run); return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: cli_engine_release(&run); return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) { cli_engine_release(&run); return usage_error("unexpected argument '%s'", argv[optind]); }
    if (!nlisten && !nreads) { cli_engine_release(&run); return usage_error("%s", "give --listen or --read"); }
    if (nlisten && nreads) { cli_engine_release(&run); return usage_error("%s", "--listen and --read do not mix"); }
    if ((rc = cli_engine_prepare(&run))) { cli_engine_release(&run); return rc; }

    ni_error err = { 0 };
    sink k2;
    memset(&k2, 0, sizeof k2);
    k2.fmt = fmt;
    if (!run.no_enrich && !(k2.en = ni_run_enrich(run.run, &err))) {
        fprintf(stderr, "netintel: %s (enrichment data: run scripts/install-deps, or use --no-enrich)\n", err.msg);
        cli_engine_release(&run);
        return 1;
    }
    k2.target = ni_run_target(run.run);
    ni_netflow *nf = ni_netflow_new(&cfg, &err);
    ni_collect *col = nf ? ni_collect_new(nf, &err) : NULL;
    if (!col) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        ni_netflow_free(nf);
        cli_engine_release(&run);
        return 1;
    }
    ni_collect_set_warn(col, warn, NULL);
    for (size_t i = 0; i < nlisten; i++) {
        if (ni_collect_listen(col, listen[i], &err) != NI_OK) {
            fprintf(stderr, "netintel collect: %s\n", err.msg);
            rc = err.code == NI_ERR_ARG ? 2 : 1;
            ni_collect_free(col);
            ni_netflow_free(nf);
            cli_engine_release(&run);
            return rc;
        }
    }

    ni_buf_init(&k2.buf, 4u * 1024 * 1024);
    if (ni_file_open(&k2.file, out_path, &err) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        ni_buf_release(&k2.buf);
        ni_collect_free(col);
        ni_netflow_free(nf);
        cli_engine_release(&run);
        return 1;
    }
    ni_netflow_set_sink(nf, sink_write, &k2);
    ni_out_begin(&k2.buf, fmt);
    if (k2.buf.len) ni_file_write(&k2.file, k2.buf.p, k2.buf.len, NULL);

    if (nlisten) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;       /* no SA_RESTART: poll returns at once */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (!cli_quiet)
            for (size_t i = 0; i < ni_collect_sockets(col); i++)
                fprintf(stderr, "netintel: listening on %s (port %u)\n", listen[i], ni_collect_port(col, i));
        if (ni_collect_run(col, &stop_flag, duration, &err) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", err.msg);
            rc = 1;
        }
    }
    for (size_t i = 0; i < nreads && !k2.file.failed; i++) {
        ni_error ferr = { 0 };
        if (ni_collect_read(col, reads[i], &ferr) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", ferr.msg[0] ? ferr.msg : ni_strerror(ferr.code));
            rc = 1;
        }
    }
    ni_error ferr = { 0 };
    if (!k2.file.failed && ni_netflow_finish(nf, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        rc = 1;
    }
    if (k2.file.failed) {
        ni_file_abort(&k2.file);
        rc = 1;
    } else if (ni_file_commit(&k2.file, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        rc = 1;
    }
    summary(run.stats_path, nf, ni_collect_stats_get(col), &rc);
    ni_buf_release(&k2.buf);
    ni_collect_free(col);
    ni_netflow_free(nf);
    cli_engine_release(&run);
    return rc;
}
