#!/usr/bin/env python3
"""check.py EXPECT.json OUT.jsonl — compares netintel's sessions with what
tests/proxy/gen.py wrote them to be (see tests/proxy/run)."""
import json, sys

expect = json.load(open(sys.argv[1]))
got = {}
for line in open(sys.argv[2]):
    o = json.loads(line)
    got[o.get('client_port')] = o
passed = failed = 0
direct_ja4 = {}
for e in expect:
    if e.get('direct') and e['port'] in got:
        direct_ja4[e['hello']] = got[e['port']].get('ja4')

def check(name, ok, why):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('  FAIL %s: %s' % (name, why))

for e in expect:
    o = got.get(e['port'])
    n = e['name']
    if o is None:
        check(n, False, 'no session for client port %d' % e['port'])
        continue
    check(n + ' proxy', o.get('proxy') == e['proxy'], 'proxy %r, expected %r' % (o.get('proxy'), e['proxy']))
    check(n + ' proxy_dest', o.get('proxy_dest') == e['proxy_dest'],
          'proxy_dest %r, expected %r' % (o.get('proxy_dest'), e['proxy_dest']))
    if 'ja4' in e:
        check(n + ' ja4', o.get('ja4') == e['ja4'], 'ja4 %r, expected %r' % (o.get('ja4'), e['ja4']))
        if not e.get('direct'):
            check(n + ' ja4 = without preamble', o.get('ja4') == direct_ja4.get(e['hello']),
                  'ja4 %r, the same hello alone %r' % (o.get('ja4'), direct_ja4.get(e['hello'])))
    else:
        check(n + ' no ja4', 'ja4' not in o, 'unexpected ja4 %r' % o.get('ja4'))
    for k in ('http_host', 'user_agent'):
        if k in e:
            check(n + ' ' + k, o.get(k) == e[k], '%s %r, expected %r' % (k, o.get(k), e[k]))
print('proxy: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
