#!/usr/bin/env python3
"""check.py NETINTEL TRUTH.json WORKDIR — see tests/hostgraph/run."""
import json, math, os, re, subprocess, sys
import xml.etree.ElementTree as ET

ni, truth_path, work = sys.argv[1:4]
SVG = '{http://www.w3.org/2000/svg}'
H_MAX, P_MAX = 31, 35
passed = failed = 0

def check(name, ok, why=''):
    global passed, failed
    if ok: passed += 1
    else:
        failed += 1
        print('  FAIL %s%s' % (name, ': ' + why if why else ''))

# Known hosts: 45 hosts with VPN use, 5 without; 42 providers.  Host i uses
# providers (i % 42) and ((3 * i + 7) % 42) and, for every fifth host, "Tor";
# sessions and evidence vary with i.
KINDS = [['tunnel'], ['endpoint', 'site'], ['site'], ['tunnel', 'endpoint'], ['endpoint']]
hosts = []
for i in range(50):
    vpn = []
    if i < 45:
        for k, p in enumerate(sorted({i % 42, (3 * i + 7) % 42})):
            vpn.append({'provider': 'Provider %02d' % p, 'evidence': KINDS[(i + k) % 5], 'sessions': 1 + (i * 7 + p) % 60})
        if i % 5 == 0:
            vpn.append({'provider': 'Tor <&> "proxy"', 'evidence': ['tunnel'], 'sessions': 100 + i})
    hosts.append({'address': '10.9.%d.%d' % (i // 200, i + 1), 'first_seen': '2024-01-01T00:00:00Z',
                  'last_seen': '2024-01-02T00:00:00Z', 'sessions': 1000 - i, 'makers': [], 'models': [],
                  'os': [], 'browsers': [], 'services': [], 'vpn': vpn})

def expected(hosts):
    tot = {}
    for h in hosts:
        for v in h['vpn']:
            tot[v['provider']] = tot.get(v['provider'], 0) + v.get('sessions', 1)
    provs = sorted(tot, key=lambda p: (-tot[p], p))
    shown_p = provs[:P_MAX]
    left, edges = [], []
    for h in hosts:
        if len(left) >= H_MAX: break
        es = []
        for v in h['vpn']:
            if v['provider'] in shown_p:
                style = min(['tunnel', 'endpoint', 'site'].index(e) for e in v['evidence'])
                es.append((h['address'], v['provider'], v.get('sessions', 1), ['tunnel', 'endpoint', 'site'][style]))
        if es:
            left.append(h['address'])
            edges += es
    vpn_hosts = sum(1 for h in hosts if h['vpn'])
    return left, shown_p, edges, vpn_hosts - len(left), len(provs) - len(shown_p)

def render(doc, name):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'in.json'), 'w') as f: json.dump(doc, f)
    r = subprocess.run([ni, 'report', os.path.join(d, 'in.json'), '-o', d], capture_output=True, text=True)
    check(name + ': netintel report exits 0', r.returncode == 0, r.stderr.strip())
    html = open(os.path.join(d, 'report.html'), encoding='utf-8').read() if r.returncode == 0 else ''
    md = open(os.path.join(d, 'report.md'), encoding='utf-8').read() if r.returncode == 0 else ''
    return html, md

def figure(html):
    m = re.search(r'<figure id="fig-host-providers".*?</figure>', html, re.S)
    if not m: return None, None
    fig = m.group(0)
    s = re.search(r'<svg.*?</svg>', fig, re.S)
    return fig, s.group(0) if s else None

def verify(name, hosts_in):
    doc = json.load(open(truth_path))
    doc['hosts'] = hosts_in
    html, md = render(doc, name)
    left, right, edges, more_h, more_p = expected(hosts_in)
    fig, svg = figure(html)
    check(name + ': the figure is in report.html', fig is not None and svg is not None)
    if not svg: return html
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as e:
        check(name + ': the SVG is well-formed XML', False, str(e)); return html
    check(name + ': the SVG is well-formed XML', True)
    title = root.find(SVG + 'title')
    check(name + ': the SVG has a <title>', title is not None and bool((title.text or '').strip()))
    def nodes(cls):
        return [g.find(SVG + 'title').text for g in root.iter(SVG + 'g') if g.get('class') == cls]
    check(name + ': host nodes, in report order', nodes('node left') == left,
          '%r != %r' % (nodes('node left')[:5], left[:5]))
    check(name + ': provider nodes, by sessions', nodes('node right') == right,
          '%r != %r' % (nodes('node right')[:5], right[:5]))
    got = [(p.get('data-from'), p.get('data-to'), int(p.get('data-weight')), p.get('data-style'))
           for p in root.iter(SVG + 'path') if p.get('class') == 'edge']
    check(name + ': edges (host, provider, sessions, evidence)', got == edges,
          'got %d edges, expected %d; first difference %r' % (len(got), len(edges),
          next(((a, b) for a, b in zip(got, edges) if a != b), None)))
    paths = [p for p in root.iter(SVG + 'path') if p.get('class') == 'edge']
    check(name + ': every edge has a <title> naming both ends',
          all(p.find(SVG + 'title') is not None and p.get('data-from') in p.find(SVG + 'title').text
              and p.get('data-to') in p.find(SVG + 'title').text for p in paths))
    by_w = sorted((int(p.get('data-weight')), float(p.get('stroke-width'))) for p in paths)
    check(name + ': width grows with sessions', all(b[1] >= a[1] for a, b in zip(by_w, by_w[1:])) and
          (len({w for w, _ in by_w}) < 2 or by_w[-1][1] > by_w[0][1]))
    strokes = {}
    for p in paths: strokes.setdefault(p.get('data-style'), set()).add((p.get('stroke'), p.get('stroke-dasharray')))
    check(name + ': one stroke per evidence kind, distinct',
          all(len(v) == 1 for v in strokes.values()) and len({next(iter(v)) for v in strokes.values()}) == len(strokes))
    more = [t.text for t in root.iter(SVG + 'text') if t.get('class') == 'more']
    want_more = (['and %d more hosts' % more_h] if more_h else []) + (['and %d more providers' % more_p] if more_p else [])
    check(name + ': "and K more" lines', more == want_more, '%r != %r' % (more, want_more))
    legend = [g for g in root.iter(SVG + 'g') if g.get('class') == 'legend']
    ltext = [t.text for t in legend[0].iter(SVG + 'text')] if legend else []
    check(name + ': legend names tunnel, endpoint, site', ltext[:3] == ['tunnel', 'endpoint', 'site'], repr(ltext))
    td = r'<td(?: class="n")?>([^<]*)</td>'
    rows = re.findall('<tr>' + td * 4 + '</tr>', fig)
    unesc = lambda s: s.replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"').replace('&#39;', "'").replace('&amp;', '&')
    trows = [(unesc(a), unesc(b), int(d.replace(',', ''))) for a, b, c, d in rows]
    check(name + ': the table lists the links (text alternative)', trows == [(a, b, w) for a, b, w, _ in edges][:50],
          '%d rows' % len(trows))
    check(name + ': report.md has the figure\'s caption and table', 'VPN and proxy providers they used' in md
          and '| host | provider | evidence | sessions |' in md)
    return html

h1 = verify('known hosts', hosts)
old = [dict(h, vpn=[{k: v for k, v in x.items() if k != 'sessions'} for x in h['vpn']]) for h in hosts[:12]]
verify('without sessions', old)
# deterministic: the same document, the same bytes
doc = json.load(open(truth_path)); doc['hosts'] = hosts
h2, _ = render(doc, 'again')
check('deterministic', h1 == h2 and h1 != '')
# few hosts: no "more" lines
verify('two hosts', hosts[:2])
print('hostgraph: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
