/* fuzz_tls.c — libFuzzer target for lib/dissect/ni_tls and ni_ja4: the input
 * is the start of a TLS stream direction (records), parsed as client and as
 * server side, and also as a bare handshake message (TLS and QUIC form),
 * with a roomy and with a nearly full session arena.  Checks the contract:
 * results are in range, and every string handed out is NUL-terminated
 * inside the arena's budget (a JA4 is always 36 characters; certificate
 * names are at most NI_CERT_NAMES_MAX, each non-empty and at most
 * NI_DNS_NAME_MAX long).  Seeds include whole TLS 1.2 server flights with
 * real certificates, so the subjectAltName walk is reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dissect/ni_tls.h"
#include "core/ni_arena.h"
#include "core/ni_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const ni_session *s)
{
    if (s->ja4 && strlen(s->ja4) != 36) abort();
    if (s->sni && strlen(s->sni) > 65535) abort();
    unsigned n = 0;
    for (const ni_strlist *a = s->alpn; a; a = a->next) {
        if (!a->s || ++n > NI_ALPN_MAX) abort();
    }
    n = 0;
    for (const ni_strlist *a = s->cert_names; a; a = a->next) {
        if (!a->s || !*a->s || strlen(a->s) > NI_DNS_NAME_MAX || ++n > NI_CERT_NAMES_MAX) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);       /* exactly sized: overreads are reported */
    if (!p) return 0;
    memcpy(p, data, size);
    static const size_t caps[2] = { NI_SESSION_ARENA_MAX, 48 };
    for (int c = 0; c < 2; c++) {
        ni_session s;
        memset(&s, 0, sizeof s);
        s.arena = ni_arena_new(caps[c]);
        if (!s.arena) break;
        (void)ni_tls_probe(p, size);
        for (int dir = 0; dir < 2; dir++) {
            ni_tls_result r = ni_tls_parse_stream(&s, dir, p, size);
            if (r > NI_TLS_MALFORMED) abort();
        }
        check(&s);
        ni_session h;
        memset(&h, 0, sizeof h);
        h.arena = s.arena;
        ni_tls_result r = ni_tls_parse_handshake(&h, p, size, c == 1);
        if (r != NI_TLS_DONE && r != NI_TLS_MALFORMED) abort();
        if (size > 5) (void)ni_tls_parse_handshake(&h, p + 5, size - 5, c == 0);  /* record body */
        check(&h);
        if (ni_arena_used(s.arena) > caps[c]) abort();
        ni_arena_free(s.arena);
    }
    free(p);
    return 0;
}
