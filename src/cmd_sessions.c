/* cmd_sessions.c — `netintel sessions`: captures → one record per session.
 * (placeholder until the engine lands) */
#include <stdio.h>
#include "cli.h"

int cmd_sessions(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "netintel sessions: not built yet\n");
    return 1;
}
