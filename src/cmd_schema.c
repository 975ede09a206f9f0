/* cmd_schema.c — `netintel schema sqlite|clickhouse`: prints the SQL that
 * creates the sessions table of a store (docs/store.md), so an operator can
 * create it by hand: ClickHouse's (MergeTree; with --cluster the table on
 * every shard and a Distributed table over them) or SQLite's.  Both come
 * from the one walk over the session's fields (lib/store). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_engine.h"
#include <stdlib.h>
#include "netintel/netintel.h"
#include "netintel/output.h"

static const char usage_text[] =
    "usage: netintel schema [options] sqlite|clickhouse\n"
    "\n"
    "Prints the SQL that creates the sessions table of a store (docs/store.md):\n"
    "one column per JSON Lines field (docs/sessions.md).\n"
    "\n"
    "  sqlite            the table netintel creates for -o FILE.sqlite\n"
    "  clickhouse        a MergeTree table partitioned by month of first, ordered\n"
    "                    by (first, client); types ClickHouse 18.16 has\n"
    "\n"
    "options:\n"
    "  --table DB.TABLE  the ClickHouse table (default netintel.sessions)\n"
    "  --cluster NAME    ClickHouse: the table ON CLUSTER NAME, and a Distributed\n"
    "                    table DB.TABLE_all over the shards' tables\n"
    "  -h, --help        this help\n";

/* A ClickHouse name: letters, digits, '_' (and one '.' for DB.TABLE). */
static bool good_name(const char *s, bool dotted)
{
    int dots = 0;
    if (!*s || strlen(s) > 100) return false;
    for (const char *p = s; *p; p++) {
        if (*p == '.' && dotted && p != s && p[1] && !dots++) continue;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    }
    return true;
}

int cmd_schema(int argc, char **argv)
{
    enum { O_TABLE = 300, O_CLUSTER };
    static const struct option opts[] = {
        { "table", required_argument, NULL, O_TABLE },
        { "cluster", required_argument, NULL, O_CLUSTER },
        { "help", no_argument, NULL, 'h' },
        { "quiet", no_argument, NULL, 'q' },
        { NULL, 0, NULL, 0 },
    };
    const char *table = "netintel.sessions", *cluster = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return 0;
        case 'q': break;
        case O_TABLE:
            if (!good_name(optarg, true)) return cli_usage_error("schema", "--table: '%s': expected DB.TABLE or TABLE (letters, digits, _)", optarg);
            table = optarg;
            break;
        case O_CLUSTER:
            if (!good_name(optarg, false)) return cli_usage_error("schema", "--cluster: '%s': expected a name (letters, digits, _)", optarg);
            cluster = optarg;
            break;
        case ':': return cli_usage_error("schema", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("schema", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return cli_usage_error("schema", "%s", "expected one of sqlite, clickhouse");
    const char *engine = argv[optind];
    ni_error err = {0};
    char *text = ni_store_schema(engine, table, cluster, &err);
    if (!text) {
        if (err.code == NI_ERR_ARG) return cli_usage_error("schema", "%s", err.msg);
        fprintf(stderr, "netintel schema: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    size_t n = strlen(text);
    if (fwrite(text, 1, n, stdout) != n || fflush(stdout)) {
        fprintf(stderr, "netintel: -: cannot write\n");
        rc = 1;
    }
    free(text);
    return rc;
}
