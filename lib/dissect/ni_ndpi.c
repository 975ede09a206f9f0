/* ni_ndpi.c — the nDPI wrapper (see ni_ndpi.h).  Uses nDPI 4.2's public API:
 * ndpi_init_detection_module / ndpi_finalize_initialization once, then per
 * flow ndpi_detection_process_packet on the first packets, and
 * ndpi_detection_giveup (with guessing) when the flow ends undetected. */
#include "dissect/ni_ndpi.h"
#include "core/ni_arena.h"

#include <stdlib.h>
#include <string.h>
#include <ndpi/ndpi_api.h>

#define NI_NDPI_PACKETS_MAX 16u     /* packets per flow shown to nDPI */
#define NI_NDPI_FLOWS_MAX   16384u  /* live nDPI flow states */

struct ni_ndpi {
    struct ndpi_detection_module_struct *mod;
    uint32_t live;
    uint64_t flows, skipped;
};

struct ni_ndpi_flow {
    struct ndpi_flow_struct *f;
    ndpi_protocol proto;
    uint32_t packets;
    bool done;
};

ni_ndpi *ni_ndpi_new(ni_error *err)
{
    ni_ndpi *nd = calloc(1, sizeof *nd);
    if (!nd) { ni_error_set(err, NI_ERR_NOMEM, "nDPI: out of memory"); return NULL; }
    nd->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (!nd->mod) {
        free(nd);
        ni_error_set(err, NI_ERR_UNSUPPORTED, "nDPI: cannot initialise the detection module");
        return NULL;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(nd->mod, &all);
    ndpi_finalize_initialization(nd->mod);
    return nd;
}

void ni_ndpi_free(ni_ndpi *nd)
{
    if (!nd) return;
    ndpi_exit_detection_module(nd->mod);
    free(nd);
}

static void flow_release(ni_ndpi *nd, ni_ndpi_flow **fl)
{
    ni_ndpi_flow *x = *fl;
    if (!x) return;
    if (x->f) { ndpi_free_flow(x->f); x->f = NULL; }
    free(x);
    *fl = NULL;
    nd->live--;
}

bool ni_ndpi_packet(ni_ndpi *nd, ni_ndpi_flow **fl, const uint8_t *l3, size_t len, int64_t ts_us)
{
    ni_ndpi_flow *x = *fl;
    if (!x) {
        if (nd->live >= NI_NDPI_FLOWS_MAX) { nd->skipped++; return true; }
        x = calloc(1, sizeof *x);
        if (!x) return true;
        x->f = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
        if (!x->f) { free(x); return true; }
        memset(x->f, 0, SIZEOF_FLOW_STRUCT);
        *fl = x;
        nd->live++;
        nd->flows++;
    }
    if (x->done || !x->f) return true;
    if (len > 65535) len = 65535;
    x->proto = ndpi_detection_process_packet(nd->mod, x->f, l3, (unsigned short)len,
                                             (uint64_t)(ts_us / 1000));
    x->packets++;
    bool detected = x->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
                    x->proto.master_protocol != NDPI_PROTOCOL_UNKNOWN;
    if (detected ||
        x->packets >= NI_NDPI_PACKETS_MAX)
        x->done = true;
    return x->done;
}

void ni_ndpi_finish(ni_ndpi *nd, ni_ndpi_flow **fl, ni_session *s)
{
    ni_ndpi_flow *x = *fl;
    if (!x) return;
    ndpi_protocol p = x->proto;
    if (x->f && p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN) {
        uint8_t guessed = 0;
        p = ndpi_detection_giveup(nd->mod, x->f, 1, &guessed);
    }
    char name[64];
    ndpi_protocol2name(nd->mod, p, name, sizeof name);
    if (s && s->arena) s->ndpi_protocol = ni_arena_strdup(s->arena, name);
    flow_release(nd, fl);
}

void ni_ndpi_drop(ni_ndpi *nd, ni_ndpi_flow **fl) { flow_release(nd, fl); }

void ni_ndpi_counts(const ni_ndpi *nd, uint64_t *flows, uint64_t *skipped)
{
    *flows = nd->flows;
    *skipped = nd->skipped;
}

/* ---- the producer (ni_producer.h) ------------------------------------------ */

typedef struct prod_state { ni_ndpi_flow *fl; bool done; } prod_state;

static void *prod_ctx_new(const ni_producer_opts *o, ni_stats *st, ni_error *err)
{
    (void)st;
    if (!o || !o->ndpi) return NULL;        /* disabled */
    return ni_ndpi_new(err);
}

static void prod_ctx_free(void *ctx) { ni_ndpi_free(ctx); }

static bool prod_packet(void *ctx, void *state, ni_pflow *f, int dir, const ni_packet *p)
{
    (void)dir;
    prod_state *x = state;
    if (!x->done && (f->app == NI_APP_HTTP || f->app == NI_APP_DNS)) {
        ni_ndpi_drop(ctx, &x->fl);
        x->done = true;
    }
    if (!x->done && p->l3 && p->l3_caplen) x->done = ni_ndpi_packet(ctx, &x->fl, p->l3, p->l3_caplen, p->ts_us);
    return x->done;
}

static void prod_finish(void *ctx, void *state, ni_pflow *f)
{
    ni_ndpi_finish(ctx, &((prod_state *)state)->fl, f->s);
}

static void prod_release(void *ctx, void *state)
{
    ni_ndpi_drop(ctx, &((prod_state *)state)->fl);
}

const ni_producer ni_ndpi_producer = {
    .name = "ndpi", .state_size = sizeof(prod_state),
    .ctx_new = prod_ctx_new, .ctx_free = prod_ctx_free,
    .on_packet = prod_packet, .on_finish = prod_finish, .release = prod_release,
};
