/* fuzz_tunnel.c — libFuzzer target for the tunnel detector
 * (lib/dissect/ni_tunnel): the input is split into packets (2-byte length
 * each, the top bit choosing the direction) fed to one flow's state for
 * UDP, TCP, GRE and ESP; the verdict must be a known name or none. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/ni_tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t protos[] = { 17, 6, 47, 50, 51 };
    static const uint16_t ports[][2] = { {40000, 1194}, {500, 500}, {40000, 4500}, {1701, 1701},
                                         {40000, 1723}, {40000, 655}, {51820, 51820} };
    for (size_t pi = 0; pi < sizeof protos; pi++) {
        const uint16_t *pp = ports[(size + pi) % (sizeof ports / sizeof ports[0])];
        ni_tunnel_state st;
        memset(&st, 0, sizeof st);
        size_t off = 0;
        while (off + 2 <= size) {
            unsigned hdr = (unsigned)data[off] << 8 | data[off + 1];
            off += 2;
            int dir = hdr >> 15;
            size_t n = hdr & 0x7fff;
            if (n > size - off) n = size - off;
            if (ni_tunnel_packet(&st, protos[pi], pp[0], pp[1], dir, data + off, n)) break;
            off += n;
        }
        ni_tunnel_proto t = ni_tunnel_protocol(&st, NULL);
        if (t && !ni_tunnel_proto_name(t)) abort();
    }
    return 0;
}
