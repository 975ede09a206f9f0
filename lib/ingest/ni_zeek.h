/* ni_zeek.h — Zeek sensor logs as a source of sessions: conn.log joined on
 * `uid` with http.log, ssl.log, dns.log, quic.log, x509.log (through
 * ssl.log's cert_chain_fps / cert_chain_fuids) and software.log, read back
 * into ni_session records with their evidence (docs/zeek.md has the field
 * mapping).  Both of Zeek's writers are read: the ASCII (TSV) logs driven
 * by their header (#separator, #set_separator, #empty_field, #unset_field,
 * #fields, #types; \xNN escapes) and JSON lines; any file may be
 * gzip-compressed.
 *
 * An input is one log file or a directory of logs (and its date-named
 * subdirectories, Zeek's archive layout), recognised by content.  The files
 * of a directory are grouped by the rotation stamp in their names
 * (conn.2024-01-01-00-00-00.log.gz, 2024-01-01/conn.00:00:00-01:00:00.log.gz;
 * unstamped files, the current logs, come last) and the groups are read in
 * time order: for each group the protocol logs are held (bounded by
 * NI_ZEEK_GROUP_BYTES_MAX / NI_ZEEK_UIDS_MAX), then its conn.log rows are
 * streamed out as sessions, then the protocol rows no conn row claimed
 * become sessions of their own from their id fields (no counters).
 *
 * Bad input never stops the reader: rows with the wrong number of fields,
 * bad JSON, over-long lines, broken headers (the file is skipped), damaged
 * compression and protocol rows beyond the join's bounds are counted; the
 * first is kept as a one-line message "<file>:<line>: <problem>" and
 * reported by ni_zeek_next once every session has been returned.  Values that do not parse (a masked time
 * stamp, a bad count) are counted in bad_values and read as unset. */
#ifndef NI_ZEEK_H
#define NI_ZEEK_H

#include <stdbool.h>
#include <stdint.h>
#include "netintel/netintel.h"

typedef struct ni_zeek ni_zeek;

typedef struct ni_zeek_stats {
    uint64_t files;         /* Zeek log files read */
    uint64_t ignored_files; /* files that are not Zeek logs, or logs of other kinds (weird, files...) */
    uint64_t rows;          /* data rows read (all kinds) */
    uint64_t sessions;      /* sessions returned */
    uint64_t joined;        /* protocol rows attached to a conn.log row */
    uint64_t orphans;       /* sessions made from protocol rows without a conn.log row */
    uint64_t bad_rows;      /* wrong field count, bad JSON, unusable id fields */
    uint64_t bad_values;    /* values that did not parse (read as unset) */
    uint64_t long_lines;    /* lines longer than NI_ZEEK_LINE_MAX (skipped) */
    uint64_t bad_files;     /* broken header, unreadable, damaged compression */
    uint64_t dropped;       /* protocol rows beyond the join's memory bounds (one problem) */
    uint64_t problems;      /* bad_rows + long_lines + bad_files, + 1 if any dropped */
} ni_zeek_stats;

/* True if path is a Zeek log (first line "#separator ..." or a JSON object
 * with Zeek's keys: ts, uid, id.orig_h, _path), possibly gzip-compressed, or
 * a directory holding at least one.  False for captures, stored sessions
 * and unreadable paths. */
bool ni_zeek_probe(const char *path);

/* Opens a log file or a directory of logs.  NULL + err ("<path>:
 * <problem>") when it cannot be read or holds no Zeek log. */
ni_zeek *ni_zeek_open(const char *path, ni_error *err);

/* Next session: 1 and *s filled (strings owned by the reader, valid until
 * the next call; s->arena is the reader's per-session arena), 0 at the end,
 * -1 once at the end when problems were counted (err: the first problem,
 * "<file>:<line>: <problem>", and how many there were); every session that
 * could be read has been returned before.  direction is left unknown and
 * enrichment empty, for the caller to compute. */
int ni_zeek_next(ni_zeek *z, ni_session *s, ni_error *err);

const ni_zeek_stats *ni_zeek_stats_get(const ni_zeek *z);
/* Tighter bounds for the join of each rotation interval: connections with
 * protocol rows, and bytes of their evidence (0 or more than the limits in
 * ni_limits.h: those limits).  Call before the first ni_zeek_next. */
void ni_zeek_set_bounds(ni_zeek *z, size_t uids, size_t bytes);
/* Bytes of the (compressed) log files read so far and their total, for
 * progress display. */
void ni_zeek_progress(const ni_zeek *z, uint64_t *done, uint64_t *total);
void ni_zeek_close(ni_zeek *z);

#endif
