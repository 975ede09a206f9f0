/* ni_ndpi.c — the nDPI wrapper (see ni_ndpi.h).  Uses nDPI 4.2's public API:
 * ndpi_init_detection_module / ndpi_finalize_initialization once, then per
 * flow ndpi_detection_process_packet on the first packets, and
 * ndpi_detection_giveup (with guessing) when the flow ends undetected.
 * Which flows nDPI is asked about (the gate, ni_ndpi.h) uses
 * ndpi_match_string_subprotocol (its host-name automaton),
 * ndpi_network_ptree_match (its address lists) and ndpi_get_proto_category. */
#include "dissect/ni_ndpi.h"
#include "core/ni_arena.h"
#include "core/ni_str.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <ndpi/ndpi_api.h>

#define NI_NDPI_PACKETS_MAX 16u     /* packets per flow shown to nDPI */
#define NI_NDPI_FLOWS_MAX   16384u  /* live nDPI flow states */

struct ni_ndpi {
    struct ndpi_detection_module_struct *mod;   /* NULL until first needed (ni_ndpi_new_lazy) */
    bool failed;                                /* it could not be made */
    uint32_t live;
    uint64_t flows, skipped, named;
};

struct ni_ndpi_flow {
    struct ndpi_flow_struct *f;
    ndpi_protocol proto;
    uint32_t packets;
    bool done;
};

/* The one process-wide lock of the library: making or freeing an nDPI
 * module is not thread-safe, because nDPI 4.2 initialises libgcrypt (a
 * process-global library) inside ndpi_init_detection_module: two worker
 * threads (-j) doing it at once abort in libgcrypt's FIPS set-up.  Modules
 * are made and freed one at a time; using a module needs no lock. */
static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;

static struct ndpi_detection_module_struct *make_module(void)
{
    pthread_mutex_lock(&module_lock);
    struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
    if (m) {
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(m, &all);
        ndpi_finalize_initialization(m);
    }
    pthread_mutex_unlock(&module_lock);
    return m;
}

/* The module, made on first use for a lazy context; NULL if it cannot be. */
static struct ndpi_detection_module_struct *mod(ni_ndpi *nd)
{
    if (!nd->mod && !nd->failed && !(nd->mod = make_module())) nd->failed = true;
    return nd->mod;
}

ni_ndpi *ni_ndpi_new(ni_error *err)
{
    ni_ndpi *nd = calloc(1, sizeof *nd);
    if (!nd) { ni_error_set(err, NI_ERR_NOMEM, "nDPI: out of memory"); return NULL; }
    if (!mod(nd)) {
        free(nd);
        ni_error_set(err, NI_ERR_UNSUPPORTED, "nDPI: cannot initialise the detection module");
        return NULL;
    }
    return nd;
}

ni_ndpi *ni_ndpi_new_lazy(ni_error *err)
{
    ni_ndpi *nd = calloc(1, sizeof *nd);
    if (!nd) ni_error_set(err, NI_ERR_NOMEM, "nDPI: out of memory");
    return nd;
}

void ni_ndpi_free(ni_ndpi *nd)
{
    if (!nd) return;
    if (nd->mod) {
        pthread_mutex_lock(&module_lock);
        ndpi_exit_detection_module(nd->mod);
        pthread_mutex_unlock(&module_lock);
    }
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
        if (!mod(nd)) return true;
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

/* nDPI's category of protocol id, VPN (its VPN, proxy and anonymiser
 * protocols: every row of data/ndpi-vpn.tsv that nDPI 4.2 knows; checked by
 * tests/unit/test_ndpi.c)? */
static bool vpn_proto(ni_ndpi *nd, int id)
{
    if (id <= NDPI_PROTOCOL_UNKNOWN || id > 0xffff || !mod(nd)) return false;
    return ndpi_get_proto_category(nd->mod, (ndpi_protocol){ .app_protocol = (u_int16_t)id }) ==
           NDPI_PROTOCOL_CATEGORY_VPN;
}

bool ni_ndpi_knows(ni_ndpi *nd, const char *name)
{
    return nd && name && mod(nd) && ndpi_get_protocol_id(nd->mod, (char *)name) > NDPI_PROTOCOL_UNKNOWN;
}

bool ni_ndpi_vpn_name(ni_ndpi *nd, const char *name)
{
    return nd && name && mod(nd) && vpn_proto(nd, ndpi_get_protocol_id(nd->mod, (char *)name));
}

/* Names nDPI's Tor check (ndpi_is_tls_tor, tor.c; not exported by the
 * library) could take for Tor's: ".onion", or "www.<label>.<tld>" whose label
 * looks random (a digit, or four consonants in a row) — a superset: nDPI
 * decides. */
static bool tor_shaped(const char *name, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++)
        if (ni_ascii_ieq(name + i, 6, ".onion")) return true;
    if (n < 4 || memcmp(name, "www.", 4)) return false;
    const char *label = name + 4, *dot = memchr(label, '.', n - 4);
    if (!dot || memchr(dot + 1, '.', n - (size_t)(dot + 1 - name))) return false;
    unsigned run = 0;
    for (const char *c = label; c < dot; c++) {
        char l = (char)(*c | 0x20);
        if (*c >= '0' && *c <= '9') return true;
        if (l >= 'a' && l <= 'z' && !strchr("aeiouy", l)) { if (++run >= 4) return true; }
        else run = 0;
    }
    return false;
}

/* Could nDPI's own signatures say more about a session whose server name
 * netintel already has?  Its name-based ones: the name in its host list under
 * a VPN-category protocol (NordVPN, Hotspot Shield, ...), or shaped like the
 * random names of Tor's TLS (tor_shaped); its address lists
 * (a VPN-category protocol's server).  Otherwise the name is netintel's
 * answer and nDPI is not asked. */
static bool worth_asking(ni_ndpi *nd, const char *name, const ni_addr *server)
{
    if (!mod(nd)) return false;
    size_t n = strlen(name);
    char buf[256];
    if (n < sizeof buf) {
        memcpy(buf, name, n + 1);
        ndpi_protocol_match_result m;
        memset(&m, 0, sizeof m);
        int id = ndpi_match_string_subprotocol(nd->mod, buf, (u_int)n, &m);
        if (id > 0 && vpn_proto(nd, id)) return true;
    }
    if (tor_shaped(name, n)) return true;
    if (server && server->family == 4) {
        struct in_addr a;
        memcpy(&a.s_addr, server->b, 4);
        if (vpn_proto(nd, ndpi_network_ptree_match(nd->mod, &a))) return true;
    }
    return false;
}
/* ---- the producer (ni_producer.h) ------------------------------------------ */

typedef struct prod_state { ni_ndpi_flow *fl; bool done, wait; } prod_state;

static void *prod_ctx_new(const ni_producer_opts *o, ni_stats *st, ni_error *err)
{
    (void)st;
    if (!o || !o->ndpi) return NULL;        /* disabled */
    return o->ndpi_lazy ? ni_ndpi_new_lazy(err) : ni_ndpi_new(err);
}

static void prod_ctx_free(void *ctx) { ni_ndpi_free(ctx); }

/* A session named by an earlier DNS answer waits for its first payload
 * before nDPI is asked: HTTP, DNS and TLS/QUIC with a server name are then
 * usually not worth asking (below), and nDPI never allocates for them. */
static void prod_start(void *ctx, void *state, ni_pflow *f)
{
    (void)ctx;
    prod_state *x = state;
    x->wait = f->s && f->s->dns_name;
}

/* The gate: nDPI is not asked (or no more) about sessions netintel's own
 * evidence names — HTTP and DNS, TLS and QUIC with a server name (SNI, else
 * the name of an earlier DNS answer) — unless
 * nDPI's own signatures could add a VPN/proxy detection (worth_asking). */
static bool named(ni_ndpi *nd, const ni_pflow *f)
{
    if (f->app == NI_APP_HTTP || f->app == NI_APP_DNS) return true;
    if ((f->app != NI_APP_TLS && f->app != NI_APP_QUIC) || !f->s) return false;
    const char *name = f->s->sni && f->s->sni[0] ? f->s->sni : f->s->dns_name;
    return name && name[0] && !worth_asking(nd, name, &f->s->server);
}

static bool prod_packet(void *ctx, void *state, ni_pflow *f, int dir, const ni_packet *p)
{
    (void)dir;
    ni_ndpi *nd = ctx;
    prod_state *x = state;
    if (x->done) return true;
    if (x->wait && !p->payload_len && !x->fl) return false;
    if (named(nd, f)) {
        if (!x->fl) nd->named++;
        ni_ndpi_drop(nd, &x->fl);
        x->done = true;
        return true;
    }
    if (p->l3 && p->l3_caplen) x->done = ni_ndpi_packet(nd, &x->fl, p->l3, p->l3_caplen, p->ts_us);
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
    .on_start = prod_start, .on_packet = prod_packet, .on_finish = prod_finish, .release = prod_release,
};
