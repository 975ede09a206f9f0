/* cli_engine.c — shared engine options and capture reading for the commands
 * (see cli_engine.h). */
#include "cli_engine.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { O_TARGET = 256, O_MAXFLOWS, O_TCP, O_UDP, O_ACTIVE, O_GEOIP, O_ASN, O_NO_ENRICH, O_NO_NDPI, O_STATS };

static const struct option shared[] = {
    { "target", required_argument, NULL, O_TARGET },
    { "max-flows", required_argument, NULL, O_MAXFLOWS },
    { "tcp-timeout", required_argument, NULL, O_TCP },
    { "udp-timeout", required_argument, NULL, O_UDP },
    { "active-timeout", required_argument, NULL, O_ACTIVE },
    { "geoip", required_argument, NULL, O_GEOIP },
    { "asn", required_argument, NULL, O_ASN },
    { "no-enrich", no_argument, NULL, O_NO_ENRICH },
    { "no-ndpi", no_argument, NULL, O_NO_NDPI },
    { "stats", required_argument, NULL, O_STATS },
};

void cli_engine_init(cli_engine *r, const char *cmd)
{
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    ni_flow_config_default(&r->cfg.flow);
    r->cfg.ndpi = true;
}

void cli_engine_release(cli_engine *r)
{
    for (size_t i = 0; i < r->nspecs; i++) free(r->specs[i]);
    free(r->specs);
    ni_target_free(r->target);
    ni_enrich_free(r->en);
    memset(r, 0, sizeof *r);
}

size_t cli_engine_options(struct option *out, size_t max, const struct option *own, size_t nown)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof shared / sizeof shared[0] && n + 1 < max; i++) out[n++] = shared[i];
    for (size_t i = 0; i < nown && n + 1 < max; i++) out[n++] = own[i];
    memset(&out[n], 0, sizeof out[n]);
    return n;
}

int cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "netintel %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'netintel %s --help')\n", cmd);
    return 2;
}

static int usage_error(const cli_engine *r, const char *fmt, const char *arg)
{
    return cli_usage_error(r->cmd, fmt, arg);
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

int cli_engine_option(cli_engine *r, int c, const char *arg)
{
    switch (c) {
    case O_TARGET: {
        char **ns = realloc(r->specs, (r->nspecs + 1) * sizeof *ns);
        if (!ns) return usage_error(r, "%s", "out of memory");
        r->specs = ns;
        if (!(r->specs[r->nspecs] = strdup(arg))) return usage_error(r, "%s", "out of memory");
        r->nspecs++;
        return 0;
    }
    case O_MAXFLOWS: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        if (end == arg || *end || errno || v == 0 || v > (1ull << 30) || arg[0] == '-')
            return usage_error(r, "--max-flows: '%s': expected a number from 1 to 1073741824", arg);
        r->cfg.flow.max_flows = (uint32_t)v;
        return 0;
    }
    case O_TCP: case O_UDP: case O_ACTIVE: {
        int64_t us;
        if (!parse_seconds(arg, &us))
            return usage_error(r, c == O_TCP ? "--tcp-timeout: '%s': expected seconds > 0"
                               : c == O_UDP ? "--udp-timeout: '%s': expected seconds > 0"
                               : "--active-timeout: '%s': expected seconds > 0", arg);
        if (c == O_TCP) r->cfg.flow.tcp_idle_us = us;
        else if (c == O_UDP) r->cfg.flow.udp_idle_us = us;
        else r->cfg.flow.active_us = us;
        return 0;
    }
    case O_GEOIP: r->geoip = arg; return 0;
    case O_ASN: r->asn = arg; return 0;
    case O_NO_ENRICH: r->no_enrich = true; return 0;
    case O_NO_NDPI: r->cfg.ndpi = false; return 0;
    case O_STATS: r->stats_path = arg; return 0;
    default: return 1;
    }
}

ni_enrich *cli_engine_enrich(cli_engine *r, ni_error *err)
{
    if (r->en) return r->en;
    const char *env = getenv("NETINTEL_GEOIP");
    ni_enrich_config c = { NULL, r->geoip ? r->geoip : (env && *env ? env : NULL), r->asn, false };
    r->en = ni_enrich_new(&c, err);
    return r->en;
}

/* Resolves country:/asn: specs, loading the enrichment (GeoIP, ASN) the
 * first time one is met — on the command line, in an @file or a preset. */
static ni_err lazy_resolve(void *ud, const char *kind, const char *value, ni_target *t, ni_error *err)
{
    cli_engine *r = ud;
    if (!cli_engine_enrich(r, err)) return err ? err->code : NI_ERR_DATA;
    return ni_enrich_networks(r->en, kind, value, ni_target_add_net, t, err);
}

int cli_engine_prepare(cli_engine *r)
{
    if (r->prepared) return 0;
    r->prepared = true;
    if (!r->nspecs) return 0;
    ni_error err = {0};
    if (!(r->target = ni_target_new())) { fprintf(stderr, "netintel: out of memory\n"); return 1; }
    ni_target_set_resolver(r->target, lazy_resolve, r);
    for (size_t i = 0; i < r->nspecs; i++) {
        if (ni_target_add_spec(r->target, r->specs[i], &err)) {
            fprintf(stderr, "netintel %s: %s\n", r->cmd, err.msg);
            return 2;
        }
    }
    r->cfg.target = r->target;
    return 0;
}

/* ---- progress (only on a terminal) ---------------------------------------- */
typedef struct progress { unsigned file, files; double t0, last; int shown; } progress;

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
        fprintf(stderr, "\r\033[K[%u/%u] %s %3.0f%%  %llu packets  %.0f packets/s", g->file, g->files, p->path,
                100.0 * (double)p->done / (double)p->total, (unsigned long long)p->stats->packets, rate);
    else
        fprintf(stderr, "\r\033[K[%u/%u] %s  %llu packets  %.0f packets/s", g->file, g->files, p->path,
                (unsigned long long)p->stats->packets, rate);
    g->shown = 1;
}

static void warn(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "netintel: %s\n", msg);
}

/* ---- summary ---------------------------------------------------------------- */
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

int cli_engine_read(cli_engine *r, char **files, int nfiles, ni_engine_hook hook, void *hook_ud,
                    ni_engine_sink sink, void *sink_ud)
{
    int rc = cli_engine_prepare(r);
    if (rc) return rc;
    if (nfiles > (int)NI_INPUTS_MAX) { fprintf(stderr, "netintel %s: too many captures in one run\n", r->cmd); return 2; }
    ni_error err = {0};
    ni_engine *e = ni_engine_new(&r->cfg, &err);
    if (!e) { fprintf(stderr, "netintel: %s\n", err.msg); return 1; }
    if (hook) ni_engine_add_hook(e, hook, hook_ud);
    ni_engine_set_sink(e, sink, sink_ud);
    ni_engine_set_warn(e, warn, NULL);
    progress prog = { 0, (unsigned)nfiles, now_s(), 0, 0 };
    if (isatty(STDERR_FILENO)) ni_engine_set_progress(e, on_progress, &prog, 16384);
    unsigned failed = 0;
    bool stop = false;
    for (int i = 0; i < nfiles && !stop; i++) {
        prog.file = (unsigned)i + 1;
        ni_error ferr = {0};
        ni_err x = ni_engine_read(e, files[i], &ferr);
        if (x != NI_OK) {
            if (prog.shown) { fprintf(stderr, "\r\033[K"); prog.shown = 0; }
            fprintf(stderr, "netintel: %s\n", ferr.msg[0] ? ferr.msg : ni_strerror(x));
            failed++;
            rc = 1;
            if (ferr.code == NI_ERR_IO && strstr(ferr.msg, "write")) stop = true;
        }
    }
    ni_error ferr = {0};
    if (ni_engine_finish(e, &ferr) != NI_OK) { fprintf(stderr, "netintel: %s\n", ferr.msg); rc = 1; }
    if (prog.shown) fprintf(stderr, "\r\033[K");
    const ni_stats *st = ni_engine_stats(e);
    if (r->stats_path) {
        ni_buf b;
        ni_buf_init(&b, 1u << 16);
        stats_json(&b, st, (unsigned)nfiles, failed, ni_engine_peak_flows(e));
        if (ni_file_write_all(r->stats_path, b.p, b.len, &ferr) != NI_OK) {
            fprintf(stderr, "netintel: %s\n", ferr.msg);
            rc = 1;
        }
        ni_buf_release(&b);
    } else if (!r->no_summary) {
        stats_text(stderr, st, (unsigned)nfiles, failed);
    }
    ni_engine_free(e);
    return rc;
}
