/* cmd_profile.c — `netintel profile`: captures of a target space → the
 * intelligence profile, written as DIR/report.json (the contract,
 * docs/report-schema.json), DIR/report.html and DIR/report.md, each
 * atomically; a short summary goes to standard output.  Sessions come from
 * the same engine as `sessions` and are enriched, then aggregated
 * (lib/analyze/ni_profile); the HTML and Markdown are rendered from the JSON. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netintel/netintel.h"
#include "cli.h"
#include "cli_engine.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_tz.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_time.h"
#include "enrich/ni_enrich.h"
#include "enrich/ni_tsv.h"
#include "report/ni_report.h"

static const char usage_text[] =
    "usage: netintel profile [options] --target SPEC -o DIR INPUT...\n"
    "\n"
    "Reads captures of a target space (pcap/pcapng, .gz/.zst, '-') or stored\n"
    "sessions (the JSON Lines of 'netintel sessions', recognised by content) and\n"
    "writes its profile: DIR/report.json, DIR/report.html and DIR/report.md.\n"
    "\n"
    "options:\n"
    "  --target SPEC       the target space (required): CIDRs, @FILE, a preset (kp),\n"
    "                      country:CC, asn:N; repeatable\n"
    "  --tz ZONE           local time zone of the target (default: the preset's, else UTC)\n"
    "  --since DATE        only sessions from DATE (YYYY-MM-DD or RFC 3339)\n"
    "  --until DATE        only sessions before DATE\n"
    "  --events FILE       annotations: TSV date<TAB>label[<TAB>region[<TAB>site]]\n"
    "  -o, --output DIR    where the reports go (created if missing)\n"
    CLI_ENGINE_OPTIONS_HELP
    "  -h, --help          this help\n"
    "\n"
    "exit status: 0 ok, 1 an input or output failed, 2 usage error\n";

static int usage_error(const char *fmt, const char *arg) { return cli_usage_error("profile", fmt, arg); }

typedef struct events {
    ni_event *ev;
    size_t n;
    char **strings;
    size_t ns;
} events;

static void events_free(events *e)
{
    for (size_t i = 0; i < e->ns; i++) free(e->strings[i]);
    free(e->strings);
    free(e->ev);
}

static const char *keep(events *e, const char *s)
{
    if (!s || !*s) return NULL;
    char **ns = realloc(e->strings, (e->ns + 1) * sizeof *ns);
    if (!ns) return NULL;
    e->strings = ns;
    return e->strings[e->ns++] = strdup(s);
}

/* date<TAB>label[<TAB>region[<TAB>site]], '#' comments, header line "date ..." */
static ni_err load_events(const char *path, events *e, ni_error *err)
{
    ni_tsv t;
    if (ni_tsv_open(&t, path, err)) return NI_ERR_DATA;
    int cd = ni_tsv_need(&t, "date", err), cl = ni_tsv_need(&t, "label", err);
    int cr = ni_tsv_col(&t, "region"), cs = ni_tsv_col(&t, "site");
    if (cd < 0 || cl < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int r;
    while ((r = ni_tsv_next(&t, err)) > 0) {
        int64_t us;
        if (ni_time_parse(ni_tsv_field(&t, cd), &us)) { ni_tsv_error(&t, err, "bad date '%s'", ni_tsv_field(&t, cd)); r = -1; break; }
        ni_event *ne = realloc(e->ev, (e->n + 1) * sizeof *ne);
        if (!ne) { r = -1; break; }
        e->ev = ne;
        ni_event *v = &e->ev[e->n++];
        v->at_us = us;
        v->label = keep(e, ni_tsv_field(&t, cl));
        v->region = cr >= 0 ? keep(e, ni_tsv_field(&t, cr)) : NULL;
        v->site = cs >= 0 ? keep(e, ni_tsv_field(&t, cs)) : NULL;
    }
    ni_tsv_close(&t);
    return r < 0 ? NI_ERR_DATA : NI_OK;
}

typedef struct ctx {
    ni_enrich *en;
    ni_profile *prof;
} ctx;

static void hook_enrich(void *ud, ni_session *s) { ni_enrich_session(((ctx *)ud)->en, s); }

static ni_err sink_profile(void *ud, const ni_session *s, ni_error *err)
{
    (void)err;
    ni_profile_add(((ctx *)ud)->prof, s);
    return NI_OK;
}

static int write_reports(const char *dir, ni_buf *json, ni_error *err)
{
    char path[4096];
    ni_buf html, md;
    ni_buf_init(&html, 256u << 20);
    ni_buf_init(&md, 256u << 20);
    int rc = 0;
    if (ni_report_html(ni_buf_str(json), &html, err) || ni_report_markdown(ni_buf_str(json), &md, err)) rc = 1;
    const char *names[3] = { "report.json", "report.html", "report.md" };
    ni_buf *bufs[3] = { json, &html, &md };
    for (int i = 0; i < 3 && !rc; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (ni_file_write_all(path, bufs[i]->p, bufs[i]->len, err)) rc = 1;
    }
    ni_buf_release(&html);
    ni_buf_release(&md);
    return rc;
}

static void summary(const char *dir, const char *json)
{
    json_t *r = json_loads(json, 0, NULL);
    if (!r) return;
    json_t *t = json_object_get(r, "totals"), *w = json_object_get(r, "window");
    printf("profile: %lld sessions (%lld outbound, %lld inbound, %lld internal), %lld target hosts\n",
           (long long)json_integer_value(json_object_get(t, "sessions")),
           (long long)json_integer_value(json_object_get(t, "outbound")),
           (long long)json_integer_value(json_object_get(t, "inbound")),
           (long long)json_integer_value(json_object_get(t, "internal")),
           (long long)json_integer_value(json_object_get(t, "hosts")));
    printf("window:  %s .. %s\n", json_string_value(json_object_get(w, "first")) ? json_string_value(json_object_get(w, "first")) : "-",
           json_string_value(json_object_get(w, "last")) ? json_string_value(json_object_get(w, "last")) : "-");
    json_t *f = json_object_get(r, "findings");
    for (size_t i = 0; i < json_array_size(f) && i < 6; i++)
        printf("  - %s\n", json_string_value(json_object_get(json_array_get(f, i), "text")));
    printf("report:  %s/report.html\n", dir);
    json_decref(r);
}

int cmd_profile(int argc, char **argv)
{
    enum { O_TZ = 300, O_SINCE, O_UNTIL, O_EVENTS };
    static const struct option own[] = {
        { "tz", required_argument, NULL, O_TZ },
        { "since", required_argument, NULL, O_SINCE },
        { "until", required_argument, NULL, O_UNTIL },
        { "events", required_argument, NULL, O_EVENTS },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
    };
    struct option opts[64];
    size_t no = cli_engine_options(opts, 64, own, sizeof own / sizeof own[0]);
    (void)no;
    cli_engine run;
    cli_engine_init(&run, "profile");
    run.no_summary = true;      /* the profile prints its own summary */
    const char *tzname = NULL, *dir = NULL, *events_path = NULL;
    int64_t since = 0, until = 0;
    int c, rc = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        int r = cli_engine_option(&run, c, optarg);
        if (r == 0) continue;
        if (r == 2) { cli_engine_release(&run); return 2; }
        switch (c) {
        case 'h': printf("%s", usage_text); cli_engine_release(&run); return 0;
        case 'o': dir = optarg; break;
        case O_TZ: tzname = optarg; break;
        case O_EVENTS: events_path = optarg; break;
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
    if (optind >= argc) { cli_engine_release(&run); return usage_error("%s", "no capture given"); }
    if ((rc = cli_engine_prepare(&run))) { cli_engine_release(&run); return rc; }

    ni_error err = {0};
    events ev = {0};
    if (events_path && load_events(events_path, &ev, &err)) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        cli_engine_release(&run);
        return 1;
    }
    if (!tzname) tzname = ni_target_timezone(run.target);
    if (!tzname) tzname = "UTC";
    ni_tz *tz = ni_tz_load(tzname, &err);
    if (!tz) { fprintf(stderr, "netintel profile: %s\n", err.msg); events_free(&ev); cli_engine_release(&run); return 2; }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "netintel: %s: %s\n", dir, strerror(errno));
        ni_tz_free(tz); events_free(&ev); cli_engine_release(&run);
        return 1;
    }

    ctx cx = {0};
    cx.en = cli_engine_enrich(&run, &err);
    if (!cx.en) {
        fprintf(stderr, "netintel: %s\n", err.msg);
        ni_tz_free(tz); events_free(&ev); cli_engine_release(&run);
        return 1;
    }
    ni_profile_config pc = { (const char *const *)run.specs, run.nspecs, tz, since, until,
                             ni_enrich_profile_lookups(cx.en), ev.ev, ev.n };
    cx.prof = ni_profile_new(&pc, &err);
    if (!cx.prof) rc = 1;
    /* every input goes through the engine's one source interface, in the
     * order given: captures, and stored sessions (JSON Lines written by
     * `netintel sessions`), whose direction is recomputed for this target
     * and whose enrichment is redone with the current data */
    if (!rc) {
        int r = cli_engine_read(&run, argv + optind, argc - optind, hook_enrich, &cx, sink_profile, &cx);
        if (r) rc = r;
    }
    if (cx.prof) {
        ni_buf json;
        ni_buf_init(&json, 512u << 20);
        if (ni_profile_json(cx.prof, &json) || write_reports(dir, &json, &err)) {
            fprintf(stderr, "netintel: %s: %s\n", dir, err.msg[0] ? err.msg : "cannot write the report");
            rc = 1;
        } else {
            summary(dir, ni_buf_str(&json));
        }
        ni_buf_release(&json);
    }
    ni_profile_free(cx.prof);
    ni_tz_free(tz);
    events_free(&ev);
    cli_engine_release(&run);
    return rc;
}
