/* ni_profile.c — the profile aggregator (see ni_profile.h for the sections
 * and units).  Every section is a set of "buckets" keyed by a name: a bucket
 * holds its distinct target hosts and its clients (address|User-Agent
 * pairs) as ni_distinct counters (core/ni_hll: exact up to caps.distinct
 * values, then a HyperLogLog estimate, so memory does not grow with
 * distinct addresses), session and byte counts, first/last seen and
 * evidence counters.  An estimated figure is written with
 * "<figure>_estimated": true and "<figure>_error" (its relative standard
 * error) beside it, and limits.distinct says how many there are.
 * finish = sort buckets deterministically (hosts desc, sessions desc, name
 * asc) and write JSON; derived figures (shares, ages,
 * lags, changes, findings) are computed only there, the findings by their
 * own functions from the aggregates (compute_facts), whatever the order the
 * sections are written in.  Every table of names (sections, nested lists)
 * is a top-N table (core/ni_topk): exact up to its cap, then the busiest
 * names, each row that entered a full table written with "sessions_error",
 * what left counted in p->ts and written as limits.rows.  Every insertion
 * into a map or set that is refused (cap of core/ni_limits.h reached, or
 * out of memory) is counted in p->lost and written as "limits", never
 * silently ignored. */
#include "analyze/ni_profile.h"
#include "analyze/ni_dnstun.h"
#include "analyze/ni_psl.h"
#include "core/ni_hll.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "core/ni_topk.h"
#include "core/ni_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


enum { EV_SNI, EV_HOST, EV_DNS, EV_IP, EV_TUNNEL, EV_ENDPOINT, EV_SITE, EV__N };
static const char *const ev_name[EV__N] = { "sni", "http_host", "dns_name", "ip", "tunnel", "endpoint", "site" };

typedef struct bucket {
    ni_distinct *hosts;     /* distinct addresses (NULL until the first) */
    ni_distinct *clients;   /* distinct "addr|ua" pairs, for device sections */
    ni_topk *sub;           /* nested buckets (OS versions, vendor evidence), top-N */
    uint64_t sessions, bytes;
    int64_t first, last;
    uint64_t ev[EV__N];
    char *attr[3];          /* section-specific: category, maker, code, family... */
    unsigned roles;         /* vendor roles bitmask */
    int subkind;            /* the kind of table sub is (T_OS_VERSIONS...) */
    ni_profile_losses *lost; /* the profile's loss counters (refused insertions) */
    uint64_t last_host, last_client; /* the value last added to hosts / clients (valid when */
    bool has_host, has_client;       /* has_*): adding it again changes nothing, so it is skipped */
} bucket;

/* A host of the host view: the fixed-key hash of its address, and the
 * address as its map key.  The view keeps the host_view-cap hosts of
 * smallest (hash, address): a set that depends only on which hosts were
 * seen, never on their order, and every kept host's figures are complete
 * (the threshold only falls, so a kept host was never turned away). */
typedef struct hv_kept { uint64_t h; char key[NI_ADDR_STRLEN]; } hv_kept;

/* The host-view entries of recent addresses, by the low bits of their
 * hash, checked against the address itself (a miss only costs the map's
 * look-up); an entry that leaves the view is cleared from its slot. */
#define HVMEMO_N 256
typedef struct hv_memo { void *b; uint64_t h; char key[NI_ADDR_STRLEN]; } hv_memo;   /* h: compared before key */

/* The profile's tables of buckets: top-N by sessions (core/ni_topk,
 * Space-Saving): exact while a table holds fewer names than its cap, past
 * it the busiest names are kept and what left is counted per table (its
 * sessions in dropped, the bound on any name not kept, report.json
 * limits.rows).  The first T_SECTIONS are the sections' tables; the others
 * are the kinds of nested tables (one per bucket, their evictions summed
 * by kind). */
enum { T_SERVICES, T_CATEGORIES, T_MAKERS, T_FORM, T_MODELS, T_OS, T_WINDOWS, T_BROWSERS, T_VPN, T_VPN_PROTO,
       T_SSLVPN, T_SITES, T_COUNTRIES, T_REGION_MONTH, T_VENDORS, T_FINALS, T_SECTIONS,
       T_OS_VERSIONS = T_SECTIONS, T_BUILDS, T_EVIDENCE, T_AT_FINAL, T_HOST_ITEMS, T__N };
static const char *const table_name[T__N] = {
    "services", "categories", "devices.makers", "devices.form_factor", "devices.models", "os",
    "windows_versions", "browsers", "vpn.by_service", "vpn.unattributed", "vpn.corporate.by_product",
    "inbound.sites", "inbound.by_country", "inbound.by_region_month", "vendors", "final_builds",
    "os.versions", "browsers.builds", "vendors.evidence", "final_builds.at_final", "hosts.items",
};

/* What left one table (or one kind of nested table): names, their
 * sessions, and the largest count + error a name had when it left (no name
 * that is not kept had more sessions). */
typedef struct tstats { size_t cap; uint64_t keys, sessions, bound; } tstats;

enum { ROLE_HARDWARE = 1, ROLE_OS = 2, ROLE_BROWSER = 4, ROLE_SERVICE = 8, ROLE_VPN = 16, ROLE_SECURITY = 32 };
static const char *const role_name[] = { "hardware", "os", "browser", "service", "vpn", "security" };

/* The vendor look-up (cfg->lookups.vendor) of recent (kind, name) pairs:
 * a direct-mapped cache, placed by an FNV-1a hash of the name and checked
 * against the name itself (a collision only costs a look-up). */
#define VCACHE_N 1024
typedef struct vcache { const char *kind, *vendor; char name[64]; } vcache;

/* Recent addresses (one memo for clients, one for servers): their
 * addr_hash and textual form, so that neither is computed again. */
#define AINFO_N 256
typedef struct ainfo { uint64_t h; uint8_t family, b[16]; bool used; char text[NI_ADDR_STRLEN]; } ainfo;

/* The address hashes last added to one of the profile's own distinct sets,
 * by their low bits: a hash found here is in the set already (sets only
 * grow), so adding it again is skipped.  0 = empty. */
#define AMEMO_N 256
typedef struct amemo { uint64_t h[AMEMO_N]; } amemo;

struct ni_profile {
    const ni_profile_config *cfg;
    amemo m_hosts, m_out_hosts, m_device_hosts;
    vcache vc[VCACHE_N];
    ainfo ai_client[AINFO_N], ai_server[AINFO_N];
    ni_profile_losses lost;         /* caps in force and what could not be counted */
    uint64_t sessions, by_dir[5], bytes;
    uint64_t out_dns, int_dns;      /* outbound / internal sessions that are only DNS lookups */
    uint64_t ndpi_examined;         /* sessions nDPI examined (with an ndpi_protocol) */
    int64_t first, last;
    ni_distinct *hosts;             /* target addresses seen */
    ni_distinct *out_hosts;         /* target addresses with outbound sessions */
    ni_distinct *device_hosts;      /* with a device maker attributed (a subset of out_hosts) */
    uint64_t act_hour[24], act_wd[7], act_wdh[7][24], act_n;
    ni_topk *tab[T_SECTIONS];       /* the sections' tables (T_*); region_month's key is
                                       "region\tYYYY-MM", finals' "browser\tos\tos_version\tfinal"
                                       (hosts on an OS whose builds of the browser ended; sub
                                       "at_final": at that build); sslvpn: corporate SSL-VPN
                                       gateway products (category "ssl-vpn") */
    tstats ts[T__N];                /* what left each table */
    ni_distinct *vpn_hosts, *vpn_use_hosts;
    ni_distinct *sslvpn_hosts;
    uint64_t in_sessions;
    ni_map *host_view;              /* address → bucket; sub "kind\tname" items (kind: maker, model,
                                       os, browser, service, vpn; vpn items count evidence kinds) */
    hv_kept *hv_heap;               /* the host view's addresses, a max-heap on (hash, address) */
    hv_memo hv_memo[HVMEMO_N];      /* recent host-view look-ups */
    size_t hv_n;
    ni_dnstun *dnstun;              /* DNS names per (target client, suffix): dns_tunnels */
    /* issue 12: the OS of each target client's TCP/IP stack beside its User-Agent's */
    ni_map *osview;                 /* address → osview */
    uint64_t sampled_sessions;      /* sessions from sampled flow records: counts are estimates */
};

/* One target client's OS families: its User-Agents' and its TCP/IP stack's
 * (tcp_os, with sessions each), a few of each. */
#define OSVIEW_MAX 4
typedef struct osview {
    char *ua[OSVIEW_MAX];
    char *tcp[OSVIEW_MAX];
    uint64_t tcp_sessions[OSVIEW_MAX];
    uint8_t nua, ntcp;
} osview;

static void osview_free(void *v)
{
    osview *o = v;
    if (!o) return;
    for (int i = 0; i < o->nua; i++) free(o->ua[i]);
    for (int i = 0; i < o->ntcp; i++) free(o->tcp[i]);
    free(o);
}

/* Adds a family (with n sessions, for the stack) to a host's view. */
static bool osview_put(char **names, uint64_t *counts, uint8_t *n, const char *family, uint64_t sessions)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(names[i], family)) { if (counts) counts[i] += sessions; return true; }
    if (*n >= OSVIEW_MAX) return true;
    if (!(names[*n] = strdup(family))) return false;
    if (counts) counts[*n] = sessions;
    (*n)++;
    return true;
}

/* ---- keys ---------------------------------------------------------------- */
/* A key being built in a fixed buffer: what snprintf would write there,
 * cut at size - 1 bytes (the per-session path builds its map keys with
 * these, not with the printf family). */
typedef struct kbuf { char *p; size_t size, len; } kbuf;

static void kb_init(kbuf *k, char *buf, size_t size) { k->p = buf; k->size = size; k->len = 0; buf[0] = 0; }

/* Appends at most max bytes of s (stopping at its NUL). */
static void kb_putn(kbuf *k, const char *s, size_t max)
{
    size_t room = k->size - 1 - k->len, n = strnlen(s, max < room ? max : room);
    memcpy(k->p + k->len, s, n);
    k->len += n;
    k->p[k->len] = 0;
}

static void kb_puts(kbuf *k, const char *s) { kb_putn(k, s, (size_t)-1); }

static void kb_putc(kbuf *k, char c)
{
    if (k->len + 1 < k->size) { k->p[k->len++] = c; k->p[k->len] = 0; }
}

/* v as printf's "%0*d" with width w (v >= 0 and below 10^9). */
static void kb_putd0(kbuf *k, int v, int w)
{
    char d[16];
    int n = 0;
    do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n < w) d[n++] = '0';
    while (n) kb_putc(k, d[--n]);
}

/* ---- buckets ----------------------------------------------------------- */
static void bucket_free(void *v)
{
    bucket *b = v;
    if (!b) return;
    ni_distinct_free(b->hosts);
    ni_distinct_free(b->clients);
    ni_topk_free(b->sub, bucket_free);
    for (int i = 0; i < 3; i++) free(b->attr[i]);
    free(b);
}

/* A bucket leaves its table (ni_topk_evict_fn): counted, freed. */
static void bucket_evicted(void *ud, const char *key, void *v, uint64_t count, uint64_t error)
{
    (void)key;
    tstats *t = ud;
    t->keys++;
    t->sessions += count;
    if (count + error > t->bound) t->bound = count + error;
    bucket_free(v);
}

/* Counts a refused insertion into a map: past its cap (in *capped) or out
 * of memory.  Called only after ni_map_slot failed, so the put inserts
 * nothing: it only tells the two apart. */
static void map_refused(ni_profile_losses *l, ni_map *m, const char *key, uint64_t *capped)
{
    if (!l) return;
    if (ni_map_put(m, key, NULL) == NI_ERR_LIMIT) (*capped)++;
    else l->out_of_memory++;
}

/* The value an address is counted by: its family and 16 address bytes
 * (bytes past an IPv4 address zeroed), hashed with the fixed key. */
static uint64_t addr_hash(const ni_addr *a)
{
    uint8_t k[17] = { a->family };
    memcpy(k + 1, a->b, a->family == 4 ? 4 : 16);
    return ni_distinct_hash(k, sizeof k);
}

/* The addr_hash and textual form of an address, from a memo of recent
 * addresses (direct-mapped by a mix of the address bytes, checked against
 * the address itself).  The result is valid until the next call with the
 * same memo. */
static const ainfo *addr_info(ainfo *memo, const ni_addr *a)
{
    size_t n = a->family == 4 ? 4 : 16;
    uint64_t x = 0, y = 0;
    memcpy(&x, a->b, n == 4 ? 4 : 8);
    if (n == 16) memcpy(&y, a->b + 8, 8);
    uint64_t f = (x * 0x9e3779b97f4a7c15ull) ^ (y * 0xc2b2ae3d27d4eb4full) ^ a->family;
    ainfo *m = &memo[(f * 0x9e3779b97f4a7c15ull) >> 56 & (AINFO_N - 1)];
    if (m->used && m->family == a->family && !memcmp(m->b, a->b, n)) return m;
    m->family = a->family;
    memcpy(m->b, a->b, n);
    m->h = addr_hash(a);
    ni_addr_format(a, m->text);
    m->used = true;
    return m;
}

/* addr_add through a memo of the set's recent hashes. */
static void addr_add_memo(ni_profile_losses *l, ni_distinct **set, amemo *m, uint64_t ah);

/* Adds an address to a distinct counter (created on first use, exact up to
 * the cap on exact distinct counts); only running out of memory refuses. */
static void addr_add(ni_profile_losses *l, ni_distinct **set, uint64_t ah)
{
    if (!*set && !(*set = ni_distinct_new(l ? l->caps.distinct : NI_PROFILE_DISTINCT_EXACT))) {
        if (l) l->out_of_memory++;
        return;
    }
    if (ni_distinct_add_hash(*set, ah) && l) l->out_of_memory++;
}

static void addr_add_memo(ni_profile_losses *l, ni_distinct **set, amemo *m, uint64_t ah)
{
    uint64_t *e = &m->h[ah % AMEMO_N];
    if (ah && *e == ah) return;
    uint64_t before = l->out_of_memory;
    addr_add(l, set, ah);
    if (*set && l->out_of_memory == before) *e = ah;
}

/* The bucket of key in the table m, its sessions about to grow by w (the
 * caller adds them: touch or merge), err added to its error (merging);
 * created on first use.  A name new to a full table takes the place of
 * the least busy one (ni_topk).  NULL when memory ran out (counted in
 * *oom_sessions, in sessions, and in out_of_memory). */
static bucket *get_in(ni_profile *p, ni_topk *m, const char *key, uint64_t w, uint64_t err, uint64_t *oom_sessions)
{
    if (!m || !key) return NULL;
    ni_profile_losses *l = p ? &p->lost : NULL;
    void **slot = ni_topk_add_error(m, key, w, err);
    if (!slot) { if (l) { l->out_of_memory++; if (oom_sessions) *oom_sessions += w; } return NULL; }
    if (!*slot) {
        bucket *b = calloc(1, sizeof *b);
        if (!b) { if (l) l->out_of_memory++; return NULL; }
        b->lost = l;
        *slot = b;
    }
    return *slot;
}

/* get(m, key): the bucket of key in one of the profile's section maps (every
 * caller has the profile p in scope; a refusal counts against the cap on
 * names per section). */
#define get(m, key) get_in(p, (m), (key), 1, 0, p ? &p->lost.names : NULL)

/* The nested bucket of key in b->sub (a table of kind `kind`, created
 * holding up to cap names), its sessions about to grow by w. */
static bucket *get_sub_w(ni_profile *p, bucket *b, const char *key, int kind, uint64_t w, uint64_t err,
                         uint64_t *oom_sessions)
{
    if (!b) return NULL;
    if (!b->sub) {
        if (!(b->sub = ni_topk_new(p->ts[kind].cap, bucket_evicted, &p->ts[kind]))) { p->lost.out_of_memory++; return NULL; }
        b->subkind = kind;
    }
    return get_in(p, b->sub, key, w, err, oom_sessions);
}
#define get_sub(p, b, key, kind, oom) get_sub_w((p), (b), (key), (kind), 1, 0, (oom))

static void set_attr(bucket *b, int i, const char *v)
{
    if (b && v && !b->attr[i]) b->attr[i] = strdup(v);
}

/* host: the addr_hash of the session's target client (NULL: none counted). */
static void touch(bucket *b, const uint64_t *host, const ni_session *s)
{
    if (!b) return;
    if (host && !(b->has_host && b->last_host == *host)) {
        uint64_t before = b->lost ? b->lost->out_of_memory : 0;
        addr_add(b->lost, &b->hosts, *host);
        if (b->hosts && (!b->lost || b->lost->out_of_memory == before)) { b->last_host = *host; b->has_host = true; }
    }
    b->sessions++;
    b->bytes += s->c2s_bytes + s->s2c_bytes;
    if (!b->first || s->first_us < b->first) b->first = s->first_us;
    if (s->last_us > b->last) b->last = s->last_us;
}

/* The value a client (address|User-Agent pair) is counted by: the fixed-key
 * hash of "ADDRESS|UA" (at most 580 bytes of the UA); at: the formatted
 * address. */
static uint64_t client_hash(const char *at, const char *ua)
{
    char key[NI_ADDR_STRLEN + 600];
    kbuf k;
    kb_init(&k, key, sizeof key);
    kb_puts(&k, at);
    kb_putc(&k, '|');
    kb_putn(&k, ua, 580);
    return ni_distinct_hash(key, k.len);
}

/* cv: the client_hash of the session's pair (NULL: no User-Agent). */
static void add_client(bucket *b, const uint64_t *cv)
{
    if (!b || !cv) return;
    if (b->has_client && b->last_client == *cv) return;
    size_t cap = b->lost ? b->lost->caps.distinct : NI_PROFILE_DISTINCT_EXACT;
    if (!b->clients && !(b->clients = ni_distinct_new(cap))) { if (b->lost) b->lost->out_of_memory++; return; }
    if (ni_distinct_add_hash(b->clients, *cv)) { if (b->lost) b->lost->out_of_memory++; return; }
    b->last_client = *cv;
    b->has_client = true;
}

static size_t dcount(const ni_distinct *d) { return d ? (size_t)ni_distinct_count(d) : 0; }
static bool destimated(const ni_distinct *d) { return d && ni_distinct_estimated(d); }
static size_t nclients(const bucket *b) { return dcount(b->clients); }
static size_t nhosts(const bucket *b) { return dcount(b->hosts); }

/* ---- life cycle -------------------------------------------------------- */
ni_profile *ni_profile_new(const ni_profile_config *cfg, ni_error *err)
{
    return ni_profile_new_capped(cfg, NULL, err);
}

ni_profile *ni_profile_new_capped(const ni_profile_config *cfg, const ni_profile_caps *caps, ni_error *err)
{
    if (!cfg || !cfg->tz) { ni_error_set(err, NI_ERR_ARG, "profile: a time zone is required"); return NULL; }
    ni_profile *p = calloc(1, sizeof *p);
    if (!p) { ni_error_set(err, NI_ERR_NOMEM, "profile: out of memory"); return NULL; }
    p->cfg = cfg;
    ni_profile_caps *c = &p->lost.caps;
    if (caps) *c = *caps;
    if (!c->names) c->names = NI_PROFILE_NAMES_MAX;
    if (!c->hosts) c->hosts = NI_PROFILE_HOSTS_MAX;
    if (!c->clients) c->clients = NI_PROFILE_CLIENTS_MAX;
    if (!c->versions) c->versions = NI_PROFILE_VERSIONS_MAX;
    if (!c->evidence) c->evidence = NI_PROFILE_EVIDENCE_MAX;
    if (!c->host_view) c->host_view = NI_PROFILE_HOST_VIEW_MAX;
    if (!c->distinct) c->distinct = NI_PROFILE_DISTINCT_EXACT;
    if (!c->rows) c->rows = NI_PROFILE_ROWS_MAX;
    if (!c->dns_pairs) c->dns_pairs = NI_PROFILE_DNS_PAIRS_MAX;
    for (int t = 0; t < T__N; t++)
        p->ts[t].cap = t < T_SECTIONS ? c->rows : t == T_OS_VERSIONS || t == T_BUILDS ? c->versions
                     : t == T_AT_FINAL ? 1 : c->evidence;
    /* continent x month: every month the change detection may test, for
     * the 8 regions (7 continents and Unknown), whatever the cap on rows */
    if (p->ts[T_REGION_MONTH].cap < 8 * NI_PROFILE_MONTHS_MAX) p->ts[T_REGION_MONTH].cap = 8 * NI_PROFILE_MONTHS_MAX;
    for (int t = 0; t < T_SECTIONS; t++)
        if (!(p->tab[t] = ni_topk_new(p->ts[t].cap, bucket_evicted, &p->ts[t]))) goto oom;
    if (!(p->host_view = ni_map_new(c->host_view))) goto oom;
    if (!(p->dnstun = ni_dnstun_new(c->dns_pairs, NI_PSL_PATH))) goto oom;
    if (!(p->osview = ni_map_new(c->hosts))) goto oom;
    return p;
oom:
    ni_profile_free(p);
    ni_error_set(err, NI_ERR_NOMEM, "profile: out of memory");
    return NULL;
}

void ni_profile_free(ni_profile *p)
{
    if (!p) return;
    for (int t = 0; t < T_SECTIONS; t++) ni_topk_free(p->tab[t], bucket_free);
    ni_map_free(p->host_view, bucket_free);
    ni_dnstun_free(p->dnstun);
    ni_distinct_free(p->sslvpn_hosts);
    ni_map_free(p->osview, osview_free);
    free(p->hv_heap);
    ni_distinct *sets[] = { p->hosts, p->out_hosts, p->device_hosts, p->vpn_hosts, p->vpn_use_hosts };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) ni_distinct_free(sets[i]);
    free(p);
}

uint64_t ni_profile_sessions(const ni_profile *p) { return p->sessions; }

const ni_profile_losses *ni_profile_lost(const ni_profile *p) { return &p->lost; }

bool ni_profile_complete(const ni_profile *p)
{
    const ni_profile_losses *l = &p->lost;
    /* host_view is left out: a host view cut at its cap lists fewer hosts,
     * but no figure of the profile is a lower bound because of it */
    return !(l->names | l->hosts | l->clients | l->versions | l->evidence | l->out_of_memory);
}

/* ---- add --------------------------------------------------------------- */
/* The frozen platform versions of Chrome's User-Agent Reduction
 * (https://www.chromium.org/updates/ua-reduction/): in a reduced UA these
 * say nothing about the host ("Android 10; K", "Intel Mac OS X 10_15_7",
 * "CrOS x86_64 14541.0.0", "Windows NT 10.0"); every other version of a
 * reduced UA is real (docs/user-agents.md). */
static bool reduced_placeholder(const char *os, const char *ver)
{
    static const struct { const char *os, *ver; } frozen[] = {
        { "Android", "10" }, { "Mac OS X", "10.15.7" }, { "macOS", "10.15.7" },
        { "Chrome OS", "14541.0.0" }, { "ChromeOS", "14541.0.0" }, { "Windows", "10" },
    };
    if (!os || !ver) return false;
    for (size_t i = 0; i < sizeof frozen / sizeof frozen[0]; i++)
        if (!strcmp(os, frozen[i].os) && !strcmp(ver, frozen[i].ver)) return true;
    return false;
}

/* The row name of a Windows version: the enrichment's "undetermined" (the
 * frozen NT 10.0 of a reduced Chrome/Edge 107-109) is named for its cause,
 * so that the rows cover every Windows host. */
static const char *windows_label(const char *v)
{
    return !strcmp(v, "undetermined") ? "undetermined: reduced User-Agent" : v;
}

/* A session that is only a DNS lookup: a DNS query seen (or the DNS port, or
 * nDPI's DNS) and nothing else (no HTTP request, TLS or QUIC handshake).  It
 * is evidence (names learned), not activity of a host's user. */
static bool dns_only(const ni_session *s)
{
    if (s->http || s->sni || s->quic || s->ja4) return false;
    return s->dns_query || s->server_port == 53 || (s->ndpi_protocol && !strcmp(s->ndpi_protocol, "DNS"));
}

static void vendor_add(ni_profile *p, const char *kind, const char *name, unsigned role,
                       const uint64_t *host, const ni_session *s)
{
    if (!name || !*name) return;
    const char *v = NULL;
    if (p->cfg->lookups.vendor) {
        uint32_t fh = (2166136261u ^ (unsigned char)kind[0]) * 16777619u;   /* kinds differ in their first letter */
        size_t n = 0;
        for (; name[n] && n < sizeof p->vc[0].name; n++) fh = (fh ^ (unsigned char)name[n]) * 16777619u;
        vcache *c = &p->vc[(fh ^ (fh >> 16)) % VCACHE_N];
        if (n < sizeof c->name && c->kind == kind && !strcmp(c->name, name)) v = c->vendor;
        else {
            v = p->cfg->lookups.vendor(p->cfg->lookups.ud, kind, name);
            if (n < sizeof c->name) { c->kind = kind; c->vendor = v; memcpy(c->name, name, n + 1); }
        }
    }
    if (!v) v = name;
    bucket *b = get(p->tab[T_VENDORS], v);
    if (!b) return;
    touch(b, host, s);
    b->roles |= role;
    char key[256];
    kbuf k;
    kb_init(&k, key, sizeof key);
    kb_puts(&k, kind);
    kb_puts(&k, ": ");
    kb_puts(&k, name);
    touch(get_sub(p, b, key, T_EVIDENCE, &p->lost.evidence), host, s);
}

static bool hv_above(const hv_kept *x, const hv_kept *y)
{
    return x->h != y->h ? x->h > y->h : strcmp(x->key, y->key) > 0;
}

static void hv_sift_down(hv_kept *t, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && hv_above(&t[l], &t[m])) m = l;
        if (r < n && hv_above(&t[r], &t[m])) m = r;
        if (m == i) return;
        hv_kept x = t[i]; t[i] = t[m]; t[m] = x;
        i = m;
    }
}

/* The host-view entry of the address key (hash h), admitted if the view
 * has room or h ranks below its largest kept host, which then leaves (its
 * sessions counted in lost.host_view).  NULL when not kept: the caller
 * counts its own sessions as lost. */
static void hv_memo_set(hv_memo *m, bucket *b, const char *key, uint64_t h)
{
    m->h = h;
    kbuf kb;
    kb_init(&kb, m->key, sizeof m->key);
    kb_puts(&kb, key);
    m->b = b;
}

static bucket *hv_admit(ni_profile *p, const char *key, uint64_t h)
{
    hv_memo *mm = &p->hv_memo[h % HVMEMO_N];
    if (mm->b && mm->h == h && !strcmp(mm->key, key)) return mm->b;
    void *v = ni_map_get(p->host_view, key);
    if (v) { hv_memo_set(mm, v, key, h); return v; }
    size_t cap = p->lost.caps.host_view;
    if (!p->hv_heap && !(p->hv_heap = calloc(cap, sizeof *p->hv_heap))) { p->lost.out_of_memory++; return NULL; }
    hv_kept in = { .h = h };
    kbuf kb;
    kb_init(&kb, in.key, sizeof in.key);
    kb_puts(&kb, key);
    if (p->hv_n >= cap) {
        if (!hv_above(&p->hv_heap[0], &in)) return NULL;
        bucket *old = ni_map_remove(p->host_view, p->hv_heap[0].key);
        hv_memo *om = &p->hv_memo[p->hv_heap[0].h % HVMEMO_N];
        if (old && om->b == old) om->b = NULL;
        if (old) p->lost.host_view += old->sessions;
        bucket_free(old);
        p->hv_heap[0] = in;
        hv_sift_down(p->hv_heap, p->hv_n, 0);
    } else {
        size_t i = p->hv_n++;
        p->hv_heap[i] = in;
        while (i && hv_above(&p->hv_heap[i], &p->hv_heap[(i - 1) / 2])) {
            hv_kept x = p->hv_heap[i]; p->hv_heap[i] = p->hv_heap[(i - 1) / 2]; p->hv_heap[(i - 1) / 2] = x;
            i = (i - 1) / 2;
        }
    }
    bucket *b = NULL;
    void **slot = ni_map_slot(p->host_view, key);
    if (!slot) map_refused(&p->lost, p->host_view, key, &p->lost.host_view);
    else if (!*slot && !(*slot = b = calloc(1, sizeof *b))) { ni_map_remove(p->host_view, key); p->lost.out_of_memory++; }
    else { b = *slot; b->lost = &p->lost; }
    if (!b) {   /* out of memory: undo the heap entry */
        for (size_t i = 0; i < p->hv_n; i++)
            if (!strcmp(p->hv_heap[i].key, key)) { p->hv_heap[i] = p->hv_heap[--p->hv_n]; break; }
        for (size_t i = p->hv_n / 2 + 1; i-- > 0;) hv_sift_down(p->hv_heap, p->hv_n, i);
    } else {
        hv_memo_set(mm, b, key, h);
    }
    return b;
}

/* The host-view entry of a target address; a session of a host not kept is
 * counted in lost.host_view. */
static bucket *host_entry(ni_profile *p, const char *at, uint64_t ah, const ni_session *s)
{
    bucket *b = hv_admit(p, at, ah);
    if (!b) p->lost.host_view++;
    touch(b, NULL, s);
    return b;
}

/* One item of a host's entry ("os", "Android 13"); NULL when refused. */
static bucket *host_item(ni_profile *p, bucket *hb, const char *kind, const char *a, const char *b, const ni_session *s)
{
    if (!hb || !a || !*a) return NULL;
    char key[320];
    kbuf k;
    kb_init(&k, key, sizeof key);
    kb_puts(&k, kind);
    kb_putc(&k, '\t');
    kb_putn(&k, a, 150);
    if (b && *b) { kb_putc(&k, ' '); kb_putn(&k, b, 150); }
    bucket *it = get_sub(p, hb, key, T_HOST_ITEMS, &p->lost.evidence);
    touch(it, NULL, s);
    return it;
}

/* Notes a target client's stack OS (tcp_os) and User-Agent OS (as the OS
 * section counts it: browsers and system agents, not bots or tools). */
static void osview_add(ni_profile *p, const char *at, const ni_session *s)
{
    const char *ua = ni_session_user_agent(s);
    bool agent = s->ua_kind == NI_UA_KIND_BOT || s->ua_kind == NI_UA_KIND_TOOL;
    const char *ua_os = ua && !agent ? s->ua_os : NULL;
    if (!s->tcp_os && !ua_os) return;
    void **slot = ni_map_slot(p->osview, at);
    if (!slot) { map_refused(&p->lost, p->osview, at, &p->lost.hosts); return; }
    if (!*slot && !(*slot = calloc(1, sizeof(osview)))) { p->lost.out_of_memory++; return; }
    osview *o = *slot;
    if ((ua_os && !osview_put(o->ua, NULL, &o->nua, ua_os, 0)) ||
        (s->tcp_os && !osview_put(o->tcp, o->tcp_sessions, &o->ntcp, s->tcp_os, 1)))
        p->lost.out_of_memory++;
}

void ni_profile_add(ni_profile *p, const ni_session *s)
{
    const ni_profile_config *cfg = p->cfg;
    if (cfg->since_us && s->last_us < cfg->since_us) return;
    if (cfg->until_us && s->first_us >= cfg->until_us) return;

    p->sessions++;
    if (s->sampled) p->sampled_sessions++;
    p->by_dir[s->direction < 5 ? s->direction : 0]++;
    p->bytes += s->c2s_bytes + s->s2c_bytes;
    if (!p->first || s->first_us < p->first) p->first = s->first_us;
    if (s->last_us > p->last) p->last = s->last_us;
    if (s->ndpi_protocol) p->ndpi_examined++;
    bool dns = dns_only(s);
    if (dns && s->direction == NI_DIRECTION_OUTBOUND) p->out_dns++;
    if (dns && s->direction == NI_DIRECTION_INTERNAL) p->int_dns++;

    bool out = s->direction == NI_DIRECTION_OUTBOUND || s->direction == NI_DIRECTION_INTERNAL ||
               s->direction == NI_DIRECTION_UNKNOWN;
    /* the per-host view: the target's clients (and servers of inbound and
     * internal sessions) */
    /* the client's address formatted and hashed once for every table */
    const ainfo *ci = addr_info(p->ai_client, &s->client), *si = NULL;
    const char *cat = ci->text;
    uint64_t chash = ci->h, shash = 0;
    const uint64_t *ch = s->client.family ? &chash : NULL;
    bool srv = s->direction == NI_DIRECTION_INBOUND || s->direction == NI_DIRECTION_INTERNAL;
    if (srv) { si = addr_info(p->ai_server, &s->server); shash = si->h; }
    bucket *hv = out ? host_entry(p, cat, chash, s) : NULL;
    if (srv) host_entry(p, si->text, shash, s);
    bool in = s->direction == NI_DIRECTION_INBOUND;
    if (s->direction == NI_DIRECTION_OUTBOUND || s->direction == NI_DIRECTION_INTERNAL)
        addr_add_memo(&p->lost, &p->hosts, &p->m_hosts, chash);
    if (srv) addr_add_memo(&p->lost, &p->hosts, &p->m_hosts, shash);
    if (s->direction == NI_DIRECTION_UNKNOWN) addr_add_memo(&p->lost, &p->hosts, &p->m_hosts, chash);

    if (in) {
        p->in_sessions++;
        char at[NI_ADDR_STRLEN];
        const char *site = ni_session_name(s);
        if (!site) site = ni_addr_format(&s->server, at);
        touch(get(p->tab[T_SITES], site), ch, s);
        bucket *c = get(p->tab[T_COUNTRIES], s->client_country ? s->client_country : "??");
        touch(c, ch, s);
        set_attr(c, 0, s->client_continent);
        ni_localtime lt;
        ni_tz_local(cfg->tz, s->first_us, &lt);
        char key[128];
        if (lt.year >= 0 && lt.year <= 9999 && lt.month >= 0 && lt.month <= 99) {
            kbuf k;
            kb_init(&k, key, sizeof key);
            kb_puts(&k, s->client_continent ? s->client_continent : "Unknown");
            kb_putc(&k, '\t');
            kb_putd0(&k, lt.year, 4);
            kb_putc(&k, '-');
            kb_putd0(&k, lt.month, 2);
        } else {
            snprintf(key, sizeof key, "%s\t%04d-%02d", s->client_continent ? s->client_continent : "Unknown",
                     lt.year, lt.month);
        }
        touch(get(p->tab[T_REGION_MONTH], key), NULL, s);   /* sessions only: its visitors are never written */
        return;
    }
    if (!out) return;

    const uint64_t *h = ch;
    addr_add_memo(&p->lost, &p->out_hosts, &p->m_out_hosts, chash);
    ni_dnstun_add_at(p->dnstun, s, cat, &p->lost.names, &p->lost.out_of_memory);

    /* activity: target-initiated outbound sessions only; internal sessions
     * (lookups to the target's own resolvers among them), transit and
     * DNS lookups to outside resolvers are counted in "totals" instead */
    if (s->direction == NI_DIRECTION_OUTBOUND && !dns) {
        ni_localtime lt;
        ni_tz_local(cfg->tz, s->first_us, &lt);
        p->act_hour[lt.hour]++;
        p->act_wd[lt.weekday]++;
        p->act_wdh[lt.weekday][lt.hour]++;
        p->act_n++;
    }

    /* services */
    if (s->service) {
        bucket *b = get(p->tab[T_SERVICES], s->service);
        touch(b, h, s);
        set_attr(b, 0, s->category);
        if (b && s->service_evidence >= NI_EVIDENCE_SNI && s->service_evidence <= NI_EVIDENCE_IP)
            b->ev[EV_SNI + (s->service_evidence - NI_EVIDENCE_SNI)]++;
        if (s->category) touch(get(p->tab[T_CATEGORIES], s->category), h, s);
        host_item(p, hv, "service", s->service, NULL, s);
        vendor_add(p, "service", s->service, s->category && !strcmp(s->category, "antivirus")
                   ? ROLE_SECURITY : ROLE_SERVICE, h, s);
    }

    /* VPN and proxy; corporate SSL-VPN gateways (enrichment's category
     * "ssl-vpn") are their own category */
    bool corporate = s->vpn_provider && s->category && !strcmp(s->category, "ssl-vpn");
    if (corporate) {
        int ev = s->vpn_evidence == NI_EVIDENCE_TUNNEL ? EV_TUNNEL
               : s->vpn_evidence == NI_EVIDENCE_ENDPOINT ? EV_ENDPOINT : EV_SITE;
        addr_add(&p->lost, &p->sslvpn_hosts, chash);
        bucket *b = get(p->tab[T_SSLVPN], s->vpn_provider);
        touch(b, h, s);
        if (b) b->ev[ev]++;
        bucket *hi = host_item(p, hv, "vpn", s->vpn_provider, NULL, s);
        if (hi) hi->ev[ev]++;
    } else if (s->vpn_provider || s->vpn_protocol) {
        int ev = s->vpn_evidence == NI_EVIDENCE_TUNNEL ? EV_TUNNEL
               : s->vpn_evidence == NI_EVIDENCE_ENDPOINT ? EV_ENDPOINT : EV_SITE;
        addr_add(&p->lost, &p->vpn_hosts, chash);
        if (ev != EV_SITE) addr_add(&p->lost, &p->vpn_use_hosts, chash);
        bucket *b = s->vpn_provider ? get(p->tab[T_VPN], s->vpn_provider) : get(p->tab[T_VPN_PROTO], ni_tunnel_proto_name(s->vpn_protocol));
        touch(b, h, s);
        if (b) b->ev[ev]++;
        bucket *hi = host_item(p, hv, "vpn", s->vpn_provider, NULL, s);
        if (hi) hi->ev[ev]++;
        if (s->vpn_provider) { set_attr(b, 0, ni_tunnel_proto_name(s->vpn_protocol)); vendor_add(p, "vpn", s->vpn_provider, ROLE_VPN, h, s); }
    }

    /* the OS family of the client's TCP/IP stack beside its User-Agent's */
    osview_add(p, cat, s);
    host_item(p, hv, "tcp_os", s->tcp_os, NULL, s);

    /* devices and software: target clients' User-Agents only, never agents
     * of the system, bots or tools */
    const char *ua = ni_session_user_agent(s);
    if (!ua) return;
    ni_ua_kind kind = s->ua_kind ? s->ua_kind : NI_UA_KIND_BROWSER;
    bool agent = kind == NI_UA_KIND_BOT || kind == NI_UA_KIND_TOOL;
    bool sys = kind == NI_UA_KIND_SYSTEM;
    if (agent) return;
    uint64_t cuv = client_hash(cat, ua);
    const uint64_t *cv = &cuv;
    if (s->ua_os) {
        bucket *b = get(p->tab[T_OS], s->ua_os);
        touch(b, h, s);
        add_client(b, cv);
        /* Windows: the version the enrichment decided (the Windows figure's
         * rows); others: the UA's version unless it is a reduced UA's
         * frozen placeholder */
        const char *ver = s->windows_version ? windows_label(s->windows_version) : s->ua_os_version;
        if (b && ver && !(s->ua_reduced && !s->windows_version && reduced_placeholder(s->ua_os, ver))) {
            char vb[64];
            kbuf k;
            kb_init(&k, vb, sizeof vb);
            kb_puts(&k, ver);
            touch(get_sub(p, b, vb, T_OS_VERSIONS, &p->lost.versions), h, s);
        }
        vendor_add(p, "os", s->ua_os, ROLE_OS, h, s);
        host_item(p, hv, "os", s->ua_os, s->windows_version ? windows_label(s->windows_version)
                  : s->ua_reduced && reduced_placeholder(s->ua_os, s->ua_os_version) ? NULL : s->ua_os_version, s);
    }
    if (s->windows_version) {   /* reduced UAs too: real NT versions, "10/11", undetermined */
        bucket *b = get(p->tab[T_WINDOWS], windows_label(s->windows_version));
        touch(b, h, s);
        add_client(b, cv);
    }
    if (sys) return;
    if (s->ua_maker) {
        bucket *b = get(p->tab[T_MAKERS], s->ua_maker);
        touch(b, h, s);
        add_client(b, cv);
        addr_add_memo(&p->lost, &p->device_hosts, &p->m_device_hosts, chash);
        vendor_add(p, "hardware", s->ua_maker, ROLE_HARDWARE, h, s);
        host_item(p, hv, "maker", s->ua_maker, NULL, s);
        if (s->ua_model) {
            char key[256];
            kbuf k;
            kb_init(&k, key, sizeof key);
            kb_puts(&k, s->ua_maker);
            kb_putc(&k, '\t');
            kb_puts(&k, s->ua_model);
            bucket *m = get(p->tab[T_MODELS], key);
            touch(m, h, s);
            add_client(m, cv);
            set_attr(m, 0, s->ua_maker);
            set_attr(m, 1, s->ua_model);
            const char *name = NULL, *rel = NULL;
            if (cfg->lookups.device) cfg->lookups.device(cfg->lookups.ud, s->ua_maker, s->ua_model, &name, &rel);
            host_item(p, hv, "model", s->ua_maker, name ? name : s->ua_model, s);
        }
    }
    if (s->ua_form_factor) {
        bucket *b = get(p->tab[T_FORM], s->ua_form_factor);
        touch(b, h, s);
        add_client(b, cv);
    }
    if (s->ua_browser && kind == NI_UA_KIND_BROWSER) {
        char key[256];
        const char *ver = s->ua_browser_version ? s->ua_browser_version : "";
        char major[32];
        size_t n = strcspn(ver, ".");
        kbuf k;
        kb_init(&k, major, sizeof major);
        kb_putn(&k, ver, n < 31 ? n : 31);
        kb_init(&k, key, sizeof key);
        kb_puts(&k, s->ua_browser);
        kb_putc(&k, '\t');
        kb_puts(&k, major);
        bucket *b = get(p->tab[T_BROWSERS], key);
        touch(b, h, s);
        add_client(b, cv);
        set_attr(b, 0, s->ua_browser);
        set_attr(b, 1, major);
        if (b && *ver) {   /* the full build, as the User-Agent gives it */
            char full[64];
            kb_init(&k, full, sizeof full);
            kb_puts(&k, ver);
            touch(get_sub(p, b, full, T_BUILDS, &p->lost.versions), h, s);
        }
        vendor_add(p, "browser", s->ua_browser, ROLE_BROWSER, h, s);
        host_item(p, hv, "browser", s->ua_browser, major, s);
        /* a browser whose builds for this OS have ended (final-builds.tsv) */
        const ni_profile_lookups *lk = &cfg->lookups;
        const char *osv = s->windows_version ? s->windows_version : s->ua_os_version, *final = NULL;
        if (lk->final_build && s->ua_os && osv && *ver) {
            bool at_final = lk->final_build(lk->ud, s->ua_browser, ver, s->ua_os, osv, &final);
            if (final) {
                kb_init(&k, key, sizeof key);
                kb_puts(&k, s->ua_browser);
                kb_putc(&k, '\t');
                kb_puts(&k, s->ua_os);
                kb_putc(&k, '\t');
                kb_puts(&k, osv);
                kb_putc(&k, '\t');
                kb_puts(&k, final);
                bucket *f = get(p->tab[T_FINALS], key);
                touch(f, h, s);
                set_attr(f, 0, s->ua_browser);
                set_attr(f, 1, s->ua_os);
                set_attr(f, 2, osv);
                if (f && at_final) touch(get_sub(p, f, "at_final", T_AT_FINAL, &p->lost.versions), h, s);
            }
        }
    }
}

/* ---- merge ------------------------------------------------------------- */
/* *d ∪= s (d created when absent). */
static ni_err merge_distinct(ni_profile *p, ni_distinct **d, const ni_distinct *s)
{
    if (!s) return NI_OK;
    if (!*d && !(*d = ni_distinct_new(p->lost.caps.distinct))) return NI_ERR_NOMEM;
    return ni_distinct_merge(*d, s);
}

static ni_err merge_bucket(ni_profile *p, bucket *d, const bucket *s)
{
    if (merge_distinct(p, &d->hosts, s->hosts) || merge_distinct(p, &d->clients, s->clients)) return NI_ERR_NOMEM;
    d->sessions += s->sessions;
    d->bytes += s->bytes;
    if (!d->first || (s->first && s->first < d->first)) d->first = s->first;
    if (s->last > d->last) d->last = s->last;
    for (int i = 0; i < EV__N; i++) d->ev[i] += s->ev[i];
    for (int i = 0; i < 3; i++) set_attr(d, i, s->attr[i]);
    d->roles |= s->roles;
    size_t it = 0; const char *k; void *v;
    while (s->sub && ni_topk_next(s->sub, &it, &k, &v)) {
        if (!v) continue;
        uint64_t err;
        ni_topk_count_of(s->sub, k, &err);
        bucket *db = get_sub_w(p, d, k, s->subkind, ((const bucket *)v)->sessions, err, NULL);
        if (!db || merge_bucket(p, db, v)) return NI_ERR_NOMEM;
    }
    return NI_OK;
}

/* Adds every bucket of table s into table d (Space-Saving's merge: each
 * name with its sessions and its error). */
static ni_err merge_table(ni_profile *p, ni_topk *d, const ni_topk *s)
{
    size_t it = 0; const char *k; void *v;
    while (ni_topk_next(s, &it, &k, &v)) {
        if (!v) continue;
        uint64_t err;
        ni_topk_count_of(s, k, &err);
        bucket *db = get_in(p, d, k, ((const bucket *)v)->sessions, err, NULL);
        if (!db) return NI_ERR_NOMEM;
        ni_err e = merge_bucket(p, db, v);
        if (e) return e;
    }
    return NI_OK;
}

ni_err ni_profile_merge(ni_profile *d, const ni_profile *s)
{
    d->sessions += s->sessions;
    for (int i = 0; i < 5; i++) d->by_dir[i] += s->by_dir[i];
    d->bytes += s->bytes;
    if (!d->first || (s->first && s->first < d->first)) d->first = s->first;
    if (s->last > d->last) d->last = s->last;
    for (int h = 0; h < 24; h++) d->act_hour[h] += s->act_hour[h];
    for (int w = 0; w < 7; w++) {
        d->act_wd[w] += s->act_wd[w];
        for (int h = 0; h < 24; h++) d->act_wdh[w][h] += s->act_wdh[w][h];
    }
    d->act_n += s->act_n;
    d->out_dns += s->out_dns;
    d->int_dns += s->int_dns;
    d->ndpi_examined += s->ndpi_examined;
    d->in_sessions += s->in_sessions;
    d->lost.names += s->lost.names; d->lost.hosts += s->lost.hosts; d->lost.clients += s->lost.clients;
    d->lost.versions += s->lost.versions; d->lost.evidence += s->lost.evidence;
    d->lost.out_of_memory += s->lost.out_of_memory;
    d->lost.host_view += s->lost.host_view;
    size_t it = 0; const char *k; void *v;
    while (ni_map_next(s->host_view, &it, &k, &v)) {   /* the same admission as host_entry */
        ni_addr a;
        if (ni_addr_parse(k, &a)) return NI_ERR_ARG;
        bucket *db = hv_admit(d, k, addr_hash(&a));
        if (!db) { d->lost.host_view += ((const bucket *)v)->sessions; continue; }
        ni_err e = merge_bucket(d, db, v);
        if (e) return e;
    }
    ni_distinct **ds[] = { &d->hosts, &d->out_hosts, &d->device_hosts, &d->vpn_hosts, &d->vpn_use_hosts };
    const ni_distinct *ss[] = { s->hosts, s->out_hosts, s->device_hosts, s->vpn_hosts, s->vpn_use_hosts };
    for (int i = 0; i < 5; i++) if (merge_distinct(d, ds[i], ss[i])) return NI_ERR_NOMEM;
    ni_err he;
    if ((he = ni_dnstun_merge(d->dnstun, s->dnstun, &d->lost.names))) return he;
    d->sampled_sessions += s->sampled_sessions;
    size_t oit = 0; const char *ok; void *ov;
    while (ni_map_next(s->osview, &oit, &ok, &ov)) {
        const osview *so = ov;
        void **slot = ni_map_slot(d->osview, ok);
        if (!slot) { map_refused(&d->lost, d->osview, ok, &d->lost.hosts); continue; }
        if (!*slot && !(*slot = calloc(1, sizeof(osview)))) return NI_ERR_NOMEM;
        osview *o = *slot;
        for (int i = 0; i < so->nua; i++) if (!osview_put(o->ua, NULL, &o->nua, so->ua[i], 0)) return NI_ERR_NOMEM;
        for (int i = 0; i < so->ntcp; i++)
            if (!osview_put(o->tcp, o->tcp_sessions, &o->ntcp, so->tcp[i], so->tcp_sessions[i])) return NI_ERR_NOMEM;
    }
    if (merge_distinct(d, &d->sslvpn_hosts, s->sslvpn_hosts)) return NI_ERR_NOMEM;
    for (int t = 0; t < T__N; t++) {
        d->ts[t].keys += s->ts[t].keys;
        d->ts[t].sessions += s->ts[t].sessions;
        if (s->ts[t].bound > d->ts[t].bound) d->ts[t].bound = s->ts[t].bound;
    }
    for (int t = 0; t < T_SECTIONS; t++) {
        ni_err e = merge_table(d, d->tab[t], s->tab[t]);
        if (e) return e;
    }
    return NI_OK;
}

/* ---- finish helpers ---------------------------------------------------- */
typedef struct entry {
    const char *key;
    bucket *b;
    uint64_t err;           /* sessions the row may miss (ni_topk error): 0 = exact */
    const char *rel, *eos;  /* release / end-of-support dates, looked up once */
} entry;

static int cmp_entry(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    size_t ha = nhosts(a->b), hb = nhosts(b->b);
    if (ha != hb) return ha < hb ? 1 : -1;
    if (a->b->sessions != b->b->sessions) return a->b->sessions < b->b->sessions ? 1 : -1;
    return strcmp(a->key, b->key);
}

static int cmp_key(const void *x, const void *y)
{
    return strcmp(((const entry *)x)->key, ((const entry *)y)->key);
}

/* Entries of a table sorted by hosts/sessions/name (or by key); caller frees. */
static entry *sorted(const ni_topk *m, size_t *n, bool by_key)
{
    size_t cnt = m ? ni_topk_count(m) : 0, it = 0, i = 0;
    entry *e = calloc(cnt + 1, sizeof *e);
    if (!e) { *n = 0; return NULL; }
    const char *k; void *v;
    while (m && ni_topk_next(m, &it, &k, &v)) {
        if (!v) continue;   /* its bucket could not be allocated */
        e[i].key = k; e[i].b = v;
        ni_topk_count_of(m, k, &e[i].err);
        i++;
    }
    qsort(e, i, sizeof *e, by_key ? cmp_key : cmp_entry);
    *n = i;
    return e;
}

static void jtime(ni_json *j, const char *k, int64_t us)
{
    char buf[NI_TIME_STRLEN];
    if (us) ni_json_kstr(j, k, ni_time_rfc3339(us, buf));
    else { ni_json_key(j, k); ni_json_null(j); }
}

static void jdate(ni_json *j, const char *k, int64_t us)
{
    char buf[NI_TIME_STRLEN];
    if (!us) { ni_json_key(j, k); ni_json_null(j); return; }
    ni_time_rfc3339(us, buf);
    buf[10] = 0;
    ni_json_kstr(j, k, buf);
}

static int64_t date_us(const char *d)
{
    int64_t us;
    return d && ni_time_parse(d, &us) == NI_OK ? us : 0;
}

static double round3(double v) { return floor(v * 1000 + 0.5) / 1000; }

/* Wilson 95% interval of k/n. */
static void wilson(double k, double n, double *lo, double *hi)
{
    if (n <= 0) { *lo = 0; *hi = 1; return; }
    double z = 1.959964, ph = k / n, z2 = z * z;
    double c = (ph + z2 / (2 * n)) / (1 + z2 / n);
    double w = z * sqrt(ph * (1 - ph) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    *lo = c - w < 0 ? 0 : c - w;
    *hi = c + w > 1 ? 1 : c + w;
}

/* ICD 203 (Intelligence Community Directive 203, Analytic Standards,
 * 2015): seven probability bands, one term each, and the clause that opens
 * a judgement with it ("there is almost no chance that ...", "it is roughly
 * even odds that ..."). */
static const struct icd_band { double upper; bool inclusive; const char *term, *phrase; } icd_bands[] = {
    { 0.05, false, "almost no chance", "there is almost no chance" },
    { 0.20, false, "very unlikely", "it is very unlikely" },
    { 0.45, false, "unlikely", "it is unlikely" },
    { 0.55, true, "roughly even odds", "it is roughly even odds" },
    { 0.80, true, "likely", "it is likely" },
    { 0.95, true, "very likely", "it is very likely" },
    { INFINITY, true, "almost certain", "it is almost certain" },
};

static const struct icd_band *icd_band(double pr)
{
    size_t n = sizeof icd_bands / sizeof icd_bands[0];
    for (size_t i = 0; i + 1 < n; i++)
        if (pr < icd_bands[i].upper || (icd_bands[i].inclusive && pr == icd_bands[i].upper)) return &icd_bands[i];
    return &icd_bands[n - 1];
}

const char *ni_profile_icd203(double pr) { return icd_band(pr)->term; }
const char *ni_profile_icd203_phrase(double pr) { return icd_band(pr)->phrase; }

static const char *icd203(double pr) { return icd_band(pr)->term; }
static const char *icd_phrase(double pr) { return icd_band(pr)->phrase; }

/* The same clause opening a sentence ("It is likely"), in buf. */
static const char *icd_Phrase(double pr, char *buf, size_t n)
{
    snprintf(buf, n, "%s", icd_phrase(pr));
    if (buf[0] >= 'a' && buf[0] <= 'z') buf[0] = (char)(buf[0] - 'a' + 'A');
    return buf;
}

/* Probability that the true share behind k/n exceeds t (normal
 * approximation with a Jeffreys-style 0.5 pseudo-count). */
static double prob_above(double k, double n, double t)
{
    if (n <= 0) return 0.5;
    double ph = (k + 0.5) / (n + 1);
    double se = sqrt(ph * (1 - ph) / (n + 1));
    if (se <= 0) return ph > t ? 1 : 0;
    return 0.5 * erfc(-(ph - t) / se / sqrt(2.0));
}

/* prob_above when k and n are estimates with relative standard errors ek
 * and en (0 = exact: then the same as prob_above): the estimates' variance
 * of the share k/n, (k/n)^2 (ek^2 + en^2), is added to the sampling
 * variance, so an estimated figure never reads as more certain than an
 * exact one would. */
static double prob_above_est(double k, double n, double t, double ek, double en)
{
    if (n <= 0) return 0.5;
    if (ek <= 0 && en <= 0) return prob_above(k, n, t);
    double ph = (k + 0.5) / (n + 1);
    double var = ph * (1 - ph) / (n + 1) + ph * ph * (ek * ek + en * en);
    if (var <= 0) return ph > t ? 1 : 0;
    return 0.5 * erfc(-(ph - t) / sqrt(var) / sqrt(2.0));
}

/* "about " before a figure that is an estimate (or a lower bound of a row
 * that entered a full table), else nothing. */
static const char *about(bool est) { return est ? "about " : ""; }

/* The relative error to allow for a figure: the HyperLogLog error when it
 * is an estimate. */
static double est_err(bool est) { return est ? NI_HLL_ERROR : 0; }

/* The shape of the week from sessions per local weekday (Monday first).
 * Each weekend day is quiet when it has less than half the mean Monday-
 * Friday rate, busy otherwise; the test: its share among the Monday-Friday
 * sessions and its own, against the share of a day at half the weekday
 * rate (0.5 / 5.5), one-sided (prob_above).  p = the smaller of the two
 * days' probabilities of lying on the side found. */
void ni_profile_week_shape(const uint64_t wd[7], ni_week_shape *out)
{
    memset(out, 0, sizeof *out);
    uint64_t wk = 0;
    for (int w = 0; w < 5; w++) wk += wd[w];
    out->weekday_mean = (double)wk / 5;
    bool quiet[2];
    out->p = 1;
    for (int d = 0; d < 2; d++) {
        double k = (double)wd[5 + d], n = (double)wk + k;
        out->ratio[d] = wk ? k / out->weekday_mean : 0;
        double above = prob_above(k, n, 0.5 / 5.5);
        quiet[d] = wk && out->ratio[d] < 0.5;
        double pr = quiet[d] ? 1 - above : above;
        if (pr < out->p) out->p = pr;
    }
    if (!wk) { out->kind = NI_WEEK_UNKNOWN; out->name = "no weekday sessions"; out->p = 0.5; }
    else if (quiet[0] && quiet[1]) { out->kind = NI_WEEK_FIVE_DAY; out->name = "five-day week"; }
    else if (!quiet[0] && quiet[1]) { out->kind = NI_WEEK_SIX_DAY; out->name = "six-day week"; }
    else if (!quiet[0] && !quiet[1]) { out->kind = NI_WEEK_NONE; out->name = "no weekly pattern"; }
    else { out->kind = NI_WEEK_OTHER; out->name = "quiet Saturday, busy Sunday"; }
}

static void finding(ni_json *j, const char *section, const char *text, const char *likelihood, const char *basis)
{
    ni_json_obj_begin(j);
    ni_json_kstr(j, "section", section);
    ni_json_kstr(j, "text", text);
    ni_json_kstr(j, "likelihood", likelihood);
    ni_json_kstr(j, "basis", basis);
    ni_json_obj_end(j);
}

/* ---- change detection ---------------------------------------------------- */
typedef struct change { char region[64]; char month[16]; double before, after, ratio, g; } change;

/* "YYYY-MM" (our own keys) → months since year 0. */
static int month_index(const char *ym)
{
    int y = 0, m = 0;
    for (int i = 0; i < 4 && ym[i]; i++) y = y * 10 + (ym[i] - '0');
    if (ym[4] == '-') m = (ym[5] - '0') * 10 + (ym[6] - '0');
    return y * 12 + m - 1;
}

/* One level shift per region: the split maximising the Poisson likelihood
 * ratio G (chi-square, 1 df), kept when G > 10.83 (p < 0.001), at least two
 * months lie on each side, and the level changes by a factor of 2 or more. */
static size_t detect_changes(const ni_profile *p, change *out, size_t max)
{
    size_t n; entry *e = sorted(p->tab[T_REGION_MONTH], &n, true);
    if (!e) return 0;
    int lo = 1 << 30, hi = -1;
    for (size_t i = 0; i < n; i++) {
        const char *tab = strchr(e[i].key, '\t');
        int m = month_index(tab + 1);
        if (m < lo) lo = m;
        if (m > hi) hi = m;
    }
    size_t found = 0;
    if (n == 0 || hi - lo + 1 > NI_PROFILE_MONTHS_MAX) { free(e); return 0; }
    /* Months at the window's edges may be covered only in part: counts are
     * scaled to a full month, and an edge month less than half covered is
     * left out, so a capture ending on the 3rd does not read as a drop. */
    double cover[NI_PROFILE_MONTHS_MAX];
    ni_localtime a, b;
    ni_tz_local(p->cfg->tz, p->first, &a);
    ni_tz_local(p->cfg->tz, p->last, &b);
    double fa = ni_days_from_civil(a.year, (unsigned)a.month, (unsigned)a.day) + (a.hour * 3600 + a.minute * 60 + a.second) / 86400.0;
    double fb = ni_days_from_civil(b.year, (unsigned)b.month, (unsigned)b.day) + (b.hour * 3600 + b.minute * 60 + b.second) / 86400.0;
    for (int m = lo; m <= hi; m++) {
        int y = m / 12;
        unsigned mo = (unsigned)(m % 12 + 1);
        double s0 = (double)ni_days_from_civil(y, mo, 1);
        double s1 = (double)ni_days_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1);
        double o0 = fa > s0 ? fa : s0, o1 = fb < s1 ? fb : s1;
        cover[m - lo] = o1 > o0 ? (o1 - o0) / (s1 - s0) : 0;
    }
    int first = lo, last = hi;
    while (first <= last && cover[first - lo] < 0.5) first++;
    while (last >= first && cover[last - lo] < 0.5) last--;
    int T = last - first + 1;
    if (T < 4) { free(e); return 0; }
    double *x = calloc((size_t)T, sizeof *x);
    for (size_t i = 0; x && i < n;) {
        const char *tab = strchr(e[i].key, '\t');
        size_t rl = (size_t)(tab - e[i].key);
        memset(x, 0, (size_t)T * sizeof *x);
        size_t j = i;
        for (; j < n && !strncmp(e[j].key, e[i].key, rl) && e[j].key[rl] == '\t'; j++) {
            int m = month_index(e[j].key + rl + 1);
            if (m >= first && m <= last) x[m - first] = (double)e[j].b->sessions / cover[m - lo];
        }
        double tot = 0;
        for (int t = 0; t < T; t++) tot += x[t];
        double mu = tot / T, best = 0; int bk = -1;
        double ll0 = 0;
        for (int t = 0; t < T; t++) if (x[t] > 0) ll0 += x[t] * log(mu) - mu; else ll0 -= mu;
        double cum = 0;
        for (int k = 1; k < T; k++) {
            cum += x[k - 1];
            if (k < 2 || T - k < 2) continue;
            double mb = cum / k, ma = (tot - cum) / (T - k), ll1 = 0;
            for (int t = 0; t < T; t++) {
                double m = t < k ? mb : ma;
                if (x[t] > 0) ll1 += m > 0 ? x[t] * log(m) - m : -1e300; else ll1 -= m;
            }
            double g = 2 * (ll1 - ll0);
            double r = mb > 0 ? ma / mb : INFINITY;
            if (g > best && (r <= 0.5 || r >= 2.0)) { best = g; bk = k; }
        }
        if (bk > 0 && best > 10.83 && found < max) {
            change *c = &out[found++];
            double mb = 0, ma = 0;
            for (int t = 0; t < T; t++) { if (t < bk) mb += x[t]; else ma += x[t]; }
            mb /= bk; ma /= (T - bk);
            snprintf(c->region, sizeof c->region, "%.*s", (int)(rl < 63 ? rl : 63), e[i].key);
            int m = first + bk;
            snprintf(c->month, sizeof c->month, "%04d-%02d", (m / 12) % 10000, m % 12 + 1);
            c->before = mb; c->after = ma; c->ratio = mb > 0 ? ma / mb : 0; c->g = best;
        }
        i = j;
    }
    free(x);
    free(e);
    return found;
}

/* ---- JSON -------------------------------------------------------------- */
/* "<key>_estimated": true, "<key>_error": the relative standard error, for
 * a figure that is an estimate (nothing when it is exact, so reports of
 * captures below the bounds keep their bytes). */
static void j_estimate(ni_json *j, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s_estimated", key);
    ni_json_kbool(j, k, true);
    snprintf(k, sizeof k, "%s_error", key);
    ni_json_kdouble(j, k, NI_HLL_ERROR);
}

/* A distinct count (0 for a counter never used), flagged when estimated. */
static void j_distinct(ni_json *j, const char *key, const ni_distinct *d)
{
    ni_json_kuint(j, key, dcount(d));
    if (destimated(d)) j_estimate(j, key);
}

static void j_evidence(ni_json *j, const bucket *b, int from, int to)
{
    ni_json_key(j, "evidence");
    ni_json_obj_begin(j);
    for (int i = from; i <= to; i++) ni_json_kuint(j, ev_name[i], b->ev[i]);
    ni_json_obj_end(j);
}

/* A row's sessions, and "sessions_error" when the row entered a table that
 * was full (ni_topk): its true sessions lie in [sessions, sessions +
 * sessions_error], and its other figures count the same sessions as
 * `sessions` (nothing when exact, so reports below the bounds keep their
 * bytes). */
static void j_sessions(ni_json *j, const entry *e)
{
    ni_json_kuint(j, "sessions", e->b->sessions);
    if (e->err) ni_json_kuint(j, "sessions_error", e->err);
}

static void j_hosts_clients(ni_json *j, const entry *e, bool clients)
{
    j_distinct(j, "hosts", e->b->hosts);
    if (clients) j_distinct(j, "clients", e->b->clients);
    j_sessions(j, e);
}

/* A bucket's nested buckets as [{item_key, "hosts", "sessions"}...]. */
static void j_sub_list(ni_json *j, const char *key, const char *item_key, const bucket *b)
{
    size_t m;
    entry *v = sorted(b->sub, &m, false);
    ni_json_key(j, key); ni_json_arr_begin(j);
    for (size_t k = 0; v && k < m; k++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, item_key, v[k].key);
        j_distinct(j, "hosts", v[k].b->hosts);
        j_sessions(j, &v[k]);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(v);
}

/* Peak hours: the local hours whose count is within 90% of the maximum. */
static bool is_peak(const ni_profile *p, int h)
{
    uint64_t mx = 0;
    for (int k = 0; k < 24; k++) if (p->act_hour[k] > mx) mx = p->act_hour[k];
    return mx && p->act_hour[h] * 10 >= mx * 9;
}

static void write_activity(ni_profile *p, ni_json *j)
{
    ni_json_key(j, "activity");
    ni_json_obj_begin(j);
    ni_json_kstr(j, "unit", "sessions");
    ni_json_kuint(j, "sample", p->act_n);
    ni_json_kstr(j, "weekday_order", "Monday first");
    ni_json_key(j, "by_hour"); ni_json_arr_begin(j);
    for (int h = 0; h < 24; h++) ni_json_uint(j, p->act_hour[h]);
    ni_json_arr_end(j);
    ni_json_key(j, "by_weekday"); ni_json_arr_begin(j);
    for (int w = 0; w < 7; w++) ni_json_uint(j, p->act_wd[w]);
    ni_json_arr_end(j);
    ni_json_key(j, "by_weekday_hour"); ni_json_arr_begin(j);
    for (int w = 0; w < 7; w++) {
        ni_json_arr_begin(j);
        for (int h = 0; h < 24; h++) ni_json_uint(j, p->act_wdh[w][h]);
        ni_json_arr_end(j);
    }
    ni_json_arr_end(j);
    ni_json_key(j, "peak_hours"); ni_json_arr_begin(j);
    for (int h = 0; h < 24; h++) if (is_peak(p, h)) ni_json_int(j, h);
    ni_json_arr_end(j);
    ni_json_obj_end(j);
}

/* What the findings rest on, computed from the aggregates alone (never from
 * what a section writer happened to leave behind). */
typedef struct facts {
    char top_cat[64];
    size_t top_cat_hosts;
    char top_maker[64];
    size_t top_maker_hosts;
    size_t win_hosts, win_unsupported;
    size_t final_hosts, final_stuck;   /* distinct hosts on an OS whose browser builds ended / at the final build */
    bool top_cat_est, top_maker_est, win_est, final_est;   /* a figure above is an estimate */
    char final_list[512];              /* "Chrome 109.0.5414.120 on Windows 7 (3 hosts), ..." */
    change ch[64];
    size_t nch;
    char peaks[24 * 8];
} facts;

/* The first bucket of m in report order (hosts, sessions, name). */
static void fact_top(const ni_topk *m, char *name, size_t n, size_t *hosts, bool *est)
{
    size_t cnt; entry *e = sorted(m, &cnt, false);
    if (e && cnt) {
        snprintf(name, n, "%s", e[0].key);
        *hosts = nhosts(e[0].b);
        *est = destimated(e[0].b->hosts) || e[0].err;
    }
    free(e);
}

/* Windows host observations, and those on versions past end of support at
 * the window's end. */
static void fact_windows(const ni_profile *p, size_t *hosts, size_t *unsupported, bool *est)
{
    *est = p->ts[T_WINDOWS].keys > 0;
    const ni_profile_lookups *lk = &p->cfg->lookups;
    size_t it = 0; const char *k; void *v;
    while (ni_topk_next(p->tab[T_WINDOWS], &it, &k, &v)) {
        if (!v) continue;
        const char *rel = NULL, *eos = NULL;
        if (lk->os_life) lk->os_life(lk->ud, "Windows", k, &rel, &eos);
        *hosts += nhosts(v);
        *est |= destimated(((const bucket *)v)->hosts);
        if (eos && date_us(eos) && date_us(eos) < p->last) *unsupported += nhosts(v);
    }
}

/* "09:00, 10:00" */
static void fact_peaks(const ni_profile *p, char *out, size_t n)
{
    size_t o = 0;
    out[0] = 0;
    for (int h = 0; h < 24 && o < n; h++)
        if (is_peak(p, h)) o += (size_t)snprintf(out + o, n - o, "%s%02d:00", o ? ", " : "", h);
}

/* Hosts whose browser gets no more builds for their OS, and those at
 * exactly the final build (distinct hosts over every row). */
static void fact_finals(const ni_profile *p, facts *f)
{
    ni_distinct *all = ni_distinct_new(p->lost.caps.distinct), *stuck = ni_distinct_new(p->lost.caps.distinct);
    size_t n, o = 0;
    entry *e = sorted(p->tab[T_FINALS], &n, false);
    f->final_list[0] = 0;
    for (size_t i = 0; all && stuck && e && i < n; i++) {
        const bucket *at = e[i].b->sub ? ni_topk_get(e[i].b->sub, "at_final") : NULL;
        if (e[i].b->hosts) ni_distinct_merge(all, e[i].b->hosts);
        if (!at || !nhosts(at)) continue;
        ni_distinct_merge(stuck, at->hosts);
        if (o < sizeof f->final_list)
            o += (size_t)snprintf(f->final_list + o, sizeof f->final_list - o, "%s%s %s on %s %s (%zu host%s)",
                                  o ? ", " : "", e[i].b->attr[0], strrchr(e[i].key, '\t') + 1, e[i].b->attr[1],
                                  e[i].b->attr[2], nhosts(at), nhosts(at) == 1 ? "" : "s");
    }
    f->final_hosts = dcount(all);
    f->final_est = destimated(all) || destimated(stuck);
    f->final_stuck = dcount(stuck);
    ni_distinct_free(all);
    ni_distinct_free(stuck);
    free(e);
}

static void compute_facts(const ni_profile *p, facts *f)
{
    fact_finals(p, f);
    fact_top(p->tab[T_CATEGORIES], f->top_cat, sizeof f->top_cat, &f->top_cat_hosts, &f->top_cat_est);
    fact_top(p->tab[T_MAKERS], f->top_maker, sizeof f->top_maker, &f->top_maker_hosts, &f->top_maker_est);
    fact_windows(p, &f->win_hosts, &f->win_unsupported, &f->win_est);
    fact_peaks(p, f->peaks, sizeof f->peaks);
    f->nch = detect_changes(p, f->ch, sizeof f->ch / sizeof f->ch[0]);
}

static void write_head(ni_profile *p, ni_json *j)
{
    const ni_profile_config *cfg = p->cfg;
    ni_json_obj_begin(j);
    ni_json_kstr(j, "schema", "netintel.profile/1");
    if (cfg->interrupted) ni_json_kbool(j, "interrupted", true);
    if (cfg->capture) {
        const ni_profile_capture *c = cfg->capture;
        ni_json_key(j, "capture"); ni_json_obj_begin(j);
        ni_json_kstr(j, "interface", c->interface ? c->interface : "");
        ni_json_kuint(j, "received", c->received);
        ni_json_kuint(j, "dropped", c->dropped);
        ni_json_kuint(j, "if_dropped", c->if_dropped);
        ni_json_kbool(j, "in_progress", c->in_progress);
        ni_json_obj_end(j);
    }
    ni_json_key(j, "target"); ni_json_obj_begin(j);
    ni_json_key(j, "spec"); ni_json_arr_begin(j);
    for (size_t i = 0; i < cfg->n_target_spec; i++) ni_json_str(j, cfg->target_spec[i]);
    ni_json_arr_end(j);
    ni_json_kstr(j, "timezone", ni_tz_name(cfg->tz));
    ni_json_obj_end(j);

    ni_json_key(j, "window"); ni_json_obj_begin(j);
    jtime(j, "first", p->first);
    jtime(j, "last", p->last);
    ni_json_obj_end(j);

    ni_json_key(j, "totals"); ni_json_obj_begin(j);
    ni_json_kuint(j, "sessions", p->sessions);
    ni_json_kuint(j, "outbound", p->by_dir[NI_DIRECTION_OUTBOUND]);
    ni_json_kuint(j, "outbound_dns", p->out_dns);
    ni_json_kuint(j, "inbound", p->by_dir[NI_DIRECTION_INBOUND]);
    ni_json_kuint(j, "internal", p->by_dir[NI_DIRECTION_INTERNAL]);
    ni_json_kuint(j, "internal_dns", p->int_dns);
    ni_json_kuint(j, "transit", p->by_dir[NI_DIRECTION_TRANSIT]);
    ni_json_kuint(j, "unknown", p->by_dir[NI_DIRECTION_UNKNOWN]);
    j_distinct(j, "hosts", p->hosts);
    ni_json_kuint(j, "bytes", p->bytes);
    if (p->sampled_sessions) ni_json_kuint(j, "sampled_sessions", p->sampled_sessions);
    ni_json_kuint(j, "ndpi_examined", p->ndpi_examined);
    ni_json_obj_end(j);

}

static void write_services(ni_profile *p, ni_json *j)
{
    /* services */
    size_t n; entry *e = sorted(p->tab[T_SERVICES], &n, false);
    ni_json_key(j, "services"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "service", e[i].key);
        ni_json_kstr(j, "category", e[i].b->attr[0] ? e[i].b->attr[0] : "other");
        j_hosts_clients(j, &e[i], false);
        ni_json_kuint(j, "bytes", e[i].b->bytes);
        j_evidence(j, e[i].b, EV_SNI, EV_IP);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    e = sorted(p->tab[T_CATEGORIES], &n, false);
    ni_json_key(j, "categories"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "category", e[i].key);
        j_hosts_clients(j, &e[i], false);
        ni_json_kuint(j, "bytes", e[i].b->bytes);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);

}

static void write_devices(ni_profile *p, ni_json *j)
{
    size_t n;
    entry *e;
    const ni_profile_lookups *lk = &p->cfg->lookups;
    ni_json_key(j, "devices"); ni_json_obj_begin(j);
    ni_json_kstr(j, "unit", "hosts and clients (address, User-Agent pairs)");
    j_distinct(j, "sample_hosts", p->device_hosts);
    e = sorted(p->tab[T_MAKERS], &n, false);
    ni_json_key(j, "makers"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "name", e[i].key);
        j_hosts_clients(j, &e[i], true);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    /* device_hosts is a subset of out_hosts (both added for the same
     * outbound client): the difference of the counts is the set difference
     * (when either is an estimate, so is the difference) */
    size_t oh = dcount(p->out_hosts), dh = dcount(p->device_hosts);
    ni_json_kuint(j, "unattributed_hosts", oh > dh ? oh - dh : 0);
    if (destimated(p->out_hosts) || destimated(p->device_hosts)) j_estimate(j, "unattributed_hosts");
    e = sorted(p->tab[T_FORM], &n, true);
    bool form_est = false;
    ni_json_key(j, "form_factor"); ni_json_obj_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_kuint(j, e[i].key, nhosts(e[i].b));
        form_est |= destimated(e[i].b->hosts) || destimated(e[i].b->clients);
    }
    ni_json_obj_end(j);
    ni_json_key(j, "form_factor_clients"); ni_json_obj_begin(j);
    for (size_t i = 0; e && i < n; i++) ni_json_kuint(j, e[i].key, nclients(e[i].b));
    ni_json_obj_end(j);
    if (form_est) j_estimate(j, "form_factor");
    free(e);
    e = sorted(p->tab[T_MODELS], &n, false);
    ni_json_key(j, "models"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        const char *name = NULL, *rel = NULL;
        if (lk->device) lk->device(lk->ud, e[i].b->attr[0], e[i].b->attr[1], &name, &rel);
        ni_json_obj_begin(j);
        ni_json_kstr(j, "maker", e[i].b->attr[0]);
        ni_json_kstr(j, "model", name ? name : e[i].b->attr[1]);
        ni_json_kstr(j, "code", e[i].b->attr[1]);
        j_hosts_clients(j, &e[i], true);
        jdate(j, "first_seen", e[i].b->first);
        ni_json_key(j, "released"); ni_json_str(j, rel);
        int64_t r = date_us(rel);
        ni_json_key(j, "lag_days");
        if (r) ni_json_int(j, (e[i].b->first - r) / 86400000000LL); else ni_json_null(j);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    ni_json_obj_end(j);

}

/* ---- the TCP/IP stack's OS (issue 12) -------------------------------------- */
typedef struct stack_row { const char *a, *b; uint64_t hosts, sessions; } stack_row;
typedef struct stack_facts {
    stack_row *fam; size_t nfam;        /* hosts without a User-Agent: stack family */
    stack_row *pairs; size_t npairs;    /* disagreeing hosts: UA family, stack family */
    uint64_t stack_hosts;               /* hosts with a stack OS at all */
    uint64_t compared, disagree;        /* hosts with both (stacks known), of them disagreeing */
} stack_facts;

static stack_row *stack_row_get(stack_row **v, size_t *n, const char *a, const char *b)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].a, a) && !strcmp((*v)[i].b ? (*v)[i].b : "", b ? b : "")) return &(*v)[i];
    stack_row *nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv) return NULL;
    *v = nv;
    nv[*n] = (stack_row){ a, b, 0, 0 };
    return &nv[(*n)++];
}

static int cmp_stack_row(const void *x, const void *y)
{
    const stack_row *a = x, *b = y;
    if (a->hosts != b->hosts) return a->hosts < b->hosts ? 1 : -1;
    if (a->sessions != b->sessions) return a->sessions < b->sessions ? 1 : -1;
    int c = strcmp(a->a, b->a);
    return c ? c : strcmp(a->b ? a->b : "", b->b ? b->b : "");
}

/* The kernel family of an OS family (data/tcp-os.tsv through the look-ups),
 * else the family itself. */
static const char *os_stack_of(const ni_profile *p, const char *family)
{
    const ni_profile_lookups *lk = &p->cfg->lookups;
    const char *st = lk->os_stack ? lk->os_stack(lk->ud, family) : NULL;
    return st ? st : family;
}

static void stack_facts_compute(const ni_profile *p, stack_facts *f)
{
    memset(f, 0, sizeof *f);
    size_t it = 0; const char *k; void *v;
    while (ni_map_next(p->osview, &it, &k, &v)) {
        const osview *o = v;
        if (!o->ntcp) continue;
        f->stack_hosts++;
        int top = 0;
        for (int i = 1; i < o->ntcp; i++)
            if (o->tcp_sessions[i] > o->tcp_sessions[top] ||
                (o->tcp_sessions[i] == o->tcp_sessions[top] && strcmp(o->tcp[i], o->tcp[top]) < 0)) top = i;
        if (!o->nua) {
            stack_row *r = stack_row_get(&f->fam, &f->nfam, o->tcp[top], NULL);
            if (r) { r->hosts++; for (int i = 0; i < o->ntcp; i++) if (!strcmp(o->tcp[i], o->tcp[top])) r->sessions += o->tcp_sessions[i]; }
            continue;
        }
        /* disagreement: no User-Agent OS shares a kernel family with any stack OS */
        f->compared++;
        bool same = false;
        for (int i = 0; i < o->nua && !same; i++)
            for (int t = 0; t < o->ntcp && !same; t++)
                same = !strcasecmp(os_stack_of(p, o->ua[i]), os_stack_of(p, o->tcp[t]));
        if (same) continue;
        f->disagree++;
        stack_row *r = stack_row_get(&f->pairs, &f->npairs, o->ua[0], o->tcp[top]);
        if (r) r->hosts++;
    }
    if (f->fam) qsort(f->fam, f->nfam, sizeof *f->fam, cmp_stack_row);
    if (f->pairs) qsort(f->pairs, f->npairs, sizeof *f->pairs, cmp_stack_row);
}

/* "os_stack" and "os_disagreements", written when any host has a stack OS. */
static void write_os_stack(const ni_profile *p, ni_json *j)
{
    stack_facts f;
    stack_facts_compute(p, &f);
    if (f.stack_hosts) {
        ni_json_key(j, "os_stack"); ni_json_arr_begin(j);
        for (size_t i = 0; i < f.nfam; i++) {
            ni_json_obj_begin(j);
            ni_json_kstr(j, "name", f.fam[i].a);
            ni_json_kuint(j, "hosts", f.fam[i].hosts);
            ni_json_kuint(j, "sessions", f.fam[i].sessions);
            ni_json_obj_end(j);
        }
        ni_json_arr_end(j);
        ni_json_key(j, "os_disagreements"); ni_json_obj_begin(j);
        ni_json_kuint(j, "hosts", f.disagree);
        ni_json_kuint(j, "compared", f.compared);
        ni_json_key(j, "pairs"); ni_json_arr_begin(j);
        for (size_t i = 0; i < f.npairs; i++) {
            ni_json_obj_begin(j);
            ni_json_kstr(j, "user_agent_os", f.pairs[i].a);
            ni_json_kstr(j, "stack_os", f.pairs[i].b);
            ni_json_kuint(j, "hosts", f.pairs[i].hosts);
            ni_json_obj_end(j);
        }
        ni_json_arr_end(j);
        ni_json_obj_end(j);
    }
    free(f.fam);
    free(f.pairs);
}

static void write_software(ni_profile *p, ni_json *j)
{
    size_t n;
    entry *e;
    const ni_profile_lookups *lk = &p->cfg->lookups;
    char text[1024];
    /* software: OS */
    e = sorted(p->tab[T_OS], &n, false);
    ni_json_key(j, "os"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "name", e[i].key);
        j_hosts_clients(j, &e[i], true);
        j_sub_list(j, "versions", "version", e[i].b);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    write_os_stack(p, j);

    /* Windows versions */
    e = sorted(p->tab[T_WINDOWS], &n, false);
    ni_json_key(j, "windows_versions"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "name", e[i].key);
        j_hosts_clients(j, &e[i], true);
        const char *rel = NULL, *eos = NULL;
        if (lk->os_life) lk->os_life(lk->ud, "Windows", e[i].key, &rel, &eos);
        e[i].rel = rel; e[i].eos = eos;
        ni_json_key(j, "released"); ni_json_str(j, rel);
        ni_json_key(j, "end_of_support"); ni_json_str(j, eos);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);

    /* browsers */
    size_t nb; entry *be = sorted(p->tab[T_BROWSERS], &nb, false);
    ni_json_key(j, "browsers"); ni_json_arr_begin(j);
    for (size_t i = 0; be && i < nb; i++) {
        const char *rel = lk->browser_release ? lk->browser_release(lk->ud, be[i].b->attr[0], be[i].b->attr[1]) : NULL;
        be[i].rel = rel;
        ni_json_obj_begin(j);
        ni_json_kstr(j, "name", be[i].b->attr[0]);
        ni_json_kstr(j, "version", be[i].b->attr[1]);
        j_hosts_clients(j, &be[i], true);
        j_sub_list(j, "builds", "build", be[i].b);
        ni_json_key(j, "released"); ni_json_str(j, rel);
        jdate(j, "first_seen", be[i].b->first);
        ni_json_key(j, "age_days");
        int64_t r = date_us(rel);
        if (r) ni_json_int(j, (be[i].b->first - r) / 86400000000LL); else ni_json_null(j);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);

    /* outdated: OS past end of support at the window's end; browsers whose
     * major version was released more than 365 days before first seen */
    ni_json_key(j, "outdated"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        const char *rel = e[i].rel, *eos = e[i].eos;
        if (!eos || !date_us(eos) || date_us(eos) >= p->last) continue;
        ni_json_obj_begin(j);
        ni_json_kstr(j, "kind", "os");
        ni_json_kstr(j, "name", "Windows");
        ni_json_kstr(j, "version", e[i].key);
        j_distinct(j, "hosts", e[i].b->hosts);
        ni_json_key(j, "released"); ni_json_str(j, rel);
        ni_json_kstr(j, "end_of_support", eos);
        snprintf(text, sizeof text, "past end of support (%s)", eos);
        ni_json_kstr(j, "reason", text);
        ni_json_obj_end(j);
    }
    for (size_t i = 0; be && i < nb; i++) {
        const char *rel = be[i].rel;
        int64_t r = date_us(rel);
        if (!r || be[i].b->first - r <= 365LL * 86400000000LL) continue;
        ni_json_obj_begin(j);
        ni_json_kstr(j, "kind", "browser");
        ni_json_kstr(j, "name", be[i].b->attr[0]);
        ni_json_kstr(j, "version", be[i].b->attr[1]);
        j_distinct(j, "hosts", be[i].b->hosts);
        ni_json_kstr(j, "released", rel);
        ni_json_kint(j, "age_days", (be[i].b->first - r) / 86400000000LL);
        ni_json_kstr(j, "reason", "released more than a year before first seen");
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    free(be);

    /* final builds: browsers on an OS whose builds of them have ended */
    e = sorted(p->tab[T_FINALS], &n, false);
    ni_json_key(j, "final_builds"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        const bucket *at = e[i].b->sub ? ni_topk_get(e[i].b->sub, "at_final") : NULL;
        ni_json_obj_begin(j);
        ni_json_kstr(j, "browser", e[i].b->attr[0]);
        ni_json_kstr(j, "os", e[i].b->attr[1]);
        ni_json_kstr(j, "os_version", e[i].b->attr[2]);
        ni_json_kstr(j, "final", strrchr(e[i].key, '\t') + 1);
        j_hosts_clients(j, &e[i], false);
        j_distinct(j, "hosts_at_final", at ? at->hosts : NULL);
        ni_json_kuint(j, "sessions_at_final", at ? at->sessions : 0);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
}
/* VPN rows: [{NAME: provider or product, hosts, clients, evidence}...],
 * the busiest first (consumer providers and corporate gateways alike). */
static void j_vpn_rows(ni_json *j, const char *key, const char *name, const ni_topk *m)
{
    size_t n;
    entry *e = sorted(m, &n, false);
    ni_json_key(j, key); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, name, e[i].key);
        j_hosts_clients(j, &e[i], false);
        j_evidence(j, e[i].b, EV_TUNNEL, EV_SITE);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
}


static void write_vpn(ni_profile *p, ni_json *j)
{
    size_t n;
    entry *e;
    /* VPN */
    ni_json_key(j, "vpn"); ni_json_obj_begin(j);
    j_distinct(j, "hosts", p->vpn_hosts);
    j_distinct(j, "hosts_with_use", p->vpn_use_hosts);
    ni_json_kuint(j, "services", ni_topk_count(p->tab[T_VPN]));
    j_distinct(j, "sample_hosts", p->out_hosts);
    j_vpn_rows(j, "by_service", "service", p->tab[T_VPN]);
    e = sorted(p->tab[T_VPN_PROTO], &n, false);
    ni_json_key(j, "unattributed"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "protocol", e[i].key);
        j_hosts_clients(j, &e[i], false);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    /* corporate SSL-VPN gateways */
    ni_json_key(j, "corporate"); ni_json_obj_begin(j);
    ni_json_kuint(j, "hosts", dcount(p->sslvpn_hosts));
    j_vpn_rows(j, "by_product", "product", p->tab[T_SSLVPN]);
    ni_json_obj_end(j);
    ni_json_obj_end(j);

}

static void write_inbound(ni_profile *p, ni_json *j)
{
    size_t n;
    entry *e;
    const ni_profile_config *cfg = p->cfg;
    char text[1024];
    /* inbound visitors */
    change ch[64];
    size_t nch = detect_changes(p, ch, sizeof ch / sizeof ch[0]);
    ni_json_key(j, "inbound"); ni_json_obj_begin(j);
    ni_json_kuint(j, "sessions", p->in_sessions);
    e = sorted(p->tab[T_SITES], &n, false);
    ni_json_key(j, "sites"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "site", e[i].key);
        j_sessions(j, &e[i]);
        j_distinct(j, "visitors", e[i].b->hosts);
        ni_json_kdouble(j, "share", round3(p->in_sessions ? (double)e[i].b->sessions / p->in_sessions : 0));
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    e = sorted(p->tab[T_COUNTRIES], &n, false);
    ni_json_key(j, "by_country"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "country", e[i].key);
        ni_json_key(j, "continent"); ni_json_str(j, e[i].b->attr[0]);
        j_sessions(j, &e[i]);
        j_distinct(j, "visitors", e[i].b->hosts);
        ni_json_kdouble(j, "share", round3(p->in_sessions ? (double)e[i].b->sessions / p->in_sessions : 0));
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    e = sorted(p->tab[T_REGION_MONTH], &n, true);
    ni_json_key(j, "by_region_month"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        const char *tab = strchr(e[i].key, '\t');
        ni_json_obj_begin(j);
        ni_json_key(j, "region"); ni_json_strn(j, e[i].key, (size_t)(tab - e[i].key));
        ni_json_kstr(j, "month", tab + 1);
        j_sessions(j, &e[i]);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);
    ni_json_key(j, "changes"); ni_json_arr_begin(j);
    for (size_t i = 0; i < nch; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "region", ch[i].region);
        ni_json_kstr(j, "month", ch[i].month);
        ni_json_kdouble(j, "before", round3(ch[i].before));
        ni_json_kdouble(j, "after", round3(ch[i].after));
        ni_json_kdouble(j, "ratio", round3(ch[i].ratio));
        ni_json_kdouble(j, "g_statistic", round3(ch[i].g));
        /* events within 45 days of the change's month */
        int64_t cm = date_us(ch[i].month[0] ? (snprintf(text, sizeof text, "%s-01", ch[i].month), text) : NULL);
        ni_json_key(j, "events"); ni_json_arr_begin(j);
        for (size_t k = 0; k < cfg->n_events; k++) {
            const ni_event *ev = &cfg->events[k];
            if (ev->region && *ev->region && strcmp(ev->region, ch[i].region)) continue;
            int64_t d = ev->at_us - cm;
            if (d < 0) d = -d;
            if (d <= 45LL * 86400000000LL) ni_json_str(j, ev->label);
        }
        ni_json_arr_end(j);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    ni_json_obj_end(j);

}

static void write_vendors(ni_profile *p, ni_json *j)
{
    size_t n;
    entry *e;
    /* vendor exposure */
    e = sorted(p->tab[T_VENDORS], &n, false);
    ni_json_key(j, "vendors"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "vendor", e[i].key);
        ni_json_key(j, "roles"); ni_json_arr_begin(j);
        for (int r = 0; r < 6; r++) if (e[i].b->roles & (1u << r)) ni_json_str(j, role_name[r]);
        ni_json_arr_end(j);
        j_hosts_clients(j, &e[i], false);
        jtime(j, "first_seen", e[i].b->first);
        jtime(j, "last_seen", e[i].b->last);
        j_sub_list(j, "evidence", "item", e[i].b);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(e);

}

/* Host-view items of one kind ("kind\tname" keys of the host's sub map),
 * in report order (sessions, name). */
static void j_host_items(ni_json *j, const char *key, const char *kind, const entry *it, size_t n)
{
    size_t kl = strlen(kind);
    ni_json_key(j, key); ni_json_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(it[i].key, kind, kl) || it[i].key[kl] != '\t') continue;
        if (strcmp(kind, "vpn")) { ni_json_str(j, it[i].key + kl + 1); continue; }
        ni_json_obj_begin(j);
        ni_json_kstr(j, "provider", it[i].key + kl + 1);
        ni_json_key(j, "evidence"); ni_json_arr_begin(j);
        for (int e = EV_TUNNEL; e <= EV_SITE; e++) if (it[i].b->ev[e]) ni_json_str(j, ev_name[e]);
        ni_json_arr_end(j);
        ni_json_kuint(j, "sessions", it[i].b->sessions);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
}

/* "hosts": one entry per target host (at most limits.host_view.cap). */
static int cmp_host(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    if (a->b->sessions != b->b->sessions) return a->b->sessions < b->b->sessions ? 1 : -1;
    return strcmp(a->key, b->key);
}

/* The host view's entries (an ni_map), unsorted; caller frees. */
static entry *hv_entries(const ni_map *m, size_t *n)
{
    size_t it = 0, i = 0;
    entry *e = calloc(ni_map_count(m) + 1, sizeof *e);
    if (!e) { *n = 0; return NULL; }
    const char *k; void *v;
    while (ni_map_next(m, &it, &k, &v)) if (v) { e[i].key = k; e[i].b = v; i++; }
    *n = i;
    return e;
}

static void write_hosts(ni_profile *p, ni_json *j)
{
    size_t n; entry *e = hv_entries(p->host_view, &n);
    if (e) qsort(e, n, sizeof *e, cmp_host);
    ni_json_key(j, "hosts"); ni_json_arr_begin(j);
    for (size_t i = 0; e && i < n; i++) {
        size_t m; entry *it = sorted(e[i].b->sub, &m, false);
        ni_json_obj_begin(j);
        ni_json_kstr(j, "address", e[i].key);
        jtime(j, "first_seen", e[i].b->first);
        jtime(j, "last_seen", e[i].b->last);
        ni_json_kuint(j, "sessions", e[i].b->sessions);
        j_host_items(j, "makers", "maker", it, it ? m : 0);
        j_host_items(j, "models", "model", it, it ? m : 0);
        j_host_items(j, "os", "os", it, it ? m : 0);
        j_host_items(j, "browsers", "browser", it, it ? m : 0);
        j_host_items(j, "services", "service", it, it ? m : 0);
        j_host_items(j, "vpn", "vpn", it, it ? m : 0);
        bool tcp = false;
        for (size_t k = 0; it && k < m && !tcp; k++) tcp = !strncmp(it[k].key, "tcp_os\t", 7);
        if (tcp) j_host_items(j, "tcp_os", "tcp_os", it, m);
        ni_json_obj_end(j);
        free(it);
    }
    ni_json_arr_end(j);
    free(e);
}

/* "dns_tunnels": the flagged (client, suffix) pairs (lib/analyze/ni_dnstun.h). */
static void write_dns_tunnels(ni_profile *p, ni_json *j)
{
    ni_dnstun_row *r;
    size_t n = ni_dnstun_rows(p->dnstun, &r);
    ni_json_key(j, "dns_tunnels"); ni_json_arr_begin(j);
    for (size_t i = 0; r && i < n; i++) {
        ni_json_obj_begin(j);
        ni_json_key(j, "client"); ni_json_strn(j, r[i].client, (size_t)(r[i].suffix - 1 - r[i].client));
        ni_json_kstr(j, "suffix", r[i].suffix);
        ni_json_kuint(j, "names", r[i].names);
        ni_json_key(j, "names_estimated"); ni_json_bool(j, r[i].estimated);
        ni_json_kuint(j, "sessions", r[i].sessions);
        ni_json_kuint(j, "queries", r[i].queries);
        if (r[i].queries_error) ni_json_kuint(j, "queries_error", r[i].queries_error);
        ni_json_kdouble(j, "mean_entropy", round3(r[i].mean_entropy));
        ni_json_kdouble(j, "mean_length", round3(r[i].mean_length));
        ni_json_key(j, "qtypes"); ni_json_arr_begin(j);
        for (size_t q = 0; q < r[i].nqtypes; q++) {
            ni_json_obj_begin(j);
            ni_json_kstr(j, "qtype", r[i].qtypes[q].qtype);
            ni_json_kuint(j, "queries", r[i].qtypes[q].queries);
            ni_json_obj_end(j);
        }
        ni_json_arr_end(j);
        jtime(j, "first", r[i].first_us);
        jtime(j, "last", r[i].last_us);
        ni_json_kstr(j, "suffix_rule", ni_dnstun_rule(p->dnstun));
        ni_json_kstr(j, "likelihood", icd203(r[i].probability));
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    free(r);
}

/* The DNS-tunnel finding: the pair with the most names, and how many more. */
static void finding_dns_tunnels(ni_profile *p, ni_json *j)
{
    ni_dnstun_row *r;
    size_t n = ni_dnstun_rows(p->dnstun, &r);
    if (!r || !n) { free(r); return; }
    char text[1024], basis[768], cap[64], client[NI_ADDR_STRLEN];
    snprintf(client, sizeof client, "%.*s", (int)(r[0].suffix - 1 - r[0].client), r[0].client);
    static const char *const ind[] = { "random-looking labels", "data-carrying query types", "volume" };
    char met[128] = "";
    size_t o = 0;
    for (int b = 0; b < 3; b++)
        if (r[0].indicators & (1u << b))
            o += (size_t)snprintf(met + o, sizeof met - o, "%s%s", o ? ", " : "", ind[b]);
    char others[96] = "";
    if (n > 1) snprintf(others, sizeof others, " %zu other client and suffix pair%s show%s the same shape.", n - 1,
                        n - 1 == 1 ? "" : "s", n - 1 == 1 ? "s" : "");
    snprintf(text, sizeof text, "Target host %s looked up %s%llu distinct names under %.200s (%llu queries, mostly %s; "
             "leftmost labels of %.0f characters and %.1f bits per character on average). %s that it carries data "
             "in DNS names (a DNS tunnel or exfiltration) to whoever answers for %.200s.%s",
             client, r[0].estimated ? "about " : "", (unsigned long long)r[0].names, r[0].suffix,
             (unsigned long long)r[0].queries, r[0].nqtypes ? r[0].qtypes[0].qtype : "unknown", r[0].mean_length,
             r[0].mean_entropy, icd_Phrase(r[0].probability, cap, sizeof cap), r[0].suffix, others);
    snprintf(basis, sizeof basis, "a pair is flagged at >= %u distinct names under one suffix (%s) with leftmost labels "
             ">= %.0f characters and >= %.1f bits per character on average; then 0.5 + 0.15 per indicator met "
             "(labels >= %.1f bits per character; half the queries TXT, NULL, CNAME, MX, SRV, ANY, KEY or private "
             "types; >= %u names or labels >= %.0f characters): %s (P = %.2f)",
             NI_DNSTUN_NAMES_MIN, ni_dnstun_rule(p->dnstun), NI_DNSTUN_LENGTH_MIN, NI_DNSTUN_ENTROPY_FLOOR,
             NI_DNSTUN_ENTROPY_HIGH, NI_DNSTUN_NAMES_MANY, NI_DNSTUN_LENGTH_LONG, o ? met : "none",
             r[0].probability);
    finding(j, "dns", text, icd203(r[0].probability), basis);
    free(r);
}

static void write_findings(ni_profile *p, ni_json *j, const facts *f)
{
    const ni_profile_config *cfg = p->cfg;
    char text[1024], basis[768];
    /* findings */
    ni_json_key(j, "findings"); ni_json_arr_begin(j);
    double lo, hi;
    char cap[64];
    if (p->act_n) {
        ni_week_shape ws;
        ni_profile_week_shape(p->act_wd, &ws);
        static const char *const claim[] = {
            [NI_WEEK_UNKNOWN] = "the target's hosts keep any weekly pattern",
            [NI_WEEK_FIVE_DAY] = "the target's hosts keep a five-day week (Saturday and Sunday quiet)",
            [NI_WEEK_SIX_DAY] = "the target's hosts keep a six-day week (Saturday busy, Sunday quiet)",
            [NI_WEEK_NONE] = "the target's outbound activity has no weekly pattern (Saturday and Sunday busy)",
            [NI_WEEK_OTHER] = "the target's hosts rest on Saturday rather than Sunday",
        };
        char shape[64];
        if (ws.kind == NI_WEEK_NONE) snprintf(shape, sizeof shape, "shows no weekly pattern");
        else snprintf(shape, sizeof shape, "has the shape of a %s", ws.name);
        snprintf(text, sizeof text, "Outbound activity peaks at %s local time (%s); its week %s: Saturday at %.0f%% "
                 "and Sunday at %.0f%% of the mean Monday-Friday day. %s that %s.",
                 f->peaks, ni_tz_name(cfg->tz), shape, 100 * ws.ratio[0], 100 * ws.ratio[1],
                 icd_Phrase(ws.p, cap, sizeof cap), claim[ws.kind]);
        snprintf(basis, sizeof basis, "%llu of %llu outbound sessions on Monday-Friday (%.0f a day), %llu on Saturday, "
                 "%llu on Sunday; each weekend day quiet below half the weekday rate, busy otherwise (one-sided "
                 "test of its share among Monday-Friday and its own sessions against 0.5/5.5, normal approximation); "
                 "P(shape) = %.2f",
                 (unsigned long long)(p->act_n - p->act_wd[5] - p->act_wd[6]), (unsigned long long)p->act_n,
                 ws.weekday_mean, (unsigned long long)p->act_wd[5], (unsigned long long)p->act_wd[6], ws.p);
        finding(j, "activity", text, icd203(ws.p), basis);
    }
    size_t dh = dcount(p->device_hosts);
    if (dh && f->top_maker[0]) {
        bool ek = f->top_maker_est, en = destimated(p->device_hosts);
        double pr = prob_above_est((double)f->top_maker_hosts, (double)dh, 0.5, est_err(ek), est_err(en));
        wilson((double)f->top_maker_hosts, (double)dh, &lo, &hi);
        snprintf(text, sizeof text, "%s is the most common device maker among the target's hosts (%s%zu of %s%zu "
                 "hosts with an identified maker, %s%.0f%%); %s that most of them use %s devices.",
                 f->top_maker, about(ek), f->top_maker_hosts, about(en), dh, about(ek || en),
                 100.0 * (double)f->top_maker_hosts / (double)dh, icd_phrase(pr), f->top_maker);
        snprintf(basis, sizeof basis, "%s%zu of %s%zu hosts with an identified device maker; Wilson 95%% interval %.0f-%.0f%%%s",
                 about(ek), f->top_maker_hosts, about(en), dh, lo * 100, hi * 100,
                 ek || en ? " (estimated counts: their error is added to the test's)" : "");
        finding(j, "devices", text, icd203(pr), basis);
    }
    if (f->win_hosts) {
        double pr = prob_above_est((double)f->win_unsupported, (double)f->win_hosts, 0.5, est_err(f->win_est), est_err(f->win_est));
        wilson((double)f->win_unsupported, (double)f->win_hosts, &lo, &hi);
        snprintf(text, sizeof text, "%s that most Windows hosts of the target run a Windows version past its "
                 "end of support.", icd_Phrase(pr, cap, sizeof cap));
        snprintf(basis, sizeof basis, "%s%zu of %s%zu Windows host observations on unsupported versions; Wilson 95%% interval %.0f-%.0f%%%s",
                 about(f->win_est), f->win_unsupported, about(f->win_est), f->win_hosts, lo * 100, hi * 100,
                 f->win_est ? " (estimated counts: their error is added to the test's)" : "");
        finding(j, "software", text, icd203(pr), basis);
    }
    if (f->final_stuck) {
        double pr = prob_above_est((double)f->final_stuck, (double)f->final_hosts, 0.5, est_err(f->final_est), est_err(f->final_est));
        wilson((double)f->final_stuck, (double)f->final_hosts, &lo, &hi);
        bool one = f->final_stuck == 1;
        snprintf(text, sizeof text, "%s%zu target %s the final build of %s browser for %s OS (%s): %s "
                 "browser gets no further updates unless the OS is replaced; %s that most hosts whose browser "
                 "updates ended with their OS are stuck at that final build.", f->final_est ? "About " : "", f->final_stuck,
                 one ? "host runs" : "hosts run", one ? "its" : "their", one ? "its" : "their", f->final_list,
                 one ? "its" : "their", icd_phrase(pr));
        snprintf(basis, sizeof basis, "%zu of %zu hosts running a browser on an OS whose builds of it ended "
                 "(data/final-builds.tsv) at exactly the final build; Wilson 95%% interval %.0f-%.0f%%",
                 f->final_stuck, f->final_hosts, lo * 100, hi * 100);
        finding(j, "software", text, icd203(pr), basis);
    }
    stack_facts sf;
    stack_facts_compute(p, &sf);
    if (sf.compared) {
        double pr = prob_above((double)sf.disagree, (double)sf.compared, 0.05);
        wilson((double)sf.disagree, (double)sf.compared, &lo, &hi);
        snprintf(text, sizeof text, "%llu of %llu target hosts whose User-Agent and TCP/IP stack both name an "
                 "operating system disagree on its family (%.0f%%); %s that more than 5%% of such hosts sit "
                 "behind NAT or a proxy, or send User-Agents of another system.",
                 (unsigned long long)sf.disagree, (unsigned long long)sf.compared,
                 100.0 * (double)sf.disagree / (double)sf.compared, icd_phrase(pr));
        snprintf(basis, sizeof basis, "%llu of %llu hosts with a User-Agent OS and a stack OS (p0f.fp, "
                 "data/tcp-os.tsv) of different kernel families; Wilson 95%% interval %.0f-%.0f%%",
                 (unsigned long long)sf.disagree, (unsigned long long)sf.compared, lo * 100, hi * 100);
        finding(j, "software", text, icd203(pr), basis);
    }
    free(sf.fam);
    free(sf.pairs);
    size_t oh = dcount(p->out_hosts), vh = dcount(p->vpn_use_hosts);
    bool oe = destimated(p->out_hosts), ve = destimated(p->vpn_use_hosts);
    if (oh) {
        double pr = vh ? prob_above_est((double)vh, (double)oh, 0.05, est_err(ve), est_err(oe)) : 0.0;
        wilson((double)vh, (double)oh, &lo, &hi);
        snprintf(text, sizeof text, "%s%zu of %s%zu target hosts used VPN or proxy services (tunnel or endpoint evidence) "
                 "with %zu providers; %s that more than 5%% of the target's hosts use them.",
                 ve ? "About " : "", vh, about(oe), oh, ni_topk_count(p->tab[T_VPN]), icd_phrase(pr));
        snprintf(basis, sizeof basis, "%s%zu of %s%zu hosts; Wilson 95%% interval %.1f-%.1f%%%s", about(ve), vh, about(oe), oh,
                 lo * 100, hi * 100, ve || oe ? " (estimated counts: their error is added to the test's)" : "");
        finding(j, "vpn", text, icd203(pr), basis);
    }
    if (f->top_cat[0] && oh) {
        double pr = prob_above_est((double)f->top_cat_hosts, (double)oh, 0.5, est_err(f->top_cat_est), est_err(oe));
        wilson((double)f->top_cat_hosts, (double)oh, &lo, &hi);
        snprintf(text, sizeof text, "The service category reaching the most target hosts is '%s'; %s that "
                 "most of the target's hosts use it.", f->top_cat, icd_phrase(pr));
        snprintf(basis, sizeof basis, "%s%zu of %s%zu hosts; Wilson 95%% interval %.0f-%.0f%%%s", about(f->top_cat_est),
                 f->top_cat_hosts, about(oe), oh, lo * 100, hi * 100,
                 f->top_cat_est || oe ? " (estimated counts: their error is added to the test's)" : "");
        finding(j, "services", text, icd203(pr), basis);
    }
    for (size_t i = 0; i < f->nch; i++) {
        /* G > 10.83 is p < 0.001; G > 6.63 would be p < 0.01 (never reported here) */
        const char *lik = f->ch[i].g > 20 ? "almost certain" : "very likely";
        snprintf(text, sizeof text, "Visits from %.60s %s to %.2f of their earlier level from %.15s on (%.1f → %.1f sessions a month).",
                 f->ch[i].region, f->ch[i].ratio < 1 ? "dropped" : "rose", f->ch[i].ratio, f->ch[i].month, f->ch[i].before, f->ch[i].after);
        snprintf(basis, sizeof basis, "monthly inbound sessions; Poisson level-shift test G = %.1f (p < 0.001)", f->ch[i].g);
        finding(j, "visitors", text, lik, basis);
    }
    finding_dns_tunnels(p, j);
    ni_json_arr_end(j);
}

/* Distinct counts of a map's buckets (and nested buckets) that are estimates. */
static size_t bucket_estimated(const bucket *b);
static size_t map_estimated(const ni_topk *m)
{
    size_t n = 0, it = 0; void *v;
    while (m && ni_topk_next(m, &it, NULL, &v)) n += bucket_estimated(v);
    return n;
}

static size_t bucket_estimated(const bucket *b)
{
    return b ? destimated(b->hosts) + destimated(b->clients) + map_estimated(b->sub) : 0;
}

/* How many distinct counts of the profile are estimates (limits.distinct). */
static size_t count_estimated(const ni_profile *p)
{
    const ni_distinct *sets[] = { p->hosts, p->out_hosts, p->device_hosts, p->vpn_hosts, p->vpn_use_hosts };
    size_t n = 0;
    for (int t = 0; t < T_SECTIONS; t++) n += map_estimated(p->tab[t]);
    size_t it = 0; void *v;
    while (ni_map_next(p->host_view, &it, NULL, &v)) n += bucket_estimated(v);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) n += destimated(sets[i]);
    return n;
}

/* Nested tables of one kind under the buckets of m: names kept. */
static uint64_t sub_kept(const ni_topk *m)
{
    uint64_t n = 0;
    size_t it = 0; void *v;
    while (m && ni_topk_next(m, &it, NULL, &v)) if (v && ((const bucket *)v)->sub) n += ni_topk_count(((const bucket *)v)->sub);
    return n;
}

/* "rows": the tables that were full and lost names (top-N by sessions,
 * core/ni_topk), written only then (reports below the bounds keep their
 * bytes).  Per table: its cap, names kept, names that left (evicted), their
 * sessions (dropped: counted in no row), the most sessions a name had when
 * it left (bound: no name that is not kept had more), and for the sections
 * all their sessions (total = the sum of the rows' sessions + dropped). */
static void write_rows(ni_profile *p, ni_json *j)
{
    ni_dnstun_stats ds;
    ni_dnstun_table(p->dnstun, &ds);
    bool any = ds.evicted > 0;
    for (int t = 0; t < T__N; t++) any |= p->ts[t].keys > 0;
    if (!any) return;
    ni_json_key(j, "rows"); ni_json_obj_begin(j);
    ni_json_kuint(j, "cap", p->lost.caps.rows);
    ni_json_key(j, "tables"); ni_json_arr_begin(j);
    for (int t = 0; t < T__N; t++) {
        const tstats *st = &p->ts[t];
        if (!st->keys) continue;
        ni_json_obj_begin(j);
        ni_json_kstr(j, "table", table_name[t]);
        ni_json_kstr(j, "unit", "sessions");
        ni_json_kuint(j, "cap", st->cap);
        uint64_t kept = t < T_SECTIONS ? ni_topk_count(p->tab[t])
                      : t == T_OS_VERSIONS ? sub_kept(p->tab[T_OS]) : t == T_BUILDS ? sub_kept(p->tab[T_BROWSERS])
                      : t == T_EVIDENCE ? sub_kept(p->tab[T_VENDORS]) : t == T_AT_FINAL ? sub_kept(p->tab[T_FINALS]) : 0;
        if (t == T_HOST_ITEMS) {
            size_t it = 0; void *v;
            while (ni_map_next(p->host_view, &it, NULL, &v))
                if (v && ((const bucket *)v)->sub) kept += ni_topk_count(((const bucket *)v)->sub);
        }
        ni_json_kuint(j, "kept", kept);
        ni_json_kuint(j, "evicted", st->keys);
        ni_json_kuint(j, "dropped", st->sessions);
        ni_json_kuint(j, "bound", st->bound);
        if (t < T_SECTIONS) ni_json_kuint(j, "total", ni_topk_total(p->tab[t]));
        ni_json_obj_end(j);
    }
    if (ds.evicted) {
        ni_json_obj_begin(j);
        ni_json_kstr(j, "table", "dns_tunnels");
        ni_json_kstr(j, "unit", "queries");
        ni_json_kuint(j, "cap", ds.cap);
        ni_json_kuint(j, "kept", ds.kept);
        ni_json_kuint(j, "evicted", ds.evicted);
        ni_json_kuint(j, "dropped", ds.dropped);
        ni_json_kuint(j, "bound", ds.bound);
        ni_json_kuint(j, "total", ds.total);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
    ni_json_obj_end(j);
}

/* "limits": every cap in force and the insertions it refused. */
static void write_limits(ni_profile *p, ni_json *j)
{
    const ni_profile_losses *l = &p->lost;
    const struct { const char *name; size_t cap; uint64_t dropped; } rows[] = {
        { "names", l->caps.names, l->names }, { "hosts", l->caps.hosts, l->hosts },
        { "clients", l->caps.clients, l->clients }, { "versions", l->caps.versions, l->versions },
        { "evidence", l->caps.evidence, l->evidence }, { "host_view", l->caps.host_view, l->host_view },
    };
    ni_json_key(j, "limits"); ni_json_obj_begin(j);
    ni_json_key(j, "complete"); ni_json_bool(j, ni_profile_complete(p));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_json_key(j, rows[i].name); ni_json_obj_begin(j);
        ni_json_kuint(j, "cap", rows[i].cap);
        ni_json_kuint(j, "dropped", rows[i].dropped);
        ni_json_obj_end(j);
    }
    ni_json_kuint(j, "out_of_memory", l->out_of_memory);
    write_rows(p, j);
    size_t est = count_estimated(p);
    if (est) {   /* only then: reports below the bounds keep their bytes */
        ni_json_key(j, "distinct"); ni_json_obj_begin(j);
        ni_json_kuint(j, "exact_max", l->caps.distinct);
        ni_json_kuint(j, "estimated", est);
        ni_json_kdouble(j, "error", NI_HLL_ERROR);
        ni_json_obj_end(j);
    }
    ni_json_obj_end(j);
}

ni_err ni_profile_json(ni_profile *p, ni_buf *out)
{
    ni_json jj, *j = &jj;
    ni_json_init(j, out, 2);
    facts *f = calloc(1, sizeof *f);
    if (!f) return NI_ERR_NOMEM;
    compute_facts(p, f);
    write_head(p, j);
    write_limits(p, j);
    write_activity(p, j);
    write_services(p, j);
    write_devices(p, j);
    write_software(p, j);
    write_vpn(p, j);
    write_inbound(p, j);
    write_vendors(p, j);
    write_hosts(p, j);
    write_dns_tunnels(p, j);
    write_findings(p, j, f);
    ni_json_obj_end(j);
    ni_buf_addc(out, '\n');
    free(f);
    return out->err;
}
