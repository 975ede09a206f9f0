/* ni_chsrc.h — sessions kept in ClickHouse (docs/store.md, "ClickHouse")
 * read back as a source, and what the ClickHouse sink (store/ni_chsink)
 * shares with it: the URL clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DB?table=T
 * and a request to ClickHouse's HTTP interface (libcurl).
 *
 * The source sends one SELECT of the table's session columns with the
 * pushdown (the target's address ranges on the numeric columns client_ip /
 * server_ip, the time window on first / first_us / last_us) in its WHERE,
 * FORMAT TabSeparatedWithNames, and parses the answer as it arrives
 * (curl's multi interface, pulled from the reader): a row becomes its JSON
 * Lines record and goes through the stored-sessions reader (ni_stored), as
 * the SQLite source does.  Memory is bounded by NI_CH_READ_BUFFER plus one
 * row (at most NI_SESSION_RECORD_MAX), whatever the result's size.  Row
 * order is the server's (a Distributed table interleaves its shards). */
#ifndef NI_CHSRC_H
#define NI_CHSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"

#define NI_CH_DEFAULT_PORT 8123
#define NI_CH_READ_BUFFER (1u << 20)     /* bytes of the answer held before the reader takes them */
#define NI_CH_MAX_RANGES 1000            /* address ranges pushed into one WHERE; more: time only */

/* A parsed URL.  Options (after '?', '&'-separated): table=T (default
 * sessions), spool=PATH, wait=SECONDS, rows=N, bytes=N (the sink's: see
 * store/ni_chsink.h). */
typedef struct ni_ch_url {
    char host[256];
    unsigned port;
    char db[64], table[64];
    char user[64], password[128];
    char spool[1024];           /* "" = the default */
    double wait_s;              /* 0 = the default */
    size_t rows, bytes;         /* 0 = the defaults */
    char name[512];             /* the URL without its password, for messages */
} ni_ch_url;

/* True when s starts with "clickhouse://". */
bool ni_ch_is_url(const char *s);
/* NI_ERR_ARG "<url>: <problem>". */
ni_err ni_ch_url_parse(const char *s, ni_ch_url *u, ni_error *err);

/* One HTTP request to the server: POST body (sql, then data when non-NULL)
 * to / with the URL parameters params ("query=...&query_id=..." already
 * escaped, or NULL).  The answer (capped at cap bytes) into resp.
 * Returns NI_OK for HTTP 200; else fills *transient (the server may be
 * back later: no connection, a reset, a timeout, an overload) and err
 * ("<url>: <problem>"). */
typedef struct ni_ch_conn ni_ch_conn;
ni_ch_conn *ni_ch_conn_new(const ni_ch_url *u, ni_error *err);
void ni_ch_conn_free(ni_ch_conn *c);
ni_err ni_ch_request(ni_ch_conn *c, const char *params, const char *sql, const char *data, size_t n,
                     ni_buf *resp, bool *transient, ni_error *err);
/* s escaped for a URL parameter, appended to b. */
void ni_ch_urlescape(ni_buf *b, const char *s);

/* An address range [lo, hi] in the 16-byte form of client_ip/server_ip
 * (IPv4 as ::ffff:a.b.c.d). */
typedef struct ni_ch_range {
    uint8_t lo[16], hi[16];
} ni_ch_range;
/* The 16-byte form of an address. */
void ni_ch_addr16(const ni_addr *a, uint8_t out[16]);

/* What a reader pushes down into the WHERE.  n_ranges 0: no address
 * condition; since/until 0: open. */
typedef struct ni_ch_pushdown {
    const ni_ch_range *ranges;
    size_t n_ranges;
    int64_t since_us, until_us;
} ni_ch_pushdown;

/* The WHERE clause (without "WHERE"; "1" when nothing is pushed down). */
void ni_ch_where(ni_buf *b, const ni_ch_pushdown *p);

/* ---- the source ---------------------------------------------------------- */
typedef struct ni_chsrc ni_chsrc;

/* Opens url (the request starts at the first ni_chsrc_next).  NULL + err. */
ni_chsrc *ni_chsrc_open(const char *url, const ni_ch_pushdown *p, ni_error *err);
/* As ni_sqlsrc_next: 1 and *s filled, 0 at the end, -1 on an error
 * ("<url>: <problem>", "<url>:<row>: <problem>"). */
int ni_chsrc_next(ni_chsrc *q, ni_session *s, ni_error *err);
void ni_chsrc_progress(const ni_chsrc *q, uint64_t *done, uint64_t *total);
const char *ni_chsrc_name(const ni_chsrc *q);
void ni_chsrc_close(ni_chsrc *q);

/* ---- the row stream parser (also the fuzz target's entry) ----------------- */
/* TabSeparatedWithNames: the first line names the columns, each further
 * line is a row; values escaped as ClickHouse's TabSeparated (\t \n \\ \N
 * ...).  ni_ch_rows_feed takes bytes as they come and appends each complete
 * row's JSON Lines record (with its '\n') to out; a line longer than
 * NI_SESSION_RECORD_MAX or a bad value is an error (NI_ERR_FORMAT, message
 * "row N: <problem>"). */
typedef struct ni_ch_rows ni_ch_rows;
ni_ch_rows *ni_ch_rows_new(void);
void ni_ch_rows_free(ni_ch_rows *r);
ni_err ni_ch_rows_feed(ni_ch_rows *r, const char *p, size_t n, ni_buf *out, ni_error *err);
/* At the end of the stream: an incomplete last line is an error. */
ni_err ni_ch_rows_end(ni_ch_rows *r, ni_error *err);
uint64_t ni_ch_rows_count(const ni_ch_rows *r);

#endif
