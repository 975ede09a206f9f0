/* ni_file.h — output files, written so that a reader never sees half of one.
 * What `-o PATH` means (docs/sessions.md, "Output paths"):
 *   - "-" or NULL: standard output, written as it comes;
 *   - a regular file, or a path that does not exist yet: written to a
 *     temporary file in the destination's directory
 *     ("<dir>/.<name>.tmp-<pid>-<n>"; its writeback started every 8 MiB, so
 *     that the disk writes while the run goes on), then flushed, fsync'ed and
 *     renamed over the destination on commit, so a failed or aborted run
 *     leaves the previous file untouched; on abort (or a failed commit) the
 *     temporary file is unlinked;
 *   - a symbolic link: followed (chains too, and a link to a path that does
 *     not exist yet); the link stays and its final target gets the rules
 *     above;
 *   - an existing file that is not regular (character or block device, FIFO,
 *     socket): written through — opened and written in place, never replaced
 *     (a FIFO waits for its reader, a socket is connected to);
 *   - a directory: refused (NI_ERR_OUTPUT).
 * Bytes written are gathered in the ni_file's own buffer and handed to the
 * system NI_OUTPUT_CHUNK at a time (one write(2) each, stdio's buffer
 * bypassed for the files opened here; standard output goes through stdout,
 * shared with the rest of the program); a writer may also format straight
 * into that buffer (ni_file_buf).  ni_file_flush, commit and, for what is
 * written through, abort hand over the rest.
 * Errors are NI_ERR_OUTPUT ("<path>: <why>"), NI_ERR_PIPE when the reader of
 * a pipe or socket went away (EPIPE), NI_ERR_NOMEM.
 *
 * Ownership: ni_file is embedded by the caller (_open, then _commit or
 * _abort, which release it either way). */
#ifndef NI_FILE_H
#define NI_FILE_H

#include <stdio.h>
#include <stddef.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"

typedef enum ni_file_kind {
    NI_FILE_STDOUT = 0,     /* "-": standard output */
    NI_FILE_ATOMIC,         /* temporary file renamed over the destination */
    NI_FILE_THROUGH         /* existing non-regular file written in place */
} ni_file_kind;

typedef struct ni_file {
    FILE *fp;
    ni_file_kind kind;
    char *path;         /* as given (NULL for stdout); used in messages */
    char *dest;         /* ATOMIC: the file replaced (symlinks resolved); THROUGH: the file written */
    char *tmp;          /* ATOMIC: the temporary file being written, else NULL */
    bool failed;        /* a write failed: commit fails (and unlinks) */
    int write_errno;    /* errno of the first failed write */
    size_t written;     /* ATOMIC: bytes handed to the system so far */
    size_t flushed;     /* ATOMIC: bytes whose writeback has been started */
    ni_buf buf;         /* bytes not yet handed to the system (cap NI_OUTPUT_BUF_MAX) */
} ni_file;

/* What writing `path` would do, without creating anything: its kind and,
 * unless stdout, the destination (*dest, malloc'd, symlinks resolved). */
ni_err ni_file_resolve(const char *path, ni_file_kind *kind, char **dest, ni_error *err);

/* Opens path for writing as described above.  A FIFO blocks until a reader
 * opens it.  Errors: "<path>: <why>". */
ni_err ni_file_open(ni_file *f, const char *path, ni_error *err);
ni_err ni_file_write(ni_file *f, const void *p, size_t n, ni_error *err);
/* For a writer that formats straight into the output, without a copy: the
 * buffer of bytes not yet handed to the system, to append to (its cap leaves
 * room for NI_SESSION_RECORD_MAX bytes past a chunk); then ni_file_wrote.
 * A record that fails half-way is dropped with ni_buf_truncate. */
ni_buf *ni_file_buf(ni_file *f);
/* After appending to ni_file_buf: hands the bytes to the system once they
 * reach NI_OUTPUT_CHUNK.  A failed append (the buffer's err) fails the
 * output.  Errors as ni_file_write. */
ni_err ni_file_wrote(ni_file *f, ni_error *err);
/* Hands every byte written so far to the system now (a live capture's
 * sessions as they end): standard output, a device, FIFO or socket receive
 * them; a temporary file too, though it appears only at commit.  Errors as
 * ni_file_write. */
ni_err ni_file_flush(ni_file *f, ni_error *err);
/* The path another writer (e.g. libpcap) may open by name to write this
 * output: the temporary file, the destination written through, or "-". */
const char *ni_file_write_path(const ni_file *f);
/* Flushes; ATOMIC: fsyncs and renames into place, unlinking the temporary
 * file on any failure.  The ni_file is closed and released either way. */
ni_err ni_file_commit(ni_file *f, ni_error *err);
/* Closes; ATOMIC: unlinks the temporary file (the destination is untouched).
 * Bytes already written through (stdout, a device, a FIFO) stay written:
 * what is still in the buffer is handed over first. */
void ni_file_abort(ni_file *f);

/* Writes a whole file in one call (open, write, commit). */
ni_err ni_file_write_all(const char *path, const void *p, size_t n, ni_error *err);

#endif
