#!/usr/bin/env python3
"""keys.py — writes sessions (JSON Lines, docs/sessions.md) with far more
distinct names than the profile's tables keep, and heavy hitters planted
late, for the top-N bound of issue 11 (tests/memory/run, bench/README.md):

  keys.py -o FILE [--noise N] [--truth TRUTH.json]

* N inbound sessions (default 200,000), each from a new outside visitor to a
  new site name (TLS SNI n<i>.noise.kp): N distinct sites and visitors;
* N outbound sessions from the 1,024 first addresses of the `kp` target
  space (175.45.176.0/22), each with a new User-Agent: a new Google model
  (Pixel 1000000+i) and a new Chrome major version, so N distinct models,
  browser versions and builds (unknown Samsung codes such as SM-Z123456
  would do as well but parse about 10 times slower);
* then, at the end of the stream, the heavy hitters: 5 sites (3,000, 2,500,
  2,000, 1,500 and 1,000 sessions, each visitor visiting twice) and 3 models
  (2,000, 1,500 and 1,000 sessions from 100 target hosts each), with a new
  noise site and a new noise model after every 10th heavy session.
--truth writes the planted figures (sessions and visitors or hosts per
name, all sessions) as JSON for the test to compare.

Python standard library only; the default (about 435,000 sessions, 120 MB)
takes about 5 s.
"""
import argparse
import json

T0 = 1709510400                                 # 2024-03-04T00:00:00Z
TARGET = (175 << 24) | (45 << 16) | (176 << 8)  # 175.45.176.0/22
OUTSIDE = (1 << 24) | 1                         # 1.0.0.1, stepping 1,237 (many countries)
STEP = 1237
HEAVY_SITES = [("heavy%d.kp" % (i + 1), n) for i, n in enumerate((3000, 2500, 2000, 1500, 1000))]
HEAVY_MODELS = [("Pixel %d" % (71 + i), n) for i, n in enumerate((2000, 1500, 1000))]
UA = ("Mozilla/5.0 (Linux; Android 13; %s) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/%d.0.%d.1 Mobile Safari/537.36")


def ip(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)



class W:
    def __init__(self, f):
        self.f, self.t, self.n = f, 0, 0

    def when(self):
        s = T0 + self.t // 10
        self.t += 1
        d, r = divmod(s - T0, 86400)
        h, r = divmod(r, 3600)
        m, sec = divmod(r, 60)
        return "2024-03-%02dT%02d:%02d:%02d.000000Z" % (4 + d, h, m, sec)

    def inbound(self, visitor, site):
        w = self.when()
        self.f.write('{"first":"%s","last":"%s","client":"%s","server":"175.45.176.1","proto":6,'
                     '"client_port":40000,"server_port":443,"sni":"%s"}\n' % (w, w, ip(visitor), site))
        self.n += 1

    def outbound(self, host, ua):
        w = self.when()
        self.f.write('{"first":"%s","last":"%s","client":"%s","server":"8.8.4.4","proto":6,"client_port":40000,'
                     '"server_port":80,"http":[{"method":"GET","host":"example.com","user_agent":"%s"}]}\n'
                     % (w, w, ip(host), ua))
        self.n += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--noise", type=int, default=200000)
    ap.add_argument("--truth")
    a = ap.parse_args()
    noise = 0
    with open(a.out, "w") as f:
        w = W(f)
        for i in range(a.noise):
            w.inbound(OUTSIDE + i * STEP, "n%d.noise.kp" % i)
        for i in range(a.noise):
            w.outbound(TARGET + i % 1024, UA % ("Pixel %d" % (1000000 + i), 1000 + i, i))
        extra = a.noise
        vis = OUTSIDE + 1 + a.noise * STEP
        truth = {"sites": {}, "models": {}}
        for name, n in HEAVY_SITES:
            visitors = set()
            for k in range(n):
                v = vis + (k // 2) * STEP
                visitors.add(v)
                w.inbound(v, name)
                if k % 10 == 9:
                    w.inbound(OUTSIDE + extra * STEP, "n%d.noise.kp" % extra)
                    extra += 1
            vis += (n // 2 + 1) * STEP
            truth["sites"][name] = {"sessions": n, "visitors": len(visitors)}
        for m, (code, n) in enumerate(HEAVY_MODELS):
            for k in range(n):
                w.outbound(TARGET + 100 * m + k % 100, UA % (code, 120, 6099))
                if k % 10 == 9:
                    w.outbound(TARGET + extra % 1024, UA % ("Pixel %d" % (1000000 + extra), 1000 + extra, extra))
                    extra += 1
            truth["models"][code] = {"sessions": n, "hosts": 100}
        truth["sessions"] = w.n
    if a.truth:
        with open(a.truth, "w") as t:
            json.dump(truth, t, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
