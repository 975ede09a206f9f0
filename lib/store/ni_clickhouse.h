/* ni_clickhouse.h — the ClickHouse table for sessions (docs/store.md,
 * "ClickHouse"): the DDL `netintel schema clickhouse` prints, so an operator
 * can create the table (and, on a cluster, the local tables and a
 * Distributed table over them).  The columns are those of the SQLite store
 * (ni_sqlite), from the same field walk (ni_out_fields), in types ClickHouse
 * 18.16 (Debian 12's clickhouse-server) has: strings and JSON text String,
 * numbers UInt64, flags UInt8 (1, else 0), Nullable where JSON Lines may
 * omit the field; first and last DateTime('UTC') (seconds: 18.16 has no
 * DateTime64) with the microseconds in first_us / last_us; addresses as
 * their text (18.16 has no IPv4/IPv6 types).  MergeTree, partitioned by
 * toYYYYMM(first), ordered by (first, client). */
#ifndef NI_CLICKHOUSE_H
#define NI_CLICKHOUSE_H

#include "core/ni_buf.h"

/* Appends the DDL for table ("DB.TABLE", or "TABLE").  cluster non-NULL:
 * the table ON CLUSTER cluster, and a Distributed table TABLE_all over it. */
void ni_clickhouse_schema(ni_buf *b, const char *table, const char *cluster);

#endif
