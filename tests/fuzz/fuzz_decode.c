/* fuzz_decode.c — libFuzzer target for lib/decode/ni_decode: the first byte
 * is the pcap link type (0..254 as is, 255 = LINKTYPE_LINUX_SLL2 276, which
 * does not fit a byte), the rest is one captured frame.  Checks the decoder's
 * contract: exactly one counter moves per frame, and on success every pointer
 * handed out stays inside the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "decode/ni_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int linktype = data[0] == 255 ? 276 : data[0];
    size_t n = size - 1;
    /* an exactly sized copy, so a read past caplen is an ASan report */
    uint8_t *frame = malloc(n ? n : 1);
    if (!frame) return 0;
    memcpy(frame, data + 1, n);
    ni_stats st;
    memset(&st, 0, sizeof st);
    ni_packet pk;
    ni_decode_result r = ni_decode_frame(linktype, frame, (uint32_t)n, 0, &pk, &st);
    uint64_t moved = st.ip_packets + st.malformed + st.truncated + st.unsupported +
                     st.fragments + st.non_ip;
    if (moved != 1) abort();
    if (r == NI_DECODE_OK) {
        if (st.ip_packets != 1) abort();
        if (pk.payload < frame || pk.payload + pk.payload_len > frame + n) abort();
        if (pk.l3 < frame || pk.l3 + pk.l3_caplen > frame + n) abort();
        if (pk.payload_len > pk.payload_wire_len) abort();
        if (pk.src.family != 4 && pk.src.family != 6) abort();
    } else if (st.ip_packets != 0) {
        abort();
    }
    free(frame);
    return 0;
}
