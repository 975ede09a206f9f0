/* ni_devdet.c — node-device-detector 2.2.7's device database, read with
 * jansson and compiled with PCRE2 (see ni_devdet.h for the matching rules it
 * reimplements).  The .js files are CommonJS modules whose value is plain
 * JSON (RFC 8259): `module.exports = <JSON>;` — the wrapper is checked and
 * cut with the bounds-checked cursor before jansson parses the value.
 *
 * Cost: all regexes are compiled at load the first time the files are seen
 * (the check, remembered by file identity: core/ni_verified.h), later on
 * first use, from a start-up cache of what was read (devdet.bin, below:
 * once checked, kept mapped and read where it lies, on the first look-up);
 * a brand regex (about 2,300) is JIT-compiled once tried DD_JIT_AFTER times,
 * model regexes (about 15,500) never, as each runs only after its brand
 * matched.  Brand and vendor patterns go through ni_ua's literal
 * prefilter (each pattern's required literals, one Aho-Corasick pass over
 * the lower-cased User-Agent): only brands one of whose literals occurs are
 * tried, in order, so results are those of trying them all; the fixed
 * fragments (HbbTV, desktop...) are looked up by their required literals
 * before they are matched.  A thread matches with a scratch of its own
 * (ni_devdet_matcher: match data, the prefilter's candidate sets), made
 * once, not per User-Agent.  The caller
 * (ni_uaverdict) consults the database only for User-Agents where uap-core
 * gives no real device, once per distinct User-Agent (the enrichment caches
 * verdicts). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "enrich/ni_devdet.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "core/ni_str.h"
#include "enrich/ni_ua.h"
#include "core/ni_verified.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_hash.h"

#define DD_FILE_MAX (16u * 1024 * 1024)   /* one .js data file */
#define DD_PATTERN_MAX 65536u             /* one wrapped pattern */
#define DD_REDIRECT_MAX 4                 /* "->alias" hops in device-info */

typedef struct dd_model {
    pcre2_code *re;                        /* NULL until first used when lazy */
    const char *src;                       /* the pattern (arena) */
    const char *req;                       /* its required literals (ni_ua_required), NULL until first needed */
    const char *model, *type, *brand;      /* NULL when the rule has none */
} dd_model;

typedef struct dd_brand {
    const char *name;                       /* "" for "Unknown" */
    pcre2_code *re;                         /* NULL until first used when lazy; never JIT-compiled */
    pcre2_code *jre;                        /* its JIT-compiled copy once tried DD_JIT_AFTER times */
    unsigned tries;
    const char *src;
    uint32_t pf;                            /* its rule in the literal prefilter */
    const char *type, *model;
    dd_model *models; size_t nmodels;
} dd_brand;

enum { GATE_NONE, GATE_HBBTV, GATE_SHELLTV, GATE_FBMD };

typedef struct dd_list {
    const char *file;
    int gate;
    dd_brand *brands; size_t nbrands;
} dd_list;

/* The lists in node-device-detector's parser order (index.js init()). */
static const struct { const char *file; int gate; } list_files[] = {
    { "device/televisions.js", GATE_HBBTV },
    { "device/shell_tv.js", GATE_SHELLTV },
    { "device/notebooks.js", GATE_FBMD },
    { "device/consoles.js", GATE_NONE },
    { "device/car_browsers.js", GATE_NONE },
    { "device/cameras.js", GATE_NONE },
    { "device/portable_media_player.js", GATE_NONE },
    { "device/mobiles.js", GATE_NONE },
};
#define NLISTS (sizeof list_files / sizeof list_files[0])

typedef struct dd_vendor { const char *name; pcre2_code **re; const char **src; uint32_t *pf; size_t n; } dd_vendor;

/* Fixed fragments (parser/helper.js and the gated parsers). */
enum { FR_HBBTV, FR_SHELLTV, FR_FBMD, FR_DESKTOP, FR_DESKTOP_EXCL, FR_CH_ANDROID, FR_TELEGRAM,
       FR_ANDROID_SP, FR__N };
static const struct { const char *re; bool base; } fragments[FR__N] = {
    [FR_HBBTV] = { "(?:HbbTV|SmartTvA)/([1-9]{1}(?:[.][0-9]{1}){1,2})", true },
    [FR_SHELLTV] = { "[a-z]+[ _]Shell[ _]\\w{6}|tclwebkit(\\d+[.\\d]*)", true },
    [FR_FBMD] = { "FBMD/", true },
    [FR_DESKTOP] = { "(?:Windows (?:NT|IoT)|X11; Linux x86_64)", true },
    [FR_DESKTOP_EXCL] = { "CE-HTML| Mozilla/|Andr[o0]id|Tablet|Mobile|iPhone|Windows Phone|ricoh|OculusBrowser"
                          "|PicoBrowser|Lenovo|compatible; MSIE|Trident/|Tesla/|XBOX|FBMD/|ARM; ?([^)]+)", true },
    [FR_CH_ANDROID] = { "Android (?:1[0-6][.\\d]*; K(?: Build/|[;)])|1[0-6]\\)) AppleWebKit", false },
    [FR_TELEGRAM] = { "Telegram-Android/", false },
    [FR_ANDROID_SP] = { "android ", false },
};

struct ni_devdet {
    ni_arena *arena;
    dd_list lists[NLISTS];
    dd_vendor *vendors; size_t nvendors;
    pcre2_code *frag[FR__N];
    char *frag_req[FR__N];   /* each fragment's required literals (ni_ua_required), NULL: none known */
    ni_map *info;            /* "brand\tmodel" lower-case → "2016", "2018-05" or "->alias" */
    size_t nbrands, nmodels;
    /* the literal prefilter (ni_ua's analysis) over brand and vendor patterns */
    ni_ua_db *pf;
    const char **pats; size_t npats, apats;   /* while loading */
    /* The data files were verified (every regex compiled) by an earlier run
     * and have not changed since (core/ni_verified.h): regexes are compiled
     * on first use instead of at load. */
    bool lazy;
    /* devdet.bin kept mapped: the strings and the prefilter's tables are
     * used where they lie in it (a trusted cache: see cache_read) */
    void *map; size_t map_len;
    /* with map: the release table where it lies, sorted by key (info_get),
     * info stays empty: info_n entries at info_base + info_off[i] */
    const uint32_t *info_off; const uint8_t *info_base; size_t info_n;
    /* a kept cache not read yet (cache_read, ready()): its body */
    bool pending, broken;
    ni_cursor body;
    pthread_mutex_t mu;
};

#define DD_VERIFIED_KIND "devdet-regexes/1"
static const char *const vendor_file = "vendorfragments.js";

/* ---------------------------------------------------------------- loading */

static ni_err nomem(ni_error *err, const char *path)
{
    return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
}

/* Reads a whole file (at most DD_FILE_MAX bytes) into a NUL-terminated buffer. */
static ni_err read_file(const char *path, char **out, size_t *len, ni_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ni_error_set(err, errno == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", path, strerror(errno));
    char *buf = malloc(DD_FILE_MAX + 1);
    if (!buf) { fclose(f); return nomem(err, path); }
    size_t n = fread(buf, 1, DD_FILE_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return ni_error_set(err, NI_ERR_IO, "%s: read error", path); }
    if (n > DD_FILE_MAX) { free(buf); return ni_error_set(err, NI_ERR_LIMIT, "%s: larger than %u bytes", path, DD_FILE_MAX); }
    buf[n] = 0;
    *out = buf; *len = n;
    return NI_OK;
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The JSON value of a `module.exports = VALUE;` module (or a bare JSON
 * text): offsets of VALUE in buf.  false when the wrapper is not that. */
static bool js_value(const char *buf, size_t len, size_t *start, size_t *end)
{
    static const char wrap[] = "module.exports";
    ni_cursor c;
    ni_cur_init(&c, (const uint8_t *)buf, len);
    while (ni_cur_has(&c, 1) && is_space(*ni_cur_ptr(&c))) ni_cur_skip(&c, 1);
    if (ni_cur_has(&c, sizeof wrap - 1) && !memcmp(ni_cur_ptr(&c), wrap, sizeof wrap - 1)) {
        ni_cur_skip(&c, sizeof wrap - 1);
        while (ni_cur_has(&c, 1) && is_space(*ni_cur_ptr(&c))) ni_cur_skip(&c, 1);
        if (!ni_cur_has(&c, 1) || ni_cur_u8(&c) != '=') return false;
        while (ni_cur_has(&c, 1) && is_space(*ni_cur_ptr(&c))) ni_cur_skip(&c, 1);
    }
    if (!ni_cur_has(&c, 1) || (*ni_cur_ptr(&c) != '{' && *ni_cur_ptr(&c) != '[')) return false;
    size_t s = len - ni_cur_left(&c), e = len;
    while (e > s && (is_space((uint8_t)buf[e - 1]) || buf[e - 1] == ';')) e--;
    *start = s; *end = e;
    return e > s;
}

static json_t *load_js(const char *dir, const char *name, char *path, size_t pathsz, ni_error *err)
{
    snprintf(path, pathsz, "%s/%s", dir, name);
    char *buf = NULL; size_t len = 0, s, e;
    if (read_file(path, &buf, &len, err)) return NULL;
    if (!js_value(buf, len, &s, &e)) {
        free(buf);
        ni_error_set(err, NI_ERR_DATA, "%s: not a 'module.exports = <JSON>' module", path);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(buf + s, e - s, 0, &je);
    free(buf);
    if (!v) ni_error_set(err, NI_ERR_DATA, "%s: JSON error at line %d: %s", path, je.line, je.text);
    return v;
}

/* JavaScript's "array index" property keys ("360", "8848"): for-in visits
 * them first, ascending. */
static bool array_index(const char *k, unsigned long *v)
{
    if (!*k || (k[0] == '0' && k[1]) || strlen(k) > 10) return false;
    unsigned long n = 0;
    for (const char *p = k; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        n = n * 10 + (unsigned long)(*p - '0');
    }
    if (n >= 4294967295ul) return false;
    *v = n;
    return true;
}

typedef struct okey { const char *key; unsigned long idx; bool isidx; size_t pos; } okey;

static int okey_cmp(const void *a, const void *b)
{
    const okey *x = a, *y = b;
    if (x->isidx != y->isidx) return x->isidx ? -1 : 1;
    if (x->isidx && x->idx != y->idx) return x->idx < y->idx ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The keys of an object in JavaScript property order (caller frees). */
static okey *js_keys(json_t *obj, size_t *n)
{
    size_t cnt = json_object_size(obj), i = 0;
    okey *k = calloc(cnt ? cnt : 1, sizeof *k);
    if (!k) return NULL;
    const char *key; json_t *val;
    json_object_foreach(obj, key, val) {
        (void)val;
        k[i].key = key; k[i].pos = i;
        k[i].isidx = array_index(key, &k[i].idx);
        i++;
    }
    qsort(k, i, sizeof *k, okey_cmp);
    *n = i;
    return k;
}

/* Compiles P with device-detector's prefix (or as is, !base). */
static pcre2_code *compile(const char *pat, bool base, bool jit, const char *path, const char *where,
                           ni_error *err)
{
    static const char pre[] = "(?:^|[^A-Z0-9_-]|[^A-Z0-9-]_|sprd-|MZ-)(?:";
    char *buf = malloc(DD_PATTERN_MAX);
    if (!buf) { nomem(err, path); return NULL; }
    size_t n = 0, pl = strlen(pat);
    if (base) { memcpy(buf, pre, sizeof pre - 1); n = sizeof pre - 1; }
    for (size_t i = 0; i < pl; i++) {
        if (n + 3 >= DD_PATTERN_MAX) { free(buf); ni_error_set(err, NI_ERR_LIMIT, "%s: %s: pattern too long", path, where); return NULL; }
        if (base && pat[i] == '+' && i + 1 < pl && pat[i + 1] == '+') { buf[n++] = '+'; i++; continue; }
        buf[n++] = pat[i];
    }
    if (base) buf[n++] = ')';
    int ec; PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)buf, n, PCRE2_CASELESS | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX,
                                   &ec, &eo, NULL);
    free(buf);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        ni_error_set(err, NI_ERR_DATA, "%s: %s: regex '%s' does not compile: %s", path, where, pat, (char *)msg);
        return NULL;
    }
    if (jit) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* Records pattern P (after "++" → "+") for the prefilter; its rule number in *id. */
static ni_err add_pattern(ni_devdet *d, const char *pat, uint32_t *id)
{
    size_t n = strlen(pat);
    char *p = ni_arena_alloc(d->arena, n + 1);
    if (!p) return NI_ERR_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        p[o++] = pat[i];
        if (pat[i] == '+' && i + 1 < n && pat[i + 1] == '+') i++;
    }
    p[o] = 0;
    if (d->npats == d->apats) {
        size_t na = d->apats ? d->apats * 2 : 4096;
        const char **np = realloc(d->pats, na * sizeof *np);
        if (!np) return NI_ERR_NOMEM;
        d->pats = np; d->apats = na;
    }
    *id = (uint32_t)d->npats;
    d->pats[d->npats++] = p;
    return NI_OK;
}

static const char *str_member(ni_arena *a, json_t *o, const char *k, bool *bad)
{
    json_t *v = json_object_get(o, k);
    if (!v) return NULL;
    if (json_is_integer(v)) {           /* "model": 5 */
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        return ni_arena_strdup(a, tmp);
    }
    if (!json_is_string(v)) { *bad = true; return NULL; }
    return ni_arena_strdup(a, json_string_value(v));
}

static ni_err load_list(ni_devdet *d, const char *dir, size_t li, ni_error *err)
{
    char path[4200];
    dd_list *L = &d->lists[li];
    L->file = list_files[li].file;
    L->gate = list_files[li].gate;
    json_t *root = load_js(dir, L->file, path, sizeof path, err);
    if (!root) return err ? err->code : NI_ERR_DATA;
    ni_err rc = NI_OK;
    size_t nk = 0;
    okey *keys = json_is_object(root) ? js_keys(root, &nk) : NULL;
    if (!json_is_object(root)) { rc = ni_error_set(err, NI_ERR_DATA, "%s: not an object of brands", path); goto out; }
    if (!keys || !(L->brands = calloc(nk ? nk : 1, sizeof *L->brands))) { rc = nomem(err, path); goto out; }
    for (size_t i = 0; i < nk; i++) {
        json_t *b = json_object_get(root, keys[i].key);
        dd_brand *B = &L->brands[L->nbrands];
        bool bad = !json_is_object(b);
        const char *re = bad ? NULL : str_member(d->arena, b, "regex", &bad);
        if (bad || !re) { rc = ni_error_set(err, NI_ERR_DATA, "%s: brand '%s': no regex", path, keys[i].key); goto out; }
        char name[NI_DEVDET_FIELD_MAX];
        snprintf(name, sizeof name, "%s", keys[i].key);
        size_t nl = strlen(name);
        while (nl && name[nl - 1] == ' ') name[--nl] = 0;
        B->name = ni_arena_strdup(d->arena, !strcmp(name, "Unknown") ? "" : name);
        B->type = str_member(d->arena, b, "device", &bad);
        B->model = str_member(d->arena, b, "model", &bad);
        if (!B->name || bad) { rc = ni_error_set(err, NI_ERR_DATA, "%s: brand '%s': bad member", path, keys[i].key); goto out; }
        B->src = ni_arena_strdup(d->arena, re);
        if (!B->src) { rc = nomem(err, path); goto out; }
        if (!d->lazy && !(B->re = compile(re, true, false, path, keys[i].key, err))) { rc = err ? err->code : NI_ERR_DATA; goto out; }
        L->nbrands++;
        if (add_pattern(d, re, &B->pf)) { rc = nomem(err, path); goto out; }
        json_t *models = json_object_get(b, "models");
        if (!models) continue;
        if (!json_is_array(models)) { rc = ni_error_set(err, NI_ERR_DATA, "%s: brand '%s': models is not a list", path, keys[i].key); goto out; }
        if (!(B->models = calloc(json_array_size(models) + 1, sizeof *B->models))) { rc = nomem(err, path); goto out; }
        size_t mi; json_t *m;
        json_array_foreach(models, mi, m) {
            dd_model *M = &B->models[B->nmodels];
            const char *mre = json_is_object(m) ? str_member(d->arena, m, "regex", &bad) : NULL;
            if (!mre || bad) { rc = ni_error_set(err, NI_ERR_DATA, "%s: brand '%s': model %zu has no regex", path, keys[i].key, mi); goto out; }
            M->model = str_member(d->arena, m, "model", &bad);
            M->type = str_member(d->arena, m, "device", &bad);
            M->brand = str_member(d->arena, m, "brand", &bad);
            if (bad) { rc = ni_error_set(err, NI_ERR_DATA, "%s: brand '%s': model %zu: bad member", path, keys[i].key, mi); goto out; }
            char where[160];
            snprintf(where, sizeof where, "%s model %zu", keys[i].key, mi);
            M->src = mre;
            if (!d->lazy && !(M->re = compile(mre, true, false, path, where, err))) { rc = err ? err->code : NI_ERR_DATA; goto out; }
            B->nmodels++;
        }
        d->nmodels += B->nmodels;
    }
    d->nbrands += L->nbrands;
out:
    free(keys);
    json_decref(root);
    return rc;
}

static ni_err load_vendors(ni_devdet *d, const char *dir, ni_error *err)
{
    char path[4200];
    json_t *root = load_js(dir, vendor_file, path, sizeof path, err);
    if (!root) return err ? err->code : NI_ERR_DATA;
    ni_err rc = NI_OK;
    size_t nk = 0;
    okey *keys = json_is_object(root) ? js_keys(root, &nk) : NULL;
    if (!json_is_object(root)) { rc = ni_error_set(err, NI_ERR_DATA, "%s: not an object of brands", path); goto out; }
    if (!keys || !(d->vendors = calloc(nk ? nk : 1, sizeof *d->vendors))) { rc = nomem(err, path); goto out; }
    for (size_t i = 0; i < nk; i++) {
        json_t *arr = json_object_get(root, keys[i].key);
        dd_vendor *V = &d->vendors[d->nvendors];
        if (!json_is_array(arr)) { rc = ni_error_set(err, NI_ERR_DATA, "%s: '%s' is not a list", path, keys[i].key); goto out; }
        V->name = ni_arena_strdup(d->arena, keys[i].key);
        V->re = calloc(json_array_size(arr) + 1, sizeof *V->re);
        V->src = calloc(json_array_size(arr) + 1, sizeof *V->src);
        V->pf = calloc(json_array_size(arr) + 1, sizeof *V->pf);
        if (!V->name || !V->re || !V->src || !V->pf) { rc = nomem(err, path); goto out; }
        d->nvendors++;
        size_t k; json_t *p;
        json_array_foreach(arr, k, p) {
            if (!json_is_string(p)) { rc = ni_error_set(err, NI_ERR_DATA, "%s: '%s'[%zu] is not a string", path, keys[i].key, k); goto out; }
            char pat[512];
            if ((size_t)snprintf(pat, sizeof pat, "%s[^a-z0-9]+", json_string_value(p)) >= sizeof pat) {
                rc = ni_error_set(err, NI_ERR_DATA, "%s: '%s'[%zu] too long", path, keys[i].key, k); goto out;
            }
            if (!(V->src[V->n] = ni_arena_strdup(d->arena, pat))) { rc = nomem(err, path); goto out; }
            if (!d->lazy && !(V->re[V->n] = compile(pat, true, false, path, keys[i].key, err))) { rc = err ? err->code : NI_ERR_DATA; goto out; }
            if (add_pattern(d, pat, &V->pf[V->n])) { rc = nomem(err, path); goto out; }
            V->n++;
        }
    }
out:
    free(keys);
    json_decref(root);
    return rc;
}

/* device-info/device.js: { brand: { model: "DS=..;RE=2016;.." or "->alias" } };
 * only the release (RE=YYYY or YYYY.MM) is kept. */
static ni_err load_info(ni_devdet *d, const char *dir, ni_error *err)
{
    char path[4200];
    json_t *root = load_js(dir, "device-info/device.js", path, sizeof path, err);
    if (!root) return err ? err->code : NI_ERR_DATA;
    ni_err rc = NI_OK;
    if (!json_is_object(root)) { rc = ni_error_set(err, NI_ERR_DATA, "%s: not an object of brands", path); goto out; }
    const char *brand; json_t *models;
    json_object_foreach(root, brand, models) {
        if (!json_is_object(models)) continue;       /* null: no data */
        const char *model; json_t *v;
        json_object_foreach(models, model, v) {
            if (!json_is_string(v)) continue;
            const char *s = json_string_value(v);
            char val[NI_DEVDET_FIELD_MAX];
            if (!strncmp(s, "->", 2)) {
                size_t n = strcspn(s + 2, ";");
                if (!n || n >= sizeof val - 2) continue;
                memcpy(val, s, n + 2); val[n + 2] = 0;
            } else {
                const char *re = strstr(s, "RE=");
                if (re && re != s && re[-1] != ';') re = NULL;
                if (!re) continue;
                re += 3;
                size_t n = strcspn(re, ";");
                /* "2016" or "2018.05" */
                if (n == 4 || (n == 7 && re[4] == '.')) {
                    bool ok = true;
                    for (size_t i = 0; i < n; i++) if (i != 4 && (re[i] < '0' || re[i] > '9')) ok = false;
                    if (!ok) continue;
                    memcpy(val, re, n); val[n] = 0;
                    if (n == 7) val[4] = '-';
                } else continue;
            }
            char key[2 * NI_DEVDET_FIELD_MAX + 2];
            if ((size_t)snprintf(key, sizeof key, "%s\t%s", brand, model) >= sizeof key) continue;
            for (char *p = key; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            char *sv = ni_arena_strdup(d->arena, val);
            if (!sv || ni_map_put(d->info, key, sv)) { rc = nomem(err, path); goto out; }
        }
    }
out:
    json_decref(root);
    return rc;
}

/* An empty database with its fixed fragments compiled. */
static ni_devdet *devdet_new(const char *dir, ni_error *err)
{
    ni_devdet *d = calloc(1, sizeof *d);
    if (!d) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", dir); return NULL; }
    pthread_mutex_init(&d->mu, NULL);
    d->arena = ni_arena_new(NI_CATALOG_BYTES_MAX);
    d->info = ni_map_new(NI_CATALOG_ROWS_MAX);
    if (!d->arena || !d->info) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", dir); goto fail; }
    for (int i = 0; i < FR__N; i++) {
        if (!(d->frag[i] = compile(fragments[i].re, fragments[i].base, false, "ni_devdet", "fragment", err))) goto fail;
        char buf[1024];
        size_t n = ni_ua_required(fragments[i].re, buf, sizeof buf);
        if (n > 1 && !(d->frag_req[i] = malloc(n))) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", dir); goto fail; }
        if (n > 1) memcpy(d->frag_req[i], buf, n);
    }
    return d;
fail:
    ni_devdet_free(d);
    return NULL;
}

/* ---------------------------------------------------------- start-up cache */
/* Once a run found every data file verified (d->lazy), it keeps what it read
 * from them in $XDG_CACHE_HOME/netintel/devdet.bin (core/ni_verified.h for
 * the directory) so that later runs skip the JSON (about 300 M instructions):
 * magic, a key (the identities of the ten files), then in loading order every
 * list's brands and models, the vendors, the release table and the literal
 * prefilter (ni_ua_prefilter_encode), then a checksum of all that.  Strings
 * are a 32-bit length and their bytes (DD_NOSTR: NULL).  Read only when every
 * file is still verified (the same condition as lazy compiling); a damaged,
 * stale or unreadable cache is ignored and rewritten. */
#define DD_CACHE_NAME "devdet.bin"
#define DD_CACHE_VERIFIED_KIND "devdet-cache-sum/1"   /* its checksum matched */
#define DD_NOSTR 0xffffffffu
static const char dd_cache_magic[8] = { 'N', 'I', 'D', 'D', 'C', 0, 0, 4 };   /* 4: the same (ni_ua) */

static void c_u32(ni_buf *b, uint32_t v)
{
    uint8_t q[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    ni_buf_add(b, q, 4);
}


static void c_str(ni_buf *b, const char *s)
{
    if (!s) { c_u32(b, DD_NOSTR); return; }
    size_t n = strlen(s);
    c_u32(b, (uint32_t)n);
    ni_buf_add(b, s, n + 1);            /* with its NUL: a trusted read uses it where it lies */
}


/* The bytes a release-table entry takes in the cache (c_str of the key and
 * of its value: length, bytes, NUL each). */
static size_t info_entry_len(const ni_devdet *d, const char *key)
{
    return 4 + strlen(key) + 1 + 4 + strlen(ni_map_get(d->info, key)) + 1;
}

/* A string of the cache: where it lies in the mapped file (inplace: a
 * trusted cache kept mapped), else copied into the arena; *ok false when
 * short, without its NUL, holding another NUL (checked unless inplace) or
 * OOM. */
static const char *cur_str(ni_cursor *c, ni_arena *a, bool inplace, bool *ok)
{
    uint32_t n = ni_cur_u32_le(c);
    if (n == DD_NOSTR) return NULL;
    const uint8_t *p = n < UINT32_MAX ? ni_cur_bytes(c, (size_t)n + 1) : NULL;
    if (!p || p[n]) { *ok = false; return NULL; }
    if (inplace) return (const char *)p;
    char *s = ni_arena_alloc(a, (size_t)n + 1);
    if (!s || memchr(p, 0, n)) { *ok = false; return NULL; }
    memcpy(s, p, (size_t)n + 1);
    return s;
}

static void cache_write(const ni_devdet *d, const char *path, uint64_t key)
{
    ni_buf b;
    ni_cachefile_begin(&b, dd_cache_magic, sizeof dd_cache_magic, key);
    for (size_t li = 0; li < NLISTS; li++) {
        const dd_list *L = &d->lists[li];
        c_u32(&b, (uint32_t)L->nbrands);
        for (size_t i = 0; i < L->nbrands; i++) {
            const dd_brand *B = &L->brands[i];
            c_str(&b, B->name); c_str(&b, B->type); c_str(&b, B->model); c_str(&b, B->src);
            c_u32(&b, B->pf);
            c_u32(&b, (uint32_t)B->nmodels);
            for (size_t m = 0; m < B->nmodels; m++) {
                const dd_model *M = &B->models[m];
                c_str(&b, M->src); c_str(&b, M->model); c_str(&b, M->type); c_str(&b, M->brand);
            }
        }
    }
    c_u32(&b, (uint32_t)d->nvendors);
    for (size_t i = 0; i < d->nvendors; i++) {
        const dd_vendor *V = &d->vendors[i];
        c_str(&b, V->name);
        c_u32(&b, (uint32_t)V->n);
        for (size_t k = 0; k < V->n; k++) { c_str(&b, V->src[k]); c_u32(&b, V->pf[k]); }
    }
    /* the release table sorted by key (strcmp), after the offset of each
     * entry in the block and the block's size, so that a trusted read
     * searches it where it lies (info_get) */
    const char **keys = ni_map_sorted_keys(d->info);
    size_t n = ni_map_count(d->info), total = 0;
    if (!keys) { ni_buf_release(&b); return; }
    c_u32(&b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) total += info_entry_len(d, keys[i]);
    c_u32(&b, (uint32_t)total);
    size_t pad = (4 - (b.len + 1) % 4) % 4;          /* the offsets at a 4-byte offset of the file */
    ni_buf_addc(&b, (char)pad);
    for (size_t i = 0; i < pad; i++) ni_buf_addc(&b, 0);
    for (size_t i = 0, at = 0; i < n; i++) {
        c_u32(&b, (uint32_t)at);
        at += info_entry_len(d, keys[i]);
    }
    for (size_t i = 0; i < n; i++) { c_str(&b, keys[i]); c_str(&b, ni_map_get(d->info, keys[i])); }
    free(keys);
    ni_ua_prefilter_encode(d->pf, &b);
    ni_cachefile_finish(&b, path);
}

/* Fills d from the body of the cache; summed: the file was read whole and
 * right by an earlier run (same identity), so it is used where it lies
 * (ip: strings, release table, prefilter tables), its mapping d's. */
static bool cache_body(ni_devdet *d, ni_cursor c, bool summed)
{
    bool ok = true, ip = summed;
    for (size_t li = 0; ok && li < NLISTS; li++) {
        dd_list *L = &d->lists[li];
        L->file = list_files[li].file;
        L->gate = list_files[li].gate;
        uint32_t nb = ni_cur_u32_le(&c);
        if (c.bad || nb > ni_cur_left(&c) || !(L->brands = calloc(nb ? nb : 1, sizeof *L->brands))) { ok = false; break; }
        for (uint32_t i = 0; ok && i < nb; i++) {
            dd_brand *B = &L->brands[L->nbrands];
            B->name = cur_str(&c, d->arena, ip, &ok);
            B->type = cur_str(&c, d->arena, ip, &ok);
            B->model = cur_str(&c, d->arena, ip, &ok);
            B->src = cur_str(&c, d->arena, ip, &ok);
            B->pf = ni_cur_u32_le(&c);
            uint32_t nm = ni_cur_u32_le(&c);
            if (!ok || c.bad || !B->name || !B->src || nm > ni_cur_left(&c) ||
                !(B->models = calloc((size_t)nm + 1, sizeof *B->models))) { ok = false; break; }
            L->nbrands++;
            for (uint32_t k = 0; ok && k < nm; k++) {
                dd_model *M = &B->models[B->nmodels];
                M->src = cur_str(&c, d->arena, ip, &ok);
                M->model = cur_str(&c, d->arena, ip, &ok);
                M->type = cur_str(&c, d->arena, ip, &ok);
                M->brand = cur_str(&c, d->arena, ip, &ok);
                if (!M->src) ok = false;
                else B->nmodels++;
            }
            d->nmodels += B->nmodels;
        }
        d->nbrands += L->nbrands;
    }
    uint32_t nv = ok ? ni_cur_u32_le(&c) : 0;
    if (ok && (c.bad || nv > ni_cur_left(&c) || !(d->vendors = calloc(nv ? nv : 1, sizeof *d->vendors)))) ok = false;
    for (uint32_t i = 0; ok && i < nv; i++) {
        dd_vendor *V = &d->vendors[d->nvendors];
        V->name = cur_str(&c, d->arena, ip, &ok);
        uint32_t k = ni_cur_u32_le(&c);
        if (!ok || c.bad || !V->name || k > ni_cur_left(&c)) { ok = false; break; }
        V->re = calloc((size_t)k + 1, sizeof *V->re);
        V->src = calloc((size_t)k + 1, sizeof *V->src);
        V->pf = calloc((size_t)k + 1, sizeof *V->pf);
        d->nvendors++;
        if (!V->re || !V->src || !V->pf) { ok = false; break; }
        for (; ok && V->n < k; V->n++) {
            V->src[V->n] = cur_str(&c, d->arena, ip, &ok);
            V->pf[V->n] = ni_cur_u32_le(&c);
            if (!V->src[V->n]) ok = false;
        }
    }
    /* the release table: searched where it lies (ip), else read into the
     * map, checking what the search relies on (offsets, strict key order) */
    uint32_t ni = ok ? ni_cur_u32_le(&c) : 0, itotal = ok ? ni_cur_u32_le(&c) : 0;
    uint8_t ipad = ok ? ni_cur_u8(&c) : 0;
    if (ok && (c.bad || ipad > 3 || !ni_cur_bytes(&c, ipad) || ni > ni_cur_left(&c) / 4)) ok = false;
    const uint8_t *offs = ok ? ni_cur_bytes(&c, (size_t)ni * 4) : NULL;
    const uint8_t *ibase = ok && offs && itotal <= ni_cur_left(&c) ? ni_cur_ptr(&c) : NULL;
    if (!ibase) ok = false;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (ok && ip && (uintptr_t)offs % 4 == 0) {
        d->info_off = (const uint32_t *)(uintptr_t)offs;
        d->info_base = ibase;
        d->info_n = ni;
        ni_cur_skip(&c, itotal);
        ni = 0;
    }
#endif
    const char *prev = NULL;
    for (uint32_t i = 0; ok && i < ni; i++) {
        uint32_t at = (uint32_t)offs[4 * i] | (uint32_t)offs[4 * i + 1] << 8 | (uint32_t)offs[4 * i + 2] << 16 |
                      (uint32_t)offs[4 * i + 3] << 24;
        if (at != (size_t)(ni_cur_ptr(&c) - ibase)) { ok = false; break; }
        const char *k = cur_str(&c, d->arena, true, &ok);     /* (only compared, then copied by the map) */
        const char *kend = (const char *)ni_cur_ptr(&c) - 1;
        const char *v = cur_str(&c, d->arena, ip, &ok);
        if (!ok || !k || !v || kend != k + strlen(k) || kend - k >= 2 * NI_DEVDET_FIELD_MAX + 2 ||
            (prev && strcmp(prev, k) >= 0)) { ok = false; break; }
        prev = k;
        if (ni_map_put(d->info, k, (void *)v)) ok = false;
    }
    if (ok && (size_t)(ni_cur_ptr(&c) - ibase) != itotal) ok = false;
    if (ok && (!(d->pf = ni_ua_prefilter_decode_in(&c, summed, ip)) || c.bad || ni_cur_left(&c))) ok = false;
    /* every prefilter rule number names a pattern of the prefilter */
    size_t npf = ok ? ni_ua_db_rules(d->pf, 0) : 0;
    for (size_t li = 0; ok && li < NLISTS; li++)
        for (size_t i = 0; i < d->lists[li].nbrands; i++) if (d->lists[li].brands[i].pf >= npf) ok = false;
    for (size_t i = 0; ok && i < d->nvendors; i++)
        for (size_t k = 0; k < d->vendors[i].n; k++) if (d->vendors[i].pf[k] >= npf) ok = false;
    return ok;
}

/* Fills d from the cache at path; false (d to be freed) when it is absent,
 * stale or bad.  A cache an earlier run read whole and right is kept
 * mapped and read only when the database is first consulted (ready()): a
 * run that never needs a device (no User-Agent uap-core leaves without one)
 * never reads it. */
static bool cache_read(ni_devdet *d, const char *path, uint64_t key)
{
    ni_cachefile cf;
    if (!ni_cachefile_open(&cf, path, dd_cache_magic, sizeof dd_cache_magic, DD_CACHE_VERIFIED_KIND, key))
        return false;
    if (cf.summed) {
        d->body = cf.body;
        ni_cachefile_keep(&cf, &d->map, &d->map_len);
        d->pending = true;
        return true;
    }
    bool ok = cache_body(d, cf.body, false);
    ni_cachefile_close(&cf, ok);
    return ok;
}

/* The database read from its kept cache if that is still to be done (the
 * first caller reads it, others wait); false when that failed (out of
 * memory: the database then answers nothing). */
static bool ready(const ni_devdet *cd)
{
    ni_devdet *d = (ni_devdet *)cd;          /* the database is heap memory of our own */
    if (!__atomic_load_n(&d->pending, __ATOMIC_ACQUIRE)) return !d->broken;
    pthread_mutex_lock(&d->mu);
    if (d->pending) {
        if (!cache_body(d, d->body, true)) d->broken = true;
        __atomic_store_n(&d->pending, false, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&d->mu);
    return !d->broken;
}

/* The key of the cache: the identities of the data files (false: one cannot
 * be stat'ed). */
static bool cache_key(const char *dir, uint64_t *key)
{
    ni_fileid ids[NLISTS + 2];
    memset(ids, 0, sizeof ids);
    for (size_t i = 0; i < NLISTS + 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir,
                 i < NLISTS ? list_files[i].file : i == NLISTS ? vendor_file : "device-info/device.js");
        if (!ni_fileid_of(path, &ids[i])) return false;
    }
    *key = ni_hash(&ni_hash_key_fixed, ids, sizeof ids);
    return true;
}

/* A model's requirements when the analysis knows none (or ran out of memory). */
static const char no_req[1];

ni_devdet *ni_devdet_load(const char *dir, ni_error *err)
{
    ni_devdet *d = devdet_new(dir, err);
    if (!d) return NULL;
    /* the files whose regexes an earlier run compiled, unchanged since? */
    ni_fileid ids[NLISTS + 1];
    bool have_ids = true;
    d->lazy = true;
    for (size_t i = 0; i <= NLISTS; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, i < NLISTS ? list_files[i].file : vendor_file);
        if (!ni_fileid_of(path, &ids[i])) have_ids = false;
        if (!have_ids || !ni_verified_has(DD_VERIFIED_KIND, &ids[i])) d->lazy = false;
    }
    /* verified files: what an earlier run read from them, if it kept it */
    char cpath[4200];
    uint64_t key = 0;
    bool cacheable = d->lazy && cache_key(dir, &key) && ni_user_cache_path(DD_CACHE_NAME, cpath, sizeof cpath);
    if (cacheable) {
        if (cache_read(d, cpath, key)) return d;
        ni_devdet_free(d);                  /* partly filled: start again */
        if (!(d = devdet_new(dir, err))) return NULL;
        d->lazy = true;
    }
    for (size_t i = 0; i < NLISTS; i++)
        if (load_list(d, dir, i, err)) goto fail;
    if (load_vendors(d, dir, err) || load_info(d, dir, err)) goto fail;
    if (!d->lazy && have_ids)
        for (size_t i = 0; i <= NLISTS; i++) (void)ni_verified_add(DD_VERIFIED_KIND, &ids[i]);
    if (!(d->pf = ni_ua_prefilter_build(d->pats, d->npats, err))) goto fail;
    free(d->pats); d->pats = NULL;
    if (cacheable) cache_write(d, cpath, key);
    return d;
fail:
    ni_devdet_free(d);
    return NULL;
}

void ni_devdet_free(ni_devdet *d)
{
    if (!d) return;
    for (size_t i = 0; i < NLISTS; i++) {
        dd_list *L = &d->lists[i];
        for (size_t b = 0; b < L->nbrands; b++) {
            pcre2_code_free(L->brands[b].re);
            pcre2_code_free(L->brands[b].jre);
            for (size_t m = 0; m < L->brands[b].nmodels; m++) {
                pcre2_code_free(L->brands[b].models[m].re);
                if (L->brands[b].models[m].req != no_req) free((char *)L->brands[b].models[m].req);
            }
            free(L->brands[b].models);
        }
        free(L->brands);
    }
    for (size_t i = 0; i < d->nvendors; i++) {
        for (size_t k = 0; k < d->vendors[i].n; k++) pcre2_code_free(d->vendors[i].re[k]);
        free(d->vendors[i].re);
        free(d->vendors[i].src);
        free(d->vendors[i].pf);
    }
    free(d->vendors);
    for (int i = 0; i < FR__N; i++) { pcre2_code_free(d->frag[i]); free(d->frag_req[i]); }
    ni_map_free(d->info, NULL);
    ni_ua_db_free(d->pf);
    free(d->pats);
    ni_arena_free(d->arena);
    ni_cachefile_unmap(d->map, d->map_len);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

size_t ni_devdet_brands(const ni_devdet *d) { return d && ready(d) ? d->nbrands : 0; }
size_t ni_devdet_models(const ni_devdet *d) { return d && ready(d) ? d->nmodels : 0; }
size_t ni_devdet_unfiltered(const ni_devdet *d) { return d && ready(d) && d->pf ? ni_ua_db_unfiltered(d->pf, 0) : 0; }

/* ---------------------------------------------------------------- matching */

/* One thread's scratch for matching (ni_devdet.h): made once, reused for
 * every User-Agent, so that a look-up allocates nothing (it used to make a
 * prefilter parser, whose JIT stack is an mmap, and match data per call). */
struct ni_devdet_matcher {
    const ni_devdet *d;          /* the database it serves */
    pcre2_match_data *md;
    pcre2_match_context *mc;     /* the match limit; no JIT stack (PCRE2's default) */
    ni_ua *pf;                   /* the prefilter's candidates over d->pf (made on first use: */
                                 /* the prefilter exists once the database is ready()) */
    char *lower; size_t lower_cap;
};

ni_devdet_matcher *ni_devdet_matcher_new(const ni_devdet *d, ni_error *err)
{
    ni_devdet_matcher *mt = calloc(1, sizeof *mt);
    if (mt) {
        mt->d = d;
        mt->md = pcre2_match_data_create(32, NULL);
        mt->mc = pcre2_match_context_create(NULL);
    }
    if (!mt || !mt->md || !mt->mc) {
        ni_devdet_matcher_free(mt);
        ni_error_set(err, NI_ERR_NOMEM, "device database: out of memory");
        return NULL;
    }
    pcre2_set_match_limit(mt->mc, NI_UA_MATCH_LIMIT);
    return mt;
}

void ni_devdet_matcher_free(ni_devdet_matcher *mt)
{
    if (!mt) return;
    pcre2_match_data_free(mt->md);
    pcre2_match_context_free(mt->mc);
    ni_ua_free(mt->pf);
    free(mt->lower);
    free(mt);
}

typedef struct mctx {
    const char *s; size_t n;
    char *lower;                 /* s lower-cased (ASCII), made when first needed */
    bool filter;                 /* models and fragments filtered by their literals (model_maybe, frag) */
    const uint64_t *cand;        /* prefilter candidates of s, NULL = try all */
    pcre2_match_data *md;
    pcre2_match_context *mc;
    ni_devdet_matcher *mt;       /* the scratch: md, mc and the lower-case buffer */
} mctx;

/* m->s lower-cased (ASCII) in the matcher's buffer; NULL when out of memory. */
static const char *lowered(mctx *m)
{
    if (m->lower) return m->lower;
    ni_devdet_matcher *mt = m->mt;
    if (mt->lower_cap < m->n + 1) {
        char *nb = realloc(mt->lower, m->n + 1);
        if (!nb) return NULL;
        mt->lower = nb; mt->lower_cap = m->n + 1;
    }
    ni_ascii_lower_n(mt->lower, m->s, m->n);
    return m->lower = mt->lower;
}

static bool maybe(const mctx *m, uint32_t id)
{
    return !m->cand || (m->cand[id / 64] >> (id % 64)) & 1;
}

/* The compiled regex of *slot, compiled from src on first use when the
 * database is lazy (an earlier run compiled every one of them: failing now
 * means out of memory, and the rule does not match).  JIT-compiled as at
 * load (brands, which every UA the prefilter lets through is tried against);
 * model and vendor rules interpreted, as at load.  Threads sharing the
 * database may race here: the first to publish wins, the others free theirs. */
static const pcre2_code *rx(pcre2_code *const *slot, const char *src, bool jit)
{
    pcre2_code **s = (pcre2_code **)slot;     /* the database is heap memory of our own */
    pcre2_code *re = __atomic_load_n(s, __ATOMIC_ACQUIRE);
    if (re || !src) return re;
    re = compile(src, true, jit, "ni_devdet", "rule", NULL);
    if (!re) return NULL;
    pcre2_code *expected = NULL;
    if (!__atomic_compare_exchange_n(s, &expected, re, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        pcre2_code_free(re);
        re = expected;
    }
    return re;
}

/* Could model M match m->s?  Its required literals (the prefilter's analysis,
 * made the first time the model is reached: ~8,000 instructions, against
 * ~40,000 to compile it and as many to run it) looked up in the lower-cased
 * User-Agent: false only when it cannot, so results are those of trying it.
 * A brand's models are tried in order after the brand matched (hundreds for
 * Xiaomi or Vivo), most of them in vain.  Thread-safe like rx(). */
static bool model_maybe(mctx *m, const dd_model *M)
{
    dd_model *mm = (dd_model *)M;             /* the database is heap memory of our own */
    if (!m->filter) return true;
    const char *req = __atomic_load_n(&mm->req, __ATOMIC_ACQUIRE);
    if (!req) {
        char buf[4096];
        size_t n = M->src ? ni_ua_required(M->src, buf, sizeof buf) : 0;
        char *made = n > 1 ? malloc(n) : NULL;
        if (made) memcpy(made, buf, n);
        req = made ? made : no_req;
        const char *expected = NULL;
        if (!__atomic_compare_exchange_n(&mm->req, &expected, req, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            if (made) free(made);
            req = expected;
        }
    }
    if (!*req) return true;
    const char *low = lowered(m);
    return !low || ni_ua_required_met(req, low, m->n);
}

static bool match(mctx *m, const pcre2_code *re)
{
    if (!re) return false;
    int rc = pcre2_match(re, (PCRE2_SPTR)m->s, m->n, 0, 0, m->md, m->mc);
    return rc >= 0;
}

/* Does fixed fragment f match?  Its required literals are looked up first
 * (with the filter on): a fragment is tried on every User-Agent the
 * database is asked about, interpreted, and most lack its literals. */
static bool frag(const ni_devdet *d, mctx *m, int f)
{
    if (m->filter && d->frag_req[f]) {
        const char *low = lowered(m);
        if (low && !ni_ua_required_met(d->frag_req[f], low, m->n)) return false;
    }
    return match(m, d->frag[f]);
}

static void copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n > cap - 1) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* Fills "$1".."$max" of tmpl with the groups of the last match, the way
 * matchReplace (helper.js) does: one pass per group number, unset groups
 * as "", then '_' → ' ', a trailing " TD" dropped, trimmed; "Build" → "". */
static void build_model(mctx *m, const pcre2_code *re, const char *tmpl, char *out, size_t cap)
{
    char a[NI_DEVDET_FIELD_MAX * 4], b[sizeof a];
    copy(a, sizeof a, tmpl, strlen(tmpl));
    uint32_t groups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    uint32_t max = groups ? groups : 1;
    if (strchr(a, '$')) {
        for (uint32_t g = 1; g <= max && g < 10; g++) {
            char tok[4] = { '$', (char)('0' + g), 0, 0 };
            if (!strstr(a, tok)) continue;
            size_t o = 0;
            for (const char *p = a; *p && o < sizeof b - 1; ) {
                if (p[0] == tok[0] && p[1] == tok[1]) {
                    if (g <= groups && ov[2 * g] != PCRE2_UNSET) {
                        size_t gl = ov[2 * g + 1] - ov[2 * g];
                        if (gl > sizeof b - 1 - o) gl = sizeof b - 1 - o;
                        memcpy(b + o, m->s + ov[2 * g], gl);
                        o += gl;
                    }
                    p += 2;
                } else b[o++] = *p++;
            }
            b[o] = 0;
            memcpy(a, b, o + 1);
        }
    }
    for (char *p = a; *p; p++) if (*p == '_') *p = ' ';
    size_t n = strlen(a);
    if (n >= 3 && a[n - 3] == ' ' && (a[n - 2] | 32) == 't' && (a[n - 1] | 32) == 'd') a[n -= 3] = 0;
    if (!strcmp(a, "Build")) { out[0] = 0; return; }
    const char *s = a;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    copy(out, cap, s, n);
}

/* A brand regex is JIT-compiled once it has been tried this many times.
 * Measured (callgrind, PCRE2 10.42): JIT compiling costs ~1,000,000
 * instructions a brand regex, an interpreted try ~80,000 and a JIT one
 * ~8,000, so the JIT pays for itself after ~14 tries: compiling at the 16th
 * costs at most about twice what knowing the future would (the rent-or-buy
 * rule), where compiling at the 8th cost up to ~14 tries' worth for a brand
 * tried 8 times (most runs see few distinct User-Agents). */
#define DD_JIT_AFTER 16

/* The code to match brand B with: its JIT-compiled copy once it has been
 * tried DD_JIT_AFTER times, else the plain one (compiled on first use when
 * lazy).  Thread-safe like rx(): the copy is made by the thread whose try is
 * the DD_JIT_AFTER-th and published whole; the plain code is never modified. */
static const pcre2_code *brand_rx(const dd_brand *B)
{
    dd_brand *b = (dd_brand *)B;              /* the database is heap memory of our own */
    pcre2_code *j = __atomic_load_n(&b->jre, __ATOMIC_ACQUIRE);
    if (j) return j;
    const pcre2_code *re = rx(&b->re, b->src, false);
    if (re && __atomic_add_fetch(&b->tries, 1, __ATOMIC_RELAXED) == DD_JIT_AFTER) {
        pcre2_code *c = pcre2_code_copy(re);
        if (c && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0) {
            __atomic_store_n(&b->jre, c, __ATOMIC_RELEASE);
            return c;
        }
        pcre2_code_free(c);
    }
    return re;
}

/* One list; 1 = answered (out filled, possibly empty), 0 = no answer. */
static int parse_list(const ni_devdet *d, const dd_list *L, mctx *m, ni_devdet_result *out)
{
    memset(out, 0, sizeof *out);
    const dd_brand *hit = NULL;
    for (size_t i = 0; i < L->nbrands && !hit; i++)
        if (maybe(m, L->brands[i].pf) && match(m, brand_rx(&L->brands[i]))) hit = &L->brands[i];
    if (hit) {
        const char *type = hit->type, *brand = hit->name;
        if (hit->nmodels) {
            for (size_t k = 0; k < hit->nmodels; k++) {
                const dd_model *M = &hit->models[k];
                if (!model_maybe(m, M)) continue;
                const pcre2_code *mre = rx(&M->re, M->src, false);
                if (!match(m, mre)) continue;
                if (M->model) build_model(m, mre, M->model, out->model, sizeof out->model);
                if (M->type) type = M->type;
                if (M->brand) brand = M->brand;
                break;
            }
        } else if (hit->model) {
            build_model(m, brand_rx(hit), hit->model,   /* the brand regex's groups */ out->model, sizeof out->model);
        }
        copy(out->brand, sizeof out->brand, brand, strlen(brand));
        if (type) copy(out->type, sizeof out->type, type, strlen(type));
        /* an "iPhone" that says Android is a fake: no device */
        if (!strcmp(out->brand, "Apple") && frag(d, m, FR_ANDROID_SP)) memset(out, 0, sizeof *out);
    }
    switch (L->gate) {
    case GATE_HBBTV:
        if (!out->type[0]) copy(out->type, sizeof out->type, "tv", 2);
        return 1;
    case GATE_SHELLTV:
        copy(out->type, sizeof out->type, "tv", 2);
        return 1;
    case GATE_FBMD:
        if (!hit) return 0;
        copy(out->type, sizeof out->type, "desktop", 7);
        return 1;
    default:
        return hit != NULL;
    }
}

bool ni_devdet_parse(const ni_devdet *d, const char *ua, size_t len, const char *hint_model,
                     const char *hint_platform_version, ni_devdet_result *out)
{
    return ni_devdet_parse_ex(d, ua, len, hint_model, hint_platform_version, true, out);
}

bool ni_devdet_parse_ex(const ni_devdet *d, const char *ua, size_t len, const char *hint_model,
                        const char *hint_platform_version, bool prefilter, ni_devdet_result *out)
{
    ni_devdet_matcher *mt = ni_devdet_matcher_new(d, NULL);
    if (!mt) { memset(out, 0, sizeof *out); return false; }
    bool found = ni_devdet_match(d, mt, ua, len, hint_model, hint_platform_version, prefilter, out);
    ni_devdet_matcher_free(mt);
    return found;
}

bool ni_devdet_match(const ni_devdet *d, ni_devdet_matcher *mt, const char *ua, size_t len, const char *hint_model,
                     const char *hint_platform_version, bool prefilter, ni_devdet_result *out)
{
    if (!mt || mt->d != d) return ni_devdet_parse_ex(d, ua, len, hint_model, hint_platform_version, prefilter, out);
    memset(out, 0, sizeof *out);
    if (!d || !ua || !ready(d)) return false;
    if (len > NI_UA_LEN_MAX) len = NI_UA_LEN_MAX;
    if (hint_model && !*hint_model) hint_model = NULL;
    mctx m = { .s = ua, .n = len, .filter = prefilter, .md = mt->md, .mc = mt->mc, .mt = mt };
    char *restored = NULL;
    bool found = false;

    bool ch_form = frag(d, &m, FR_CH_ANDROID) && !frag(d, &m, FR_TELEGRAM);
    if (hint_model) {
        /* helper.js restoreUserAgentFromClientHints: the model goes where
         * the reduced form left it out */
        static const char *const forms[] = { "X11; Linux x86_64", "Windows NT 10.0; Win64; x64" };
        size_t cap = len + strlen(hint_model) + 64;
        if (!(restored = malloc(cap))) goto done;
        size_t o = 0;
        const char *k = ch_form ? memmem(ua, len, "Android ", 8) : NULL;   /* ua need not end in NUL */
        if (k && (size_t)(k - ua) < len) {
            const char *p = k + 8, *end = ua + len;
            while (p < end && ((*p >= '0' && *p <= '9') || *p == '.')) p++;
            if (p + 3 <= end && !memcmp(p, "; K", 3)) p += 3;
            const char *ver = hint_platform_version && *hint_platform_version ? hint_platform_version : "10";
            o = (size_t)snprintf(restored, cap, "%.*sAndroid %s; %s", (int)(k - ua), ua, ver, hint_model);
            if (o < cap) o += (size_t)snprintf(restored + o, cap - o, "%.*s", (int)(end - p), p);
        } else {
            o = (size_t)snprintf(restored, cap, "%.*s", (int)len, ua);
            for (int f = 0; f < 2; f++) {
                const char *q = memmem(restored, o, forms[f], strlen(forms[f]));
                if (!q) continue;
                size_t at = (size_t)(q - restored) + strlen(forms[f]);
                char *tmp = malloc(cap);
                if (!tmp) goto done;
                size_t t = (size_t)snprintf(tmp, cap, "%.*s; %s%s", (int)at, restored, hint_model, restored + at);
                free(restored); restored = tmp; o = t < cap ? t : cap - 1;
                break;
            }
        }
        if (o >= cap) o = cap - 1;
        m.s = restored; m.n = o;
        m.lower = NULL;                                         /* (of the User-Agent as sent) */
    } else {
        if (ch_form) goto done;                                 /* no model to find */
        if (frag(d, &m, FR_DESKTOP) && !frag(d, &m, FR_DESKTOP_EXCL)) goto done;
    }
    if (prefilter && !mt->pf && d->pf) mt->pf = ni_ua_new(d->pf, 0, NULL);   /* first use (NULL: try all) */
    if (prefilter && mt->pf) m.cand = ni_ua_candidates(mt->pf, m.s, m.n);
    for (size_t i = 0; i < NLISTS; i++) {
        const dd_list *L = &d->lists[i];
        if (L->gate == GATE_HBBTV && !frag(d, &m, FR_HBBTV)) continue;
        if (L->gate == GATE_SHELLTV && !frag(d, &m, FR_SHELLTV)) continue;
        if (L->gate == GATE_FBMD && !frag(d, &m, FR_FBMD)) continue;
        if (parse_list(d, L, &m, out)) break;
    }
    if (!out->brand[0]) {
        for (size_t i = 0; i < d->nvendors && !out->brand[0]; i++)
            for (size_t k = 0; k < d->vendors[i].n; k++)
                if (maybe(&m, d->vendors[i].pf[k]) && match(&m, rx(&d->vendors[i].re[k], d->vendors[i].src[k], false))) { copy(out->brand, sizeof out->brand, d->vendors[i].name, strlen(d->vendors[i].name)); break; }
    }
    if (!out->model[0] && hint_model) copy(out->model, sizeof out->model, hint_model, strlen(hint_model));
    found = out->brand[0] || out->model[0];
done:
    free(restored);
    return found;
}

/* The release table's value of key: searched in the mapped cache (sorted
 * entries: u32 length, key, NUL, u32 length, value, NUL), else in the map. */
static const char *info_get(const ni_devdet *d, const char *key)
{
    if (!d->info_off) return ni_map_get(d->info, key);
    size_t lo = 0, hi = d->info_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = d->info_base + d->info_off[mid];
        int c = strcmp(key, (const char *)e + 4);
        if (!c) {
            uint32_t kl = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
            return (const char *)e + 4 + kl + 1 + 4;
        }
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return NULL;
}

const char *ni_devdet_release(const ni_devdet *d, const char *brand, const char *model)
{
    if (!d || !brand || !model || !*brand || !*model || !ready(d)) return NULL;
    char cur[NI_DEVDET_FIELD_MAX];
    snprintf(cur, sizeof cur, "%s", model);
    for (int hop = 0; hop <= DD_REDIRECT_MAX; hop++) {
        char key[2 * NI_DEVDET_FIELD_MAX + 2];
        if ((size_t)snprintf(key, sizeof key, "%s\t%s", brand, cur) >= sizeof key) return NULL;
        for (char *p = key; *p; p++) {
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            else if (*p == '_') *p = ' ';
        }
        const char *v = info_get(d, key);
        if (!v) return NULL;
        if (strncmp(v, "->", 2)) return v;
        snprintf(cur, sizeof cur, "%s", v + 2);
    }
    return NULL;
}
