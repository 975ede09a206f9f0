/* ni_run.c — the embedding API (include/netintel/run.h, docs/API.md): one
 * run wires the internals the way the CLI does — the target (country:/asn:
 * resolved through the GeoIP/ASN data), the session engine (sources through
 * lib/ingest, lib/session/ni_engine), the enrichment (lib/enrich) as the
 * engine's hook, the caller's callback and the profile (lib/analyze) as its
 * sink — and adds the reports (lib/report), written atomically (core/ni_file). */
#include "api/ni_run.h"
#include "analyze/ni_diff.h"
#include "analyze/ni_profile.h"
#include "analyze/ni_reportdoc.h"
#include "analyze/ni_tz.h"
#include "core/ni_arena.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"
#include "enrich/ni_enrich.h"
#include "enrich/ni_tsv.h"
#include "report/ni_report.h"
#include "session/ni_engine.h"
#include "session/ni_target.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ni_run_interrupt may run in a signal handler: the flag must be lock-free */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int is not lock-free");

struct ni_run {
    ni_options o;               /* strings below are the run's copies */
    char **specs;
    size_t nspecs;
    char *data_dir, *geoip, *asn, *tzname, *events_path, *filter;
    ni_input_options input;     /* the engine's: filter, flows */
    ni_ch_range *ranges;        /* the target as address ranges (pushdown), built once */
    size_t nranges;
    bool ranges_built;

    ni_target *target;          /* NULL without specs */
    ni_target **spec_targets;   /* one per spec when there are several */
    bool *spec_matched;
    ni_enrich *en;              /* loaded when needed */
    /* with worker threads, the enrichment data loads in a thread of its own
     * from ni_run_new (beside nDPI's start-up); run_enrich waits for it */
    pthread_t loader;
    bool loading;
    ni_enrich_config load_cfg;
    ni_enrich *loaded;
    ni_error load_err;
    ni_engine *engine;

    ni_session_fn on_session; void *session_ud;
    ni_warning_fn on_warning; void *warning_ud;
    ni_progress_fn on_progress; void *progress_ud;

    ni_tz *tz;                  /* loaded with the first profile */
    ni_event *ev;               /* --events annotations */
    size_t nev;
    char **ev_strings;
    size_t nev_strings;
    bool events_loaded;
    ni_profile_config pc;       /* borrowed by every profile of the run */
    ni_profile *prof;           /* ni_run_profile's */

    ni_arena *lookup_arena;
    ni_buf lookup_out;          /* ni_run_lookup_json's line */
    volatile sig_atomic_t sig_stop;     /* the same request, for ni_collect_run */
    atomic_int stop;            /* ni_run_interrupt: lock-free, so signal- and thread-safe */
    bool finished;
    size_t inputs;              /* ni_run_read calls so far */

    ni_profile_capture cap;     /* options.live: what report.json says of the capture */
    char *cap_iface;
    ni_tick_fn on_tick; void *tick_ud;
    int64_t tick_every, tick_next;      /* µs, monotonic clock */
};

void ni_options_init(ni_options *o)
{
    memset(o, 0, sizeof *o);
    ni_flow_config fc;
    ni_flow_config_default(&fc);
    o->enrich = true;
    o->ndpi = true;
    o->max_flows = fc.max_flows;
    o->max_inputs = NI_INPUTS_MAX;
    o->tcp_idle_us = fc.tcp_idle_us;
    o->udp_idle_us = fc.udp_idle_us;
    o->active_us = fc.active_us;
    o->threads = 1;
}

static bool dup_opt(char **dst, const char *s)
{
    *dst = NULL;
    return !s || (*dst = strdup(s)) != NULL;
}

static ni_enrich_config enrich_config(ni_run *r)
{
    const char *env = getenv("NETINTEL_GEOIP");
    ni_enrich_config c = { r->data_dir, r->geoip ? r->geoip : (env && *env ? env : NULL), r->asn, false };
    return c;
}

static void *load_main(void *arg)
{
    ni_run *r = arg;
    r->loaded = ni_enrich_new(&r->load_cfg, &r->load_err);
    return NULL;
}

/* The load in the background ends; a failed one is done again below, in the
 * caller's thread, for its error. */
static void load_join(ni_run *r)
{
    if (!r->loading) return;
    pthread_join(r->loader, NULL);
    r->loading = false;
    if (!r->en) r->en = r->loaded;
    else ni_enrich_free(r->loaded);
    r->loaded = NULL;
}

static ni_enrich *run_enrich(ni_run *r, ni_error *err)
{
    load_join(r);
    if (r->en) return r->en;
    ni_enrich_config c = enrich_config(r);
    r->en = ni_enrich_new(&c, err);
    return r->en;
}

/* country:/asn: specs, loading the enrichment the first time one is met. */
static ni_err lazy_resolve(void *ud, const char *kind, const char *value, ni_target *t, ni_error *err)
{
    ni_run *r = ud;
    if (!run_enrich(r, err)) return err && err->code ? err->code : NI_ERR_DATA;
    return ni_enrich_networks(r->en, kind, value, ni_target_add_net, t, err);
}

static ni_target *new_target(ni_run *r, ni_error *err)
{
    ni_target *t = ni_target_new();
    if (!t) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    ni_target_set_resolver(t, lazy_resolve, r);
    if (r->data_dir && ni_target_set_data_dir(t, r->data_dir)) {
        ni_target_free(t);
        ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return t;
}

static ni_err build_target(ni_run *r, ni_error *err)
{
    if (!r->nspecs) return NI_OK;
    if (!(r->target = new_target(r, err))) return NI_ERR_NOMEM;
    for (size_t i = 0; i < r->nspecs; i++)
        if (ni_target_add_spec(r->target, r->specs[i], err)) return err ? err->code : NI_ERR_ARG;
    if (!(r->spec_matched = calloc(r->nspecs, sizeof *r->spec_matched)))
        return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    if (r->nspecs > 1) {        /* each spec on its own, to tell which matched */
        if (!(r->spec_targets = calloc(r->nspecs, sizeof *r->spec_targets)))
            return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < r->nspecs; i++) {
            if (!(r->spec_targets[i] = new_target(r, err))) return NI_ERR_NOMEM;
            if (ni_target_add_spec(r->spec_targets[i], r->specs[i], err)) return err ? err->code : NI_ERR_ARG;
        }
    }
    return NI_OK;
}

static void note_match(ni_run *r, const ni_session *s)
{
    if (!r->spec_matched) return;
    if (!r->spec_targets) {
        if (!r->spec_matched[0] && s->direction != NI_DIRECTION_TRANSIT && s->direction != NI_DIRECTION_UNKNOWN)
            r->spec_matched[0] = true;
        return;
    }
    for (size_t i = 0; i < r->nspecs; i++)
        if (!r->spec_matched[i] && (ni_target_contains(r->spec_targets[i], &s->client) ||
                                    ni_target_contains(r->spec_targets[i], &s->server)))
            r->spec_matched[i] = true;
}

/* ---- the engine's callbacks ------------------------------------------------ */
static bool enriching(const ni_run *r) { return (r->o.enrich || r->prof) && r->en; }

/* The enrichment of a session alone, in the thread that finished it, with
 * that thread's caches (*state: an ni_enrich_lane, made here when first
 * needed, as the data may load after the threads start). */
static bool lane_session(void *ud, void **state, ni_session *s)
{
    ni_run *r = ud;
    if (!enriching(r)) return true;
    if (!*state && !(*state = ni_enrich_lane_new(r->en, NULL))) return false;
    ni_enrich_session_lane(*state, s);
    return true;
}

static void lane_free(void *ud, void *state)
{
    (void)ud;
    ni_enrich_lane_free(state);
}

/* In the run's order: the targets matched, what the sessions before it taught. */
static void hook_session(void *ud, ni_session *s)
{
    ni_run *r = ud;
    note_match(r, s);
    if (enriching(r)) ni_enrich_session_ordered(r->en, s);
}

static ni_err sink_session(void *ud, const ni_session *s, ni_error *err)
{
    ni_run *r = ud;
    if (r->prof) ni_profile_add(r->prof, s);
    return r->on_session ? r->on_session(r->session_ud, s, err) : NI_OK;
}

static void engine_warn(void *ud, const char *msg)
{
    ni_run *r = ud;
    if (r->on_warning) r->on_warning(r->warning_ud, msg);
}

static void engine_progress(void *ud, const ni_engine_progress *p)
{
    ni_run *r = ud;
    if (r->on_progress) r->on_progress(r->progress_ud, p->path, p->done, p->total, p->stats);
}

static bool engine_stop(void *ud) { return ((ni_run *)ud)->stop != 0; }

/* The capture's counters so far into what the profile writes. */
static void capture_update(ni_run *r, bool in_progress)
{
    const ni_stats *st = ni_engine_stats(r->engine);
    r->cap.interface = r->cap_iface;
    r->cap.received = st->capture_received;
    r->cap.dropped = st->capture_dropped;
    r->cap.if_dropped = st->capture_if_dropped;
    r->cap.in_progress = in_progress;
}

static void engine_tick(void *ud)
{
    ni_run *r = ud;
    if (!r->on_tick) return;
    int64_t now = ni_clock_mono_us();
    if (now < r->tick_next) return;
    r->tick_next = now + r->tick_every;
    if (r->o.live) capture_update(r, true);
    r->on_tick(r->tick_ud);
}

void ni_run_every(ni_run *r, int64_t every_us, ni_tick_fn fn, void *ud)
{
    r->on_tick = every_us > 0 ? fn : NULL;
    r->tick_ud = ud;
    r->tick_every = every_us;
    r->tick_next = ni_clock_mono_us() + every_us;
}

ni_err ni_run_open(ni_run *r, const char *input, ni_error *err)
{
    if (r->finished) return ni_error_set(err, NI_ERR_ARG, "%s: the run is finished", input);
    return ni_engine_open(r->engine, input, err);
}

ni_run *ni_run_new(const ni_options *o, ni_error *err)
{
    ni_options def;
    if (!o) { ni_options_init(&def); o = &def; }
    ni_run *r = calloc(1, sizeof *r);
    if (!r) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    r->o = *o;
    ni_buf_init(&r->lookup_out, 1u << 20);
    ni_err e = NI_OK;
    if (o->n_targets && !o->targets) e = ni_error_set(err, NI_ERR_ARG, "targets: NULL with n_targets %zu", o->n_targets);
    else if (o->n_targets && !(r->specs = calloc(o->n_targets, sizeof *r->specs))) e = NI_ERR_NOMEM;
    for (size_t i = 0; !e && i < o->n_targets; i++) {
        if (!o->targets[i]) e = ni_error_set(err, NI_ERR_ARG, "targets[%zu]: NULL", i);
        else if (!(r->specs[i] = strdup(o->targets[i]))) e = NI_ERR_NOMEM;
        else r->nspecs++;
    }
    if (!e && (!dup_opt(&r->data_dir, o->data_dir) || !dup_opt(&r->geoip, o->geoip_path) ||
               !dup_opt(&r->asn, o->asn_path) || !dup_opt(&r->tzname, o->tz) ||
               !dup_opt(&r->events_path, o->events_path) || !dup_opt(&r->filter, o->filter) ||
               !(r->lookup_arena = ni_arena_new(1u << 16))))
        e = NI_ERR_NOMEM;
    if (e == NI_ERR_NOMEM) ni_error_set(err, e, "out of memory");
    r->o.targets = NULL;
    r->o.data_dir = r->data_dir; r->o.geoip_path = r->geoip; r->o.asn_path = r->asn;
    r->o.tz = r->tzname; r->o.events_path = r->events_path; r->o.filter = r->filter;
    r->input.filter = r->filter;
    r->input.flows = o->flows;
    r->input.live = o->live;
    r->input.live_cfg = (ni_live_config){ o->snaplen, o->buffer, o->count, o->duration_us, NULL };
    if (!e && o->live && o->flows) e = ni_error_set(err, NI_ERR_ARG, "live and flows: a live capture of flow exports is not supported");
    if (!e && (o->snaplen < 0 || o->snaplen > NI_LIVE_SNAPLEN_DEFAULT))
        e = ni_error_set(err, NI_ERR_ARG, "snaplen: %d: expected 1 to %d", o->snaplen, NI_LIVE_SNAPLEN_DEFAULT);
    if (!e && (o->max_flows == 0 || o->max_flows > (1u << 30)))
        e = ni_error_set(err, NI_ERR_ARG, "max_flows: %zu: expected 1 to 1073741824", o->max_flows);
    if (!e && (o->tcp_idle_us <= 0 || o->udp_idle_us <= 0 || o->active_us <= 0))
        e = ni_error_set(err, NI_ERR_ARG, "flow timeouts must be > 0");
    if (!e && o->since_us && o->until_us && o->since_us >= o->until_us)
        e = ni_error_set(err, NI_ERR_ARG, "since/until: an empty window");
    if (!e && o->threads > NETINTEL_THREADS_MAX)
        e = ni_error_set(err, NI_ERR_ARG, "threads: %u: expected 1 to %d", o->threads, NETINTEL_THREADS_MAX);
    if (!e && r->filter) e = ni_input_check_filter(r->filter, err);
    /* a live capture runs in one thread: its ticks (idle timeouts on the
     * wall clock) and partial batches are not handed to worker lanes */
    unsigned threads = o->live ? 1 : o->threads;
    if (!e && threads > 1 && o->enrich) {
        r->load_cfg = enrich_config(r);
        r->loading = pthread_create(&r->loader, NULL, load_main, r) == 0;
    }
    if (!e) e = build_target(r, err);
    if (!e) {
        ni_engine_config cfg = { 0 };
        ni_flow_config_default(&cfg.flow);
        cfg.flow.max_flows = (uint32_t)o->max_flows;
        cfg.flow.tcp_idle_us = o->tcp_idle_us;
        cfg.flow.udp_idle_us = o->udp_idle_us;
        cfg.flow.active_us = o->active_us;
        cfg.target = r->target;
        cfg.ndpi = o->ndpi;
        cfg.ndpi_lazy = threads > 1;     /* the reader's lane: DNS flows */
        if (!(r->engine = ni_engine_new(&cfg, err))) e = err && err->code ? err->code : NI_ERR_NOMEM;
    }
    if (!e) e = ni_engine_add_lane_hook(r->engine, lane_session, lane_free, r);
    if (!e) e = ni_engine_add_hook(r->engine, hook_session, r);
    /* threads CPUs: the reader (the caller's thread) and threads - 1 worker
     * lanes; the merge goes to whichever would wait (ni_engine.c) */
    if (!e && threads > 1) e = ni_engine_set_threads(r->engine, threads - 1, err);
    if (e) {
        if (err && !err->code) ni_error_set(err, e, "%s", ni_strerror(e));
        ni_run_free(r);
        return NULL;
    }
    ni_engine_set_sink(r->engine, sink_session, r);
    ni_engine_set_warn(r->engine, engine_warn, r);
    ni_engine_set_stop(r->engine, engine_stop, r);
    ni_engine_set_input(r->engine, &r->input);
    ni_engine_set_tick(r->engine, engine_tick, r);
    return r;
}

void ni_run_free(ni_run *r)
{
    if (!r) return;
    load_join(r);
    ni_engine_free(r->engine);
    ni_profile_free(r->prof);
    for (size_t i = 0; i < r->nspecs; i++)
        if (r->spec_targets) ni_target_free(r->spec_targets[i]);
    for (size_t i = 0; i < r->nspecs; i++) free(r->specs[i]);
    free(r->specs);
    free(r->spec_targets);
    free(r->spec_matched);
    ni_target_free(r->target);
    ni_enrich_free(r->en);
    ni_tz_free(r->tz);
    for (size_t i = 0; i < r->nev_strings; i++) free(r->ev_strings[i]);
    free(r->ev_strings);
    free(r->ev);
    ni_arena_free(r->lookup_arena);
    ni_buf_release(&r->lookup_out);
    free(r->data_dir); free(r->geoip); free(r->asn); free(r->tzname); free(r->events_path);
    free(r->filter);
    free(r->cap_iface);
    free(r->ranges);
    free(r);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NI_RUN_EXIT_FREES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NI_RUN_EXIT_FREES 1
#endif
#endif

void ni_run_exit(ni_run *r)
{
#ifdef NI_RUN_EXIT_FREES
    ni_run_free(r);
#else
    /* the workers wait on their lock or free their lane engines (nothing
     * of which the exit needs): the exit ends them */
    if (r) load_join(r);
#endif
}

void ni_run_on_session(ni_run *r, ni_session_fn fn, void *ud) { r->on_session = fn; r->session_ud = ud; }
void ni_run_on_warning(ni_run *r, ni_warning_fn fn, void *ud) { r->on_warning = fn; r->warning_ud = ud; }

void ni_run_on_progress(ni_run *r, ni_progress_fn fn, void *ud)
{
    r->on_progress = fn;
    r->progress_ud = ud;
    ni_engine_set_progress(r->engine, fn ? engine_progress : NULL, fn ? r : NULL, 16384);
}

ni_err ni_run_load(ni_run *r, ni_error *err)
{
    return run_enrich(r, err) ? NI_OK : err && err->code ? err->code : NI_ERR_DATA;
}

ni_enrich *ni_run_enrich(ni_run *r, ni_error *err) { return run_enrich(r, err); }
const ni_target *ni_run_target(const ni_run *r) { return r->target; }

bool ni_run_target_matched(const ni_run *r, size_t i)
{
    return r->spec_matched && i < r->nspecs && r->spec_matched[i];
}

/* ---- profiles ---------------------------------------------------------------- */
static const char *keep(ni_run *r, const char *s)
{
    if (!s || !*s) return NULL;
    char **ns = realloc(r->ev_strings, (r->nev_strings + 1) * sizeof *ns);
    if (!ns) return NULL;
    r->ev_strings = ns;
    return r->ev_strings[r->nev_strings++] = strdup(s);
}

/* date<TAB>label[<TAB>region[<TAB>site]], '#' comments, header line "date ..." */
static ni_err load_events(ni_run *r, const char *path, ni_error *err)
{
    ni_tsv t;
    if (ni_tsv_open(&t, path, err)) return NI_ERR_DATA;
    int cd = ni_tsv_need(&t, "date", err), cl = ni_tsv_need(&t, "label", err);
    int cr = ni_tsv_col(&t, "region"), cs = ni_tsv_col(&t, "site");
    if (cd < 0 || cl < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int rc;
    while ((rc = ni_tsv_next(&t, err)) > 0) {
        int64_t us;
        if (ni_time_parse(ni_tsv_field(&t, cd), &us)) { ni_tsv_error(&t, err, "bad date '%s'", ni_tsv_field(&t, cd)); rc = -1; break; }
        ni_event *ne = realloc(r->ev, (r->nev + 1) * sizeof *ne);
        if (!ne) { rc = -1; break; }
        r->ev = ne;
        ni_event *v = &r->ev[r->nev++];
        v->at_us = us;
        v->label = keep(r, ni_tsv_field(&t, cl));
        v->region = cr >= 0 ? keep(r, ni_tsv_field(&t, cr)) : NULL;
        v->site = cs >= 0 ? keep(r, ni_tsv_field(&t, cs)) : NULL;
    }
    ni_tsv_close(&t);
    return rc < 0 ? NI_ERR_DATA : NI_OK;
}

/* The configuration every profile of the run shares (loaded once). */
static ni_err profile_config(ni_run *r, ni_error *err)
{
    if (r->events_loaded) return NI_OK;
    if (r->events_path && load_events(r, r->events_path, err)) {
        if (err && !err->code) ni_error_set(err, NI_ERR_DATA, "%s: cannot read the events", r->events_path);
        if (err) err->code = NI_ERR_DATA;       /* the message stays the reader's */
        return NI_ERR_DATA;
    }
    if (!r->tz) {
        const char *name = r->tzname ? r->tzname : r->target ? ni_target_timezone(r->target) : NULL;
        if (!(r->tz = ni_tz_load(name ? name : "UTC", err))) {
            if (err && err->code != NI_ERR_NOMEM) err->code = NI_ERR_ARG;
            return err && err->code ? err->code : NI_ERR_ARG;
        }
    }
    if (!run_enrich(r, err)) return err && err->code ? err->code : NI_ERR_DATA;
    ni_profile_config pc = { (const char *const *)r->specs, r->nspecs, r->tz, r->o.since_us, r->o.until_us,
                             ni_enrich_profile_lookups(r->en), r->ev, r->nev, r->stop != 0,
                             r->o.live ? &r->cap : NULL };
    r->pc = pc;
    r->events_loaded = true;
    return NI_OK;
}

ni_profile *ni_run_new_profile(ni_run *r, ni_error *err)
{
    if (profile_config(r, err)) return NULL;
    return ni_profile_new(&r->pc, err);
}

ni_profile *ni_run_profile(ni_run *r, ni_error *err)
{
    if (!r->prof) r->prof = ni_run_new_profile(r, err);
    return r->prof;
}

void ni_profile_get_losses(const ni_profile *p, ni_profile_loss *out)
{
    const ni_profile_losses *l = ni_profile_lost(p);
    out->names = l->names;
    out->hosts = l->hosts;
    out->clients = l->clients;
    out->versions = l->versions;
    out->evidence = l->evidence;
    out->out_of_memory = l->out_of_memory;
}

static ni_err write_file(const char *dir, const char *name, const ni_buf *b, ni_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return ni_error_set(err, NI_ERR_ARG, "%s: path too long", dir);
    return ni_file_write_all(path, b->p, b->len, err);
}

/* json: a report.json, doc: the same parsed and checked by ni_reportdoc_load
 * (both views are rendered from it: one parse). */
static ni_err write_reports(const char *dir, const ni_buf *json, const json_t *doc, bool with_json, ni_error *err)
{
    if (mkdir(dir, 0777) && errno != EEXIST)
        return ni_error_set(err, NI_ERR_OUTPUT, "cannot create the folder: %s", strerror(errno));
    ni_buf html, md;
    ni_buf_init(&html, NI_REPORT_OUT_MAX);
    ni_buf_init(&md, NI_REPORT_OUT_MAX);
    ni_err e = ni_report_html_doc(doc, &html, err);
    if (!e) e = ni_report_markdown_doc(doc, &md, err);
    if (!e && with_json) e = write_file(dir, "report.json", json, err);
    if (!e) e = write_file(dir, "report.html", &html, err);
    if (!e) e = write_file(dir, "report.md", &md, err);
    ni_buf_release(&html);
    ni_buf_release(&md);
    return e;
}

static ni_err summary_of(const json_t *doc, ni_report_summary *s, ni_error *err);

ni_err ni_profile_write(ni_profile *p, const char *dir, ni_error *err)
{
    return ni_profile_write_summary(p, dir, NULL, err);
}

ni_err ni_profile_write_summary(ni_profile *p, const char *dir, ni_report_summary *sum, ni_error *err)
{
    if (sum) memset(sum, 0, sizeof *sum);
    ni_buf json;
    ni_buf_init(&json, NI_REPORT_JSON_MAX);
    json_t *doc = NULL;
    ni_err e = ni_profile_json(p, &json);
    if (e) {
        if (json.err == NI_ERR_LIMIT) ni_error_set(err, NI_ERR_LIMIT, "report.json larger than %u MiB", NI_REPORT_JSON_MAX >> 20);
        else ni_error_set(err, e, "cannot write the report");
    } else if (!(doc = ni_reportdoc_load(json.p, json.len, "report.json", err))) {
        e = err && err->code ? err->code : NI_ERR_FORMAT;
    } else {
        e = write_reports(dir, &json, doc, true, err);
        if (!e && sum) e = summary_of(doc, sum, err);   /* the document just written: no second parse */
    }
    json_decref(doc);
    ni_buf_release(&json);
    return e;
}

/* Reads the whole file into a NUL-terminated ni_buf capped at
 * NI_REPORT_JSON_MAX; errors name the file. */
static ni_err read_report(const char *path, ni_buf *b, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ni_error_set(err, errno == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ni_buf_add(b, chunk, n)) break;
    int rerr = ferror(f);
    fclose(f);
    if (b->err == NI_ERR_LIMIT) return ni_error_set(err, NI_ERR_LIMIT, "%s: larger than %u MiB", path, NI_REPORT_JSON_MAX >> 20);
    if (b->err) return ni_error_set(err, b->err, "%s: %s", path, ni_strerror(b->err));
    if (rerr) return ni_error_set(err, NI_ERR_IO, "%s: read error", path);
    if (b->len == 0) return ni_error_set(err, NI_ERR_FORMAT, "%s: empty file, not a report.json", path);
    if (memchr(b->p, 0, b->len)) return ni_error_set(err, NI_ERR_FORMAT, "%s: contains a NUL byte, not JSON", path);
    return NI_OK;
}

/* The renderers name the document "report.json"; name the real file. */
static ni_err render_error(const char *path, ni_error *err)
{
    if (!err) return NI_ERR_FORMAT;
    char m[NI_ERRMSG_MAX];
    const char *p = err->msg;
    if (!strncmp(p, "report.json: ", 13)) p += 13;
    snprintf(m, sizeof m, "%s", *p ? p : ni_strerror(err->code));
    ni_err code = err->code ? err->code : NI_ERR_FORMAT;
    return ni_error_set(err, code, "%s: %s", path, m);
}

ni_err ni_report_render(const char *report_json, const char *outdir, ni_error *err)
{
    ni_buf json, html, md;
    ni_buf_init(&json, NI_REPORT_JSON_MAX);
    ni_buf_init(&html, NI_REPORT_OUT_MAX);
    ni_buf_init(&md, NI_REPORT_OUT_MAX);
    char *dir = NULL;
    ni_err e = read_report(report_json, &json, err);
    if (!e && (ni_report_html(ni_buf_str(&json), &html, err) || ni_report_markdown(ni_buf_str(&json), &md, err)))
        e = render_error(report_json, err);
    if (e) goto done;

    /* the output directory: outdir, else the input's own directory */
    if (outdir) dir = strdup(outdir);
    else {
        const char *slash = strrchr(report_json, '/');
        dir = slash ? strndup(report_json, (size_t)(slash - report_json) + (slash == report_json)) : strdup(".");
    }
    if (!dir) { e = ni_error_set(err, NI_ERR_NOMEM, "out of memory"); goto done; }
    if (!*dir) { e = ni_error_set(err, NI_ERR_ARG, "an empty output directory"); goto done; }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0777) != 0) {
            e = ni_error_set(err, NI_ERR_OUTPUT, "%s: %s", dir, strerror(errno));
            goto done;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        e = ni_error_set(err, NI_ERR_OUTPUT, "%s: not a directory", dir);
        goto done;
    }
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dir[--dl] = 0;
    const char *sep = dir[dl - 1] == '/' ? "" : "/";
    char path[8192];
    const char *names[2] = { "report.html", "report.md" };
    const ni_buf *bufs[2] = { &html, &md };
    for (int i = 0; i < 2 && !e; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s%s%s", dir, sep, names[i]) >= sizeof path)
            e = ni_error_set(err, NI_ERR_OUTPUT, "%s: path too long", dir);
        else
            e = ni_file_write_all(path, bufs[i]->p, bufs[i]->len, err);
    }
done:
    free(dir);
    ni_buf_release(&json);
    ni_buf_release(&html);
    ni_buf_release(&md);
    return e;
}

/* ---- the summary of a report ------------------------------------------------------ */
void ni_report_summary_release(ni_report_summary *s)
{
    if (!s) return;
    free(s->first);
    free(s->last);
    for (size_t i = 0; i < s->n_findings; i++) free(s->findings[i]);
    free(s->findings);
    memset(s, 0, sizeof *s);
}

static uint64_t doc_count(const json_t *doc, const char *path)
{
    long long v = ni_reportdoc_int(doc, path);
    return v > 0 ? (uint64_t)v : 0;
}

ni_err ni_report_summary_load(const char *report_json, ni_report_summary *s, ni_error *err)
{
    memset(s, 0, sizeof *s);
    ni_buf b;
    ni_buf_init(&b, NI_REPORT_JSON_MAX);
    json_t *doc = NULL;
    ni_err e = read_report(report_json, &b, err);
    if (!e && !(doc = ni_reportdoc_load(b.p, b.len, report_json, err))) e = err && err->code ? err->code : NI_ERR_FORMAT;
    ni_buf_release(&b);
    if (e) return e;
    e = summary_of(doc, s, err);
    json_decref(doc);
    return e;
}

/* The summary's figures from a checked document (copies owned by s). */
static ni_err summary_of(const json_t *doc, ni_report_summary *s, ni_error *err)
{
    s->sessions = doc_count(doc, "totals.sessions");
    s->outbound = doc_count(doc, "totals.outbound");
    s->inbound = doc_count(doc, "totals.inbound");
    s->internal = doc_count(doc, "totals.internal");
    s->hosts = doc_count(doc, "totals.hosts");
    const char *first = ni_reportdoc_str(doc, "window.first"), *last = ni_reportdoc_str(doc, "window.last");
    bool nomem = (first && !(s->first = strdup(first))) || (last && !(s->last = strdup(last)));
    const json_t *f = ni_reportdoc_get(doc, "findings");
    size_t n = json_array_size(f);
    if (!nomem && n && !(s->findings = calloc(n, sizeof *s->findings))) nomem = true;
    for (size_t i = 0; !nomem && i < n; i++) {
        const char *t = json_string_value(json_object_get(json_array_get(f, i), "text"));
        if (!(s->findings[i] = strdup(t ? t : ""))) nomem = true;
        else s->n_findings++;
    }
    if (nomem) {
        ni_report_summary_release(s);
        return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    }
    return NI_OK;
}

/* ---- comparing two profiles ---------------------------------------------------- */
/* Reads a report.json for the diff; errors name the file. */
static ni_err read_for_diff(const char *path, ni_buf *b, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ni_error_set(err, NI_ERR_NOTFOUND, "%s: cannot open", path);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ni_buf_add(b, chunk, n)) {
            fclose(f);
            return ni_error_set(err, NI_ERR_LIMIT, "%s: larger than %u MiB, not a report.json", path, NI_REPORT_JSON_MAX >> 20);
        }
    int bad = ferror(f);
    fclose(f);
    if (bad) return ni_error_set(err, NI_ERR_IO, "%s: read error", path);
    if (b->len == 0) return ni_error_set(err, NI_ERR_FORMAT, "%s: empty file, not a report.json", path);
    if (memchr(b->p, 0, b->len)) return ni_error_set(err, NI_ERR_FORMAT, "%s: contains a NUL byte, not a report.json", path);
    return NI_OK;
}

ni_err ni_report_diff(const char *old_json, const char *new_json, const char *md_path, const char *json_path,
                      bool *changed, ni_error *err)
{
    ni_buf a, b, jo, md;
    ni_buf_init(&a, NI_REPORT_JSON_MAX);
    ni_buf_init(&b, NI_REPORT_JSON_MAX);
    ni_buf_init(&jo, NI_DIFF_OUT_MAX);
    ni_buf_init(&md, NI_DIFF_OUT_MAX);
    bool ch = false;
    ni_err e = read_for_diff(old_json, &a, err);
    if (!e) e = read_for_diff(new_json, &b, err);
    if (!e) e = ni_diff_reports(ni_buf_str(&a), old_json, ni_buf_str(&b), new_json, &ch, &jo, &md, err);
    if (!e && json_path) e = ni_file_write_all(json_path, jo.p, jo.len, err);
    if (!e) e = ni_file_write_all(md_path ? md_path : "-", md.p, md.len, err);
    if (!e && changed) *changed = ch;
    ni_buf_release(&a);
    ni_buf_release(&b);
    ni_buf_release(&jo);
    ni_buf_release(&md);
    return e;
}

/* ---- reading ------------------------------------------------------------------ */
/* ---- the pushdown: what a database source filters at its server ---------- */
typedef struct range_list { ni_ch_range *v; size_t n, cap; bool nomem; } range_list;

static void add_range(void *ud, const ni_addr *a, unsigned len)
{
    range_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        ni_ch_range *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->nomem = true; return; }
        l->v = v;
        l->cap = cap;
    }
    ni_ch_range *g = &l->v[l->n++];
    ni_ch_addr16(a, g->lo);
    unsigned bits = a->family == 4 ? len + 96 : len;
    memcpy(g->hi, g->lo, 16);
    for (unsigned i = bits; i < 128; i++) {
        g->lo[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
        g->hi[i / 8] |= (uint8_t)(0x80u >> (i % 8));
    }
}

static int range_cmp(const void *a, const void *b) { return memcmp(((const ni_ch_range *)a)->lo, ((const ni_ch_range *)b)->lo, 16); }

/* hi + 1 == lo (adjacent ranges) */
static bool adjacent(const uint8_t hi[16], const uint8_t lo[16])
{
    uint8_t x[16];
    memcpy(x, hi, 16);
    int i = 15;
    while (i >= 0 && x[i] == 0xff) x[i--] = 0;
    if (i < 0) return false;
    x[i]++;
    return !memcmp(x, lo, 16);
}

/* A profile reads only the target's sessions (either end in the target)
 * within its window: a database source is told so (ni_input_options). */
static void set_pushdown(ni_run *r)
{
    if (!r->prof) return;
    r->input.pushdown.since_us = r->o.since_us;
    r->input.pushdown.until_us = r->o.until_us;
    if (!r->ranges_built && r->target && ni_target_defined(r->target)) {
        r->ranges_built = true;
        range_list l = { 0 };
        ni_target_walk(r->target, add_range, &l);
        if (l.nomem) { free(l.v); return; }            /* no address pushdown: still correct */
        qsort(l.v, l.n, sizeof *l.v, range_cmp);
        size_t m = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (m && (memcmp(l.v[i].lo, l.v[m - 1].hi, 16) <= 0 || adjacent(l.v[m - 1].hi, l.v[i].lo))) {
                if (memcmp(l.v[i].hi, l.v[m - 1].hi, 16) > 0) memcpy(l.v[m - 1].hi, l.v[i].hi, 16);
            } else l.v[m++] = l.v[i];
        }
        r->ranges = l.v;
        r->nranges = m;
        /* a defined target with no prefix matches nothing: one empty range */
        if (!m) {
            free(r->ranges);
            if ((r->ranges = calloc(1, sizeof *r->ranges))) { r->ranges[0].lo[0] = 1; r->nranges = 1; }
        }
    }
    r->input.pushdown.ranges = r->ranges;
    r->input.pushdown.n_ranges = r->nranges;
}

ni_err ni_run_read(ni_run *r, const char *input, ni_error *err)
{
    if (r->finished) return ni_error_set(err, NI_ERR_ARG, "%s: the run is finished", input);
    if (r->stop) return ni_error_set(err, NI_ERR_INTERRUPTED, "%s: interrupted", input);
    if (r->inputs >= r->o.max_inputs)
        return ni_error_set(err, NI_ERR_LIMIT, "%s: more than %zu inputs in one run", input, r->o.max_inputs);
    r->inputs++;
    if (r->o.enrich && !r->en && ni_run_load(r, err)) return err && err->code ? err->code : NI_ERR_DATA;
    if (r->o.live) {
        /* the interfaces read, as report.json names them ("eth0, eth1") */
        size_t have = r->cap_iface ? strlen(r->cap_iface) : 0;
        char *ni = realloc(r->cap_iface, have + strlen(input) + 3);
        if (!ni) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        snprintf(ni + have, strlen(input) + 3, "%s%s", have ? ", " : "", input);
        r->cap_iface = ni;
        capture_update(r, true);
    }
    set_pushdown(r);
    return ni_engine_read(r->engine, input, err);
}

void ni_run_interrupt(ni_run *r)
{
    atomic_store(&r->stop, 1);
    r->sig_stop = 1;
}

const volatile sig_atomic_t *ni_run_stop_flag(ni_run *r) { return &r->sig_stop; }
ni_buf *ni_run_lookup_buf(ni_run *r) { return &r->lookup_out; }
void ni_run_warn(ni_run *r, const char *msg) { engine_warn(r, msg); }

ni_err ni_run_deliver(ni_run *r, ni_session *s, ni_error *err)
{
    s->direction = ni_target_direction(r->target, &s->client, &s->server);
    note_match(r, s);
    if (enriching(r)) ni_enrich_session(r->en, s);
    return sink_session(r, s, err);
}

ni_err ni_run_finish(ni_run *r, ni_error *err)
{
    if (r->finished) return NI_OK;
    r->finished = true;
    r->pc.interrupted = r->stop != 0 && !r->o.live;     /* a live capture ends on a stop request */
    ni_err e = ni_engine_finish(r->engine, err);
    if (r->o.live) capture_update(r, false);
    return e;
}

const ni_stats *ni_run_stats(const ni_run *r) { return ni_engine_stats(r->engine); }
size_t ni_run_peak_flows(const ni_run *r) { return ni_engine_peak_flows(r->engine); }

/* ---- look-ups --------------------------------------------------------------- */
static ni_enrich *lookup_start(ni_run *r, ni_session *out, ni_error *err)
{
    if (!run_enrich(r, err)) return NULL;
    ni_arena_reset(r->lookup_arena);
    memset(out, 0, sizeof *out);
    out->arena = r->lookup_arena;
    return r->en;
}

ni_err ni_run_lookup(ni_run *r, const char *text, ni_session *out, ni_error *err)
{
    ni_enrich *en = lookup_start(r, out, err);
    if (!en) return err && err->code ? err->code : NI_ERR_DATA;
    if (!text || !*text || !ni_enrich_lookup(en, text, out))
        return ni_error_set(err, NI_ERR_ARG, "'%s': neither an address nor a domain name", text ? text : "");
    return NI_OK;
}

ni_err ni_run_lookup_ua(ni_run *r, const char *ua, const char *platform, const char *platform_version,
                        const char *model, ni_session *out, ni_error *err)
{
    ni_enrich *en = lookup_start(r, out, err);
    if (!en) return err && err->code ? err->code : NI_ERR_DATA;
    if (!ua) return ni_error_set(err, NI_ERR_ARG, "User-Agent: NULL");
    ni_enrich_ua(en, out, ua, platform, platform_version, model);
    return NI_OK;
}
