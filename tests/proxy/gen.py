#!/usr/bin/env python3
"""gen.py OUT.pcap EXPECT.json — a capture of TCP sessions that start with a
proxy preamble (SOCKS 4/4A/5, HTTP CONNECT) followed by a TLS ClientHello or
an HTTP request, the same hellos without a preamble, and what netintel must
report for each (keyed by client port).  Standard library only.

The expected JA4 is computed here from FoxIO's published definition
(technical_details/JA4.md): GREASE (RFC 8701) ignored everywhere; version =
highest supported_versions value, else the hello's version; 'd' when the
server_name extension is present; two-digit cipher and extension counts
(capped at 99); the first and last characters of the first ALPN value, or,
when either byte is not ASCII alphanumeric, the first and last characters of
that value's hex form; sha256 of the sorted ciphers and of the sorted
extensions without 0000/0010, then '_' and the signature algorithms in wire
order, first 12 hex digits ("000000000000" for an empty list)."""
import hashlib, json, socket, struct, sys

GREASE = {0x0a0a + 0x1010 * i for i in range(16)}

def u8(v): return struct.pack('!B', v)
def u16(v): return struct.pack('!H', v)

def client_hello(sni, alpn, ciphers, sigalgs, versions, extra_exts, legacy=0x0303):
    """A TLS record holding one ClientHello.  extra_exts: extension types
    sent empty (GREASE included), in order after the others."""
    exts = []
    if sni is not None:
        name = sni.encode()
        body = u16(len(name) + 3) + u8(0) + u16(len(name)) + name
        exts.append((0x0000, body))
    if alpn is not None:
        lst = b''.join(u8(len(a)) + a for a in alpn)
        exts.append((0x0010, u16(len(lst)) + lst))
    if sigalgs:
        lst = b''.join(u16(s) for s in sigalgs)
        exts.append((0x000d, u16(len(lst)) + lst))
    if versions:
        lst = b''.join(u16(v) for v in versions)
        exts.append((0x002b, u8(len(lst)) + lst))
    for t in extra_exts:
        exts.append((t, b'\x00' if t in GREASE else b''))
    ext_bytes = b''.join(u16(t) + u16(len(b)) + b for t, b in exts)
    cs = b''.join(u16(c) for c in ciphers)
    body = u16(legacy) + bytes(range(32)) + u8(0) + u16(len(cs)) + cs + u8(1) + u8(0) \
        + u16(len(ext_bytes)) + ext_bytes
    hs = u8(1) + struct.pack('!I', len(body))[1:] + body
    rec = u8(22) + u16(0x0301) + u16(len(hs)) + hs
    ja4 = ja4_of(sni is not None, alpn, ciphers, [t for t, _ in exts], sigalgs, versions, legacy)
    return rec, ja4

def ja4_of(has_sni, alpn, ciphers, ext_types, sigalgs, versions, legacy):
    vs = [v for v in versions if v not in GREASE]
    v = max(vs) if vs else legacy
    vcode = {0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3',
             0x0002: 's2', 0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3'}.get(v, '00')
    cs = [c for c in ciphers if c not in GREASE]
    es = [e for e in ext_types if e not in GREASE]
    def alnum(b): return 0x30 <= b <= 0x39 or 0x41 <= b <= 0x5a or 0x61 <= b <= 0x7a
    if not alpn or not alpn[0]:
        a = '00'
    elif alnum(alpn[0][0]) and alnum(alpn[0][-1]):
        a = chr(alpn[0][0]) + chr(alpn[0][-1])
    else:
        h = alpn[0].hex()
        a = h[0] + h[-1]
    def h12(s): return hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h12(','.join('%04x' % c for c in sorted(cs))) if cs else '000000000000'
    ex = sorted(e for e in es if e not in (0x0000, 0x0010))
    sa = [s for s in sigalgs if s not in GREASE]
    c = ','.join('%04x' % e for e in ex)
    if sa: c += '_' + ','.join('%04x' % s for s in sa)
    c = h12(c) if ex else '000000000000'
    return 't%s%s%02d%02d%s_%s_%s' % (vcode, 'd' if has_sni else 'i', min(len(cs), 99), min(len(es), 99), a, b, c)

# ---- a pcap writer: Ethernet, IPv4, TCP --------------------------------------

def csum(b):
    if len(b) % 2: b += b'\x00'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

class Pcap:
    def __init__(self):
        self.out = bytearray(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.t = 1700000000.0
    def frame(self, src, dst, sport, dport, seq, ack, flags, payload):
        tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack('!H', csum(ph + tcp)) + tcp[18:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        eth = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00'
        pkt = eth + ip + tcp
        self.t += 0.001
        sec = int(self.t); usec = int(round((self.t - sec) * 1e6))
        self.out += struct.pack('<IIII', sec, usec, len(pkt), len(pkt)) + pkt

def conversation(pc, cport, steps, client='10.1.0.5', server='192.0.2.80', sport=1080):
    """steps: (dir, bytes) in order; dir 0 = client → server."""
    cs, ss = 1000, 5000
    pc.frame(client, server, cport, sport, cs, 0, 0x02, b''); cs += 1
    pc.frame(server, client, sport, cport, ss, cs, 0x12, b''); ss += 1
    pc.frame(client, server, cport, sport, cs, ss, 0x10, b'')
    for d, data in steps:
        for off in range(0, len(data), 1400):
            seg = data[off:off + 1400]
            if d == 0:
                pc.frame(client, server, cport, sport, cs, ss, 0x18, seg); cs += len(seg)
            else:
                pc.frame(server, client, sport, cport, ss, cs, 0x18, seg); ss += len(seg)
    pc.frame(client, server, cport, sport, cs, ss, 0x11, b''); cs += 1
    pc.frame(server, client, sport, cport, ss, cs, 0x11, b''); ss += 1
    pc.frame(client, server, cport, sport, cs, ss, 0x10, b'')

def main():
    pcap_path, expect_path = sys.argv[1], sys.argv[2]
    chrome_ciphers = [0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                      0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
    sig = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    extra = [0x3a3a, 0x0033, 0x0017, 0x002d, 0x0005, 0x0023, 0x0012, 0xff01, 0x000b, 0x000a, 0x001b, 0x4469]
    hellos = {
        'h2': client_hello('www.example.com', [b'h2', b'http/1.1'], chrome_ciphers, sig, [0x5a5a, 0x0304, 0x0303], extra),
        'http11': client_hello('api.example.net', [b'http/1.1'], chrome_ciphers[1:], sig, [0x0304, 0x0303], extra[1:]),
        'nonalnum': client_hello('odd.example.org', [b'\xabxy\xcd', b'h2'], [0x1301, 0xc02f], [0x0403], [0x0304], [0x0033]),
        'digit_hex': client_hello('digit.example.org', [b'\x30\xab'], [0x1301], [], [0x0304], [0x0033, 0x002d]),
        'noalpn_nosni': client_hello(None, None, [0xc02f, 0x009c, 0x2a2a], sig[:3], [], [0x000a, 0x000b], legacy=0x0303),
        'alnum_inner': client_hello('x.example', [b'\x30\xab\xcd\x31'], [0x1301, 0x1302], sig, [0x0304], [0x0033]),
    }
    pc = Pcap()
    expect = []
    port = 40000
    def case(name, steps, proxy=None, dest=None, hello=None, host=None, ua=None, direct=True):
        nonlocal port
        port += 1
        conversation(pc, port, steps + ([(0, hellos[hello][0]), (1, b'\x16\x03\x03\x00\x04\x0e\x00\x00\x00')] if hello else []))
        e = {'name': name, 'port': port, 'proxy': proxy, 'proxy_dest': dest}
        if hello:
            e['ja4'] = hellos[hello][1]
            e['hello'] = hello
        if host: e['http_host'] = host
        if ua: e['user_agent'] = ua
        expect.append(e)

    # each hello once without a preamble: netintel's own JA4 of the same bytes
    for h in hellos:
        case('direct-' + h, [], hello=h)
        expect[-1]['direct'] = True
    # SOCKS 4: CONNECT to an IPv4 address, user id "alice"
    s4 = b'\x04\x01' + u16(443) + socket.inet_aton('93.184.216.34') + b'alice\x00'
    case('socks4', [(0, s4), (1, b'\x00\x5a' + u16(443) + socket.inet_aton('93.184.216.34'))],
         'socks4', '93.184.216.34:443', 'h2')
    # SOCKS 4A: 0.0.0.1 and a host name
    s4a = b'\x04\x01' + u16(8443) + b'\x00\x00\x00\x01' + b'\x00' + b'secure.example.org\x00'
    case('socks4a', [(0, s4a), (1, b'\x00\x5a' + b'\x00' * 6)], 'socks4', 'secure.example.org:8443', 'http11')
    # SOCKS 5, no authentication, IPv4
    rq = b'\x05\x01\x00\x01' + socket.inet_aton('198.51.100.7') + u16(443)
    rp = b'\x05\x00\x00\x01' + socket.inet_aton('0.0.0.0') + u16(0)
    case('socks5-ipv4', [(0, b'\x05\x01\x00'), (1, b'\x05\x00'), (0, rq), (1, rp)],
         'socks5', '198.51.100.7:443', 'nonalnum')
    # SOCKS 5, username/password (RFC 1929), a name
    name = b'tls.example.com'
    rq = b'\x05\x01\x00\x03' + u8(len(name)) + name + u16(443)
    case('socks5-auth-name', [(0, b'\x05\x02\x00\x02'), (1, b'\x05\x02'), (0, b'\x01\x03bob\x06secret'),
                              (1, b'\x01\x00'), (0, rq), (1, rp)], 'socks5', 'tls.example.com:443', 'digit_hex')
    # SOCKS 5, IPv6 destination, reply with an IPv6 bound address
    v6 = socket.inet_pton(socket.AF_INET6, '2001:db8::10')
    rq = b'\x05\x01\x00\x04' + v6 + u16(443)
    rp6 = b'\x05\x00\x00\x04' + v6 + u16(50000)
    case('socks5-ipv6', [(0, b'\x05\x01\x00'), (1, b'\x05\x00'), (0, rq), (1, rp6)],
         'socks5', '[2001:db8::10]:443', 'noalpn_nosni')
    # SOCKS 5 sent all at once (greeting, request, hello in one segment)
    rq = b'\x05\x01\x00\x01' + socket.inet_aton('203.0.113.9') + u16(443)
    conv = [(0, b'\x05\x01\x00' + rq + hellos['alnum_inner'][0]), (1, b'\x05\x00' + rp)]
    port += 1
    conversation(pc, port, conv)
    expect.append({'name': 'socks5-pipelined', 'port': port, 'proxy': 'socks5', 'proxy_dest': '203.0.113.9:443',
                   'ja4': hellos['alnum_inner'][1], 'hello': 'alnum_inner'})
    # HTTP CONNECT: a 407 with a body, the CONNECT again with credentials, 200, TLS
    c1 = b'CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\nUser-Agent: curl/8.5.0\r\n\r\n'
    r1 = b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 5\r\n\r\ndeny\n'
    c2 = c1[:-2] + b'Proxy-Authorization: Basic Ym9iOnNlY3JldA==\r\n\r\n'
    r2 = b'HTTP/1.1 200 Connection established\r\n\r\n'
    case('http-connect', [(0, c1), (1, r1), (0, c2), (1, r2)], 'http-connect', 'www.example.com:443', 'h2',
         host='www.example.com', ua='curl/8.5.0')
    # plain HTTP through CONNECT: the CONNECT's Host and UA, then the GET's
    c = b'CONNECT plain.example.net:80 HTTP/1.1\r\nHost: plain.example.net:80\r\nUser-Agent: Wget/1.21\r\n\r\n'
    g = b'GET /index.html HTTP/1.1\r\nHost: plain.example.net\r\nUser-Agent: Wget/1.21\r\n\r\n'
    case('http-connect-plain', [(0, c), (1, r2), (0, g), (1, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
         'http-connect', 'plain.example.net:80', host='plain.example.net', ua='Wget/1.21')
    # plain HTTP through SOCKS 5
    rq = b'\x05\x01\x00\x03' + u8(len(b'web.example')) + b'web.example' + u16(80)
    g = b'GET / HTTP/1.1\r\nHost: web.example\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n\r\n'
    case('socks5-http', [(0, b'\x05\x01\x00'), (1, b'\x05\x00'), (0, rq), (1, rp), (0, g)],
         'socks5', 'web.example:80', host='web.example', ua='Mozilla/5.0 (X11; Linux x86_64)')
    # a refused SOCKS 5 request: recorded, nothing after it
    rq = b'\x05\x01\x00\x01' + socket.inet_aton('198.51.100.8') + u16(25)
    case('socks5-refused', [(0, b'\x05\x01\x00'), (1, b'\x05\x00'), (0, rq), (1, b'\x05\x02\x00\x01' + b'\x00' * 6)],
         'socks5', '198.51.100.8:25')
    with open(pcap_path, 'wb') as f: f.write(pc.out)
    with open(expect_path, 'w') as f: json.dump(expect, f, indent=1)

main()
