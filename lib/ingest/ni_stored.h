/* ni_stored.h — stored sessions: reads back the JSON Lines that `netintel
 * sessions` writes (docs/sessions.md) into ni_session records, so a profile
 * can be computed again (another window, target or catalogue version)
 * without the captures.  Evidence fields are restored (HTTP requests with
 * their hints, SNI, ALPN, DNS query and answers, certificates, the tunnel
 * protocol and nDPI's verdict); enrichment fields are left to the caller to
 * recompute with the current catalogues. */
#ifndef NI_STORED_H
#define NI_STORED_H

#include <stdbool.h>
#include <stdio.h>
#include "netintel/netintel.h"

/* True if the file at path looks like stored sessions (its first
 * non-blank byte is '{'); false for captures and unreadable files. */
bool ni_stored_probe(const char *path);

typedef struct ni_stored ni_stored;

/* Opens path ("-" = stdin).  NULL + err ("<path>: <problem>") on failure. */
ni_stored *ni_stored_open(const char *path, ni_error *err);
/* Reads the lines of f (closed by ni_stored_close, also on failure) with
 * name in messages: stored sessions kept in another container (SQLite rows,
 * ni_sqlsrc). */
ni_stored *ni_stored_open_stream(FILE *f, const char *name, ni_error *err);
void ni_stored_close(ni_stored *st);

/* Next session: 1 and *s filled (strings in s->arena, which the reader owns
 * and reuses on the next call), 0 at the end, -1 on a bad line (err says
 * "<path>:<line>: <problem>"; the sessions before it were returned). */
int ni_stored_next(ni_stored *st, ni_session *s, ni_error *err);

#endif
