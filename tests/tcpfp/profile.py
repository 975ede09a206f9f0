#!/usr/bin/env python3
"""tests/tcpfp/profile.py BIN WORK — the profile's use of the TCP/IP stack
and of sampled flows, on stored sessions (tests/tcpfp/profile-sessions.jsonl:
a Windows User-Agent over a Linux stack, a host with no User-Agent and a
Windows 7 stack, an Android User-Agent over a Linux stack, a flow session
sampled 1 in 4).  tcp_os is recomputed from the stored tcp_fingerprint.
Prints "tcpfp-profile: N passed, N failed"."""
import json, os, subprocess, sys

bin_, work = sys.argv[1:3]
here = os.path.dirname(os.path.abspath(__file__))
fixture = os.path.join(here, 'profile-sessions.jsonl')
passed = failed = 0
def check(ok, msg, detail=''):
    global passed, failed
    if ok: passed += 1; print('ok   ' + msg)
    else: failed += 1; print('FAIL ' + msg + (': ' + str(detail) if detail else ''))

out = os.path.join(work, 'prof')
rc = subprocess.run([bin_, 'profile', '-q', '--target', '10.0.0.0/24', '-o', out, fixture],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
check(rc.returncode == 0, 'profile of stored sessions runs', rc.stderr.strip())
r = json.load(open(os.path.join(out, 'report.json')))
check(r.get('os_stack') == [{'name': 'Windows', 'hosts': 1, 'sessions': 2}],
      'os_stack: the host without a User-Agent, by its stack (family only)', r.get('os_stack'))
check(not any(o['name'] == 'Windows' and o['hosts'] > 1 for o in r['os']),
      'the os section itself still counts User-Agents only', r['os'])
d = r.get('os_disagreements', {})
check(d.get('hosts') == 1 and d.get('compared') == 2, 'os_disagreements: 1 of 2 hosts with both', d)
check(d.get('pairs') == [{'user_agent_os': 'Windows', 'stack_os': 'Linux', 'hosts': 1}],
      'the disagreeing pair: Windows User-Agent over a Linux stack', d.get('pairs'))
check(any(f['section'] == 'software' and '1 of 2 target hosts' in f['text'] for f in r['findings']),
      'a finding in estimative terms', [f['text'] for f in r['findings']])
hosts = {h['address']: h for h in r['hosts']}
check(hosts.get('10.0.0.2', {}).get('tcp_os') == ['Windows'] and 'tcp_os' in hosts.get('10.0.0.1', {}),
      'hosts view: tcp_os of the host', hosts.get('10.0.0.2'))
check(r['totals'].get('sampled_sessions') == 1, 'totals.sampled_sessions counts the sampled session',
      r['totals'])
md = open(os.path.join(out, 'report.md')).read()
html = open(os.path.join(out, 'report.html')).read()
check('**Counts are estimates.**' in md and '<p class="note"><strong>Counts are estimates.</strong>' in html,
      'report.md and report.html say the counts are estimates')
check('OS (from TCP/IP stack)' in md and 'OS (from TCP/IP stack)' in html, 'the stack OS table is rendered')
# without sampled sessions: no note, no sampled_sessions
out2 = os.path.join(work, 'prof2')
exact = os.path.join(work, 'exact.jsonl')
with open(exact, 'w') as f:
    for l in open(fixture):
        if '"sampled"' not in l: f.write(l)
subprocess.run([bin_, 'profile', '-q', '--target', '10.0.0.0/24', '-o', out2, exact],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r2 = json.load(open(os.path.join(out2, 'report.json')))
check('sampled_sessions' not in r2['totals'] and 'Counts are estimates' not in open(os.path.join(out2, 'report.md')).read(),
      'exact counts: no estimate note')
# stored sessions keep their fingerprint; tcp_os is recomputed
rc = subprocess.run([bin_, 'sessions', '-q', fixture], capture_output=True, text=True)
ss = [json.loads(l) for l in rc.stdout.splitlines() if l.strip()]
check(len(ss) == 5 and [s.get('tcp_os') for s in ss[:4]] == ['Linux', 'Windows', 'Windows', 'Linux'] and
      ss[1].get('tcp_os_detail') == '7 or 8' and ss[1].get('tcp_window') == 8192,
      'stored sessions read back: tcp_fingerprint kept, tcp_os recomputed', [(s.get('tcp_os'), s.get('tcp_os_detail')) for s in ss])
print('tcpfp-profile: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
