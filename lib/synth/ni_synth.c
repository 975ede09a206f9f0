/* ni_synth.c — scenario reader and world generator (see ni_synth.h).
 * Randomness: splitmix64 seeded from the scenario seed, so runs are
 * reproducible.  Time: days are walked in local time of the scenario's zone
 * (ni_tz) and converted to UTC, so hour-of-day shapes survive offset changes.
 * Sessions are written in time order (each starts after the previous one
 * ended), so the capture is monotonic like a real one. */
#include "synth/ni_synth.h"
#include "core/ni_kinds.h"
#include "synth/ni_pktgen.h"
#include "analyze/ni_tz.h"
#include "enrich/ni_enrich.h"
#include "core/ni_map.h"
#include "core/ni_prefix.h"
#include "core/ni_arena.h"
#include "core/ni_buf.h"
#include "core/ni_limits.h"
#include "core/ni_prefix.h"
#include "core/ni_time.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_ROWS_MAX 256
#define SC_COLS_MAX 12

typedef struct row { double w; char *col[SC_COLS_MAX]; int ncol; } row;
typedef struct table { row r[SC_ROWS_MAX]; int n; double total; } table;

struct ni_scenario {
    char target[128], timezone[64], start[16];
    int months, hosts;
    double per_host_day, visitors_per_month;
    ni_addr resolver, site_server, net;
    unsigned net_len;
    double hours[24], weekdays[7];
    table devices, services, vpn, visitors, change;
    char *text;  /* the file, rows point into it */
};

/* ---- scenario ------------------------------------------------------------ */
static char *trim(char *s)
{
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

static int split(char *line, char **col, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        col[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
        while (*p == '\t') p++;
    }
    for (int i = 0; i < n; i++) col[i] = trim(col[i]);
    return n;
}

void ni_scenario_free(ni_scenario *sc)
{
    if (!sc) return;
    free(sc->text);
    free(sc);
}

const char *ni_scenario_timezone(const ni_scenario *sc) { return sc->timezone; }
const char *ni_scenario_target(const ni_scenario *sc) { return sc->target; }

static int need_cols(const char *sec) {
    if (!strcmp(sec, "devices")) return 12;
    if (!strcmp(sec, "services")) return 6;
    if (!strcmp(sec, "vpn")) return 6;
    if (!strcmp(sec, "visitors")) return 4;
    if (!strcmp(sec, "change")) return 3;
    return 0;
}

ni_scenario *ni_scenario_load(const char *path, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { ni_error_set(err, NI_ERR_NOTFOUND, "%s: %s", path, strerror(errno)); return NULL; }
    ni_scenario *sc = calloc(1, sizeof *sc);
    ni_buf b; ni_buf_init(&b, 4u << 20);
    char chunk[8192];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) ni_buf_add(&b, chunk, k);
    fclose(f);
    if (!sc || b.err) { ni_buf_release(&b); free(sc); ni_error_set(err, NI_ERR_DATA, "%s: too large or out of memory", path); return NULL; }
    sc->text = b.p ? b.p : strdup("");
    snprintf(sc->timezone, sizeof sc->timezone, "UTC");
    sc->months = 12; sc->hosts = 20; sc->per_host_day = 4; sc->visitors_per_month = 100;
    for (int h = 0; h < 24; h++) sc->hours[h] = 1;
    for (int d = 0; d < 7; d++) sc->weekdays[d] = 1;
    char sec[32] = "";
    unsigned lineno = 0;
    for (char *line = sc->text, *nl; line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *l = trim(line);
        if (!*l) continue;
        if (*l == '[') {
            char *e = strchr(l, ']');
            if (!e) goto bad;
            *e = 0;
            snprintf(sec, sizeof sec, "%s", l + 1);
            if (strcmp(sec, "world") && strcmp(sec, "hours") && strcmp(sec, "weekdays") && !need_cols(sec)) goto bad;
            continue;
        }
        char *col[32];
        int n = split(l, col, 32);
        if (!strcmp(sec, "world")) {
            if (n != 2) goto bad;
            const char *key = col[0], *v = col[1];
            if (!strcmp(key, "target")) snprintf(sc->target, sizeof sc->target, "%s", v);
            else if (!strcmp(key, "timezone")) snprintf(sc->timezone, sizeof sc->timezone, "%s", v);
            else if (!strcmp(key, "start")) snprintf(sc->start, sizeof sc->start, "%s", v);
            else if (!strcmp(key, "months")) sc->months = (int)strtol(v, NULL, 10);
            else if (!strcmp(key, "hosts")) sc->hosts = (int)strtol(v, NULL, 10);
            else if (!strcmp(key, "sessions_per_host_day")) sc->per_host_day = strtod(v, NULL);
            else if (!strcmp(key, "visitor_sessions_per_month")) sc->visitors_per_month = strtod(v, NULL);
            else if (!strcmp(key, "resolver")) { if (ni_addr_parse(v, &sc->resolver)) goto bad; }
            else if (!strcmp(key, "site_server")) { if (ni_addr_parse(v, &sc->site_server)) goto bad; }
            else goto bad;
        } else if (!strcmp(sec, "hours") || !strcmp(sec, "weekdays")) {
            int want = sec[0] == 'h' ? 24 : 7;
            if (n != want) goto bad;
            for (int i = 0; i < n; i++) (sec[0] == 'h' ? sc->hours : sc->weekdays)[i] = strtod(col[i], NULL);
        } else if (need_cols(sec)) {
            table *t = !strcmp(sec, "devices") ? &sc->devices : !strcmp(sec, "services") ? &sc->services
                     : !strcmp(sec, "vpn") ? &sc->vpn : !strcmp(sec, "visitors") ? &sc->visitors : &sc->change;
            if (n != need_cols(sec) || n > SC_COLS_MAX || t->n >= SC_ROWS_MAX) goto bad;
            row *r = &t->r[t->n++];
            r->ncol = n;
            for (int i = 0; i < n; i++) r->col[i] = strcmp(col[i], "-") ? col[i] : NULL;
            if (t != &sc->change) {
                r->w = strtod(col[0], NULL);
                if (r->w <= 0) goto bad;
                t->total += r->w;
            }
        } else goto bad;
    }
    int64_t us;
    ni_error perr;
    if (!sc->target[0] || ni_prefix_parse(sc->target, &sc->net, &sc->net_len) || sc->net.family != 4 ||
        sc->net_len > 24 || !sc->start[0] || ni_time_parse(sc->start, &us) || sc->months < 1 || sc->months > 120 ||
        sc->hosts < 1 || sc->hosts > 200 || !sc->devices.n || !sc->services.n || !sc->resolver.family ||
        !sc->site_server.family) {
        (void)perr;
        ni_error_set(err, NI_ERR_DATA, "%s: incomplete [world] (target IPv4 /24 or wider, start, months 1-120, hosts 1-200, "
                     "resolver, site_server) or no [devices]/[services]", path);
        ni_scenario_free(sc);
        return NULL;
    }
    return sc;
bad:
    ni_error_set(err, NI_ERR_DATA, "%s:%u: malformed row in section [%s]", path, lineno, sec);
    ni_scenario_free(sc);
    return NULL;
}

/* ---- randomness ---------------------------------------------------------- */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(next(s) >> 11) / 9007199254740992.0; }
static int pick(uint64_t *s, const double *w, int n, double total)
{
    double x = unif(s) * total;
    for (int i = 0; i < n; i++) { if (x < w[i]) return i; x -= w[i]; }
    return n - 1;
}
static int pick_row(uint64_t *s, const table *t)
{
    double x = unif(s) * t->total;
    for (int i = 0; i < t->n; i++) { if (x < t->r[i].w) return i; x -= t->r[i].w; }
    return t->n - 1;
}
static unsigned poisson(uint64_t *s, double lambda)
{
    if (lambda > 50) { /* normal approximation */
        double u1 = unif(s), u2 = unif(s);
        double z = sqrt(-2 * log(u1 > 0 ? u1 : 1e-12)) * cos(6.283185307179586 * u2);
        double v = lambda + z * sqrt(lambda);
        return v < 0 ? 0 : (unsigned)(v + 0.5);
    }
    double L = exp(-lambda), p = 1;
    unsigned k = 0;
    do { k++; p *= unif(s); } while (p > L);
    return k - 1;
}

/* ---- generation ---------------------------------------------------------- */
typedef struct gen {
    const ni_scenario *sc;
    const ni_synth_opts *o;
    ni_pktgen *pg;
    ni_tz *tz;
    uint64_t rng;
    int64_t clock;            /* end of the last session written */
    ni_buf pay;
    ni_arena *arena;
    ni_synth_summary sum;
    uint16_t port_ctr;
    int host_dev[200][3];     /* devices behind each host (NAT; -1 = none); [2] = fallback */
    int64_t dev_from[SC_ROWS_MAX]; /* first day a device row is in use (µs), 0 = always */
    int64_t today;            /* start of the day being generated (UTC µs) */
} gen;

static ni_addr host_addr(const gen *g, int i)
{
    ni_addr a = g->sc->net;
    uint32_t v = ((uint32_t)a.b[0] << 24 | (uint32_t)a.b[1] << 16 | (uint32_t)a.b[2] << 8 | a.b[3]) + 32 + (uint32_t)i;
    a.b[0] = (uint8_t)(v >> 24); a.b[1] = (uint8_t)(v >> 16); a.b[2] = (uint8_t)(v >> 8); a.b[3] = (uint8_t)v;
    return a;
}

static uint16_t eport(gen *g) { g->port_ctr = (uint16_t)(g->port_ctr + 1); return (uint16_t)(20000 + g->port_ctr % 40000); }

/* Starts a session at t (moved after the previous session's end). */
static void start(gen *g, ni_conv *cv, const ni_addr *c, const ni_addr *s, uint16_t sport, uint8_t proto, int64_t t)
{
    if (t <= g->clock) t = g->clock + 1000;
    ni_conv_init(cv, c, eport(g), s, sport, proto, t, (uint32_t)next(&g->rng));
}

static void finish(gen *g, ni_conv *cv, ni_session *s, int64_t t0)
{
    s->first_us = t0;
    s->last_us = cv->last;
    s->client = cv->c; s->server = cv->s;
    s->client_port = cv->cport; s->server_port = cv->sport;
    s->proto = cv->proto;
    s->c2s_packets = cv->c2s_packets; s->c2s_bytes = cv->c2s_bytes;
    s->s2c_packets = cv->s2c_packets; s->s2c_bytes = cv->s2c_bytes;
    s->arena = g->arena;
    g->clock = cv->t;
    g->sum.sessions++;
    g->sum.packets += cv->c2s_packets + cv->s2c_packets;
    if (g->o->on_session) g->o->on_session(g->o->session_ud, s);
    ni_arena_reset(g->arena);
}

static void tls_session(gen *g, ni_conv *cv, const char *sni, uint32_t seed)
{
    ni_conv_tcp_open(g->pg, cv);
    ni_buf_clear(&g->pay);
    ni_gen_client_hello(&g->pay, sni, "h2", seed);
    ni_conv_tcp_data(g->pg, cv, 0, (const uint8_t *)g->pay.p, g->pay.len);
    ni_buf_clear(&g->pay);
    ni_gen_server_hello(&g->pay, seed);
    ni_conv_tcp_data(g->pg, cv, 1, (const uint8_t *)g->pay.p, g->pay.len);
    ni_conv_tcp_close(g->pg, cv);
}

static void set_device(ni_session *s, const row *d)
{
    s->ua_maker = d->col[2]; s->ua_model = d->col[3]; s->ua_form_factor = d->col[4];
    s->ua_os = d->col[5]; s->ua_os_version = d->col[6];
    s->ua_browser = d->col[7]; s->ua_browser_version = d->col[8];
    s->windows_version = d->col[9]; s->ua_kind = ni_ua_kind_parse(d->col[10]);
}

static void http_session(gen *g, ni_conv *cv, ni_session *s, const char *host, const char *ua)
{
    ni_conv_tcp_open(g->pg, cv);
    ni_buf_clear(&g->pay);
    ni_gen_http_request(&g->pay, "GET", host, "/", ua, NULL);
    ni_conv_tcp_data(g->pg, cv, 0, (const uint8_t *)g->pay.p, g->pay.len);
    ni_buf_clear(&g->pay);
    ni_buf_adds(&g->pay, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2000\r\n\r\n");
    ni_gen_random(&g->pay, 2000, (uint32_t)next(&g->rng));
    ni_conv_tcp_data(g->pg, cv, 1, (const uint8_t *)g->pay.p, g->pay.len);
    ni_conv_tcp_close(g->pg, cv);
    ni_http_req *r = ni_arena_alloc(g->arena, sizeof *r);
    if (r) {
        r->method = "GET"; r->host = host; r->path = "/"; r->user_agent = ua;
        s->http = s->http_tail = r; s->http_count = 1;
    }
}

/* A DNS lookup of name from host; a lookup of a VPN provider's name is
 * expected to count as a visit of its site (vpn_provider set). */
static void dns_exchange(gen *g, const ni_addr *host, const char *name, const ni_addr *answer, int64_t t,
                         const char *vpn_provider)
{
    ni_conv cv;
    start(g, &cv, host, &g->sc->resolver, 53, 17, t);
    int64_t t0 = cv.t;
    uint16_t id = (uint16_t)next(&g->rng);
    ni_buf_clear(&g->pay);
    ni_gen_dns_query(&g->pay, id, name);
    ni_conv_udp(g->pg, &cv, 0, (const uint8_t *)g->pay.p, g->pay.len);
    ni_buf_clear(&g->pay);
    ni_gen_dns_response(&g->pay, id, name, answer);
    ni_conv_udp(g->pg, &cv, 1, (const uint8_t *)g->pay.p, g->pay.len);
    ni_session s;
    memset(&s, 0, sizeof s);
    s.direction = NI_DIRECTION_INTERNAL;
    s.dns_query = name;
    if (vpn_provider) { s.vpn_provider = vpn_provider; s.vpn_evidence = NI_EVIDENCE_SITE; }
    char buf[NI_ADDR_STRLEN];
    ni_strlist *l = ni_arena_alloc(g->arena, sizeof *l);
    if (l) { l->s = ni_arena_strdup(g->arena, ni_addr_format(answer, buf)); s.dns_answers = l; }
    finish(g, &cv, &s, t0);
}

/* One outbound session of host h at time t. */
static void outbound(gen *g, int h, int64_t t)
{
    const ni_scenario *sc = g->sc;
    ni_addr c = host_addr(g, h);
    ni_session s;
    memset(&s, 0, sizeof s);
    s.direction = NI_DIRECTION_OUTBOUND;
    ni_conv cv;
    uint32_t seed = (uint32_t)next(&g->rng);
    /* VPN users: one host in eight, one session in ten */
    if (sc->vpn.n && h % 8 == 0 && unif(&g->rng) < 0.1) {
        const row *v = &sc->vpn.r[pick_row(&g->rng, &sc->vpn)];
        ni_addr srv;
        if (ni_addr_parse(v->col[5], &srv)) return;
        const char *proto = v->col[2], *name = v->col[4];
        s.vpn_provider = v->col[1];
        s.vpn_evidence = ni_evidence_parse(v->col[3]);
        s.service = v->col[1]; s.category = "vpn";
        if (!strcmp(proto, "api")) {
            start(g, &cv, &c, &srv, 443, 6, t);
            int64_t t0 = cv.t;
            tls_session(g, &cv, name, seed);
            s.sni = name; s.service_evidence = NI_EVIDENCE_SNI;
            finish(g, &cv, &s, t0);
            return;
        }
        dns_exchange(g, &c, name, &srv, t, v->col[1]);
        bool wg = !strcmp(proto, "wireguard");
        start(g, &cv, &c, &srv, wg ? 51820 : 1194, 17, g->clock + 2000);
        int64_t t0 = cv.t;
        ni_buf_clear(&g->pay);
        if (wg) {
            uint32_t idx = (uint32_t)next(&g->rng);
            ni_gen_wireguard(&g->pay, 1, idx, 0, seed);
            ni_conv_udp(g->pg, &cv, 0, (const uint8_t *)g->pay.p, g->pay.len);
            ni_buf_clear(&g->pay);
            ni_gen_wireguard(&g->pay, 2, idx ^ 0x55aa, idx, seed + 1);
            ni_conv_udp(g->pg, &cv, 1, (const uint8_t *)g->pay.p, g->pay.len);
            for (int i = 0; i < 6; i++) {
                ni_buf_clear(&g->pay);
                ni_gen_wireguard(&g->pay, 4, 0, i & 1 ? idx : idx ^ 0x55aa, seed + 2 + (uint32_t)i);
                ni_conv_udp(g->pg, &cv, i & 1, (const uint8_t *)g->pay.p, g->pay.len);
            }
            s.vpn_protocol = NI_TUN_WIREGUARD;
        } else {
            uint64_t cs = next(&g->rng) | 1, ss = next(&g->rng) | 1;
            ni_gen_openvpn_reset(&g->pay, 0, cs, 0, seed);
            ni_conv_udp(g->pg, &cv, 0, (const uint8_t *)g->pay.p, g->pay.len);
            ni_buf_clear(&g->pay);
            ni_gen_openvpn_reset(&g->pay, 1, ss, cs, seed + 1);
            ni_conv_udp(g->pg, &cv, 1, (const uint8_t *)g->pay.p, g->pay.len);
            for (int i = 0; i < 6; i++) {
                ni_buf_clear(&g->pay);
                ni_buf_addc(&g->pay, (char)(9 << 3));  /* P_DATA_V2 */
                ni_gen_random(&g->pay, 120 + (size_t)i * 30, seed + 5 + (uint32_t)i);
                ni_conv_udp(g->pg, &cv, i & 1, (const uint8_t *)g->pay.p, g->pay.len);
            }
            s.vpn_protocol = NI_TUN_OPENVPN;
        }
        s.dns_name = name; s.service_evidence = NI_EVIDENCE_DNS_NAME;
        finish(g, &cv, &s, t0);
        return;
    }
    const row *sv = &sc->services.r[pick_row(&g->rng, &sc->services)];
    ni_addr srv;
    if (ni_addr_parse(sv->col[5], &srv)) return;
    const char *ev = sv->col[3], *name = sv->col[4];
    s.service = sv->col[1]; s.category = sv->col[2]; s.service_evidence = ni_evidence_parse(ev);
    if (!strcmp(ev, "http_host")) {
        /* plain HTTP carries the device's User-Agent */
        int dv = g->host_dev[h][next(&g->rng) % 2];
        if (dv < 0) dv = g->host_dev[h][0];
        if (g->dev_from[dv] > g->today) dv = g->host_dev[h][2];   /* not out yet: the older device */
        const row *d = &sc->devices.r[dv];
        start(g, &cv, &c, &srv, 80, 6, t);
        int64_t t0 = cv.t;
        http_session(g, &cv, &s, name, d->col[1]);
        set_device(&s, d);
        finish(g, &cv, &s, t0);
    } else if (!strcmp(ev, "dns_name")) {
        dns_exchange(g, &c, name, &srv, t, NULL);
        start(g, &cv, &c, &srv, 443, 6, g->clock + 2000);
        int64_t t0 = cv.t;
        tls_session(g, &cv, NULL, seed);
        s.dns_name = name;
        finish(g, &cv, &s, t0);
    } else {
        start(g, &cv, &c, &srv, 443, 6, t);
        int64_t t0 = cv.t;
        tls_session(g, &cv, name, seed);
        s.sni = name;
        finish(g, &cv, &s, t0);
    }
}

static void inbound(gen *g, int64_t t, const row *v, uint64_t r)
{
    ni_addr c;
    if (!g->o->country_addr || g->o->country_addr(g->o->country_ud, v->col[1], r % 64, &c)) return;
    ni_session s;
    memset(&s, 0, sizeof s);
    s.direction = NI_DIRECTION_INBOUND;
    s.client_country = v->col[1];
    s.client_continent = v->col[2];
    ni_conv cv;
    start(g, &cv, &c, &g->sc->site_server, 0, 6, t);
    int64_t t0 = cv.t;
    if (next(&g->rng) % 10 < 3) {
        /* a visitor's browser over plain HTTP: its UA must never count as a target device */
        const row *d = &g->sc->devices.r[next(&g->rng) % (uint64_t)g->sc->devices.n];
        cv.sport = 80;
        http_session(g, &cv, &s, v->col[3], d->col[1]);
    } else {
        cv.sport = 443;
        tls_session(g, &cv, v->col[3], (uint32_t)r);
        s.sni = v->col[3];
    }
    finish(g, &cv, &s, t0);
}

typedef struct ev { int64_t t; int kind; int host; int row; uint64_t r; } ev;  /* kind 0 out, 1 in */
static int cmp_ev(const void *a, const void *b)
{
    const ev *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* UTC instant of a local civil time in the zone (two fixed-point steps). */
static int64_t local_to_utc(const ni_tz *tz, int64_t local_us)
{
    int64_t u = local_us - (int64_t)ni_tz_offset(tz, local_us) * 1000000;
    return local_us - (int64_t)ni_tz_offset(tz, u) * 1000000;
}

ni_err ni_synth_run(const ni_scenario *sc, const ni_synth_opts *o, ni_synth_summary *sum, ni_error *err)
{
    gen g;
    memset(&g, 0, sizeof g);
    g.sc = sc; g.o = o;
    g.rng = o->seed ^ 0x6a09e667f3bcc908ull;
    double scale = o->scale < 0.01 ? 0.01 : o->scale;
    g.tz = ni_tz_load(sc->timezone, err);
    if (!g.tz) return err ? err->code : NI_ERR_ARG;
    g.arena = ni_arena_new(1 << 20);
    ni_buf_init(&g.pay, 1 << 20);
    g.pg = ni_pktgen_open(o->out_path, err);
    if (!g.pg || !g.arena) { ni_tz_free(g.tz); ni_arena_free(g.arena); return err ? err->code : NI_ERR_IO; }
    /* devices behind each host: one, sometimes two (NAT) */
    double dw[SC_ROWS_MAX];
    for (int i = 0; i < sc->devices.n; i++) dw[i] = sc->devices.r[i].w;
    double fw[SC_ROWS_MAX], ftotal = 0;      /* fallback devices: rows in use from the start */
    for (int i = 0; i < sc->devices.n; i++) {
        const char *from = sc->devices.r[i].col[11];
        g.dev_from[i] = 0;
        if (from && ni_time_parse(from, &g.dev_from[i])) {
            ni_error_set(err, NI_ERR_DATA, "scenario: device row %d: bad 'from' date '%s'", i + 1, from);
            ni_pktgen_close(g.pg, NULL); ni_tz_free(g.tz); ni_arena_free(g.arena); ni_buf_release(&g.pay);
            return NI_ERR_DATA;
        }
        fw[i] = g.dev_from[i] ? 0 : dw[i];
        ftotal += fw[i];
    }
    if (ftotal <= 0) {
        ni_error_set(err, NI_ERR_DATA, "scenario: every device has a 'from' date: none to fall back on");
        ni_pktgen_close(g.pg, NULL); ni_tz_free(g.tz); ni_arena_free(g.arena); ni_buf_release(&g.pay);
        return NI_ERR_DATA;
    }
    for (int h = 0; h < sc->hosts; h++) {
        g.host_dev[h][0] = pick(&g.rng, dw, sc->devices.n, sc->devices.total);
        g.host_dev[h][1] = unif(&g.rng) < 0.25 ? pick(&g.rng, dw, sc->devices.n, sc->devices.total) : -1;
        g.host_dev[h][2] = pick(&g.rng, fw, sc->devices.n, ftotal);
    }
    int64_t start_us;
    ni_time_parse(sc->start, &start_us);
    int y; unsigned m, d;
    ni_civil_from_days(start_us / 86400000000LL, &y, &m, &d);
    int64_t day0 = ni_days_from_civil(y, m, 1);
    int ey = y + (int)((m - 1 + (unsigned)sc->months) / 12);
    unsigned em = (m - 1 + (unsigned)sc->months) % 12 + 1;
    int64_t day_end = ni_days_from_civil(ey, em, 1);
    double hw_total = 0, wd_mean = 0;
    for (int h = 0; h < 24; h++) hw_total += sc->hours[h];
    for (int w = 0; w < 7; w++) wd_mean += sc->weekdays[w] / 7;
    double vw[SC_ROWS_MAX];
    for (int i = 0; i < sc->visitors.n; i++) vw[i] = sc->visitors.r[i].w;

    size_t evcap = 4096;
    ev *evs = malloc(evcap * sizeof *evs);
    ni_err rc = NI_OK;
    for (int64_t day = day0; day < day_end && evs; day++) {
        size_t n = 0;
        g.today = local_to_utc(g.tz, day * 86400 * 1000000);
        int wd = (int)(((day % 7) + 10) % 7);
        int cy; unsigned cm, cd;
        ni_civil_from_days(day, &cy, &cm, &cd);
        unsigned mdays = (unsigned)(ni_days_from_civil(cm == 12 ? cy + 1 : cy, cm == 12 ? 1 : cm + 1, 1) -
                                    ni_days_from_civil(cy, cm, 1));
        for (int h = 0; h < sc->hosts; h++) {
            unsigned k = poisson(&g.rng, sc->per_host_day * scale * sc->weekdays[wd] / wd_mean);
            for (unsigned i = 0; i < k; i++) {
                int hour = pick(&g.rng, sc->hours, 24, hw_total);
                int64_t local = (day * 86400 + hour * 3600 + (int64_t)(unif(&g.rng) * 3600)) * 1000000;
                if (n == evcap) { ev *ne = realloc(evs, (evcap *= 2) * sizeof *evs); if (!ne) break; evs = ne; }
                evs[n++] = (ev){ local_to_utc(g.tz, local), 0, h, 0, 0 };
            }
        }
        /* visitors: a month's sessions spread over its days */
        char ym[16];
        snprintf(ym, sizeof ym, "%04d-%02u", cy % 10000, cm);
        for (int i = 0; i < sc->visitors.n; i++) {
            const row *v = &sc->visitors.r[i];
            double lam = sc->visitors_per_month * scale * vw[i] / sc->visitors.total / mdays;
            for (int c = 0; c < sc->change.n; c++)
                if (!strcmp(sc->change.r[c].col[0], v->col[2]) && strcmp(ym, sc->change.r[c].col[1]) >= 0)
                    lam *= strtod(sc->change.r[c].col[2], NULL);
            unsigned k = poisson(&g.rng, lam);
            for (unsigned j = 0; j < k; j++) {
                if (n == evcap) { ev *ne = realloc(evs, (evcap *= 2) * sizeof *evs); if (!ne) break; evs = ne; }
                /* local days too: each day's batch is then disjoint in time */
                int64_t local = (day * 86400 + (int64_t)(unif(&g.rng) * 86400)) * 1000000;
                evs[n++] = (ev){ local_to_utc(g.tz, local), 1, 0, i, next(&g.rng) };
            }
        }
        qsort(evs, n, sizeof *evs, cmp_ev);
        for (size_t i = 0; i < n; i++) {
            if (evs[i].kind == 0) outbound(&g, evs[i].host, evs[i].t);
            else inbound(&g, evs[i].t, &sc->visitors.r[evs[i].row], evs[i].r);
        }
        if (o->progress) o->progress(o->progress_ud, ni_pktgen_bytes(g.pg), (double)(day - day0 + 1) / (double)(day_end - day0));
    }
    if (!evs) rc = ni_error_set(err, NI_ERR_NOMEM, "synth: out of memory");
    free(evs);
    g.sum.bytes = ni_pktgen_bytes(g.pg);
    ni_err e = ni_pktgen_close(g.pg, err);
    if (!rc) rc = e;
    ni_buf_release(&g.pay);
    ni_arena_free(g.arena);
    ni_tz_free(g.tz);
    if (sum) *sum = g.sum;
    return rc;
}

/* ---- country addresses (see ni_synth.h) ------------------------------------- */
struct ni_synth_geo {
    struct ni_enrich *en;
    ni_map *nets;                   /* "CC" → ni_prefix_set sample */
};

ni_synth_geo *ni_synth_geo_new(struct ni_enrich *en)
{
    ni_synth_geo *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->en = en;
    if (!(g->nets = ni_map_new(1000))) { free(g); return NULL; }
    return g;
}

static void free_nets(void *v) { ni_prefix_free(v); }

void ni_synth_geo_free(ni_synth_geo *g)
{
    if (!g) return;
    ni_map_free(g->nets, free_nets);
    free(g);
}

static ni_err add_net(void *ud, const ni_addr *addr, unsigned len)
{
    if (addr->family != 4 || len > 28) return NI_OK;
    return ni_prefix_add_upto(ud, addr, len, 4096);   /* a full sample is enough; out of memory is not */
}

typedef struct pick_ctx { uint64_t want, i; ni_addr found; unsigned len; } pick_ctx;
static void pick_fn(void *ud, const ni_addr *addr, unsigned len, void *value)
{
    (void)value;
    pick_ctx *p = ud;
    if (p->i++ == p->want) { p->found = *addr; p->len = len; }
}

ni_err ni_synth_geo_addr(void *ud, const char *cc, uint64_t r, ni_addr *out)
{
    ni_synth_geo *g = ud;
    ni_prefix_set *ps = ni_map_get(g->nets, cc);
    if (!ps) {
        ps = ni_prefix_new();
        if (!ps) return NI_ERR_NOMEM;
        /* none (or no GeoIP database) leaves the sample empty */
        if (ni_enrich_networks(g->en, "country", cc, add_net, ps, NULL) == NI_ERR_NOMEM) {
            ni_prefix_free(ps);
            return NI_ERR_NOMEM;
        }
        if (ni_map_put(g->nets, cc, ps)) { ni_prefix_free(ps); return NI_ERR_NOMEM; }
    }
    size_t n = ni_prefix_count(ps);
    if (!n) return NI_ERR_NOTFOUND;
    pick_ctx p = { r % n, 0, {0}, 0 };
    ni_prefix_walk(ps, pick_fn, &p);
    /* a host inside the network: network + 1 + (r / n) within the block */
    uint32_t v = (uint32_t)p.found.b[0] << 24 | (uint32_t)p.found.b[1] << 16 | (uint32_t)p.found.b[2] << 8 | p.found.b[3];
    uint32_t size = p.len >= 32 ? 1 : (uint32_t)1 << (32 - p.len);
    v += size > 2 ? 1 + (uint32_t)((r / n) % (size - 2)) : 0;
    *out = p.found;
    out->b[0] = (uint8_t)(v >> 24); out->b[1] = (uint8_t)(v >> 16); out->b[2] = (uint8_t)(v >> 8); out->b[3] = (uint8_t)v;
    return NI_OK;
}
