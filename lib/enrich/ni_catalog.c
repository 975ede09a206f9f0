/* ni_catalog.c — service and VPN-provider catalogues (see ni_catalog.h):
 * TSV rows → a hash of domain suffixes (one probe per label suffix of the
 * looked-up name, longest first) and a longest-prefix trie of addresses;
 * and the per-thread memo of names looked up (ni_catalog_memo). */
#include "enrich/ni_catalog.h"
#include "core/ni_str.h"
#include "enrich/ni_tsv.h"
#include "core/ni_arena.h"
#include "core/ni_hash.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "core/ni_prefix.h"

#include <stdlib.h>
#include <string.h>

/* A domain key's two possible rows: "x" (x and below) and "*.x" (below only). */
typedef struct dom_slot {
    const ni_catalog_entry *self;
    const ni_catalog_entry *sub;
} dom_slot;

typedef struct side {
    ni_map *dom;                 /* lower-case suffix → dom_slot (arena) */
    ni_prefix_set *pfx;          /* prefix → entry (arena) */
    const ni_catalog_entry **list;
    size_t n, alloc;
} side;

struct ni_catalog {
    ni_arena *arena;             /* every entry, slot and string */
    side svc, vpn;
};

static int side_init(side *s)
{
    memset(s, 0, sizeof *s);
    s->dom = ni_map_new(NI_CATALOG_ROWS_MAX);
    s->pfx = ni_prefix_new_cap(NI_CATALOG_ROWS_MAX);
    return s->dom && s->pfx ? 0 : -1;
}

static void side_release(side *s)
{
    ni_map_free(s->dom, NULL);
    ni_prefix_free(s->pfx);
    free(s->list);
}

ni_catalog *ni_catalog_new(void)
{
    ni_catalog *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->arena = ni_arena_new(NI_CATALOG_BYTES_MAX);
    if (!c->arena || side_init(&c->svc) || side_init(&c->vpn)) { ni_catalog_free(c); return NULL; }
    return c;
}

void ni_catalog_free(ni_catalog *c)
{
    if (!c) return;
    side_release(&c->svc);
    side_release(&c->vpn);
    ni_arena_free(c->arena);
    free(c);
}

/* Lower-cases name into out[NI_DNS_NAME_MAX + 1] without one trailing dot.
 * Returns the length, or -1 when it is not a plausible host name. */
static int norm_name(const char *name, char *out)
{
    if (!name) return -1;
    size_t n = strnlen(name, NI_DNS_NAME_MAX + 2);
    if (n > 0 && name[n - 1] == '.') n--;
    if (n == 0 || n > 253) return -1;
    char prev = '.';
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (ch == '.' && prev == '.') return -1;        /* empty label */
        if ((unsigned char)ch <= ' ' || ch == 0x7f) return -1;
        out[i] = ni_ascii_lower(ch);
        prev = ch;
    }
    if (prev == '.') return -1;
    out[n] = 0;
    return (int)n;
}

/* Strict syntax for a catalogue domain (after "*." is removed): labels of
 * [a-z0-9_-], 1..63 bytes each, no leading or trailing hyphen. */
static int valid_domain(const char *d)
{
    size_t lab = 0, n = 0;
    char prev = '.';
    for (const char *p = d; *p; p++, n++) {
        char ch = *p;
        if (ch == '.') {
            if (lab == 0 || prev == '-') return 0;
            lab = 0;
        } else {
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
                return 0;
            if (ch == '-' && lab == 0) return 0;
            if (++lab > 63) return 0;
        }
        prev = ch;
    }
    return n > 0 && n <= 253 && lab > 0 && prev != '-';
}

static int valid_word(const char *s)   /* category / kind: [a-z0-9-] */
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

static int valid_url(const char *s)
{
    return (!strncmp(s, "https://", 8) && s[8]) || (!strncmp(s, "http://", 7) && s[7]);
}

static const char *const vpn_kind_names[NI_VPN_KIND__COUNT] = {
    [NI_VPN_KIND_API] = "api", [NI_VPN_KIND_SITE] = "site", [NI_VPN_KIND_SERVER] = "server",
    [NI_VPN_KIND_UPDATE] = "update",
};

const char *ni_vpn_kind_name(ni_vpn_kind k) { return k > 0 && k < NI_VPN_KIND__COUNT ? vpn_kind_names[k] : NULL; }

static ni_vpn_kind vpn_kind_parse(const char *s)
{
    for (int i = 1; i < NI_VPN_KIND__COUNT; i++) if (!strcmp(vpn_kind_names[i], s)) return (ni_vpn_kind)i;
    return NI_VPN_KIND_NONE;
}

static int same_target(const ni_catalog_entry *a, const ni_catalog_entry *b)
{
    return !strcmp(a->name, b->name) && !strcmp(a->category, b->category) && a->kind == b->kind;
}

static ni_err contradiction(const ni_tsv *t, ni_error *err, const ni_catalog_entry *old,
                            const ni_catalog_entry *e)
{
    return ni_tsv_error(t, err, "'%s' is already '%s'%s%s (line %u), not '%s'%s%s",
                        e->match, old->name, old->kind ? " " : "", old->kind ? ni_vpn_kind_name(old->kind) : "",
                        old->line, e->name, e->kind ? " " : "", e->kind ? ni_vpn_kind_name(e->kind) : "");
}

/* The length ni_prefix keeps for addr/len (an IPv4-mapped /96+n is IPv4 /n). */
static unsigned stored_len(const ni_addr *a, unsigned len)
{
    static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
    if (a->family == 6 && len >= 96 && !memcmp(a->b, mapped, 12)) return len - 96;
    return len;
}

/* Adds one row; *dup is set when an identical row was already present. */
static ni_err add_entry(ni_catalog *c, side *s, const ni_tsv *t, ni_catalog_entry *e,
                        int *dup, ni_error *err)
{
    *dup = 0;
    if (!strcmp(e->type, "domain")) {
        const char *m = e->match;
        int wild = !strncmp(m, "*.", 2);
        if (wild) m += 2;
        if (!valid_domain(m))
            return ni_tsv_error(t, err, "bad domain '%s' (lower-case labels, optional leading '*.')", e->match);
        void **slot = ni_map_slot(s->dom, m);
        if (!slot) return ni_tsv_error(t, err, "too many domains (limit %u)", NI_CATALOG_ROWS_MAX);
        dom_slot *ds = *slot;
        if (!ds) {
            ds = ni_arena_alloc(c->arena, sizeof *ds);
            if (!ds) return ni_tsv_error(t, err, "catalogue larger than %u bytes", NI_CATALOG_BYTES_MAX);
            *slot = ds;
        }
        const ni_catalog_entry **where = wild ? &ds->sub : &ds->self;
        if (*where) {
            if (!same_target(*where, e)) return contradiction(t, err, *where, e);
            *dup = 1;
            return NI_OK;
        }
        *where = e;
        return NI_OK;
    }
    if (!strcmp(e->type, "prefix")) {
        ni_addr a; unsigned len;
        if (ni_prefix_parse(e->match, &a, &len) != NI_OK)
            return ni_tsv_error(t, err, "bad prefix '%s'", e->match);
        void *old = NULL; unsigned olen = 0;
        if (ni_prefix_lookup(s->pfx, &a, &old, &olen) && olen == stored_len(&a, len)) {
            if (!same_target(old, e)) return contradiction(t, err, old, e);
            *dup = 1;
            return NI_OK;
        }
        ni_err r = ni_prefix_add(s->pfx, &a, len, e);
        if (r == NI_ERR_LIMIT) return ni_tsv_error(t, err, "too many prefixes (limit %u)", NI_CATALOG_ROWS_MAX);
        if (r != NI_OK) return ni_tsv_error(t, err, "cannot add prefix '%s': %s", e->match, ni_strerror(r));
        return NI_OK;
    }
    return ni_tsv_error(t, err, "type '%s' is neither 'domain' nor 'prefix'", e->type);
}


static ni_err load(ni_catalog *c, side *s, const char *path, int is_vpn, ni_error *err)
{
    ni_tsv t;
    ni_err r = ni_tsv_open(&t, path, err);
    if (r) return r;
    const char *name_col = is_vpn ? "provider" : "service";
    const char *third = is_vpn ? "kind" : "category";
    int c_type = ni_tsv_need(&t, "type", err), c_match = ni_tsv_need(&t, "match", err);
    int c_name = ni_tsv_need(&t, name_col, err), c_third = ni_tsv_need(&t, third, err);
    int c_src = ni_tsv_need(&t, "source", err);
    if (c_type < 0 || c_match < 0 || c_name < 0 || c_third < 0 || c_src < 0) {
        ni_tsv_close(&t);
        return NI_ERR_DATA;
    }
    int k;
    r = NI_OK;
    while (r == NI_OK && (k = ni_tsv_next(&t, err)) > 0) {
        const char *type = ni_tsv_field(&t, c_type), *match = ni_tsv_field(&t, c_match);
        const char *name = ni_tsv_field(&t, c_name), *x = ni_tsv_field(&t, c_third);
        const char *src = ni_tsv_field(&t, c_src);
        if (!*name) { r = ni_tsv_error(&t, err, "empty %s", name_col); break; }
        if (!valid_word(x)) { r = ni_tsv_error(&t, err, "bad %s '%s' (want [a-z0-9-]+)", third, x); break; }
        ni_vpn_kind kind = is_vpn ? vpn_kind_parse(x) : NI_VPN_KIND_NONE;
        if (is_vpn && !kind) {
            r = ni_tsv_error(&t, err, "kind '%s' is not api, site, server or update", x);
            break;
        }
        if (!valid_url(src)) { r = ni_tsv_error(&t, err, "source '%s' is not an http(s) URL", src); break; }
        if (s->n >= NI_CATALOG_ROWS_MAX) { r = ni_tsv_error(&t, err, "more than %u rows", NI_CATALOG_ROWS_MAX); break; }
        ni_catalog_entry *e = ni_arena_alloc(c->arena, sizeof *e);
        if (!e || !(e->name = ni_arena_strdup(c->arena, name)) || !(e->type = ni_arena_strdup(c->arena, type)) ||
            !(e->match = ni_arena_strdup(c->arena, match)) || !(e->source = ni_arena_strdup(c->arena, src)) ||
            !(e->category = ni_arena_strdup(c->arena, is_vpn ? "vpn" : x))) {
            r = ni_tsv_error(&t, err, "catalogue larger than %u bytes", NI_CATALOG_BYTES_MAX);
            break;
        }
        e->kind = kind;
        e->line = t.line;
        int dup = 0;
        r = add_entry(c, s, &t, e, &dup, err);
        if (r || dup) continue;
        if (s->n == s->alloc) {
            size_t na = s->alloc ? s->alloc * 2 : 256;
            const ni_catalog_entry **nl = realloc(s->list, na * sizeof *nl);
            if (!nl) { r = ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); break; }
            s->list = nl; s->alloc = na;
        }
        s->list[s->n++] = e;
    }
    if (r == NI_OK && k < 0) r = NI_ERR_DATA;
    ni_tsv_close(&t);
    return r;
}

ni_err ni_catalog_load_services(ni_catalog *c, const char *path, ni_error *err)
{
    return load(c, &c->svc, path, 0, err);
}

ni_err ni_catalog_load_vpn(ni_catalog *c, const char *path, ni_error *err)
{
    return load(c, &c->vpn, path, 1, err);
}

ni_err ni_catalog_load(ni_catalog *c, const char *data_dir, ni_error *err)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/services.tsv", data_dir);
    if (n < 0 || (size_t)n >= sizeof path) return ni_error_set(err, NI_ERR_ARG, "%s: path too long", data_dir);
    ni_err r = ni_catalog_load_services(c, path, err);
    if (r) return r;
    snprintf(path, sizeof path, "%s/vpn.tsv", data_dir);
    return ni_catalog_load_vpn(c, path, err);
}

static const ni_catalog_entry *by_domain(const side *s, const char *name)
{
    char buf[NI_DNS_NAME_MAX + 1];
    if (norm_name(name, buf) < 0) return NULL;
    const char *p = buf;
    /* "www.x" is x's web site: a "*.x" (server zone) row does not take it */
    const char *www_parent = !strncmp(buf, "www.", 4) ? buf + 4 : NULL;
    for (int first = 1;; first = 0) {
        const dom_slot *ds = ni_map_get(s->dom, p);
        if (ds) {
            if (!first && ds->sub && !(p == www_parent && ds->self)) return ds->sub;
            if (ds->self) return ds->self;
        }
        const char *dot = strchr(p, '.');
        if (!dot) return NULL;
        p = dot + 1;
    }
}

/* ---- memo --------------------------------------------------------------- */
typedef struct memo_slot {
    uint64_t h;                              /* of name */
    uint64_t at;                             /* the memo's clock when last used (0: never) */
    const ni_catalog_entry *svc, *vpn;       /* the matches found (when has_svc, has_vpn) */
    uint8_t len;                             /* of name; 0: an empty slot */
    bool has_svc, has_vpn;
    char name[NI_CATALOG_MEMO_NAME + 1];
} memo_slot;

struct ni_catalog_memo {
    const ni_catalog *cat;                   /* the catalogue the slots hold matches of */
    ni_hash_key key;
    uint64_t clock;                          /* look-ups so far */
    memo_slot slot[NI_CATALOG_MEMO];
};

ni_catalog_memo *ni_catalog_memo_new(void)
{
    ni_catalog_memo *m = calloc(1, sizeof *m);
    if (m) ni_hash_key_random(&m->key);
    return m;
}

void ni_catalog_memo_free(ni_catalog_memo *m) { free(m); }

void ni_catalog_domains(const ni_catalog *c, ni_catalog_memo *m, const char *name, const ni_catalog_entry **svc,
                        const ni_catalog_entry **vpn)
{
    size_t n = name && m ? strnlen(name, NI_CATALOG_MEMO_NAME + 1) : 0;
    if (!c || n == 0 || n > NI_CATALOG_MEMO_NAME) {
        if (svc) *svc = c ? by_domain(&c->svc, name) : NULL;
        if (vpn) *vpn = c ? by_domain(&c->vpn, name) : NULL;
        return;
    }
    if (m->cat != c) {   /* new (calloc'd: empty) or moved to another catalogue */
        if (m->cat) memset(m->slot, 0, sizeof m->slot);
        m->cat = c;
    }
    /* two ways: a name's pair of slots, the one used less recently replaced
     * (two busy names sharing one slot would evict each other at every turn) */
    uint64_t h = ni_hash(&m->key, name, n);
    memo_slot *ms = &m->slot[(h % (NI_CATALOG_MEMO / 2)) * 2];
    if (ms->h != h || ms->len != n || memcmp(ms->name, name, n)) {
        memo_slot *o = ms + 1;
        if (o->h == h && o->len == n && !memcmp(o->name, name, n)) ms = o;
        else if (o->at < ms->at) ms = o;
    }
    ms->at = ++m->clock;
    if (ms->h != h || ms->len != n || memcmp(ms->name, name, n)) {
        ms->h = h;
        ms->len = (uint8_t)n;
        memcpy(ms->name, name, n);
        ms->name[n] = 0;
        ms->has_svc = ms->has_vpn = false;
    }
    if (svc) {
        if (!ms->has_svc) { ms->svc = by_domain(&c->svc, name); ms->has_svc = true; }
        *svc = ms->svc;
    }
    if (vpn) {
        if (!ms->has_vpn) { ms->vpn = by_domain(&c->vpn, name); ms->has_vpn = true; }
        *vpn = ms->vpn;
    }
}

static const ni_catalog_entry *by_addr(const side *s, const ni_addr *a)
{
    void *v = NULL;
    return a && ni_prefix_lookup(s->pfx, a, &v, NULL) ? v : NULL;
}

const ni_catalog_entry *ni_catalog_service_domain(const ni_catalog *c, const char *name)
{
    return c ? by_domain(&c->svc, name) : NULL;
}
const ni_catalog_entry *ni_catalog_vpn_domain(const ni_catalog *c, const char *name)
{
    return c ? by_domain(&c->vpn, name) : NULL;
}
const ni_catalog_entry *ni_catalog_service_addr(const ni_catalog *c, const ni_addr *a)
{
    return c ? by_addr(&c->svc, a) : NULL;
}
const ni_catalog_entry *ni_catalog_vpn_addr(const ni_catalog *c, const ni_addr *a)
{
    return c ? by_addr(&c->vpn, a) : NULL;
}

size_t ni_catalog_service_rows(const ni_catalog *c) { return c ? c->svc.n : 0; }
size_t ni_catalog_vpn_rows(const ni_catalog *c) { return c ? c->vpn.n : 0; }

void ni_catalog_each(const ni_catalog *c, void (*fn)(void *ud, const ni_catalog_entry *e), void *ud)
{
    if (!c || !fn) return;
    for (size_t i = 0; i < c->svc.n; i++) fn(ud, c->svc.list[i]);
    for (size_t i = 0; i < c->vpn.n; i++) fn(ud, c->vpn.list[i]);
}
