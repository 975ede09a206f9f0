/* fuzz_prefilter.c — libFuzzer target for the literal prefilter's flat form
 * (lib/enrich/ni_ua: ni_ua_prefilter_decode), the part of the start-up
 * caches uap.bin and devdet.bin that is tables of indexes (counts, offsets,
 * the automaton's transitions): the input is decoded as untrusted bytes
 * (every index checked); a prefilter that decodes is asked for the
 * candidates of the input itself and of a User-Agent (no read outside its
 * tables, bits only for its rules), and encoded again, which must decode to
 * the same encoding.  Seeds: prefilters encoded by ni_ua_prefilter_encode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_buf.h"
#include "core/ni_cursor.h"
#include "enrich/ni_ua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_cursor c;
    ni_cur_init(&c, data, size);
    ni_ua_db *db = ni_ua_prefilter_decode(&c);
    if (!db) return 0;
    size_t rules = ni_ua_db_rules(db, 0), words = (rules + 63) / 64;
    ni_ua *u = ni_ua_new(db, 0, NULL);
    if (u) {
        static const char ua[] = "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 Chrome/120 Mobile";
        const char *subj[2] = { (const char *)data, ua };
        size_t len[2] = { size, sizeof ua - 1 };
        for (int k = 0; k < 2; k++) {
            const uint64_t *cand = ni_ua_candidates(u, subj[k], len[k]);
            /* no bit past the last rule */
            if (rules % 64 && words && (cand[words - 1] >> (rules % 64))) abort();
        }
        ni_ua_free(u);
    }
    ni_buf a, b;
    ni_buf_init(&a, (size_t)1 << 28);
    ni_buf_init(&b, (size_t)1 << 28);
    if (ni_ua_prefilter_encode(db, &a) == NI_OK && !a.err) {
        ni_cursor c2;
        ni_cur_init(&c2, (const uint8_t *)a.p, a.len);
        ni_ua_db *again = ni_ua_prefilter_decode(&c2);
        if (!again) abort();                      /* what it wrote, it reads */
        if (ni_ua_prefilter_encode(again, &b) != NI_OK || b.len != a.len || memcmp(a.p, b.p, a.len)) abort();
        ni_ua_db_free(again);
    }
    ni_buf_release(&a);
    ni_buf_release(&b);
    ni_ua_db_free(db);
    return 0;
}
