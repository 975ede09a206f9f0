/* ni_dnstun.h — DNS tunnels and exfiltration: per (target client, suffix)
 * the distinct names a client looked up, how long and how random their
 * leftmost labels are, and which query types it used; the pairs that look
 * like data carried in DNS names (iodine, dnscat2, dns2tcp and the like:
 * long base32/base64/hex labels under one domain, often TXT, NULL, CNAME or
 * MX queries) become report.json "dns_tunnels" (docs/report.md).
 *
 * Suffix: the registered domain by the Public Suffix List (ni_psl; names
 * under an unregistered top-level label group under their last two labels),
 * else the last two labels.  Names under "arpa" (reverse lookups) and the
 * multicast/link-local name protocols (mDNS 5353, LLMNR 5355, NetBIOS 137)
 * are not counted.
 *
 * Distinct names per pair are counted by the profile's distinct counter
 * (ni_hll.h): exact up to NI_PROFILE_DNS_NAMES_EXACT, then a HyperLogLog
 * estimate (±0.81%), for at most NI_PROFILE_DNS_SKETCHES_MAX pairs; past
 * that the pair's count stops growing and each refused name is counted as
 * lost.  The mean entropy and length are those of the distinct names seen
 * while the count was exact (the first NI_PROFILE_DNS_NAMES_EXACT).
 *
 * Pairs: at most `cap` (the profile's NI_PROFILE_DNS_PAIRS_MAX), the most
 * queried (Space-Saving, core/ni_topk): below the cap every pair is kept
 * exactly; past it a pair new to the table takes the place of the least
 * queried one, so a tunnel (many queries) is kept wherever it starts in the
 * capture, and the pairs and queries that left are counted
 * (ni_dnstun_table). */
#ifndef NI_DNSTUN_H
#define NI_DNSTUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"

/* The flag: a pair is listed when the client looked up at least
 * NI_DNSTUN_NAMES_MIN distinct names under the suffix whose leftmost labels
 * (the name left of the suffix, dots removed) average at least
 * NI_DNSTUN_LENGTH_MIN characters with a mean Shannon entropy of at least
 * NI_DNSTUN_ENTROPY_FLOOR bits per character.  Then three indicators:
 * random-looking labels (mean entropy >= NI_DNSTUN_ENTROPY_HIGH), query
 * types that carry data back (TXT, NULL, CNAME, MX, SRV, ANY, KEY, private
 * TYPE65280-65534: at least half the queries), volume (>= NI_DNSTUN_NAMES_MANY
 * names or a mean length >= NI_DNSTUN_LENGTH_LONG).  Probability = 0.5 +
 * 0.15 per indicator (0.5, 0.65, 0.8, 0.95: an analyst's weighting of
 * independent signs, not a measured rate). */
#define NI_DNSTUN_NAMES_MIN     50u
#define NI_DNSTUN_LENGTH_MIN    20.0
#define NI_DNSTUN_ENTROPY_FLOOR 2.5
#define NI_DNSTUN_ENTROPY_HIGH  3.5
#define NI_DNSTUN_NAMES_MANY    500u
#define NI_DNSTUN_LENGTH_LONG   50.0
#define NI_DNSTUN_QTYPES_MAX    8u      /* query types kept per pair; the rest are "other" */

typedef struct ni_dnstun ni_dnstun;

/* cap = (client, suffix) pairs held (past it: the most queried);
 * psl_path = the Public Suffix List to read (ni_psl; the profile passes
 * NI_PSL_PATH) when first needed, NULL or unreadable = the last two labels. */
ni_dnstun *ni_dnstun_new(size_t cap, const char *psl_path);
void ni_dnstun_free(ni_dnstun *t);
/* "public suffix list" or "last two labels": the suffix rule in force (the
 * list is read when first needed, by the first name or by this call). */
const char *ni_dnstun_rule(ni_dnstun *t);

/* The session's DNS names (its `dns` transactions, else its dns_query),
 * for its client.  *refused counts pairs or names that could not be held,
 * *oom allocation failures. */
void ni_dnstun_add(ni_dnstun *t, const ni_session *s, uint64_t *refused, uint64_t *oom);
/* The same with the client's address already formatted (ni_addr_format). */
void ni_dnstun_add_at(ni_dnstun *t, const ni_session *s, const char *client, uint64_t *refused, uint64_t *oom);
/* Adds src into dst (names present in both are counted once; the means add
 * both parts' sums). */
ni_err ni_dnstun_merge(ni_dnstun *dst, const ni_dnstun *src, uint64_t *refused);

typedef struct ni_dnstun_qtype { const char *qtype; uint64_t queries; } ni_dnstun_qtype;
typedef struct ni_dnstun_row {
    const char *client, *suffix;
    uint64_t names;                 /* distinct names (estimate when estimated) */
    bool estimated;
    uint64_t sessions, queries;
    double mean_entropy, mean_length;
    ni_dnstun_qtype qtypes[NI_DNSTUN_QTYPES_MAX + 1];
    size_t nqtypes;                 /* most queries first */
    int64_t first_us, last_us;
    unsigned indicators;            /* bit 0 entropy, 1 query types, 2 volume */
    uint64_t queries_error;         /* queries the pair may miss (it entered a full table): 0 = exact */
    double probability;
} ni_dnstun_row;

/* The flagged pairs, most names first (then queries, client, suffix);
 * *rows is allocated (free it), its strings live as long as t. */
size_t ni_dnstun_rows(const ni_dnstun *t, ni_dnstun_row **rows);

/* The pair table: cap, pairs kept, pairs that left (evicted) and their
 * queries (dropped), the most queries a pair had when it left (bound: no
 * pair not kept had more), queries of all pairs (total = kept + dropped). */
typedef struct ni_dnstun_stats { size_t cap, kept; uint64_t evicted, dropped, bound, total; } ni_dnstun_stats;
void ni_dnstun_table(const ni_dnstun *t, ni_dnstun_stats *st);

/* Shannon entropy in bits per character of s[0..n) ignoring dots. */
double ni_dnstun_entropy(const char *s, size_t n);

#endif
