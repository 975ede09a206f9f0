/* ni_sqlsrc.c — sessions kept in SQLite, read back (see ni_sqlsrc.h; the
 * file format is SQLite's, https://www.sqlite.org/fileformat.html, read by
 * libsqlite3; the table is docs/store.md's).  A row becomes its JSON Lines
 * record (jansson) and goes through the stored-sessions reader, fed by a
 * stdio stream over the rows (fopencookie). */
#include "ingest/ni_sqlsrc.h"
#include "ingest/ni_stored.h"
#include "core/ni_limits.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ni_sqlsrc_probe(const char *path)
{
    static const char magic[16] = "SQLite format 3";   /* with its NUL: 16 bytes */
    if (!strcmp(path, "-")) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char b[16];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    return n == sizeof b && !memcmp(b, magic, sizeof b);
}

enum { K_TEXT = 1, K_INTEGER, K_BOOLEAN, K_JSON };

static int kind_of(const char *decl)
{
    if (!decl) return 0;
    if (!strcmp(decl, NI_SQLITE_TEXT)) return K_TEXT;
    if (!strcmp(decl, NI_SQLITE_INTEGER)) return K_INTEGER;
    if (!strcmp(decl, NI_SQLITE_BOOLEAN)) return K_BOOLEAN;
    if (!strcmp(decl, NI_SQLITE_JSON)) return K_JSON;
    return 0;
}

ni_err ni_sqlsrc_check(sqlite3 *db, const char *name, ni_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '"
                           NI_SQLITE_TABLE "'", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: not a SQLite database (%s)", name, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NI_ERR_FORMAT;
    }
    int have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (!have)
        return ni_error_set(err, NI_ERR_FORMAT, "%s: not a netintel database: no table '" NI_SQLITE_TABLE "'", name);
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version != NI_SQLITE_SCHEMA_VERSION)
        return ni_error_set(err, NI_ERR_FORMAT, "%s: schema version %d (PRAGMA user_version), this netintel "
                            "knows version %d (docs/store.md)", name, version, NI_SQLITE_SCHEMA_VERSION);
    if (sqlite3_prepare_v2(db, "PRAGMA table_info(" NI_SQLITE_TABLE ")", -1, &st, NULL) != SQLITE_OK) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: table '" NI_SQLITE_TABLE "': %s", name, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NI_ERR_FORMAT;
    }
    static const char *const needed[] = { "first", "last", "client", "server" };
    bool found[sizeof needed / sizeof needed[0]] = { false };
    ni_err r = NI_OK;
    while (!r && sqlite3_step(st) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(st, 1);
        const char *decl = (const char *)sqlite3_column_text(st, 2);
        int k = kind_of(decl);
        if (!k)
            r = ni_error_set(err, NI_ERR_FORMAT, "%s: table '" NI_SQLITE_TABLE "': column '%s' has type '%s' "
                             "(expected TEXT, INTEGER, BOOLEAN or JSON)", name, col ? col : "", decl ? decl : "");
        for (size_t i = 0; !r && col && i < sizeof needed / sizeof needed[0]; i++)
            if (!strcmp(col, needed[i])) {
                if (k != K_TEXT)
                    r = ni_error_set(err, NI_ERR_FORMAT, "%s: table '" NI_SQLITE_TABLE "': column '%s' has type "
                                     "'%s' (expected TEXT)", name, col, decl);
                found[i] = true;
            }
    }
    sqlite3_finalize(st);
    for (size_t i = 0; !r && i < sizeof needed / sizeof needed[0]; i++)
        if (!found[i])
            r = ni_error_set(err, NI_ERR_FORMAT, "%s: table '" NI_SQLITE_TABLE "' has no column '%s'", name, needed[i]);
    return r;
}

struct ni_sqlsrc {
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *rows;
    int ncol;
    int *kind;              /* per result column (0: the rowid) */
    ni_stored *st;          /* reads the records the rows become */
    char *line;             /* the current row's record, and how much is left to hand out */
    size_t len, off;
    uint64_t n;             /* rows read */
    int64_t rowid, max_rowid;
    bool failed, ended;     /* ended: the last row was read (stepping again would start over) */
    ni_error rerr;          /* a row's problem, reported by ni_sqlsrc_next */
};

/* "<path>:<n>: [column 'X': ]<what>", n the row's place in rowid order. */
static void row_error(ni_sqlsrc *q, const char *col, const char *what)
{
    q->failed = true;
    if (col) ni_error_set(&q->rerr, NI_ERR_FORMAT, "%s:%llu: column '%s': %s", q->path, (unsigned long long)q->n, col, what);
    else ni_error_set(&q->rerr, NI_ERR_FORMAT, "%s:%llu: %s", q->path, (unsigned long long)q->n, what);
}

/* The current row as its JSON Lines record in q->line; false on a bad value. */
static bool row_record(ni_sqlsrc *q)
{
    json_t *o = json_object();
    if (!o) { row_error(q, NULL, "out of memory"); return false; }
    for (int i = 1; i < q->ncol; i++) {
        int t = sqlite3_column_type(q->rows, i);
        if (t == SQLITE_NULL) continue;
        const char *col = sqlite3_column_name(q->rows, i);
        json_t *v = NULL;
        const char *bad = NULL;
        switch (q->kind[i]) {
        case K_TEXT: {
            const char *s = (const char *)sqlite3_column_text(q->rows, i);
            if (!(v = json_stringn(s ? s : "", (size_t)sqlite3_column_bytes(q->rows, i)))) bad = "not UTF-8 text";
            break;
        }
        case K_INTEGER:
            if (t != SQLITE_INTEGER) bad = "not an integer";
            else v = json_integer(sqlite3_column_int64(q->rows, i));
            break;
        case K_BOOLEAN:
            if (t != SQLITE_INTEGER) bad = "not 1 or NULL";
            else if (sqlite3_column_int64(q->rows, i)) v = json_true();
            break;
        case K_JSON: {
            const char *s = (const char *)sqlite3_column_text(q->rows, i);
            v = s ? json_loadb(s, (size_t)sqlite3_column_bytes(q->rows, i), 0, NULL) : NULL;
            if (!json_is_array(v) && !json_is_object(v)) { json_decref(v); v = NULL; bad = "not a JSON array or object"; }
            break;
        }
        }
        if (bad) { json_decref(o); row_error(q, col, bad); return false; }
        if (v) json_object_set_new(o, col, v);
    }
    free(q->line);
    q->line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!q->line) { row_error(q, NULL, "out of memory"); return false; }
    q->len = strlen(q->line);
    q->off = 0;
    return true;
}

/* The stream ni_stored reads: one record a row, each with its line end. */
static ssize_t rows_read(void *cookie, char *buf, size_t size)
{
    ni_sqlsrc *q = cookie;
    size_t done = 0;
    while (done < size) {
        if (q->line && q->off <= q->len) {
            size_t k = q->len - q->off;
            if (k > size - done) k = size - done;
            memcpy(buf + done, q->line + q->off, k);
            q->off += k;
            done += k;
            if (q->off == q->len && done < size) { buf[done++] = '\n'; q->off++; }
            continue;
        }
        if (q->failed || q->ended) break;
        int rc = sqlite3_step(q->rows);
        if (rc == SQLITE_DONE) { q->ended = true; break; }
        if (rc != SQLITE_ROW) {
            q->failed = true;
            ni_error_set(&q->rerr, NI_ERR_IO, "%s: %s", q->path, sqlite3_errmsg(q->db));
            break;
        }
        q->n++;
        q->rowid = sqlite3_column_int64(q->rows, 0);
        if (!row_record(q)) break;
    }
    return done ? (ssize_t)done : q->failed ? -1 : 0;
}

ni_sqlsrc *ni_sqlsrc_open(const char *path, ni_error *err)
{
    ni_sqlsrc *q = calloc(1, sizeof *q);
    if (!q) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    snprintf(q->path, sizeof q->path, "%s", path);
    /* Opened for writing when the file allows it, but with query_only set:
     * the data is never changed, and SQLite can then tidy up after itself
     * (a read-only connection to a WAL database leaves its -wal and -shm
     * files behind); a write-protected file is opened read-only. */
    if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        ni_error_set(err, NI_ERR_NOTFOUND, "%s: %s", path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(q->db, NI_SQLITE_BUSY_MS);
    if (sqlite3_exec(q->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: %s", path, sqlite3_errmsg(q->db));
        goto fail;
    }
    if (ni_sqlsrc_check(q->db, path, err)) goto fail;
    sqlite3_stmt *m = NULL;
    if (sqlite3_prepare_v2(q->db, "SELECT max(rowid) FROM " NI_SQLITE_TABLE, -1, &m, NULL) == SQLITE_OK &&
        sqlite3_step(m) == SQLITE_ROW)
        q->max_rowid = sqlite3_column_int64(m, 0);
    sqlite3_finalize(m);
    if (sqlite3_prepare_v2(q->db, "SELECT rowid, * FROM " NI_SQLITE_TABLE " ORDER BY rowid", -1, &q->rows, NULL)
        != SQLITE_OK) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: %s", path, sqlite3_errmsg(q->db));
        goto fail;
    }
    q->ncol = sqlite3_column_count(q->rows);
    if (!(q->kind = calloc((size_t)q->ncol, sizeof *q->kind))) {
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    for (int i = 1; i < q->ncol; i++) q->kind[i] = kind_of(sqlite3_column_decltype(q->rows, i));
    static const cookie_io_functions_t io = { rows_read, NULL, NULL, NULL };
    FILE *f = fopencookie(q, "r", io);
    if (!f) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); goto fail; }
    if (!(q->st = ni_stored_open_stream(f, path, err))) goto fail;
    return q;
fail:
    ni_sqlsrc_close(q);
    return NULL;
}

int ni_sqlsrc_next(ni_sqlsrc *q, ni_session *s, ni_error *err)
{
    int r = ni_stored_next(q->st, s, err);
    if (r < 0 && q->failed && err) *err = q->rerr;
    return r;
}

void ni_sqlsrc_progress(const ni_sqlsrc *q, uint64_t *done, uint64_t *total)
{
    *done = q->rowid > 0 ? (uint64_t)q->rowid : 0;
    *total = q->max_rowid > 0 ? (uint64_t)q->max_rowid : 0;
}

void ni_sqlsrc_close(ni_sqlsrc *q)
{
    if (!q) return;
    ni_stored_close(q->st);
    sqlite3_finalize(q->rows);
    sqlite3_close(q->db);
    free(q->kind);
    free(q->line);
    free(q);
}
