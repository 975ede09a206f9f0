/* ni_psl.h — the registered domain of a DNS name by the Public Suffix List
 * rules (https://publicsuffix.org/list/ "Formal algorithm": normal,
 * wildcard "*." and exception "!" rules; the longest matching rule wins,
 * an exception over all; no match = the rule "*").  The list is the text
 * file Debian's package `publicsuffix` installs (NI_PSL_PATH); without it,
 * ni_psl_suffix falls back to the last two labels.
 *
 * ni_psl_suffix gives the suffix the DNS-tunnel section groups names by:
 *   - the registered domain (public suffix + one label): "a.b.example.co.uk"
 *     → "example.co.uk";
 *   - a name under a top-level label no rule knows (an internal or made-up
 *     TLD: "x.t.corp", "y.pirate.sea"): its last two labels when it has three
 *     or more ("t.corp", "pirate.sea"), else its last label ("abc.corp" →
 *     "corp"), so that every name under an unregistered suffix groups too;
 *   - a name that is itself a public suffix, or a single label: the name.
 * Rules are matched as written (Unicode rules do not match punycode names). */
#ifndef NI_PSL_H
#define NI_PSL_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"

#define NI_PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

typedef struct ni_psl ni_psl;

/* Loads the list at path; NULL (and err set) when it cannot be read or
 * holds no rule. */
ni_psl *ni_psl_load(const char *path, ni_error *err);
void ni_psl_free(ni_psl *p);
size_t ni_psl_rules(const ni_psl *p);

/* The suffix of name (see above) as a pointer into name; psl NULL = last
 * two labels.  *left_len (may be NULL) = bytes of name before the suffix,
 * without the dot that separates them (0 when the name is its suffix). */
const char *ni_psl_suffix(const ni_psl *psl, const char *name, size_t *left_len);

#endif
