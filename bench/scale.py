#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the agent costs as the number of series grows.

For each size (default 100, 10000 and 100000 series): a loopback server
listens on many ports and answers each status code it is asked for; a client
sends one request per (port, status), which makes a server-side and a
client-side series each. Then, against one agent (default settings, a
listening endpoint, --max-series large enough):
  kernel map memory   bytes_memlock of the agent's maps (bpftool map show)
  resident memory     VmRSS after the scrapes, and its peak (VmHWM)
  collection time     latprobe_collection_duration_seconds, median of the scrapes
  scrape              time and size of /metrics, text and protobuf, plain and gzip
  agent CPU           % of a core while idle (no traffic, no scrapes), and at
                      two request rates (wrk against nginx): it must not grow
                      with the rate, user space does no per-request work

With --variant NAME=PATH (repeatable), each size runs this tree's agent
("after") and each variant's, alternately, --rounds times: before and after
measured side by side in one run (the collection time is what issue 29 holds
within 10 % at 10 000 series).

usage: sudo bench/scale.py [--sizes 100,10000,100000] [--json OUT]
                           [--variant before=/path/to/old/latprobe] [--rounds N]
"""
import argparse
import gzip
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, ".output", "bench")
BINARY = os.path.join(ROOT, "latprobe")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from overhead import Nginx, wrk  # noqa: E402
from lpharness import free_port  # noqa: E402

STATUSES = [200 + i for i in range(30)] + [400 + i for i in range(20)]
CPU_SECONDS = 15
FORMATS = {
    "text": {},
    "protobuf": {"Accept": "application/vnd.google.protobuf;"
                           "proto=io.prometheus.client.MetricFamily;encoding=delimited"},
}
SERVER = r'''
import selectors, socket, sys, os
nports = int(sys.argv[1])
sel = selectors.DefaultSelector()
for _ in range(nports):
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(64)
    l.setblocking(False)
    sel.register(l, selectors.EVENT_READ, None)
    print(l.getsockname()[1])
sys.stdout.flush()
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data is None:
            c, _ = s.accept()
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, [b""])
            continue
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            sel.unregister(s)
            s.close()
            continue
        key.data[0] += d
        while b"\r\n\r\n" in key.data[0]:
            head, key.data[0] = key.data[0].split(b"\r\n\r\n", 1)
            status = head.split(b" ", 2)[1][3:]
            s.sendall(b"HTTP/1.1 " + status + b" X\r\nContent-Length: 0\r\n\r\n")
'''


def latprobe_progs():
    progs = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"]))
    return {p["id"]: p for p in progs if p.get("name", "").startswith("latprobe_")}


def agent_maps(before):
    """bytes_memlock of the maps used by the programs the agent loaded."""
    ids = set()
    for i, p in latprobe_progs().items():
        if i not in before:
            ids.update(p.get("map_ids", []))
    maps = json.loads(subprocess.check_output(["bpftool", "-j", "map", "show"]))
    return {m.get("name", "?"): m.get("bytes_memlock", 0) for m in maps if m["id"] in ids}


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def load(ports, statuses):
    """One request per (port, status) over one keep-alive connection per port,
    all connections in flight at once."""
    sel = selectors.DefaultSelector()
    conns = []
    for p in ports:
        s = socket.create_connection(("127.0.0.1", p))
        s.setblocking(False)
        st = {"sock": s, "port": p, "todo": list(statuses), "buf": b""}
        conns.append(st)
        s.sendall(f"GET /s/{st['todo'][0]} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sel.register(s, selectors.EVENT_READ, st)
    left = len(conns)
    done = 0
    while left:
        for key, _ in sel.select(timeout=10):
            st = key.data
            d = st["sock"].recv(4096)
            if not d:
                sys.exit(f"server closed port {st['port']}")
            st["buf"] += d
            if not st["buf"].endswith(b"\r\n\r\n"):
                continue
            if int(st["buf"].split(b" ", 2)[1]) != st["todo"][0]:
                sys.exit(f"bad answer {st['buf']!r}")
            done += 1
            st["buf"] = b""
            st["todo"].pop(0)
            if st["todo"]:
                st["sock"].sendall(f"GET /s/{st['todo'][0]} HTTP/1.1\r\nHost: x\r\n\r\n"
                                   .encode())
            else:
                sel.unregister(st["sock"])
                st["sock"].close()
                left -= 1
    return done


def scrape(url, fmt, gz):
    h = dict(FORMATS[fmt])
    if gz:
        h["Accept-Encoding"] = "gzip"
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=120) as r:
        body = r.read()
    return time.perf_counter() - t0, len(body), body


def one_size(want, ngx, binary=BINARY):
    per_port = len(STATUSES) if want >= 2 * len(STATUSES) else max(1, want // 2)
    nports = max(1, want // 2 // per_port)
    statuses = STATUSES[:per_port]
    srv = subprocess.Popen([sys.executable, "-c", SERVER, str(nports)], stdout=subprocess.PIPE,
                           text=True)
    ports = [int(srv.stdout.readline()) for _ in range(nports)]
    lport = free_port()
    before = latprobe_progs()
    agent = subprocess.Popen([binary, "-q", "--listen", f"127.0.0.1:{lport}",
                              "--max-series", str(max(16384, 2 * want + 1024)),
                              # one process makes every series here: no per-cgroup cap
                              "--max-series-per-cgroup", "0"],
                             stderr=subprocess.PIPE, text=True)
    res = {"series_wanted": want}
    try:
        while "serving" not in agent.stderr.readline():
            if agent.poll() is not None:
                sys.exit("latprobe did not start")
        url = f"http://127.0.0.1:{lport}/metrics"
        t0 = time.monotonic()
        res["requests"] = load(ports, statuses)
        res["load_seconds"] = time.monotonic() - t0
        # a burst of new series can drain the kernel allocator's per-CPU cache:
        # those first samples wait in the spill ring and reach their series at
        # the next collection; ask for each one once more all the same
        res["requests"] += load(ports, statuses)
        time.sleep(6)  # one collection interval
        res["rss_before_scrapes"] = proc_status(agent.pid, "VmRSS")
        times = {(f, gz): [] for f in FORMATS for gz in (False, True)}
        sizes, collect = {}, []
        rounds = 5 if want <= 10000 else 2
        for _ in range(rounds):
            for f in FORMATS:
                for gz in (False, True):
                    t, n, body = scrape(url, f, gz)
                    times[(f, gz)].append(t)
                    sizes[(f, gz)] = n
                    if f == "text":
                        text = (gzip.decompress(body) if gz else body).decode()
                        collect.append(metric(text, "latprobe_collection_duration_seconds"))
                        res["series"] = int(metric(text, "latprobe_series"))
                        res["series_alloc_failures"] = int(metric(
                            text, "latprobe_series_alloc_failures_total"))
                        res["samples_spilled"] = int(metric(
                            text, "latprobe_samples_spilled_total"))
        res["scrape"] = {f"{f}{'+gzip' if gz else ''}": {
            "bytes": sizes[(f, gz)], "median_s": statistics.median(ts), "min_s": min(ts),
            "max_s": max(ts)} for (f, gz), ts in times.items()}
        # the gzip body of one collection is built once (server.c's cache): the first
        # scrape after a collection builds it, the next ones only the agent's own part
        first, again = [], []
        for _ in range(3):
            time.sleep(5.2)  # past the next collection
            first.append(scrape(url, "text", True)[0])
            again.append(scrape(url, "text", True)[0])
        res["gzip_first_s"] = statistics.median(first)
        res["gzip_cached_s"] = statistics.median(again)
        res["collect_s"] = statistics.median(collect)
        res["rss"] = proc_status(agent.pid, "VmRSS")
        res["rss_peak"] = proc_status(agent.pid, "VmHWM")
        res["maps"] = agent_maps(before)
        # idle: no traffic, no scrapes; collections go on every interval
        c0 = proc_cpu(agent.pid)
        time.sleep(CPU_SECONDS)
        res["cpu_idle"] = (proc_cpu(agent.pid) - c0) / CPU_SECONDS
        res["rss_idle"] = proc_status(agent.pid, "VmRSS")
        if ngx:
            res["cpu_at_rate"] = []
            for conns in (1, 16):
                c0 = proc_cpu(agent.pid)
                w = wrk(ngx.url, CPU_SECONDS, conns, False)
                res["cpu_at_rate"].append({"rps": w["rps"],
                                           "cpu": (proc_cpu(agent.pid) - c0) / CPU_SECONDS})
    finally:
        agent.terminate()
        agent.wait()
        srv.kill()
        srv.wait()
    return res


def report(results):
    print(f"\nscale: one agent (defaults, interval 5 s), series made by a loopback client")
    print(f"{'series':>7} {'kernel maps':>12} {'RSS':>9} {'peak':>9} {'collect':>9} "
          f"{'text':>10} {'text ms':>8} {'gz':>9} {'gz ms':>7} {'pb':>10} {'pb ms':>7} "
          f"{'idle CPU':>8}")
    for r in results:
        sc = r["scrape"]
        if r.get("variant"):
            print(f"{r['variant']} (round {r['round']}):")
        print(f"{r['series']:>7} {sum(r['maps'].values()) / 2**20:>9.1f} MiB "
              f"{r['rss'] / 2**20:>5.1f} MiB {r['rss_peak'] / 2**20:>5.1f} MiB "
              f"{r['collect_s'] * 1e3:>6.1f} ms "
              f"{sc['text']['bytes'] / 1e6:>7.2f} MB {sc['text']['median_s'] * 1e3:>8.1f} "
              f"{sc['text+gzip']['bytes'] / 1e6:>6.2f} MB {sc['text+gzip']['median_s'] * 1e3:>7.1f} "
              f"{sc['protobuf']['bytes'] / 1e6:>7.2f} MB {sc['protobuf']['median_s'] * 1e3:>7.1f} "
              f"{r['cpu_idle'] * 100:>7.2f}%")
        print(f"{'':>7}   kernel maps: " + ", ".join(f"{k} {v / 2**20:.1f} MiB"
                                                  for k, v in sorted(r["maps"].items())) +
              f"; first samples of a burst through the spill ring: {r['samples_spilled']}"
              f", folded (ring full): {r['series_alloc_failures']}")
        print(f"{'':>7}   text+gzip after a collection: first scrape "
              f"{r['gzip_first_s'] * 1e3:.1f} ms (builds the body), the next "
              f"{r['gzip_cached_s'] * 1e3:.1f} ms (the series part from the cache)")
        for x in r.get("cpu_at_rate", []):
            print(f"{'':>7}   agent CPU at {x['rps']:>8.0f} req/s: {x['cpu'] * 100:.2f}% "
                  f"of a core")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SCALE_SIZES", "100,10000,100000"))
    ap.add_argument("--json", default=os.path.join(OUT, "scale.json"))
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=PATH: another agent binary, run alternately with this tree's")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    variants = [("after" if a.variant else "", BINARY)]
    for v in a.variant:
        name, sep, path = v.partition("=")
        if not sep or not os.access(path, os.X_OK):
            sys.exit(f"bench/scale.py: --variant {v!r}: want NAME=PATH of an executable")
        variants.insert(0, (name, path))
    if os.geteuid() != 0:
        sys.exit("bench/scale.py: needs root to attach the agent (sudo)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    os.makedirs(OUT, exist_ok=True)
    ngx = Nginx()
    results = []
    try:
        for want in (int(x) for x in a.sizes.split(",")):
            for rnd in range(a.rounds):
                for name, path in variants:
                    results.append(one_size(want, ngx if want == 10000 else None, path))
                    results[-1].update(variant=name, round=rnd + 1)
                    print(f"  {name or 'latprobe'}: {results[-1]['series']} series done",
                          flush=True)
    finally:
        ngx.stop()
    with open(a.json, "w") as f:
        json.dump(results, f, indent=1)
    report(results)
    if a.variant:
        compare(results)


def compare(results):
    """The collection time of each variant at each size: median over its rounds."""
    print("\ncollection time, median of each agent's rounds (interleaved in this run):")
    sizes = sorted({r["series_wanted"] for r in results})
    names = list(dict.fromkeys(r["variant"] for r in results))
    for want in sizes:
        med = {n: statistics.median(r["collect_s"] for r in results
                                    if r["series_wanted"] == want and r["variant"] == n)
               for n in names}
        base = med[names[0]]
        print(f"  {want:>7} series: " + ", ".join(
            f"{n} {med[n] * 1e3:.1f} ms ({med[n] / base:.3f}x {names[0]})" for n in names))


if __name__ == "__main__":
    main()
