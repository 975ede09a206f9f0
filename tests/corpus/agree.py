#!/usr/bin/env python3
"""agree.py — corpus agreement between `netintel sessions` and two
independent tools' expected results (nDPI's regression outputs, Zeek's test
baselines) under tests/corpus.  Python 3 standard library only.

What is compared (the rules are documented in docs/testing.md):

nDPI (`result/<capture>.out`, format in corpus/ndpi/README.md)
  Each flow line is matched to netintel sessions by L4 protocol and the
  unordered endpoint pair; when several sessions share the pair, the one whose
  value agrees is taken, else the first.
  * host: nDPI's [Hostname/SNI] is compared, according to the flow's nDPI
    master protocol, with http_host or any http[].host (HTTP), sni (TLS,
    QUIC, DTLS) or dns_query (DNS).  Names nDPI takes from other protocols
    (MDNS, LLMNR, NetBIOS, DHCP, SSDP, ...) are outside netintel's contract:
    they are counted in an "outside scope" line, not in the figure.
    Host names compare case-insensitively without a trailing dot (RFC 4343).
  * user_agent: [User-Agent] vs user_agent or any http[].user_agent, exact.
  * ja4: [JA4] vs ja4, exact.
Zeek (`baseline/<test>/<log>`, the trace→baseline map is read from
corpus/zeek/README.md): rows are matched on the 4-tuple (unordered) and the
protocol.
  * http.host / http.user_agent: the trans_depth-th request of the session.
  * ssl.server_name (TLS and QUIC): sni.
  * dns.query: dns_query, for rows on port 53 (mDNS, LLMNR and NetBIOS-NS
    rows are outside scope, counted separately).

A field passes when agreement (matching / flows where the other tool names a
value) over the whole corpus is >= the threshold (98 %), counting as
agreement the reference's own errors listed (category ndpi:/zeek:) in the
known lists; the raw figure (against the reference as published) is printed
beside it.  Every disagreement
on a development capture (tests/corpus/ndpi-dev.txt; all Zeek traces) must be
listed in tests/corpus/{ndpi,zeek}-known.tsv with a reason; captures outside
the development list (a hold-out set) are judged by the threshold only.
Listed disagreements that no longer occur are reported as stale.

Output ends with "corpus: N passed, N failed"; tests are: one per capture/
trace (netintel ran, output parsed, nDPI flow count as in the README, every
disagreement explained) and one per field (threshold).
"""
import argparse
import concurrent.futures
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

THRESHOLD = 98.0

# ---------------------------------------------------------------- helpers

def esc(v):
    """One-line, TAB-free rendering of a value for the TSV lists."""
    if v is None:
        return "-"
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def norm_ip(s):
    s = s.strip()
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    try:
        return str(ipaddress.ip_address(s.split("%")[0]))
    except ValueError:
        return s


def norm_host(v):
    """Host names compare case-insensitively, without a trailing dot (RFC
    4343) and without an HTTP Host header's ":port" (RFC 9110 §7.2: the
    name is the uri-host; nDPI and Zeek drop the port, netintel may not)."""
    if v is None:
        return None
    v = v.strip().lower()
    m = re.match(r"^(\[[^\]]*\]|[^:\[\]]*):\d+$", v)
    if m:
        v = m.group(1)
    if v.startswith("[") and v.endswith("]"):
        v = v[1:-1]
    if v.endswith("."):
        v = v[:-1]
    return v


def pair_key(proto, a, pa, b, pb):
    ea = (norm_ip(a), int(pa))
    eb = (norm_ip(b), int(pb))
    return (proto.lower(), tuple(sorted([ea, eb])))


# ---------------------------------------------------------------- nDPI

FLOW_RE = re.compile(r"^\t(\d+)\t([A-Za-z0-9_-]+) (\S+) (<->|->) (\S+) (\[.*)$")
ENDPOINT_RE = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<v4>[^:\[\]]+)):(?P<port>\d+)$")
# A bracketed field starts a new "[key: " or "[Token]"; values themselves may
# contain brackets (User-Agents do), so a field ends only at a "][" that is
# followed by something shaped like a field start.
NEXT_FIELD_RE = re.compile(r"\]\[(?=[A-Za-z0-9_(][^\[\]]{0,100}?(?::|\]))|\]$")


def ndpi_fields(rest):
    """'[k: v][Tok][k2: v2]...' -> dict (first occurrence of each key)."""
    out = {}
    pos = 0
    n = len(rest)
    while pos < n and rest[pos] == "[":
        m = NEXT_FIELD_RE.search(rest, pos + 1)
        end = m.start() if m else n
        body = rest[pos + 1:end]
        k, sep, v = body.partition(": ")
        if sep:
            out.setdefault(k, v)
        else:
            out.setdefault(body, "")
        pos = end + 1
    return out


def parse_endpoint(s):
    m = ENDPOINT_RE.match(s)
    if not m:
        return None
    return (m.group("v6") or m.group("v4"), int(m.group("port")))


def parse_ndpi(path):
    """-> list of flows: dict(num, l4, a, pa, b, pb, text, master, host, ua, ja4)."""
    flows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = FLOW_RE.match(line)
            if not m:
                continue
            ea, eb = parse_endpoint(m.group(3)), parse_endpoint(m.group(5))
            if ea is None or eb is None:
                continue
            fl = ndpi_fields(m.group(6))
            proto = fl.get("proto", "")
            name = proto.split("/", 1)[1] if "/" in proto else proto
            master = name.split(".", 1)[0]
            flows.append({
                "num": int(m.group(1)), "l4": m.group(2),
                "a": ea[0], "pa": ea[1], "b": eb[0], "pb": eb[1],
                "text": "%s %s %s %s" % (m.group(2), m.group(3), m.group(4), m.group(5)),
                "master": master,
                "host": fl.get("Hostname/SNI") or None,
                "user_agent": fl.get("User-Agent") or None,
                "ja4": fl.get("JA4") or None,
                "alpns": fl.get("(Advertised) ALPNs") or None,
            })
    return flows


def readme_flow_counts(readme):
    """capture -> number of flow lines, from the README's capture table."""
    counts = {}
    try:
        with open(readme, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\| `pcap/([^`]+)` \| `result/[^`]+` \|[^|]*\|\s*[\d,]+ \|\s*(\d+) \|", line)
                if m:
                    counts[m.group(1)] = int(m.group(2))
    except OSError:
        pass
    return counts


def ndpi_ja4_spec(fl):
    """nDPI's JA4 with section a's SNI flag and ALPN characters recomputed per
    the FoxIO JA4 spec (technical_details/JA4.md) from nDPI's *own* fields:
    'd' iff nDPI names an SNI, ALPN = first and last character of the first
    advertised ALPN value ('00' if none).  nDPI (this corpus' commit) sets
    'i' only for a numeric SNI and prints other ALPN characters.  None when
    the value does not have the expected shape."""
    v = fl["ja4"]
    if not v or len(v) < 10 or v[0] not in "tq":
        return None
    flag = "d" if fl["host"] else "i"
    first = fl["alpns"].split(";")[0].split(",")[0] if fl["alpns"] else ""
    if first and not (first[0].isalnum() and first[-1].isalnum() and first.isascii()):
        return None
    alpn = (first[0] + first[-1]) if first else "00"
    return v[:3] + flag + v[4:8] + alpn + v[10:]


HOST_CLASS = {"HTTP": "http", "TLS": "tls", "QUIC": "tls", "DTLS": "tls", "DNS": "dns"}

# ---------------------------------------------------------------- Zeek

def parse_zeek_log(path):
    """Zeek ASCII log -> list of dict rows (unset '-' and '(empty)' -> None)."""
    fields, rows, sep = None, [], "\t"
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#separator"):
                s = line.split(" ", 1)[1] if " " in line else "\\x09"
                sep = bytes(s, "ascii").decode("unicode_escape")
                continue
            if line.startswith("#fields"):
                fields = line.split(sep)[1:]
                continue
            if line.startswith("#") or not line or fields is None:
                continue
            vals = line.split(sep)
            row = {}
            for k, v in zip(fields, vals):
                row[k] = None if v in ("-", "(empty)") else v
            rows.append(row)
    return rows


def zeek_map(readme):
    """[(trace relative path, [baseline relative paths])] from the README table."""
    out = []
    with open(readme, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("| `traces/"):
                continue
            cells = line.split("|")
            traces = re.findall(r"`traces/([^`]+)`", cells[1])
            logs = re.findall(r"`baseline/([^`]+)`", cells[3] if len(cells) > 3 else "")
            if traces and logs:
                out.append((traces[0], logs))
    return out


# ---------------------------------------------------------------- netintel

def run_netintel(binary, capture, timeout=300):
    """-> (list of sessions, error string or None)."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as t:
        out = t.name
    try:
        p = subprocess.run([binary, "sessions", "--format", "jsonl", "-o", out, capture],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
        if p.returncode != 0:
            return None, "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip()[:300])
        sessions = []
        with open(out, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    sessions.append(json.loads(line))
                except ValueError as e:
                    return None, "line %d is not JSON: %s" % (i, e)
        return sessions, None
    except subprocess.TimeoutExpired:
        return None, "timeout after %d s" % timeout
    except OSError as e:
        return None, str(e)
    finally:
        try:
            os.unlink(out)
        except OSError:
            pass


def index_sessions(sessions):
    idx = {}
    for s in sessions:
        try:
            k = pair_key(str(s.get("proto", "")), s["client"], s.get("client_port") or 0,
                         s["server"], s.get("server_port") or 0)
        except (KeyError, TypeError, ValueError):
            continue
        idx.setdefault(k, []).append(s)
    return idx


def http_list(s):
    h = s.get("http")
    return [r for r in h if isinstance(r, dict)] if isinstance(h, list) else []


def candidates(s, what):
    """Values of session s that may answer field `what`."""
    if s is None:
        return []
    if what == "http":
        return [s.get("http_host")] + [r.get("host") for r in http_list(s)]
    if what == "tls":
        return [s.get("sni")]
    if what == "dns":
        return [s.get("dns_query")]
    if what == "user_agent":
        return [s.get("user_agent")] + [r.get("user_agent") for r in http_list(s)]
    if what == "ja4":
        return [s.get("ja4")]
    raise ValueError(what)


def agrees(expected, cands, hostlike):
    for c in cands:
        if not isinstance(c, str):
            continue
        if hostlike and norm_host(c) == norm_host(expected):
            return True
        if not hostlike and c == expected:
            return True
    return False


def pick(sessions, expected, what, hostlike):
    """(session, agreed, netintel value shown)."""
    if not sessions:
        return None, False, "(no session)"
    for s in sessions:
        if agrees(expected, candidates(s, what), hostlike):
            return s, True, expected
    s = sessions[0]
    shown = next((c for c in candidates(s, what) if isinstance(c, str)), None)
    return s, False, shown


# ---------------------------------------------------------------- known lists

# Reason categories of a listed disagreement (first word of the reason):
#   ndpi: / zeek:  the reference is wrong (or follows another convention) and
#                  netintel's value was checked against the packet bytes and
#                  the spec: counts as agreement in the "corrected" figure;
#   netintel:      netintel is wrong — a bug to fix, counts as disagreement;
#   scope:         outside the sessions contract (e.g. gQUIC, DTLS) — counts
#                  as disagreement.
CATEGORIES = ("ndpi", "zeek", "netintel", "scope")

def load_known(path):
    """-> list of dict(capture, flow, field, other, netintel, reason, line)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            c = line.split("\t")
            if c[0] in ("capture", "trace"):
                continue
            if len(c) < 6:
                print("  %s:%d: expected 6 TAB-separated columns" % (path, n))
                continue
            reason = "\t".join(c[5:]).strip()
            cat = reason.split(":", 1)[0].strip() if ":" in reason else ""
            if cat not in CATEGORIES:
                print("  %s:%d: reason must start with one of %s" % (path, n, ", ".join(c + ":" for c in CATEGORIES)))
                reason = ""
            out.append({"capture": c[0], "flow": c[1], "field": c[2], "other": c[3],
                        "netintel": c[4], "reason": reason, "cat": cat, "line": n,
                        "used": False})
    return out


def explain(known, capture, flow, field, other, netintel):
    for k in known:
        if (not k["used"] and k["capture"] == capture and k["flow"] == flow and
                k["field"] == field and k["other"] == esc(other) and k["netintel"] == esc(netintel)):
            if not k["reason"] or k["reason"].upper().startswith("TODO"):
                return None
            k["used"] = True
            return k
    return None


# ---------------------------------------------------------------- main work

class Tally:
    def __init__(self):
        self.fields = {}          # (source, field) -> [agree, total]
        self.outside = {}         # (source, field, protocol) -> [agree, total]
        self.passed = 0
        self.failed = 0

    def add(self, src, field, ok):
        t = self.fields.setdefault((src, field), [0, 0, 0, {}])
        t[0] += ok
        t[1] += 1
        t[2] += ok

    def listed(self, src, field, cat, spec_ok=False):
        """A disagreement explained by a known-list entry of category cat, or
        (cat "ndpi-spec", not listed) by the JA4 spec correction alone."""
        t = self.fields[(src, field)]
        t[3][cat] = t[3].get(cat, 0) + 1
        if cat in ("ndpi", "zeek") or spec_ok:
            t[2] += 1

    def add_outside(self, src, field, proto, ok):
        t = self.outside.setdefault((src, field, proto), [0, 0])
        t[0] += ok
        t[1] += 1

    def test(self, ok, msg):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL " + msg)


def compare_ndpi(args, tally, drafts):
    base = os.path.join(args.corpus, "ndpi")
    pdir, rdir = os.path.join(base, "pcap"), os.path.join(base, "result")
    if not os.path.isdir(pdir):
        print("nDPI corpus not found at %s" % base)
        return
    dev = set()
    devfile = os.path.join(args.here, "ndpi-dev.txt")
    if os.path.exists(devfile):
        with open(devfile) as f:
            dev = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    known = load_known(os.path.join(args.here, "ndpi-known.tsv"))
    counts = readme_flow_counts(os.path.join(base, "README.md"))
    captures = sorted(c for c in os.listdir(pdir)
                      if os.path.exists(os.path.join(rdir, c + ".out")))
    if args.only:
        captures = [c for c in captures if c in args.only]

    results = {}
    if not args.parse_only:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = {c: ex.submit(run_netintel, args.netintel, os.path.join(pdir, c)) for c in captures}
            results = {c: f.result() for c, f in futs.items()}

    for cap in captures:
        flows = parse_ndpi(os.path.join(rdir, cap + ".out"))
        problems = []
        if cap in counts and counts[cap] != len(flows):
            problems.append("parsed %d flow lines, README says %d" % (len(flows), counts[cap]))
        if args.parse_only:
            nh = sum(1 for f in flows if f["host"])
            nu = sum(1 for f in flows if f["user_agent"])
            nj = sum(1 for f in flows if f["ja4"])
            print("  %-45s flows %4d  host %4d  ua %4d  ja4 %3d" % (cap, len(flows), nh, nu, nj))
            tally.test(not problems, "ndpi %s: %s" % (cap, "; ".join(problems)))
            continue
        sessions, err = results[cap]
        if err:
            tally.test(False, "ndpi %s: netintel %s" % (cap, err))
            continue
        idx = index_sessions(sessions)
        unexplained = 0
        for fl in flows:
            key = pair_key(fl["l4"], fl["a"], fl["pa"], fl["b"], fl["pb"])
            cand = idx.get(key, [])
            checks = []
            if fl["host"]:
                cls = HOST_CLASS.get(fl["master"])
                if cls is None:
                    # outside netintel's contract: informational only
                    _, ok, _ = pick(cand, fl["host"], "http", True)
                    ok = ok or pick(cand, fl["host"], "tls", True)[1] or pick(cand, fl["host"], "dns", True)[1]
                    tally.add_outside("ndpi", "host", fl["master"] or "?", ok)
                else:
                    checks.append(("host", fl["host"], cls, True))
            if fl["user_agent"]:
                checks.append(("user_agent", fl["user_agent"], "user_agent", False))
            if fl["ja4"]:
                checks.append(("ja4", fl["ja4"], "ja4", False))
            for field, expected, what, hostlike in checks:
                _, ok, shown = pick(cand, expected, what, hostlike)
                tally.add("ndpi", field, ok)
                if ok:
                    continue
                spec_ok = field == "ja4" and pick(cand, ndpi_ja4_spec(fl) or "", what, hostlike)[1]
                k = explain(known, cap, fl["text"], field, expected, shown)
                row = [cap, fl["text"], field, esc(expected), esc(shown)]
                if k:
                    tally.listed("ndpi", field, k["cat"], spec_ok)
                    if args.verbose:
                        print("  known   %s  (%s)" % ("  ".join(row), k["reason"]))
                    continue
                if spec_ok:
                    tally.listed("ndpi", field, "ndpi-spec", True)
                drafts.setdefault("ndpi", []).append(row)
                if cap in dev or args.all_dev:
                    unexplained += 1
                    print("  UNEXPLAINED ndpi %s" % "  ".join(row))
                else:
                    print("  hold-out  ndpi %s" % "  ".join(row))
        if unexplained:
            problems.append("%d unexplained disagreement(s)" % unexplained)
        tally.test(not problems, "ndpi %s: %s" % (cap, "; ".join(problems)))
    report_stale(known, "ndpi-known.tsv", {c for c in captures})


def compare_zeek(args, tally, drafts):
    base = os.path.join(args.corpus, "zeek")
    readme = os.path.join(base, "README.md")
    if not os.path.exists(readme):
        print("Zeek corpus not found at %s" % base)
        return
    known = load_known(os.path.join(args.here, "zeek-known.tsv"))
    mapping = zeek_map(readme)
    if args.only:
        mapping = [m for m in mapping if m[0] in args.only]
    results = {}
    if not args.parse_only:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = {t: ex.submit(run_netintel, args.netintel, os.path.join(base, "traces", t))
                    for t, _ in mapping}
            results = {t: f.result() for t, f in futs.items()}
    for trace, logs in mapping:
        problems = []
        checks = []   # (field, row, expected, what, hostlike, proto, depth)
        for log in logs:
            name = os.path.basename(log)
            path = os.path.join(base, "baseline", log)
            if not os.path.exists(path):
                problems.append("missing %s" % log)
                continue
            rows = parse_zeek_log(path)
            if not rows:
                problems.append("no rows in %s" % log)
            for r in rows:
                if name == "http.log":
                    d = int(r.get("trans_depth") or 1)
                    if r.get("host"):
                        checks.append(("http.host", r, r["host"], "host", True, "tcp", d))
                    if r.get("user_agent"):
                        checks.append(("http.user_agent", r, r["user_agent"], "user_agent", False, "tcp", d))
                elif name == "ssl.log":
                    if r.get("server_name"):
                        checks.append(("ssl.server_name", r, r["server_name"], "tls", True, None, 0))
                elif name == "dns.log":
                    if r.get("query"):
                        checks.append(("dns.query", r, r["query"], "dns", True, r.get("proto"), 0))
        if args.parse_only:
            print("  %-50s %d comparable values from %s" % (trace, len(checks), ", ".join(logs)))
            tally.test(not problems and checks, "zeek %s: %s" % (trace, "; ".join(problems) or "nothing to compare"))
            continue
        sessions, err = results[trace]
        if err:
            tally.test(False, "zeek %s: netintel %s" % (trace, err))
            continue
        idx = index_sessions(sessions)
        unexplained = 0
        for field, r, expected, what, hostlike, proto, depth in checks:
            a, pa, b, pb = r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"]
            protos = [proto] if proto else ["tcp", "udp"]
            cand = []
            for p in protos:
                cand += idx.get(pair_key(p, a, pa, b, pb), [])
            flow = "%s %s:%s -> %s:%s" % ((proto or "-").upper(), a, pa, b, pb)
            if field == "dns.query" and "53" not in (str(pa), str(pb)):
                ok = pick(cand, expected, "dns", True)[1]
                tally.add_outside("zeek", field, "port %s" % pb, ok)
                continue
            if field.startswith("http."):
                # the trans_depth-th request of the session
                ok, shown = False, "(no session)" if not cand else None
                for s in cand:
                    reqs = http_list(s)
                    key = "host" if what == "host" else "user_agent"
                    if len(reqs) >= depth:
                        v = reqs[depth - 1].get(key)
                    elif depth == 1:
                        v = s.get("http_host" if what == "host" else "user_agent")
                    else:
                        v = None
                    if shown is None:
                        shown = v if v is not None else "(no request %d)" % depth
                    if isinstance(v, str) and (norm_host(v) == norm_host(expected) if hostlike else v == expected):
                        ok, shown = True, v
                        break
            else:
                _, ok, shown = pick(cand, expected, what, hostlike)
            tally.add("zeek", field, ok)
            if ok:
                continue
            if field.startswith("http."):
                flow += " #%d" % depth
            row = [trace, flow, field, esc(expected), esc(shown)]
            k = explain(known, trace, flow, field, expected, shown)
            if k:
                tally.listed("zeek", field, k["cat"])
                continue
            drafts.setdefault("zeek", []).append(row)
            unexplained += 1
            print("  UNEXPLAINED zeek %s" % "  ".join(row))
        if unexplained:
            problems.append("%d unexplained disagreement(s)" % unexplained)
        tally.test(not problems, "zeek %s: %s" % (trace, "; ".join(problems)))
    report_stale(known, "zeek-known.tsv", {t for t, _ in mapping})


def report_stale(known, name, present):
    for k in known:
        if not k["used"] and k["capture"] in present:
            print("  stale %s:%d (no longer disagrees): %s  %s  %s" %
                  (name, k["line"], k["capture"], k["flow"], k["field"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--netintel", default=os.path.join(os.environ.get("BUILD", "build"), "netintel"))
    ap.add_argument("--corpus", default=None, help="default: tests/corpus in the repository")
    ap.add_argument("--parse-only", action="store_true",
                    help="only parse the expected-result files (no netintel run)")
    ap.add_argument("--only", nargs="*", help="restrict to these captures/traces")
    ap.add_argument("--draft", help="write every unexplained disagreement to this TSV (reason TODO)")
    ap.add_argument("--all-dev", action="store_true", help="treat every capture as development set")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(args.here))
    if args.corpus is None:
        args.corpus = os.environ.get("NI_CORPUS", os.path.join(repo, "tests", "corpus"))
    if not args.parse_only and not os.access(args.netintel, os.X_OK):
        print("corpus: 0 passed, 1 failed (no executable %s)" % args.netintel)
        return 1

    tally, drafts = Tally(), {}
    compare_ndpi(args, tally, drafts)
    compare_zeek(args, tally, drafts)

    if not args.parse_only:
        print()
        print("%-6s %-16s %15s %8s %15s %8s  %s" % ("source", "field", "raw agree/total", "%",
                                                    "corrected", "%", "listed disagreements"))
        for (src, field), (a, t, c, cats) in sorted(tally.fields.items()):
            pct = 100.0 * a / t if t else 100.0
            cpct = 100.0 * c / t if t else 100.0
            print("%-6s %-16s %7d/%-7d %7.2f%% %7d/%-7d %7.2f%%  %s" % (
                src, field, a, t, pct, c, t, cpct,
                ", ".join("%s %d" % (k, v) for k, v in sorted(cats.items())) or "-"))
            tally.test(cpct >= THRESHOLD, "%s %s corrected agreement %.2f%% < %.0f%%" % (src, field, cpct, THRESHOLD))
        print("(raw: against the reference as published; corrected: reference errors listed as "
              "ndpi:/zeek: in the known lists, each checked against the packets, and nDPI JA4s that "
              "agree once section a follows the JA4 spec (ndpi-spec, hold-out captures) count as agreement)")
        for (src, field, proto), (a, t) in sorted(tally.outside.items()):
            print("%-6s %-17s %6d/%-6d  (outside scope: %s, not in the figure)" % (src, field, a, t, proto))
        if args.draft:
            with open(args.draft, "w", encoding="utf-8") as f:
                f.write("capture\tflow\tfield\tother_value\tnetintel_value\treason\n")
                for src in ("ndpi", "zeek"):
                    for row in drafts.get(src, []):
                        f.write("\t".join(row + ["TODO"]) + "\n")
            print("drafts written to %s" % args.draft)
    print("corpus: %d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
