/* ni_sqlsrc.h — sessions kept in SQLite (docs/store.md) read back as a
 * source: the `sessions` table that lib/store/ni_sqlite writes, one row per
 * session, one column per JSON Lines field (docs/sessions.md).  Each row is
 * turned back into its JSON Lines record (column name = field name; the
 * declared type says how: TEXT a string, INTEGER a number, BOOLEAN true,
 * JSON an array or object) and read by the stored-sessions reader
 * (ni_stored), so a database gives the sessions its JSON Lines would.
 * Rows come in rowid (insertion) order.
 *
 * Also the schema's shared facts, used by the writer too: the table name,
 * the version kept in PRAGMA user_version, the declared types, and the check
 * that a database is one netintel can read or append to. */
#ifndef NI_SQLSRC_H
#define NI_SQLSRC_H

#include <stdbool.h>
#include <sqlite3.h>
#include "netintel/netintel.h"

/* The schema's version (PRAGMA user_version): how fields become columns.
 * New fields are new columns and keep it; a change of how a field is kept
 * (a type, a time form) increases it.  A database with another version is
 * refused, for reading and for appending. */
#define NI_SQLITE_SCHEMA_VERSION 1
#define NI_SQLITE_TABLE "sessions"

/* The declared types of the columns. */
#define NI_SQLITE_TEXT "TEXT"           /* a string field */
#define NI_SQLITE_INTEGER "INTEGER"     /* a number field, and first_us / last_us */
#define NI_SQLITE_BOOLEAN "BOOLEAN"     /* a flag: 1, or NULL when absent */
#define NI_SQLITE_JSON "JSON"           /* an array or object: its JSON Lines text */

/* True when the file starts with SQLite's magic ("SQLite format 3\0"). */
bool ni_sqlsrc_probe(const char *path);

/* Checks that db (opened on the file called name in messages) holds a
 * netintel sessions table: the table, user_version, every column of a known
 * declared type, and first, last, client, server present as TEXT.
 * NI_ERR_FORMAT "<name>: <problem>" otherwise. */
ni_err ni_sqlsrc_check(sqlite3 *db, const char *name, ni_error *err);

typedef struct ni_sqlsrc ni_sqlsrc;

/* Opens the database; it is only read (PRAGMA query_only), though SQLite
 * may finish a crashed writer's last commit or remove its own -wal / -shm
 * files as it closes.  NULL + err ("<path>: <problem>"). */
ni_sqlsrc *ni_sqlsrc_open(const char *path, ni_error *err);
/* Next session: 1 and *s filled (strings in an arena the reader owns and
 * reuses), 0 at the end, -1 on a bad row ("<path>:<n>: <problem>", n the
 * row's place in rowid order) or a database error ("<path>: <problem>"). */
int ni_sqlsrc_next(ni_sqlsrc *q, ni_session *s, ni_error *err);
/* Rows read so far and the table's row count (for progress). */
void ni_sqlsrc_progress(const ni_sqlsrc *q, uint64_t *done, uint64_t *total);
void ni_sqlsrc_close(ni_sqlsrc *q);

#endif
