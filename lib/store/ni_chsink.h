/* ni_chsink.h — a store sink: enriched sessions into a ClickHouse table
 * through its HTTP interface (libcurl), for -o clickhouse://HOST:PORT/DB?table=T
 * (docs/store.md, "ClickHouse").
 *
 * The table is created when absent with the DDL of ni_clickhouse (MergeTree
 * by month of first); an existing table (also a Distributed one) must have
 * the columns netintel writes.  Rows are the fields of the one field walk
 * (output/ni_out), sent as INSERT ... FORMAT TabSeparated in batches of at
 * most `rows` sessions and `bytes` bytes (or NI_CH_BATCH_AGE_S after its
 * first session, at the next one), never spanning two months (one
 * batch is one part per shard: inserted whole or not at all).
 *
 * Nothing lost, nothing twice:
 *   - each batch has an identity, `batch` (a hash of the run's random id and
 *     the batch's number) and `batch_row` (the row's place in it), and is
 *     sent with query_id = that identity, so the server refuses a second
 *     copy while the first is still running;
 *   - a batch the server did not take (no connection, a reset, an overload)
 *     is appended to the spool file, and so is every later batch until the
 *     spool is empty again: the spool is replayed in order, with
 *     exponential backoff (0.25 s doubling to 8 s) between attempts;
 *   - before a spooled batch is sent, the rows of its identity already in
 *     the table are looked up (SELECT batch_row ... WHERE batch = ID) and
 *     only the missing ones are sent: an insert whose answer was lost is
 *     never inserted twice;
 *   - if the server stays away longer than `wait` seconds (default 300) the
 *     sink gives up: NI_ERR_OUTPUT "<url>: gave up after N s: <reason>
 *     (N sessions kept in SPOOL)".
 * The spool is `spool=PATH`, else $XDG_STATE_HOME/netintel (else
 * ~/.local/state/netintel, else /tmp) /clickhouse-PID-RUNID.spool; it is
 * created only when needed and removed once replayed.  A non-empty spool
 * named by spool=PATH (left by a run that gave up or was killed) is
 * replayed first, its batches checked against the table; a spool is locked
 * (flock) by its run. */
#ifndef NI_CHSINK_H
#define NI_CHSINK_H

#include <stdint.h>
#include "netintel/netintel.h"

#define NI_CH_BATCH_ROWS 20000          /* default rows= */
#define NI_CH_BATCH_BYTES (16u << 20)   /* default bytes= */
#define NI_CH_WAIT_S 300.0              /* default wait= */
#define NI_CH_BATCH_AGE_S 10.0          /* a batch is sent at its next session after this age */

typedef struct ni_chsink ni_chsink;

typedef struct ni_chsink_stats {
    uint64_t sessions, batches;         /* taken by the server */
    uint64_t spooled, retries, deduplicated;   /* batches spooled, failed attempts, rows found already there */
} ni_chsink_stats;

/* Parses url and creates the table when absent (a server away at this
 * point is retried like an insert).  NULL + err: NI_ERR_ARG (a bad URL),
 * NI_ERR_OUTPUT (the server refused the table, or a table without
 * netintel's columns), NI_ERR_NOMEM. */
ni_chsink *ni_chsink_open(const char *url, ni_error *err);
/* Adds one session (a full batch is sent or spooled).  NI_ERR_OUTPUT. */
ni_err ni_chsink_add(ni_chsink *k, const ni_session *s, ni_error *err);
/* Sends the last batch and replays the spool until it is empty (or gives
 * up after wait).  NI_ERR_OUTPUT. */
ni_err ni_chsink_finish(ni_chsink *k, ni_error *err);
void ni_chsink_get_stats(const ni_chsink *k, ni_chsink_stats *st);
/* Frees; a spool still holding batches stays on disk.  NULL is a no-op. */
void ni_chsink_free(ni_chsink *k);

#endif
