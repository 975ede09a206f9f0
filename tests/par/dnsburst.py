#!/usr/bin/env python3
"""tests/par/dnsburst.py OUT.pcap — a capture for tests/par/run: rounds of
12,000 DNS flows (the reader's own lane) interleaved with as many TCP flows
(the workers'), each round's flows all expiring at the first packet of the
next, so the reader's lane finishes more sessions at once than
NI_PAR_QUEUE_SOFT while the workers still hold batches."""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def frame(src, dst, sport, dport, payload, proto):
    if proto == 17:
        l4 = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    else:
        l4 = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 0x50, 0x02, 65535, 0, 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return bytes.fromhex('00112233445566778899aabb0800') + ip + l4


def addr(i):
    return bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def main():
    query = bytes.fromhex('123401000001000000000000') + b'\x07example\x03com\x00\x00\x01\x00\x01'
    with open(sys.argv[1], 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        usec = 1700000000 * 1000000

        def put(f):
            out.write(struct.pack('<IIII', usec // 1000000, usec % 1000000, len(f), len(f)) + f)

        for rnd in range(4):
            for i in range(12000):
                put(frame(addr(i + rnd * 20000), b'\x08\x08\x08\x08', 1024 + i, 53, query, 17))
                put(frame(addr(200000 + i), bytes([172, 16, (i >> 8) & 255, i & 255]),
                          40000 + i % 20000, 443, b'', 6))
                usec += 100
            usec += 4000 * 1000000                  # every flow expires at the next packet
        put(frame(addr(1), b'\x08\x08\x08\x08', 999, 53, query, 17))


main()
