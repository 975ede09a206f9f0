/* ni_ua.h — User-Agent parsing with the uap-core rules (regexes.yaml of
 * uap-core 0.18.0), following uap-core's docs/specification.md ("ua-parser
 * Specification", version 0.2 draft) and the behaviour of its reference
 * implementation: three ordered lists of regexes (user_agent_parsers,
 * os_parsers, device_parsers); in each list the first regex that matches
 * (unanchored search, case sensitive unless regex_flag: 'i') decides.  A
 * field comes from its *_replacement when the rule has one ($0..$9 replaced
 * by the match's groups, an unset group by "", then leading/trailing
 * whitespace trimmed), else from the capture group of its position; an empty
 * value is absent (NULL).  Nothing matching gives family "Other".
 *
 * Two parts, so threads can share the expensive one:
 *   ni_ua_db  the compiled rules (PCRE2) and the literal prefilter; safe
 *             to share between threads: immutable after loading but for
 *             the JIT-compiled copy of a rule tried often, made once and
 *             published atomically.
 *   ni_ua     one parser per thread: match data, JIT stack and a bounded
 *             cache of results keyed by the User-Agent string.
 *
 * Prefilter: at load, each regex yields a set of literal strings one of
 * which must occur (lower-cased) in any text it matches (an analysis of the
 * pattern: required literal runs, through required groups and alternations,
 * never through optional parts or lookarounds; a pattern left with none is
 * analysed again with small character classes, [GN] or [0-3], as
 * alternatives).  Per User-Agent one
 * Aho-Corasick pass over the lower-cased string finds which literals occur,
 * and only regexes with an occurring literal (or without any usable literal)
 * are tried, still in file order — so results are identical with and without
 * it (ni_ua_set_prefilter turns it off for that comparison).
 *
 * Subjects are matched as bytes (no UTF mode): `.` and `{0,200}` count bytes,
 * and caseless matching folds ASCII only, which is what makes the lower-cased
 * prefilter exact.  User-Agents longer than NI_UA_LEN_MAX are cut there. */
#ifndef NI_UA_H
#define NI_UA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "core/ni_buf.h"
#include "core/ni_cursor.h"

/* The browser ("user agent") or the operating system: family is never NULL
 * ("Other" when no rule matched); versions are NULL when absent. */
typedef struct ni_ua_agent {
    const char *family, *major, *minor, *patch, *patch_minor;
} ni_ua_agent;

/* family is never NULL ("Other"); brand and model may be NULL. */
typedef struct ni_ua_device {
    const char *family, *brand, *model;
} ni_ua_device;

typedef struct ni_ua_result {
    ni_ua_agent browser;
    ni_ua_agent os;
    ni_ua_device device;
} ni_ua_result;

enum { NI_UA_LIST_BROWSER = 0, NI_UA_LIST_OS, NI_UA_LIST_DEVICE, NI_UA_LIST__COUNT };

typedef struct ni_ua_db ni_ua_db;
typedef struct ni_ua ni_ua;

/* Loads and compiles regexes.yaml.  NULL on failure with err set (file
 * missing, YAML malformed, a regex PCRE2 cannot compile — naming the list,
 * the index and the pattern). */
ni_ua_db *ni_ua_db_load(const char *regexes_path, ni_error *err);
void ni_ua_db_free(ni_ua_db *db);
/* Number of rules in a list (NI_UA_LIST_*). */
size_t ni_ua_db_rules(const ni_ua_db *db, int list);
/* Rules of a list that have no usable literal (always tried). */
size_t ni_ua_db_unfiltered(const ni_ua_db *db, int list);

/* A parser over db (which must outlive it) with a cache of cache_entries
 * results (0 = no cache).  NULL on OOM. */
ni_ua *ni_ua_new(const ni_ua_db *db, size_t cache_entries, ni_error *err);
void ni_ua_free(ni_ua *u);
/* Prefilter on (default) or off; results must not change. */
void ni_ua_set_prefilter(ni_ua *u, bool on);

/* Parses ua[0..len).  Never NULL.  The result and its strings are owned by
 * the parser and stay valid until the next ni_ua_parse on the same parser
 * (or ni_ua_free). */
const ni_ua_result *ni_ua_parse(ni_ua *u, const char *ua, size_t len);

/* JIT-compiles every rule now (~0.02 s for uap-core), for bulk parsing of
 * many distinct User-Agents; otherwise a rule is JIT-compiled once it has
 * been tried a few times (most runs see few distinct User-Agents).  Call
 * before sharing db between threads. */
void ni_ua_db_jit(ni_ua_db *db);

/* The literal prefilter alone, for another rule set matched the same way
 * (bytes, ASCII case folding; ni_devdet): the analysis above applied to
 * patterns[0..n), no regex compiled.  The db serves only ni_ua_new (cache 0)
 * and ni_ua_candidates; ni_ua_db_unfiltered(db, 0) counts the patterns
 * without a usable literal.  NULL on OOM. */
ni_ua_db *ni_ua_prefilter_build(const char *const *patterns, size_t n, ni_error *err);
/* The prefilter alone in a flat form (little-endian counts and tables)
 * appended to out, and read back from c (which it advances): the same db,
 * or NULL when the bytes are short, inconsistent (every index is checked)
 * or memory runs out.  Lets ni_devdet keep it in its start-up cache. */
ni_err ni_ua_prefilter_encode(const ni_ua_db *db, ni_buf *out);
ni_ua_db *ni_ua_prefilter_decode(ni_cursor *c);
/* The same; trusted = the bytes are those of a file that an earlier decode
 * checked whole and that has not changed since (core/ni_verified.h): the
 * per-entry checks of the tables and the automaton are skipped. */
ni_ua_db *ni_ua_prefilter_decode_ex(ni_cursor *c, bool trusted);
/* The same; borrow (with trusted): the tables are used where they lie in
 * c's bytes (when aligned: the encoder pads them to 4-byte offsets of its
 * buffer) instead of copied, so only the pages the automaton walks are ever
 * read, and the index tables stored after the automaton are used too
 * (otherwise they are made again from the checked tables); those bytes must
 * then stay unchanged while the db lives. */
ni_ua_db *ni_ua_prefilter_decode_in(ni_cursor *c, bool trusted, bool borrow);

/* The prefilter's analysis of one pattern without an automaton, for patterns
 * tried rarely (device-detector's model rules, tried only after their brand
 * matched): the literals every match contains (lower-cased), written to out
 * as requirements, each a list of NUL-terminated alternatives closed by an
 * empty string, the list closed by an empty string (so "\0" alone: none
 * known).  Returns the bytes written, 0 when cap is too small. */
size_t ni_ua_required(const char *pattern, char *out, size_t cap);
/* Does the lower-cased (ASCII) subject s[0..n) hold an alternative of every
 * requirement of req (as written by ni_ua_required)?  false: the pattern
 * cannot match s, with or without case. */
bool ni_ua_required_met(const char *req, const char *s, size_t n);
/* Bit i set: pattern/rule i may match s[0..n) (all bits when the prefilter
 * is off); (rules + 63) / 64 words owned by u, valid until its next use. */
const uint64_t *ni_ua_candidates(ni_ua *u, const char *s, size_t n);

typedef struct ni_ua_stats {
    uint64_t parses, cache_hits;
    uint64_t regex_tries;      /* regexes run (after the prefilter) */
    uint64_t match_errors;     /* match limit hit or other PCRE2 error: taken as no match */
    uint64_t truncated;        /* User-Agents longer than NI_UA_LEN_MAX */
} ni_ua_stats;
void ni_ua_get_stats(const ni_ua *u, ni_ua_stats *out);

#endif
