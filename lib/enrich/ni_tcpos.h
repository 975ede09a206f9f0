/* ni_tcpos.h — which operating system sent a SYN: the session's
 * `tcp_fingerprint` (p0f 3 signature syntax, written by
 * lib/dissect/ni_tcpfp) matched against p0f's own database (`p0f.fp`, its
 * [tcp:request] section, as Debian's p0f package installs it at
 * /etc/p0f/p0f.fp) and against data/tcp-os.tsv (signatures of systems newer
 * than p0f's database, each row with its source).
 *
 * Matching follows p0f 3.09b (README "TCP signatures", and what its matcher
 * does): same option layout and EOL padding and IP options length; quirks
 * equal, or a fuzzy match when only `df`/`id+` disappeared or `id-`/`ecn`
 * appeared; wildcards `*` for MSS, window scale, window and payload class;
 * windows `mss*N`, `mtu*N`, `%N` and plain values; the initial TTL at most
 * 35 hops above the observed one (else fuzzy) or, for `ttl-` signatures, any
 * TTL not above it; the first exact specific signature in file order wins,
 * then the first generic (`g:`) one, then the first fuzzy one (never a
 * fuzzy match of a userland tool, class `!`).  The IP version of a
 * signature only decides which quirks apply (as in p0f).
 *
 * data/tcp-os.tsv (columns kind, match, family, detail, stack, source):
 *   kind `sig`:  a SYN signature in p0f syntax → family and detail; consulted
 *                when p0f's database gives no exact specific match;
 *   kind `p0f`:  a p0f label name, or "name:flavor", → the family netintel
 *                reports (p0f's "MacOS X" → "Mac OS X", "Linux:(Android)" →
 *                "Android");
 *   kind `ua`:   a User-Agent OS family (uap-core's) → its stack;
 * and every family's `stack` (the kernel family: windows, linux, darwin,
 * bsd, ...), used to compare a host's User-Agent OS with its stack OS. */
#ifndef NI_TCPOS_H
#define NI_TCPOS_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"

/* Where Debian's p0f package installs its database. */
#define NI_TCPOS_P0F_DEFAULT "/etc/p0f/p0f.fp"

typedef struct ni_tcpos ni_tcpos;

typedef struct ni_tcpos_result {
    const char *family;         /* "Windows", "Linux", "Mac OS X", "Android"... */
    const char *detail;         /* p0f's flavor ("7 or 8") or the row's detail; NULL if none */
    const char *stack;          /* "windows", "linux", "darwin"...; NULL if unknown */
    bool generic, fuzzy;        /* the kind of p0f match */
    bool from_tsv;              /* matched a data/tcp-os.tsv signature */
    unsigned line;              /* line of the signature in its file */
} ni_tcpos_result;

ni_tcpos *ni_tcpos_new(void);
void ni_tcpos_free(ni_tcpos *db);

/* Reads p0f.fp text (its [tcp:request] signatures; the other sections are
 * checked for shape only).  name is used in messages ("p0f.fp:LINE:
 * problem").  NI_ERR_DATA on a malformed file, NI_ERR_LIMIT past
 * NI_TCPOS_SIGS_MAX signatures. */
ni_err ni_tcpos_load_p0f_text(ni_tcpos *db, const char *name, const char *text, size_t n, ni_error *err);
/* The same from a file (at most NI_TCPOS_FILE_MAX bytes). */
ni_err ni_tcpos_load_p0f(ni_tcpos *db, const char *path, ni_error *err);
/* Reads data/tcp-os.tsv. */
ni_err ni_tcpos_load_tsv(ni_tcpos *db, const char *path, ni_error *err);

/* Matches a fingerprint as ni_tcpfp writes it; window is the SYN's raw
 * window (the fingerprint may give only its multiple of the MSS).  False when
 * the fingerprint does not parse or nothing matches an operating system. */
bool ni_tcpos_match(const ni_tcpos *db, const char *fingerprint, unsigned window, ni_tcpos_result *r);

/* The stack of an OS family (a tcp_os value or a User-Agent OS family);
 * NULL when the catalogue does not say. */
const char *ni_tcpos_stack(const ni_tcpos *db, const char *family);

/* Number of signatures loaded (p0f's and the catalogue's). */
size_t ni_tcpos_count(const ni_tcpos *db);

#endif
