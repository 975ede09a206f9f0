/* ni_input.c — the source table and the interface over it (see ni_input.h). */
#include "ingest/ni_input.h"
#include "ingest/ni_stored.h"
#include "ingest/ni_sqlsrc.h"
#include "ingest/ni_chsrc.h"
#include "ingest/ni_zeek.h"
#include "ingest/ni_collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- capture files and standard input (ni_source) -------------------------- */
static void *cap_open(const char *path, ni_error *err) { return ni_source_open(path, err); }

static ni_err cap_filter(void *src, const char *expr, ni_error *err) { return ni_source_set_filter(src, expr, err); }

static int cap_next(void *src, ni_item *it, ni_error *err)
{
    it->kind = NI_ITEM_FRAME;
    it->session = NULL;
    return ni_source_next(src, &it->frame, err);
}

static void cap_stats(const void *src, ni_input_progress *st) { ni_source_progress(src, &st->done, &st->total); }
static void cap_close(void *src) { ni_source_close(src); }
static const char *cap_path(const void *src) { return ni_source_path(src); }

/* ---- stored sessions (ni_stored) --------------------------------------------- */
typedef struct stored_src {
    ni_stored *st;
    ni_session s;
} stored_src;

static void *sto_open(const char *path, ni_error *err)
{
    stored_src *x = calloc(1, sizeof *x);
    if (!x) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    if (!(x->st = ni_stored_open(path, err))) { free(x); return NULL; }
    return x;
}

static int sto_next(void *src, ni_item *it, ni_error *err)
{
    stored_src *x = src;
    it->kind = NI_ITEM_SESSION;
    it->session = &x->s;
    return ni_stored_next(x->st, &x->s, err);
}

static void sto_stats(const void *src, ni_input_progress *st)
{
    (void)src;
    st->done = st->total = 0;
}

static void sto_close(void *src)
{
    stored_src *x = src;
    if (!x) return;
    ni_stored_close(x->st);
    free(x);
}

/* ---- sessions kept in SQLite (ni_sqlsrc) --------------------------------------- */
typedef struct sqlite_src {
    ni_sqlsrc *q;
    ni_session s;
} sqlite_src;

static void *sql_open(const char *path, ni_error *err)
{
    sqlite_src *x = calloc(1, sizeof *x);
    if (!x) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    if (!(x->q = ni_sqlsrc_open(path, err))) { free(x); return NULL; }
    return x;
}

static int sql_next(void *src, ni_item *it, ni_error *err)
{
    sqlite_src *x = src;
    it->kind = NI_ITEM_SESSION;
    it->session = &x->s;
    return ni_sqlsrc_next(x->q, &x->s, err);
}

static void sql_stats(const void *src, ni_input_progress *st)
{
    const sqlite_src *x = src;
    ni_sqlsrc_progress(x->q, &st->done, &st->total);
}

static void sql_close(void *src)
{
    sqlite_src *x = src;
    if (!x) return;
    ni_sqlsrc_close(x->q);
    free(x);
}

/* ---- sessions kept in ClickHouse (ni_chsrc) ------------------------------------ */
typedef struct ch_src {
    ni_chsrc *q;
    ni_session s;
} ch_src;

static void *ch_open_opts(const char *path, const ni_input_options *o, ni_error *err)
{
    ch_src *x = calloc(1, sizeof *x);
    if (!x) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    if (!(x->q = ni_chsrc_open(path, o ? &o->pushdown : NULL, err))) { free(x); return NULL; }
    return x;
}

static void *ch_open(const char *path, ni_error *err) { return ch_open_opts(path, NULL, err); }

static int ch_next(void *src, ni_item *it, ni_error *err)
{
    ch_src *x = src;
    it->kind = NI_ITEM_SESSION;
    it->session = &x->s;
    return ni_chsrc_next(x->q, &x->s, err);
}

static void ch_stats(const void *src, ni_input_progress *st)
{
    const ch_src *x = src;
    ni_chsrc_progress(x->q, &st->done, &st->total);
}

static void ch_close(void *src)
{
    ch_src *x = src;
    if (!x) return;
    ni_chsrc_close(x->q);
    free(x);
}

static const char *ch_path(const void *src) { return ni_chsrc_name(((const ch_src *)src)->q); }

/* ---- Zeek logs (ni_zeek): a log file or a directory of logs ------------------- */
typedef struct zeek_src {
    ni_zeek *z;
    ni_session s;
} zeek_src;

static void *zeek_open(const char *path, ni_error *err)
{
    zeek_src *x = calloc(1, sizeof *x);
    if (!x) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    if (!(x->z = ni_zeek_open(path, err))) { free(x); return NULL; }
    return x;
}

static int zeek_next(void *src, ni_item *it, ni_error *err)
{
    zeek_src *x = src;
    it->kind = NI_ITEM_SESSION;
    it->session = &x->s;
    return ni_zeek_next(x->z, &x->s, err);
}

static void zeek_stats(const void *src, ni_input_progress *st)
{
    const zeek_src *x = src;
    ni_zeek_progress(x->z, &st->done, &st->total);
}

static void zeek_close(void *src)
{
    zeek_src *x = src;
    if (!x) return;
    ni_zeek_close(x->z);
    free(x);
}

/* ---- live capture from a network interface (ni_live) ------------------------ */
static bool live_probe(const char *path) { (void)path; return false; }   /* only when asked: options.live */

static void *live_open(const char *path, ni_error *err)
{
    return ni_live_open(path, NULL, err);
}

static void *live_open_opts(const char *path, const ni_input_options *o, ni_error *err)
{
    ni_live_config c = o ? o->live_cfg : (ni_live_config){ 0 };
    c.filter = o ? o->filter : NULL;
    return ni_live_open(path, &c, err);
}

static int live_next(void *src, ni_item *it, ni_error *err)
{
    it->session = NULL;
    int k = ni_live_next(src, &it->frame, &it->tick_us, err);
    if (k == 2) { it->kind = NI_ITEM_TICK; return 1; }
    it->kind = NI_ITEM_FRAME;
    return k;
}

static void live_stats(const void *src, ni_input_progress *st)
{
    st->live = ni_live_counters(src, &st->received, &st->dropped, &st->if_dropped);
}

static void live_close(void *src) { ni_live_close(src); }
static const char *live_path(const void *src) { return ni_live_name(src); }

/* ---- the table ---------------------------------------------------------------- */
static const ni_source_ops sources[] = {
    /* a clickhouse:// URL is never a file name */
    { "clickhouse", ni_ch_is_url, ch_open, ch_next, ch_stats, ch_close, ch_path, ch_open_opts },
    /* SQLite's magic is definite and cheap to read: first */
    { "sqlite", ni_sqlsrc_probe, sql_open, sql_next, sql_stats, sql_close, NULL, NULL },
    /* Zeek's JSON logs start with '{' too: before stored sessions */
    { "zeek", ni_zeek_probe, zeek_open, zeek_next, zeek_stats, zeek_close, NULL, NULL },
    { "sessions", ni_stored_probe, sto_open, sto_next, sto_stats, sto_close, NULL, NULL },
    { "flows", ni_collect_probe, ni_collect_source_open, ni_collect_source_next, ni_collect_source_stats,
      ni_collect_source_close, ni_collect_source_path, NULL },
    /* never recognised by content: chosen by options.live */
    { "live", live_probe, live_open, live_next, live_stats, live_close, live_path, live_open_opts },
    { "capture", NULL, cap_open, cap_next, cap_stats, cap_close, cap_path, NULL },   /* the fallback: last */
};

struct ni_input {
    const ni_source_ops *ops;
    void *src;
    char path[512];
};

/* What each kind is called in the message refusing a filter. */
static const char *kind_text(const ni_source_ops *ops)
{
    if (!strcmp(ops->name, "zeek")) return "Zeek logs";
    if (!strcmp(ops->name, "sessions")) return "stored sessions";
    if (!strcmp(ops->name, "clickhouse")) return "a ClickHouse table";
    if (!strcmp(ops->name, "flows")) return "a capture of flow exports (its records hold no frames)";
    return ops->name;
}

static const ni_source_ops *find_ops(const char *name)
{
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (!strcmp(sources[i].name, name)) return &sources[i];
    return NULL;
}

ni_input *ni_input_open_opts(const char *path, const ni_input_options *o, ni_error *err)
{
    const ni_source_ops *ops = NULL;
    if (o && o->live) ops = find_ops("live");
    else if (o && o->flows) ops = find_ops("flows");
    for (size_t i = 0; i < sizeof sources / sizeof sources[0] && !ops; i++)
        if (!sources[i].probe || sources[i].probe(path)) ops = &sources[i];
    bool capture = !strcmp(ops->name, "capture");
    if (o && o->filter && !capture && !(o->live && !strcmp(ops->name, "live"))) {
        ni_error_set(err, NI_ERR_UNSUPPORTED, "%s: a packet filter applies to packet captures, not to %s",
                     path, kind_text(ops));
        return NULL;
    }
    ni_input *in = calloc(1, sizeof *in);
    if (!in) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    in->ops = ops;
    snprintf(in->path, sizeof in->path, "%s", path);
    if (!(in->src = ops->open_opts ? ops->open_opts(path, o, err) : ops->open(path, err))) { free(in); return NULL; }
    if (o && o->filter && capture && cap_filter(in->src, o->filter, err)) {
        ni_input_close(in);
        return NULL;
    }
    return in;
}

ni_input *ni_input_open(const char *path, ni_error *err) { return ni_input_open_opts(path, NULL, err); }

ni_err ni_input_check_filter(const char *expr, ni_error *err) { return ni_source_check_filter(expr, err); }

int ni_input_next(ni_input *in, ni_item *it, ni_error *err) { return in->ops->next(in->src, it, err); }

void ni_input_stats(const ni_input *in, ni_input_progress *st)
{
    st->done = st->total = 0;
    in->ops->stats(in->src, st);
}

const char *ni_input_path(const ni_input *in) { return in->ops->path ? in->ops->path(in->src) : in->path; }
const char *ni_input_kind(const ni_input *in) { return in->ops->name; }

void ni_input_close(ni_input *in)
{
    if (!in) return;
    in->ops->close(in->src);
    free(in);
}
