/* fuzz_dnstun.c — libFuzzer target for the DNS-tunnel aggregation and the
 * Public Suffix List rules (lib/analyze/ni_dnstun, ni_psl): the input is a
 * list of names (one a line) looked up by two clients in two sessions; the
 * suffix of every name must end it and leave the stated left part, and the
 * rows must respect the flag's thresholds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/ni_dnstun.h"
#include "analyze/ni_psl.h"
#include "core/ni_limits.h"

#define NAMES_MAX 256u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[64 * 1024];
    static ni_dns_txn txn[NAMES_MAX];
    static ni_psl *psl;                 /* the system's list when installed, read once */
    static int psl_tried;
    if (!psl_tried++) psl = ni_psl_load(NI_PSL_PATH, NULL);
    if (size >= sizeof buf) size = sizeof buf - 1;
    memcpy(buf, data, size);
    buf[size] = 0;
    size_t n = 0;
    for (char *p = buf, *e; p && *p && n < NAMES_MAX; p = e ? e + 1 : NULL) {
        e = strchr(p, '\n');
        if (e) *e = 0;
        if (strlen(p) > NI_DNS_NAME_MAX) continue;
        /* the suffix ends the name; the left part is what precedes it */
        for (int k = 0; k < 2; k++) {
            size_t left = 0;
            const char *s = ni_psl_suffix(k ? psl : NULL, p, &left);
            if (s < p || s > p + strlen(p) || (s > p && left != (size_t)(s - p) - 1) || (s == p && left)) abort();
        }
        memset(&txn[n], 0, sizeof txn[n]);
        txn[n].query = p;
        txn[n].qtype = (n & 1) ? "TXT" : "A";
        txn[n].ttl = -1;
        if (n) txn[n - 1].next = &txn[n];
        n++;
    }
    ni_dnstun *a = ni_dnstun_new(64, NULL), *b = ni_dnstun_new(64, NULL);
    if (!a || !b) { ni_dnstun_free(a); ni_dnstun_free(b); return 0; }
    uint64_t refused = 0, oom = 0;
    ni_session s;
    memset(&s, 0, sizeof s);
    s.proto = 17;
    s.client.family = 4;
    s.client.b[0] = 10;
    s.server_port = 53;
    s.dns = n ? &txn[0] : NULL;
    s.dns_tail = n ? &txn[n - 1] : NULL;
    s.dns_count = (unsigned)n;
    ni_dnstun_add(a, &s, &refused, &oom);
    s.client.b[3] = 1;
    ni_dnstun_add(b, &s, &refused, &oom);
    s.client.b[3] = 0;
    ni_dnstun_add(b, &s, &refused, &oom);
    if (ni_dnstun_merge(a, b, &refused) != NI_OK) abort();
    ni_dnstun_row *r;
    size_t rows = ni_dnstun_rows(a, &r);
    for (size_t i = 0; i < rows; i++)
        if (r[i].names < NI_DNSTUN_NAMES_MIN || r[i].mean_length < NI_DNSTUN_LENGTH_MIN ||
            r[i].mean_entropy < NI_DNSTUN_ENTROPY_FLOOR || r[i].mean_entropy > 8.0 || r[i].queries < r[i].names / 2)
            abort();
    free(r);
    ni_dnstun_free(a);
    ni_dnstun_free(b);
    return 0;
}
