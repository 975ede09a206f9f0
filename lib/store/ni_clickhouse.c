/* ni_clickhouse.c — the ClickHouse DDL for sessions (see ni_clickhouse.h;
 * syntax of ClickHouse 18.16: CREATE TABLE ... ENGINE = MergeTree
 * PARTITION BY ... ORDER BY ..., and the Distributed engine). */
#include "store/ni_clickhouse.h"
#include "output/ni_out.h"

#include <stdio.h>
#include <string.h>

typedef struct ddl {
    ni_buf *b;
    int n;
} ddl;

static void column(ddl *d, const char *name, const char *type)
{
    ni_buf_printf(d->b, "%s    `%s` %s", d->n++ ? ",\n" : "", name, type);
}

/* The columns that are never absent: the sort and partition keys. */
static bool required(const char *name)
{
    return !strcmp(name, "first") || !strcmp(name, "last") || !strcmp(name, "client") || !strcmp(name, "server");
}

static void column_of(void *ud, const ni_out_field *f)
{
    ddl *d = ud;
    if (!strcmp(f->name, "first") || !strcmp(f->name, "last")) {
        column(d, f->name, "DateTime('UTC')");
        column(d, !strcmp(f->name, "first") ? "first_us" : "last_us", "UInt64");
        return;
    }
    const char *t = f->kind == NI_OUT_UINT ? "UInt64" : f->kind == NI_OUT_TRUE ? "UInt8" : "String";
    if (f->kind == NI_OUT_TRUE || required(f->name)) column(d, f->name, t);
    else {
        char nt[32];
        snprintf(nt, sizeof nt, "Nullable(%s)", t);
        column(d, f->name, nt);
    }
}

void ni_clickhouse_schema(ni_buf *b, const char *table, const char *cluster)
{
    char on[160] = "";
    if (cluster) snprintf(on, sizeof on, " ON CLUSTER %s", cluster);
    ni_buf_printf(b, "-- sessions of netintel (docs/store.md): one column per JSON Lines field\n"
                     "CREATE TABLE IF NOT EXISTS %s%s\n(\n", table, on);
    ddl d = { b, 0 };
    ni_out_fields(NULL, column_of, &d);
    /* ClickHouse's own: the addresses as numbers (ranges pushed down by the
     * source) and each row's batch identity (store/ni_chsink) */
    column(&d, "client_ip", "FixedString(16)");
    column(&d, "server_ip", "FixedString(16)");
    column(&d, "batch", "UInt64");
    column(&d, "batch_row", "UInt32");
    ni_buf_adds(b, "\n)\nENGINE = MergeTree\nPARTITION BY toYYYYMM(first)\nORDER BY (first, client);\n");
    if (!cluster) return;
    const char *dot = strchr(table, '.');
    ni_buf_printf(b, "-- the cluster's sessions: a Distributed table over the local ones\n"
                     "CREATE TABLE IF NOT EXISTS %s_all%s AS %s\n"
                     "ENGINE = Distributed(%s, %.*s, %s, rand());\n",
                  table, on, table, cluster, dot ? (int)(dot - table) : 7, dot ? table : "default",
                  dot ? dot + 1 : table);
}
