/* ni_collector.c — the flow collector of the embedding API
 * (include/netintel/collect.h, docs/API.md): the export decoder
 * (ingest/ni_netflow) fed by sockets or captures (ingest/ni_collect), its
 * sessions handed to a run (ni_run_deliver: direction, enrichment, the
 * run's callback and profile), and the summary of `netintel collect`. */
#include "api/ni_collector.h"
#include "api/ni_run.h"
#include "core/ni_buf.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "ingest/ni_collect.h"
#include "ingest/ni_netflow.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(NI_COLLECTOR_LISTEN_MAX == NI_COLLECT_LISTEN_MAX, "the public socket limit is the library's");

/* The first exporter streams of the JSON summary; the count says how many there were. */
#define EXPORTERS_SHOWN 256

struct ni_collector {
    ni_run *run;
    ni_netflow *nf;
    ni_collect *col;
    ni_buf out;                 /* ni_collector_stats_json */
    ni_netflow_exporter *ex;    /* EXPORTERS_SHOWN, for the summary */
};

void ni_collector_options_init(ni_collector_options *o)
{
    o->pair_timeout_us = NI_NETFLOW_PAIR_US;
    o->template_ttl_us = NI_NETFLOW_TEMPLATE_TTL_US;
}

static ni_err deliver(void *ud, ni_session *s, ni_error *err) { return ni_run_deliver(ud, s, err); }

static void warn(void *ud, const char *msg) { ni_run_warn(ud, msg); }

ni_collector *ni_collector_new(ni_run *r, const ni_collector_options *o, ni_error *err)
{
    ni_collector_options d;
    if (!o) { ni_collector_options_init(&d); o = &d; }
    if (o->pair_timeout_us <= 0 || o->template_ttl_us <= 0) {
        ni_error_set(err, NI_ERR_ARG, "collector: timeouts must be > 0");
        return NULL;
    }
    ni_collector *c = calloc(1, sizeof *c);
    if (!c) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    c->run = r;
    ni_buf_init(&c->out, 1u << 20);
    ni_netflow_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.pair_timeout_us = o->pair_timeout_us;
    cfg.template_ttl_us = o->template_ttl_us;
    if (!(c->nf = ni_netflow_new(&cfg, err)) || !(c->col = ni_collect_new(c->nf, err))) {
        ni_collector_free(c);
        return NULL;
    }
    ni_netflow_set_sink(c->nf, deliver, r);
    ni_collect_set_warn(c->col, warn, r);
    return c;
}

void ni_collector_free(ni_collector *c)
{
    if (!c) return;
    ni_collect_free(c->col);
    ni_netflow_free(c->nf);
    ni_buf_release(&c->out);
    free(c->ex);
    free(c);
}

ni_err ni_collector_listen(ni_collector *c, const char *spec, ni_error *err)
{
    return ni_collect_listen(c->col, spec, err);
}

size_t ni_collector_sockets(const ni_collector *c) { return ni_collect_sockets(c->col); }
uint16_t ni_collector_port(const ni_collector *c, size_t i) { return ni_collect_port(c->col, i); }

ni_err ni_collector_run(ni_collector *c, int64_t duration_us, ni_error *err)
{
    return ni_collect_run(c->col, ni_run_stop_flag(c->run), duration_us, err);
}

ni_err ni_collector_read(ni_collector *c, const char *path, ni_error *err)
{
    return ni_collect_read(c->col, path, err);
}

ni_err ni_collector_finish(ni_collector *c, ni_error *err) { return ni_netflow_finish(c->nf, err); }

void ni_collector_get_stats(const ni_collector *c, ni_collector_stats *o)
{
    const ni_netflow_stats *s = ni_netflow_stats_get(c->nf);
    const ni_collect_stats *cs = ni_collect_stats_get(c->col);
    memset(o, 0, sizeof *o);
#define F(f) o->f = s->f;
    F(datagrams) F(v5) F(v9) F(ipfix) F(not_export) F(malformed) F(records) F(records_short)
    F(no_template) F(templates) F(templates_bad) F(template_withdrawals) F(templates_expired)
    F(template_limit) F(domain_limit) F(options_records) F(lost_records) F(lost_datagrams)
    F(sessions) F(paired) F(biflows) F(sampled) F(pending_evicted)
#undef F
    o->kernel_drops = cs->kernel_drops;
    o->oversized = cs->oversized;
    o->recv_errors = cs->recv_errors;
    o->capture_frames = cs->capture_frames;
    o->capture_not_udp = cs->capture_not_udp;
}

size_t ni_collector_exporters(const ni_collector *c, ni_collector_exporter *out, size_t max)
{
    ni_netflow_exporter ex[64];     /* a small max needs no allocation */
    ni_netflow_exporter *all = max > 64 ? calloc(max, sizeof *all) : ex;
    if (!all) return 0;
    size_t total = ni_netflow_exporters(c->nf, all, max);
    for (size_t i = 0; i < total && i < max; i++) {
        out[i].address = all[i].address;
        out[i].source = ni_netflow_source_name(all[i].version);
        out[i].domain = all[i].domain;
        out[i].datagrams = all[i].datagrams;
        out[i].records = all[i].records;
        out[i].lost = all[i].lost;
        out[i].templates = all[i].templates;
        out[i].sampling = all[i].sampling;
    }
    if (all != ex) free(all);
    return total;
}

#define STAT_FIELDS(X) \
    X(datagrams) X(v5) X(v9) X(ipfix) X(not_export) X(malformed) X(records) X(records_short) \
    X(no_template) X(templates) X(templates_bad) X(template_withdrawals) X(templates_expired) \
    X(template_limit) X(domain_limit) X(options_records) X(lost_records) X(lost_datagrams) \
    X(sessions) X(paired) X(biflows) X(sampled) X(pending_evicted)

ni_err ni_collector_stats_json(ni_collector *c, const char **text, size_t *len, ni_error *err)
{
    const ni_netflow_stats *st = ni_netflow_stats_get(c->nf);
    const ni_collect_stats *cs = ni_collect_stats_get(c->col);
    if (!c->ex && !(c->ex = calloc(EXPORTERS_SHOWN, sizeof *c->ex)))
        return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    size_t nex = ni_netflow_exporters(c->nf, c->ex, EXPORTERS_SHOWN);
    ni_buf *b = &c->out;
    ni_buf_clear(b);
    ni_json j;
    ni_json_init(&j, b, 2);
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
        const ni_netflow_exporter *x = &c->ex[i];
        char a[NI_ADDR_STRLEN];
        ni_json_obj_begin(&j);
        ni_json_kstr(&j, "address", ni_addr_format(&x->address, a));
        ni_json_kstr(&j, "source", ni_netflow_source_name(x->version));
        ni_json_kuint(&j, "domain", x->domain);
        ni_json_kuint(&j, "datagrams", x->datagrams);
        ni_json_kuint(&j, "records", x->records);
        ni_json_kuint(&j, x->version == 9 ? "lost_datagrams" : "lost_records", x->lost);
        ni_json_kuint(&j, "templates", x->templates);
        if (x->sampling) ni_json_kuint(&j, "sampling", x->sampling);
        ni_json_obj_end(&j);
    }
    ni_json_arr_end(&j);
    ni_json_obj_end(&j);
    ni_buf_addc(b, '\n');
    if (b->err) return ni_error_set(err, NI_ERR_LIMIT, "the summary is too large");
    *text = ni_buf_str(b);
    *len = b->len;
    return NI_OK;
}
