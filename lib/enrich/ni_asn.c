/* ni_asn.c — ASN range tables: CSV loading (RFC 4180 fields), a binary cache,
 * GeoLite2-ASN MaxMind DB loading (through ni_geo), O(log n) lookups and
 * range → CIDR conversion.
 *
 * Cache file (all integers little-endian; IPv6 addresses 16 bytes in network
 * order):
 *   "NIASNC\x00\x02"  u64 key  u32 n4  u32 n6  u32 norgs  u32 pool_len
 *   n4 × (u32 first, u32 last, u32 asn, u32 org)
 *   n6 × (16 first, 16 last, u32 asn, u32 org)
 *   norgs × u32 offset into pool     pool (NUL-terminated strings)
 *   u64 checksum (ni_hash with the fixed key, of everything before it)
 * key = ni_hash (fixed key) over the identities of both CSVs.  The reader
 * checks every count against the file size, every offset and index, and that
 * the ranges are sorted and disjoint, so a damaged cache is rebuilt, never
 * trusted.  A cache file that passed those checks once (its identity is
 * remembered: core/ni_verified.h) is then used where it lies, mapped for the
 * table's lifetime, not copied: a run reads only the pages its lookups reach. */
#include "enrich/ni_asn.h"
#include "core/ni_verified.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ni_cursor.h"
#include "core/ni_file.h"
#include "core/ni_hash.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "enrich/ni_geo.h"
#include "core/ni_datadir.h"

__extension__ typedef unsigned __int128 u128;

typedef struct r4 { uint32_t first, last, asn, org; } r4;
typedef struct r6 { u128 first, last; uint32_t asn, org; } r6;

struct ni_asn {
    r4 *v4; size_t n4, cap4;
    r6 *v6; size_t n6, cap6;
    char *pool; size_t pool_len, pool_cap;
    uint32_t *org_off; size_t norgs, org_cap;
    ni_map *intern;            /* org string → index + 1 (loading only) */
    ni_asn_info info;
    /* Read from a cache that an earlier run checked whole (read_cache): v4,
     * org_off and pool point into the file, kept mapped (map, map_len), and
     * the IPv6 ranges are read where they lie (v6raw: n6 records of the
     * file's 40 bytes; v6 NULL), so that a run reads only the pages its
     * lookups reach. */
    const uint8_t *v6raw;
    void *map; size_t map_len;
};

static const uint8_t cache_magic[8] = { 'N', 'I', 'A', 'S', 'N', 'C', 0, 2 };
#define ASN_CACHE_VERIFIED_KIND "asn-cache-sum/1"   /* its checksum matched (core/ni_verified.h) */

/* ---------------------------------------------------------------- basics */

/* A big-endian 64-bit value at b. */
static inline uint64_t be64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Two 64-bit loads, not 16 shifts: the ASN cache holds ~10^5 IPv6 ranges. */
static u128 u128_from_bytes(const uint8_t *b)
{
    return (u128)be64(b) << 64 | be64(b + 8);
}

static void u128_to_bytes(u128 v, uint8_t *b)
{
    for (int i = 15; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
}

static void addr4(ni_addr *a, uint32_t v)
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    a->b[0] = (uint8_t)(v >> 24); a->b[1] = (uint8_t)(v >> 16);
    a->b[2] = (uint8_t)(v >> 8);  a->b[3] = (uint8_t)v;
}

static void addr6(ni_addr *a, u128 v)
{
    memset(a, 0, sizeof *a);
    a->family = 6;
    u128_to_bytes(v, a->b);
}

static uint32_t get4(const ni_addr *a)
{
    return ((uint32_t)a->b[0] << 24) | ((uint32_t)a->b[1] << 16) | ((uint32_t)a->b[2] << 8) | a->b[3];
}

static ni_asn *asn_new(void)
{
    ni_asn *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->intern = ni_map_new(NI_ASN_RANGES_MAX);
    a->pool_cap = 4096;
    a->pool = malloc(a->pool_cap);
    if (!a->intern || !a->pool) { ni_asn_free(a); return NULL; }
    a->pool[0] = 0;                  /* org 0 = "" */
    a->pool_len = 1;
    a->org_cap = 1024;
    a->org_off = malloc(a->org_cap * sizeof *a->org_off);
    if (!a->org_off) { ni_asn_free(a); return NULL; }
    a->org_off[0] = 0;
    a->norgs = 1;
    return a;
}

void ni_asn_free(ni_asn *a)
{
    if (!a) return;
    if (!a->map) { free(a->v4); free(a->pool); free(a->org_off); }
    free(a->v6);
    if (a->map) munmap(a->map, a->map_len);
    if (a->intern) ni_map_free(a->intern, NULL);
    free(a);
}

const ni_asn_info *ni_asn_get_info(const ni_asn *a) { return &a->info; }

/* Index of org s (interned); -1 on limit/OOM. */
static long intern_org(ni_asn *a, const char *s, size_t n)
{
    if (!n) return 0;
    void **slot = ni_map_slot(a->intern, s);
    if (!slot) return -1;
    if (*slot) return (long)((uintptr_t)*slot - 1);
    if (a->pool_len + n + 1 > NI_ASN_POOL_MAX) return -1;
    while (a->pool_len + n + 1 > a->pool_cap) {
        char *p = realloc(a->pool, a->pool_cap * 2);
        if (!p) return -1;
        a->pool = p; a->pool_cap *= 2;
    }
    if (a->norgs == a->org_cap) {
        uint32_t *o = realloc(a->org_off, a->org_cap * 2 * sizeof *o);
        if (!o) return -1;
        a->org_off = o; a->org_cap *= 2;
    }
    memcpy(a->pool + a->pool_len, s, n);
    a->pool[a->pool_len + n] = 0;
    a->org_off[a->norgs] = (uint32_t)a->pool_len;
    a->pool_len += n + 1;
    *slot = (void *)(uintptr_t)(a->norgs + 1);
    return (long)a->norgs++;
}

static bool push4(ni_asn *a, r4 r)
{
    if (a->n4 == a->cap4) {
        if (a->n4 >= NI_ASN_RANGES_MAX) return false;
        size_t c = a->cap4 ? a->cap4 * 2 : 4096;
        r4 *p = realloc(a->v4, c * sizeof *p);
        if (!p) return false;
        a->v4 = p; a->cap4 = c;
    }
    a->v4[a->n4++] = r;
    return true;
}

static bool push6(ni_asn *a, r6 r)
{
    if (a->n6 == a->cap6) {
        if (a->n6 >= NI_ASN_RANGES_MAX) return false;
        size_t c = a->cap6 ? a->cap6 * 2 : 4096;
        r6 *p = realloc(a->v6, c * sizeof *p);
        if (!p) return false;
        a->v6 = p; a->cap6 = c;
    }
    a->v6[a->n6++] = r;
    return true;
}

static int cmp4(const void *x, const void *y)
{
    const r4 *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return a->last < b->last ? -1 : a->last > b->last;
}

static int cmp6(const void *x, const void *y)
{
    const r6 *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return a->last < b->last ? -1 : a->last > b->last;
}

/* Sorts and makes the ranges disjoint: a range overlapping the next one is
 * cut to end before it (dropped when nothing is left). */
static void finish(ni_asn *a, bool sort)
{
    size_t overlaps = 0, w = 0;
    if (!sort && a->info.source && !strcmp(a->info.source, "cache")) {
        /* read_cache (or the run that checked the file) found the ranges
         * sorted and disjoint: nothing to cut */
        goto counts;
    }
    if (sort && a->n4 > 1) qsort(a->v4, a->n4, sizeof *a->v4, cmp4);
    for (size_t i = 0; i < a->n4; i++) {
        r4 cur = a->v4[i];
        if (w && a->v4[w - 1].last >= cur.first) {
            overlaps++;
            if (a->v4[w - 1].first == cur.first) w--;
            else a->v4[w - 1].last = cur.first - 1;
        }
        a->v4[w++] = cur;
    }
    a->n4 = w;
    w = 0;
    if (sort && a->n6 > 1) qsort(a->v6, a->n6, sizeof *a->v6, cmp6);
    for (size_t i = 0; i < a->n6; i++) {
        r6 cur = a->v6[i];
        if (w && a->v6[w - 1].last >= cur.first) {
            overlaps++;
            if (a->v6[w - 1].first == cur.first) w--;
            else a->v6[w - 1].last = cur.first - 1;
        }
        a->v6[w++] = cur;
    }
    a->n6 = w;
counts:
    a->info.overlaps = overlaps;
    a->info.v4_ranges = a->n4;
    a->info.v6_ranges = a->n6;
    a->info.orgs = a->norgs - 1;
    if (a->intern) { ni_map_free(a->intern, NULL); a->intern = NULL; }
}

/* ------------------------------------------------------------------- CSV */

/* Splits an RFC 4180 line into at most max fields, unquoting in place.
 * Returns the field count, or -1 for a malformed quote. */
static int csv_split(char *line, char **f, size_t *flen, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return -1;
        if (*p == '"') {
            char *out = ++p, *start = out;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"') {
                    if (p[1] == '"') { *out++ = '"'; p += 2; continue; }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            f[n] = start; flen[n] = (size_t)(out - start);
            if (*p && *p != ',') return -1;
        } else {
            char *start = p;
            while (*p && *p != ',') {
                if (*p == '"') return -1;
                p++;
            }
            f[n] = start; flen[n] = (size_t)(p - start);
        }
        n++;
        if (!*p) return n;
        *p++ = 0;
    }
}

static ni_err load_csv_file(ni_asn *a, const char *path, ni_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        return ni_error_set(err, e == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", path, strerror(e));
    }
    char *line = malloc(NI_LINE_MAX + 2);
    if (!line) { fclose(fp); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    ni_err r = NI_OK;
    unsigned long lineno = 0;
    while (!r && fgets(line, NI_LINE_MAX + 2, fp)) {
        lineno++;
        size_t len = strlen(line);
        if (len > NI_LINE_MAX || (len == NI_LINE_MAX && line[len - 1] != '\n')) {
            r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: line too long", path, lineno);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (strlen(line) != len) { r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: NUL byte", path, lineno); break; }
        char *f[4];
        size_t fl[4];
        int nf = csv_split(line, f, fl, 4);
        if (nf != 4) { r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: expected 4 CSV fields (first,last,asn,org)", path, lineno); break; }
        f[0][fl[0]] = 0; f[1][fl[1]] = 0; f[2][fl[2]] = 0;
        ni_addr lo, hi;
        if (ni_addr_parse(f[0], &lo) != NI_OK || ni_addr_parse(f[1], &hi) != NI_OK || lo.family != hi.family) {
            r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: bad address range '%s'-'%s'", path, lineno, f[0], f[1]);
            break;
        }
        char *end;
        errno = 0;
        unsigned long long asn = strtoull(f[2], &end, 10);
        if (!fl[2] || *end || errno || asn > 4294967295ull || f[2][0] == '-' || f[2][0] == '+') {
            r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: bad ASN '%s'", path, lineno, f[2]);
            break;
        }
        if (fl[3] > NI_ASN_ORG_MAX) fl[3] = NI_ASN_ORG_MAX;   /* cut, not refused */
        f[3][fl[3]] = 0;
        if (strlen(f[3]) != fl[3]) { r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: NUL byte", path, lineno); break; }
        long org = intern_org(a, f[3], fl[3]);
        if (org < 0) { r = ni_error_set(err, NI_ERR_LIMIT, "%s:%lu: too many organisation names", path, lineno); break; }
        bool ok;
        if (lo.family == 4) {
            r4 x = { get4(&lo), get4(&hi), (uint32_t)asn, (uint32_t)org };
            if (x.first > x.last) { r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: range ends before it starts", path, lineno); break; }
            ok = push4(a, x);
        } else {
            r6 x = { u128_from_bytes(lo.b), u128_from_bytes(hi.b), (uint32_t)asn, (uint32_t)org };
            if (x.first > x.last) { r = ni_error_set(err, NI_ERR_DATA, "%s:%lu: range ends before it starts", path, lineno); break; }
            ok = push6(a, x);
        }
        if (!ok) r = ni_error_set(err, NI_ERR_LIMIT, "%s:%lu: too many ranges", path, lineno);
    }
    if (!r && ferror(fp)) r = ni_error_set(err, NI_ERR_IO, "%s: read error", path);
    free(line);
    fclose(fp);
    return r;
}

/* ----------------------------------------------------------------- cache */

/* The key of the CSVs' cache: both files' identity (device, inode, size,
 * mtime, ctime; core/ni_verified.h), not their paths, so that the same files
 * reached by other paths (a symlinked data dir) share one cache. */
static uint64_t cache_key(const char *v4, const char *v6, bool *ok)
{
    int64_t v[2][5];
    const char *paths[2] = { v4, v6 };
    *ok = true;
    memset(v, 0xff, sizeof v);
    for (int i = 0; i < 2; i++) {
        ni_fileid id;
        if (!paths[i]) continue;
        if (!ni_fileid_of(paths[i], &id)) { *ok = false; return 0; }
        v[i][0] = (int64_t)id.dev; v[i][1] = (int64_t)id.ino; v[i][2] = (int64_t)id.size;
        v[i][3] = id.mtime_ns; v[i][4] = id.ctime_ns;
    }
    return ni_hash(&ni_hash_key_fixed, v, sizeof v);
}

static void put32(uint8_t **p, uint32_t v) { for (int i = 0; i < 4; i++) { *(*p)++ = (uint8_t)v; v >>= 8; } }
static void put64(uint8_t **p, uint64_t v) { for (int i = 0; i < 8; i++) { *(*p)++ = (uint8_t)v; v >>= 8; } }
static uint64_t cur_u64_le(ni_cursor *c) { uint64_t lo = ni_cur_u32_le(c); return lo | ((uint64_t)ni_cur_u32_le(c) << 32); }

static ni_err write_cache(const ni_asn *a, const char *path, uint64_t key, ni_error *err)
{
    size_t size = 8 + 8 + 16 + a->n4 * 16 + a->n6 * 40 + a->norgs * 4 + a->pool_len + 8;
    uint8_t *buf = malloc(size), *p = buf;
    if (!buf) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    memcpy(p, cache_magic, 8); p += 8;
    put64(&p, key);
    put32(&p, (uint32_t)a->n4); put32(&p, (uint32_t)a->n6);
    put32(&p, (uint32_t)a->norgs); put32(&p, (uint32_t)a->pool_len);
    for (size_t i = 0; i < a->n4; i++) {
        put32(&p, a->v4[i].first); put32(&p, a->v4[i].last); put32(&p, a->v4[i].asn); put32(&p, a->v4[i].org);
    }
    for (size_t i = 0; i < a->n6; i++) {
        u128_to_bytes(a->v6[i].first, p); p += 16;
        u128_to_bytes(a->v6[i].last, p); p += 16;
        put32(&p, a->v6[i].asn); put32(&p, a->v6[i].org);
    }
    for (size_t i = 0; i < a->norgs; i++) put32(&p, a->org_off[i]);
    memcpy(p, a->pool, a->pool_len); p += a->pool_len;
    put64(&p, ni_hash(&ni_hash_key_fixed, buf, (size_t)(p - buf)));
    ni_err r = ni_file_write_all(path, buf, size, err);
    free(buf);
    return r;
}

/* A little-endian 32-bit value at p (bounds checked by the caller). */
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* IPv6 range i, from the table or where it lies in the mapped cache. */
static inline r6 range6(const ni_asn *a, size_t i)
{
    if (!a->v6raw) return a->v6[i];
    const uint8_t *q = a->v6raw + 40 * i;
    return (r6){ u128_from_bytes(q), u128_from_bytes(q + 16), le32(q + 32), le32(q + 36) };
}

/* Reads the cache into a; false (with a note) when absent, stale or bad. */
static bool read_cache(ni_asn *a, const char *path, uint64_t key)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(a->info.cache_note, sizeof a->info.cache_note, "no cache yet"); return false; }
    struct stat st;
    uint8_t *buf = NULL;
    size_t mapped = 0;
    bool ok = false, have_cid = false, summed = false;
    ni_fileid cid;
    const char *why = "cache unreadable";
    if (fstat(fileno(fp), &st) == 0 && st.st_size >= 48 && (uint64_t)st.st_size < ((uint64_t)1 << 32)) {
        size_t n = (size_t)st.st_size;
        /* mapped, not copied: read once for the checksum, once to decode */
        void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fileno(fp), 0);
        if (m != MAP_FAILED) { buf = m; mapped = n; }
        if (buf) {
            ni_cursor c;
            ni_cur_init(&c, buf, n);
            why = "cache damaged";
            ni_cursor tail;
            ni_cur_init(&tail, buf + n - 8, 8);
            /* the checksum once per cache file (core/ni_verified.h): ~36 M
             * instructions for a 13 MB cache at every start otherwise */
            have_cid = ni_fileid_of_fd(fileno(fp), &cid);
            summed = have_cid && ni_verified_has(ASN_CACHE_VERIFIED_KIND, &cid);
            if (memcmp(buf, cache_magic, 8)) why = "cache has another format";
            else if (!summed && cur_u64_le(&tail) != ni_hash(&ni_hash_key_fixed, buf, n - 8)) why = "cache checksum mismatch";
            else {
                ni_cur_skip(&c, 8);
                if (cur_u64_le(&c) != key) why = "CSV files changed since the cache was written";
                else {
                    uint32_t n4 = ni_cur_u32_le(&c), n6 = ni_cur_u32_le(&c);
                    uint32_t norgs = ni_cur_u32_le(&c), pool_len = ni_cur_u32_le(&c);
                    uint64_t need = 32 + (uint64_t)n4 * 16 + (uint64_t)n6 * 40 + (uint64_t)norgs * 4 + pool_len + 8;
                    bool fits = need == n && n4 <= NI_ASN_RANGES_MAX && n6 <= NI_ASN_RANGES_MAX && norgs >= 1 &&
                                pool_len >= 1 && buf[n - 8 - 1] == 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                    /* checked whole by an earlier run (same file identity):
                     * used where it lies, kept mapped; the tables are at
                     * 16- and 8-byte offsets of the page-aligned mapping */
                    if (fits && summed && sizeof(r4) == 16) {
                        const uint8_t *q4 = ni_cur_bytes(&c, (size_t)n4 * 16);
                        const uint8_t *q6 = ni_cur_bytes(&c, (size_t)n6 * 40);
                        const uint8_t *qo = ni_cur_bytes(&c, (size_t)norgs * 4);
                        const uint8_t *pb = ni_cur_bytes(&c, pool_len);
                        if (q4 && q6 && qo && pb && !c.bad) {
                            free(a->pool); free(a->org_off);
                            a->v4 = (r4 *)(uintptr_t)q4;
                            a->v6raw = q6;
                            a->org_off = (uint32_t *)(uintptr_t)qo;
                            a->pool = (char *)(uintptr_t)pb;
                            a->pool_len = a->pool_cap = pool_len;
                            a->norgs = a->org_cap = norgs;
                            a->n4 = a->cap4 = n4; a->n6 = a->cap6 = n6;
                            a->map = buf; a->map_len = mapped;
                            fclose(fp);
                            return true;
                        }
                        fits = false;
                    }
#endif
                    if (fits) {
                        ok = true;
                        a->v4 = malloc((n4 ? n4 : 1) * sizeof *a->v4);
                        a->v6 = malloc((n6 ? n6 : 1) * sizeof *a->v6);
                        uint32_t *off = malloc(norgs * sizeof *off);
                        char *pool = malloc(pool_len);
                        if (!a->v4 || !a->v6 || !off || !pool) {
                            ok = false; free(off); free(pool); off = NULL; pool = NULL; why = "out of memory";
                        }
                        const uint8_t *q4 = ok ? ni_cur_bytes(&c, (size_t)n4 * 16) : NULL;
                        if (!q4 && n4) ok = false;
                        /* a cache file that an earlier run checked whole
                         * (summed: same identity) is not checked range by
                         * range again: ~10 M instructions at every start */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        if (ok && summed && sizeof(r4) == 16) {
                            if (n4) memcpy(a->v4, q4, (size_t)n4 * 16);
                        } else
#endif
                        for (uint32_t i = 0; ok && i < n4; i++, q4 += 16) {
                            r4 x = { le32(q4), le32(q4 + 4), le32(q4 + 8), le32(q4 + 12) };
                            if (x.first > x.last || x.org >= norgs || (i && a->v4[i - 1].last >= x.first)) ok = false;
                            a->v4[i] = x;
                        }
                        const uint8_t *q6 = ok ? ni_cur_bytes(&c, (size_t)n6 * 40) : NULL;
                        if (!q6 && n6) ok = false;
                        if (ok && summed) {
                            for (uint32_t i = 0; i < n6; i++, q6 += 40)
                                a->v6[i] = (r6){ u128_from_bytes(q6), u128_from_bytes(q6 + 16), le32(q6 + 32), le32(q6 + 36) };
                        } else
                        for (uint32_t i = 0; ok && i < n6; i++, q6 += 40) {
                            r6 x = { u128_from_bytes(q6), u128_from_bytes(q6 + 16), le32(q6 + 32), le32(q6 + 36) };
                            if (x.first > x.last || x.org >= norgs || (i && a->v6[i - 1].last >= x.first)) ok = false;
                            a->v6[i] = x;
                        }
                        for (uint32_t i = 0; ok && i < norgs; i++)
                            if ((off[i] = ni_cur_u32_le(&c)) >= pool_len) ok = false;
                        const uint8_t *pb = ok ? ni_cur_bytes(&c, pool_len) : NULL;
                        if (ok && pb && !c.bad) {
                            memcpy(pool, pb, pool_len);
                            free(a->pool); free(a->org_off);
                            a->pool = pool; a->pool_len = a->pool_cap = pool_len;
                            a->org_off = off; a->norgs = a->org_cap = norgs;
                            a->n4 = a->cap4 = n4; a->n6 = a->cap6 = n6;
                        } else {
                            ok = false;
                            free(off); free(pool);
                        }
                    }
                }
            }
        }
    }
    if (mapped) munmap(buf, mapped);
    fclose(fp);
    if (ok && have_cid && !summed) (void)ni_verified_add(ASN_CACHE_VERIFIED_KIND, &cid);
    if (!ok) {
        snprintf(a->info.cache_note, sizeof a->info.cache_note, "%s", why);
        free(a->v4); free(a->v6);
        a->v4 = NULL; a->v6 = NULL; a->n4 = a->n6 = a->cap4 = a->cap6 = 0;
    }
    return ok;
}

ni_asn *ni_asn_load_csv(const char *v4_csv, const char *v6_csv, const char *cache_path, ni_error *err)
{
    if (!v4_csv && !v6_csv) { ni_error_set(err, NI_ERR_ARG, "ASN: no CSV file given"); return NULL; }
    ni_asn *a = asn_new();
    if (!a) { ni_error_set(err, NI_ERR_NOMEM, "ASN: out of memory"); return NULL; }
    bool key_ok = false;
    uint64_t key = cache_path ? cache_key(v4_csv, v6_csv, &key_ok) : 0;
    if (cache_path && key_ok && read_cache(a, cache_path, key)) {
        a->info.source = "cache";
        finish(a, false);
        return a;
    }
    if ((v4_csv && load_csv_file(a, v4_csv, err) != NI_OK) || (v6_csv && load_csv_file(a, v6_csv, err) != NI_OK)) {
        ni_asn_free(a);
        return NULL;
    }
    finish(a, true);
    a->info.source = "csv";
    if (cache_path && key_ok) {
        ni_error ce = { 0 };
        if (write_cache(a, cache_path, key, &ce) == NI_OK) a->info.cache_written = true;
        else snprintf(a->info.cache_note, sizeof a->info.cache_note, "cache not written: %.140s", ce.msg);
    }
    return a;
}

/* ------------------------------------------------------------------ mmdb */

static const char *const p_asn[] = { "autonomous_system_number", NULL };
static const char *const p_org[] = { "autonomous_system_organization", NULL };

typedef struct mload { ni_asn *a; uint32_t last_id; bool have_last; uint32_t asn, org; bool skip; } mload;

static ni_err mmdb_net(void *ud, const ni_addr *addr, unsigned len, const ni_geo_record *rec)
{
    mload *m = ud;
    uint32_t id = ni_geo_record_id(rec);
    if (!m->have_last || id != m->last_id) {
        uint64_t asn = 0;
        char org[NI_ASN_ORG_MAX + 1];
        m->skip = ni_geo_record_uint(rec, p_asn, &asn) != 1 || asn > 4294967295ull;
        if (!m->skip) {
            int r = ni_geo_record_string(rec, p_org, org, sizeof org);
            if (r != 1) org[0] = 0;
            long o = intern_org(m->a, org, strlen(org));
            if (o < 0) return NI_ERR_LIMIT;
            m->asn = (uint32_t)asn;
            m->org = (uint32_t)o;
        }
        m->last_id = id;
        m->have_last = true;
    }
    if (m->skip) return NI_OK;
    if (addr->family == 4) {
        uint32_t f = get4(addr), host = len >= 32 ? 0 : (len == 0 ? 0xffffffffu : 0xffffffffu >> len);
        r4 x = { f, f | host, m->asn, m->org };
        if (m->a->n4 && m->a->v4[m->a->n4 - 1].asn == x.asn && m->a->v4[m->a->n4 - 1].org == x.org &&
            m->a->v4[m->a->n4 - 1].last + 1 == x.first) {
            m->a->v4[m->a->n4 - 1].last = x.last;
            return NI_OK;
        }
        return push4(m->a, x) ? NI_OK : NI_ERR_LIMIT;
    }
    u128 f = u128_from_bytes(addr->b), host = len >= 128 ? 0 : (len == 0 ? ~(u128)0 : (~(u128)0) >> len);
    r6 x = { f, f | host, m->asn, m->org };
    if (m->a->n6 && m->a->v6[m->a->n6 - 1].asn == x.asn && m->a->v6[m->a->n6 - 1].org == x.org &&
        m->a->v6[m->a->n6 - 1].last + 1 == x.first) {
        m->a->v6[m->a->n6 - 1].last = x.last;
        return NI_OK;
    }
    return push6(m->a, x) ? NI_OK : NI_ERR_LIMIT;
}

ni_asn *ni_asn_load_mmdb(const char *path, ni_error *err)
{
    ni_geo *g = ni_geo_open(path, 0, err);
    if (!g) return NULL;
    ni_asn *a = asn_new();
    if (!a) { ni_geo_free(g); ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    mload m = { .a = a };
    ni_err r = ni_geo_each_network(g, mmdb_net, &m, err);
    ni_geo_free(g);
    if (r) {
        if (r == NI_ERR_LIMIT) ni_error_set(err, r, "%s: too many ranges or organisation names", path);
        ni_asn_free(a);
        return NULL;
    }
    finish(a, true);
    a->info.source = "mmdb";
    return a;
}

/* mkdir -p of the directory holding path (failures show up when the cache
 * is written). */
static void mkdir_parent(const char *path)
{
    char d[4200];
    if ((size_t)snprintf(d, sizeof d, "%s", path) >= sizeof d) return;
    char *s = strrchr(d, '/');
    if (!s || s == d) return;
    *s = 0;
    for (char *p = d + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(d, 0755); *p = '/'; }
    mkdir(d, 0755);
}

ni_asn *ni_asn_open(const char *explicit_path, const char *data_dir, ni_error *err)
{
    char v4[4200], v6[4200], cache[4200];
    if (explicit_path && *explicit_path) {
        struct stat st;
        if (stat(explicit_path, &st) != 0) {
            int e = errno;
            ni_error_set(err, e == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", explicit_path, strerror(e));
            return NULL;
        }
        if (!S_ISDIR(st.st_mode)) return ni_asn_load_mmdb(explicit_path, err);
        snprintf(v4, sizeof v4, "%s/asn-ipv4.csv", explicit_path);
        snprintf(v6, sizeof v6, "%s/asn-ipv6.csv", explicit_path);
        return ni_asn_load_csv(access(v4, F_OK) == 0 ? v4 : NULL, access(v6, F_OK) == 0 ? v6 : NULL, NULL, err);
    }
    char dir[4096];
    if (data_dir && *data_dir) snprintf(dir, sizeof dir, "%s", data_dir);
    else if (ni_data_dir(dir, sizeof dir) != NI_OK) {
        ni_error_set(err, NI_ERR_NOTFOUND, "no ASN data: no data directory (set NETINTEL_DATA)");
        return NULL;
    }
    snprintf(v4, sizeof v4, "%s/" NI_ASN_DEFAULT_DIR "/asn-ipv4.csv", dir);
    snprintf(v6, sizeof v6, "%s/" NI_ASN_DEFAULT_DIR "/asn-ipv6.csv", dir);
    if (!ni_user_cache_path(NI_ASN_USER_CACHE, cache, sizeof cache))
        snprintf(cache, sizeof cache, "%s/" NI_ASN_CACHE_REL, dir);
    if (access(v4, R_OK) != 0) {
        ni_error_set(err, NI_ERR_NOTFOUND, "no ASN data: %s missing (run scripts/install-deps)", v4);
        return NULL;
    }
    mkdir_parent(cache);
    return ni_asn_load_csv(v4, access(v6, R_OK) == 0 ? v6 : NULL, cache, err);
}

/* --------------------------------------------------------------- lookups */

bool ni_asn_lookup(const ni_asn *a, const ni_addr *addr, ni_asn_result *r)
{
    memset(r, 0, sizeof *r);
    r->org = "";
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (addr->family == 4 || (addr->family == 6 && !memcmp(addr->b, mapped, 12))) {
        uint32_t v = addr->family == 4 ? get4(addr)
                   : ((uint32_t)addr->b[12] << 24) | ((uint32_t)addr->b[13] << 16) | ((uint32_t)addr->b[14] << 8) | addr->b[15];
        size_t lo = 0, hi = a->n4;              /* first range with first > v */
        while (lo < hi) { size_t mid = lo + (hi - lo) / 2; if (a->v4[mid].first <= v) lo = mid + 1; else hi = mid; }
        if (!lo || a->v4[lo - 1].last < v) return false;
        const r4 *x = &a->v4[lo - 1];
        r->found = true; r->asn = x->asn; r->org = a->pool + a->org_off[x->org];
        addr4(&r->first, x->first); addr4(&r->last, x->last);
        return true;
    }
    if (addr->family != 6) return false;
    u128 v = u128_from_bytes(addr->b);
    size_t lo = 0, hi = a->n6;
    while (lo < hi) { size_t mid = lo + (hi - lo) / 2; if (range6(a, mid).first <= v) lo = mid + 1; else hi = mid; }
    if (!lo) return false;
    const r6 x = range6(a, lo - 1);
    if (x.last < v) return false;
    r->found = true; r->asn = x.asn; r->org = a->pool + a->org_off[x.org];
    addr6(&r->first, x.first); addr6(&r->last, x.last);
    return true;
}

/* ---------------------------------------------------------------- CIDRs */

static unsigned floor_log2(u128 v)       /* v > 0 */
{
    uint64_t hi = (uint64_t)(v >> 64), lo = (uint64_t)v;
    return hi ? 127u - (unsigned)__builtin_clzll(hi) : 63u - (unsigned)__builtin_clzll(lo);
}

static unsigned trailing_zeros(u128 v, unsigned width)
{
    if (!v) return width;
    uint64_t lo = (uint64_t)v;
    return lo ? (unsigned)__builtin_ctzll(lo) : 64u + (unsigned)__builtin_ctzll((uint64_t)(v >> 64));
}

static ni_err cidrs(u128 first, u128 last, unsigned width, ni_net_cb fn, void *ud)
{
    u128 max = width == 32 ? (u128)0xffffffffu : ~(u128)0;
    if (first == 0 && last == max) {
        ni_addr a;
        if (width == 32) addr4(&a, 0); else addr6(&a, 0);
        return fn(ud, &a, 0);
    }
    for (;;) {
        unsigned k = trailing_zeros(first, width), span = floor_log2(last - first + 1);
        if (span < k) k = span;
        ni_addr a;
        if (width == 32) addr4(&a, (uint32_t)first); else addr6(&a, first);
        ni_err r = fn(ud, &a, width - k);
        if (r) return r;
        u128 end = first + (((u128)1 << k) - 1);
        if (end >= last) return NI_OK;
        first = end + 1;
    }
}

ni_err ni_range_to_cidrs(const ni_addr *first, const ni_addr *last, ni_net_cb fn, void *ud)
{
    if (!first || !last || first->family != last->family) return NI_ERR_ARG;
    if (first->family == 4) {
        uint32_t f = get4(first), l = get4(last);
        return f > l ? NI_ERR_ARG : cidrs(f, l, 32, fn, ud);
    }
    if (first->family != 6) return NI_ERR_ARG;
    u128 f = u128_from_bytes(first->b), l = u128_from_bytes(last->b);
    return f > l ? NI_ERR_ARG : cidrs(f, l, 128, fn, ud);
}

ni_err ni_asn_prefixes(const ni_asn *a, uint32_t asn, ni_net_cb fn, void *ud)
{
    for (size_t i = 0; i < a->n4; i++)
        if (a->v4[i].asn == asn) {
            ni_err r = cidrs(a->v4[i].first, a->v4[i].last, 32, fn, ud);
            if (r) return r;
        }
    for (size_t i = 0; i < a->n6; i++)
        if (range6(a, i).asn == asn) {
            ni_err r = cidrs(range6(a, i).first, range6(a, i).last, 128, fn, ud);
            if (r) return r;
        }
    return NI_OK;
}
