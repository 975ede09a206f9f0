#!/usr/bin/env python3
"""flood.py — writes a SYN-flood capture for the memory bound of issue 11:
one TCP SYN per distinct outside address, as an Ethernet pcap, with valid
IPv4 and TCP checksums (RFC 791, RFC 9293 §3.1 pseudo-header).

  flood.py -o FILE [--sources N] [--direction in|out] [--targets T] [--pps R]

* --direction in (default): N distinct outside sources send one SYN each to
  the first T addresses (default and at most 1,024) of the target space
  175.45.176.0/22 (the `kp` preset), in turn, ports 80 and 443: every
  source is a new flow and a new inbound visitor.
* --direction out: those T target addresses send one SYN each to N
  distinct outside addresses (a scan from inside): every destination is a
  new flow.
* Outside addresses walk 1.0.0.1 upwards in steps of 1,237 (covering the
  unicast IPv4 space for N = 3,000,000), so they fall in many countries.
* Timestamps start at 2024-03-04T00:00:00Z, R packets a second (default
  1,000: 3,000,000 SYNs span 50 minutes, longer than the TCP idle timeout,
  so the flow table both expires and evicts).

Python standard library only; 3,000,000 SYNs (210 MB) take about 30 s.
"""
import argparse
import struct
import sys

TARGET_BASE = (175 << 24) | (45 << 16) | (176 << 8)   # 175.45.176.0/22
TARGETS = 1024
OUTSIDE_BASE = (1 << 24) | 1                           # 1.0.0.1
OUTSIDE_STEP = 1237
T0 = 1709510400                                        # 2024-03-04T00:00:00Z


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def words(a):
    return (a >> 16) + (a & 0xFFFF)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--sources", type=int, default=3000000)
    ap.add_argument("--direction", choices=("in", "out"), default="in")
    ap.add_argument("--targets", type=int, default=TARGETS)
    ap.add_argument("--pps", type=int, default=1000)
    a = ap.parse_args()
    if a.sources < 1 or a.sources * OUTSIDE_STEP >= (223 << 24) or a.pps < 1 or not 1 <= a.targets <= TARGETS:
        sys.exit("flood.py: --sources must be 1..%d, --targets 1..%d, --pps positive"
                 % ((223 << 24) // OUTSIDE_STEP, TARGETS))

    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    # IPv4 header without addresses and checksum: version/IHL, TOS, length 40,
    # id, DF, TTL 64, TCP
    ip_fixed = fold(0x4500 + 40 + 0x4000 + (64 << 8 | 6))
    # TCP: SYN, window 64240, data offset 5; pseudo-header: proto 6, length 20
    tcp_fixed = fold(0x5002 + 64240 + 6 + 20)
    rec = struct.Struct("<IIII")
    pkt = struct.Struct("!BBHHHBBHII" "HHIIBBHHH")
    out = open(a.out, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    buf = bytearray()
    for i in range(a.sources):
        outside = OUTSIDE_BASE + i * OUTSIDE_STEP
        target = TARGET_BASE + (i % a.targets)
        if a.direction == "in":
            src, dst, sport, dport = outside, target, 1024 + i % 64000, 443 if i & 1 else 80
        else:
            src, dst, sport, dport = target, outside, 1024 + i % 64000, 443 if i & 1 else 80
        ipid = i & 0xFFFF
        seq = (i * 2654435761) & 0xFFFFFFFF
        ipsum = 0xFFFF - fold(ip_fixed + ipid + words(src) + words(dst))
        tsum = 0xFFFF - fold(tcp_fixed + words(src) + words(dst) + sport + dport + words(seq))
        t = i // a.pps
        us = (i % a.pps) * (1000000 // a.pps)
        buf += rec.pack(T0 + t, us, 54, 54)
        buf += eth
        buf += pkt.pack(0x45, 0, 40, ipid, 0x4000, 64, 6, ipsum, src, dst,
                        sport, dport, seq, 0, 0x50, 0x02, 64240, tsum, 0)
        if len(buf) > 1 << 20:
            out.write(buf)
            buf.clear()
    out.write(buf)
    out.close()


if __name__ == "__main__":
    main()
