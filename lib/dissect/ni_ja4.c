/* ni_ja4.c — JA4 TLS client fingerprint (FoxIO JA4 definition,
 * technical_details/JA4.md, BSD-3-Clause):
 *   ja4_a = proto, 2-char version, d|i, 2-digit cipher count, 2-digit
 *           extension count (GREASE excluded, capped at 99), ALPN chars
 *   ja4_b = sha256("cccc,cccc,...") of the sorted ciphers, first 12 hex
 *   ja4_c = sha256("eeee,...[_ssss,...]") of the sorted extensions without
 *           SNI (0000) and ALPN (0010), then "_" and the signature algorithms
 *           in wire order when there are any; first 12 hex
 * An empty list hashes to "000000000000" (the spec's rule).  Each distinct
 * list text is hashed once when the caller keeps a cache (ni_ja4_cache),
 * and a list seen before in the same order is neither sorted nor hashed. */
#include "dissect/ni_ja4.h"
#include "core/ni_hash.h"
#include "core/ni_sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* SHA-256 is netintel's own (core/ni_sha256): OpenSSL 3's one-shot SHA256()
 * goes through EVP, whose first implicit algorithm fetch costs ~5 M
 * instructions (before the first TLS hello is fingerprinted) and whose every
 * call allocates a context and takes a global lock. */

const char *ni_ja4_version_code(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default:     return "00";
    }
}

/* Insertion sort: the lists are short (tens of values), where it beats
 * qsort's calls through a pointer. */
static void sort_u16(uint16_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint16_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) { v[j] = v[j - 1]; j--; }
        v[j] = x;
    }
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Appends "xxxx" items joined by ',' at o; returns the end. */
static char *list_text(char *o, const uint16_t *v, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        if (i) *o++ = ',';
        o[0] = hx[v[i] >> 12]; o[1] = hx[(v[i] >> 8) & 15];
        o[2] = hx[(v[i] >> 4) & 15]; o[3] = hx[v[i] & 15];
        o += 4;
    }
    return o;
}

/* ---- the cache of hashes ---------------------------------------------------
 * The same cipher and extension lists come back session after session (one
 * per client build): the hash of each distinct text is computed once and
 * kept in a direct-mapped table, slot chosen by SipHash under a random key
 * (the lists come from the traffic), entry replaced on collision; a hit
 * compares the whole text, so results are those of hashing every time. */
#define JA4_CACHE_SLOTS 1024
#define JA4_CACHE_TEXT_MAX 1024      /* longer texts are hashed, not kept */

typedef struct ja4_slot { uint16_t len; char hex[12]; char *text; } ja4_slot;

/* ---- the cache of lists ----------------------------------------------------
 * Before any sorting or text: the 12 hex digits of ja4_b keyed by the
 * cipher values, and of ja4_c keyed by the extension values (without SNI
 * and ALPN) followed by the signature algorithms, all as on the wire
 * without GREASE.  Equal lists in equal order give equal sorted lists, so a
 * hit (the whole list compared) answers what sorting and hashing would.  A
 * client that reorders its extensions (Chrome) misses here for ja4_c and
 * falls through to sorting, where the text cache above still saves the
 * SHA-256.  Direct-mapped, replaced on collision: a crafted collision only
 * costs the computation, so the slot hash is a fast seeded one. */
#define JA4_LIST_SLOTS 1024
#define JA4_LIST_MAX 512             /* longer lists are computed, not kept */

typedef struct ja4_list_slot {
    uint8_t kind;                    /* 0 empty, 'b' or 'c' */
    uint16_t n, split;               /* values; 'c': how many are extensions */
    char hex[12];
    uint16_t *v;
} ja4_list_slot;

struct ni_ja4_cache {
    ni_hash_key key;
    uint64_t seed;
    ja4_slot slot[JA4_CACHE_SLOTS];
    ja4_list_slot list[JA4_LIST_SLOTS];
};

ni_ja4_cache *ni_ja4_cache_new(void)
{
    ni_ja4_cache *c = calloc(1, sizeof *c);
    if (c) {
        ni_hash_key_random(&c->key);
        c->seed = ni_hash(&c->key, "ja4-lists", 9);
    }
    return c;
}

void ni_ja4_cache_free(ni_ja4_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < JA4_CACHE_SLOTS; i++) free(c->slot[i].text);
    for (size_t i = 0; i < JA4_LIST_SLOTS; i++) free(c->list[i].v);
    free(c);
}

/* The list slot for (kind, v[0..n), split); *hit when it holds that list. */
static ja4_list_slot *list_slot(ni_ja4_cache *c, uint8_t kind, const uint16_t *v, size_t n,
                                size_t split, bool *hit)
{
    uint64_t h = c->seed ^ ((uint64_t)kind << 56) ^ ((uint64_t)split << 32) ^ n;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {                     /* four values a step */
        uint64_t w;
        memcpy(&w, v + i, sizeof w);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ v[i]) * 0x100000001b3ULL;
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;            /* final mix */
    ja4_list_slot *sl = &c->list[h % JA4_LIST_SLOTS];
    *hit = sl->kind == kind && sl->n == n && sl->split == split && !memcmp(sl->v, v, n * sizeof *v);
    return sl;
}

/* Keeps v[0..n) (before it is sorted) in sl; false when it cannot. */
static bool list_keep(ja4_list_slot *sl, uint8_t kind, const uint16_t *v, size_t n, size_t split)
{
    uint16_t *k = malloc(n * sizeof *k);
    if (!k) return false;
    memcpy(k, v, n * sizeof *k);
    free(sl->v);
    sl->v = k; sl->kind = kind; sl->n = (uint16_t)n; sl->split = (uint16_t)split;
    return true;
}

/* The first 12 hex digits of sha256(text[0..n)) into out (12 chars, no NUL). */
static void hex12(ni_ja4_cache *c, const char *text, size_t n, char *out)
{
    ja4_slot *sl = NULL;
    if (c && n <= JA4_CACHE_TEXT_MAX) {
        sl = &c->slot[ni_hash(&c->key, text, n) % JA4_CACHE_SLOTS];
        if (sl->text && sl->len == n && !memcmp(sl->text, text, n)) { memcpy(out, sl->hex, 12); return; }
    }
    uint8_t d[NI_SHA256_LEN];
    static const char hx[] = "0123456789abcdef";
    ni_sha256(text, n, d);
    for (int i = 0; i < 6; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    if (sl) {
        char *t = malloc(n ? n : 1);
        if (!t) return;
        free(sl->text);
        memcpy(t, text, n);
        sl->text = t; sl->len = (uint16_t)n;
        memcpy(sl->hex, out, 12);
    }
}

/* Copies the non-GREASE values of v (optionally without SNI/ALPN) into dst;
 * *kept (if not NULL): how many are not GREASE, SNI and ALPN included. */
static size_t filter(uint16_t *dst, const uint16_t *v, size_t n, bool drop_sni_alpn, size_t *kept)
{
    size_t k = 0, all = 0;
    for (size_t i = 0; i < n; i++) {
        if (ni_tls_is_grease(v[i])) continue;
        all++;
        if (drop_sni_alpn && (v[i] == 0x0000 || v[i] == 0x0010)) continue;
        dst[k++] = v[i];
    }
    if (kept) *kept = all;
    return k;
}

bool ni_ja4_compute(const ni_ja4_input *in, char *out) { return ni_ja4_compute_cached(in, NULL, out); }

bool ni_ja4_compute_cached(const ni_ja4_input *in, ni_ja4_cache *cache, char *out)
{
    out[0] = 0;
    /* the values, then the texts to hash (5 bytes a value at most): on the
     * stack for the usual sizes */
    enum { STACK_VALUES = 256 };
    size_t cap = in->n_ciphers + in->n_exts + in->n_sigalgs + 1;
    uint16_t vbuf[STACK_VALUES];
    char tbuf[STACK_VALUES * 5 + 2];
    uint16_t *tmp = cap <= STACK_VALUES ? vbuf : malloc(cap * sizeof *tmp);
    char *text = cap <= STACK_VALUES ? tbuf : malloc(cap * 5 + 2);
    if (!tmp || !text) {
        if (tmp != vbuf) free(tmp);
        if (text != tbuf) free(text);
        return false;
    }

    uint16_t *ci = tmp;
    size_t nci = filter(ci, in->ciphers, in->n_ciphers, false, NULL);
    uint16_t *ex = ci + nci;
    size_t next_all = 0;
    size_t nex = filter(ex, in->exts, in->n_exts, true, &next_all);
    uint16_t *sa = ex + nex;
    size_t nsa = filter(sa, in->sigalgs, in->n_sigalgs, false, NULL);

    /* ALPN: first and last byte of the first value when both are
     * alphanumeric, else first and last hex digit of the value's hex form. */
    char alpn[3] = "00";
    if (in->alpn && in->alpn_len > 0) {
        uint8_t f = in->alpn[0], l = in->alpn[in->alpn_len - 1];
        if (is_alnum(f) && is_alnum(l)) { alpn[0] = (char)f; alpn[1] = (char)l; }
        else {
            static const char hx[] = "0123456789abcdef";
            alpn[0] = hx[f >> 4]; alpn[1] = hx[l & 15];
        }
    }

    char b[13], c[13];
    size_t kc = nci > 99 ? 99 : nci, ke = next_all > 99 ? 99 : next_all;
    const char *vc = ni_ja4_version_code(in->version);
    if (nci == 0) memcpy(b, "000000000000", 13);
    else {
        bool hit = false, keep = false;
        ja4_list_slot *sl = NULL;
        if (cache && nci <= JA4_LIST_MAX) sl = list_slot(cache, 'b', ci, nci, 0, &hit);
        if (hit) memcpy(b, sl->hex, 12);
        else {
            keep = sl && list_keep(sl, 'b', ci, nci, 0);
            sort_u16(ci, nci);
            char *e = list_text(text, ci, nci);
            hex12(cache, text, (size_t)(e - text), b);
            if (keep) memcpy(sl->hex, b, 12);
        }
        b[12] = 0;
    }
    if (nex == 0) memcpy(c, "000000000000", 13);
    else {
        bool hit = false, keep = false;
        ja4_list_slot *sl = NULL;
        if (cache && nex + nsa <= JA4_LIST_MAX) sl = list_slot(cache, 'c', ex, nex + nsa, nex, &hit);
        if (hit) memcpy(c, sl->hex, 12);
        else {
            keep = sl && list_keep(sl, 'c', ex, nex + nsa, nex);
            sort_u16(ex, nex);
            char *e = list_text(text, ex, nex);
            if (nsa) { *e++ = '_'; e = list_text(e, sa, nsa); }
            hex12(cache, text, (size_t)(e - text), c);
            if (keep) memcpy(sl->hex, c, 12);
        }
        c[12] = 0;
    }
    out[0] = in->proto ? in->proto : 't';
    out[1] = vc[0]; out[2] = vc[1];
    out[3] = in->has_sni ? 'd' : 'i';
    out[4] = (char)('0' + kc / 10); out[5] = (char)('0' + kc % 10);
    out[6] = (char)('0' + ke / 10); out[7] = (char)('0' + ke % 10);
    out[8] = alpn[0]; out[9] = alpn[1];
    out[10] = '_';
    memcpy(out + 11, b, 12);
    out[23] = '_';
    memcpy(out + 24, c, 13);                     /* with its NUL */
    if (tmp != vbuf) free(tmp);
    if (text != tbuf) free(text);
    return true;
}
