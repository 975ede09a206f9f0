/* ni_file.h — atomic output files.  An output is written to a temporary file
 * in the destination's directory ("<dir>/.<name>.tmp-<pid>-<n>"), then
 * flushed, fsync'ed and renamed over the destination on commit, so a reader
 * never sees a half-written file and a failed run leaves the previous file
 * untouched; on abort (or a failed commit) the temporary file is unlinked.
 * A path of "-" or NULL writes to standard output (no atomicity there).
 *
 * Ownership: ni_file is embedded by the caller (_open/_commit or _abort). */
#ifndef NI_FILE_H
#define NI_FILE_H

#include <stdio.h>
#include <stddef.h>
#include <stdbool.h>
#include "netintel/netintel.h"

typedef struct ni_file {
    FILE *fp;
    char *path;         /* destination (NULL for stdout) */
    char *tmp;          /* temporary file being written */
    bool failed;        /* a write failed: commit will fail and unlink */
} ni_file;

/* Opens path for writing ("-" or NULL = stdout).  Errors: "<path>: <why>". */
ni_err ni_file_open(ni_file *f, const char *path, ni_error *err);
ni_err ni_file_write(ni_file *f, const void *p, size_t n, ni_error *err);
/* Flushes, fsyncs and renames into place; on any failure unlinks the
 * temporary file.  The ni_file is closed either way. */
ni_err ni_file_commit(ni_file *f, ni_error *err);
/* Closes and unlinks the temporary file (stdout: just flushes). */
void ni_file_abort(ni_file *f);

/* Writes a whole file atomically in one call. */
ni_err ni_file_write_all(const char *path, const void *p, size_t n, ni_error *err);

#endif
