#!/usr/bin/env python3
"""tests/tcpfp/compare.py WORK P0F_FP TCP_OS_TSV — compares p0f's SYN
observations (WORK/<capture>.p0f) with netintel's sessions of the same
captures (WORK/full.jsonl: with data/tcp-os.tsv; WORK/p0f.jsonl: without its
signature rows).  See tests/tcpfp/run."""
import glob, ipaddress, json, os, sys

work, fp_path, tsv_path = sys.argv[1:4]
THRESHOLD = 0.99

# p0f's labels as it prints them ("name flavor") -> (name, flavor)
labels = {}
section = None
for line in open(fp_path, encoding='utf-8', errors='replace'):
    line = line.strip()
    if line.startswith('['):
        section = line
    elif section == '[tcp:request]' and line.startswith('label') and '=' in line:
        v = line.split('=', 1)[1].strip()
        _typ, _cls, name, flavor = v.split(':', 3)
        labels[name + (' ' + flavor if flavor else '')] = (name, flavor or None)

fam, sig_rows = {}, set()
for line in open(tsv_path, encoding='utf-8'):
    if line.startswith('#') or line.startswith('kind\t') or not line.strip():
        continue
    kind, match, family, detail, _stack, _src = line.rstrip('\n').split('\t')
    if kind == 'p0f':
        fam[match] = family
    elif kind == 'sig':
        sig_rows.add((family, detail or None))

def family_of(name, flavor):
    return fam.get('%s:%s' % (name, flavor or ''), fam.get(name, name))

def addr(a):
    return str(ipaddress.ip_address(a))

def sessions(path):
    out = {}
    for l in open(path):
        o = json.loads(l)
        if 'tcp_fingerprint' in o:
            out.setdefault((o['client'], o['client_port'], o['server'], o['server_port']), []).append(o)
    return out

n = sig_ok = os_ok = full_ok = 0
missing = []
sig_diff, os_diff, full_diff = [], [], []
explained = {}
full = sessions(os.path.join(work, 'full.jsonl'))
p0fdb = sessions(os.path.join(work, 'p0f.jsonl'))
for log in sorted(glob.glob(os.path.join(work, '*.p0f'))):
    cap = os.path.basename(log)[:-4]
    for line in open(log, errors='replace'):
        if '|mod=syn|' not in line and '] mod=syn|' not in line:
            continue
        d = dict(x.split('=', 1) for x in line.rstrip('\n').split('] ', 1)[1].split('|'))
        c, cp = d['cli'].rsplit('/', 1)
        s, sp = d['srv'].rsplit('/', 1)
        key = (addr(c), int(cp), addr(s), int(sp))
        n += 1
        cand, candp = full.get(key, []), p0fdb.get(key, [])
        if not cand or not candp:
            missing.append((cap, d['cli'], d['raw_sig']))
            continue
        o = next((x for x in cand if x['tcp_fingerprint'] == d['raw_sig']), None)
        op = next((x for x in candp if x['tcp_fingerprint'] == d['raw_sig']), None)
        if o is None or op is None:
            sig_diff.append((cap, d['cli'], d['raw_sig'], cand[0]['tcp_fingerprint']))
            continue
        sig_ok += 1
        # p0f's verdict as netintel writes it
        os_label = d.get('os', '???')
        if os_label == '???' or 'app' in d:
            want = (None, None)
        else:
            name, flavor = labels.get(os_label, (os_label, None))
            want = (family_of(name, flavor), flavor)
        got_p = (op.get('tcp_os'), op.get('tcp_os_detail'))
        if got_p == want:
            os_ok += 1
        else:
            os_diff.append((cap, d['cli'], d['raw_sig'], os_label, got_p))
        got = (o.get('tcp_os'), o.get('tcp_os_detail'))
        params = d.get('params', '')
        if got == want:
            full_ok += 1
        elif got in sig_rows and (want == (None, None) or 'generic' in params or 'fuzzy' in params):
            full_ok += 1
            k = (os_label + (' [' + params + ']' if params != 'none' else ''), '%s %s' % got)
            explained[k] = explained.get(k, 0) + 1
        else:
            full_diff.append((cap, d['cli'], d['raw_sig'], os_label, params, got))

passed = failed = 0
def check(ok, msg):
    global passed, failed
    if ok:
        passed += 1; print('ok   ' + msg)
    else:
        failed += 1; print('FAIL ' + msg)

for m in missing[:10]:
    print('  no netintel session with a fingerprint: %s %s %s' % m)
for m in sig_diff[:10]:
    print('  raw_sig differs: %s %s p0f %s netintel %s' % m)
for m in os_diff[:10]:
    print('  os differs (p0f database only): %s %s %s p0f %s netintel %s' % m)
for m in full_diff[:10]:
    print('  os differs, not explained by data/tcp-os.tsv: %s %s %s p0f %s [%s] netintel %s' % m)
for (p, g), k in sorted(explained.items()):
    print('  known difference (data/tcp-os.tsv refines p0f): %d SYN(s) p0f "%s" -> netintel "%s"' % (k, p, g))
check(n > 0, 'p0f logged %d client SYNs in the corpus' % n)
check(n and sig_ok >= THRESHOLD * n,
      'tcp_fingerprint = p0f raw_sig: %d/%d (%.2f %%)' % (sig_ok, n, 100.0 * sig_ok / max(n, 1)))
check(n and os_ok >= THRESHOLD * sig_ok,
      'tcp_os = p0f os (p0f database only): %d/%d (%.2f %%)' % (os_ok, sig_ok, 100.0 * os_ok / max(sig_ok, 1)))
check(not full_diff,
      'tcp_os with data/tcp-os.tsv: %d/%d equal to p0f or refined by a catalogue signature' % (full_ok, sig_ok))
print('tcpfp: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
