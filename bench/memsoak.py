#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Memory per active series, and whether it still grows once the windows
are full: a soak of the agent with every series receiving traffic every
interval.

A loopback server (bench/scale.py's) listens on a few ports and answers any
status code; every interval a client sends a request for each (port, status)
pair, so each pair keeps one server-side series active: 1 000 series by
default. The server runs in a cgroup of the benchmark's own and the agents
are scoped to it (--cgroup), so nothing else on the node adds series. Agents
(this tree's, and any --variant NAME=PATH, e.g. a previous build) run side by
side on the same traffic, each scraped every 15 s (/metrics, as Prometheus
does). For each agent it prints:

  idle      VmRSS after start, before any traffic (MB)
  full      VmRSS when the longest window has filled (MB)
  end       VmRSS at the end of the soak (MB)
  per       (end - idle) / active series (KB): the memory an active series costs
  growth    (end - full) per minute after the windows filled (KB/min)

usage: sudo bench/memsoak.py [--series 1000] [--minutes 15] [--interval 5s]
                             [--windows 1m,5m] [--variant before=PATH] [--this PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from scale import SERVER, STATUSES, load, proc_status  # noqa: E402
from lpharness import TestCgroup, free_port, stop_process  # noqa: E402


def seconds(text):
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for u in ("ms", "s", "m", "h"):
        if text.endswith(u) and text[:-len(u)].replace(".", "").isdigit():
            return float(text[:-len(u)]) * unit[u]
    raise SystemExit(f"not a duration: {text}")


class AgentRun:
    def __init__(self, name, path, args):
        self.name, self.port = name, free_port()
        self.proc = subprocess.Popen([path, "-q", "--listen", f"127.0.0.1:{self.port}",
                                      "--max-series", "16384", "--max-series-per-cgroup", "0",
                                      *args], stdout=subprocess.DEVNULL)
        self.rss = []

    def ready(self):
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"{self.name}: the agent exited {self.proc.returncode}")
                time.sleep(0.1)
        sys.exit(f"{self.name}: not ready")

    def scrape(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
                r.read()
        except OSError as e:
            print(f"{self.name}: scrape failed: {e}", file=sys.stderr)

    def sample(self, t):
        self.rss.append((t, proc_status(self.proc.pid, "VmRSS")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--interval", default="5s")
    ap.add_argument("--windows", default="1m,5m")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--this", default=os.path.join(ROOT, "latprobe"),
                    help="the agent called 'this' (default: the tree's build)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("memsoak: needs root (BPF); run with sudo")
    interval = seconds(a.interval)
    longest = max(seconds(w) for w in a.windows.split(","))
    per_port = min(len(STATUSES), a.series)
    nports = max(1, a.series // per_port)
    statuses = STATUSES[:per_port]
    runs = [("this", a.this)]
    for v in a.variant:
        name, _, path = v.partition("=")
        runs.append((name, path))
    cg = TestCgroup("memsoak").__enter__()
    srv = subprocess.Popen([*cg.prefix, sys.executable, "-c", SERVER, str(nports)],
                           stdout=subprocess.PIPE, text=True)
    agents = []
    try:
        ports = [int(srv.stdout.readline()) for _ in range(nports)]
        for name, path in runs:
            wargs = [x for w in a.windows.split(",") for x in ("-w", w)]
            agents.append(AgentRun(name, path, ["-i", a.interval, "--cgroup", "/" + cg.name,
                                                "--side", "server", *wargs]))
        for ag in agents:
            ag.ready()
        time.sleep(2 * interval)
        t0 = time.monotonic()
        for ag in agents:
            ag.sample(0.0)
        end = t0 + a.minutes * 60
        next_scrape = t0
        while time.monotonic() < end:
            tick = time.monotonic()
            load(ports, statuses)
            if tick >= next_scrape:
                threads = [threading.Thread(target=ag.scrape) for ag in agents]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                next_scrape = tick + 15
            for ag in agents:
                ag.sample(tick - t0)
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
        for ag in agents:
            ag.sample(time.monotonic() - t0)
    finally:
        for ag in agents:
            stop_process(ag.proc)
        stop_process(srv)
        cg.__exit__(None, None, None)
    active = nports * len(statuses)
    out = {}
    print(f"{active} active series, -i {a.interval}, windows {a.windows}, {a.minutes} min")
    print(f"{'agent':<10} {'idle MB':>8} {'full MB':>8} {'end MB':>8} {'per KB':>8} "
          f"{'growth KB/min':>14}")
    for ag in agents:
        idle = ag.rss[0][1]
        full_t, full = next(((t, r) for t, r in ag.rss if t >= longest + 2 * interval),
                            ag.rss[-1])
        end_t, last = ag.rss[-1]
        per = (last - idle) / active / 1024
        growth = (last - full) / 1024 / max((end_t - full_t) / 60, 1e-9)
        out[ag.name] = {"idle": idle, "full": full, "end": last, "per_series_kb": per,
                        "growth_kb_per_min": growth, "rss": ag.rss}
        print(f"{ag.name:<10} {idle / 1e6:8.1f} {full / 1e6:8.1f} {last / 1e6:8.1f} "
              f"{per:8.1f} {growth:14.1f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"series": active, "interval": a.interval, "windows": a.windows,
                       "minutes": a.minutes, "agents": out}, f)


if __name__ == "__main__":
    main()
