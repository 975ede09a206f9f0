/* ni_netflow.c — NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011,
 * information elements of RFC 7012 / the IANA registry, biflows of RFC 5103)
 * export datagrams → sessions.  See ni_netflow.h for the contract.
 *
 * Layout: domains (exporter, version, observation domain) hold templates,
 * sequence state and options data; each datagram is parsed set by set with
 * a cursor; each data record is decoded field by field into a raw record
 * (nf_raw), turned into a flow record (nf_rec) with absolute times, and
 * either emitted (biflow) or paired with its reverse in the pending table
 * (hash + arrival-ordered list, bounded). */
#include "ingest/ni_netflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"

#define PEN_REVERSE 29305u      /* RFC 5103 §6.1: reverse information elements */
#define VARLEN 65535u           /* RFC 7011 §7: variable-length field */

/* ---- state ---------------------------------------------------------------- */
typedef struct nf_field { uint16_t id, len; uint32_t pen; } nf_field;

typedef struct nf_tmpl {
    uint16_t id, nfields, nscope;
    bool options;
    size_t min_len;             /* shortest possible record (varlen fields count 1) */
    int64_t refreshed_us;
    nf_field *f;
} nf_tmpl;

typedef struct nf_domain {
    ni_addr exporter;
    uint8_t version;
    uint32_t odid;              /* observation domain / source id / v5 engine */
    nf_tmpl *t;
    size_t nt, at, hit;
    bool seq_known;
    uint32_t seq_next;
    uint32_t sampling;          /* from options data, 0 = none */
    bool sys_init_known;
    int64_t sys_init_ms;        /* IPFIX systemInitTimeMilliseconds */
    uint64_t datagrams, records, lost;
} nf_domain;

typedef struct nf_rec {
    ni_addr src, dst;
    uint16_t sport, dport, vlan;
    uint8_t proto, flags, rflags, version, end_reason;
    bool biflow;
    uint8_t biflow_dir;         /* RFC 5103 biflowDirection: 1 source initiated, 2 destination */
    bool rflags_known;          /* the biflow's reverse TCP flags were exported */
    uint32_t sampling;
    uint64_t pkts, bytes, rpkts, rbytes;
    int64_t first_us, last_us;
} nf_rec;

typedef struct pend {
    nf_rec r;
    ni_addr exporter;
    int64_t arrived_us;
    uint64_t hash;
    struct pend *hnext, *prev, *next;
} pend;

struct ni_netflow {
    ni_netflow_config cfg;
    ni_netflow_stats st;
    ni_netflow_sink sink;
    void *sink_ud;
    ni_netflow_warn warn;
    void *warn_ud;
    nf_domain *dom;
    size_t ndom, adom, dom_hit;
    size_t tmpl_bytes, tmpl_count;
    pend **buckets;
    size_t nbuckets, npend;
    pend *oldest, *newest, *spare;
    uint64_t k0, k1;
    ni_arena *arena;
};

/* one datagram being parsed */
typedef struct nf_ctx {
    ni_netflow *nf;
    nf_domain *d;
    const ni_addr *exporter;
    uint8_t version;
    int64_t export_us;
    uint32_t uptime_ms;         /* v5, v9 header sysUptime */
    uint32_t hdr_sampling;      /* v5 header */
    uint32_t records;           /* data records seen (IPFIX sequence) */
    bool uncounted;             /* a set whose records could not be counted */
    int64_t now_us;
    ni_err err;                 /* sink failure */
    ni_error *e;
} nf_ctx;

/* one record's fields as read */
typedef struct nf_raw {
    ni_addr src, dst;
    uint16_t sport, dport, vlan;
    uint8_t proto, flags, rflags, end_reason, biflow_dir;
    uint64_t b[3], p[3], rb, rp;        /* [0] delta 1/2, [1] total 85/86, [2] post 23/24 */
    bool hb[3], hp[3], hrb, hrp, hrflags;
    bool abs_f, abs_l, up_f, up_l, dl_f, dl_l;
    int64_t abs_first, abs_last;        /* µs */
    uint32_t upf, upl;                  /* ms of sysUptime */
    uint32_t dlf, dll;                  /* µs before export */
    uint64_t samp_interval, samp_pi, samp_ps;
    bool h_samp, h_pi, h_ps;
    bool h_init;
    int64_t init_ms;
} nf_raw;

static void warnf(ni_netflow *nf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(ni_netflow *nf, const char *fmt, ...)
{
    if (!nf->warn) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nf->warn(nf->warn_ud, msg);
}

const char *ni_netflow_source_name(unsigned version)
{
    switch (version) {
    case 5: return "netflow5";
    case 9: return "netflow9";
    case 10: return "ipfix";
    default: return NULL;
    }
}

/* ---- lifetime ------------------------------------------------------------- */
ni_netflow *ni_netflow_new(const ni_netflow_config *cfg, ni_error *err)
{
    ni_netflow *nf = calloc(1, sizeof *nf);
    if (!nf) { ni_error_set(err, NI_ERR_NOMEM, "flow decoder: out of memory"); return NULL; }
    if (cfg) nf->cfg = *cfg;
    if (nf->cfg.pair_timeout_us <= 0) nf->cfg.pair_timeout_us = NI_NETFLOW_PAIR_US;
    if (nf->cfg.template_ttl_us <= 0) nf->cfg.template_ttl_us = NI_NETFLOW_TEMPLATE_TTL_US;
    if (!nf->cfg.pending_max || nf->cfg.pending_max > NI_NETFLOW_PENDING_MAX)
        nf->cfg.pending_max = NI_NETFLOW_PENDING_MAX;
    nf->nbuckets = 1;
    while (nf->nbuckets < nf->cfg.pending_max) nf->nbuckets <<= 1;
    nf->buckets = calloc(nf->nbuckets, sizeof *nf->buckets);
    nf->arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    if (!nf->buckets || !nf->arena) {
        ni_netflow_free(nf);
        ni_error_set(err, NI_ERR_NOMEM, "flow decoder: out of memory");
        return NULL;
    }
    /* a per-decoder hash key: hostile exporters cannot aim records at one chain */
    uint64_t k[2] = { 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull };
    if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) k[0] ^= (uint64_t)(uintptr_t)nf;
    nf->k0 = k[0];
    nf->k1 = k[1];
    return nf;
}

static void tmpl_release(ni_netflow *nf, nf_tmpl *t)
{
    nf->tmpl_bytes -= sizeof *t + (size_t)t->nfields * sizeof *t->f;
    nf->tmpl_count--;
    free(t->f);
    t->f = NULL;
}

void ni_netflow_free(ni_netflow *nf)
{
    if (!nf) return;
    for (size_t i = 0; i < nf->ndom; i++) {
        for (size_t j = 0; j < nf->dom[i].nt; j++) free(nf->dom[i].t[j].f);
        free(nf->dom[i].t);
    }
    free(nf->dom);
    for (pend *p = nf->oldest, *n; p; p = n) { n = p->next; free(p); }
    for (pend *p = nf->spare, *n; p; p = n) { n = p->next; free(p); }
    free(nf->buckets);
    ni_arena_free(nf->arena);
    free(nf);
}

void ni_netflow_set_sink(ni_netflow *nf, ni_netflow_sink fn, void *ud) { nf->sink = fn; nf->sink_ud = ud; }
void ni_netflow_set_warn(ni_netflow *nf, ni_netflow_warn fn, void *ud) { nf->warn = fn; nf->warn_ud = ud; }
const ni_netflow_stats *ni_netflow_stats_get(const ni_netflow *nf) { return &nf->st; }

size_t ni_netflow_exporters(const ni_netflow *nf, ni_netflow_exporter *out, size_t max)
{
    for (size_t i = 0; i < nf->ndom && i < max; i++) {
        const nf_domain *d = &nf->dom[i];
        ni_netflow_exporter *e = &out[i];
        e->address = d->exporter;
        e->version = d->version;
        e->domain = d->odid;
        e->datagrams = d->datagrams;
        e->records = d->records;
        e->lost = d->lost;
        e->templates = d->nt;
        e->sampling = d->sampling;
    }
    return nf->ndom;
}
size_t ni_netflow_template_count(const ni_netflow *nf) { return nf->tmpl_count; }

/* ---- domains and templates ------------------------------------------------ */
static bool addr_eq(const ni_addr *a, const ni_addr *b)
{
    return a->family == b->family && !memcmp(a->b, b->b, 16);
}

static nf_domain *domain_get(ni_netflow *nf, const ni_addr *ex, uint8_t version, uint32_t odid)
{
    if (nf->dom_hit < nf->ndom) {
        nf_domain *d = &nf->dom[nf->dom_hit];
        if (d->version == version && d->odid == odid && addr_eq(&d->exporter, ex)) return d;
    }
    for (size_t i = 0; i < nf->ndom; i++) {
        nf_domain *d = &nf->dom[i];
        if (d->version == version && d->odid == odid && addr_eq(&d->exporter, ex)) {
            nf->dom_hit = i;
            return d;
        }
    }
    if (nf->ndom >= NI_NETFLOW_DOMAINS_MAX) { nf->st.domain_limit++; return NULL; }
    if (nf->ndom == nf->adom) {
        size_t na = nf->adom ? nf->adom * 2 : 8;
        nf_domain *nd = realloc(nf->dom, na * sizeof *nd);
        if (!nd) { nf->st.domain_limit++; return NULL; }
        nf->dom = nd;
        nf->adom = na;
    }
    nf_domain *d = &nf->dom[nf->ndom];
    memset(d, 0, sizeof *d);
    d->exporter = *ex;
    d->version = version;
    d->odid = odid;
    nf->dom_hit = nf->ndom++;
    return d;
}

static void tmpl_remove(ni_netflow *nf, nf_domain *d, size_t i)
{
    tmpl_release(nf, &d->t[i]);
    d->t[i] = d->t[--d->nt];
    d->hit = 0;
}

/* The live template `id` of d, or NULL (an expired one is dropped). */
static nf_tmpl *tmpl_find(ni_netflow *nf, nf_domain *d, uint16_t id, int64_t now)
{
    size_t i = d->hit;
    if (!(i < d->nt && d->t[i].id == id))
        for (i = 0; i < d->nt && d->t[i].id != id; i++) {}
    if (i >= d->nt) return NULL;
    if (now - d->t[i].refreshed_us > nf->cfg.template_ttl_us) {
        nf->st.templates_expired++;
        tmpl_remove(nf, d, i);
        return NULL;
    }
    d->hit = i;
    return &d->t[i];
}

static size_t exporter_templates(const ni_netflow *nf, const ni_addr *ex)
{
    size_t n = 0;
    for (size_t i = 0; i < nf->ndom; i++)
        if (addr_eq(&nf->dom[i].exporter, ex)) n += nf->dom[i].nt;
    return n;
}

/* Adds or refreshes a template whose fields were read into f[0..n). */
static void tmpl_define(nf_ctx *x, size_t off, uint16_t id, const nf_field *f, size_t n, size_t total,
                        uint16_t nscope, bool options)
{
    ni_netflow *nf = x->nf;
    nf_domain *d = x->d;
    if (total > NI_NETFLOW_TEMPLATE_FIELDS_MAX) {
        nf->st.templates_bad++;
        warnf(nf, "offset %zu: template %u has %zu fields (limit %u)", off, id, total,
              NI_NETFLOW_TEMPLATE_FIELDS_MAX);
        return;
    }
    size_t min_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].len == 0) {
            nf->st.templates_bad++;
            warnf(nf, "offset %zu: template %u field %zu (element %u) has length 0", off, id, i + 1, f[i].id);
            return;
        }
        min_len += (f[i].len == VARLEN && x->version == 10) ? 1 : f[i].len;
    }
    if (min_len > 65535 - 16) {
        nf->st.templates_bad++;
        warnf(nf, "offset %zu: template %u describes records of %zu bytes, longer than a datagram", off, id, min_len);
        return;
    }
    for (size_t i = 0; i < d->nt; i++) {
        nf_tmpl *t = &d->t[i];
        if (t->id != id) continue;
        if (t->nfields == n && t->nscope == nscope && t->options == options &&
            !memcmp(t->f, f, n * sizeof *f)) {
            t->refreshed_us = x->now_us;         /* refresh */
            nf->st.templates++;
            return;
        }
        tmpl_remove(nf, d, i);                  /* redefined: the new one replaces it */
        break;
    }
    size_t bytes = sizeof(nf_tmpl) + n * sizeof *f;
    if (exporter_templates(nf, &d->exporter) >= NI_NETFLOW_TEMPLATES_PER_EXPORTER ||
        nf->tmpl_bytes + bytes > NI_NETFLOW_TEMPLATE_BYTES_MAX) {
        nf->st.template_limit++;
        warnf(nf, "offset %zu: template %u refused: the exporter's template limit (%u) is reached",
              off, id, NI_NETFLOW_TEMPLATES_PER_EXPORTER);
        return;
    }
    if (d->nt == d->at) {
        size_t na = d->at ? d->at * 2 : 4;
        nf_tmpl *nt = realloc(d->t, na * sizeof *nt);
        if (!nt) { nf->st.template_limit++; return; }
        d->t = nt;
        d->at = na;
    }
    nf_field *copy = malloc(n * sizeof *f);
    if (!copy) { nf->st.template_limit++; return; }
    memcpy(copy, f, n * sizeof *f);
    nf_tmpl *t = &d->t[d->nt++];
    t->id = id;
    t->nfields = (uint16_t)n;
    t->nscope = nscope;
    t->options = options;
    t->min_len = min_len;
    t->refreshed_us = x->now_us;
    t->f = copy;
    nf->tmpl_bytes += bytes;
    nf->tmpl_count++;
    nf->st.templates++;
}

/* IPFIX withdrawal (RFC 7011 §8.1): one template, or all of a set's kind when
 * the id is the set id (2 or 3). */
static void tmpl_withdraw(nf_ctx *x, uint16_t id, bool options)
{
    nf_domain *d = x->d;
    for (size_t i = d->nt; i-- > 0;) {
        bool all = id == 2 || id == 3;
        if (all ? d->t[i].options == options : d->t[i].id == id) {
            tmpl_remove(x->nf, d, i);
            x->nf->st.template_withdrawals++;
        }
    }
}

/* Reads the field specifiers of one template record. */
static bool read_fields(nf_ctx *x, ni_cursor *c, size_t count, nf_field *f, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        nf_field v = { 0, 0, 0 };
        uint16_t id = ni_cur_u16(c);
        v.len = ni_cur_u16(c);
        if (x->version == 10 && (id & 0x8000)) {
            v.pen = ni_cur_u32(c);
            id &= 0x7fff;
        }
        v.id = id;
        if (c->bad) return false;
        if (*n < NI_NETFLOW_TEMPLATE_FIELDS_MAX) f[(*n)++] = v;
    }
    return true;
}

/* A template set (v9 id 0, IPFIX 2) or options template set (v9 1, IPFIX 3). */
static void template_set(nf_ctx *x, ni_cursor *s, size_t base, bool options)
{
    nf_field f[NI_NETFLOW_TEMPLATE_FIELDS_MAX];
    while (ni_cur_left(s) >= 4) {
        size_t off = base + s->off;
        uint16_t id = ni_cur_u16(s);
        if (id < 256 && !(x->version == 10 && (id == 2 || id == 3))) break;   /* padding */
        size_t n = 0, count = 0, nscope = 0;
        if (x->version == 9 && options) {
            uint16_t scope_len = ni_cur_u16(s), opt_len = ni_cur_u16(s);
            if (s->bad || scope_len % 4 || opt_len % 4 || !scope_len) {
                x->nf->st.templates_bad++;
                warnf(x->nf, "offset %zu: NetFlow v9 options template %u: scope length %u, option length %u",
                      off, id, scope_len, opt_len);
                return;
            }
            nscope = scope_len / 4u;
            count = nscope + opt_len / 4u;
        } else {
            count = ni_cur_u16(s);
            if (x->version == 10 && count == 0) {       /* withdrawal */
                tmpl_withdraw(x, id, options);
                continue;
            }
            if (x->version == 10 && id < 256) break;
            if (options) {
                nscope = ni_cur_u16(s);
                if (!s->bad && (nscope == 0 || nscope > count)) {
                    x->nf->st.templates_bad++;
                    warnf(x->nf, "offset %zu: options template %u: scope count %zu of %zu fields",
                          off, id, nscope, count);
                    return;
                }
            }
            if (count == 0) {
                x->nf->st.templates_bad++;
                warnf(x->nf, "offset %zu: template %u has no fields", off, id);
                return;
            }
        }
        if (s->bad || !read_fields(x, s, count, f, &n)) {
            x->nf->st.templates_bad++;
            warnf(x->nf, "offset %zu: template %u: %zu fields do not fit in the set", off, id, count);
            return;
        }
        tmpl_define(x, off, id, f, n, count, (uint16_t)nscope, options);
    }
}

/* ---- records ---------------------------------------------------------------- */
static uint64_t read_uint(ni_cursor *v, size_t len)
{
    uint64_t u = 0;
    if (len > 8) return 0;
    for (size_t i = 0; i < len; i++) u = (u << 8) | ni_cur_u8(v);
    return u;
}

static void read_addr(ni_cursor *v, size_t len, ni_addr *a)
{
    const uint8_t *p = ni_cur_bytes(v, len);
    if (!p || (len != 4 && len != 16)) return;
    memset(a, 0, sizeof *a);
    a->family = len == 4 ? 4 : 6;
    memcpy(a->b, p, len);
}

/* NTP timestamp (RFC 5905: seconds since 1900 . fraction) → µs since 1970. */
static int64_t ntp_us(uint64_t v)
{
    int64_t sec = (int64_t)(v >> 32) - 2208988800ll;
    uint64_t frac = v & 0xffffffffu;
    return sec * 1000000 + (int64_t)((frac * 1000000u) >> 32);
}

static void apply_field(nf_raw *r, uint16_t id, bool rev, ni_cursor *v, size_t len)
{
    if (rev) {
        switch (id) {
        case 1: case 85: r->rb = read_uint(v, len); r->hrb = true; break;
        case 2: case 86: r->rp = read_uint(v, len); r->hrp = true; break;
        case 6: r->rflags = (uint8_t)read_uint(v, len); r->hrflags = true; break;
        default: break;
        }
        return;
    }
    switch (id) {
    case 1: r->b[0] = read_uint(v, len); r->hb[0] = true; break;
    case 2: r->p[0] = read_uint(v, len); r->hp[0] = true; break;
    case 85: r->b[1] = read_uint(v, len); r->hb[1] = true; break;
    case 86: r->p[1] = read_uint(v, len); r->hp[1] = true; break;
    case 23: r->b[2] = read_uint(v, len); r->hb[2] = true; break;
    case 24: r->p[2] = read_uint(v, len); r->hp[2] = true; break;
    case 4: r->proto = (uint8_t)read_uint(v, len); break;
    case 6: r->flags = (uint8_t)read_uint(v, len); break;   /* 2-byte form: low byte holds the flags */
    case 7: r->sport = (uint16_t)read_uint(v, len); break;
    case 11: r->dport = (uint16_t)read_uint(v, len); break;
    case 8: case 27: read_addr(v, len, &r->src); break;
    case 12: case 28: read_addr(v, len, &r->dst); break;
    case 58: case 243: if (!r->vlan) r->vlan = (uint16_t)(read_uint(v, len) & 0x0fff); break;
    case 136: r->end_reason = (uint8_t)read_uint(v, len); break;
    case 239: r->biflow_dir = (uint8_t)read_uint(v, len); break;
    case 22: r->upf = (uint32_t)read_uint(v, len); r->up_f = true; break;
    case 21: r->upl = (uint32_t)read_uint(v, len); r->up_l = true; break;
    case 150: r->abs_first = (int64_t)read_uint(v, len) * 1000000; r->abs_f = true; break;
    case 151: r->abs_last = (int64_t)read_uint(v, len) * 1000000; r->abs_l = true; break;
    case 152: r->abs_first = (int64_t)(read_uint(v, len) & 0x7fffffffffffull) * 1000; r->abs_f = true; break;
    case 153: r->abs_last = (int64_t)(read_uint(v, len) & 0x7fffffffffffull) * 1000; r->abs_l = true; break;
    case 154: case 156: if (len == 8) { r->abs_first = ntp_us(read_uint(v, len)); r->abs_f = true; } break;
    case 155: case 157: if (len == 8) { r->abs_last = ntp_us(read_uint(v, len)); r->abs_l = true; } break;
    case 158: r->dlf = (uint32_t)read_uint(v, len); r->dl_f = true; break;
    case 159: r->dll = (uint32_t)read_uint(v, len); r->dl_l = true; break;
    case 160: r->init_ms = (int64_t)(read_uint(v, len) & 0x7fffffffffffull); r->h_init = true; break;
    case 34: case 50: r->samp_interval = read_uint(v, len); r->h_samp = true; break;
    case 305: r->samp_pi = read_uint(v, len); r->h_pi = true; break;
    case 306: r->samp_ps = read_uint(v, len); r->h_ps = true; break;
    default: break;
    }
}

/* Reads one data record of template t.  False when the record is cut short. */
static bool decode_record(nf_ctx *x, const nf_tmpl *t, ni_cursor *c, nf_raw *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < t->nfields; i++) {
        const nf_field *f = &t->f[i];
        size_t len = f->len;
        if (len == VARLEN && x->version == 10) {        /* RFC 7011 §7 */
            len = ni_cur_u8(c);
            if (len == 255) len = ni_cur_u16(c);
        }
        ni_cursor v = ni_cur_sub(c, len);
        if (c->bad || v.bad) return false;
        if (i < t->nscope && t->options) continue;      /* scope: which process/interface */
        if (f->pen && f->pen != PEN_REVERSE) continue;  /* enterprise elements skipped */
        apply_field(r, f->id, f->pen == PEN_REVERSE, &v, len);
    }
    return true;
}

/* Sampling rate a raw record states, 0 if none. */
static uint32_t raw_sampling(const nf_raw *r, bool *stated)
{
    uint64_t n = 0;
    *stated = false;
    if (r->h_samp) { n = r->samp_interval; *stated = true; }
    else if (r->h_pi && r->h_ps) {
        *stated = true;
        n = r->samp_pi ? (r->samp_pi + r->samp_ps) / r->samp_pi : 0;
    }
    return n > 1 && n <= NI_NETFLOW_SAMPLING_MAX ? (uint32_t)n : 0;
}

static int64_t uptime_abs(const nf_ctx *x, uint32_t up_ms)
{
    if (x->version == 10) {
        if (x->d->sys_init_known) return (x->d->sys_init_ms + up_ms) * 1000;
        return x->export_us;
    }
    /* boot = export - sysUptime; a start "before boot" by more than 2^31 ms
     * means sysUptime wrapped (every 49.7 days) since the flow started */
    int64_t ago = (int64_t)x->uptime_ms - (int64_t)up_ms;
    if (ago < -2147483648ll) ago += 4294967296ll;
    return x->export_us - ago * 1000;
}

/* Raw fields → flow record with absolute times; false without addresses. */
static bool raw_to_rec(const nf_ctx *x, const nf_raw *r, nf_rec *o)
{
    if (!r->src.family || r->src.family != r->dst.family) return false;
    memset(o, 0, sizeof *o);
    o->src = r->src;
    o->dst = r->dst;
    o->proto = r->proto;
    if (r->proto == 6 || r->proto == 17 || r->proto == 132) {
        o->sport = r->sport;
        o->dport = r->dport;
    }
    o->flags = r->flags;
    o->rflags = r->rflags;
    o->vlan = r->vlan;
    o->version = x->version;
    o->end_reason = r->end_reason;
    for (int i = 0; i < 3; i++) if (r->hb[i]) { o->bytes = r->b[i]; break; }
    for (int i = 0; i < 3; i++) if (r->hp[i]) { o->pkts = r->p[i]; break; }
    if (r->hrb || r->hrp || r->hrflags) {
        o->biflow = true;
        o->biflow_dir = r->biflow_dir;
        o->rflags_known = r->hrflags;
        o->rbytes = r->rb;
        o->rpkts = r->rp;
    }
    bool stated;
    o->sampling = raw_sampling(r, &stated);
    if (!stated) o->sampling = x->d->sampling ? x->d->sampling : x->hdr_sampling;

    int64_t f = 0, l = 0;
    bool hf = true, hl = true;
    if (r->abs_f) f = r->abs_first;
    else if (r->up_f) f = uptime_abs(x, r->upf);
    else if (r->dl_f) f = x->export_us - r->dlf;
    else hf = false;
    if (r->abs_l) l = r->abs_last;
    else if (r->up_l) l = uptime_abs(x, r->upl);
    else if (r->dl_l) l = x->export_us - r->dll;
    else hl = false;
    if (!hf && !hl) f = l = x->export_us;
    else if (!hf) f = l;
    else if (!hl) l = f;
    if (l < f) { int64_t t = f; f = l; l = t; }
    o->first_us = f;
    o->last_us = l;
    return true;
}

/* ---- sessions ---------------------------------------------------------------- */
static bool well_known(uint16_t p) { return p < 1024; }

/* 1 if a single unidirectional record's source is the client. */
static int single_src_is_client(const nf_rec *a)
{
    if (a->proto == 6) {
        uint8_t sa = a->flags & 0x12;
        if (sa == 0x02) return 1;                       /* SYN without ACK: the opener */
        if (a->sport != a->dport) return a->sport > a->dport;
        return 1;
    }
    if (well_known(a->sport) && !well_known(a->dport)) return 0;
    return 1;
}

/* 1 if a (of the pair a, b) is the client's direction. */
static int pair_a_is_client(const nf_rec *a, const nf_rec *b)
{
    if (a->proto == 6) {
        bool sa = (a->flags & 0x12) == 0x02, sb = (b->flags & 0x12) == 0x02;
        if (sa != sb) return sa;                        /* only the opener's side is SYN without ACK */
        bool ya = a->flags & 0x02, yb = b->flags & 0x02;
        if (ya && yb && a->first_us != b->first_us) return a->first_us < b->first_us;
        if (ya != yb) return ya;
        if (a->sport != a->dport) return a->sport > a->dport;
        return a->first_us <= b->first_us;
    }
    const nf_rec *first = a->first_us <= b->first_us ? a : b;
    int first_client = 1;
    if (well_known(first->sport) && !well_known(first->dport)) first_client = 0;
    return (first == a) == first_client;
}

static uint64_t sat_mul(uint64_t v, uint32_t n)
{
    if (n && v > UINT64_MAX / n) return UINT64_MAX;
    return v * n;
}

static uint8_t end_of(const nf_rec *r, uint8_t flags)
{
    switch (r->end_reason) {     /* IANA flowEndReason */
    case 1: return NI_END_IDLE;
    case 2: return NI_END_ACTIVE;
    case 3: break;
    case 4: return NI_END_EOF;
    case 5: return NI_END_EVICTED;
    default: if (r->proto != 6) return NI_END_NONE; break;
    }
    if (r->proto == 6 && (flags & 0x04)) return NI_END_RST;
    if (r->proto == 6 && (flags & 0x01)) return NI_END_FIN;
    return r->end_reason == 3 ? NI_END_FIN : NI_END_NONE;
}

/* Emits the session of record a (and its reverse b, or NULL). */
static ni_err emit(ni_netflow *nf, const nf_rec *a, const nf_rec *b, ni_error *err)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = nf->arena;
    const nf_rec *c = a, *sv = NULL;
    uint64_t cp, cb, sp = 0, sb = 0;
    uint8_t cf, sf = 0;
    if (b) {
        if (!pair_a_is_client(a, b)) { c = b; sv = a; } else sv = b;
        cp = c->pkts; cb = c->bytes; cf = c->flags;
        sp = sv->pkts; sb = sv->bytes; sf = sv->flags;
        s.client = c->src; s.client_port = c->sport;
        s.server = c->dst; s.server_port = c->dport;
        nf->st.paired++;
    } else if (a->biflow) {
        /* the source is the initiator only when biflowDirection says so;
         * else the two halves are judged as a pair of records would be */
        nf_rec rev = *a;
        rev.src = a->dst; rev.sport = a->dport;
        rev.dst = a->src; rev.dport = a->sport;
        rev.pkts = a->rpkts; rev.bytes = a->rbytes; rev.flags = a->rflags;
        nf_rec judge = rev;             /* unknown reverse flags say nothing about SYN */
        if (!a->rflags_known) judge.flags = a->flags;
        bool fwd = a->biflow_dir == 1 ? true : a->biflow_dir == 2 ? false : pair_a_is_client(a, &judge);
        const nf_rec *cr = fwd ? a : &rev, *sr = fwd ? &rev : a;
        cp = cr->pkts; cb = cr->bytes; cf = cr->flags;
        sp = sr->pkts; sb = sr->bytes; sf = sr->flags;
        s.client = cr->src; s.client_port = cr->sport;
        s.server = cr->dst; s.server_port = cr->dport;
        nf->st.biflows++;
    } else if (single_src_is_client(a)) {
        cp = a->pkts; cb = a->bytes; cf = a->flags;
        s.client = a->src; s.client_port = a->sport;
        s.server = a->dst; s.server_port = a->dport;
    } else {
        cp = 0; cb = 0; cf = 0;
        sp = a->pkts; sb = a->bytes; sf = a->flags;
        s.client = a->dst; s.client_port = a->dport;
        s.server = a->src; s.server_port = a->sport;
    }
    uint32_t n = a->sampling;
    if (b && b->sampling > n) n = b->sampling;
    if (n > 1) {
        cp = sat_mul(cp, n); cb = sat_mul(cb, n);
        sp = sat_mul(sp, n); sb = sat_mul(sb, n);
        s.sampled = n;
        nf->st.sampled++;
    }
    s.c2s_packets = cp; s.c2s_bytes = cb;
    s.s2c_packets = sp; s.s2c_bytes = sb;
    s.proto = a->proto;
    if (a->proto == 6) { s.c2s_tcp_flags = cf; s.s2c_tcp_flags = sf; }
    s.first_us = a->first_us;
    s.last_us = a->last_us;
    if (b) {
        if (b->first_us < s.first_us) s.first_us = b->first_us;
        if (b->last_us > s.last_us) s.last_us = b->last_us;
    }
    uint8_t flags = cf | sf;
    uint8_t ea = end_of(a, flags), eb = b ? end_of(b, flags) : NI_END_NONE;
    s.end_reason = ea == NI_END_RST || eb == NI_END_RST ? NI_END_RST : ea ? ea : eb;
    s.vlan = a->vlan;
    s.source = ni_netflow_source_name(a->version);
    nf->st.sessions++;
    ni_err rc = nf->sink ? nf->sink(nf->sink_ud, &s, err) : NI_OK;
    ni_arena_reset(nf->arena);
    return rc;
}

/* ---- pending records (waiting for their reverse) ----------------------------------- */
static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static uint64_t endpoint_hash(const ni_addr *a, uint16_t port)
{
    uint64_t x, y;
    memcpy(&x, a->b, 8);
    memcpy(&y, a->b + 8, 8);
    return mix(mix(x, y), ((uint64_t)a->family << 16) | port);
}

/* Same for a record and its reverse: the two endpoints are combined
 * symmetrically before the keyed mix. */
static uint64_t rec_hash(const ni_netflow *nf, const ni_addr *ex, const nf_rec *r)
{
    uint64_t e1 = endpoint_hash(&r->src, r->sport), e2 = endpoint_hash(&r->dst, r->dport);
    uint64_t lo = e1 < e2 ? e1 : e2, hi = e1 < e2 ? e2 : e1;
    uint64_t h = mix(nf->k0, lo);
    h = mix(h, hi ^ nf->k1);
    h = mix(h, endpoint_hash(ex, r->proto));
    return h;
}

static bool same_dir(const nf_rec *a, const nf_rec *b)
{
    return a->sport == b->sport && a->dport == b->dport && addr_eq(&a->src, &b->src) && addr_eq(&a->dst, &b->dst);
}
static bool reverse_dir(const nf_rec *a, const nf_rec *b)
{
    return a->sport == b->dport && a->dport == b->sport && addr_eq(&a->src, &b->dst) && addr_eq(&a->dst, &b->src);
}

static void pend_unlink(ni_netflow *nf, pend *p)
{
    pend **pp = &nf->buckets[p->hash & (nf->nbuckets - 1)];
    while (*pp && *pp != p) pp = &(*pp)->hnext;
    if (*pp) *pp = p->hnext;
    if (p->prev) p->prev->next = p->next; else nf->oldest = p->next;
    if (p->next) p->next->prev = p->prev; else nf->newest = p->prev;
    nf->npend--;
    p->next = nf->spare;
    nf->spare = p;
}

static ni_err pend_emit_oldest(ni_netflow *nf, ni_error *err)
{
    pend *p = nf->oldest;
    nf_rec r = p->r;
    pend_unlink(nf, p);
    return emit(nf, &r, NULL, err);
}

ni_err ni_netflow_expire(ni_netflow *nf, int64_t now_us, ni_error *err)
{
    while (nf->oldest && now_us - nf->oldest->arrived_us > nf->cfg.pair_timeout_us) {
        ni_err rc = pend_emit_oldest(nf, err);
        if (rc) return rc;
    }
    /* templates not refreshed within their TTL */
    for (size_t i = 0; i < nf->ndom; i++) {
        nf_domain *d = &nf->dom[i];
        for (size_t j = d->nt; j-- > 0;)
            if (now_us - d->t[j].refreshed_us > nf->cfg.template_ttl_us) {
                nf->st.templates_expired++;
                tmpl_remove(nf, d, j);
            }
    }
    return NI_OK;
}

int ni_netflow_finish_one(ni_netflow *nf, ni_error *err)
{
    if (!nf->oldest) return 0;
    return pend_emit_oldest(nf, err) ? -1 : 1;
}

ni_err ni_netflow_finish(ni_netflow *nf, ni_error *err)
{
    while (nf->oldest) {
        ni_err rc = pend_emit_oldest(nf, err);
        if (rc) return rc;
    }
    return NI_OK;
}

/* A decoded flow record: emitted, paired, or held for its reverse. */
static void submit(nf_ctx *x, const nf_rec *r)
{
    ni_netflow *nf = x->nf;
    nf->st.records++;
    x->d->records++;
    if (x->err) return;
    if (r->biflow) { x->err = emit(nf, r, NULL, x->e); return; }
    uint64_t h = rec_hash(nf, x->exporter, r);
    for (pend *p = nf->buckets[h & (nf->nbuckets - 1)]; p; p = p->hnext) {
        if (p->hash != h || p->r.proto != r->proto || p->r.version != r->version ||
            !addr_eq(&p->exporter, x->exporter)) continue;
        if (reverse_dir(&p->r, r) && !same_dir(&p->r, r)) {
            nf_rec a = p->r;
            pend_unlink(nf, p);
            x->err = emit(nf, &a, r, x->e);
            return;
        }
        if (same_dir(&p->r, r)) {                       /* a later record of the same direction */
            nf_rec a = p->r;
            pend_unlink(nf, p);
            if ((x->err = emit(nf, &a, NULL, x->e))) return;
            break;
        }
    }
    if (nf->npend >= nf->cfg.pending_max) {
        nf->st.pending_evicted++;
        if ((x->err = pend_emit_oldest(nf, x->e))) return;
    }
    pend *p = nf->spare;
    if (p) nf->spare = p->next;
    else if (!(p = malloc(sizeof *p))) { x->err = emit(nf, r, NULL, x->e); return; }
    p->r = *r;
    p->exporter = *x->exporter;
    p->arrived_us = x->now_us;
    p->hash = h;
    p->hnext = nf->buckets[h & (nf->nbuckets - 1)];
    nf->buckets[h & (nf->nbuckets - 1)] = p;
    p->next = NULL;
    p->prev = nf->newest;
    if (nf->newest) nf->newest->next = p; else nf->oldest = p;
    nf->newest = p;
    nf->npend++;
}

/* Options data: sampling and the exporter's boot time apply to the domain. */
static void options_record(nf_ctx *x, const nf_raw *r)
{
    x->nf->st.options_records++;
    bool stated;
    uint32_t n = raw_sampling(r, &stated);
    if (stated) x->d->sampling = n;
    if (r->h_init) { x->d->sys_init_ms = r->init_ms; x->d->sys_init_known = true; }
}

/* Set bytes left after the last record: padding if zero, else a record cut short. */
static bool all_zero(ni_cursor *s)
{
    while (ni_cur_left(s)) if (ni_cur_u8(s)) return false;
    return true;
}

static void data_set(nf_ctx *x, ni_cursor *s, size_t base, uint16_t id)
{
    ni_netflow *nf = x->nf;
    nf_tmpl *t = tmpl_find(nf, x->d, id, x->now_us);
    if (!t) {
        nf->st.no_template++;
        x->uncounted = true;
        return;
    }
    nf_raw raw;
    while (ni_cur_left(s) >= t->min_len) {
        size_t off = base + s->off;
        if (!decode_record(x, t, s, &raw)) {
            nf->st.records_short++;
            warnf(nf, "offset %zu: data record of template %u ends past its set", off, id);
            return;
        }
        x->records++;
        if (t->options) { options_record(x, &raw); continue; }
        nf_rec r;
        if (raw_to_rec(x, &raw, &r)) submit(x, &r);
        if (x->err) return;
    }
    size_t off = base + s->off, left = ni_cur_left(s);
    if (left && !all_zero(s)) {
        nf->st.records_short++;
        warnf(nf, "offset %zu: %zu bytes left in a set of template %u, shorter than its records (%zu)",
              off, left, id, t->min_len);
    }
}

static void seq_check(nf_ctx *x, uint32_t seq, bool counts_records)
{
    nf_domain *d = x->d;
    if (d->seq_known) {
        uint32_t gap = seq - d->seq_next;
        if (gap && gap < 0x80000000u) {
            if (counts_records) x->nf->st.lost_records += gap;
            else x->nf->st.lost_datagrams += gap;
            d->lost += gap;
        }
    }
}

/* ---- versions --------------------------------------------------------------------- */
static void parse_v5(nf_ctx *x, ni_cursor *c)
{
    ni_netflow *nf = x->nf;
    uint16_t count = ni_cur_u16(c);
    x->uptime_ms = ni_cur_u32(c);
    uint32_t secs = ni_cur_u32(c), nsecs = ni_cur_u32(c), seq = ni_cur_u32(c);
    uint8_t etype = ni_cur_u8(c), eid = ni_cur_u8(c);
    uint16_t samp = ni_cur_u16(c);
    if (c->bad) { nf->st.malformed++; warnf(nf, "offset 0: NetFlow v5 header truncated"); return; }
    if (!(x->d = domain_get(nf, x->exporter, 5, ((uint32_t)etype << 8) | eid))) return;
    x->export_us = (int64_t)secs * 1000000 + (nsecs % 1000000000u) / 1000;
    uint32_t interval = samp & 0x3fff;
    x->hdr_sampling = interval > 1 ? interval : 0;
    size_t have = ni_cur_left(c) / 48;
    if (count > have) {
        nf->st.malformed++;
        nf->st.records_short += count - have;
        warnf(nf, "offset 24: NetFlow v5 header says %u records, the datagram holds %zu", count, have);
        count = (uint16_t)have;
    }
    x->d->datagrams++;
    seq_check(x, seq, true);
    x->d->seq_known = true;
    x->d->seq_next = seq + count;
    for (unsigned i = 0; i < count && !x->err; i++) {
        ni_cursor r = ni_cur_sub(c, 48);
        nf_raw raw;
        memset(&raw, 0, sizeof raw);
        read_addr(&r, 4, &raw.src);
        read_addr(&r, 4, &raw.dst);
        ni_cur_skip(&r, 4 + 2 + 2);                     /* nexthop, input, output */
        raw.p[0] = ni_cur_u32(&r); raw.hp[0] = true;
        raw.b[0] = ni_cur_u32(&r); raw.hb[0] = true;
        raw.upf = ni_cur_u32(&r); raw.up_f = true;
        raw.upl = ni_cur_u32(&r); raw.up_l = true;
        raw.sport = ni_cur_u16(&r);
        raw.dport = ni_cur_u16(&r);
        ni_cur_skip(&r, 1);
        raw.flags = ni_cur_u8(&r);
        raw.proto = ni_cur_u8(&r);
        nf_rec rec;
        if (raw_to_rec(x, &raw, &rec)) submit(x, &rec);
    }
}

static void parse_sets(nf_ctx *x, ni_cursor *c, size_t base)
{
    ni_netflow *nf = x->nf;
    bool v9 = x->version == 9;
    while (ni_cur_left(c) >= 4 && !x->err) {
        size_t off = base + c->off;
        uint16_t id = ni_cur_u16(c), len = ni_cur_u16(c);
        if (len < 4 || (size_t)len - 4 > ni_cur_left(c)) {
            nf->st.malformed++;
            warnf(nf, "offset %zu: %s set %u has length %u, %zu bytes left", off,
                  v9 ? "NetFlow v9" : "IPFIX", id, len, ni_cur_left(c) + 4);
            x->uncounted = true;
            return;
        }
        ni_cursor s = ni_cur_sub(c, (size_t)len - 4);
        size_t sbase = off + 4;
        if (id == (v9 ? 0 : 2)) template_set(x, &s, sbase, false);
        else if (id == (v9 ? 1 : 3)) template_set(x, &s, sbase, true);
        else if (id >= 256) data_set(x, &s, sbase, id);
        /* other ids are reserved: skipped */
    }
    if (ni_cur_left(c) && x->version == 10) {
        nf->st.malformed++;
        warnf(nf, "offset %zu: %zu bytes after the last IPFIX set", base + c->off, ni_cur_left(c));
    }
}

static void parse_v9(nf_ctx *x, ni_cursor *c)
{
    ni_netflow *nf = x->nf;
    ni_cur_skip(c, 2);                                  /* count: records of all kinds */
    x->uptime_ms = ni_cur_u32(c);
    uint32_t secs = ni_cur_u32(c), seq = ni_cur_u32(c), odid = ni_cur_u32(c);
    if (c->bad) { nf->st.malformed++; warnf(nf, "offset 0: NetFlow v9 header truncated"); return; }
    if (!(x->d = domain_get(nf, x->exporter, 9, odid))) return;
    x->export_us = (int64_t)secs * 1000000;
    x->d->datagrams++;
    seq_check(x, seq, false);
    x->d->seq_known = true;
    x->d->seq_next = seq + 1;
    parse_sets(x, c, 20);
}

static void parse_ipfix(nf_ctx *x, ni_cursor *c)
{
    ni_netflow *nf = x->nf;
    uint16_t len = ni_cur_u16(c);
    uint32_t secs = ni_cur_u32(c), seq = ni_cur_u32(c), odid = ni_cur_u32(c);
    if (c->bad) { nf->st.malformed++; warnf(nf, "offset 0: IPFIX message header truncated"); return; }
    if (len < 16 || len > c->len) {
        nf->st.malformed++;
        warnf(nf, "offset 2: IPFIX message length %u, datagram %zu bytes", len, c->len);
        if (len < 16) return;
        len = (uint16_t)c->len;
    }
    if (!(x->d = domain_get(nf, x->exporter, 10, odid))) return;
    x->export_us = (int64_t)secs * 1000000;
    ni_cursor body = ni_cur_sub(c, (size_t)len - 16);
    x->d->datagrams++;
    seq_check(x, seq, true);
    parse_sets(x, &body, 16);
    x->d->seq_known = !x->uncounted;
    x->d->seq_next = seq + x->records;
}

ni_err ni_netflow_datagram(ni_netflow *nf, const ni_addr *exporter, const uint8_t *p, size_t len,
                           int64_t now_us, ni_error *err)
{
    ni_err rc = ni_netflow_expire(nf, now_us, err);
    if (rc) return rc;
    nf->st.datagrams++;
    nf->st.bytes += len;
    nf_ctx x;
    memset(&x, 0, sizeof x);
    x.nf = nf;
    x.exporter = exporter;
    x.now_us = now_us;
    x.e = err;
    ni_cursor c;
    ni_cur_init(&c, p, len);
    uint16_t version = ni_cur_u16(&c);
    if (c.bad || (version != 5 && version != 9 && version != 10)) {
        nf->st.not_export++;
        warnf(nf, "offset 0: not a NetFlow v5/v9 or IPFIX datagram (version %u, %zu bytes)", version, len);
        return NI_OK;
    }
    x.version = (uint8_t)version;
    if (version == 5) { nf->st.v5++; parse_v5(&x, &c); }
    else if (version == 9) { nf->st.v9++; parse_v9(&x, &c); }
    else { nf->st.ipfix++; parse_ipfix(&x, &c); }
    return x.err;
}
