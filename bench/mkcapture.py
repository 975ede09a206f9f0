#!/usr/bin/env python3
"""mkcapture.py — builds the benchmark capture: the third-party corpus
captures (tests/corpus/{ndpi,zeek}) replayed COPIES times one after the
other into one Ethernet pcap of at least --min-mb megabytes.

  mkcapture.py --out FILE --min-mb 300 [--tmp DIR] CAPTURE_DIR...

* pcapng inputs are converted with `editcap -F pcap` first (Wireshark tools).
* Link types: Ethernet is copied; raw IP (101, 12, 14, 228, 229), Linux SLL
  (113) and BSD loopback (0) get an Ethernet header; other link types are
  skipped (and reported).
* Copy i > 0 rewrites every IPv4 address's octets 1-2 (IPv6: bytes 2-3) by
  XOR with i, so each copy's flows are new flows with the same payloads; the
  same function applies to both endpoints, so both directions of a flow stay
  one flow.  The IPv4 header checksum and the TCP/UDP/ICMPv6 checksums are
  adjusted incrementally (RFC 1624) so the packets stay valid.
* Timestamps: each capture is re-based to follow the previous one (1 s gap),
  gaps inside a capture are clamped to [0, 600 s], so the timeline is
  monotonic across captures and copies, as a long live capture would be.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

ETH_IP4, ETH_IP6 = 0x0800, 0x86DD


def read_pcap(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        return None, []
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None, []
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", buf[20:24])[0] & 0x0FFFFFFF
    pkts, off = [], 24
    while off + 16 <= len(buf):
        sec, frac, incl, orig = struct.unpack(e + "IIII", buf[off:off + 16])
        data = buf[off + 16:off + 16 + incl]
        if len(data) < incl:
            break
        us = sec * 1000000 + (frac // 1000 if nano else frac)
        pkts.append((us, orig, data))
        off += 16 + incl
    return linktype, pkts


def to_ethernet(linktype, data):
    """-> (ethernet frame, extra orig-length bytes) or None."""
    def wrap(ip):
        if not ip:
            return None
        v = ip[0] >> 4
        et = ETH_IP4 if v == 4 else ETH_IP6 if v == 6 else None
        if et is None:
            return None
        return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02" + struct.pack(">H", et) + ip
    if linktype == 1:
        return data, 0
    if linktype in (101, 12, 14, 228, 229):
        f = wrap(data)
        return (f, 14) if f else None
    if linktype == 113 and len(data) >= 16:
        et = struct.unpack(">H", data[14:16])[0]
        return (b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02" + data[14:16] + data[16:], -2) \
            if et in (ETH_IP4, ETH_IP6, 0x8100) else None
    if linktype == 0 and len(data) >= 4:
        f = wrap(data[4:])
        return (f, 10) if f else None
    return None


def csum_fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def csum_adjust(cs, old, new):
    """RFC 1624 eq. 3: HC' = ~(~HC + ~m + m') over 16-bit words."""
    s = (~cs) & 0xFFFF
    for i in range(0, len(old), 2):
        m = (old[i] << 8) | old[i + 1]
        m2 = (new[i] << 8) | new[i + 1]
        s += ((~m) & 0xFFFF) + m2
    return (~csum_fold(s)) & 0xFFFF


def rewrite(frame, k):
    """XOR-shift the IP addresses of an Ethernet frame by k (bytearray in place)."""
    if k == 0:
        return frame
    b = bytearray(frame)
    off = 12
    et = struct.unpack(">H", b[off:off + 2])[0] if len(b) >= 14 else 0
    off += 2
    while et in (0x8100, 0x88A8) and len(b) >= off + 4:
        et = struct.unpack(">H", b[off + 2:off + 4])[0]
        off += 4
    if et == 0x8864 and len(b) >= off + 8:   # PPPoE session: PPP protocol 0x0021/0x0057
        ppp = struct.unpack(">H", b[off + 6:off + 8])[0]
        et = ETH_IP4 if ppp == 0x21 else ETH_IP6 if ppp == 0x57 else 0
        off += 8
    hi, lo = (k >> 8) & 0xFF, k & 0xFF
    if et == ETH_IP4 and len(b) >= off + 20 and b[off] >> 4 == 4:
        ihl = (b[off] & 0x0F) * 4
        old = bytes(b[off + 12:off + 20])
        for a in (off + 12, off + 16):
            b[a + 1] ^= hi
            b[a + 2] ^= lo
        new = bytes(b[off + 12:off + 20])
        hc = struct.unpack(">H", b[off + 10:off + 12])[0]
        b[off + 10:off + 12] = struct.pack(">H", csum_adjust(hc, old, new))
        frag = struct.unpack(">H", b[off + 6:off + 8])[0] & 0x1FFF
        proto, l4 = b[off + 9], off + ihl
        if frag == 0:
            fix_l4(b, proto, l4, old, new, v6=False)
    elif et == ETH_IP6 and len(b) >= off + 40 and b[off] >> 4 == 6:
        old = bytes(b[off + 8:off + 40])
        for a in (off + 8, off + 24):
            b[a + 2] ^= hi
            b[a + 3] ^= lo
        new = bytes(b[off + 8:off + 40])
        fix_l4(b, b[off + 6], off + 40, old, new, v6=True)
    return bytes(b)


def fix_l4(b, proto, l4, old, new, v6):
    pos = {6: 16, 17: 6, 58: 2}.get(proto)
    if pos is None or (proto == 58 and not v6) or len(b) < l4 + pos + 2:
        return
    cs = struct.unpack(">H", b[l4 + pos:l4 + pos + 2])[0]
    if proto == 17 and cs == 0:
        return
    cs = csum_adjust(cs, old, new)
    if proto == 17 and cs == 0:
        cs = 0xFFFF
    b[l4 + pos:l4 + pos + 2] = struct.pack(">H", cs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-mb", type=float, default=300)
    ap.add_argument("--tmp", default=None)
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()

    files = []
    for d in a.dirs:
        for root, _, names in os.walk(d):
            files += [os.path.join(root, n) for n in sorted(names)
                      if n.endswith((".pcap", ".pcapng", ".cap"))]
    tmpdir = tempfile.mkdtemp(dir=a.tmp)
    caps, skipped = [], []
    for f in sorted(files):
        conv = os.path.join(tmpdir, "c.pcap")
        r = subprocess.run(["editcap", "-F", "pcap", f, conv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            skipped.append((f, "editcap failed"))
            continue
        lt, pkts = read_pcap(conv)
        os.unlink(conv)
        frames = []
        for us, orig, data in pkts:
            e = to_ethernet(lt, data)
            if e is None:
                continue
            frames.append((us, max(orig + e[1], len(e[0])), e[0]))
        if not frames:
            skipped.append((f, "link type %s" % lt))
            continue
        # re-base: gaps clamped to [0, 600 s] (nDPI's test captures are often
        # spliced from pieces years apart; 600 s exceeds every idle timeout)
        rel, prev, cur = [], frames[0][0], 0
        for us, orig, fr in frames:
            cur += min(max(us - prev, 0), 600 * 1000000)
            prev = us
            rel.append((cur, orig, fr))
        frames = rel
        caps.append((f, frames))
    os.rmdir(tmpdir)
    one = sum(16 + len(fr) for _, fr_ in caps for _, _, fr in fr_)
    if one == 0:
        print("mkcapture: no usable capture", file=sys.stderr)
        return 1
    copies = max(1, int(-(-a.min_mb * 1e6 // one)))
    tmp = a.out + ".tmp"
    t = 1_600_000_000 * 1000000
    npk = 0
    with open(tmp, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i in range(copies):
            for _, frames in caps:
                last = 0
                for us, orig, fr in frames:
                    ts = t + max(us, 0)
                    last = max(last, us)
                    fr2 = rewrite(fr, i)
                    o.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(fr2), orig))
                    o.write(fr2)
                    npk += 1
                t += last + 1000000
    os.replace(tmp, a.out)
    for f, why in skipped:
        print("mkcapture: skipped %s (%s)" % (f, why))
    print("mkcapture: %s: %d captures x %d copies, %d packets, %.1f MB"
          % (a.out, len(caps), copies, npk, os.path.getsize(a.out) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
