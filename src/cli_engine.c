/* cli_engine.c — shared engine options and input reading for the commands,
 * over the embedding API (see cli_engine.h, netintel/run.h). */
#include "cli.h"
#include "cli_engine.h"
#include "cli_out.h"
#include "cli_priv.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { O_TARGET = 256, O_MAXFLOWS, O_TCP, O_UDP, O_ACTIVE, O_GEOIP, O_ASN, O_NO_ENRICH, O_NO_NDPI, O_STATS, O_FILTER, O_FLOWS, O_THREADS };

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
    { "filter", required_argument, NULL, O_FILTER },
    { "flows", no_argument, NULL, O_FLOWS },
    { "threads", required_argument, NULL, O_THREADS },
};

void cli_engine_init(cli_engine *r, const char *cmd)
{
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    ni_options_init(&r->opts);
}

void cli_engine_release(cli_engine *r)
{
    if (r->run) cli_signals_attach(NULL);      /* no signal reaches a freed run */
    ni_run_exit(r->run);                        /* the command returns to exit next */
    for (size_t i = 0; i < r->nspecs; i++) free(r->specs[i]);
    free(r->specs);
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
bool cli_parse_seconds(const char *s, int64_t *us)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v <= 0 || v > 315576000.0) return false;
    *us = (int64_t)(v * 1e6);
    return *us > 0;
}

bool cli_parse_interval(const char *s, int64_t *us)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double mul = 1;
    if (end == s || errno || !isfinite(v)) return false;
    if (*end) {
        if (end[1]) return false;
        switch (*end) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        default: return false;
        }
    }
    v *= mul;
    if (v <= 0 || v > 315576000.0) return false;
    *us = (int64_t)(v * 1e6);
    return *us > 0;
}

/* Bytes, or with K, M, G (powers of 1024); false unless 1 <= n < 2 GiB. */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno) return false;
    unsigned shift = 0;
    if (*end) {
        if (end[1] && !(end[1] == 'i' && end[2] == 'B' && !end[3]) && !(end[1] == 'B' && !end[2])) return false;
        switch (*end) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: return false;
        }
    }
    if (v == 0 || v > (0x7fffffffULL >> shift)) return false;
    *out = (size_t)(v << shift);
    return true;
}

int cli_engine_option(cli_engine *r, int c, const char *arg)
{
    switch (c) {
    case 'i':
        if (!*arg) return usage_error(r, "-i: '%s': an empty interface name", arg);
        if (r->iface) return usage_error(r, "-i: '%s': one interface at a time", arg);
        r->iface = arg;
        r->opts.live = true;
        return 0;
    case CLI_O_SNAPLEN: {
        char *end;
        errno = 0;
        long v = strtol(arg, &end, 10);
        if (end == arg || *end || errno || v < 1 || v > 262144)
            return usage_error(r, "--snaplen: '%s': expected a number from 1 to 262144", arg);
        r->opts.snaplen = (int)v;
        r->live_opts = true;
        return 0;
    }
    case CLI_O_BUFFER:
        if (!parse_size(arg, &r->opts.buffer))
            return usage_error(r, "--buffer: '%s': expected bytes from 1 to 2G-1, or with K, M or G", arg);
        r->live_opts = true;
        return 0;
    case CLI_O_DURATION:
        if (!cli_parse_interval(arg, &r->opts.duration_us))
            return usage_error(r, "--duration: '%s': expected seconds > 0, or with s, m, h or d", arg);
        r->live_opts = true;
        return 0;
    case CLI_O_COUNT: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        if (end == arg || *end || errno || v == 0 || arg[0] == '-')
            return usage_error(r, "--count: '%s': expected a number of frames > 0", arg);
        r->opts.count = v;
        r->live_opts = true;
        return 0;
    }
    case CLI_O_USER:
        if (!*arg) return usage_error(r, "--user: '%s': an empty user name", arg);
        r->user = arg;
        r->live_opts = true;
        return 0;
    case CLI_O_KEEP_ROOT: r->keep_root = true; r->live_opts = true; return 0;
    case O_TARGET: {
        char **ns = realloc(r->specs, (r->nspecs + 1) * sizeof *ns);
        if (ns) r->specs = ns;
        if (!ns || !(r->specs[r->nspecs] = strdup(arg))) {
            fprintf(stderr, "netintel %s: out of memory\n", r->cmd);
            return -1;
        }
        r->nspecs++;
        return 0;
    }
    case O_MAXFLOWS: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        if (end == arg || *end || errno || v == 0 || v > (1ull << 30) || arg[0] == '-')
            return usage_error(r, "--max-flows: '%s': expected a number from 1 to 1073741824", arg);
        r->opts.max_flows = (size_t)v;
        return 0;
    }
    case O_TCP: case O_UDP: case O_ACTIVE: {
        int64_t us;
        if (!cli_parse_seconds(arg, &us))
            return usage_error(r, c == O_TCP ? "--tcp-timeout: '%s': expected seconds > 0"
                               : c == O_UDP ? "--udp-timeout: '%s': expected seconds > 0"
                               : "--active-timeout: '%s': expected seconds > 0", arg);
        if (c == O_TCP) r->opts.tcp_idle_us = us;
        else if (c == O_UDP) r->opts.udp_idle_us = us;
        else r->opts.active_us = us;
        return 0;
    }
    case O_GEOIP: r->opts.geoip_path = arg; return 0;
    case O_ASN: r->opts.asn_path = arg; return 0;
    case O_NO_ENRICH: r->no_enrich = true; r->opts.enrich = false; return 0;
    case O_NO_NDPI: r->opts.ndpi = false; return 0;
    case O_STATS: r->stats_path = arg; return 0;
    case O_FILTER:
        if (!*arg) return usage_error(r, "--filter: '%s': an empty expression", arg);
        r->opts.filter = arg;
        return 0;
    case O_FLOWS: r->opts.flows = true; return 0;
    case 'j': case O_THREADS: {
        char *end;
        errno = 0;
        unsigned long v = strtoul(arg, &end, 10);
        if (end == arg || *end || errno || v == 0 || v > NETINTEL_THREADS_MAX || arg[0] == '-' || arg[0] == '+')
            return usage_error(r, "-j/--threads: '%s': expected a number from 1 to 64", arg);
        r->opts.threads = (unsigned)v;
        r->threads_given = true;
        return 0;
    }
    default: return 1;
    }
}

/* A spec that cannot be used is a usage error, unless the machine failed. */
static int spec_status(ni_err code)
{
    return code == NI_ERR_NOMEM || code == NI_ERR_IO ? 1 : 2;
}

/* -j's default: the CPUs this process may run on (its affinity: taskset,
 * cgroup cpusets), else the CPUs online, at most NETINTEL_THREADS_MAX; 1
 * (one thread) if unknown.  A parallel run keeps N threads busy (the
 * reader and N - 1 workers; the merge goes to whichever would wait), so
 * -j 2 uses two cores (docs/ARCHITECTURE.md, "Threads"). */
static unsigned default_threads(void)
{
    long n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n < 1) n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return 1;
    return n > NETINTEL_THREADS_MAX ? NETINTEL_THREADS_MAX : (unsigned)n;
}

int cli_engine_prepare(cli_engine *r)
{
    if (r->run) return 0;
    ni_error err = {0};
    if (!r->threads_given) r->opts.threads = default_threads();
    r->opts.targets = (const char *const *)r->specs;
    r->opts.n_targets = r->nspecs;
    if (!(r->run = ni_run_new(&r->opts, &err))) {
        fprintf(stderr, "netintel %s: %s\n", r->cmd, err.msg);
        return spec_status(err.code);
    }
    return 0;
}

void cli_engine_warn_unmatched(const cli_engine *r)
{
    if (cli_quiet || !r->run || !r->nspecs || !r->files_read || r->interrupted || r->output_closed) return;
    for (size_t i = 0; i < r->nspecs; i++)
        if (!ni_run_target_matched(r->run, i))
            fprintf(stderr, "netintel %s: warning: --target '%s' matches no session\n", r->cmd, r->specs[i]);
}

int cli_engine_status(const cli_engine *r)
{
    if (r->interrupted) return cli_signal_status();
    return r->files_failed || r->output_failed || !r->files_read ? 1 : 0;
}

/* ---- live capture ------------------------------------------------------------ */
int cli_engine_live_check(cli_engine *r, int ninputs)
{
    if (!r->iface) {
        if (r->live_opts)
            return usage_error(r, "%s", "--snaplen, --buffer, --duration, --count, --user and --keep-root need -i IFACE");
        return 0;
    }
    if (ninputs > 0) return usage_error(r, "-i and inputs do not mix (one is read: '%s')", r->iface);
    if (r->opts.flows) return usage_error(r, "%s", "-i and --flows do not mix");
    if (r->keep_root && r->user) return usage_error(r, "%s", "--keep-root and --user do not mix");
    return 0;
}

/* Whether the user we now are can create files in the folder of path. */
static bool dir_writable(const char *path, bool is_dir)
{
    char d[4096];
    if (is_dir) snprintf(d, sizeof d, "%s", path);
    else {
        const char *slash = strrchr(path, '/');
        if (!slash) snprintf(d, sizeof d, ".");
        else snprintf(d, sizeof d, "%.*s", (int)(slash - path) + (slash == path), path);
    }
    return access(d, W_OK | X_OK) == 0;
}

int cli_engine_live_start(cli_engine *r, const char *out_dir)
{
    const char *user = r->user ? r->user : "nobody";
    bool root = cli_priv_is_root(), drop = root && !r->keep_root;
    char msg[512];
    /* the account first: nothing is opened for a user who cannot be become */
    if (drop && cli_priv_check(user, msg, sizeof msg)) {
        fprintf(stderr, "netintel %s: %s: refusing to capture as root (--keep-root to allow it)\n", r->cmd, msg);
        return 2;
    }
    ni_error err = { 0 };
    if (ni_run_open(r->run, r->iface, &err)) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        return err.code == NI_ERR_ARG ? 2 : 1;
    }
    if (drop && cli_priv_drop(user, msg, sizeof msg)) {
        fprintf(stderr, "netintel %s: %s: refusing to go on as root (--keep-root to allow it)\n", r->cmd, msg);
        return 1;
    }
    if (!root && r->user && !cli_quiet)
        fprintf(stderr, "netintel %s: warning: --user '%s' ignored: not running as root\n", r->cmd, r->user);
    /* outputs are written by the user we now are: say so before capturing */
    if (out_dir) {
        struct stat st;
        if (stat(out_dir, &st) != 0 && mkdir(out_dir, 0777) != 0) {
            fprintf(stderr, "netintel %s: %s: cannot create the folder as user %s: %s\n", r->cmd, out_dir,
                    drop ? user : "running", strerror(errno));
            return 1;
        }
        if (!dir_writable(out_dir, true)) {
            fprintf(stderr, "netintel %s: %s: not writable by user %s (the user the capture runs as)\n", r->cmd,
                    out_dir, drop ? user : "running");
            return 1;
        }
    }
    if (r->stats_path && strcmp(r->stats_path, "-") && !dir_writable(r->stats_path, false)) {
        fprintf(stderr, "netintel %s: %s: its folder is not writable by user %s (the user the capture runs as)\n",
                r->cmd, r->stats_path, drop ? user : "running");
        return 1;
    }
    if (!cli_quiet)
        fprintf(stderr, "netintel: capturing on %s%s%s%s\n", r->iface, drop ? " as user " : "",
                drop ? user : "", root && !drop ? " as root (--keep-root)" : "");
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

static void on_progress(void *ud, const char *path, uint64_t done, uint64_t total, const ni_stats *st)
{
    progress *g = ud;
    double t = now_s();
    if (t - g->last < 0.25) return;
    g->last = t;
    double rate = t > g->t0 ? (double)st->packets / (t - g->t0) : 0;
    if (total)
        fprintf(stderr, "\r\033[K[%u/%u] %s %3.0f%%  %llu packets  %.0f packets/s", g->file, g->files, path,
                100.0 * (double)done / (double)total, (unsigned long long)st->packets, rate);
    else
        fprintf(stderr, "\r\033[K[%u/%u] %s  %llu packets  %.0f packets/s", g->file, g->files, path,
                (unsigned long long)st->packets, rate);
    g->shown = 1;
}

static void warn(void *ud, const char *msg)
{
    (void)ud;
    if (!cli_quiet) fprintf(stderr, "netintel: %s\n", msg);
}

/* ---- summary ---------------------------------------------------------------- */
/* The --stats JSON: one object, two-space indent, one key a line. */
static int stats_json(char *b, size_t cap, const ni_stats *st, unsigned files, unsigned failed, size_t peak,
                      bool interrupted, const cli_engine *r)
{
    const struct { const char *k; unsigned long long v; } f[] = {
        { "files", files }, { "files_failed", failed }, { "packets", st->packets }, { "bytes", st->bytes },
        { "ip_packets", st->ip_packets }, { "sessions", st->sessions }, { "malformed", st->malformed },
        { "truncated", st->truncated }, { "unsupported", st->unsupported }, { "fragments", st->fragments },
        { "non_ip", st->non_ip }, { "evicted", st->evicted }, { "reasm_dropped", st->reasm_dropped },
        { "http_requests", st->http_requests }, { "tls_hellos", st->tls_hellos },
        { "dns_messages", st->dns_messages }, { "quic_initials", st->quic_initials },
        { "dissect_errors", st->dissect_errors }, { "peak_flows", peak },
    };
    size_t n = 0;
    int w = snprintf(b, cap, "{\n");
    for (size_t i = 0; w >= 0 && (n += (size_t)w) < cap && i < sizeof f / sizeof f[0]; i++)
        w = snprintf(b + n, cap - n, "  \"%s\": %llu,\n", f[i].k, f[i].v);
    if (r->iface) {         /* a live capture: the kernel's counters, what ended it */
        const struct { const char *k; unsigned long long v; } l[] = {
            { "capture_received", st->capture_received }, { "capture_dropped", st->capture_dropped },
            { "capture_if_dropped", st->capture_if_dropped }, { "signal", (unsigned long long)r->live_signal },
        };
        w = 0;              /* the loop above added its last line already */
        for (size_t i = 0; w >= 0 && (n += (size_t)w) < cap && i < sizeof l / sizeof l[0]; i++)
            w = snprintf(b + n, cap - n, "  \"%s\": %llu,\n", l[i].k, l[i].v);
        if (w >= 0) w = 0;  /* and so did this one */
    }
    if (w >= 0 && n < cap) w = snprintf(b + n, cap - n, "  \"interrupted\": %s\n}\n", interrupted ? "true" : "false");
    if (w < 0 || (n += (size_t)w) >= cap) return -1;
    return (int)n;
}

static void stats_text(FILE *f, const ni_stats *st, unsigned files, unsigned failed, bool interrupted)
{
    fprintf(f, "summary: files %u (%u failed), packets %llu, bytes %llu, sessions %llu, "
               "malformed %llu, truncated %llu, unsupported %llu, fragments %llu, non_ip %llu, "
               "evicted %llu, reasm_dropped %llu, dissect_errors %llu%s\n",
            files, failed, (unsigned long long)st->packets, (unsigned long long)st->bytes,
            (unsigned long long)st->sessions, (unsigned long long)st->malformed,
            (unsigned long long)st->truncated, (unsigned long long)st->unsupported,
            (unsigned long long)st->fragments, (unsigned long long)st->non_ip,
            (unsigned long long)st->evicted, (unsigned long long)st->reasm_dropped,
            (unsigned long long)st->dissect_errors, interrupted ? ", interrupted" : "");
}

static void live_text(FILE *f, const ni_stats *st, const cli_engine *r)
{
    fprintf(f, "capture: %s: received %llu, dropped %llu (buffer full), if_dropped %llu",
            r->iface, (unsigned long long)st->capture_received, (unsigned long long)st->capture_dropped,
            (unsigned long long)st->capture_if_dropped);
    if (r->live_signal) fprintf(f, "; ended by signal %d", r->live_signal);
    fprintf(f, "\n");
}

int cli_engine_read(cli_engine *r, char **files, int nfiles, ni_session_fn fn, void *ud)
{
    int rc = cli_engine_prepare(r);
    if (rc) return rc;
    if (nfiles < 0 || (size_t)nfiles > r->opts.max_inputs) {
        fprintf(stderr, "netintel %s: too many captures in one run\n", r->cmd);
        return 2;
    }
    ni_run *run = r->run;
    ni_run_on_session(run, fn, ud);
    ni_run_on_warning(run, warn, NULL);
    cli_signals_attach(run);
    progress prog = { 0, (unsigned)nfiles, now_s(), 0, 0 };
    if (!cli_quiet && isatty(STDERR_FILENO)) ni_run_on_progress(run, on_progress, &prog);
    const ni_stats *st = ni_run_stats(run);
    unsigned failed = 0;
    bool stop = false;
    for (int i = 0; i < nfiles && !stop; i++) {
        prog.file = (unsigned)i + 1;
        ni_error ferr = {0};
        uint64_t before = st->packets, sessions_before = st->sessions;
        ni_err x = ni_run_read(run, files[i], &ferr);
        if (x == NI_OK || st->packets > before || st->sessions > sessions_before) r->files_read++;
        if (x == NI_OK) continue;
        if (prog.shown) { fprintf(stderr, "\r\033[K"); prog.shown = 0; }
        switch (x) {
        case NI_ERR_INTERRUPTED: r->interrupted = true; stop = true; break;
        case NI_ERR_PIPE: r->output_closed = true; stop = true; break;
        case NI_ERR_OUTPUT:     /* the callback's failure: an output, not this input */
            fprintf(stderr, "netintel: %s\n", ferr.msg[0] ? ferr.msg : ni_strerror(x));
            r->output_failed = true;
            stop = true;
            break;
        default:
            fprintf(stderr, "netintel: %s\n", ferr.msg[0] ? ferr.msg : ni_strerror(x));
            failed++;
        }
    }
    r->files_failed += failed;
    if (r->iface) r->live_signal = cli_signal_caught();     /* a signal ends a capture normally */
    if (r->interrupted && !cli_quiet)
        fprintf(stderr, "netintel %s: interrupted by signal %d: writing what was read\n", r->cmd, cli_signal_caught());
    ni_error ferr = {0};
    ni_err x = ni_run_finish(run, &ferr);       /* the sessions in flight, even when interrupted */
    if (x == NI_ERR_PIPE) r->output_closed = true;
    else if (x != NI_OK && !r->output_failed) { fprintf(stderr, "netintel: %s\n", ferr.msg); r->output_failed = true; }
    if (prog.shown) fprintf(stderr, "\r\033[K");
    ni_run_on_progress(run, NULL, NULL);
    if (r->stats_path) {
        if (r->files_read) {            /* a run that read nothing writes nothing */
            char b[4096];
            int n = stats_json(b, sizeof b, st, (unsigned)nfiles, failed, ni_run_peak_flows(run), r->interrupted, r);
            if (n < 0) {
                fprintf(stderr, "netintel: %s: the summary does not fit\n", r->stats_path);
                r->output_failed = true;
            } else if (cli_out_write_all(r->stats_path, b, (size_t)n, &ferr) != NI_OK) {
                if (ferr.code == NI_ERR_PIPE) r->output_closed = true;
                else { fprintf(stderr, "netintel: %s\n", ferr.msg); r->output_failed = true; }
            }
        }
    } else if (!r->no_summary && !r->output_closed && !cli_quiet) {
        stats_text(stderr, st, (unsigned)nfiles, failed, r->interrupted);
        if (r->iface) live_text(stderr, st, r);
    } else if (r->iface && r->no_summary && !r->output_closed && !cli_quiet) {
        live_text(stderr, st, r);       /* profile: its own summary, but the drops matter */
    }
    return cli_engine_status(r);
}
