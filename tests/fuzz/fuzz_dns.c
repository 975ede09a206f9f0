/* fuzz_dns.c — libFuzzer target for the DNS message parser and the
 * address→name cache (lib/dissect/ni_dns, ni_dnscache): the input is one
 * DNS message, parsed, then again with its QR bit flipped and once more
 * (transaction pairing: the session's `dns` list is checked); every name
 * offset is also decoded on its own, and the addresses of the answers are
 * fed through a small cache. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "dissect/ni_dns.h"
#include "dissect/ni_dnscache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = ni_arena_new(NI_SESSION_ARENA_MAX);
    if (!s.arena) return 0;
    static ni_dns_info info;          /* large: kept off the stack */
    (void)ni_dns_plausible(data, size);
    ni_dns_parse(&s, data, size, &info);
    if (info.naddr > NI_DNS_ANSWERS_MAX) abort();
    unsigned n = 0;
    for (const ni_strlist *l = s.dns_answers; l; l = l->next) n++;
    if (n > NI_DNS_ANSWERS_MAX) abort();

    /* the same bytes again with the QR bit flipped: a query becomes its
     * response (pairing), a response a query; then the original again (a
     * repeat) */
    if (size >= 3 && size <= 65535) {
        uint8_t *flip = malloc(size);
        if (flip) {
            memcpy(flip, data, size);
            flip[2] ^= 0x80;
            ni_dns_parse(&s, flip, size, &info);
            ni_dns_parse(&s, data, size, &info);
            free(flip);
        }
    }
    /* transactions: the list matches the count, within the limit, each with
     * a query name, an rcode only for a response, ttl >= -1, answers capped */
    unsigned txns = 0;
    for (const ni_dns_txn *t = s.dns; t; t = t->next) {
        txns++;
        if (!t->query || !t->query[0] || t->ttl < -1 || (t->next == NULL && t != s.dns_tail)) abort();
        unsigned na = 0;
        for (const ni_strlist *l = t->answers; l; l = l->next) { na++; if (!l->s) abort(); }
        if (na > NI_DNS_ANSWERS_MAX || (na && !t->rcode)) abort();
    }
    if (txns != s.dns_count || txns > NI_DNS_TRANSACTIONS_MAX) abort();

    char name[NI_DNS_TEXT_MAX];
    for (size_t off = 0; off < size && off < 512; off++) {
        size_t next = 0;
        int l = ni_dns_name(data, size, off, name, sizeof name, &next);
        if (l >= 0 && (next > size || (size_t)l >= sizeof name || strlen(name) != (size_t)l)) abort();
    }

    ni_dnscache *c = ni_dnscache_new(8, 0);
    if (c) {
        ni_addr client;
        memset(&client, 0, sizeof client);
        client.family = 4;
        client.b[0] = 10;
        for (unsigned i = 0; i < info.naddr; i++) {
            ni_dnscache_add(c, &client, &info.addr[i], info.qname[0] ? info.qname : "x", info.ttl[i], i);
            const char *got = ni_dnscache_lookup(c, &client, &info.addr[i], i);
            if (!got) abort();
        }
        if (ni_dnscache_count(c) > 8) abort();
        ni_dnscache_free(c);
    }
    ni_arena_free(s.arena);
    return 0;
}
