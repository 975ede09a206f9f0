/* cmd_sessions.c — `netintel sessions`: captures → one record per session,
 * as JSON Lines (the contract in docs/sessions.md) or CSV, written as
 * sessions end.  Several captures form one run ("-" = standard input).
 * A damaged input gets one line "netintel: <file>: <problem>" and the exit
 * status 1, after every session read before the damage is written; usage
 * errors exit 2.  A run summary goes to stderr, or as JSON to --stats FILE;
 * progress is shown on stderr only when it is a terminal. */
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
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "output/ni_out.h"
#include "session/ni_engine.h"
#include "session/ni_target.h"

static const char usage_text[] =
    "usage: netintel sessions [options] CAPTURE...\n"
    "\n"
    "Reads pcap/pcapng captures (also .gz/.zst; '-' = standard input) and writes\n"
    "one record per session (bidirectional flow) as it ends.\n"
    "\n"
    "options:\n"
    "  --target SPEC        the target space, repeatable: CIDRs (comma-separated),\n"
    "                       @FILE (one prefix a line), a preset (kp), country:CC, asn:N;\n"
    "                       sets each session's direction (outbound, inbound, ...)\n"
    "  --format FMT         jsonl (default) or csv\n"
    "  -o, --output FILE    write to FILE (atomically) instead of standard output\n"
    "  --stats FILE         write the run summary as JSON to FILE, not to stderr\n"
    "  --max-flows N        live flows kept at once (default %u); the least\n"
    "                       recently active is emitted when full\n"
    "  --tcp-timeout S      TCP idle timeout in seconds (default %lld)\n"
    "  --udp-timeout S      UDP/other idle timeout in seconds (default %lld)\n"
    "  --active-timeout S   split sessions longer than S seconds (default %lld)\n"
    "  -h, --help           this help\n"
    "\n"
    "exit status: 0 ok, 1 an input or output failed, 2 usage error\n";

static void usage(FILE *f)
{
    fprintf(f, usage_text, NI_FLOWS_MAX_DEFAULT, (long long)(NI_FLOW_IDLE_TCP_US / 1000000),
            (long long)(NI_FLOW_IDLE_UDP_US / 1000000), (long long)(NI_FLOW_ACTIVE_US / 1000000));
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "netintel sessions: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'netintel sessions --help')\n");
    return 2;
}

/* ---- output sink -------------------------------------------------------- */
typedef struct sink {
    ni_file file;
    ni_out_format fmt;
    ni_buf buf;
} sink;

static ni_err sink_write(void *ud, const ni_session *s, ni_error *err)
{
    sink *k = ud;
    ni_buf_clear(&k->buf);
    ni_out_session(&k->buf, k->fmt, s);
    if (k->buf.err) return ni_error_set(err, k->buf.err, "a session record is too large");
    return ni_file_write(&k->file, k->buf.p, k->buf.len, err);
}

static void warn(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "netintel: %s\n", msg);
}

/* ---- progress (only on a terminal) -------------------------------------- */
typedef struct progress {
    unsigned file, files;
    double t0, last;
    int shown;
} progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_progress(void *ud, const ni_engine_progress *p)
{
    progress *g = ud;
    double t = now_s();
    if (t - g->last < 0.25) return;
    g->last = t;
    double rate = t > g->t0 ? (double)p->stats->packets / (t - g->t0) : 0;
    if (p->total)
        fprintf(stderr, "\r\033[K[%u/%u] %s %3.0f%%  %llu packets  %.0f packets/s", g->file, g->files,
                p->path, 100.0 * (double)p->done / (double)p->total,
                (unsigned long long)p->stats->packets, rate);
    else
        fprintf(stderr, "\r\033[K[%u/%u] %s  %llu packets  %.0f packets/s", g->file, g->files, p->path,
                (unsigned long long)p->stats->packets, rate);
    g->shown = 1;
}

/* ---- summary ------------------------------------------------------------ */
static void stats_json(ni_buf *b, const ni_stats *st, unsigned files, unsigned failed, size_t peak)
{
    ni_json j;
    ni_json_init(&j, b, 2);
    ni_json_obj_begin(&j);
    ni_json_kuint(&j, "files", files);
    ni_json_kuint(&j, "files_failed", failed);
    ni_json_kuint(&j, "packets", st->packets);
    ni_json_kuint(&j, "bytes", st->bytes);
    ni_json_kuint(&j, "ip_packets", st->ip_packets);
    ni_json_kuint(&j, "sessions", st->sessions);
    ni_json_kuint(&j, "malformed", st->malformed);
    ni_json_kuint(&j, "truncated", st->truncated);
    ni_json_kuint(&j, "unsupported", st->unsupported);
    ni_json_kuint(&j, "fragments", st->fragments);
    ni_json_kuint(&j, "non_ip", st->non_ip);
    ni_json_kuint(&j, "evicted", st->evicted);
    ni_json_kuint(&j, "reasm_dropped", st->reasm_dropped);
    ni_json_kuint(&j, "http_requests", st->http_requests);
    ni_json_kuint(&j, "tls_hellos", st->tls_hellos);
    ni_json_kuint(&j, "dns_messages", st->dns_messages);
    ni_json_kuint(&j, "quic_initials", st->quic_initials);
    ni_json_kuint(&j, "dissect_errors", st->dissect_errors);
    ni_json_kuint(&j, "peak_flows", peak);
    ni_json_obj_end(&j);
    ni_buf_addc(b, '\n');
}

static void stats_text(FILE *f, const ni_stats *st, unsigned files, unsigned failed)
{
    fprintf(f, "summary: files %u (%u failed), packets %llu, bytes %llu, sessions %llu, "
               "malformed %llu, truncated %llu, unsupported %llu, fragments %llu, non_ip %llu, "
               "evicted %llu, reasm_dropped %llu, dissect_errors %llu\n",
            files, failed, (unsigned long long)st->packets, (unsigned long long)st->bytes,
            (unsigned long long)st->sessions, (unsigned long long)st->malformed,
            (unsigned long long)st->truncated, (unsigned long long)st->unsupported,
            (unsigned long long)st->fragments, (unsigned long long)st->non_ip,
            (unsigned long long)st->evicted, (unsigned long long)st->reasm_dropped,
            (unsigned long long)st->dissect_errors);
}

/* Seconds (may be fractional) → µs; false unless 0 < s <= 10 years. */
static bool parse_seconds(const char *s, int64_t *us)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v <= 0 || v > 315576000.0) return false;
    *us = (int64_t)(v * 1e6);
    return *us > 0;
}

int cmd_sessions(int argc, char **argv)
{
    enum { O_TARGET = 256, O_FORMAT, O_STATS, O_MAXFLOWS, O_TCP, O_UDP, O_ACTIVE };
    static const struct option opts[] = {
        { "target", required_argument, NULL, O_TARGET },
        { "format", required_argument, NULL, O_FORMAT },
        { "output", required_argument, NULL, 'o' },
        { "stats", required_argument, NULL, O_STATS },
        { "max-flows", required_argument, NULL, O_MAXFLOWS },
        { "tcp-timeout", required_argument, NULL, O_TCP },
        { "udp-timeout", required_argument, NULL, O_UDP },
        { "active-timeout", required_argument, NULL, O_ACTIVE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    ni_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    ni_flow_config_default(&cfg.flow);
    ni_out_format fmt = NI_OUT_JSONL;
    const char *out_path = NULL, *stats_path = NULL;
    ni_target *target = NULL;
    ni_error err = { 0 };
    int rc = 0;

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            ni_target_free(target);
            return 0;
        case O_TARGET:
            if (!target && !(target = ni_target_new())) { fprintf(stderr, "netintel: out of memory\n"); return 1; }
            if (ni_target_add_spec(target, optarg, &err) != NI_OK) {
                fprintf(stderr, "netintel sessions: %s\n", err.msg);
                ni_target_free(target);
                return 2;
            }
            break;
        case O_FORMAT:
            if (ni_out_format_parse(optarg, &fmt) != NI_OK) {
                ni_target_free(target);
                return usage_error("--format: '%s': expected jsonl or csv", optarg);
            }
            break;
        case 'o': out_path = optarg; break;
        case O_STATS: stats_path = optarg; break;
        case O_MAXFLOWS: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || v == 0 || v > (1ull << 30) || optarg[0] == '-') {
                ni_target_free(target);
                return usage_error("--max-flows: '%s': expected a number from 1 to 1073741824", optarg);
            }
            cfg.flow.max_flows = (uint32_t)v;
            break;
        }
        case O_TCP: case O_UDP: case O_ACTIVE: {
            int64_t us;
            if (!parse_seconds(optarg, &us)) {
                ni_target_free(target);
                return usage_error(c == O_TCP ? "--tcp-timeout: '%s': expected seconds > 0"
                                   : c == O_UDP ? "--udp-timeout: '%s': expected seconds > 0"
                                   : "--active-timeout: '%s': expected seconds > 0", optarg);
            }
            if (c == O_TCP) cfg.flow.tcp_idle_us = us;
            else if (c == O_UDP) cfg.flow.udp_idle_us = us;
            else cfg.flow.active_us = us;
            break;
        }
        case ':':
            ni_target_free(target);
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            ni_target_free(target);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        ni_target_free(target);
        return usage_error("%s", "no capture given");
    }
    unsigned nfiles = (unsigned)(argc - optind);
    if (nfiles > NI_INPUTS_MAX) {
        ni_target_free(target);
        return usage_error("%s", "too many captures in one run");
    }

    cfg.target = target;
    ni_engine *e = ni_engine_new(&cfg, &err);
    if (!e) { fprintf(stderr, "netintel: %s\n", err.msg); ni_target_free(target); return 1; }
    sink k;
    memset(&k, 0, sizeof k);
    k.fmt = fmt;
    ni_buf_init(&k.buf, 4u * 1024 * 1024);
    if (ni_file_open(&k.file, out_path, &err) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        ni_buf_release(&k.buf);
        ni_engine_free(e);
        ni_target_free(target);
        return 1;
    }
    ni_out_begin(&k.buf, fmt);
    if (k.buf.len) ni_file_write(&k.file, k.buf.p, k.buf.len, NULL);
    ni_engine_set_sink(e, sink_write, &k);
    ni_engine_set_warn(e, warn, NULL);
    progress prog = { 0, nfiles, now_s(), 0, 0 };
    if (isatty(STDERR_FILENO)) ni_engine_set_progress(e, on_progress, &prog, 16384);

    unsigned failed = 0;
    bool out_failed = false;
    for (int i = optind; i < argc && !out_failed; i++) {
        prog.file = (unsigned)(i - optind + 1);
        ni_error ferr = { 0 };
        ni_err r = ni_engine_read(e, argv[i], &ferr);
        if (r != NI_OK) {
            if (prog.shown) { fprintf(stderr, "\r\033[K"); prog.shown = 0; }
            fprintf(stderr, "netintel: %s\n", ferr.msg[0] ? ferr.msg : ni_strerror(r));
            if (k.file.failed) out_failed = true;
            else failed++;
            rc = 1;
        }
    }
    ni_error ferr = { 0 };
    if (!out_failed && ni_engine_finish(e, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        out_failed = true;
    }
    if (prog.shown) fprintf(stderr, "\r\033[K");
    if (out_failed) {
        ni_file_abort(&k.file);
        rc = 1;
    } else if (ni_file_commit(&k.file, &ferr) != NI_OK) {
        fprintf(stderr, "netintel: %s\n", ferr.msg);
        rc = 1;
    }

    const ni_stats *st = ni_engine_stats(e);
    if (stats_path) {
        ni_buf b;
        ni_buf_init(&b, 1u << 16);
        stats_json(&b, st, nfiles, failed, ni_engine_peak_flows(e));
        if (ni_file_write_all(stats_path, b.p, b.len, &ferr) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", ferr.msg);
            rc = 1;
        }
        ni_buf_release(&b);
    } else {
        stats_text(stderr, st, nfiles, failed);
    }
    ni_buf_release(&k.buf);
    ni_engine_free(e);
    ni_target_free(target);
    return rc;
}
