/* ni_enrich.c — the enrichment stage (see ni_enrich.h): loads the catalogues
 * and databases once and turns a session's evidence into meaning. */
#include "enrich/ni_enrich.h"
#include "enrich/ni_catalog.h"
#include "enrich/ni_country.h"
#include "enrich/ni_dates.h"
#include "enrich/ni_geo.h"
#include "enrich/ni_sslvpn.h"
#include "enrich/ni_vpnlearn.h"
#include "enrich/ni_asn.h"
#include "enrich/ni_tcpos.h"
#include "enrich/ni_tsv.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_uaverdict.h"
#include "core/ni_arena.h"
#include "core/ni_datadir.h"
#include "core/ni_kinds.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "core/ni_hash.h"
#include "core/ni_str.h"
#include "core/ni_prefix.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

/* User-Agents whose enrichment is remembered (here and in the parser's own
 * cache); emptied when full.  16,384: a target's busy agents stay cached,
 * while a stream of distinct agents costs ~11 MiB, not ~45 (bench/README.md,
 * "Tables of names past their cap"). */
#define NI_UA_CACHE 16384

typedef struct ndpi_vpn { char *provider; ni_tunnel_proto protocol; } ndpi_vpn;

struct ni_enrich {
    char data_dir[512];
    ni_catalog *cat;
    ni_dates *dates;
    ni_countries *countries;
    ni_geo *geo;
    ni_asn *asn;
    ni_ua_db *uadb;
    ni_uav *uav;
    ni_map *vendors;        /* "kind\tname" → vendor (strdup'd) */
    ni_map *ndpi;           /* nDPI name → ndpi_vpn */
    ni_prefix_set *special; /* special-purpose blocks: never geolocated */
    ni_map *cert_orgs;      /* lower-cased certificate O= → provider */
    ni_sslvpn *sslvpn;      /* corporate SSL-VPN gateway signatures */
    ni_vpnlearn *learned;   /* addresses DNS answers tied to a provider's server or API name */
    ni_tcpos *tcpos;        /* SYN fingerprints → OS (p0f.fp, data/tcp-os.tsv) */
    ni_enrich_lane *own;    /* the caches of ni_enrich_session, ni_enrich_ua and the look-ups */
    ni_catalog_memo *ordered_names;   /* the names ni_enrich_session_ordered looked up */
};

/* One thread's caches over the shared, read-only data (ni_enrich_lane_new). */
struct ni_enrich_lane {
    ni_enrich *en;
    ni_ua *ua;              /* the thread's parser: match data and its own cache, over en->uadb */
    ni_uav_scratch *uavs;   /* the thread's scratch for the verdicts (en->uav) */
    ni_map *ua_cache;       /* UA + hints → ua_fields (verdicts cost ~5 µs a UA) */
    ni_map *tcp_cache;      /* "fingerprint\twindow" → ni_tcpos_result (matching scans every signature) */
    ni_catalog_memo *names; /* host names → catalogue matches */
    /* geography per address, decided once (geo_cache below) */
    struct geo_slot *geo_cache;
    ni_mshift geo_hk;           /* the numbers of its hash (geo_index) */
};

/* The geography of one address as geo() decides it: a direct-mapped cache
 * of NI_GEO_CACHE slots, indexed by the address's keyed hash (addresses come
 * from the traffic: ni_mshift, numbers drawn per lane), replaced on
 * collision.  The strings point into the country table and the ASN table,
 * which outlive it. */
typedef struct geo_slot {
    ni_addr addr;
    bool used, special;
    char country[3];                    /* when not in the country table */
    const char *cc, *cont, *org;        /* cc NULL with country[0]: copy country */
    uint32_t asn;
    /* the catalogues' service and VPN rows of the address, once looked up
     * (the server's: server_svc, server_vpn) */
    bool has_svc, has_vpn;
    const ni_catalog_entry *svc, *vpn;
} geo_slot;

static void ua_fields_free(void *v);

static void free_ndpi(void *v)
{
    ndpi_vpn *n = v;
    if (!n) return;
    free(n->provider); free(n);
}

/* One of the small tables of data/: each row is handed to a row function
 * with the fields of the named columns (in order); a column named "source"
 * must be non-empty when present.  Errors name file and line. */
typedef int (*row_fn)(ni_enrich *en, const char *const *f, const char **problem);

static ni_err load_table(ni_enrich *en, const char *file, const char *const *cols, size_t ncols, row_fn fn,
                         ni_error *err)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", en->data_dir, file);
    ni_tsv t;
    if (ni_tsv_open(&t, path, err)) return NI_ERR_DATA;
    int idx[8];
    for (size_t i = 0; i < ncols && i < 8; i++)
        if ((idx[i] = ni_tsv_need(&t, cols[i], err)) < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int src = ni_tsv_col(&t, "source");
    int r;
    while ((r = ni_tsv_next(&t, err)) > 0) {
        const char *f[8], *problem = "out of memory";
        for (size_t i = 0; i < ncols && i < 8; i++) f[i] = ni_tsv_field(&t, idx[i]);
        if (src >= 0 && !*ni_tsv_field(&t, src)) { ni_tsv_error(&t, err, "no source"); r = -1; break; }
        if (fn(en, f, &problem)) { ni_tsv_error(&t, err, "%s", problem); r = -1; break; }
    }
    ni_tsv_close(&t);
    return r < 0 ? NI_ERR_DATA : NI_OK;
}

/* vendors.tsv: kind, name → vendor */
static int row_vendor(ni_enrich *en, const char *const *f, const char **problem)
{
    (void)problem;
    char key[256];
    snprintf(key, sizeof key, "%s\t%s", f[0], f[1]);
    char *v = strdup(f[2]);
    if (!v || ni_map_put(en->vendors, key, v)) { free(v); return -1; }
    return 0;
}

/* special-purpose.tsv: prefix */
static int row_special(ni_enrich *en, const char *const *f, const char **problem)
{
    ni_addr a;
    unsigned len;
    if (ni_prefix_parse(f[0], &a, &len) || ni_prefix_add(en->special, &a, len, en)) {
        *problem = "bad prefix";
        return -1;
    }
    return 0;
}

/* vpn-certs.tsv: certificate organisation → provider */
static int row_cert(ni_enrich *en, const char *const *f, const char **problem)
{
    (void)problem;
    char key[256];
    ni_ascii_lower_copy(key, sizeof key, f[0]);
    char *v = strdup(f[1]);
    if (!v || ni_map_put(en->cert_orgs, key, v)) { free(v); return -1; }
    return 0;
}

/* The O= value of an RFC 2253 name, lower-cased, into buf; false if none. */
static bool name_org(const char *dn, char *buf, size_t n)
{
    for (const char *p = dn; p && *p;) {
        if ((p == dn || p[-1] == ',') && p[0] == 'O' && p[1] == '=') {
            size_t i = 0;
            for (p += 2; *p && i + 1 < n; p++) {
                if (*p == '\\' && p[1]) { p++; }
                else if (*p == ',') break;
                buf[i++] = ni_ascii_lower(*p);
            }
            buf[i] = 0;
            return i > 0;
        }
        const char *c = strchr(p, ',');
        while (c && c > dn && c[-1] == '\\') c = strchr(c + 1, ',');
        p = c ? c + 1 : NULL;
    }
    return false;
}

/* ndpi-vpn.tsv: nDPI protocol name → provider, tunnel protocol */
static int row_ndpi(ni_enrich *en, const char *const *f, const char **problem)
{
    ni_tunnel_proto proto = ni_tunnel_proto_parse(f[2]);
    if (*f[2] && !proto) { *problem = "unknown tunnel protocol"; return -1; }
    ndpi_vpn *n = calloc(1, sizeof *n);
    if (!n) return -1;
    n->provider = *f[1] ? strdup(f[1]) : NULL;
    n->protocol = proto;
    if (ni_map_put(en->ndpi, f[0], n)) { free_ndpi(n); return -1; }
    return 0;
}

static ni_err load_tables(ni_enrich *en, ni_error *err)
{
    static const char *const vendor_cols[] = { "kind", "name", "vendor" };
    static const char *const special_cols[] = { "prefix" };
    static const char *const cert_cols[] = { "org", "provider" };
    static const char *const ndpi_cols[] = { "ndpi", "provider", "protocol" };
    if (load_table(en, "vendors.tsv", vendor_cols, 3, row_vendor, err)) return NI_ERR_DATA;
    if (load_table(en, "special-purpose.tsv", special_cols, 1, row_special, err)) return NI_ERR_DATA;
    if (load_table(en, "vpn-certs.tsv", cert_cols, 2, row_cert, err)) return NI_ERR_DATA;
    if (load_table(en, "ndpi-vpn.tsv", ndpi_cols, 3, row_ndpi, err)) return NI_ERR_DATA;
    return NI_OK;
}

/* The TCP/IP fingerprint databases: p0f's (NETINTEL_TCP_DB, else Debian's
 * /etc/p0f/p0f.fp, which alone may be missing) and data/tcp-os.tsv. */
static ni_err load_tcpos(ni_enrich *en, ni_error *err)
{
    if (!(en->tcpos = ni_tcpos_new())) return ni_error_set(err, NI_ERR_NOMEM, "enrichment: out of memory");
    const char *fp = getenv("NETINTEL_TCP_DB");
    bool must = fp && *fp;
    if (!must) fp = NI_TCPOS_P0F_DEFAULT;
    ni_error e2 = {0};
    ni_err rc = ni_tcpos_load_p0f(en->tcpos, fp, &e2);
    if (rc && (must || rc != NI_ERR_NOTFOUND)) {
        ni_error_set(err, rc, "%s", e2.msg);
        return rc;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/tcp-os.tsv", en->data_dir);
    return ni_tcpos_load_tsv(en->tcpos, path, err);
}

ni_enrich *ni_enrich_new(const ni_enrich_config *cfg, ni_error *err)
{
    ni_enrich *en = calloc(1, sizeof *en);
    if (!en) { ni_error_set(err, NI_ERR_NOMEM, "enrichment: out of memory"); return NULL; }
    if (cfg && cfg->data_dir) snprintf(en->data_dir, sizeof en->data_dir, "%s", cfg->data_dir);
    else if (ni_data_dir(en->data_dir, sizeof en->data_dir)) {
        ni_error_set(err, NI_ERR_DATA, "data directory not found (set NETINTEL_DATA)");
        free(en);
        return NULL;
    }
    en->vendors = ni_map_new(100000);
    en->ndpi = ni_map_new(10000);
    en->cat = ni_catalog_new();
    en->dates = ni_dates_new();
    en->special = ni_prefix_new();
    en->cert_orgs = ni_map_new(10000);
    if (!en->special || !en->cert_orgs || !en->vendors || !en->ndpi || !en->cat || !en->dates) {
        ni_error_set(err, NI_ERR_NOMEM, "enrichment: out of memory");
        goto fail;
    }
    char path[600];
    if (ni_catalog_load(en->cat, en->data_dir, err)) goto fail;
    if (ni_dates_load(en->dates, en->data_dir, err)) goto fail;
    if (!(en->countries = ni_countries_load(en->data_dir, err))) goto fail;
    if (load_tables(en, err)) goto fail;
    snprintf(path, sizeof path, "%s/sslvpn.tsv", en->data_dir);
    if (!(en->sslvpn = ni_sslvpn_load(path, err))) goto fail;
    if (!(en->learned = ni_vpnlearn_new(0)) || !(en->ordered_names = ni_catalog_memo_new())) {
        ni_error_set(err, NI_ERR_NOMEM, "enrichment: out of memory");
        goto fail;
    }
    snprintf(path, sizeof path, "%s/ext/node_modules/uap-core/regexes.yaml", en->data_dir);
    if (!(en->uadb = ni_ua_db_load(path, err))) goto fail;
    if (!(en->uav = ni_uav_load(en->data_dir, err))) goto fail;
    if (!(en->own = ni_enrich_lane_new(en, err))) goto fail;     /* (after en->uav: its scratch) */
    if (load_tcpos(en, err)) goto fail;
    if (!cfg || !cfg->no_geo) {
        char gp[1024];
        if (ni_geo_resolve_path(cfg ? cfg->geoip_path : NULL, en->data_dir, gp, sizeof gp, err)) goto fail;
        if (!(en->geo = ni_geo_open(gp, 0, err))) goto fail;
        if (!(en->asn = ni_asn_open(cfg ? cfg->asn_path : NULL, en->data_dir, err))) goto fail;
    }
    return en;
fail:
    ni_enrich_free(en);
    return NULL;
}

void ni_enrich_free(ni_enrich *en)
{
    if (!en) return;
    ni_catalog_free(en->cat);
    ni_dates_free(en->dates);
    ni_countries_free(en->countries);
    ni_geo_free(en->geo);
    ni_asn_free(en->asn);
    ni_enrich_lane_free(en->own);
    ni_ua_db_free(en->uadb);
    ni_uav_free(en->uav);
    ni_map_free(en->vendors, free);
    ni_map_free(en->ndpi, free_ndpi);
    ni_prefix_free(en->special);
    ni_map_free(en->cert_orgs, free);
    ni_sslvpn_free(en->sslvpn);
    ni_vpnlearn_free(en->learned);
    ni_catalog_memo_free(en->ordered_names);
    ni_tcpos_free(en->tcpos);
    free(en);
}

ni_enrich_lane *ni_enrich_lane_new(ni_enrich *en, ni_error *err)
{
    ni_enrich_lane *l = calloc(1, sizeof *l);
    if (!l) { ni_error_set(err, NI_ERR_NOMEM, "enrichment: out of memory"); return NULL; }
    l->en = en;
    l->ua_cache = ni_map_new(NI_UA_CACHE);
    l->tcp_cache = ni_map_new(NI_TCPOS_CACHE);
    l->geo_cache = calloc(NI_GEO_CACHE, sizeof *l->geo_cache);
    l->names = ni_catalog_memo_new();
    ni_mshift_init(&l->geo_hk);
    if (!l->ua_cache || !l->tcp_cache || !l->geo_cache || !l->names) {
        ni_error_set(err, NI_ERR_NOMEM, "enrichment: out of memory");
        ni_enrich_lane_free(l);
        return NULL;
    }
    if (en->uadb && !(l->ua = ni_ua_new(en->uadb, NI_UA_CACHE, err))) { ni_enrich_lane_free(l); return NULL; }
    if (en->uav && !(l->uavs = ni_uav_scratch_new(en->uav, err))) { ni_enrich_lane_free(l); return NULL; }
    return l;
}

void ni_enrich_lane_free(ni_enrich_lane *l)
{
    if (!l) return;
    ni_ua_free(l->ua);
    ni_uav_scratch_free(l->uavs);
    ni_map_free(l->ua_cache, ua_fields_free);
    ni_map_free(l->tcp_cache, free);
    free(l->geo_cache);
    ni_catalog_memo_free(l->names);
    free(l);
}

ni_ua *ni_enrich_ua_parser(ni_enrich *en) { return en->own->ua; }
const ni_uav *ni_enrich_ua_verdicts(ni_enrich *en) { return en->uav; }

/* ---- pieces ------------------------------------------------------------- */
/* The UA fields of a session, as decided once per distinct UA and hints. */
enum { UF_BROWSER, UF_BVER, UF_OS, UF_OSVER, UF_MAKER, UF_MODEL, UF_FORM, UF_KIND, UF_WIN, UF_OSDETAIL,
       UF_DEVSRC, UF__N };
typedef struct ua_fields {
    char *f[UF__N];
    size_t len[UF__N];      /* strlen of each (0 when NULL) */
    size_t arena_bytes;     /* what copying the fields but UF_KIND into an arena takes (copy_fields) */
    ni_ua_kind kind;        /* f[UF_KIND] parsed */
    bool reduced;
} ua_fields;

static void ua_fields_free(void *v)
{
    ua_fields *u = v;
    if (!u) return;
    for (int i = 0; i < UF__N; i++) free(u->f[i]);
    free(u);
}

/* The full version: "49.0.2623.112" (major.minor.patch.patch_minor as given). */
static char *vjoin(const ni_ua_agent *a)
{
    if (!a->major) return NULL;
    char buf[128];
    bool p = a->minor && a->patch, pm = p && a->patch_minor;
    snprintf(buf, sizeof buf, "%s%s%s%s%s%s%s", a->major, a->minor ? "." : "", a->minor ? a->minor : "",
             p ? "." : "", p ? a->patch : "", pm ? "." : "", pm ? a->patch_minor : "");
    return strdup(buf);
}

/* Appends s (NULL: nothing) to the key k[cap] at *at, cut at cap - 1 bytes
 * as snprintf would cut it, and a separator byte sep (0: none). */
static void key_put(char *k, size_t cap, size_t *at, const char *s, char sep)
{
    size_t room = cap - 1 - *at;
    if (s) {
        size_t n = strlen(s);
        if (n > room) n = room;
        memcpy(k + *at, s, n);
        *at += n;
        room -= n;
    }
    if (sep && room) k[(*at)++] = sep;
    k[*at] = 0;
}

static ua_fields *ua_decide(ni_enrich_lane *l, const char *ua, const char *platform, const char *platform_version,
                            const char *model)
{
    /* the key: ua, platform, platform_version and model, joined by 0x1f */
    char key[NI_HTTP_FIELD_MAX * 2];
    size_t kn = 0;
    key_put(key, sizeof key, &kn, ua, '\x1f');
    key_put(key, sizeof key, &kn, platform, '\x1f');
    key_put(key, sizeof key, &kn, platform_version, '\x1f');
    key_put(key, sizeof key, &kn, model, 0);
    ua_fields *u = ni_map_get(l->ua_cache, key);
    if (u) return u;
    ni_uav_hints h = { platform, platform_version, model };
    ni_uav_verdict v;
    ni_uav_parse_in(l->en->uav, l->uavs, l->ua, ua, strlen(ua), &h, &v);
    const ni_ua_result *r = v.ua;
    if (!(u = calloc(1, sizeof *u))) return NULL;
    if (r->browser.family && strcmp(r->browser.family, "Other")) {
        u->f[UF_BROWSER] = strdup(r->browser.family);
        u->f[UF_BVER] = vjoin(&r->browser);
    }
    if (v.os) {
        u->f[UF_OS] = strdup(v.os);
        if (!v.os_replaced) u->f[UF_OSVER] = vjoin(&r->os);
    }
    u->f[UF_OSDETAIL] = ni_strdup(v.os_detail);
    u->f[UF_DEVSRC] = ni_strdup(v.device_source);
    u->f[UF_MAKER] = ni_strdup(v.maker);
    u->f[UF_MODEL] = ni_strdup(v.model);
    u->f[UF_FORM] = ni_strdup(v.form_factor);
    u->f[UF_KIND] = ni_strdup(v.kind);
    u->f[UF_WIN] = ni_strdup(v.windows_version);
    u->reduced = v.reduced;
    u->kind = ni_ua_kind_parse(u->f[UF_KIND]);
    for (int i = 0; i < UF__N; i++) {
        if (!u->f[i]) continue;
        u->len[i] = strlen(u->f[i]);
        if (i != UF_KIND) u->arena_bytes += (u->len[i] + 1 + 15) & ~(size_t)15;   /* as ni_arena_alloc rounds */
    }
    if (ni_map_count(l->ua_cache) >= NI_UA_CACHE) {   /* full: start again */
        ni_map_free(l->ua_cache, ua_fields_free);
        l->ua_cache = ni_map_new(NI_UA_CACHE);
    }
    if (!l->ua_cache || ni_map_put(l->ua_cache, key, u)) { ua_fields_free(u); return NULL; }
    return u;
}

static void lane_ua(ni_enrich_lane *l, ni_session *s, const char *ua, const char *platform,
                    const char *platform_version, const char *model)
{
    if (!ua || !l->ua || !l->en->uav) return;
    const ua_fields *u = ua_decide(l, ua, platform, platform_version, model);
    if (!u) return;
    s->ua_kind = u->kind;
    s->ua_reduced = u->reduced;
    /* the strings in one block of the size the copies one by one take (so
     * the arena fills as it would); if it does not fit, one by one, as far
     * as they go */
    char *b = s->arena && u->arena_bytes ? ni_arena_alloc(s->arena, u->arena_bytes) : NULL;
    if (b) {
        const char **to[UF__N] = {
            [UF_BROWSER] = &s->ua_browser, [UF_BVER] = &s->ua_browser_version, [UF_OS] = &s->ua_os,
            [UF_OSVER] = &s->ua_os_version, [UF_MAKER] = &s->ua_maker, [UF_MODEL] = &s->ua_model,
            [UF_FORM] = &s->ua_form_factor, [UF_WIN] = &s->windows_version, [UF_OSDETAIL] = &s->ua_os_detail,
            [UF_DEVSRC] = &s->ua_device_source,
        };
        for (int i = 0; i < UF__N; i++) {
            if (!to[i]) continue;
            if (!u->f[i]) { *to[i] = NULL; continue; }
            memcpy(b, u->f[i], u->len[i] + 1);
            *to[i] = b;
            b += (u->len[i] + 1 + 15) & ~(size_t)15;
        }
        return;
    }
    s->ua_browser = ni_arena_strdup(s->arena, u->f[UF_BROWSER]);
    s->ua_browser_version = ni_arena_strdup(s->arena, u->f[UF_BVER]);
    s->ua_os = ni_arena_strdup(s->arena, u->f[UF_OS]);
    s->ua_os_version = ni_arena_strdup(s->arena, u->f[UF_OSVER]);
    s->ua_maker = ni_arena_strdup(s->arena, u->f[UF_MAKER]);
    s->ua_model = ni_arena_strdup(s->arena, u->f[UF_MODEL]);
    s->ua_form_factor = ni_arena_strdup(s->arena, u->f[UF_FORM]);
    s->windows_version = ni_arena_strdup(s->arena, u->f[UF_WIN]);
    s->ua_os_detail = ni_arena_strdup(s->arena, u->f[UF_OSDETAIL]);
    s->ua_device_source = ni_arena_strdup(s->arena, u->f[UF_DEVSRC]);
}

void ni_enrich_ua(ni_enrich *en, ni_session *s, const char *ua, const char *platform,
                  const char *platform_version, const char *model)
{
    lane_ua(en->own, s, ua, platform, platform_version, model);
}

/* Decides the geography of a into slot g (the look-ups proper). */
static void geo_decide(ni_enrich *en, const ni_addr *a, geo_slot *g)
{
    memset(g, 0, sizeof *g);
    g->addr = *a;
    g->used = true;
    void *v;
    if (ni_prefix_lookup(en->special, a, &v, NULL)) { g->special = true; return; }
    if (en->geo) {
        ni_geo_result r;
        if (ni_geo_lookup(en->geo, a, &r, NULL) == NI_OK && r.found && r.country[0]) {
            const ni_country_info *ci = ni_countries_get(en->countries, r.country);
            if (ci) { g->cc = ci->alpha2; g->cont = ci->continent; }
            else memcpy(g->country, r.country, sizeof g->country - 1);
        }
    }
    if (en->asn) {
        ni_asn_result ar;
        if (ni_asn_lookup(en->asn, a, &ar) && ar.asn) {
            g->asn = ar.asn;
            g->org = ar.org;
        }
    }
}

/* The slot of a: ni_mshift over the address's four 32-bit words and its
 * family. */
static size_t geo_index(const ni_enrich_lane *l, const ni_addr *a)
{
    uint32_t x[5];
    memcpy(x, a->b, 16);
    x[4] = a->family;
    return ni_mshift_hash(&l->geo_hk, x, 5) % NI_GEO_CACHE;
}

/* Fills the geography of a; returns its slot (valid until the next call). */
static geo_slot *geo(ni_enrich_lane *l, const ni_addr *a, const char **cc, const char **cont, uint32_t *asn,
                     const char **org, ni_session *s)
{
    geo_slot *g = &l->geo_cache[geo_index(l, a)];
    if (!g->used || g->addr.family != a->family || memcmp(g->addr.b, a->b, sizeof a->b)) geo_decide(l->en, a, g);
    if (g->special) return g;
    if (g->cc) { *cc = g->cc; *cont = g->cont; }
    else if (g->country[0]) *cc = ni_arena_strdup(s->arena, g->country);
    if (g->asn) { *asn = g->asn; *org = g->org; }
    return g;
}

/* ni_catalog_service_addr and ni_catalog_vpn_addr of g's address, kept in g. */
static const ni_catalog_entry *server_svc(const ni_enrich *en, geo_slot *g)
{
    if (!g->has_svc) { g->svc = ni_catalog_service_addr(en->cat, &g->addr); g->has_svc = true; }
    return g->svc;
}
static const ni_catalog_entry *server_vpn(const ni_enrich *en, geo_slot *g)
{
    if (!g->has_vpn) { g->vpn = ni_catalog_vpn_addr(en->cat, &g->addr); g->has_vpn = true; }
    return g->vpn;
}

static const char *http_host(const ni_session *s)
{
    for (const ni_http_req *r = s->http; r; r = r->next) if (r->host && *r->host) return r->host;
    return NULL;
}

/* The stack OS of a SYN fingerprint into *r; matched once per distinct
 * (fingerprint, window), kept in a bounded cache (the strings point into
 * the database, which outlives it).  False: no match. */
static bool tcp_os(ni_enrich_lane *l, const char *fp, unsigned window, ni_tcpos_result *r)
{
    /* the key: "fingerprint\twindow" (written here: snprintf costs ~1,000
     * instructions a session) */
    char key[NI_TCPOS_KEY_MAX], digits[12];
    size_t fn = strlen(fp), dn = 0;
    for (unsigned w = window; dn == 0 || w > 0; w /= 10) digits[dn++] = (char)('0' + w % 10);
    bool cacheable = fn + 1 + dn < sizeof key && l->tcp_cache;
    if (cacheable) {
        memcpy(key, fp, fn);
        key[fn] = '\t';
        for (size_t i = 0; i < dn; i++) key[fn + 1 + i] = digits[dn - 1 - i];
        key[fn + 1 + dn] = 0;
    }
    const ni_tcpos_result *c = cacheable ? ni_map_get(l->tcp_cache, key) : NULL;
    if (c) { *r = *c; return r->family != NULL; }
    if (!ni_tcpos_match(l->en->tcpos, fp, window, r)) memset(r, 0, sizeof *r);
    if (!cacheable) return r->family != NULL;
    if (ni_map_count(l->tcp_cache) >= NI_TCPOS_CACHE) {   /* full: start again */
        ni_map_free(l->tcp_cache, free);
        l->tcp_cache = ni_map_new(NI_TCPOS_CACHE);
    }
    ni_tcpos_result *copy = l->tcp_cache ? malloc(sizeof *copy) : NULL;
    if (copy) {
        *copy = *r;
        if (ni_map_put(l->tcp_cache, key, copy)) free(copy);
    }
    return r->family != NULL;
}

/* ---- VPN ------------------------------------------------------------------ */

/* A row DNS answers may teach: a provider's server or API name. */
static const ni_catalog_entry *learnable(const ni_catalog_entry *e)
{
    return e && (e->kind == NI_VPN_KIND_SERVER || e->kind == NI_VPN_KIND_API) ? e : NULL;
}

/* A DNS answer whose query (or a CNAME target) is a provider's server or
 * API name teaches every address in it (ni_vpnlearn.h), for as long as the
 * DNS cache would use it: its TTL plus NI_DNSCACHE_TTL_GRACE_US, at most
 * NI_DNSCACHE_AGE_MAX_US.  Each transaction of `dns` teaches on its own;
 * sessions without `dns` (older stored sessions) teach from dns_query and
 * dns_answers for the longest age. */
static void vpn_learn_answer(ni_enrich *en, const char *query, const ni_strlist *answers, int64_t ttl,
                             int64_t at_us)
{
    if (!query || !answers) return;
    const ni_catalog_entry *e;
    ni_catalog_domains(en->cat, en->ordered_names, query, NULL, &e);
    e = learnable(e);
    ni_addr a;
    for (const ni_strlist *x = answers; x && !e; x = x->next)
        if (x->s && ni_addr_parse(x->s, &a) != NI_OK) {
            ni_catalog_domains(en->cat, en->ordered_names, x->s, NULL, &e);
            e = learnable(e);
        }
    if (!e) return;
    int64_t life = ttl >= 0 ? ttl * 1000000 + NI_DNSCACHE_TTL_GRACE_US : 0;
    for (const ni_strlist *x = answers; x; x = x->next)
        if (x->s && ni_addr_parse(x->s, &a) == NI_OK) ni_vpnlearn_add(en->learned, &a, e, at_us, life);
}

static void vpn_learn(ni_enrich *en, const ni_session *s)
{
    if (!en->learned) return;
    if (!s->dns) { vpn_learn_answer(en, s->dns_query, s->dns_answers, -1, s->first_us); return; }
    for (const ni_dns_txn *t = s->dns; t; t = t->next)
        vpn_learn_answer(en, t->query, t->answers, t->ttl, s->first_us);
}

/* The CN= value of an RFC 2253 name as a host name ("*." removed) into buf;
 * false if none or not name-like. */
static bool name_cn_host(const char *dn, char *buf, size_t n)
{
    for (const char *p = dn; p && *p;) {
        if ((p == dn || p[-1] == ',') && p[0] == 'C' && p[1] == 'N' && p[2] == '=') {
            size_t i = 0;
            p += 3;
            if (p[0] == '*' && p[1] == '.') p += 2;
            for (; *p && *p != ',' && i + 1 < n; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_'))
                    return false;
                buf[i++] = c;
            }
            buf[i] = 0;
            return i > 0 && strchr(buf, '.') != NULL;
        }
        const char *c = strchr(p, ',');
        while (c && c > dn && c[-1] == '\\') c = strchr(c + 1, ',');
        p = c ? c + 1 : NULL;
    }
    return false;
}

/* nDPI's "Master.App": the whole label, else the app (its provider; its
 * tunnel protocol only when the master is no carrier of its own, so
 * "TLS.CloudflareWarp" is WARP's API over TLS, not a WireGuard tunnel),
 * else the master.  *proto: the tunnel protocol it names, NI_TUN_NONE if none. */
static const ndpi_vpn *ndpi_vpn_of(const ni_enrich *en, const ni_session *s, ni_tunnel_proto *proto)
{
    const ndpi_vpn *nv = NULL;
    *proto = NI_TUN_NONE;
    if (!s->ndpi_protocol) return NULL;
    nv = ni_map_get(en->ndpi, s->ndpi_protocol);
    if (nv) *proto = nv->protocol;
    const char *dot = strchr(s->ndpi_protocol, '.');
    if (!nv && dot) {
        char master[64];
        snprintf(master, sizeof master, "%.*s", (int)(dot - s->ndpi_protocol), s->ndpi_protocol);
        const ndpi_vpn *mv = ni_map_get(en->ndpi, master);
        nv = ni_map_get(en->ndpi, dot + 1);
        if (!nv) nv = mv;
        *proto = mv ? mv->protocol : NI_TUN_NONE;
    }
    return nv;
}

/* The VPN verdict from the evidence found, in the order of docs/sessions.md
 * ("VPN attribution"): the provider named by the session, its
 * certificate's CN or O=, an address learned from DNS answers, a corporate
 * SSL-VPN gateway, nDPI, a DNS lookup of a provider's name, a bare tunnel. */
static void attribute(const ni_enrich *en, ni_catalog_memo *names, ni_session *s, const ndpi_vpn *nv,
                      const ni_catalog_entry *vpn, ni_evidence vpn_ev, const ni_catalog_entry *cert_cn,
                      const char *cert_provider, const ni_catalog_entry *learned)
{
    const char *gateway;
    const ni_catalog_entry *looked_up;
    if (vpn) {
        s->vpn_provider = vpn->name;
        if (s->vpn_protocol) s->vpn_evidence = NI_EVIDENCE_TUNNEL;
        else if (vpn_ev == NI_EVIDENCE_IP || vpn->kind == NI_VPN_KIND_SERVER) s->vpn_evidence = NI_EVIDENCE_ENDPOINT;
        else s->vpn_evidence = NI_EVIDENCE_SITE;
    } else if (cert_cn) {
        s->vpn_provider = cert_cn->name;
        s->vpn_evidence = s->vpn_protocol ? NI_EVIDENCE_TUNNEL
                        : cert_cn->kind == NI_VPN_KIND_SERVER ? NI_EVIDENCE_ENDPOINT : NI_EVIDENCE_SITE;
        if (!s->service) { s->service = cert_cn->name; s->category = "vpn"; s->service_evidence = NI_EVIDENCE_IP; }
    } else if (cert_provider) {
        s->vpn_provider = cert_provider;
        s->vpn_evidence = s->vpn_protocol ? NI_EVIDENCE_TUNNEL : NI_EVIDENCE_ENDPOINT;
        if (!s->service) { s->service = cert_provider; s->category = "vpn"; s->service_evidence = NI_EVIDENCE_IP; }
    } else if (learned) {
        s->vpn_provider = learned->name;
        s->vpn_evidence = NI_EVIDENCE_ENDPOINT;
        if (!s->service) { s->service = learned->name; s->category = "vpn"; s->service_evidence = NI_EVIDENCE_IP; }
    } else if ((gateway = ni_sslvpn_match(en->sslvpn, s))) {
        /* a corporate SSL-VPN gateway (data/sslvpn.tsv): its own category,
         * the profile reports corporate gateways apart */
        s->vpn_provider = gateway;
        s->vpn_evidence = s->vpn_protocol ? NI_EVIDENCE_TUNNEL : NI_EVIDENCE_ENDPOINT;
        s->service = gateway;
        s->category = "ssl-vpn";
        if (!s->service_evidence) s->service_evidence = NI_EVIDENCE_IP;
    } else if (nv && nv->provider) {
        s->vpn_provider = nv->provider;
        s->vpn_evidence = s->vpn_protocol ? NI_EVIDENCE_TUNNEL : NI_EVIDENCE_ENDPOINT;
    } else if (s->dns_query && (ni_catalog_domains(en->cat, names, s->dns_query, NULL, &looked_up), looked_up)) {
        /* a DNS lookup of a provider's name: a visit's intent at most */
        s->vpn_provider = looked_up->name;
        s->vpn_evidence = NI_EVIDENCE_SITE;
    } else if (s->vpn_protocol) {
        s->vpn_evidence = NI_EVIDENCE_TUNNEL;
    }
}

void ni_enrich_session_lane(ni_enrich_lane *l, ni_session *s)
{
    const ni_enrich *en = l->en;
    /* geography */
    geo(l, &s->client, &s->client_country, &s->client_continent, &s->client_asn, &s->client_as_org, s);
    geo_slot *sg = geo(l, &s->server, &s->server_country, &s->server_continent, &s->server_asn,
                       &s->server_as_org, s);

    /* User-Agent: the first request that has one (with its client hints),
     * else the one of the QUIC handshake */
    bool ua_done = false;
    for (const ni_http_req *r = s->http; r && !ua_done; r = r->next)
        if (r->user_agent && *r->user_agent) {
            lane_ua(l, s, r->user_agent, r->ch_ua_platform, r->ch_ua_platform_version, r->ch_ua_model);
            ua_done = true;
        }
    if (!ua_done && s->quic_user_agent) lane_ua(l, s, s->quic_user_agent, NULL, NULL, NULL);

    /* the client's TCP/IP stack, from its SYN */
    ni_tcpos_result tr;
    if (s->tcp_fingerprint && tcp_os(l, s->tcp_fingerprint, s->tcp_window, &tr)) {
        s->tcp_os = tr.family;
        s->tcp_os_detail = tr.detail;
    }

    /* service and VPN provider by name: SNI, Host, DNS-learned name */
    const char *names[3] = { s->sni, http_host(s), s->dns_name };
    static const ni_evidence evs[3] = { NI_EVIDENCE_SNI, NI_EVIDENCE_HTTP_HOST, NI_EVIDENCE_DNS_NAME };
    const ni_catalog_entry *vpn = NULL;
    ni_evidence vpn_ev = NI_EVIDENCE_NONE;
    for (int i = 0; i < 3 && (!s->service || !vpn); i++) {
        if (!names[i] || !*names[i]) continue;
        /* a name already asked about (SNI, Host and DNS name are often one)
         * would answer as it did */
        if ((i > 0 && names[0] && !strcmp(names[i], names[0])) || (i > 1 && names[1] && !strcmp(names[i], names[1])))
            continue;
        const ni_catalog_entry *e = NULL, *v = NULL;
        ni_catalog_domains(en->cat, l->names, names[i], s->service ? NULL : &e, vpn ? NULL : &v);
        if (e) { s->service = e->name; s->category = e->category; s->service_evidence = evs[i]; }
        if (v) { vpn = v; vpn_ev = evs[i]; }
    }
    /* a provider named by the session outranks an address-only service match
     * (a VPN site behind a CDN is the VPN provider's, not the CDN's) */
    if (!s->service && vpn) { s->service = vpn->name; s->category = "vpn"; s->service_evidence = vpn_ev; }
    if (!vpn) { vpn = server_vpn(en, sg); if (vpn) vpn_ev = NI_EVIDENCE_IP; }
    if (!s->service) {
        const ni_catalog_entry *e = server_svc(en, sg);
        if (e) { s->service = e->name; s->category = e->category; s->service_evidence = NI_EVIDENCE_IP; }
    }
    if (!s->service && vpn) { s->service = vpn->name; s->category = "vpn"; s->service_evidence = vpn_ev; }

    /* the tunnel protocol seen on the session; nDPI fills gaps: a provider
     * or tunnel protocol netintel did not see */
    if (!s->vpn_protocol) s->vpn_protocol = s->tunnel;
    ni_tunnel_proto ndpi_proto;
    const ndpi_vpn *nv = ndpi_vpn_of(en, s, &ndpi_proto);
    if (!s->vpn_protocol && ndpi_proto) s->vpn_protocol = ndpi_proto;

    /* a server certificate naming a provider: its CN as a host name in the
     * catalogue, else its subjectAltName names in order (same rule), else
     * its organisation (O=, data/vpn-certs.tsv) */
    const ni_catalog_entry *cert_cn = NULL;
    const char *cert_provider = NULL;
    char org[256];
    if (!vpn && s->tls_cert_subject && name_cn_host(s->tls_cert_subject, org, sizeof org))
        ni_catalog_domains(en->cat, l->names, org, NULL, &cert_cn);
    for (const ni_strlist *x = s->cert_names; !vpn && !cert_cn && x; x = x->next) {
        ni_addr a;
        if (x->s && ni_addr_parse(x->s, &a) != NI_OK)  /* iPAddress entries are no names */
            ni_catalog_domains(en->cat, l->names, x->s[0] == '*' && x->s[1] == '.' ? x->s + 2 : x->s, NULL,
                               &cert_cn);
    }
    if (s->tls_cert_subject && name_org(s->tls_cert_subject, org, sizeof org))
        cert_provider = ni_map_get(en->cert_orgs, org);
    if (!cert_provider && s->tls_cert_issuer && name_org(s->tls_cert_issuer, org, sizeof org))
        cert_provider = ni_map_get(en->cert_orgs, org);

    /* a tunnel with no other evidence of its provider: an address some
     * host's DNS answer tied to a provider may name it, which depends on the
     * sessions before this one, so ni_enrich_session_ordered decides; until
     * then vpn_evidence is "none" (which no tunnel has after enrichment) */
    if (!vpn && !cert_cn && !cert_provider && s->vpn_protocol) {
        s->vpn_evidence = NI_EVIDENCE_NONE;
        return;
    }
    attribute(en, l->names, s, nv, vpn, vpn_ev, cert_cn, cert_provider, NULL);
}

void ni_enrich_session_ordered(ni_enrich *en, ni_session *s)
{
    /* DNS answers naming a provider's servers teach their addresses */
    vpn_learn(en, s);
    if (!s->vpn_protocol || s->vpn_evidence != NI_EVIDENCE_NONE) return;
    /* a tunnel to an address some host's DNS answer tied to a provider */
    const ni_catalog_entry *learned = ni_vpnlearn_get(en->learned, &s->server, s->first_us);
    ni_tunnel_proto ndpi_proto;
    const ndpi_vpn *nv = ndpi_vpn_of(en, s, &ndpi_proto);
    attribute(en, en->ordered_names, s, nv, NULL, NI_EVIDENCE_NONE, NULL, NULL, learned);
}

void ni_enrich_session(ni_enrich *en, ni_session *s)
{
    ni_enrich_session_lane(en->own, s);
    ni_enrich_session_ordered(en, s);
}

/* ---- look-ups for the profile --------------------------------------------- */
static bool lk_device(void *ud, const char *maker, const char *code, const char **name, const char **released)
{
    ni_enrich *en = ud;
    (void)maker;
    const ni_device_info *d = code ? ni_dates_device(en->dates, code) : NULL;
    if (!d) return false;
    *name = d->name;
    *released = d->release;
    return true;
}

static const char *lk_browser(void *ud, const char *family, const char *major)
{
    ni_enrich *en = ud;
    ni_browser_release r;
    if (!family || !major || !ni_dates_browser(en->dates, family, major, &r)) return NULL;
    return r.date;
}

static bool lk_os(void *ud, const char *family, const char *version, const char **rel, const char **eos)
{
    ni_enrich *en = ud;
    const ni_os_info *o = ni_dates_os(en->dates, family, version);
    if (!o) return false;
    *rel = o->release;
    *eos = o->end_of_support;
    return true;
}

static const char *lk_vendor(void *ud, const char *kind, const char *name)
{
    ni_enrich *en = ud;
    char key[256];
    size_t kn = 0;
    if (!kind || !name) return NULL;   /* no row has an empty kind or name */
    key_put(key, sizeof key, &kn, kind, '\t');   /* "kind\tname" */
    key_put(key, sizeof key, &kn, name, 0);
    return ni_map_get(en->vendors, key);
}

static bool lk_final_build(void *ud, const char *family, const char *version, const char *os,
                           const char *os_version, const char **final)
{
    ni_enrich *en = ud;
    const ni_final_build *row = NULL;
    *final = NULL;
    if (!family || !version || !os || !os_version) return false;
    int at = ni_dates_is_final_build(en->dates, family, version, os, os_version, &row);
    if (row) *final = row->final;
    return at == 1;
}

static const char *lk_os_stack(void *ud, const char *family)
{
    ni_enrich *en = ud;
    return ni_tcpos_stack(en->tcpos, family);
}

ni_enrich_lookups ni_enrich_profile_lookups(ni_enrich *en)
{
    ni_enrich_lookups l = { en, lk_device, lk_browser, lk_os, lk_vendor, lk_final_build, lk_os_stack };
    return l;
}

/* ---- single look-ups -------------------------------------------------------- */
bool ni_enrich_lookup(ni_enrich *en, const char *text, ni_session *out)
{
    ni_addr a;
    if (ni_addr_parse(text, &a) == NI_OK) {
        out->server = a;
        geo(en->own, &a, &out->server_country, &out->server_continent, &out->server_asn, &out->server_as_org, out);
        const ni_catalog_entry *e = ni_catalog_service_addr(en->cat, &a);
        if (e) { out->service = e->name; out->category = e->category; out->service_evidence = NI_EVIDENCE_IP; }
        const ni_catalog_entry *v = ni_catalog_vpn_addr(en->cat, &a);
        if (v) { out->vpn_provider = v->name; out->vpn_evidence = NI_EVIDENCE_ENDPOINT; }
        return true;
    }
    const ni_catalog_entry *e = ni_catalog_service_domain(en->cat, text);
    const ni_catalog_entry *v = ni_catalog_vpn_domain(en->cat, text);
    if (!strchr(text, '.')) return false;
    if (e) { out->service = e->name; out->category = e->category; out->service_evidence = NI_EVIDENCE_SNI; }
    if (v) {
        out->vpn_provider = v->name;
        out->vpn_evidence = v->kind == NI_VPN_KIND_SERVER ? NI_EVIDENCE_ENDPOINT : NI_EVIDENCE_SITE;
        if (!e) { out->service = v->name; out->category = "vpn"; }
    }
    return true;
}

/* ---- networks of a country or an AS (target resolution) ------------------------ */
typedef struct net_count { ni_enrich_net_fn fn; void *ud; size_t n; } net_count;

static ni_err count_net(void *ud, const ni_addr *addr, unsigned len)
{
    net_count *c = ud;
    c->n++;
    return c->fn(c->ud, addr, len);
}

ni_err ni_enrich_networks(ni_enrich *en, const char *kind, const char *value, ni_enrich_net_fn fn, void *fn_ud,
                          ni_error *err)
{
    net_count nc = { fn, fn_ud, 0 };
    if (!strcmp(kind, "country")) {
        if (!en->geo) return ni_error_set(err, NI_ERR_UNSUPPORTED, "no GeoIP database loaded");
        if (strlen(value) != 2) return ni_error_set(err, NI_ERR_ARG, "expected a two-letter country code");
        char cc[3] = { (char)(value[0] & ~0x20), (char)(value[1] & ~0x20), 0 };
        ni_err e = ni_geo_country_prefixes(en->geo, cc, count_net, &nc, err);
        if (e) return e;
        if (nc.n == 0) {
            const char *db = strrchr(ni_geo_path(en->geo), '/');
            return ni_error_set(err, NI_ERR_NOTFOUND, "no network of %s in the GeoIP database (%s)", cc,
                                db ? db + 1 : ni_geo_path(en->geo));
        }
        return NI_OK;
    }
    if (!strcmp(kind, "asn")) {
        if (!en->asn) return ni_error_set(err, NI_ERR_UNSUPPORTED, "no ASN data loaded");
        const char *v = value;
        if (!strncasecmp(v, "AS", 2)) v += 2;
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (!*v || *end || errno || n == 0 || n > 4294967295ul) return ni_error_set(err, NI_ERR_ARG, "expected an AS number");
        ni_err e = ni_asn_prefixes(en->asn, (uint32_t)n, count_net, &nc);
        if (e) return ni_error_set(err, e, "cannot list the networks of AS%lu", n);
        if (nc.n == 0) return ni_error_set(err, NI_ERR_NOTFOUND, "AS%lu announces no network in the ASN data", n);
        return NI_OK;
    }
    return ni_error_set(err, NI_ERR_ARG, "unknown kind '%s'", kind);
}
