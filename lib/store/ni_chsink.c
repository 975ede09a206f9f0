/* ni_chsink.c — sessions into ClickHouse (see ni_chsink.h; the table is
 * store/ni_clickhouse's DDL, requests go through ingest/ni_chsrc's HTTP
 * helpers; the row format is ClickHouse's TabSeparated). */
#include "store/ni_chsink.h"
#include "store/ni_clickhouse.h"
#include "ingest/ni_chsrc.h"
#include "output/ni_out.h"
#include "core/ni_buf.h"
#include "core/ni_time.h"
#include "core/ni_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_MAGIC "NIB1"

struct ni_chsink {
    ni_ch_url u;
    ni_ch_conn *conn;
    ni_buf cols;                /* the INSERT's column list */
    ni_buf batch;               /* rows of the batch in progress */
    ni_buf resp, tmp;
    size_t rows, max_rows, max_bytes;
    int month;                  /* YYYYMM of the batch's rows */
    int64_t blo, bhi;           /* the batch's first, lowest and highest (seconds) */
    double born;                /* when the batch got its first session */
    uint64_t run_id, seq;
    bool ready;                 /* the table exists with our columns */
    double wait_s;
    /* the spool */
    char spool_path[1100];
    FILE *spool;
    long rd;                    /* offset of the oldest batch not yet taken */
    size_t spooled;             /* batches in the spool not yet taken */
    size_t adopted;             /* of them, left by an earlier run */
    uint64_t spooled_rows;
    /* backoff */
    double outage_start, delay, next_try;
    char last_error[600];
    ni_chsink_stats st;
    /* while encoding one session */
    const ni_session *s;
    unsigned fi;                /* fields written of the row */
};

/* Seconds on the monotonic clock (deadlines, backoff, batch age). */
static double now_s(void) { return (double)ni_clock_mono_us() / 1e6; }

static uint64_t mix(uint64_t x)          /* splitmix64's finaliser */
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int month_of(int64_t us)
{
    int y;
    unsigned m, d;
    int64_t days = us >= 0 ? us / 86400000000LL : -((-us + 86399999999LL) / 86400000000LL);
    ni_civil_from_days(days, &y, &m, &d);
    return y * 100 + (int)m;
}

/* ---- encoding ------------------------------------------------------------------ */
static void tsv_escape(ni_buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        switch (c) {
        case '\\': ni_buf_add(b, "\\\\", 2); break;
        case '\t': ni_buf_add(b, "\\t", 2); break;
        case '\n': ni_buf_add(b, "\\n", 2); break;
        case '\r': ni_buf_add(b, "\\r", 2); break;
        case '\0': ni_buf_add(b, "\\0", 2); break;
        case '\b': ni_buf_add(b, "\\b", 2); break;
        case '\f': ni_buf_add(b, "\\f", 2); break;
        default: ni_buf_addc(b, c); break;
        }
    }
}

static void datetime(ni_buf *b, int64_t us)
{
    char t[NI_TIME_STRLEN];
    ni_time_rfc3339(us, t);                 /* 2024-02-03T04:05:06Z */
    t[10] = ' ';
    t[19] = 0;
    ni_buf_adds(b, t);
}

static void col_name(void *ud, const ni_out_field *f)
{
    ni_buf *b = ud;
    ni_buf_printf(b, "%s`%s`", b->len ? ", " : "", f->name);
    if (!strcmp(f->name, "first")) ni_buf_adds(b, ", `first_us`");
    if (!strcmp(f->name, "last")) ni_buf_adds(b, ", `last_us`");
}

static void encode(void *ud, const ni_out_field *f)
{
    ni_chsink *k = ud;
    ni_buf *b = &k->batch;
    bool first = !strcmp(f->name, "first"), last = !strcmp(f->name, "last");
    if (k->fi++) ni_buf_addc(b, '\t');
    if (first || last) {
        int64_t us = first ? k->s->first_us : k->s->last_us;
        datetime(b, us);
        ni_buf_printf(b, "\t%lld", (long long)us);
        return;
    }
    if (f->kind == NI_OUT_TRUE) { ni_buf_addc(b, f->present ? '1' : '0'); return; }
    if (!f->present) { ni_buf_add(b, "\\N", 2); return; }
    if (f->kind == NI_OUT_UINT) { ni_buf_printf(b, "%llu", (unsigned long long)f->num); return; }
    tsv_escape(b, f->text ? f->text : "", f->text ? strlen(f->text) : 0);
}

static uint64_t batch_id(const ni_chsink *k) { return mix(k->run_id ^ mix(k->seq)); }

static void encode_row(ni_chsink *k, const ni_session *s)
{
    if (k->batch.len) ni_buf_addc(&k->batch, '\n');
    k->s = s;
    k->fi = 0;
    ni_out_fields(s, encode, k);
    k->s = NULL;
    uint8_t a[16];
    ni_buf_addc(&k->batch, '\t');
    ni_ch_addr16(&s->client, a);
    tsv_escape(&k->batch, (const char *)a, 16);
    ni_buf_addc(&k->batch, '\t');
    ni_ch_addr16(&s->server, a);
    tsv_escape(&k->batch, (const char *)a, 16);
    ni_buf_printf(&k->batch, "\t%llu\t%zu", (unsigned long long)batch_id(k), k->rows);
}

/* ---- requests ------------------------------------------------------------------ */
static ni_err sql(ni_chsink *k, const char *params, const char *q, const char *data, size_t n, bool *transient,
                  ni_error *err)
{
    return ni_ch_request(k->conn, params, q, data, n, &k->resp, transient, err);
}

/* The table: created when absent; it must have every column we insert. */
static ni_err ensure_table(ni_chsink *k, bool *transient, ni_error *err)
{
    char q[512];
    snprintf(q, sizeof q, "CREATE DATABASE IF NOT EXISTS %s", k->u.db);
    ni_err r = sql(k, NULL, q, NULL, 0, transient, err);
    if (r) return r;
    ni_buf ddl;
    ni_buf_init(&ddl, 1u << 20);
    snprintf(q, sizeof q, "%s.%s", k->u.db, k->u.table);
    ni_clickhouse_schema(&ddl, q, NULL);
    r = sql(k, NULL, ni_buf_str(&ddl), NULL, 0, transient, err);
    ni_buf_release(&ddl);
    if (r) return r;
    snprintf(q, sizeof q, "SELECT name FROM system.columns WHERE database = '%s' AND table = '%s' FORMAT TabSeparated",
             k->u.db, k->u.table);
    if ((r = sql(k, NULL, q, NULL, 0, transient, err))) return r;
    /* every `name` of the column list must be a line of the answer */
    const char *c = ni_buf_str(&k->cols);
    while ((c = strchr(c, '`'))) {
        const char *e = strchr(c + 1, '`');
        char name[128], line[130];
        snprintf(name, sizeof name, "%.*s", (int)(e - c - 1), c + 1);
        snprintf(line, sizeof line, "\n%s\n", name);
        ni_buf_clear(&k->tmp);
        ni_buf_addc(&k->tmp, '\n');
        ni_buf_add(&k->tmp, k->resp.p ? k->resp.p : "", k->resp.len);
        if (!strstr(ni_buf_str(&k->tmp), line)) {
            *transient = false;
            return ni_error_set(err, NI_ERR_OUTPUT, "%s: table %s.%s has no column '%s' (see `netintel schema "
                                "clickhouse`)", k->u.name, k->u.db, k->u.table, name);
        }
        c = e + 1;
    }
    k->ready = true;
    return NI_OK;
}

/* Sends one batch.  check: its outcome may be unknown (it comes from the
 * spool): the rows of its identity already in the table are not sent again. */
static ni_err deliver(ni_chsink *k, uint64_t id, const char *body, size_t len, size_t rows, int64_t lo,
                      int64_t hi, bool check, bool *transient, ni_error *err)
{
    ni_err r;
    if (!k->ready && (r = ensure_table(k, transient, err))) return r;
    char q[1024];
    ni_buf_clear(&k->tmp);
    if (check) {
        /* the batch's time span lets the server read only its part(s); a
         * time DateTime cannot hold (before 1970, after 2105) is not used */
        char span[128] = "";
        if (lo >= 0 && hi <= 4294967295LL)
            snprintf(span, sizeof span, "first >= toDateTime(%lld) AND first <= toDateTime(%lld) AND ", (long long)lo,
                     (long long)hi);
        snprintf(q, sizeof q, "SELECT batch_row FROM %s.%s WHERE %sbatch = %llu FORMAT TabSeparated", k->u.db,
                 k->u.table, span, (unsigned long long)id);
        if ((r = sql(k, NULL, q, NULL, 0, transient, err))) return r;
        if (k->resp.len) {
            uint8_t *have = calloc(rows ? rows : 1, 1);
            if (!have) { *transient = false; return ni_error_set(err, NI_ERR_OUTPUT, "%s: out of memory", k->u.name); }
            size_t present = 0;
            for (const char *p = ni_buf_str(&k->resp); *p;) {
                char *end;
                unsigned long long v = strtoull(p, &end, 10);
                if (end != p && v < rows && !have[v]) { have[v] = 1; present++; }
                p = strchr(p, '\n');
                if (!p) break;
                p++;
            }
            k->st.deduplicated += present;
            if (present == rows) { free(have); return NI_OK; }
            /* the rows not there yet: lines are rows (TabSeparated escapes newlines) */
            size_t i = 0;
            for (const char *p = body, *end = body + len; p < end; i++) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (i < rows && !have[i]) {
                    if (k->tmp.len) ni_buf_addc(&k->tmp, '\n');
                    ni_buf_add(&k->tmp, p, n);
                }
                p += n + 1;
            }
            free(have);
            if (k->tmp.err) { *transient = false; return ni_error_set(err, NI_ERR_OUTPUT, "%s: out of memory", k->u.name); }
            body = k->tmp.p;
            len = k->tmp.len;
        }
    }
    ni_buf params;
    ni_buf_init(&params, 4096);
    ni_buf_printf(&params, "query_id=netintel-%016llx&insert_distributed_sync=1", (unsigned long long)id);
    ni_buf q2;
    ni_buf_init(&q2, 1u << 16);
    ni_buf_printf(&q2, "INSERT INTO %s.%s (%s) FORMAT TabSeparated", k->u.db, k->u.table, ni_buf_str(&k->cols));
    r = sql(k, ni_buf_str(&params), ni_buf_str(&q2), body, len, transient, err);
    ni_buf_release(&params);
    ni_buf_release(&q2);
    return r;
}

/* ---- the spool ------------------------------------------------------------------- */
static ni_err spool_open(ni_chsink *k, ni_error *err)
{
    if (k->spool) return NI_OK;
    if (!k->spool_path[0]) {
        const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
        char dir[1024];
        if (x && *x) snprintf(dir, sizeof dir, "%s/netintel", x);
        else if (h && *h) snprintf(dir, sizeof dir, "%s/.local/state/netintel", h);
        else snprintf(dir, sizeof dir, "/tmp");
        /* mkdir -p */
        for (char *p = dir + 1; *p; p++)
            if (*p == '/') { *p = 0; mkdir(dir, 0700); *p = '/'; }
        mkdir(dir, 0700);
        snprintf(k->spool_path, sizeof k->spool_path, "%s/clickhouse-%ld-%016llx.spool", dir, (long)getpid(),
                 (unsigned long long)k->run_id);
    }
    int fd = open(k->spool_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || !(k->spool = fdopen(fd, "w+b"))) {
        if (fd >= 0) close(fd);
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot create the spool %s: %s", k->u.name, k->spool_path,
                            strerror(errno));
    }
    /* one writer a spool: another run appending to it would interleave batches */
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        fclose(k->spool);
        k->spool = NULL;
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: the spool %s is in use by another run", k->u.name, k->spool_path);
    }
    k->rd = 0;
    return NI_OK;
}

/* A spool left by an earlier run (spool=PATH of a run that gave up or was
 * killed): its batches are counted, then replayed before the new ones, each
 * checked against the table first (its outcome is unknown). */
static ni_err spool_adopt(ni_chsink *k, ni_error *err)
{
    struct stat st;
    if (!k->u.spool[0] || stat(k->spool_path, &st) || st.st_size == 0) return NI_OK;
    ni_err r = spool_open(k, err);
    if (r) return r;
    unsigned long long id;
    long long lo, hi;
    size_t rows, len;
    long at = 0;
    while (!fseek(k->spool, at, SEEK_SET) &&
           fscanf(k->spool, SPOOL_MAGIC " %llx %zu %zu %lld %lld", &id, &rows, &len, &lo, &hi) == 5 &&
           fgetc(k->spool) == '\n') {
        at = ftell(k->spool) + (long)len;
        if (at > st.st_size) break;
        k->spooled++;
        k->spooled_rows += rows;
    }
    if (at != st.st_size)
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: %s: not a netintel spool, or cut at byte %ld", k->u.name,
                            k->spool_path, at);
    k->adopted = k->spooled;
    return NI_OK;
}

static ni_err spool_append(ni_chsink *k, uint64_t id, const char *body, size_t len, size_t rows, int64_t lo,
                           int64_t hi, ni_error *err)
{
    ni_err r = spool_open(k, err);
    if (r) return r;
    if (fseek(k->spool, 0, SEEK_END) ||
        fprintf(k->spool, SPOOL_MAGIC " %016llx %zu %zu %lld %lld\n", (unsigned long long)id, rows, len, (long long)lo,
                (long long)hi) < 0 ||
        fwrite(body, 1, len, k->spool) != len || fflush(k->spool) || fdatasync(fileno(k->spool)))
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot write the spool %s: %s", k->u.name, k->spool_path,
                            strerror(errno));
    k->spooled++;
    k->spooled_rows += rows;
    k->st.spooled++;
    return NI_OK;
}

/* The oldest batch of the spool into k->batch-like buffer b. */
static ni_err spool_head(ni_chsink *k, ni_buf *b, uint64_t *id, size_t *rows, int64_t *lo, int64_t *hi, long *next,
                         ni_error *err)
{
    unsigned long long x;
    long long l, h;
    size_t len;
    if (fseek(k->spool, k->rd, SEEK_SET) ||
        fscanf(k->spool, SPOOL_MAGIC " %llx %zu %zu %lld %lld", &x, rows, &len, &l, &h) != 5 ||
        fgetc(k->spool) != '\n')
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot read the spool %s", k->u.name, k->spool_path);
    ni_buf_clear(b);
    if (ni_buf_reserve(b, len))
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: a spooled batch is too large", k->u.name);
    if (fread(b->p, 1, len, k->spool) != len)
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: cannot read the spool %s", k->u.name, k->spool_path);
    b->len = len;
    b->p[len] = 0;
    *id = x;
    *lo = l;
    *hi = h;
    *next = ftell(k->spool);
    return NI_OK;
}

static void spool_drop(ni_chsink *k)
{
    if (!k->spool) return;
    fclose(k->spool);
    k->spool = NULL;
    unlink(k->spool_path);
}

/* ---- backoff ------------------------------------------------------------------------ */
static void ok_again(ni_chsink *k) { k->outage_start = k->delay = k->next_try = 0; }

static ni_err failed(ni_chsink *k, const ni_error *why, ni_error *err)
{
    double t = now_s();
    k->st.retries++;
    snprintf(k->last_error, sizeof k->last_error, "%s", why->msg);
    if (!k->outage_start) k->outage_start = t;
    k->delay = k->delay ? k->delay * 2 : 0.25;
    if (k->delay > 8) k->delay = 8;
    k->next_try = t + k->delay;
    if (k->wait_s < 0 || t - k->outage_start >= k->wait_s) {
        const char *reason = k->last_error;
        size_t nl = strlen(k->u.name);
        if (!strncmp(reason, k->u.name, nl) && reason[nl] == ':') reason += nl + 2;
        return ni_error_set(err, NI_ERR_OUTPUT, "%s: gave up after %.0f s: %s (%llu sessions kept in %s)", k->u.name,
                            t - k->outage_start, reason, (unsigned long long)k->spooled_rows,
                            k->spool ? k->spool_path : "no spool");
    }
    return NI_OK;
}

/* Sends spooled batches in order; block: waits out the backoff until the
 * spool is empty or the sink gives up. */
static ni_err replay(ni_chsink *k, bool block, ni_error *err)
{
    ni_buf b;
    ni_buf_init(&b, (size_t)1 << 31);
    ni_err r = NI_OK;
    while (k->spooled && !r) {
        double t = now_s();
        if (t < k->next_try) {
            if (!block) break;
            double d = k->next_try - t;
            struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };
            nanosleep(&ts, NULL);
            continue;
        }
        uint64_t id = 0;
        size_t rows = 0;
        long next = 0;
        int64_t lo = 0, hi = 0;
        if ((r = spool_head(k, &b, &id, &rows, &lo, &hi, &next, err))) break;
        bool transient;
        ni_error e = { 0 };
        if (!deliver(k, id, b.p, b.len, rows, lo, hi, true, &transient, &e)) {
            ok_again(k);
            k->rd = next;
            k->spooled--;
            k->spooled_rows -= rows;
            k->st.batches++;
            k->st.sessions += rows;
            if (!k->spooled) spool_drop(k);
        } else if (!transient) r = ni_error_set(err, NI_ERR_OUTPUT, "%s", e.msg);
        else r = failed(k, &e, err);
    }
    ni_buf_release(&b);
    return r;
}

static ni_err flush(ni_chsink *k, ni_error *err)
{
    if (!k->rows) return NI_OK;
    if (k->batch.err) return ni_error_set(err, NI_ERR_OUTPUT, "%s: a batch is too large", k->u.name);
    uint64_t id = batch_id(k);
    ni_err r = NI_OK;
    bool sent = false;
    if (!k->spooled && now_s() >= k->next_try) {
        bool transient;
        ni_error e = { 0 };
        if (!deliver(k, id, k->batch.p, k->batch.len, k->rows, k->blo, k->bhi, false, &transient, &e)) {
            ok_again(k);
            sent = true;
            k->st.batches++;
            k->st.sessions += k->rows;
        } else if (!transient) r = ni_error_set(err, NI_ERR_OUTPUT, "%s", e.msg);
        else r = failed(k, &e, err);
        if (r) return r;
    }
    if (!sent && (r = spool_append(k, id, k->batch.p, k->batch.len, k->rows, k->blo, k->bhi, err))) return r;
    k->seq++;
    k->rows = 0;
    ni_buf_clear(&k->batch);
    return replay(k, false, err);
}

/* ---- the interface ---------------------------------------------------------------------- */
ni_chsink *ni_chsink_open(const char *url, ni_error *err)
{
    ni_chsink *k = calloc(1, sizeof *k);
    if (!k) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", url); return NULL; }
    if (ni_ch_url_parse(url, &k->u, err)) { free(k); return NULL; }
    k->max_rows = k->u.rows ? k->u.rows : NI_CH_BATCH_ROWS;
    k->max_bytes = k->u.bytes ? k->u.bytes : NI_CH_BATCH_BYTES;
    k->wait_s = k->u.wait_s ? k->u.wait_s : NI_CH_WAIT_S;
    snprintf(k->spool_path, sizeof k->spool_path, "%s", k->u.spool);
    ni_buf_init(&k->cols, 1u << 16);
    ni_buf_init(&k->batch, k->max_bytes + 2 * (size_t)NI_SESSION_RECORD_MAX);
    ni_buf_init(&k->resp, 64u << 20);
    ni_buf_init(&k->tmp, k->max_bytes + 2 * (size_t)NI_SESSION_RECORD_MAX);
    ni_out_fields(NULL, col_name, &k->cols);
    ni_buf_adds(&k->cols, ", `client_ip`, `server_ip`, `batch`, `batch_row`");
    if (getrandom(&k->run_id, sizeof k->run_id, 0) != (ssize_t)sizeof k->run_id) k->run_id = 0;
    k->run_id ^= mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
    if (!(k->conn = ni_ch_conn_new(&k->u, err))) { ni_chsink_free(k); return NULL; }
    if (spool_adopt(k, err)) { ni_chsink_free(k); return NULL; }
    bool transient;
    ni_error e = { 0 };
    if (ensure_table(k, &transient, &e)) {
        if (!transient) {
            ni_error_set(err, NI_ERR_OUTPUT, "%s", e.msg);
            ni_chsink_free(k);
            return NULL;
        }
        /* away: the first batch retries (and gives up after wait) */
    }
    return k;
}

ni_err ni_chsink_add(ni_chsink *k, const ni_session *s, ni_error *err)
{
    int m = month_of(s->first_us);
    ni_err r;
    if (k->rows && m != k->month && (r = flush(k, err))) return r;
    k->month = m;
    /* first's seconds as the DateTime column holds them (floor) */
    int64_t sec = s->first_us >= 0 ? s->first_us / 1000000 : -((-s->first_us + 999999) / 1000000);
    if (!k->rows) k->born = now_s();
    if (!k->rows || sec < k->blo) k->blo = sec;
    if (!k->rows || sec > k->bhi) k->bhi = sec;
    encode_row(k, s);
    k->rows++;
    /* a slow source (a collector at night) still gets its rows in within NI_CH_BATCH_AGE_S */
    if (k->rows >= k->max_rows || k->batch.len >= k->max_bytes || now_s() - k->born >= NI_CH_BATCH_AGE_S)
        return flush(k, err);
    return NI_OK;
}

ni_err ni_chsink_finish(ni_chsink *k, ni_error *err)
{
    ni_err r = flush(k, err);
    if (!r) r = replay(k, true, err);
    return r;
}

void ni_chsink_get_stats(const ni_chsink *k, ni_chsink_stats *st) { *st = k->st; }

void ni_chsink_free(ni_chsink *k)
{
    if (!k) return;
    if (k->spool) {
        fclose(k->spool);
        if (!k->spooled) unlink(k->spool_path);
    }
    ni_ch_conn_free(k->conn);
    ni_buf_release(&k->cols);
    ni_buf_release(&k->batch);
    ni_buf_release(&k->resp);
    ni_buf_release(&k->tmp);
    free(k);
}
