/* ni_file.c — atomic output files: temporary file in the same directory,
 * fsync, rename(2); unlink on failure (see ni_file.h). */
#include "core/ni_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static void release(ni_file *f)
{
    free(f->path);
    free(f->tmp);
    memset(f, 0, sizeof *f);
}

ni_err ni_file_open(ni_file *f, const char *path, ni_error *err)
{
    memset(f, 0, sizeof *f);
    if (!path || !strcmp(path, "-")) { f->fp = stdout; return NI_OK; }
    f->path = dupstr(path);
    if (!f->path) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base) {
        release(f);
        return ni_error_set(err, NI_ERR_ARG, "%s: is a directory", path);
    }
    size_t cap = strlen(path) + 64;
    f->tmp = malloc(cap);
    if (!f->tmp) { release(f); return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); }
    int fd = -1;
    for (unsigned n = 0; n < 100 && fd < 0; n++) {
        snprintf(f->tmp, cap, "%.*s.%s.tmp-%ld-%u", (int)dirlen, path, base, (long)getpid(), n);
        fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        release(f);
        return ni_error_set(err, e == ENOENT || e == ENOTDIR ? NI_ERR_NOTFOUND : NI_ERR_IO,
                            "%s: cannot create: %s", path, strerror(e));
    }
    f->fp = fdopen(fd, "w");
    if (!f->fp) {
        int e = errno;
        close(fd);
        unlink(f->tmp);
        release(f);
        return ni_error_set(err, NI_ERR_IO, "%s: %s", path, strerror(e));
    }
    return NI_OK;
}

ni_err ni_file_write(ni_file *f, const void *p, size_t n, ni_error *err)
{
    if (f->failed) return ni_error_set(err, NI_ERR_IO, "%s: write failed", f->path ? f->path : "stdout");
    if (n && fwrite(p, 1, n, f->fp) != n) {
        f->failed = true;
        return ni_error_set(err, NI_ERR_IO, "%s: write failed: %s", f->path ? f->path : "stdout",
                            strerror(errno));
    }
    return NI_OK;
}

ni_err ni_file_commit(ni_file *f, ni_error *err)
{
    if (!f->fp) return ni_error_set(err, NI_ERR_IO, "output not open");
    if (!f->path) {                             /* stdout */
        bool bad = fflush(f->fp) != 0 || ferror(f->fp) || f->failed;
        int e = errno;
        release(f);
        return bad ? ni_error_set(err, NI_ERR_IO, "stdout: write failed: %s", strerror(e)) : NI_OK;
    }
    int e = 0;
    if (f->failed || ferror(f->fp)) e = EIO;
    if (!e && fflush(f->fp) != 0) e = errno;
    if (!e && fsync(fileno(f->fp)) != 0 && errno != EINVAL) e = errno;
    if (fclose(f->fp) != 0 && !e) e = errno;
    f->fp = NULL;
    if (!e && rename(f->tmp, f->path) != 0) e = errno;
    if (e) {
        unlink(f->tmp);
        ni_err r = ni_error_set(err, NI_ERR_IO, "%s: cannot write: %s", f->path, strerror(e));
        release(f);
        return r;
    }
    release(f);
    return NI_OK;
}

void ni_file_abort(ni_file *f)
{
    if (!f->fp && !f->tmp) { release(f); return; }
    if (!f->path) { if (f->fp) fflush(f->fp); release(f); return; }
    if (f->fp) fclose(f->fp);
    unlink(f->tmp);
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
