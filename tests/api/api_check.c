/* api_check.c — a program of tests/api/run, built against the public
 * headers and libnetintel.so only: each subcommand calls one part of the
 * embedding API (include/netintel) and prints what it gives, so that the
 * script can compare it with what the netintel command prints for the same
 * question.
 *
 *   api_check info                    data versions (netintel --version's lines)
 *   api_check lookup TEXT...          ni_run_lookup_json (netintel lookup)
 *   api_check ua [PLATFORM] < uas     ni_ua_lookup_json + stats (netintel lookup --ua --stats)
 *   api_check synth SEED OUT TRUTH    ni_world at scale 0.02 (netintel synth)
 *   api_check summary REPORT.json     ni_report_summary_load
 *   api_check collect CAPTURE...      ni_collector_read → JSON Lines (netintel collect --read)
 *   api_check read [--filter E] [--flows] INPUT...   a run with those options → JSON Lines
 *   api_check strerror N              ni_strerror (the name of a code)
 * Exit 0 ok, 1 an API call failed (its message on stderr), 2 usage. */
#include <netintel/netintel.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const ni_error *err)
{
    fprintf(stderr, "api_check: %s: %s (%s)\n", what, err->msg, ni_strerror(err->code));
    return 1;
}

static int info(void)
{
    ni_data_info v;
    ni_error err = { 0 };
    if (ni_data_info_get(NULL, NULL, &v, &err)) return fail("ni_data_info_get", &err);
    printf("data directory %s\nuap-core %s\nbrowser-compat-data %s\nasn %s\ngeoip %s\n", v.data_dir,
           v.uap_core, v.browser_compat, v.asn_package, v.geoip_path);
    return 0;
}

static int lookup(int n, char **texts)
{
    ni_error err = { 0 };
    ni_options o;
    ni_options_init(&o);
    o.ndpi = false;
    ni_run *r = ni_run_new(&o, &err);
    if (!r) return fail("ni_run_new", &err);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *line;
        size_t len;
        if (ni_run_lookup_json(r, texts[i], &line, &len, &err)) {
            printf("error %s: %s\n", ni_strerror(err.code), err.msg);
            continue;
        }
        if (strlen(line) != len || len == 0 || line[len - 1] != '\n') { fprintf(stderr, "api_check: bad length\n"); rc = 1; }
        fwrite(line, 1, len, stdout);
    }
    ni_run_free(r);
    return rc;
}

static int ua(const char *platform)
{
    ni_error err = { 0 };
    ni_ua_lookup *q = ni_ua_lookup_new(NULL, NI_UA_LOOKUP_CACHE_DEFAULT, true, &err);
    if (!q) return fail("ni_ua_lookup_new", &err);
    static char buf[NI_UA_LOOKUP_LINE_MAX];
    while (fgets(buf, sizeof buf, stdin)) {
        size_t n = strcspn(buf, "\r\n");
        buf[n] = 0;
        const char *line;
        size_t len;
        if (ni_ua_lookup_json(q, buf, n, platform, NULL, NULL, &line, &len, &err)) {
            ni_ua_lookup_free(q);
            return fail("ni_ua_lookup_json", &err);
        }
        fwrite(line, 1, len, stdout);
    }
    const char *st;
    size_t len;
    if (ni_ua_lookup_stats_json(q, &st, &len, &err)) { ni_ua_lookup_free(q); return fail("stats", &err); }
    fwrite(st, 1, len, stdout);
    ni_ua_lookup_free(q);
    return 0;
}

static int synth(const char *seed, const char *out, const char *truth)
{
    ni_synth_options o;
    ni_synth_options_init(&o);
    o.seed = strtoull(seed, NULL, 10);
    o.scale = 0.02;
    ni_error err = { 0 };
    ni_world *w = ni_world_new(&o, &err);
    if (!w) return fail("ni_world_new", &err);
    const char *json;
    size_t len;
    int rc = 0;
    if (ni_world_write(w, out, &err)) rc = fail("ni_world_write", &err);
    else if (ni_world_write(w, out, &err) != NI_ERR_ARG) { fprintf(stderr, "api_check: a second write was not refused\n"); rc = 1; }
    else if (ni_world_truth(w, &json, &len, &err)) rc = fail("ni_world_truth", &err);
    else {
        FILE *f = fopen(truth, "wb");
        if (!f || fwrite(json, 1, len, f) != len || fclose(f)) { fprintf(stderr, "api_check: %s: cannot write\n", truth); rc = 1; }
        ni_world_summary s;
        ni_world_get_summary(w, &s);
        printf("synth: %llu sessions, %llu packets\n", (unsigned long long)s.sessions, (unsigned long long)s.packets);
    }
    ni_world_free(w);
    return rc;
}

static int summary(const char *path)
{
    ni_report_summary s;
    ni_error err = { 0 };
    if (ni_report_summary_load(path, &s, &err)) {
        printf("error %s: %s\n", ni_strerror(err.code), err.msg);
        return 1;
    }
    printf("sessions %llu outbound %llu inbound %llu internal %llu hosts %llu\nwindow %s %s\nfindings %zu\n",
           (unsigned long long)s.sessions, (unsigned long long)s.outbound, (unsigned long long)s.inbound,
           (unsigned long long)s.internal, (unsigned long long)s.hosts, s.first ? s.first : "-",
           s.last ? s.last : "-", s.n_findings);
    for (size_t i = 0; i < s.n_findings; i++) printf("- %s\n", s.findings[i]);
    ni_report_summary_release(&s);
    return 0;
}

/* JSON Lines on standard output, through the public writer */
typedef struct out { ni_output *o; ni_sink *k; } out;

static int out_open(out *w, ni_error *err)
{
    if (!(w->o = ni_output_open(NULL, err)) || !(w->k = ni_sink_new(w->o, NI_FORMAT_JSONL, err))) return 1;
    return 0;
}

static int out_close(out *w, ni_error *err)
{
    int rc = ni_sink_end(w->k, err) || ni_output_commit(w->o, err);
    ni_sink_free(w->k);
    return rc;
}

static int collect(int n, char **paths)
{
    ni_error err = { 0 };
    ni_options o;
    ni_options_init(&o);
    o.enrich = false;
    o.ndpi = false;
    ni_run *r = ni_run_new(&o, &err);
    if (!r) return fail("ni_run_new", &err);
    out w;
    if (out_open(&w, &err)) { ni_run_free(r); return fail("output", &err); }
    ni_run_on_session(r, ni_sink_session, w.k);
    ni_collector_options co;
    ni_collector_options_init(&co);
    ni_collector *c = ni_collector_new(r, &co, &err);
    int rc = 0;
    if (!c) rc = fail("ni_collector_new", &err);
    for (int i = 0; c && i < n; i++)
        if (ni_collector_read(c, paths[i], &err)) { fprintf(stderr, "api_check: %s\n", err.msg); rc = 1; }
    if (c && ni_collector_finish(c, &err)) rc = fail("ni_collector_finish", &err);
    if (c) {
        ni_collector_stats st;
        ni_collector_get_stats(c, &st);
        ni_collector_exporter ex[4];
        size_t nex = ni_collector_exporters(c, ex, 4);
        fprintf(stderr, "collector: datagrams %llu records %llu sessions %llu exporters %zu%s%s\n",
                (unsigned long long)st.datagrams, (unsigned long long)st.records,
                (unsigned long long)st.sessions, nex, nex ? " first " : "", nex ? ex[0].source : "");
    }
    if (out_close(&w, &err)) rc = fail("output", &err);
    ni_collector_free(c);
    ni_run_free(r);
    return rc;
}

static int read_inputs(int argc, char **argv)
{
    ni_options o;
    ni_options_init(&o);
    o.enrich = false;
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--flows")) o.flows = true;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) o.filter = argv[++i];
        else return 2;
    }
    ni_error err = { 0 };
    ni_run *r = ni_run_new(&o, &err);
    if (!r) {
        printf("ni_run_new: %s: %s\n", ni_strerror(err.code), err.msg);
        return 1;
    }
    out w;
    if (out_open(&w, &err)) { ni_run_free(r); return fail("output", &err); }
    ni_run_on_session(r, ni_sink_session, w.k);
    int rc = 0;
    for (; i < argc; i++)
        if (ni_run_read(r, argv[i], &err)) {
            fprintf(stderr, "ni_run_read: %s: %s\n", ni_strerror(err.code), err.msg);
            rc = 1;
        }
    if (ni_run_finish(r, &err)) rc = fail("ni_run_finish", &err);
    if (out_close(&w, &err)) rc = fail("output", &err);
    ni_run_free(r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const char *c = argv[1];
    if (!strcmp(c, "info")) return info();
    if (!strcmp(c, "lookup")) return lookup(argc - 2, argv + 2);
    if (!strcmp(c, "ua")) return ua(argc > 2 ? argv[2] : NULL);
    if (!strcmp(c, "synth") && argc == 5) return synth(argv[2], argv[3], argv[4]);
    if (!strcmp(c, "summary") && argc == 3) return summary(argv[2]);
    if (!strcmp(c, "collect")) return collect(argc - 2, argv + 2);
    if (!strcmp(c, "read")) return read_inputs(argc - 2, argv + 2);
    if (!strcmp(c, "strerror") && argc == 3) { puts(ni_strerror((ni_err)strtol(argv[2], NULL, 10))); return 0; }
    return 2;
}
