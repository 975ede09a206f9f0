/* output.h — outputs of the embedding API: files written so that a reader
 * never sees half of one, and the session writers (JSON Lines, the
 * contract of docs/sessions.md, and CSV).  Included by netintel.h;
 * documented in docs/API.md.
 *
 * What a path means (docs/sessions.md, "Output paths"): NULL or "-" is
 * standard output, written as it comes; a regular file, or a path that does
 * not exist yet, is written to a temporary file beside it and renamed over
 * it on commit (an aborted or failed output leaves the previous file
 * untouched); symbolic links are followed; an existing device, FIFO or
 * socket is written through; a directory is refused. */
#ifndef NETINTEL_OUTPUT_H
#define NETINTEL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ni_output ni_output;

/* Whether writing path would make a temporary file (a regular file or a new
 * path), without creating anything: a caller that removes temporary files
 * on a signal blocks signals around ni_output_open only then (opening a
 * FIFO waits for its reader).  NI_ERR_OUTPUT for a path that cannot be
 * written ("<path>: <why>"). */
ni_err ni_output_is_atomic(const char *path, bool *atomic, ni_error *err);
/* NULL with err set: NI_ERR_OUTPUT ("<path>: <why>"), NI_ERR_NOMEM. */
ni_output *ni_output_open(const char *path, ni_error *err);
/* NI_ERR_OUTPUT, or NI_ERR_PIPE when the reader of a pipe went away. */
ni_err ni_output_write(ni_output *o, const void *p, size_t n, ni_error *err);
/* Hands what was written so far to standard output, a FIFO, a device or
 * a socket now (a live capture's sessions as they end); a temporary file
 * is left alone (it appears whole at commit).  NI_ERR_OUTPUT, NI_ERR_PIPE. */
ni_err ni_output_flush(ni_output *o, ni_error *err);
/* The temporary file being written, else NULL. */
const char *ni_output_temp(const ni_output *o);
/* The path another writer may open by name to write this output (the
 * temporary file, the file written through, or "-"). */
const char *ni_output_path(const ni_output *o);
/* Flushes, and for a temporary file syncs it and renames it into place;
 * frees o either way.  NI_ERR_OUTPUT, NI_ERR_PIPE. */
ni_err ni_output_commit(ni_output *o, ni_error *err);
/* Closes and frees o; a temporary file is removed.  NULL is a no-op. */
void ni_output_abort(ni_output *o);
/* open, write, commit. */
ni_err ni_output_write_all(const char *path, const void *p, size_t n, ni_error *err);

/* ---- session writers ----------------------------------------------------- */
typedef enum ni_format {
    NI_FORMAT_JSONL = 0,        /* one JSON object a line (docs/sessions.md) */
    NI_FORMAT_CSV,              /* every JSON Lines field; a header row first */
    NI_FORMAT_SQLITE            /* a SQLite database, table `sessions` (docs/store.md) */
} ni_format;
/* "jsonl", "csv" or "sqlite"; NI_ERR_ARG otherwise. */
ni_err ni_format_parse(const char *name, ni_format *fmt);
/* The format a file name asks for: NI_FORMAT_SQLITE for a name ending in
 * .sqlite or .sqlite3 (true); false otherwise, *fmt untouched. */
bool ni_format_from_name(const char *path, ni_format *fmt);

typedef struct ni_sink ni_sink;
/* A writer of sessions to out (borrowed: commit or abort it after
 * ni_sink_end / ni_sink_free).  NULL on NI_ERR_NOMEM.
 * NI_FORMAT_SQLITE needs a file: a new one (or an empty one) is created in
 * out's temporary file and renamed into place by ni_output_commit; an
 * existing netintel database is appended to in place, in transactions of
 * whole batches (ni_output_commit then only removes the unused temporary
 * file; ni_sink_free without ni_sink_end drops the batch in progress).
 * NULL + NI_ERR_OUTPUT for standard output, a device or FIFO, or a file
 * that cannot be opened; NI_ERR_FORMAT for an existing file that is not a
 * netintel database of this schema version ("<path>: <problem>"). */
ni_sink *ni_sink_new(ni_output *out, ni_format fmt, ni_error *err);
/* Writes one session; a session callback (ni_session_fn) with ud = the
 * sink.  NI_ERR_OUTPUT (also for a record too large), NI_ERR_PIPE. */
ni_err ni_sink_session(void *sink, const ni_session *s, ni_error *err);
/* Writes what an output with no session still has (the CSV header); for
 * SQLite commits the last batch and closes the database. */
ni_err ni_sink_end(ni_sink *k, ni_error *err);
void ni_sink_free(ni_sink *k);

/* True for an output that is a store's URL, not a file:
 * clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DB?table=T[&spool=PATH&wait=S&rows=N&bytes=N]. */
bool ni_sink_is_url(const char *path);
/* A writer of sessions into the ClickHouse table of url (docs/store.md,
 * "ClickHouse"): created when absent, sessions inserted in batches, retried
 * with backoff and spooled to a local file while the server is away, never
 * inserted twice.  ni_sink_end sends what is left and waits for the spool
 * to be replayed (at most wait= seconds).  NULL + err: NI_ERR_ARG (a bad
 * URL), NI_ERR_OUTPUT (the table cannot be created or lacks netintel's
 * columns), NI_ERR_NOMEM. */
ni_sink *ni_sink_new_url(const char *url, ni_error *err);

/* The SQL that creates the sessions table of a store (docs/store.md):
 * engine "sqlite" (the table -o FILE.sqlite creates, with its user_version)
 * or "clickhouse" (MergeTree; table "DB.TABLE", default netintel.sessions;
 * with cluster, ON CLUSTER and a Distributed table DB.TABLE_all).  Returns
 * a malloc'd NUL-terminated text the caller frees; NULL with err set
 * (NI_ERR_ARG: unknown engine; NI_ERR_NOMEM). */
char *ni_store_schema(const char *engine, const char *table, const char *cluster, ni_error *err);

#ifdef __cplusplus
}
#endif
#endif
