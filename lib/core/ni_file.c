/* ni_file.c — output files: temporary file in the destination's directory,
 * fsync, rename(2), unlink on failure; symlinks followed; devices, FIFOs and
 * sockets written through (see ni_file.h for the rules); bytes gathered and
 * handed to the system a chunk (NI_OUTPUT_CHUNK) at a time. */
#include "core/ni_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/ni_limits.h"

#define SYMLINK_HOPS 40         /* as the kernel's MAXSYMLINKS */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static void release(ni_file *f)
{
    ni_buf_release(&f->buf);
    free(f->path);
    free(f->dest);
    free(f->tmp);
    memset(f, 0, sizeof *f);
}

static const char *name_of(const ni_file *f) { return f->path ? f->path : "standard output"; }

/* The code for a failed write or open: the reader went away, else output. */
static ni_err code_of(int e) { return e == EPIPE ? NI_ERR_PIPE : NI_ERR_OUTPUT; }

/* The target of the symbolic link `link` (text `to`), as a path: `to`
 * itself when absolute, else relative to the link's directory. */
static char *link_target(const char *link, const char *to)
{
    if (to[0] == '/') return dupstr(to);
    const char *slash = strrchr(link, '/');
    size_t dl = slash ? (size_t)(slash - link) + 1 : 0, tl = strlen(to);
    char *p = malloc(dl + tl + 1);
    if (!p) return NULL;
    memcpy(p, link, dl);
    memcpy(p + dl, to, tl + 1);
    return p;
}

ni_err ni_file_resolve(const char *path, ni_file_kind *kind, char **dest, ni_error *err)
{
    *dest = NULL;
    *kind = NI_FILE_STDOUT;
    if (!path || !strcmp(path, "-")) return NI_OK;
    if (!*path) return ni_error_set(err, NI_ERR_OUTPUT, "'': empty output path");
    char *cur = dupstr(path);
    if (!cur) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    for (int hop = 0;; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0) {             /* a new file (or open() will say why not) */
            *kind = NI_FILE_ATOMIC;
            *dest = cur;
            return NI_OK;
        }
        if (S_ISLNK(st.st_mode)) {
            /* A link that ends at a pipe, device or socket is written
             * through the link itself: /dev/stdout -> /proc/self/fd/1 ->
             * "pipe:[N]" names no path, but opening the link works. */
            struct stat fin;
            if (stat(cur, &fin) == 0 && !S_ISREG(fin.st_mode) && !S_ISDIR(fin.st_mode)) {
                *kind = NI_FILE_THROUGH;
                *dest = cur;
                return NI_OK;
            }
            char to[PATH_MAX];
            ssize_t n = hop < SYMLINK_HOPS ? readlink(cur, to, sizeof to - 1) : -1;
            if (n < 0) {
                int e = hop < SYMLINK_HOPS ? errno : ELOOP;
                free(cur);
                return ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot follow the link: %s", path, strerror(e));
            }
            to[n] = 0;
            char *next = link_target(cur, to);
            free(cur);
            if (!next) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
            cur = next;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            free(cur);
            return ni_error_set(err, NI_ERR_OUTPUT, "%s: is a directory", path);
        }
        *kind = S_ISREG(st.st_mode) ? NI_FILE_ATOMIC : NI_FILE_THROUGH;
        *dest = cur;
        return NI_OK;
    }
}

/* Opens an existing non-regular file in place: a socket is connected to,
 * anything else opened write-only.  Returns the descriptor or -1 (errno). */
static int open_through(const char *dest)
{
    struct stat st;
    if (stat(dest, &st) != 0) return -1;
    if (S_ISSOCK(st.st_mode)) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if (strlen(dest) >= sizeof sa.sun_path) { errno = ENAMETOOLONG; return -1; }
        memcpy(sa.sun_path, dest, strlen(dest) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        return fd;
    }
    int fd = open(dest, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {   /* replaced meanwhile */
        close(fd);
        errno = EAGAIN;
        return -1;
    }
    return fd;
}

/* Creates the temporary file beside f->dest, with the mode of the file it
 * will replace (if any).  Returns the descriptor or -1 (errno). */
static int open_temp(ni_file *f)
{
    const char *slash = strrchr(f->dest, '/');
    size_t dirlen = slash ? (size_t)(slash - f->dest) + 1 : 0;
    const char *base = slash ? slash + 1 : f->dest;
    if (!*base) { errno = EISDIR; return -1; }
    size_t cap = strlen(f->dest) + 64;
    if (!(f->tmp = malloc(cap))) { errno = ENOMEM; return -1; }
    int fd = -1;
    for (unsigned n = 0; n < 100 && fd < 0; n++) {
        snprintf(f->tmp, cap, "%.*s.%s.tmp-%ld-%u", (int)dirlen, f->dest, base, (long)getpid(), n);
        fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) { int e = errno; free(f->tmp); f->tmp = NULL; errno = e; return -1; }
    struct stat st;
    if (stat(f->dest, &st) == 0 && S_ISREG(st.st_mode)) (void)fchmod(fd, st.st_mode & 07777);
    return fd;
}

ni_err ni_file_open(ni_file *f, const char *path, ni_error *err)
{
    memset(f, 0, sizeof *f);
    ni_buf_init(&f->buf, NI_OUTPUT_BUF_MAX);
    ni_err r = ni_file_resolve(path, &f->kind, &f->dest, err);
    if (r) return r;
    if (f->kind == NI_FILE_STDOUT) { f->fp = stdout; return NI_OK; }
    if (!(f->path = dupstr(path))) {
        release(f);
        return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    }
    int fd = f->kind == NI_FILE_ATOMIC ? open_temp(f) : open_through(f->dest);
    if (fd < 0) {
        int e = errno;
        release(f);
        if (e == ENOMEM) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        return ni_error_set(err, code_of(e), "%s: cannot create: %s", path, strerror(e));
    }
    f->fp = fdopen(fd, "w");
    if (!f->fp) {
        int e = errno;
        close(fd);
        if (f->tmp) unlink(f->tmp);
        release(f);
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: %s", path, strerror(e));
    }
    setvbuf(f->fp, NULL, _IONBF, 0);    /* the chunks go straight to write(2) */
    return NI_OK;
}

static ni_err write_failed(ni_file *f, ni_error *err)
{
    int e = f->write_errno ? f->write_errno : EIO;
    return ni_error_set(err, code_of(e), "%s: cannot write: %s", name_of(f), strerror(e));
}

/* A temporary file's writeback is started every WRITEBACK_STEP bytes
 * (sync_file_range, which does not wait), so that the disk writes while the
 * run goes on and the fsync at commit waits only for the last step: 64 ms
 * of 0.5 s for a 59 MB sessions file on this machine without it.  Advisory:
 * its errors are left to the fsync. */
#define WRITEBACK_STEP (8u << 20)

static bool start_writeback(ni_file *f)
{
    f->flushed = f->written;
#ifdef SYNC_FILE_RANGE_WRITE
    if (fflush(f->fp) != 0) return false;
    (void)sync_file_range(fileno(f->fp), 0, 0, SYNC_FILE_RANGE_WRITE);  /* 0, 0: to the end */
#endif
    return true;
}

/* Notes the first failure (e: an errno value, 0 for unknown). */
static void fail(ni_file *f, int e)
{
    if (f->failed) return;
    f->failed = true;
    f->write_errno = e;
}

/* Hands n bytes at p to the system (and starts the writeback every
 * WRITEBACK_STEP bytes).  False on failure, noted. */
static bool put(ni_file *f, const void *p, size_t n)
{
    if ((n && fwrite(p, 1, n, f->fp) != n) ||
        (f->kind == NI_FILE_ATOMIC && (f->written += n) - f->flushed >= WRITEBACK_STEP && !start_writeback(f))) {
        fail(f, errno);
        return false;
    }
    return true;
}

/* Hands the buffer over and empties it. */
static bool drain(ni_file *f)
{
    bool ok = f->failed || put(f, f->buf.p, f->buf.len);
    ni_buf_clear(&f->buf);
    return ok && !f->failed;
}

/* A failed append to the buffer fails the output. */
static void check_buf(ni_file *f)
{
    if (f->buf.err) fail(f, f->buf.err == NI_ERR_NOMEM ? ENOMEM : EFBIG);
}

ni_err ni_file_write(ni_file *f, const void *p, size_t n, ni_error *err)
{
    check_buf(f);
    if (f->failed) return write_failed(f, err);
    if (n < NI_OUTPUT_CHUNK) {              /* gathered: one write(2) a chunk */
        if (ni_buf_add(&f->buf, p, n) != NI_OK) check_buf(f);
        else if (f->buf.len < NI_OUTPUT_CHUNK || drain(f)) return NI_OK;
        return write_failed(f, err);
    }
    if (!drain(f) || !put(f, p, n)) return write_failed(f, err);      /* large: no copy */
    return NI_OK;
}

ni_buf *ni_file_buf(ni_file *f) { return &f->buf; }

ni_err ni_file_wrote(ni_file *f, ni_error *err)
{
    check_buf(f);
    if (f->failed) {
        ni_buf_clear(&f->buf);      /* never written now: no growing past the failure */
        return write_failed(f, err);
    }
    if (f->buf.len >= NI_OUTPUT_CHUNK && !drain(f)) return write_failed(f, err);
    return NI_OK;
}

ni_err ni_file_flush(ni_file *f, ni_error *err)
{
    check_buf(f);
    if (f->failed || !drain(f)) return write_failed(f, err);
    if (fflush(f->fp) != 0) {
        fail(f, errno);
        return write_failed(f, err);
    }
    return NI_OK;
}

const char *ni_file_write_path(const ni_file *f)
{
    if (f->kind == NI_FILE_STDOUT) return "-";
    return f->kind == NI_FILE_ATOMIC ? f->tmp : f->dest;
}

ni_err ni_file_commit(ni_file *f, ni_error *err)
{
    if (!f->fp) { release(f); return ni_error_set(err, NI_ERR_OUTPUT, "output not open"); }
    check_buf(f);
    if (!f->failed) drain(f);
    int e = f->failed ? (f->write_errno ? f->write_errno : EIO) : 0;
    if (!e && fflush(f->fp) != 0) e = errno ? errno : EIO;
    if (!e && ferror(f->fp)) e = EIO;
    if (f->kind == NI_FILE_STDOUT) {
        if (e) clearerr(f->fp);
    } else {
        if (!e && f->kind == NI_FILE_ATOMIC && fsync(fileno(f->fp)) != 0 && errno != EINVAL) e = errno;
        if (fclose(f->fp) != 0 && !e) e = errno;
        f->fp = NULL;
        if (!e && f->kind == NI_FILE_ATOMIC && rename(f->tmp, f->dest) != 0) e = errno;
        if (e && f->tmp) unlink(f->tmp);
    }
    ni_err r = NI_OK;
    if (e) r = ni_error_set(err, code_of(e), "%s: cannot write: %s", name_of(f), strerror(e));
    release(f);
    return r;
}

void ni_file_abort(ni_file *f)
{
    bool ok = true;
    if (f->fp && f->kind != NI_FILE_ATOMIC && !f->failed && !f->buf.err) ok = drain(f);   /* written through: stays written */
    if (f->fp && f->kind == NI_FILE_STDOUT) {
        if (fflush(f->fp) != 0 || !ok) clearerr(f->fp);
    } else if (f->fp) {
        fclose(f->fp);
    }
    if (f->tmp) unlink(f->tmp);
    release(f);
}

ni_err ni_file_write_all(const char *path, const void *p, size_t n, ni_error *err)
{
    ni_file f;
    ni_err r = ni_file_open(&f, path, err);
    if (r) return r;
    if ((r = ni_file_write(&f, p, n, err)) != NI_OK) { ni_file_abort(&f); return r; }
    return ni_file_commit(&f, err);
}
