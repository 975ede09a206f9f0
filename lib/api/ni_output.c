/* ni_output.c — the embedding API's outputs (include/netintel/output.h):
 * output files over core/ni_file (the rules of docs/sessions.md, "Output
 * paths") and the session writers over output/ni_out (JSON Lines, CSV) and
 * store/ni_sqlite (SQLite) and store/ni_chsink (ClickHouse). */
#include "api/ni_output.h"
#include "core/ni_buf.h"
#include "core/ni_file.h"
#include "core/ni_limits.h"
#include "output/ni_out.h"
#include "ingest/ni_sqlsrc.h"
#include "store/ni_clickhouse.h"
#include "store/ni_sqlite.h"
#include "store/ni_chsink.h"
#include "ingest/ni_chsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ni_output {
    ni_file f;
    bool in_place;      /* a database appended to in place: commit removes the unused temporary file */
};

ni_err ni_output_is_atomic(const char *path, bool *atomic, ni_error *err)
{
    ni_file_kind kind;
    char *dest = NULL;
    ni_err r = ni_file_resolve(path, &kind, &dest, err);
    free(dest);
    *atomic = !r && kind == NI_FILE_ATOMIC;
    return r;
}

ni_output *ni_output_open(const char *path, ni_error *err)
{
    ni_output *o = calloc(1, sizeof *o);
    if (!o) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path ? path : "-"); return NULL; }
    if (ni_file_open(&o->f, path, err)) { free(o); return NULL; }
    return o;
}

ni_err ni_output_write(ni_output *o, const void *p, size_t n, ni_error *err)
{
    return ni_file_write(&o->f, p, n, err);
}

const char *ni_output_temp(const ni_output *o) { return o->f.tmp; }
const char *ni_output_path(const ni_output *o) { return ni_file_write_path(&o->f); }

ni_err ni_output_commit(ni_output *o, ni_error *err)
{
    if (o->in_place) { ni_file_abort(&o->f); free(o); return NI_OK; }
    ni_err r = ni_file_commit(&o->f, err);
    free(o);
    return r;
}

void ni_output_abort(ni_output *o)
{
    if (!o) return;
    ni_file_abort(&o->f);
    free(o);
}

ni_err ni_output_write_all(const char *path, const void *p, size_t n, ni_error *err)
{
    return ni_file_write_all(path, p, n, err);
}

/* ---- session writers ----------------------------------------------------- */
struct ni_sink {
    ni_output *out;
    ni_out_format fmt;
    ni_sqlite *db;              /* NI_FORMAT_SQLITE */
    ni_chsink *ch;              /* a clickhouse:// URL (ni_sink_new_url) */
    bool ended;
    bool begun;                 /* the CSV header is written with the first record */
};

ni_err ni_format_parse(const char *name, ni_format *fmt)
{
    ni_out_format f;
    if (name && !strcmp(name, "sqlite")) { *fmt = NI_FORMAT_SQLITE; return NI_OK; }
    if (!name || ni_out_format_parse(name, &f) != NI_OK) return NI_ERR_ARG;
    *fmt = f == NI_OUT_CSV ? NI_FORMAT_CSV : NI_FORMAT_JSONL;
    return NI_OK;
}

ni_err ni_output_flush(ni_output *o, ni_error *err)
{
    if (!o || o->f.kind == NI_FILE_ATOMIC || !o->f.fp || o->f.failed) return NI_OK;
    return ni_file_flush(&o->f, err);
}

bool ni_format_from_name(const char *path, ni_format *fmt)
{
    static const char *const ext[] = { ".sqlite", ".sqlite3" };
    size_t n = path ? strlen(path) : 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcmp(path + n - e, ext[i])) { *fmt = NI_FORMAT_SQLITE; return true; }
    }
    return false;
}

/* A SQLite database: a new file is built in the output's temporary file
 * (renamed into place by ni_output_commit); an existing non-empty file is
 * appended to in place (ni_sqlite checks that it is a netintel database). */
static ni_sqlite *sink_sqlite(ni_output *out, ni_error *err)
{
    const char *name = out->f.path ? out->f.path : "-";
    if (out->f.kind != NI_FILE_ATOMIC) {
        ni_error_set(err, NI_ERR_OUTPUT, "%s: a SQLite database is written to a file, not to %s", name,
                     out->f.kind == NI_FILE_STDOUT ? "standard output" : "a device, FIFO or socket");
        return NULL;
    }
    struct stat st;
    if (!stat(out->f.dest, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
        ni_sqlite *db = ni_sqlite_open(out->f.dest, name, true, err);
        if (db) out->in_place = true;
        return db;
    }
    return ni_sqlite_open(out->f.tmp, name, false, err);
}

ni_sink *ni_sink_new(ni_output *out, ni_format fmt, ni_error *err)
{
    ni_sink *k = calloc(1, sizeof *k);
    if (!k) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    k->out = out;
    k->fmt = fmt == NI_FORMAT_CSV ? NI_OUT_CSV : NI_OUT_JSONL;
    if (fmt == NI_FORMAT_SQLITE && !(k->db = sink_sqlite(out, err))) { free(k); return NULL; }
    return k;
}

/* JSON Lines and CSV are formatted straight into the output file's buffer
 * (no copy; written out a chunk at a time), a record at a time: one longer
 * than NI_SESSION_RECORD_MAX is dropped whole (the buffer's cap leaves room
 * for one that long past a chunk, so exactly those fail). */
static ni_err sink_begin(ni_sink *k, ni_error *err)
{
    if (k->begun) return NI_OK;
    k->begun = true;
    ni_out_begin(ni_file_buf(&k->out->f), k->fmt);
    return ni_file_wrote(&k->out->f, err);
}

ni_err ni_sink_session(void *sink, const ni_session *s, ni_error *err)
{
    ni_sink *k = sink;
    if (k->db) return ni_sqlite_add(k->db, s, err);
    if (k->ch) return ni_chsink_add(k->ch, s, err);
    ni_err r = sink_begin(k, err);
    if (r) return r;
    ni_buf *b = ni_file_buf(&k->out->f);
    size_t start = b->len;
    ni_out_session(b, k->fmt, s);
    if (b->err || b->len - start > NI_SESSION_RECORD_MAX) {
        ni_buf_truncate(b, start);
        return ni_error_set(err, NI_ERR_OUTPUT, "a session record is too large");
    }
    return ni_file_wrote(&k->out->f, err);
}

ni_err ni_sink_end(ni_sink *k, ni_error *err)
{
    if (!k->db && !k->ch) return sink_begin(k, err);
    if (k->ended) return NI_OK;
    k->ended = true;
    return k->ch ? ni_chsink_finish(k->ch, err) : ni_sqlite_finish(k->db, err);
}

void ni_sink_free(ni_sink *k)
{
    if (!k) return;
    ni_sqlite_free(k->db);
    ni_chsink_free(k->ch);
    free(k);
}

bool ni_sink_is_url(const char *path) { return ni_ch_is_url(path); }

ni_sink *ni_sink_new_url(const char *url, ni_error *err)
{
    ni_sink *k = calloc(1, sizeof *k);
    if (!k) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    if (!(k->ch = ni_chsink_open(url, err))) { free(k); return NULL; }
    return k;
}

char *ni_store_schema(const char *engine, const char *table, const char *cluster, ni_error *err)
{
    ni_buf b;
    ni_buf_init(&b, 1u << 20);
    if (engine && !strcmp(engine, "clickhouse")) ni_clickhouse_schema(&b, table ? table : "netintel.sessions", cluster);
    else if (engine && !strcmp(engine, "sqlite")) {
        ni_sqlite_schema(&b);
        ni_buf_printf(&b, "PRAGMA user_version = %d;\n", NI_SQLITE_SCHEMA_VERSION);
    } else {
        ni_buf_release(&b);
        ni_error_set(err, NI_ERR_ARG, "'%s': expected sqlite or clickhouse", engine ? engine : "");
        return NULL;
    }
    char *text = b.err ? NULL : strndup(b.p, b.len);
    ni_buf_release(&b);
    if (!text) ni_error_set(err, NI_ERR_NOMEM, "schema: out of memory");
    return text;
}
