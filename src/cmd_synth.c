/* cmd_synth.c — `netintel synth`: writes a synthetic capture of a simulated
 * target network from a scenario (data/scenarios/), and optionally its truth:
 * the profile that netintel must find in it, in the report.json shape,
 * computed from the sessions as generated.  Written on the embedding API
 * alone (netintel/synth.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netintel/netintel.h"
#include "cli.h"
#include "cli_engine.h"
#include "cli_out.h"

static const char usage_text[] =
    "usage: netintel synth [--scenario FILE] [--seed N] [--scale K] -o CAPTURE.pcap [--truth TRUTH.json]\n"
    "\n"
    "Writes a realistic capture of a simulated target network: devices with\n"
    "period-correct User-Agents, local-time-shaped activity, services of every\n"
    "category, DNS, VPN tunnels and provider APIs, and inbound visitors from many\n"
    "countries (addresses placed by the GeoIP database), per the scenario.\n"
    "\n"
    "options:\n"
    "  --scenario FILE   scenario (default: <data>/scenarios/default.scn)\n"
    "  --seed N          random seed (default 1); same inputs, same bytes\n"
    "  --scale K         multiply the sessions and visitors (default 1; 0.01 .. 100000)\n"
    "  -o FILE           the capture to write (pcap)\n"
    "  --truth FILE      also write what netintel must find, as a report.json\n"
    "  --geoip FILE      the GeoIP database used to place visitors\n"
    "  -h, --help        this help\n";

static int usage_error(const char *fmt, const char *arg) { return cli_usage_error("synth", fmt, arg); }

static void on_progress(void *ud, uint64_t bytes, double fraction)
{
    (void)ud;
    fprintf(stderr, "\r\033[Ksynth: %3.0f%%  %.1f MB", fraction * 100, (double)bytes / 1e6);
}

int cmd_synth(int argc, char **argv)
{
    enum { O_SCENARIO = 256, O_SEED, O_SCALE, O_TRUTH, O_GEOIP };
    static const struct option opts[] = {
        { "scenario", required_argument, NULL, O_SCENARIO }, { "seed", required_argument, NULL, O_SEED },
        { "scale", required_argument, NULL, O_SCALE }, { "truth", required_argument, NULL, O_TRUTH },
        { "geoip", required_argument, NULL, O_GEOIP }, { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *scenario = NULL, *out = NULL, *truth = NULL, *geoip = NULL;
    uint64_t seed = 1;
    double scale = 1;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'h': printf("%s", usage_text); return 0;
        case 'o': out = optarg; break;
        case O_SCENARIO: scenario = optarg; break;
        case O_TRUTH: truth = optarg; break;
        case O_GEOIP: geoip = optarg; break;
        case O_SEED:
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-') return usage_error("--seed: '%s': expected a number", optarg);
            break;
        case O_SCALE:
            errno = 0;
            scale = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(scale >= 0.01 && scale <= 100000))
                return usage_error("--scale: '%s': expected a number from 0.01 to 100000", optarg);
            break;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!out) return usage_error("%s", "-o CAPTURE is required");
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    cli_signals_install(false);         /* synth cannot stop half-way: a signal ends it, leaving no temporary file */

    ni_error err = {0};
    ni_synth_options so;
    ni_synth_options_init(&so);
    so.scenario = scenario;
    so.geoip_path = geoip;
    so.seed = seed;
    so.scale = scale;
    so.progress = !cli_quiet && isatty(STDERR_FILENO) ? on_progress : NULL;
    ni_world *w = ni_world_new(&so, &err);
    int rc = 0;
    if (!w) { fprintf(stderr, "netintel: %s\n", err.msg[0] ? err.msg : "out of memory"); return 1; }

    /* -o: the rules of netintel/output.h; libpcap writes the file by name */
    ni_output *of = NULL;
    const char *wpath = out;
    if (strcmp(out, "-")) {             /* "-": libpcap writes standard output itself */
        if (!(of = cli_out_open(out, &err))) { fprintf(stderr, "netintel: %s\n", err.msg); rc = 1; }
        else wpath = ni_output_path(of);
    }
    if (!rc && ni_world_write(w, wpath, &err)) {
        if (err.code == NI_ERR_IO)      /* the capture writer failed: an output failure, named by -o */
            fprintf(stderr, "%snetintel: %s: cannot write the capture (%s)\n", so.progress ? "\r\033[K" : "", out, err.msg);
        else
            fprintf(stderr, "%snetintel: %s\n", so.progress ? "\r\033[K" : "", err.msg);
        rc = 1;
    }
    if (so.progress) fprintf(stderr, "\r\033[K");
    if (of) {
        if (rc) cli_out_abort(of);
        else if (cli_out_commit(of, &err)) { fprintf(stderr, "netintel: %s\n", err.msg); rc = 1; }
    }
    if (!rc && truth) {
        const char *json;
        size_t len;
        if (ni_world_truth(w, &json, &len, &err) || cli_out_write_all(truth, json, len, &err)) {
            fprintf(stderr, "netintel: %s: %s\n", truth, err.msg[0] ? err.msg : "cannot write");
            rc = 1;
        }
    }
    ni_world_summary sum;
    ni_world_get_summary(w, &sum);
    if (!rc && !cli_quiet)
        fprintf(stderr, "synth: %s: %llu sessions, %llu packets, %.1f MB\n", out, (unsigned long long)sum.sessions,
                (unsigned long long)sum.packets, (double)sum.bytes / 1e6);
    ni_world_free(w);
    return rc;
}
