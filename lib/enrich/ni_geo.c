/* ni_geo.c — country lookups in MaxMind DB files through libmaxminddb, with
 * a verification pass at open so that a corrupt file is refused up front
 * instead of failing (or worse) in the middle of a run.
 *
 * Format: MaxMind DB File Format Specification 2.0 (maxmind/MaxMind-DB,
 * MaxMind-DB-spec.md): a binary search tree of node_count nodes, each two
 * records of record_size bits; a record < node_count is a node, == node_count
 * means "no data", > node_count + 15 points at data-section offset
 * (record - node_count - 16); then a 16-byte zero separator, the data
 * section, and the metadata map after the last "\xAB\xCD\xEFMaxMind.com". */
#include "enrich/ni_geo.h"
#include "core/ni_verified.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ni_cursor.h"
#include "core/ni_limits.h"
#include "core/ni_datadir.h"

struct ni_geo {
    MMDB_s mmdb;
    char *path;
    bool opened;
    size_t records_checked;
};

struct ni_geo_record {
    MMDB_entry_s entry;
};

/* 9999-12-31T23:59:59Z: a build time past it is not a date (and overflows
 * time conversions); the libmaxminddb uint64-max-epoch test file. */
#define BUILD_EPOCH_MAX 253402300799ull

/* ---------------------------------------------------------------- UTF-8 */

/* RFC 3629 section 4: well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c == 0xE0) { k = 2; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) k = 2;
        else if (c == 0xED) { k = 2; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) k = 2;
        else if (c == 0xF0) { k = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) k = 3;
        else if (c == 0xF4) { k = 3; hi = 0x8F; }
        else return false;
        if (n - i <= k) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) return false;
        i += k + 1;
    }
    return true;
}

/* ------------------------------------------------------ metadata pre-scan */

/* Our own bounded decoder of the metadata map (spec "Data Section Format"),
 * run before MMDB_open so that libmaxminddb never reads a metadata section
 * that could make it read past the file.  Besides structure, it applies the
 * rule of libmaxminddb >= 1.13: a map or array whose header ends exactly at
 * the end of the metadata is refused (1.7.1 reads beyond it). */
typedef struct mscan {
    const uint8_t *p;
    size_t len;
    unsigned items;
    const char *why;
} mscan;

/* What a value must be (libmaxminddb 1.7.1 leaks memory when the languages
 * or description metadata have another shape, so they are checked here). */
enum md_mode { MD_ANY, MD_STRING, MD_STRING_ARRAY, MD_STRING_MAP };

typedef struct mval {
    int type;
    const uint8_t *str;     /* UTF8_STRING: its bytes */
    size_t slen;
} mval;

static bool md_fail(mscan *s, const char *why) { if (!s->why) s->why = why; return false; }

static bool md_value(mscan *s, ni_cursor *c, unsigned depth, bool ptr_ok, enum md_mode mode, mval *out)
{
    if (++s->items > NI_MMDB_META_ITEMS_MAX) return md_fail(s, "metadata has too many values");
    if (depth > NI_MMDB_DEPTH_MAX) return md_fail(s, "metadata nested too deeply");
    uint8_t cb = ni_cur_u8(c);
    if (c->bad) return md_fail(s, "metadata truncated");
    int type = cb >> 5;
    if (type == 1) {                                    /* pointer */
        if (!ptr_ok) return md_fail(s, "metadata pointer to a pointer");
        unsigned ss = (cb >> 3) & 3, v = cb & 7;
        uint64_t off;
        if (ss == 0) off = ((uint64_t)v << 8) | ni_cur_u8(c);
        else if (ss == 1) off = (((uint64_t)v << 16) | ni_cur_u16(c)) + 2048;
        else if (ss == 2) off = (((uint64_t)v << 24) | ni_cur_u24(c)) + 526336;
        else off = ni_cur_u32(c);
        if (c->bad) return md_fail(s, "metadata truncated");
        if (off >= s->len) return md_fail(s, "metadata pointer out of range");
        ni_cursor sub;
        ni_cur_init(&sub, s->p, s->len);
        sub.off = (size_t)off;
        return md_value(s, &sub, depth + 1, false, mode, out);
    }
    if (type == 0) {
        uint8_t ext = ni_cur_u8(c);
        if (c->bad) return md_fail(s, "metadata truncated");
        type = 7 + ext;
        if (type < 8 || type > 15) return md_fail(s, "metadata has an unknown data type");
    }
    size_t size = cb & 31;
    if (size == 29) size = 29 + ni_cur_u8(c);
    else if (size == 30) size = 285 + ni_cur_u16(c);
    else if (size == 31) size = 65821 + ni_cur_u24(c);
    if (c->bad) return md_fail(s, "metadata truncated");
    if (out) { out->type = type; out->str = NULL; out->slen = 0; }
    if (mode == MD_STRING && type != MMDB_DATA_TYPE_UTF8_STRING)
        return md_fail(s, "metadata languages/description hold a value that is not a string");
    if (mode == MD_STRING_ARRAY && type != MMDB_DATA_TYPE_ARRAY)
        return md_fail(s, "metadata languages is not an array");
    if (mode == MD_STRING_MAP && type != MMDB_DATA_TYPE_MAP)
        return md_fail(s, "metadata description is not a map");
    switch (type) {
    case MMDB_DATA_TYPE_UTF8_STRING: {
        const uint8_t *b = ni_cur_bytes(c, size);
        if (!b) return md_fail(s, "metadata string runs past the end");
        if (!utf8_valid(b, size)) return md_fail(s, "metadata string is not UTF-8");
        if (out) { out->str = b; out->slen = size; }
        return true;
    }
    case MMDB_DATA_TYPE_BYTES:
        return ni_cur_skip(c, size) ? true : md_fail(s, "metadata bytes run past the end");
    case MMDB_DATA_TYPE_DOUBLE:
        if (size != 8) return md_fail(s, "metadata double is not 8 bytes");
        return ni_cur_skip(c, 8) ? true : md_fail(s, "metadata truncated");
    case MMDB_DATA_TYPE_FLOAT:
        if (size != 4) return md_fail(s, "metadata float is not 4 bytes");
        return ni_cur_skip(c, 4) ? true : md_fail(s, "metadata truncated");
    case MMDB_DATA_TYPE_UINT16: case MMDB_DATA_TYPE_UINT32: case MMDB_DATA_TYPE_INT32:
    case MMDB_DATA_TYPE_UINT64: case MMDB_DATA_TYPE_UINT128: {
        size_t max = type == MMDB_DATA_TYPE_UINT16 ? 2 : type == MMDB_DATA_TYPE_UINT64 ? 8
                   : type == MMDB_DATA_TYPE_UINT128 ? 16 : 4;
        if (size > max) return md_fail(s, "metadata integer too long");
        return ni_cur_skip(c, size) ? true : md_fail(s, "metadata truncated");
    }
    case MMDB_DATA_TYPE_BOOLEAN:
        if (size > 1) return md_fail(s, "metadata boolean is not 0 or 1");
        return true;
    case MMDB_DATA_TYPE_MAP: case MMDB_DATA_TYPE_ARRAY:
        if (ni_cur_left(c) == 0)
            return md_fail(s, type == MMDB_DATA_TYPE_MAP ? "metadata ends with a map header"
                                                          : "metadata ends with an array header");
        if (size > ni_cur_left(c)) return md_fail(s, "metadata map/array larger than the file");
        for (size_t i = 0; i < size; i++) {
            enum md_mode vmode = mode == MD_STRING_ARRAY || mode == MD_STRING_MAP ? MD_STRING : MD_ANY;
            if (type == MMDB_DATA_TYPE_MAP) {
                mval k;
                if (!md_value(s, c, depth + 1, true, MD_ANY, &k)) return false;
                if (k.type != MMDB_DATA_TYPE_UTF8_STRING) return md_fail(s, "metadata map key is not a string");
                if (depth == 0 && k.slen == 9 && !memcmp(k.str, "languages", 9)) vmode = MD_STRING_ARRAY;
                if (depth == 0 && k.slen == 11 && !memcmp(k.str, "description", 11)) vmode = MD_STRING_MAP;
            }
            if (!md_value(s, c, depth + 1, true, vmode, NULL)) return false;
        }
        return true;
    default:
        return md_fail(s, "metadata has an unknown data type");
    }
}

static const uint8_t md_marker[] = "\xAB\xCD\xEF" "MaxMind.com";

/* Reads the tail of path and checks its metadata map.  NI_OK or err set. */
static ni_err prescan(const char *path, ni_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return ni_error_set(err, e == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO, "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ni_error_set(err, NI_ERR_DATA, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size < NI_MMDB_META_SEARCH ? (size_t)st.st_size : NI_MMDB_META_SEARCH;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) { close(fd); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)((size_t)st.st_size - n + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (got != n) { free(buf); return ni_error_set(err, NI_ERR_IO, "%s: read error", path); }
    size_t ml = sizeof md_marker - 1;
    const uint8_t *meta = NULL;
    for (size_t i = n >= ml ? n - ml + 1 : 0; i-- > 0;)
        if (buf[i] == md_marker[0] && !memcmp(buf + i, md_marker, ml)) { meta = buf + i + ml; break; }
    if (!meta) { free(buf); return ni_error_set(err, NI_ERR_DATA, "%s: not a MaxMind DB (no metadata marker)", path); }
    mscan s = { .p = meta, .len = (size_t)(buf + n - meta) };
    ni_cursor c;
    ni_cur_init(&c, s.p, s.len);
    mval top;
    bool ok = md_value(&s, &c, 0, true, MD_ANY, &top);
    if (ok && top.type != MMDB_DATA_TYPE_MAP) ok = md_fail(&s, "metadata is not a map");
    free(buf);
    if (!ok) return ni_error_set(err, NI_ERR_DATA, "%s: corrupt MaxMind DB: %s", path, s.why);
    return NI_OK;
}

/* ------------------------------------------------------------ tree walk */

static unsigned tree_depth(const MMDB_s *m) { return m->metadata.ip_version == 4 ? 32 : 128; }

/* Checks every item of a decoded record. */
static const char *check_record(const MMDB_s *m, uint32_t off)
{
    MMDB_entry_s e = { .mmdb = m, .offset = off };
    MMDB_entry_data_list_s *list = NULL;
    int rc = MMDB_get_entry_data_list(&e, &list);
    if (rc != MMDB_SUCCESS) { MMDB_free_entry_data_list(list); return MMDB_strerror(rc); }
    const char *why = NULL;
    size_t items = 0;
    for (MMDB_entry_data_list_s *l = list; l && !why; l = l->next) {
        if (++items > NI_MMDB_RECORD_ITEMS_MAX) why = "data record has too many items";
        else if (l->entry_data.type == MMDB_DATA_TYPE_UTF8_STRING &&
                 !utf8_valid((const uint8_t *)l->entry_data.utf8_string, l->entry_data.data_size))
            why = "data record has a string that is not UTF-8";
    }
    MMDB_free_entry_data_list(list);
    return why;
}

typedef struct vframe { uint32_t node; uint8_t depth; uint8_t side; uint8_t hmax; } vframe;

/* Walks the whole tree once (each node expanded once; nodes reached again
 * are checked through their memoised height).  Returns NULL or a problem. */
static const char *verify_tree(ni_geo *g, char *why_buf, size_t why_n)
{
    const MMDB_s *m = &g->mmdb;
    uint32_t nc = m->metadata.node_count;
    unsigned tdepth = tree_depth(m);
    uint8_t *state = calloc(nc, 1);          /* 0 new, 1 on the path, 2 done */
    uint8_t *height = calloc(nc, 1);
    size_t dss = m->data_section_size;
    uint8_t *seen = calloc(dss / 8 + 1, 1);
    vframe *stack = calloc(tdepth + 2, sizeof *stack);
    const char *why = NULL;
    if (!state || !height || !seen || !stack) { why = "out of memory verifying the database"; goto out; }
    size_t sp = 0;
    stack[sp++] = (vframe){ 0, 0, 0, 0 };
    state[0] = 1;
    while (sp && !why) {
        vframe *f = &stack[sp - 1];
        if (f->side == 2) {                  /* both records done */
            height[f->node] = (uint8_t)(f->hmax + 1);
            state[f->node] = 2;
            uint8_t h = height[f->node];
            sp--;
            if (sp && stack[sp - 1].hmax < h) stack[sp - 1].hmax = h;
            continue;
        }
        MMDB_search_node_s n;
        if (MMDB_read_node(m, f->node, &n) != MMDB_SUCCESS) { why = "search tree node out of range"; break; }
        uint64_t rec = f->side == 0 ? n.left_record : n.right_record;
        f->side++;
        if (rec < nc) {
            uint32_t child = (uint32_t)rec;
            if (state[child] == 1) { why = "search tree has a cycle"; break; }
            if (state[child] == 2) {
                if ((unsigned)f->depth + 1 + height[child] > tdepth) { why = "search tree deeper than the address"; break; }
                if (f->hmax < height[child]) f->hmax = height[child];
                continue;
            }
            if ((unsigned)f->depth + 1 >= tdepth) { why = "search tree deeper than the address"; break; }
            state[child] = 1;
            stack[sp++] = (vframe){ child, (uint8_t)(f->depth + 1), 0, 0 };
        } else if (rec == nc) {
            continue;                        /* no data */
        } else if (rec < (uint64_t)nc + 16) {
            why = "search tree record points into the data section separator";
        } else {
            uint64_t off = rec - nc - 16;
            if (off >= dss) { why = "search tree record points past the data section"; break; }
            if (seen[off / 8] & (1u << (off % 8))) continue;
            seen[off / 8] |= (uint8_t)(1u << (off % 8));
            const char *bad = check_record(m, (uint32_t)off);
            g->records_checked++;
            if (bad) {
                snprintf(why_buf, why_n, "data record at offset %llu: %s", (unsigned long long)off, bad);
                why = why_buf;
            }
        }
    }
    if (!why) {
        /* A writer emits only the nodes of its tree: nodes that no path
         * reaches mean node_count or the records are wrong. */
        uint32_t unreached = 0;
        for (uint32_t i = 0; i < nc; i++) unreached += state[i] != 2;
        if (unreached) {
            snprintf(why_buf, why_n, "search tree: %u of %u nodes unreachable from the root",
                     unreached, nc);
            why = why_buf;
        }
    }
out:
    free(state); free(height); free(seen); free(stack);
    return why;
}

/* ------------------------------------------------------------------ open */

ni_err ni_geo_resolve_path(const char *explicit_path, const char *data_dir,
                           char *buf, size_t n, ni_error *err)
{
    if (explicit_path && *explicit_path) {
        if ((size_t)snprintf(buf, n, "%s", explicit_path) >= n)
            return ni_error_set(err, NI_ERR_ARG, "--geoip: path too long");
        return NI_OK;
    }
    const char *env = getenv("NETINTEL_GEOIP");
    if (env && *env) {
        if ((size_t)snprintf(buf, n, "%s", env) >= n)
            return ni_error_set(err, NI_ERR_ARG, "NETINTEL_GEOIP: path too long");
        return NI_OK;
    }
    if (access(NI_GEO_SYSTEM_PATH, R_OK) == 0) {
        if ((size_t)snprintf(buf, n, "%s", NI_GEO_SYSTEM_PATH) >= n)
            return ni_error_set(err, NI_ERR_ARG, "GeoIP path too long");
        return NI_OK;
    }
    char dir[4096];
    if (data_dir && *data_dir) snprintf(dir, sizeof dir, "%s", data_dir);
    else if (ni_data_dir(dir, sizeof dir) != NI_OK)
        return ni_error_set(err, NI_ERR_NOTFOUND, "no GeoIP database: no --geoip, NETINTEL_GEOIP, "
                            NI_GEO_SYSTEM_PATH " or data directory (set NETINTEL_DATA)");
    if ((size_t)snprintf(buf, n, "%s/%s", dir, NI_GEO_DEFAULT_REL) >= n)
        return ni_error_set(err, NI_ERR_ARG, "GeoIP path too long");
    if (access(buf, R_OK) != 0)
        return ni_error_set(err, NI_ERR_NOTFOUND, "no GeoIP database: no --geoip, NETINTEL_GEOIP, "
                            NI_GEO_SYSTEM_PATH " or %s (run scripts/install-deps)", buf);
    return NI_OK;
}

void ni_geo_free(ni_geo *g)
{
    if (!g) return;
    if (g->opened) MMDB_close(&g->mmdb);
    free(g->path);
    free(g);
}

ni_geo *ni_geo_open(const char *path, unsigned flags, ni_error *err)
{
    if (!path || !*path) { ni_error_set(err, NI_ERR_ARG, "GeoIP database: empty path"); return NULL; }
    ni_fileid id_before;   /* the file opened below is the one remembered as verified */
    memset(&id_before, 0, sizeof id_before);
    if (!ni_fileid_of(path, &id_before)) memset(&id_before, 0xff, sizeof id_before);
    if (prescan(path, err) != NI_OK) return NULL;
    ni_geo *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    if (rc != MMDB_SUCCESS) {
        ni_error_set(err, rc == MMDB_FILE_OPEN_ERROR ? NI_ERR_IO : NI_ERR_DATA,
                     "%s: corrupt MaxMind DB: %s", path, MMDB_strerror(rc));
        ni_geo_free(g);
        return NULL;
    }
    g->opened = true;
    const MMDB_metadata_s *md = &g->mmdb.metadata;
    const char *bad = NULL;
    if (md->binary_format_major_version != 2) bad = "binary_format_major_version is not 2";
    else if (md->ip_version != 4 && md->ip_version != 6) bad = "ip_version is not 4 or 6";
    else if (md->record_size != 24 && md->record_size != 28 && md->record_size != 32)
        bad = "record_size is not 24, 28 or 32";
    else if (md->node_count == 0) bad = "node_count is 0";
    else if (!md->database_type || !*md->database_type) bad = "no database_type";
    else if (md->build_epoch > BUILD_EPOCH_MAX) bad = "build_epoch is not a date before year 10000";
    else if ((uint64_t)md->node_count * md->record_size / 4 + 16 > (uint64_t)g->mmdb.file_size)
        bad = "node_count larger than the file";
    char why[160];
    if (!bad && !(flags & NI_GEO_NO_VERIFY)) {
        /* the tree/data walk once per file identity (ni_verified.h) */
        ni_fileid id;
        bool have_id = ni_fileid_of(path, &id) && !memcmp(&id, &id_before, sizeof id);
        if (!have_id || (flags & NI_GEO_VERIFY_ALWAYS) || !ni_verified_has(NI_GEO_VERIFIED_KIND, &id)) {
            bad = verify_tree(g, why, sizeof why);
            if (!bad && have_id) (void)ni_verified_add(NI_GEO_VERIFIED_KIND, &id);
        }
    }
    if (bad) {
        ni_error_set(err, NI_ERR_DATA, "%s: corrupt MaxMind DB: %s", path, bad);
        ni_geo_free(g);
        return NULL;
    }
    return g;
}

const char *ni_geo_path(const ni_geo *g) { return g->path; }
const char *ni_geo_database_type(const ni_geo *g) { return g->mmdb.metadata.database_type; }
unsigned ni_geo_ip_version(const ni_geo *g) { return g->mmdb.metadata.ip_version; }
uint64_t ni_geo_build_epoch(const ni_geo *g) { return g->mmdb.metadata.build_epoch; }
uint32_t ni_geo_node_count(const ni_geo *g) { return g->mmdb.metadata.node_count; }
size_t ni_geo_records_checked(const ni_geo *g) { return g->records_checked; }

/* --------------------------------------------------------------- lookups */

static bool is_v4mapped(const ni_addr *a)
{
    static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return a->family == 6 && !memcmp(a->b, pfx, 12);
}

/* Runs the libmaxminddb lookup.  1 found (res set), 0 not found, -1 error. */
static int do_lookup(const ni_geo *g, const ni_addr *a, MMDB_lookup_result_s *res, unsigned *plen,
                     ni_error *err)
{
    ni_addr q = *a;
    if (is_v4mapped(a)) {
        memset(&q, 0, sizeof q);
        q.family = 4;
        memcpy(q.b, a->b + 12, 4);
    }
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    if (q.family == 4) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, q.b, 4);
        sa = (const struct sockaddr *)&sin;
    } else if (q.family == 6) {
        if (g->mmdb.metadata.ip_version == 4) return 0;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, q.b, 16);
        sa = (const struct sockaddr *)&sin6;
    } else {
        ni_error_set(err, NI_ERR_ARG, "GeoIP lookup: no address");
        return -1;
    }
    int me = MMDB_SUCCESS;
    *res = MMDB_lookup_sockaddr(&g->mmdb, sa, &me);
    if (me != MMDB_SUCCESS) {
        char t[NI_ADDR_STRLEN];
        ni_error_set(err, NI_ERR_DATA, "%s: lookup of %s: %s", g->path, ni_addr_format(a, t), MMDB_strerror(me));
        return -1;
    }
    unsigned nm = res->netmask;
    if (q.family == 4 && g->mmdb.metadata.ip_version == 6) nm = nm >= 96 ? nm - 96 : 0;
    if (plen) *plen = nm;
    return res->found_entry ? 1 : 0;
}

/* 1 string copied, 0 absent / other type, -1 decoding error. */
static int entry_string(MMDB_entry_s *e, const char *const *path, char *buf, size_t n, int *mmdb_err)
{
    MMDB_entry_data_s d;
    MMDB_entry_s copy = *e;
    int rc = MMDB_aget_value(&copy, &d, path);
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || rc == MMDB_INVALID_LOOKUP_PATH_ERROR) return 0;
    if (rc != MMDB_SUCCESS) { if (mmdb_err) *mmdb_err = rc; return -1; }
    if (!d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING) return 0;
    if (d.data_size >= n) { if (mmdb_err) *mmdb_err = -1; return -1; }
    memcpy(buf, d.utf8_string, d.data_size);
    buf[d.data_size] = 0;
    return 1;
}

static const char *const p_country[] = { "country", "iso_code", NULL };
static const char *const p_registered[] = { "registered_country", "iso_code", NULL };
static const char *const p_cc[] = { "country_code", NULL };

/* Country of an entry: 1 found (cc set), 0 none, -1 decoding error. */
static int entry_country(MMDB_entry_s *e, char cc[3], bool *registered, int *mmdb_err)
{
    const char *const *paths[] = { p_country, p_registered, p_cc };
    for (size_t i = 0; i < 3; i++) {
        char buf[8];
        int r = entry_string(e, paths[i], buf, sizeof buf, mmdb_err);
        if (r < 0 && mmdb_err && *mmdb_err == -1) r = 0;   /* longer than a code: not one */
        if (r < 0) return -1;
        if (r == 0) continue;
        if (strlen(buf) != 2 || !((buf[0] | 32) >= 'a' && (buf[0] | 32) <= 'z') ||
            !((buf[1] | 32) >= 'a' && (buf[1] | 32) <= 'z'))
            continue;
        cc[0] = (char)(buf[0] & ~32);
        cc[1] = (char)(buf[1] & ~32);
        cc[2] = 0;
        if (registered) *registered = i == 1;
        return 1;
    }
    cc[0] = 0;
    return 0;
}

ni_err ni_geo_lookup(const ni_geo *g, const ni_addr *a, ni_geo_result *r, ni_error *err)
{
    memset(r, 0, sizeof *r);
    MMDB_lookup_result_s res;
    int f = do_lookup(g, a, &res, &r->prefix_len, err);
    if (f < 0) return err ? err->code : NI_ERR_DATA;
    if (!f) return NI_OK;
    r->found = true;
    int me = 0;
    if (entry_country(&res.entry, r->country, &r->registered, &me) < 0) {
        char t[NI_ADDR_STRLEN];
        return ni_error_set(err, NI_ERR_DATA, "%s: record of %s: %s", g->path, ni_addr_format(a, t),
                            MMDB_strerror(me));
    }
    return NI_OK;
}

int ni_geo_lookup_string(const ni_geo *g, const ni_addr *a, const char *const *path,
                         char *buf, size_t n, ni_error *err)
{
    if (n) buf[0] = 0;
    MMDB_lookup_result_s res;
    int f = do_lookup(g, a, &res, NULL, err);
    if (f <= 0) return f;
    int me = 0;
    int r = entry_string(&res.entry, path, buf, n, &me);
    if (r < 0) {
        char t[NI_ADDR_STRLEN];
        ni_error_set(err, me == -1 ? NI_ERR_LIMIT : NI_ERR_DATA, "%s: record of %s: %s", g->path,
                     ni_addr_format(a, t), me == -1 ? "value longer than the buffer" : MMDB_strerror(me));
    }
    return r;
}

/* ---------------------------------------------------------- enumeration */

uint32_t ni_geo_record_id(const ni_geo_record *r) { return r->entry.offset; }

int ni_geo_record_string(const ni_geo_record *r, const char *const *path, char *buf, size_t n)
{
    MMDB_entry_s e = r->entry;
    int me = 0;
    return entry_string(&e, path, buf, n, &me);
}

int ni_geo_record_uint(const ni_geo_record *r, const char *const *path, uint64_t *v)
{
    MMDB_entry_s e = r->entry;
    MMDB_entry_data_s d;
    int rc = MMDB_aget_value(&e, &d, path);
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || rc == MMDB_INVALID_LOOKUP_PATH_ERROR) return 0;
    if (rc != MMDB_SUCCESS) return -1;
    if (!d.has_data) return 0;
    switch (d.type) {
    case MMDB_DATA_TYPE_UINT16: *v = d.uint16; return 1;
    case MMDB_DATA_TYPE_UINT32: *v = d.uint32; return 1;
    case MMDB_DATA_TYPE_UINT64: *v = d.uint64; return 1;
    case MMDB_DATA_TYPE_INT32: if (d.int32 < 0) return 0; *v = (uint64_t)d.int32; return 1;
    default: return 0;
    }
}

int ni_geo_record_country(const ni_geo_record *r, char cc[3])
{
    MMDB_entry_s e = r->entry;
    int me = 0;
    return entry_country(&e, cc, NULL, &me);
}

typedef struct wframe { uint64_t rec; unsigned depth; uint8_t addr[16]; } wframe;

ni_err ni_geo_each_network(const ni_geo *g, ni_geo_net_fn fn, void *ud, ni_error *err)
{
    const MMDB_s *m = &g->mmdb;
    uint32_t nc = m->metadata.node_count;
    unsigned tdepth = tree_depth(m);
    bool v6 = m->metadata.ip_version == 6;
    bool has_v4 = v6 && m->ipv4_start_node.netmask == 96 && m->ipv4_start_node.node_value < nc;
    uint32_t v4node = m->ipv4_start_node.node_value;
    wframe *stack = calloc(tdepth + 2, sizeof *stack);
    if (!stack) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", g->path);
    size_t sp = 0;
    uint64_t visits = 0;
    ni_err r = NI_OK;
    stack[sp++] = (wframe){ .rec = 0, .depth = 0 };
    static const uint8_t zero[16];
    while (sp && !r) {
        wframe f = stack[--sp];
        if (f.rec < nc) {
            if (f.depth >= tdepth) { r = ni_error_set(err, NI_ERR_DATA, "%s: search tree deeper than the address", g->path); break; }
            if (has_v4 && f.rec == v4node && !(f.depth == 96 && !memcmp(f.addr, zero, 12))) continue;  /* alias */
            if (++visits > (uint64_t)nc + 1) { r = ni_error_set(err, NI_ERR_DATA, "%s: search tree shares subtrees", g->path); break; }
            MMDB_search_node_s n;
            if (MMDB_read_node(m, (uint32_t)f.rec, &n) != MMDB_SUCCESS) {
                r = ni_error_set(err, NI_ERR_DATA, "%s: search tree node out of range", g->path);
                break;
            }
            wframe right = { n.right_record, f.depth + 1, { 0 } };
            memcpy(right.addr, f.addr, 16);
            right.addr[f.depth / 8] |= (uint8_t)(0x80u >> (f.depth % 8));
            wframe left = { n.left_record, f.depth + 1, { 0 } };
            memcpy(left.addr, f.addr, 16);
            stack[sp++] = right;
            stack[sp++] = left;
            continue;
        }
        if (f.rec == nc) continue;
        if (f.rec < (uint64_t)nc + 16 || f.rec - nc - 16 >= m->data_section_size) {
            r = ni_error_set(err, NI_ERR_DATA, "%s: search tree record out of range", g->path);
            break;
        }
        ni_geo_record rec = { .entry = { .mmdb = m, .offset = (uint32_t)(f.rec - nc - 16) } };
        ni_addr a;
        memset(&a, 0, sizeof a);
        unsigned len = f.depth;
        if (!v6) {
            a.family = 4;
            memcpy(a.b, f.addr, 4);
        } else if (f.depth >= 96 && !memcmp(f.addr, zero, 12)) {
            a.family = 4;
            memcpy(a.b, f.addr + 12, 4);
            len = f.depth - 96;
        } else {
            a.family = 6;
            memcpy(a.b, f.addr, 16);
        }
        r = fn(ud, &a, len, &rec);
        if (r && err && !err->msg[0]) ni_error_set(err, r, "%s: walk stopped: %s", g->path, ni_strerror(r));
    }
    free(stack);
    return r;
}

/* country_prefixes: memoises the country of each record id in a small
 * direct-mapped cache (records repeat across many networks). */
#define CC_CACHE 4096u
typedef struct ccwalk {
    char want[3];
    ni_net_cb fn;
    void *ud;
    uint32_t ids[CC_CACHE];
    char cc[CC_CACHE][3];
    bool used[CC_CACHE];
} ccwalk;

static ni_err cc_each(void *ud, const ni_addr *a, unsigned len, const ni_geo_record *rec)
{
    ccwalk *w = ud;
    uint32_t id = ni_geo_record_id(rec), slot = (id * 2654435761u) % CC_CACHE;
    if (!w->used[slot] || w->ids[slot] != id) {
        if (ni_geo_record_country(rec, w->cc[slot]) < 0) w->cc[slot][0] = 0;
        w->ids[slot] = id;
        w->used[slot] = true;
    }
    if (memcmp(w->cc[slot], w->want, 3)) return NI_OK;
    return w->fn(w->ud, a, len);
}

ni_err ni_geo_country_prefixes(const ni_geo *g, const char *cc, ni_net_cb fn, void *ud, ni_error *err)
{
    if (!cc || strlen(cc) != 2 || !((cc[0] | 32) >= 'a' && (cc[0] | 32) <= 'z') ||
        !((cc[1] | 32) >= 'a' && (cc[1] | 32) <= 'z'))
        return ni_error_set(err, NI_ERR_ARG, "country '%s': not two letters (ISO 3166-1 alpha-2)", cc ? cc : "");
    ccwalk *w = calloc(1, sizeof *w);
    if (!w) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
    w->want[0] = (char)(cc[0] & ~32);
    w->want[1] = (char)(cc[1] & ~32);
    w->fn = fn;
    w->ud = ud;
    ni_err r = ni_geo_each_network(g, cc_each, w, err);
    free(w);
    return r;
}
