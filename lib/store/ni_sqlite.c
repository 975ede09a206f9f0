/* ni_sqlite.c — sessions into SQLite (see ni_sqlite.h; the schema is
 * docs/store.md's, the columns come from output/ni_out's field walk). */
#include "store/ni_sqlite.h"
#include "output/ni_out.h"
#include "ingest/ni_sqlsrc.h"
#include "core/ni_limits.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the columns ------------------------------------------------------------ */
typedef struct column { const char *name; const char *decl; } column;

typedef struct columns {
    column c[256];
    size_t n;
    bool overflow;
} columns;

static void add_column(columns *cs, const char *name, const char *decl)
{
    if (cs->n == sizeof cs->c / sizeof cs->c[0]) { cs->overflow = true; return; }
    cs->c[cs->n++] = (column){ name, decl };
}

/* first and last are also kept as integer microseconds, right after them. */
static const char *us_column(const char *name)
{
    return !strcmp(name, "first") ? "first_us" : !strcmp(name, "last") ? "last_us" : NULL;
}

static void column_of(void *ud, const ni_out_field *f)
{
    columns *cs = ud;
    add_column(cs, f->name, f->kind == NI_OUT_UINT ? NI_SQLITE_INTEGER : f->kind == NI_OUT_TRUE ? NI_SQLITE_BOOLEAN
                          : f->kind == NI_OUT_JSON ? NI_SQLITE_JSON : NI_SQLITE_TEXT);
    const char *us = us_column(f->name);
    if (us) add_column(cs, us, NI_SQLITE_INTEGER);
}

static void get_columns(columns *cs)
{
    memset(cs, 0, sizeof *cs);
    ni_out_fields(NULL, column_of, cs);
}

void ni_sqlite_schema(ni_buf *b)
{
    columns cs;
    get_columns(&cs);
    ni_buf_adds(b, "CREATE TABLE " NI_SQLITE_TABLE " (\n");
    for (size_t i = 0; i < cs.n; i++)
        ni_buf_printf(b, "    \"%s\" %s%s\n", cs.c[i].name, cs.c[i].decl, i + 1 < cs.n ? "," : "");
    ni_buf_adds(b, ");\n"
                "CREATE INDEX " NI_SQLITE_TABLE "_first_us ON " NI_SQLITE_TABLE " (first_us);\n"
                "CREATE INDEX " NI_SQLITE_TABLE "_client ON " NI_SQLITE_TABLE " (client);\n"
                "CREATE INDEX " NI_SQLITE_TABLE "_server ON " NI_SQLITE_TABLE " (server);\n");
}

/* ---- the writer ------------------------------------------------------------- */
struct ni_sqlite {
    char name[512];
    sqlite3 *db;
    sqlite3_stmt *insert;
    bool append;
    bool in_tx;
    unsigned batch;             /* sessions in the open transaction */
    /* while binding one session */
    const ni_session *s;
    int param;
    int rc;
};

static ni_err db_error(ni_sqlite *w, const char *what, ni_error *err)
{
    return ni_error_set(err, NI_ERR_OUTPUT, "%s: %s: %s", w->name, what, sqlite3_errmsg(w->db));
}

static ni_err exec(ni_sqlite *w, const char *sql, const char *what, ni_error *err)
{
    return sqlite3_exec(w->db, sql, NULL, NULL, NULL) == SQLITE_OK ? NI_OK : db_error(w, what, err);
}

static ni_err begin(ni_sqlite *w, ni_error *err)
{
    /* IMMEDIATE: take the write lock now (another writer waits, NI_SQLITE_BUSY_MS) */
    ni_err r = exec(w, "BEGIN IMMEDIATE", "cannot start a transaction", err);
    if (!r) { w->in_tx = true; w->batch = 0; }
    return r;
}

static ni_err commit(ni_sqlite *w, ni_error *err)
{
    w->in_tx = false;
    return exec(w, "COMMIT", "cannot commit", err);
}

/* Appending to a netintel database (checked by the caller): walks its
 * columns against the ones netintel writes.  With add false (read only,
 * before any change) a column of another type is refused; with add true
 * the fields it has no column for yet get one (NULL in the rows already
 * there): fields are only ever added. */
static ni_err reconcile_columns(ni_sqlite *w, const columns *cs, bool add, ni_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT type FROM pragma_table_info('" NI_SQLITE_TABLE "') WHERE name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(w, "cannot read the table", err);
    ni_err r = NI_OK;
    for (size_t i = 0; i < cs->n && !r; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, cs->c[i].name, -1, SQLITE_STATIC);
        const char *have = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (!add && have && strcmp(have, cs->c[i].decl))
            r = ni_error_set(err, NI_ERR_FORMAT, "%s: column '%s' is %s, netintel writes %s (not appending)",
                             w->name, cs->c[i].name, have, cs->c[i].decl);
        else if (add && !have) {
            char sql[256];
            snprintf(sql, sizeof sql, "ALTER TABLE " NI_SQLITE_TABLE " ADD COLUMN \"%s\" %s", cs->c[i].name,
                     cs->c[i].decl);
            r = exec(w, sql, "cannot add a column", err);
        }
    }
    sqlite3_finalize(st);
    return r;
}

static ni_err prepare_insert(ni_sqlite *w, const columns *cs, ni_error *err)
{
    ni_buf b;
    ni_buf_init(&b, 1u << 16);
    ni_buf_adds(&b, "INSERT INTO " NI_SQLITE_TABLE " (");
    for (size_t i = 0; i < cs->n; i++) ni_buf_printf(&b, "%s\"%s\"", i ? ", " : "", cs->c[i].name);
    ni_buf_adds(&b, ") VALUES (");
    for (size_t i = 0; i < cs->n; i++) ni_buf_adds(&b, i ? ", ?" : "?");
    ni_buf_adds(&b, ")");
    ni_err r = b.err ? ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", w->name)
             : sqlite3_prepare_v2(w->db, ni_buf_str(&b), -1, &w->insert, NULL) != SQLITE_OK
             ? db_error(w, "cannot prepare the insert", err) : NI_OK;
    ni_buf_release(&b);
    return r;
}

ni_sqlite *ni_sqlite_open(const char *path, const char *name, bool append, ni_error *err)
{
    ni_sqlite *w = calloc(1, sizeof *w);
    if (!w) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", name); return NULL; }
    snprintf(w->name, sizeof w->name, "%s", name);
    w->append = append;
    columns cs;
    get_columns(&cs);
    ni_err r = NI_OK;
    int flags = SQLITE_OPEN_READWRITE | (append ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &w->db, flags, NULL) != SQLITE_OK) {
        r = ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot open: %s", name, w->db ? sqlite3_errmsg(w->db) : "out of memory");
        goto done;
    }
    sqlite3_busy_timeout(w->db, NI_SQLITE_BUSY_MS);
    if (cs.overflow) { r = ni_error_set(err, NI_ERR_LIMIT, "%s: too many session fields", name); goto done; }
    if (append) {
        /* a file that is not a database says so here, before any change */
        if ((r = ni_sqlsrc_check(w->db, name, err))) {
            if (r == NI_ERR_FORMAT && err) {
                ni_error e = *err;
                ni_error_set(err, r, "%s (not appending)", e.msg);
            }
            goto done;
        }
        if ((r = reconcile_columns(w, &cs, false, err)) ||
            (r = exec(w, "PRAGMA journal_mode = WAL", "cannot use WAL", err)) ||
            (r = exec(w, "PRAGMA synchronous = NORMAL", "cannot set synchronous", err)) ||
            (r = begin(w, err)) || (r = reconcile_columns(w, &cs, true, err)))
            goto done;
    } else {
        /* a new file, renamed into place by the caller: no journal needed */
        ni_buf b;
        ni_buf_init(&b, 1u << 16);
        ni_sqlite_schema(&b);
        ni_buf_printf(&b, "PRAGMA user_version = %d;\n", NI_SQLITE_SCHEMA_VERSION);
        if ((r = exec(w, "PRAGMA journal_mode = OFF", "cannot set the journal", err)) ||
            (r = exec(w, "PRAGMA synchronous = OFF", "cannot set synchronous", err)) || (r = begin(w, err)) ||
            (r = b.err ? ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", name)
                       : exec(w, ni_buf_str(&b), "cannot create the table", err))) {
            ni_buf_release(&b);
            goto done;
        }
        ni_buf_release(&b);
    }
    r = prepare_insert(w, &cs, err);
done:
    if (r) { ni_sqlite_free(w); return NULL; }
    return w;
}

/* Binds one field (and first_us / last_us after first / last). */
static void bind_field(void *ud, const ni_out_field *f)
{
    ni_sqlite *w = ud;
    int i = ++w->param, rc;
    if (!f->present) rc = sqlite3_bind_null(w->insert, i);
    else if (f->kind == NI_OUT_UINT) rc = sqlite3_bind_int64(w->insert, i, (sqlite3_int64)f->num);
    else if (f->kind == NI_OUT_TRUE) rc = sqlite3_bind_int(w->insert, i, 1);
    else rc = sqlite3_bind_text(w->insert, i, f->text, -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK && w->rc == SQLITE_OK) w->rc = rc;
    const char *us = us_column(f->name);
    if (us) {
        rc = sqlite3_bind_int64(w->insert, ++w->param,
                                (sqlite3_int64)(!strcmp(us, "first_us") ? w->s->first_us : w->s->last_us));
        if (rc != SQLITE_OK && w->rc == SQLITE_OK) w->rc = rc;
    }
}

ni_err ni_sqlite_add(ni_sqlite *w, const ni_session *s, ni_error *err)
{
    ni_err r;
    if (!w->in_tx && (r = begin(w, err))) return r;
    w->s = s;
    w->param = 0;
    w->rc = SQLITE_OK;
    ni_out_fields(s, bind_field, w);
    w->s = NULL;
    if (w->rc != SQLITE_OK) {
        sqlite3_reset(w->insert);
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot store a session: %s", w->name, sqlite3_errstr(w->rc));
    }
    int rc = sqlite3_step(w->insert);
    sqlite3_reset(w->insert);
    if (rc != SQLITE_DONE) return db_error(w, "cannot insert", err);
    if (++w->batch >= NI_SQLITE_BATCH) return commit(w, err);
    return NI_OK;
}

ni_err ni_sqlite_finish(ni_sqlite *w, ni_error *err)
{
    ni_err r = w->in_tx ? commit(w, err) : NI_OK;
    sqlite3_finalize(w->insert);
    w->insert = NULL;
    /* a new database is left in WAL mode, as appends will use it */
    if (!r && !w->append) r = exec(w, "PRAGMA journal_mode = WAL", "cannot use WAL", err);
    if (sqlite3_close_v2(w->db) != SQLITE_OK && !r)
        r = ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot close: %s", w->name, sqlite3_errmsg(w->db));
    w->db = NULL;
    return r;
}

void ni_sqlite_free(ni_sqlite *w)
{
    if (!w) return;
    sqlite3_finalize(w->insert);
    if (w->db) {
        if (w->in_tx) sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(w->db);
    }
    free(w);
}
