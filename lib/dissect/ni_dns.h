/* ni_dns.h — DNS message dissection (RFC 1035 §4.1 message format, §4.1.4
 * name compression; RFC 3596 AAAA; RFC 6762 mDNS and RFC 4795 LLMNR share
 * the format).  Over TCP each message is preceded by a 2-byte length
 * (RFC 1035 §4.2.2; RFC 7766).
 *
 * Names are written as text: labels joined with '.', no trailing dot, ASCII
 * letters lower-cased, and bytes outside 0x21-0x7e (and '.' or '\' inside a
 * label) escaped as "\DDD" (decimal, as in RFC 4343 §2.1 / zone files).
 * Decompression follows at most NI_DNS_POINTERS_MAX pointers per name and
 * stops at NI_DNS_NAME_MAX wire bytes or NI_DNS_LABELS_MAX labels, so a
 * pointer loop or an endless name ends as a malformed message. */
#ifndef NI_DNS_H
#define NI_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "netintel/netintel.h"
#include "core/ni_limits.h"

/* Text form of a name: at most 4 bytes per wire byte (escapes) plus NUL. */
#define NI_DNS_TEXT_MAX (4u * NI_DNS_NAME_MAX + 1u)

/* Does p look like the start of a DNS message?  Header complete (12
 * bytes), a standard opcode (0-2, 4-6), at least one record, at most 64
 * questions, and the counted records not obviously larger than n (each
 * question takes 5 bytes at least, each resource record 11). */
bool ni_dns_plausible(const uint8_t *p, size_t n);

/* Decodes the (possibly compressed) name at msg[off] into out[cap] as text
 * (see above).  *next is set to the offset just after the name in the
 * message (after the first pointer when compressed).  Returns the text
 * length; -2 when the name runs past the end of the message; -1 when it
 * loops, is too long, points outside the message or uses a label type other
 * than 0 and pointer. */
int ni_dns_name(const uint8_t *msg, size_t n, size_t off, char *out, size_t cap, size_t *next);

/* What a message told, for the caller (cache, counters). */
typedef struct ni_dns_info {
    uint16_t id;
    bool response;
    uint8_t opcode, rcode;
    uint16_t qdcount, ancount;
    char qname[NI_DNS_TEXT_MAX];          /* first question's name (else, in a
                                             response, first answer's owner), "" if none */
    uint16_t qtype;
    unsigned naddr;                       /* A/AAAA answers (first NI_DNS_ANSWERS_MAX) */
    ni_addr addr[NI_DNS_ANSWERS_MAX];
    uint32_t ttl[NI_DNS_ANSWERS_MAX];
} ni_dns_info;

/* Mnemonics: an RR type ("A", "NULL", "HTTPS"; unlisted: "TYPE65534", RFC
 * 3597 §5) and a header RCODE ("NOERROR", "NXDOMAIN"; unassigned: "RCODE12").
 * The result is static or buf. */
const char *ni_dns_qtype_name(uint16_t type, char buf[12]);
const char *ni_dns_rcode_name(uint8_t rcode, char buf[12]);

/* Parses one DNS message p[0..n).  Fills info and the session:
 *   s->dns_query    the first question name of the first message that has
 *                   one (queries and responses alike), if not set yet; a
 *                   response without a question (mDNS announcement) gives
 *                   its first answer's owner name instead;
 *   s->dns_answers  A/AAAA addresses (text) and CNAME targets of the answer
 *                   section, in order, without duplicates, at most
 *                   NI_DNS_ANSWERS_MAX for the session;
 *   s->dns          the transactions: a query opens one (a repeated query
 *                   with the same id and name while unanswered is the same
 *                   transaction); a response completes the oldest open one
 *                   with its id and question name (rcode, answers: A/AAAA,
 *                   CNAME, NS, PTR, DNAME, MX and SRV targets, TXT text;
 *                   ttl: the smallest answer TTL), or, seen without its
 *                   query, makes its own; a repeated response to an
 *                   answered query is not recorded again.  At most
 *                   NI_DNS_TRANSACTIONS_MAX per session and while the arena
 *                   keeps NI_DNS_ARENA_RESERVE bytes for other evidence;
 *                   messages whose transaction is not kept are counted in
 *                   s->dns_dropped.
 * Strings go to s->arena (nothing is recorded when it is NULL or full).
 * Returns NI_OK, NI_ERR_TRUNCATED (the message ends inside a record: what
 * came before is kept) or NI_ERR_FORMAT (bad header, bad name). */
ni_err ni_dns_parse(ni_session *s, const uint8_t *p, size_t n, ni_dns_info *info);

#endif
