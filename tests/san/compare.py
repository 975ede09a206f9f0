#!/usr/bin/env python3
"""tests/san/compare.py — netintel's cert_names against tshark on every TLS
server certificate of the nDPI corpus (tests/san/run).

tshark (the oracle) gives, per frame carrying a Certificate handshake
message, the 4-tuple, the first (end-entity) certificate's DER bytes
(tls.handshake.certificate, first occurrence) and every dNSName of the
message (x509ce.dNSName, all certificates of the chain in order).  The
end-entity certificate's subjectAltName is read from its DER with Python's
cryptography package; its dNSNames must be the first entries of tshark's
list (the two oracles agree).  The expected cert_names is then its dNSName
(lower-cased) and iPAddress entries in order, at most 32 (NI_CERT_NAMES_MAX).

Rules: every session netintel gave a cert_subject for a flow where tshark
saw a certificate must carry exactly the expected cert_names (absent when
none); and netintel must have read the certificate (cert_subject) of at
least 90 % of the TLS <= 1.2 certificates tshark saw (the rest are beyond
the reassembly limits or on flows netintel does not read as TLS).
Prints "san: N passed, N failed".
Usage: compare.py NETINTEL CORPUS_DIR
"""
import json, os, subprocess, sys
from cryptography import x509

NAMES_MAX = 32

def expected(der):
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    out, dns = [], []
    for g in san:
        if isinstance(g, x509.DNSName):
            out.append(g.value.lower()); dns.append(g.value)
        elif isinstance(g, x509.IPAddress):
            out.append(str(g.value))
    return out[:NAMES_MAX], dns

def main():
    bin_, corpus = sys.argv[1:3]
    passed = failed = 0
    def check(ok, what):
        nonlocal passed, failed
        if ok: passed += 1
        else:
            failed += 1
            print("FAIL", what)
    seen = read = certs_with_names = 0
    for cap in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, cap)
        t = subprocess.run(["tshark", "-n", "-r", path, "-Y", "tls.handshake.certificate",
                            "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=;",
                            "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst",
                            "-e", "tcp.dstport", "-e", "tls.handshake.certificate", "-e", "x509ce.dNSName"],
                           capture_output=True, text=True)
        want = {}
        for line in t.stdout.splitlines():
            f = line.split("\t")
            if len(f) < 8 or not f[6]:
                continue
            src, dst = f[0] or f[1], f[3] or f[4]
            key = (dst, f[5], src, f[2])                 # client, client port, server, server port
            if key in want:
                continue                                 # the first certificate message of the flow
            der = bytes.fromhex(f[6].split(";")[0].replace(":", ""))
            try:
                names, dns = expected(der)
            except Exception as e:                       # not parseable by cryptography: no oracle
                print(f"  {cap}: certificate not read by cryptography ({e.__class__.__name__}), skipped")
                continue
            tshark_dns = [x for x in f[7].split(";") if x]
            check(tshark_dns[:len(dns)] == dns, f"{cap} {key}: tshark {tshark_dns[:len(dns)]} vs DER {dns}")
            want[key] = names
        if not want:
            continue
        out = subprocess.run([bin_, "sessions", "-q", "--no-ndpi", path], capture_output=True, text=True)
        got = {}
        for line in out.stdout.splitlines():
            s = json.loads(line)
            key = (s.get("client"), str(s.get("client_port")), s.get("server"), str(s.get("server_port")))
            got.setdefault(key, s)
        for key, names in want.items():
            seen += 1
            certs_with_names += bool(names)
            s = got.get(key)
            if not s or not s.get("cert_subject"):
                continue
            read += 1
            check(s.get("cert_names", []) == names,
                  f"{cap} {key}: cert_names {s.get('cert_names')} want {names}")
    print(f"  san: {seen} certificates seen by tshark ({certs_with_names} with names), {read} read by netintel")
    check(seen > 0 and certs_with_names > 0, "the corpus has certificates with subjectAltNames")
    check(read * 10 >= seen * 9, f"netintel read {read} of {seen} certificates (< 90 %)")
    print(f"san: {passed} passed, {failed} failed")
    return 1 if failed else 0

sys.exit(main())
