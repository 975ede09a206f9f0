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
#define NI_NDPI_HELD_MAX    3u      /* no-payload packets held per flow until the gate decides */
#define NI_NDPI_HELD_BYTES  96u     /* the largest one held (IPv6 + TCP headers with options) */
#define NI_NDPI_HELD_FLOWS  16384u  /* flows holding packets at once (beyond: given to nDPI at once) */
#define NI_NDPI_ASK_SLOTS   1024u   /* the gate's answers remembered, per name and per address */
#define NI_NDPI_HELD_SPARE  64u     /* emptied hold buffers kept for the next flows (not freed) */

/* One remembered answer of worth_asking's name part (a copy of the name) or
 * address part (an IPv4 address); both are pure functions of their key. */
typedef struct ask_name { char *name; uint32_t hash; bool yes; } ask_name;
typedef struct ask_addr { uint32_t addr; bool used, yes; } ask_addr;

struct ni_ndpi {
    struct ndpi_detection_module_struct *mod;   /* NULL until first needed (ni_ndpi_new_lazy) */
    bool failed;                                /* it could not be made */
    uint32_t live, holding;
    uint64_t flows, skipped, named;
    ask_name names[NI_NDPI_ASK_SLOTS];          /* direct-mapped by the name's hash */
    ask_addr addrs[NI_NDPI_ASK_SLOTS];          /* direct-mapped by the address */
    struct held *spare[NI_NDPI_HELD_SPARE];     /* emptied hold buffers, reused before malloc */
    uint32_t nspare;
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
    for (size_t i = 0; i < NI_NDPI_ASK_SLOTS; i++) free(nd->names[i].name);
    for (uint32_t i = 0; i < nd->nspare; i++) free(nd->spare[i]);
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

/* The slot of a name in the gate's memory (FNV-1a: only the slot depends
 * on it; a hit compares the whole name, so crafted names cost look-ups,
 * never wrong answers). */
static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;                   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* worth_asking's name part: nDPI's host list under a VPN-category protocol,
 * or Tor-shaped.  Remembered per name (the same few names come again and
 * again; the automaton is ~1,000 instructions a look-up). */
static bool name_worth(ni_ndpi *nd, const char *name, size_t n)
{
    uint32_t h = name_hash(name, n);
    ask_name *e = &nd->names[h % NI_NDPI_ASK_SLOTS];
    if (e->name && e->hash == h && !strcmp(e->name, name)) return e->yes;
    bool yes = false;
    char buf[256];
    if (n < sizeof buf) {
        memcpy(buf, name, n + 1);
        ndpi_protocol_match_result m;
        memset(&m, 0, sizeof m);
        int id = ndpi_match_string_subprotocol(nd->mod, buf, (u_int)n, &m);
        if (id > 0 && vpn_proto(nd, id)) yes = true;
    }
    if (!yes && tor_shaped(name, n)) yes = true;
    char *copy = n < 256 ? malloc(n + 1) : NULL;    /* not remembered: asked again */
    if (copy) {
        memcpy(copy, name, n + 1);
        free(e->name);
        e->name = copy; e->hash = h; e->yes = yes;
    }
    return yes;
}

/* worth_asking's address part: a VPN-category protocol's server in nDPI's
 * address lists (its patricia tree), remembered per address. */
static bool addr_worth(ni_ndpi *nd, const uint8_t b[4])
{
    uint32_t a32;
    memcpy(&a32, b, 4);
    ask_addr *e = &nd->addrs[(a32 * 2654435761u) >> 22 & (NI_NDPI_ASK_SLOTS - 1)];
    if (e->used && e->addr == a32) return e->yes;
    struct in_addr a;
    a.s_addr = a32;
    bool yes = vpn_proto(nd, ndpi_network_ptree_match(nd->mod, &a));
    e->addr = a32; e->used = true; e->yes = yes;
    return yes;
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
    if (name_worth(nd, name, strlen(name))) return true;
    return server && server->family == 4 && addr_worth(nd, server->b);
}
/* ---- the producer (ni_producer.h) ------------------------------------------ */

/* The no-payload packets (TCP's handshake) of a flow the gate has not
 * decided on yet, held as copies: given to nDPI in order before the first
 * packet it is asked about, or when the flow ends, so that nDPI sees what it
 * would have seen had it been given them at once; dropped unseen when the
 * gate decides nDPI is not asked. */
typedef struct held_pkt { int64_t ts_us; uint16_t len; uint8_t b[NI_NDPI_HELD_BYTES]; } held_pkt;
typedef struct held { uint32_t n; held_pkt p[NI_NDPI_HELD_MAX]; } held;

typedef struct prod_state { ni_ndpi_flow *fl; held *held; bool done, wait; } prod_state;

static void *prod_ctx_new(const ni_producer_opts *o, ni_stats *st, ni_error *err)
{
    (void)st;
    if (!o || !o->ndpi) return NULL;        /* disabled */
    return o->ndpi_lazy ? ni_ndpi_new_lazy(err) : ni_ndpi_new(err);
}

static void prod_ctx_free(void *ctx) { ni_ndpi_free(ctx); }

/* A session named by an earlier DNS answer waits for its first payload
 * before nDPI is asked: HTTP, DNS and TLS/QUIC with a server name are then
 * usually not worth asking (below), and nDPI never allocates for them.
 * Other sessions' no-payload packets are held until the gate decides
 * (held, above). */
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

static void held_free(ni_ndpi *nd, prod_state *x)
{
    if (!x->held) return;
    if (nd->nspare < NI_NDPI_HELD_SPARE) nd->spare[nd->nspare++] = x->held;
    else free(x->held);
    x->held = NULL;
    nd->holding--;
}

/* Holds p (true), or false when it cannot be (too large, too many, out of
 * memory): then it and the ones held go to nDPI now. */
static bool hold(ni_ndpi *nd, prod_state *x, const ni_packet *p)
{
    if (p->l3_caplen > NI_NDPI_HELD_BYTES) return false;
    if (!x->held) {
        if (nd->holding >= NI_NDPI_HELD_FLOWS) return false;
        x->held = nd->nspare ? nd->spare[--nd->nspare] : malloc(sizeof *x->held);
        if (!x->held) return false;
        x->held->n = 0;
        nd->holding++;
    }
    if (x->held->n >= NI_NDPI_HELD_MAX) return false;
    held_pkt *h = &x->held->p[x->held->n++];
    h->ts_us = p->ts_us;
    h->len = (uint16_t)p->l3_caplen;
    memcpy(h->b, p->l3, p->l3_caplen);
    return true;
}

/* The held packets to nDPI, in order; true when it wants no more. */
static bool unhold(ni_ndpi *nd, prod_state *x)
{
    bool done = false;
    for (uint32_t i = 0; x->held && i < x->held->n && !done; i++)
        done = ni_ndpi_packet(nd, &x->fl, x->held->p[i].b, x->held->p[i].len, x->held->p[i].ts_us);
    held_free(nd, x);
    return done;
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
        held_free(nd, x);
        x->done = true;
        return true;
    }
    if (!p->l3 || !p->l3_caplen) return false;
    if (!p->payload_len && !x->fl && hold(nd, x, p)) return false;
    if (x->held && (x->done = unhold(nd, x))) return true;
    x->done = ni_ndpi_packet(nd, &x->fl, p->l3, p->l3_caplen, p->ts_us);
    return x->done;
}

static void prod_finish(void *ctx, void *state, ni_pflow *f)
{
    prod_state *x = state;
    if (x->held && !x->done) (void)unhold(ctx, x);
    ni_ndpi_finish(ctx, &x->fl, f->s);
}

static void prod_release(void *ctx, void *state)
{
    prod_state *x = state;
    held_free(ctx, x);
    ni_ndpi_drop(ctx, &x->fl);
}

const ni_producer ni_ndpi_producer = {
    .name = "ndpi", .state_size = sizeof(prod_state),
    .ctx_new = prod_ctx_new, .ctx_free = prod_ctx_free,
    .on_start = prod_start, .on_packet = prod_packet, .on_finish = prod_finish, .release = prod_release,
};
