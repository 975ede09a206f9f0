/* fuzz_netflow.c — libFuzzer target for the flow-export decoder
 * (lib/ingest/ni_netflow: NetFlow v5, v9, IPFIX).  The input is a sequence
 * of export datagrams, each prefixed with its 16-bit big-endian length (a
 * length past the end takes the rest), fed to one decoder so that templates
 * and options learned from one datagram shape the decoding of the next; two
 * exporters alternate, and the clock jumps now and then past the pairing
 * window and the template TTL.  Invariants: template count within the
 * per-exporter limits, every session's counts consistent.
 * Seeds (tests/fuzz/corpus/netflow/) are real exports of corpus captures by
 * nfreplay (v5, v9) and softflowd (v5, v9, IPFIX uni/bidirectional, sampled,
 * IPv6), captured on loopback and cut into this format. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ni_limits.h"
#include "ingest/ni_netflow.h"

static ni_err sink(void *ud, ni_session *s, ni_error *err)
{
    (void)ud; (void)err;
    if (!s->source || s->first_us > s->last_us) abort();
    if (s->sampled == 1 || s->sampled > NI_NETFLOW_SAMPLING_MAX) abort();
    return NI_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ni_netflow_config cfg = { 5ll * 1000000, 30ll * 1000000, 64 };
    ni_netflow *nf = ni_netflow_new(&cfg, NULL);
    if (!nf) return 0;
    ni_netflow_set_sink(nf, sink, NULL);
    ni_addr ex[2] = { { 4, { 192, 0, 2, 1 } }, { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } } };
    int64_t now = 1700000000ll * 1000000;
    size_t off = 0;
    unsigned i = 0;
    while (off + 2 <= size) {
        size_t len = ((size_t)data[off] << 8) | data[off + 1];
        off += 2;
        if (len > size - off) len = size - off;
        /* each datagram in a heap block of exactly its size: ASan sees overreads */
        uint8_t *d = malloc(len ? len : 1);
        if (!d) break;
        if (len) memcpy(d, data + off, len);
        ni_netflow_datagram(nf, &ex[i & 1], d, len, now, NULL);
        free(d);
        off += len;
        now += (i % 5 == 4) ? 40ll * 1000000 : 1000000;
        i++;
    }
    if (ni_netflow_template_count(nf) > 2 * NI_NETFLOW_TEMPLATES_PER_EXPORTER) abort();
    ni_netflow_finish(nf, NULL);
    ni_netflow_free(nf);
    return 0;
}
