/* fuzz_tcpfp.c — libFuzzer target for the TCP/IP fingerprint code: the SYN
 * parser (lib/dissect/ni_tcpfp: the input as an IP header onwards, with the
 * wire length taken as the captured length and as longer), the p0f.fp
 * reader (lib/enrich/ni_tcpos: the input as a database) and the matcher
 * (the input as a fingerprint against a small database, and the formatted
 * fingerprint of a parsed SYN, which must always parse back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/ni_tcpfp.h"
#include "enrich/ni_tcpos.h"

static const char base[] =
    "classes = win,unix,other\n[tcp:request]\n"
    "label = s:unix:Linux:3.11 and newer\nsig = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n"
    "label = g:unix:Linux:2.2.x-3.x\nsig = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n"
    "label = s:win:Windows:XP\nsig = *:128:0:*:%8192,0:mss,nop,nop,sok:df,id+:*\n"
    "label = s:!:NMap:SYN scan\nsys = @unix,@win\nsig = *:64-:0:1460:1024,0:mss::0\n"
    "label = s:other:Odd:\nsig = 4:64+3:4:1460:mtu*2,*:eol+3:ecn,0+,opt+,bad:+\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_tcpfp_syn syn;
    char sig[NI_TCPFP_STRLEN];
    ni_tcpos *small = ni_tcpos_new();
    ni_error err = {0};
    if (!small || ni_tcpos_load_p0f_text(small, "base", base, sizeof base - 1, &err)) abort();
    for (size_t wire = size; wire <= size + 8; wire += 8) {
        if (ni_tcpfp_parse(data, size, wire, &syn)) {
            ni_tcpfp_format(&syn, sig, sizeof sig);
            if (strlen(sig) + 1 >= sizeof sig) abort();
            ni_tcpos_result r;
            ni_tcpos_match(small, sig, syn.win, &r);
        }
    }
    /* the input as a database, then as a fingerprint */
    ni_tcpos *db = ni_tcpos_new();
    if (db) {
        (void)ni_tcpos_load_p0f_text(db, "fuzz", (const char *)data, size, &err);
        char *text = malloc(size + 1);
        if (text) {
            memcpy(text, data, size);
            text[size] = 0;
            ni_tcpos_result r;
            ni_tcpos_match(db, text, 64240, &r);
            ni_tcpos_match(small, text, 0, &r);
            free(text);
        }
        ni_tcpos_free(db);
    }
    ni_tcpos_free(small);
    return 0;
}
