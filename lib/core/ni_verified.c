/* ni_verified.c — start-up verifications remembered by file identity (see
 * ni_verified.h). */
#include "core/ni_verified.h"
#include "core/ni_file.h"
#include "core/ni_buf.h"
#include "core/ni_hash.h"
#include "core/ni_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#define LINE_MAX_ 256

static void fileid_from(const struct stat *stp, ni_fileid *id)
{
    const struct stat st = *stp;
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    id->size = (uint64_t)st.st_size;
    id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    id->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

bool ni_fileid_of(const char *path, ni_fileid *id)
{
    struct stat st;
    if (!path || stat(path, &st) != 0) return false;
    fileid_from(&st, id);
    return true;
}

bool ni_fileid_of_fd(int fd, ni_fileid *id)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return false;
    fileid_from(&st, id);
    return true;
}

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* mkdir -p of the directories above path (the cache's own directory). */
static void make_parents(char *path)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        (void)mkdir(path, 0700);
        *s = '/';
    }
}

bool ni_user_cache_path(const char *name, char *buf, size_t n)
{
    int w;
    if (env_set("XDG_CACHE_HOME")) w = snprintf(buf, n, "%s/netintel/%s", getenv("XDG_CACHE_HOME"), name);
    else if (env_set("HOME")) w = snprintf(buf, n, "%s/.cache/netintel/%s", getenv("HOME"), name);
    else return false;
    return w > 0 && (size_t)w < n;
}

bool ni_verified_path(char *buf, size_t n)
{
    const char *always = getenv("NETINTEL_VERIFY_ALWAYS");
    if (always && *always && strcmp(always, "0")) return false;
    return ni_user_cache_path("verified", buf, n);
}

/* One line of the cache: KIND and the identity; false if malformed. */
static bool parse_line(const char *line, char *kind, size_t kn, ni_fileid *id)
{
    const char *tab = strchr(line, '\t');
    if (!tab || tab == line || (size_t)(tab - line) >= kn) return false;
    memcpy(kind, line, (size_t)(tab - line));
    kind[tab - line] = 0;
    uint64_t v[5];
    const char *p = tab + 1;
    for (int i = 0; i < 5; i++) {
        if (*p < '0' || *p > '9') return false;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (errno || end == p) return false;
        v[i] = x;
        p = end;
        if (i < 4) { if (*p != '\t') return false; p++; }
    }
    if (*p != '\n' && *p) return false;
    id->dev = v[0]; id->ino = v[1]; id->size = v[2];
    id->mtime_ns = (int64_t)v[3]; id->ctime_ns = (int64_t)v[4];
    return true;
}

static bool same(const ni_fileid *a, const ni_fileid *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

bool ni_verified_has(const char *kind, const ni_fileid *id)
{
    char path[4096];
    if (!kind || !id || !ni_verified_path(path, sizeof path)) return false;
    FILE *fp = fopen(path, "r");
    if (!fp) return false;
    char line[LINE_MAX_], k[LINE_MAX_];
    bool found = false;
    for (int i = 0; !found && i < NI_VERIFIED_ENTRIES && fgets(line, sizeof line, fp); i++) {
        ni_fileid x;
        if (parse_line(line, k, sizeof k, &x) && !strcmp(k, kind) && same(&x, id)) found = true;
    }
    fclose(fp);
    return found;
}


bool ni_verified_add(const char *kind, const ni_fileid *id)
{
    char path[4096];
    if (!kind || !*kind || strchr(kind, '\t') || strchr(kind, '\n') || !id || !ni_verified_path(path, sizeof path))
        return false;
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return false;
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    int64_t newest = id->mtime_ns > id->ctime_ns ? id->mtime_ns : id->ctime_ns;
    if (now_ns - newest < (int64_t)NI_VERIFIED_SETTLE_S * 1000000000) return false;
    /* the new entry first, then the others that are still well-formed */
    ni_buf b;
    ni_buf_init(&b, (size_t)(NI_VERIFIED_ENTRIES + 1) * LINE_MAX_);
    ni_buf_printf(&b, "%s\t%llu\t%llu\t%llu\t%lld\t%lld\n", kind, (unsigned long long)id->dev,
                  (unsigned long long)id->ino, (unsigned long long)id->size, (long long)id->mtime_ns,
                  (long long)id->ctime_ns);
    FILE *fp = fopen(path, "r");
    if (fp) {
        char line[LINE_MAX_], k[LINE_MAX_];
        for (int n = 1; n < NI_VERIFIED_ENTRIES && fgets(line, sizeof line, fp); ) {
            ni_fileid x;
            if (!parse_line(line, k, sizeof k, &x) || (!strcmp(k, kind) && same(&x, id))) continue;
            ni_buf_adds(&b, line);
            n++;
        }
        fclose(fp);
    }
    make_parents(path);
    ni_error e = {0};
    bool ok = b.err == NI_OK && ni_file_write_all(path, b.p, b.len, &e) == NI_OK;
    ni_buf_release(&b);
    return ok;
}

/* ---- start-up cache files ---- */
static uint64_t cur_u64(ni_cursor *c) { uint64_t lo = ni_cur_u32_le(c); return lo | (uint64_t)ni_cur_u32_le(c) << 32; }

static void put_u64(ni_buf *b, uint64_t v)
{
    uint8_t q[8];
    for (int i = 0; i < 8; i++) q[i] = (uint8_t)(v >> (8 * i));
    ni_buf_add(b, q, 8);
}

void ni_cachefile_begin(ni_buf *b, const void *magic, size_t magic_len, uint64_t key)
{
    ni_buf_init(b, (size_t)NI_CATALOG_BYTES_MAX);
    ni_buf_add(b, magic, magic_len);
    put_u64(b, key);
}

void ni_cachefile_finish(ni_buf *b, const char *path)
{
    if (!b->err) put_u64(b, ni_hash(&ni_hash_key_fixed, b->p, b->len));
    ni_error e = { 0 };
    if (!b->err) (void)ni_file_write_all(path, b->p, b->len, &e);
    ni_buf_release(b);
}

bool ni_cachefile_open(ni_cachefile *cf, const char *path, const void *magic, size_t magic_len,
                       const char *kind, uint64_t key)
{
    memset(cf, 0, sizeof *cf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    void *m = MAP_FAILED;
    size_t n = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= magic_len + 16 &&
        (uint64_t)st.st_size <= NI_CATALOG_BYTES_MAX) {
        n = (size_t)st.st_size;
        m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    cf->have_id = ni_fileid_of_fd(fd, &cf->id);
    close(fd);
    if (m == MAP_FAILED) return false;
    const uint8_t *buf = m;
    ni_cursor tail;
    ni_cur_init(&cf->body, buf, n - 8);
    ni_cur_init(&tail, buf + n - 8, 8);
    cf->summed = cf->have_id && ni_verified_has(kind, &cf->id);
    bool ok = !memcmp(buf, magic, magic_len) &&
              (cf->summed || cur_u64(&tail) == ni_hash(&ni_hash_key_fixed, buf, n - 8));
    ni_cur_skip(&cf->body, magic_len);
    if (!ok || cur_u64(&cf->body) != key) {
        munmap(m, n);
        return false;
    }
    cf->map = m;
    cf->n = n;
    cf->kind = kind;
    return true;
}

void ni_cachefile_close(ni_cachefile *cf, bool ok)
{
    if (!cf->map) return;
    munmap(cf->map, cf->n);
    cf->map = NULL;
    if (ok && cf->have_id && !cf->summed) (void)ni_verified_add(cf->kind, &cf->id);
}

void ni_cachefile_keep(ni_cachefile *cf, void **map, size_t *n)
{
    *map = cf->map;
    *n = cf->n;
    cf->map = NULL;
    if (cf->have_id && !cf->summed) (void)ni_verified_add(cf->kind, &cf->id);
}

void ni_cachefile_unmap(void *map, size_t n)
{
    if (map) munmap(map, n);
}
