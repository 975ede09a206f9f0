/* ni_dates.c — browser, device and OS release dates (see ni_dates.h).
 * browser-compat-data's data.json is 16 MB of which only the top-level
 * "browsers" member is needed: a small scanner (every read checked against
 * the end; strings skipped with memchr) finds that member in the mapped file
 * without building the rest, and jansson parses just its value (JSON_DISABLE_EOF_CHECK stops after it).  JSON per RFC 8259. */
#include "enrich/ni_dates.h"
#include "core/ni_str.h"
#include "enrich/ni_tsv.h"
#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_hash.h"
#include "core/ni_verified.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_MAX 256   /* composed lookup keys; longer inputs never match */

typedef struct fam_row {
    const char *bcd;
    long min_major;
    unsigned line;
} fam_row;

struct ni_dates {
    ni_arena *arena;
    ni_map *fam;          /* lower-case uap family → fam_row */
    ni_map *rel;          /* "bcd_key\tversion" → ni_browser_release */
    ni_map *bcd_keys;     /* bcd key → (void *)1, browsers seen in data.json */
    ni_map *dev_exact;    /* lower-case model → ni_device_info */
    ni_map *dev_prefix;   /* lower-case prefix (pattern without '*') → ni_device_info */
    bool dev_prefix_len[128];   /* the lengths of dev_prefix's keys (no probe for the others) */
    ni_map *os;           /* "family\tversion" lower-case family → ni_os_info */
    ni_map *final;        /* "browser\tos\tversion" lower-case → ni_final_build */
    size_t n_rel, n_dev, n_os, n_final;
    char fam_path[256];   /* browsers.tsv, for cross-check messages */
};

ni_dates *ni_dates_new(void)
{
    ni_dates *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->arena = ni_arena_new(NI_CATALOG_BYTES_MAX);
    d->fam = ni_map_new(NI_CATALOG_ROWS_MAX);
    d->rel = ni_map_new(NI_CATALOG_ROWS_MAX);
    d->bcd_keys = ni_map_new(NI_CATALOG_ROWS_MAX);
    d->dev_exact = ni_map_new(NI_CATALOG_ROWS_MAX);
    d->dev_prefix = ni_map_new(NI_CATALOG_ROWS_MAX);
    d->os = ni_map_new(NI_CATALOG_ROWS_MAX);
    d->final = ni_map_new(NI_CATALOG_ROWS_MAX);
    if (!d->arena || !d->fam || !d->rel || !d->bcd_keys || !d->dev_exact || !d->dev_prefix || !d->os || !d->final) {
        ni_dates_free(d);
        return NULL;
    }
    return d;
}

void ni_dates_free(ni_dates *d)
{
    if (!d) return;
    ni_map_free(d->fam, NULL);
    ni_map_free(d->rel, NULL);
    ni_map_free(d->bcd_keys, NULL);
    ni_map_free(d->dev_exact, NULL);
    ni_map_free(d->dev_prefix, NULL);
    ni_map_free(d->os, NULL);
    ni_map_free(d->final, NULL);
    ni_arena_free(d->arena);
    free(d);
}

size_t ni_dates_browser_releases(const ni_dates *d) { return d ? d->n_rel : 0; }
size_t ni_dates_device_rows(const ni_dates *d) { return d ? d->n_dev : 0; }
size_t ni_dates_os_rows(const ni_dates *d) { return d ? d->n_os : 0; }
size_t ni_dates_final_build_rows(const ni_dates *d) { return d ? d->n_final : 0; }

/* ---- helpers ------------------------------------------------------------ */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "YYYY-MM-DD" with a plausible month and day. */
static int valid_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !is_digit(s[i])) return 0;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

static int valid_url(const char *s)
{
    return (!strncmp(s, "https://", 8) && s[8]) || (!strncmp(s, "http://", 7) && s[7]);
}

/* Lower-cased a, optionally "\t" and b, into out[KEY_MAX]; 0 if too long. */
static int make_key(char *out, const char *a, const char *b)
{
    size_t n = 0;
    for (const char *p = a; *p; p++) {
        if (n + 1 >= KEY_MAX) return 0;
        out[n++] = ni_ascii_lower(*p);
    }
    if (b) {
        if (n + 1 >= KEY_MAX) return 0;
        out[n++] = '\t';
        for (const char *p = b; *p; p++) {
            if (n + 1 >= KEY_MAX) return 0;
            out[n++] = *p;
        }
    }
    out[n] = 0;
    return 1;
}

static ni_err nomem(ni_error *err, const char *path)
{
    return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory or over %u bytes", path, NI_CATALOG_BYTES_MAX);
}

/* ---- browsers.tsv ------------------------------------------------------- */

ni_err ni_dates_load_browser_map(ni_dates *d, const char *path, ni_error *err)
{
    ni_tsv t;
    ni_err r = ni_tsv_open(&t, path, err);
    if (r) return r;
    snprintf(d->fam_path, sizeof d->fam_path, "%s", path);
    int c_fam = ni_tsv_need(&t, "family", err), c_bcd = ni_tsv_need(&t, "bcd", err);
    int c_min = ni_tsv_need(&t, "min_major", err), c_src = ni_tsv_need(&t, "source", err);
    if (c_fam < 0 || c_bcd < 0 || c_min < 0 || c_src < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int k;
    while ((k = ni_tsv_next(&t, err)) > 0) {
        const char *fam = ni_tsv_field(&t, c_fam), *bcd = ni_tsv_field(&t, c_bcd);
        const char *min = ni_tsv_field(&t, c_min), *src = ni_tsv_field(&t, c_src);
        char key[KEY_MAX];
        if (!*fam || !make_key(key, fam, NULL)) { r = ni_tsv_error(&t, err, "bad family '%s'", fam); break; }
        if (!*bcd) { r = ni_tsv_error(&t, err, "empty bcd key"); break; }
        long mm = 0;
        if (*min) {
            char *end;
            errno = 0;
            mm = strtol(min, &end, 10);
            if (errno || *end || mm < 0 || !is_digit(*min)) {
                r = ni_tsv_error(&t, err, "bad min_major '%s'", min);
                break;
            }
        }
        if (!valid_url(src)) { r = ni_tsv_error(&t, err, "source '%s' is not an http(s) URL", src); break; }
        void **slot = ni_map_slot(d->fam, key);
        if (!slot) { r = nomem(err, path); break; }
        if (*slot) {
            const fam_row *old = *slot;
            r = ni_tsv_error(&t, err, "family '%s' already mapped (line %u)", fam, old->line);
            break;
        }
        fam_row *f = ni_arena_alloc(d->arena, sizeof *f);
        if (!f || !(f->bcd = ni_arena_strdup(d->arena, bcd))) { r = nomem(err, path); break; }
        f->min_major = mm;
        f->line = t.line;
        *slot = f;
    }
    if (r == NI_OK && k < 0) r = NI_ERR_DATA;
    ni_tsv_close(&t);
    return r;
}

/* ---- browser-compat-data data.json -------------------------------------- */

/* The end of the JSON string whose opening quote is at p (just past its
 * closing quote), or NULL if it does not end before end.  The closing quote
 * is found with memchr (the file is 16 MB, nearly all strings): a quote
 * preceded by an odd number of backslashes is escaped. */
static const uint8_t *skip_string(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *start = ++p;
    while (p < end) {
        const uint8_t *q = memchr(p, '"', (size_t)(end - p));
        if (!q) return NULL;
        size_t bs = 0;
        while (q - bs > start && q[-1 - (ptrdiff_t)bs] == '\\') bs++;
        if (!(bs & 1)) return q + 1;
        p = q + 1;
    }
    return NULL;
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* Offset of the value of the top-level member `name` of the object in
 * buf[0..len), or -1.  Every read is checked against the end. */
static long find_member(const uint8_t *buf, size_t len, const char *name)
{
    const uint8_t *p = skip_ws(buf, buf + len), *end = buf + len;
    if (p >= end || *p++ != '{') return -1;
    size_t nlen = strlen(name);
    int depth = 1;
    while (p < end && depth > 0) {
        uint8_t b = *p;
        if (b == '"') {
            const uint8_t *start = p + 1;
            if (!(p = skip_string(p, end))) return -1;
            size_t slen = (size_t)(p - 1 - start);
            if (depth != 1) continue;
            p = skip_ws(p, end);
            if (p >= end || *p != ':') continue;   /* a value, not a key */
            p = skip_ws(p + 1, end);
            if (slen == nlen && !memcmp(start, name, nlen)) return (long)(p - buf);
            continue;
        }
        if (b == '{' || b == '[') depth++;
        else if (b == '}' || b == ']') depth--;
        p++;
    }
    return -1;
}

/* Maps a whole file read-only (at most NI_CATALOG_BYTES_MAX bytes): the
 * scanner reads only up to the member it wants, and nothing is copied.
 * Unmap with munmap(*out, *len) (nothing to unmap when *len is 0). */
static ni_err map_file(const char *path, uint8_t **out, size_t *len, ni_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ni_error_set(err, NI_ERR_DATA, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ni_error_set(err, NI_ERR_DATA, "%s: cannot open: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) { close(fd); return ni_error_set(err, NI_ERR_DATA, "%s: not a regular file", path); }
    if ((uint64_t)st.st_size > NI_CATALOG_BYTES_MAX) {
        close(fd);
        return ni_error_set(err, NI_ERR_DATA, "%s: larger than %u bytes", path, NI_CATALOG_BYTES_MAX);
    }
    *out = NULL; *len = (size_t)st.st_size;
    if (*len) {
        void *m = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ni_error_set(err, NI_ERR_DATA, "%s: read error: %s", path, strerror(e));
        }
        *out = m;
    }
    close(fd);
    return NI_OK;
}

/* One release of data.json into the table (later ones replace earlier). */
static ni_err add_release(ni_dates *d, const char *bkey, const char *ver, const char *date)
{
    char key[KEY_MAX];
    if (!make_key(key, bkey, ver)) return NI_OK;
    ni_browser_release *br = ni_arena_alloc(d->arena, sizeof *br);
    if (!br || !(br->bcd_key = ni_arena_strdup(d->arena, bkey)) ||
        !(br->version = ni_arena_strdup(d->arena, ver)) ||
        !(br->date = ni_arena_strdup(d->arena, date))) return NI_ERR_NOMEM;
    void **slot = ni_map_slot(d->rel, key);
    if (!slot) return NI_ERR_NOMEM;
    if (!*slot) d->n_rel++;
    *slot = br;
    return NI_OK;
}

/* What ni_dates_load_bcd takes from data.json (16 MB, ~100 M instructions
 * to scan and parse) is a few thousand rows: once read, they are kept in
 * $XDG_CACHE_HOME/netintel/bcd-releases.tsv (next to core/ni_verified's
 * cache, and like it skipped when NETINTEL_VERIFY_ALWAYS is set), keyed by
 * the file's identity (core/ni_verified.h), in the order read:
 *   netintel-bcd-cache/1 <TAB> key (16 hex digits)
 *   b <TAB> browser            (a member of "browsers")
 *   r <TAB> browser <TAB> version <TAB> date
 *   end <TAB> rows
 * A cache that does not end so, or whose rows are not that, is ignored (and
 * rewritten); not written for a file changed in the last
 * NI_VERIFIED_SETTLE_S seconds (its identity may not show a quick rewrite). */
#define BCD_CACHE_NAME "bcd-releases.tsv"
#define BCD_CACHE_MAGIC "netintel-bcd-cache/1"

static bool bcd_cache_key(const char *path, uint64_t *key, bool *settled)
{
    ni_fileid id;
    if (!ni_fileid_of(path, &id)) return false;
    *key = ni_hash(&ni_hash_key_fixed, &id, sizeof id);
    *settled = (int64_t)time(NULL) - id.mtime_ns / 1000000000 >= NI_VERIFIED_SETTLE_S &&
               (int64_t)time(NULL) - id.ctime_ns / 1000000000 >= NI_VERIFIED_SETTLE_S;
    return true;
}

/* The cache's path into buf; false when there is none (no cache directory,
 * or NETINTEL_VERIFY_ALWAYS). */
static bool bcd_cache_path(char *buf, size_t n)
{
    /* ni_verified_path is false when NETINTEL_VERIFY_ALWAYS is set (or there
     * is no cache directory): the same switch turns this cache off */
    char probe[4096];
    return ni_verified_path(probe, sizeof probe) && ni_user_cache_path(BCD_CACHE_NAME, buf, n);
}

/* Fills d from the cache; false when absent, stale or bad (d may then hold
 * part of it, which the JSON load replaces or repeats). */
static bool bcd_cache_read(ni_dates *d, const char *cpath, uint64_t key)
{
    FILE *f = fopen(cpath, "r");
    if (!f) return false;
    char line[1024];
    bool ok = false, head = false;
    unsigned long rows = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (!n || line[n - 1] != '\n') break;
        line[--n] = 0;
        char *fld[4];
        int nf = 0;
        for (char *p = line; nf < 4;) {
            fld[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = 0;
            p = tab + 1;
        }
        if (!head) {
            char want[17];
            snprintf(want, sizeof want, "%016llx", (unsigned long long)key);
            if (nf != 2 || strcmp(fld[0], BCD_CACHE_MAGIC) || strcmp(fld[1], want)) break;
            head = true;
        } else if (nf == 2 && !strcmp(fld[0], "b") && *fld[1]) {
            if (ni_map_put(d->bcd_keys, fld[1], (void *)1) != NI_OK) break;
            rows++;
        } else if (nf == 4 && !strcmp(fld[0], "r") && *fld[1] && valid_date(fld[3])) {
            if (add_release(d, fld[1], fld[2], fld[3]) != NI_OK) break;
            rows++;
        } else {
            char *end;
            ok = nf == 2 && !strcmp(fld[0], "end") && strtoul(fld[1], &end, 10) == rows && !*end && rows;
            break;
        }
    }
    ok = ok && fgetc(f) == EOF;
    fclose(f);
    return ok;
}

ni_err ni_dates_load_bcd(ni_dates *d, const char *path, ni_error *err)
{
    char cpath[4096];
    uint64_t key = 0;
    bool settled = false;
    bool cache = bcd_cache_path(cpath, sizeof cpath) && bcd_cache_key(path, &key, &settled);
    if (cache && bcd_cache_read(d, cpath, key)) return NI_OK;
    uint8_t *buf = NULL; size_t len = 0;
    ni_err r = map_file(path, &buf, &len, err);
    if (r) return r;
    long off = len ? find_member(buf, len, "browsers") : -1;
    if (off < 0) {
        if (len) munmap(buf, len);
        return ni_error_set(err, NI_ERR_DATA, "%s: no top-level \"browsers\" object", path);
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)buf + off, len - (size_t)off, JSON_DISABLE_EOF_CHECK, &je);
    munmap(buf, len);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return ni_error_set(err, NI_ERR_DATA, "%s: \"browsers\" is not a valid JSON object: %s",
                            path, root ? "wrong type" : je.text);
    }
    ni_buf out;                            /* the cache, as it is read */
    ni_buf_init(&out, NI_CATALOG_BYTES_MAX);
    unsigned long rows = 0;
    ni_buf_printf(&out, "%s\t%016llx\n", BCD_CACHE_MAGIC, (unsigned long long)key);
    const char *bkey;
    json_t *bval;
    r = NI_OK;
    json_object_foreach(root, bkey, bval) {
        json_t *rels = json_object_get(bval, "releases");
        if (!json_is_object(rels)) {
            r = ni_error_set(err, NI_ERR_DATA, "%s: browsers.%s has no \"releases\" object", path, bkey);
            break;
        }
        if (ni_map_put(d->bcd_keys, bkey, (void *)1) != NI_OK) { r = nomem(err, path); break; }
        if (strpbrk(bkey, "\t\n\r")) cache = false;
        ni_buf_printf(&out, "b\t%s\n", bkey);
        rows++;
        const char *ver;
        json_t *rv;
        json_object_foreach(rels, ver, rv) {
            const char *date = json_string_value(json_object_get(rv, "release_date"));
            if (!date) continue;                      /* planned / nightly releases */
            if (!valid_date(date)) {
                r = ni_error_set(err, NI_ERR_DATA, "%s: browsers.%s.releases.%s: bad release_date '%s'",
                                 path, bkey, ver, date);
                break;
            }
            if (add_release(d, bkey, ver, date) != NI_OK) { r = nomem(err, path); break; }
            if (strpbrk(ver, "\t\n\r") || strlen(bkey) + strlen(ver) + 32 > 1000) cache = false;
            ni_buf_printf(&out, "r\t%s\t%s\t%s\n", bkey, ver, date);
            rows++;
        }
        if (r) break;
    }
    json_decref(root);
    ni_buf_printf(&out, "end\t%lu\n", rows);
    if (!r && cache && settled && rows && !out.err) {
        ni_error e2 = { 0 };
        (void)ni_file_write_all(cpath, out.p, out.len, &e2);   /* best effort */
    }
    ni_buf_release(&out);
    return r;
}

/* First digits of version as a number (-1 when it does not start with one). */
static long major_of(const char *v)
{
    if (!is_digit(*v)) return -1;
    long m = 0;
    for (; is_digit(*v) && m < 1000000; v++) m = m * 10 + (*v - '0');
    return m;
}

int ni_dates_browser(const ni_dates *d, const char *family, const char *version,
                     ni_browser_release *out)
{
    if (!d || !family || !version) return 0;
    char key[KEY_MAX];
    if (!make_key(key, family, NULL)) return 0;
    const fam_row *f = ni_map_get(d->fam, key);
    if (!f) return 0;
    long major = major_of(version);
    if (major < 0 || major < f->min_major) return 0;
    char ver[64];
    size_t vl = strnlen(version, sizeof ver);
    if (vl >= sizeof ver) return 0;
    memcpy(ver, version, vl + 1);
    for (;;) {
        if (make_key(key, f->bcd, ver)) {
            const ni_browser_release *br = ni_map_get(d->rel, key);
            if (br) { if (out) *out = *br; return 1; }
        }
        char *dot = strrchr(ver, '.');
        if (!dot) return 0;
        *dot = 0;
    }
}

/* ---- devices.tsv -------------------------------------------------------- */

ni_err ni_dates_load_devices(ni_dates *d, const char *path, ni_error *err)
{
    ni_tsv t;
    ni_err r = ni_tsv_open(&t, path, err);
    if (r) return r;
    int c_maker = ni_tsv_need(&t, "maker", err), c_pat = ni_tsv_need(&t, "model", err);
    int c_name = ni_tsv_need(&t, "name", err), c_rel = ni_tsv_need(&t, "release", err);
    int c_src = ni_tsv_need(&t, "source", err);
    if (c_maker < 0 || c_pat < 0 || c_name < 0 || c_rel < 0 || c_src < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int k;
    while ((k = ni_tsv_next(&t, err)) > 0) {
        const char *maker = ni_tsv_field(&t, c_maker), *pat = ni_tsv_field(&t, c_pat);
        const char *name = ni_tsv_field(&t, c_name), *rel = ni_tsv_field(&t, c_rel);
        const char *src = ni_tsv_field(&t, c_src);
        size_t pl = strlen(pat);
        int wild = pl > 0 && pat[pl - 1] == '*';
        if (wild) pl--;
        if (pl == 0 || pl >= 128 || memchr(pat, '*', pl) || pat[0] == ' ' || pat[pl - 1] == ' ') {
            r = ni_tsv_error(&t, err, "bad model pattern '%s' (code without edge spaces, optional trailing '*')", pat);
            break;
        }
        if (!*maker || !*name) { r = ni_tsv_error(&t, err, "empty maker or name"); break; }
        if (!valid_date(rel)) { r = ni_tsv_error(&t, err, "bad release date '%s' (YYYY-MM-DD)", rel); break; }
        if (!valid_url(src)) { r = ni_tsv_error(&t, err, "source '%s' is not an http(s) URL", src); break; }
        char key[KEY_MAX], code[128];
        memcpy(code, pat, pl);
        code[pl] = 0;
        make_key(key, code, NULL);
        void **slot = ni_map_slot(wild ? d->dev_prefix : d->dev_exact, key);
        if (!slot) { r = nomem(err, path); break; }
        if (wild) d->dev_prefix_len[pl] = true;
        if (*slot) {
            const ni_device_info *old = *slot;
            if (strcmp(old->name, name) || strcmp(old->release, rel) || strcmp(old->maker, maker)) {
                r = ni_tsv_error(&t, err, "pattern '%s' is already '%s %s' %s", pat,
                                 old->maker, old->name, old->release);
                break;
            }
            continue;
        }
        ni_device_info *di = ni_arena_alloc(d->arena, sizeof *di);
        if (!di || !(di->maker = ni_arena_strdup(d->arena, maker)) ||
            !(di->pattern = ni_arena_strdup(d->arena, pat)) ||
            !(di->name = ni_arena_strdup(d->arena, name)) ||
            !(di->release = ni_arena_strdup(d->arena, rel)) ||
            !(di->source = ni_arena_strdup(d->arena, src))) { r = nomem(err, path); break; }
        *slot = di;
        d->n_dev++;
    }
    if (r == NI_OK && k < 0) r = NI_ERR_DATA;
    ni_tsv_close(&t);
    return r;
}

const ni_device_info *ni_dates_device(const ni_dates *d, const char *model)
{
    if (!d || !model) return NULL;
    char key[KEY_MAX];
    size_t n = strnlen(model, 128);
    if (n == 0 || n >= 128 || !make_key(key, model, NULL)) return NULL;
    const ni_device_info *di = ni_map_get(d->dev_exact, key);
    if (di) return di;
    for (; n > 0; n--) {               /* longest prefix first */
        if (!d->dev_prefix_len[n]) continue;
        key[n] = 0;
        if ((di = ni_map_get(d->dev_prefix, key))) return di;
    }
    return NULL;
}

/* ---- os.tsv ------------------------------------------------------------- */

ni_err ni_dates_load_os(ni_dates *d, const char *path, ni_error *err)
{
    ni_tsv t;
    ni_err r = ni_tsv_open(&t, path, err);
    if (r) return r;
    int c_fam = ni_tsv_need(&t, "family", err), c_ver = ni_tsv_need(&t, "version", err);
    int c_name = ni_tsv_need(&t, "name", err), c_rel = ni_tsv_need(&t, "release", err);
    int c_end = ni_tsv_need(&t, "end_of_support", err), c_src = ni_tsv_need(&t, "source", err);
    if (c_fam < 0 || c_ver < 0 || c_name < 0 || c_rel < 0 || c_end < 0 || c_src < 0) {
        ni_tsv_close(&t);
        return NI_ERR_DATA;
    }
    int k;
    while ((k = ni_tsv_next(&t, err)) > 0) {
        const char *fam = ni_tsv_field(&t, c_fam), *ver = ni_tsv_field(&t, c_ver);
        const char *name = ni_tsv_field(&t, c_name), *rel = ni_tsv_field(&t, c_rel);
        const char *end = ni_tsv_field(&t, c_end), *src = ni_tsv_field(&t, c_src);
        char key[KEY_MAX];
        if (!*fam || !*ver || !*name || !make_key(key, fam, ver)) {
            r = ni_tsv_error(&t, err, "empty or too long family, version or name");
            break;
        }
        if (!valid_date(rel)) { r = ni_tsv_error(&t, err, "bad release date '%s' (YYYY-MM-DD)", rel); break; }
        if (*end && !valid_date(end)) { r = ni_tsv_error(&t, err, "bad end_of_support '%s' (YYYY-MM-DD or empty)", end); break; }
        if (*end && strcmp(end, rel) < 0) { r = ni_tsv_error(&t, err, "end_of_support %s before release %s", end, rel); break; }
        if (!valid_url(src)) { r = ni_tsv_error(&t, err, "source '%s' is not an http(s) URL", src); break; }
        void **slot = ni_map_slot(d->os, key);
        if (!slot) { r = nomem(err, path); break; }
        if (*slot) { r = ni_tsv_error(&t, err, "%s %s appears twice", fam, ver); break; }
        ni_os_info *oi = ni_arena_alloc(d->arena, sizeof *oi);
        if (!oi || !(oi->family = ni_arena_strdup(d->arena, fam)) ||
            !(oi->version = ni_arena_strdup(d->arena, ver)) ||
            !(oi->name = ni_arena_strdup(d->arena, name)) ||
            !(oi->release = ni_arena_strdup(d->arena, rel)) ||
            (*end && !(oi->end_of_support = ni_arena_strdup(d->arena, end))) ||
            !(oi->source = ni_arena_strdup(d->arena, src))) { r = nomem(err, path); break; }
        *slot = oi;
        d->n_os++;
    }
    if (r == NI_OK && k < 0) r = NI_ERR_DATA;
    ni_tsv_close(&t);
    return r;
}

const ni_os_info *ni_dates_os(const ni_dates *d, const char *family, const char *version)
{
    if (!d || !family || !version) return NULL;
    char ver[64], key[KEY_MAX];
    size_t vl = strnlen(version, sizeof ver);
    if (vl == 0 || vl >= sizeof ver) return NULL;
    memcpy(ver, version, vl + 1);
    for (;;) {
        if (make_key(key, family, ver)) {
            const ni_os_info *oi = ni_map_get(d->os, key);
            if (oi) return oi;
        }
        char *dot = strrchr(ver, '.');
        if (!dot) return NULL;
        *dot = 0;
    }
}

/* ---- everything --------------------------------------------------------- */


ni_err ni_dates_load(ni_dates *d, const char *data_dir, ni_error *err)
{
    static const char *const files[] = { "browsers.tsv", "ext/node_modules/@mdn/browser-compat-data/data.json",
                                         "devices.tsv", "os.tsv", "final-builds.tsv" };
    char path[1024];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", data_dir, files[i]);
        if (n < 0 || (size_t)n >= sizeof path) return ni_error_set(err, NI_ERR_ARG, "%s: path too long", data_dir);
        ni_err r = i == 0 ? ni_dates_load_browser_map(d, path, err)
                 : i == 1 ? ni_dates_load_bcd(d, path, err)
                 : i == 2 ? ni_dates_load_devices(d, path, err)
                 : i == 3 ? ni_dates_load_os(d, path, err)
                 : ni_dates_load_final_builds(d, path, err);
        if (r) return r;
    }
    /* Every browsers.tsv row must name a browser that data.json has. */
    size_t it = 0;
    const char *fam;
    void *v;
    while (ni_map_next(d->fam, &it, &fam, &v)) {
        const fam_row *f = v;
        if (!ni_map_get(d->bcd_keys, f->bcd))
            return ni_error_set(err, NI_ERR_DATA, "%s:%u: bcd key '%s' is not a browser in browser-compat-data",
                                d->fam_path, f->line, f->bcd);
    }
    return NI_OK;
}

/* ---- final-builds.tsv ---------------------------------------------------- */

/* "49.0.2623.112": digits separated by single dots. */
static int valid_build(const char *s)
{
    if (!is_digit(*s)) return 0;
    for (; *s; s++)
        if (!is_digit(*s) && !(*s == '.' && is_digit(s[1]))) return 0;
    return 1;
}

/* Lower-cased "a\tb\tc" into out[KEY_MAX]; 0 if too long. */
static int make_key3(char *out, const char *a, const char *b, const char *c)
{
    const char *part[3] = { a, b, c };
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        if (i) {
            if (n + 1 >= KEY_MAX) return 0;
            out[n++] = '\t';
        }
        for (const char *p = part[i]; *p; p++) {
            if (n + 1 >= KEY_MAX) return 0;
            out[n++] = ni_ascii_lower(*p);
        }
    }
    out[n] = 0;
    return 1;
}

ni_err ni_dates_load_final_builds(ni_dates *d, const char *path, ni_error *err)
{
    ni_tsv t;
    ni_err r = ni_tsv_open(&t, path, err);
    if (r) return r;
    int c_br = ni_tsv_need(&t, "browser", err), c_os = ni_tsv_need(&t, "os", err);
    int c_ver = ni_tsv_need(&t, "os_version", err), c_fin = ni_tsv_need(&t, "final", err);
    int c_m = ni_tsv_need(&t, "match", err), c_src = ni_tsv_need(&t, "source", err);
    if (c_br < 0 || c_os < 0 || c_ver < 0 || c_fin < 0 || c_m < 0 || c_src < 0) { ni_tsv_close(&t); return NI_ERR_DATA; }
    int k;
    while ((k = ni_tsv_next(&t, err)) > 0) {
        const char *br = ni_tsv_field(&t, c_br), *os = ni_tsv_field(&t, c_os), *ver = ni_tsv_field(&t, c_ver);
        const char *fin = ni_tsv_field(&t, c_fin), *m = ni_tsv_field(&t, c_m), *src = ni_tsv_field(&t, c_src);
        char key[KEY_MAX], oskey[KEY_MAX];
        if (!*br || !*os || !*ver || !make_key3(key, br, os, ver) || !make_key(oskey, os, ver)) {
            r = ni_tsv_error(&t, err, "empty or too long browser, os or os_version");
            break;
        }
        char fk[KEY_MAX];
        if (!make_key(fk, br, NULL) || !ni_map_get(d->fam, fk)) { r = ni_tsv_error(&t, err, "browser '%s' is not a family of browsers.tsv", br); break; }
        if (!ni_map_get(d->os, oskey)) { r = ni_tsv_error(&t, err, "%s %s has no row in os.tsv", os, ver); break; }
        if (!valid_build(fin)) { r = ni_tsv_error(&t, err, "bad build '%s' (digits and dots)", fin); break; }
        if (strcmp(m, "build") && strcmp(m, "major")) { r = ni_tsv_error(&t, err, "match '%s' is neither build nor major", m); break; }
        if (!valid_url(src)) { r = ni_tsv_error(&t, err, "source '%s' is not an http(s) URL", src); break; }
        void **slot = ni_map_slot(d->final, key);
        if (!slot) { r = nomem(err, path); break; }
        if (*slot) { r = ni_tsv_error(&t, err, "%s on %s %s appears twice", br, os, ver); break; }
        ni_final_build *fb = ni_arena_alloc(d->arena, sizeof *fb);
        if (!fb || !(fb->browser = ni_arena_strdup(d->arena, br)) || !(fb->os = ni_arena_strdup(d->arena, os)) ||
            !(fb->os_version = ni_arena_strdup(d->arena, ver)) || !(fb->final = ni_arena_strdup(d->arena, fin)) ||
            !(fb->source = ni_arena_strdup(d->arena, src))) { r = nomem(err, path); break; }
        fb->major_only = !strcmp(m, "major");
        *slot = fb;
        d->n_final++;
    }
    if (r == NI_OK && k < 0) r = NI_ERR_DATA;
    ni_tsv_close(&t);
    return r;
}

const ni_final_build *ni_dates_final_build(const ni_dates *d, const char *family, const char *os,
                                           const char *os_version)
{
    if (!d || !family || !os || !os_version) return NULL;
    char ver[64], key[KEY_MAX];
    size_t vl = strnlen(os_version, sizeof ver);
    if (vl == 0 || vl >= sizeof ver) return NULL;
    memcpy(ver, os_version, vl + 1);
    for (;;) {
        if (make_key3(key, family, os, ver)) {
            const ni_final_build *fb = ni_map_get(d->final, key);
            if (fb) return fb;
        }
        char *dot = strrchr(ver, '.');
        if (!dot) return NULL;
        *dot = 0;
    }
}

int ni_dates_is_final_build(const ni_dates *d, const char *family, const char *version, const char *os,
                            const char *os_version, const ni_final_build **row)
{
    const ni_final_build *fb = ni_dates_final_build(d, family, os, os_version);
    if (row) *row = fb;
    if (!fb || !version || !*version) return 0;
    if (!fb->major_only) return strcmp(version, fb->final) == 0;
    size_t a = strcspn(version, "."), b = strcspn(fb->final, ".");
    return a == b && !strncmp(version, fb->final, a);
}
