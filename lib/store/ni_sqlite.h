/* ni_sqlite.h — a store sink: enriched sessions into a SQLite database, the
 * `sessions` table of docs/store.md.  The columns are the JSON Lines fields
 * (docs/sessions.md), taken from the one field walk of lib/output/ni_out
 * (ni_out_fields), so a new session field is a new column without a change
 * here: strings TEXT, numbers INTEGER, flags BOOLEAN (1 or NULL), arrays and
 * objects JSON (their JSON Lines text); first and last also as integer
 * microseconds (first_us, last_us).  Absent evidence is NULL.  Indexes on
 * first_us, client and server; PRAGMA user_version holds the schema
 * version (ingest/ni_sqlsrc.h, which reads such a database back).
 *
 * Two ways to open:
 *   - a new database (the file is empty: the caller's temporary file, which
 *     it renames into place after ni_sqlite_finish): table and indexes
 *     created, written without a journal (the rename is the atomicity),
 *     left in WAL mode;
 *   - appending to an existing netintel database: checked (table, version,
 *     column types), columns of fields it does not have yet added (fields
 *     are only ever added), written in WAL mode.
 * Sessions are inserted in transactions of NI_SQLITE_BATCH; a crash or a
 * kill while appending leaves the database with whole batches only. */
#ifndef NI_SQLITE_H
#define NI_SQLITE_H

#include <stdbool.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"

typedef struct ni_sqlite ni_sqlite;

/* Opens path; name is the path in messages ("<name>: <problem>").  append:
 * path is an existing netintel database; else an empty or new file.
 * NULL + err: NI_ERR_OUTPUT (cannot write), NI_ERR_FORMAT (not a netintel
 * database, another schema version, a column of another type), NI_ERR_NOMEM. */
ni_sqlite *ni_sqlite_open(const char *path, const char *name, bool append, ni_error *err);
/* Inserts one session.  NI_ERR_OUTPUT. */
ni_err ni_sqlite_add(ni_sqlite *w, const ni_session *s, ni_error *err);
/* Commits what is left and closes the database (w stays to be freed).
 * NI_ERR_OUTPUT. */
ni_err ni_sqlite_finish(ni_sqlite *w, ni_error *err);
/* Closes without committing the batch in progress (earlier batches of an
 * append stay).  NULL is a no-op. */
void ni_sqlite_free(ni_sqlite *w);

/* The SQL that creates the table and its indexes (docs/store.md). */
void ni_sqlite_schema(ni_buf *b);

#endif
