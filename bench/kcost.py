#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kernel cost of latprobe's programs against the empty cgroup_skb pair.

The figure the cost targets are judged by: bpf_stats nanoseconds per HTTP
request of latprobe's own programs divided by those of an empty
cgroup_skb ingress+egress pair (bench/floor.bpf.c), measured in interleaved
rounds of one run (throughput ratios on a shared host move by more than the
targets; run time per request does not). nginx serves a 4 KB file on
loopback, wrk drives it: both ends of every connection pass the programs.

Configurations, each round in a shuffled order:
  floor     the empty pair
  both      latprobe with its defaults (server and client side)
  server    latprobe --side server
  routesN   latprobe with N routes (--routes 10,256; the benchmark's request
            matches one of them), as routes cost: 0 routes is "both"
  (+ any --extra NAME=ARGS, e.g. --extra ttfb=--ttfb)
Modes: keep-alive (wrk -c32), churn (Connection: close, a connection per
request), h2 (HTTP/2 with prior knowledge: h2load -c32 -m1, the same shape
as keep-alive) and h2mux (h2load -c4 -m8: eight streams at once on each of
four connections); nginx serves the same file on both. pingpong: traffic
that is not HTTP (bench/pingpong.py, a redis-style ping-pong on one
connection) in a cgroup of its own, every configuration attached there.
keepalive6: keep-alive over IPv6 (::1; not in the default modes: what
--client-address ip's numbering of IPv6 addresses costs).
grpc: unary gRPC calls (tests/e2e/grpc_peer.py's server, python3-grpcio)
from h2load -c4 -m1 (not in the default modes: the Python server makes
few calls a second, which the cost per call does not depend on). Programs are told apart by owner: the agent's by its pid
(bpftool's pids), the floor's by its pin path.

Placement (--placement): where nginx and wrk run decides most of the cost,
so each run fixes it. "split" (default): nginx on one CPU, wrk on another:
each socket's state is written by two CPUs in turn (the request's arrival is
handled on the sender's CPU), as on a node whose clients and servers run
apart. "same": both on one CPU, no line of state moves between caches.
"free": the scheduler decides (rounds then differ by ~1.5x as it moves them).

usage: sudo bench/kcost.py [--seconds 4] [--rounds 3] [--modes keepalive,close,h2,h2mux,pingpong]
                           [--placement split,same,free] [--json OUT] [--binary ./latprobe]
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, ".output", "bench")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from overhead import Nginx, bpf_stats, h2load, wrk, sh  # noqa: E402
from lpharness import (cgroup2_mount, prog_ids_of, read_until, remove_cgroup,  # noqa: E402
                       stop_process)
from test_grpc import GrpcServer  # noqa: E402


def prog_table():
    return json.loads(sh("bpftool", "-j", "prog", "show"))


class Config:
    """One configuration attached for the duration of a `with`; .ids() its own programs."""

    def __init__(self, name, binary, args, micro=None, cgroup=None):
        self.name, self.binary, self.args = name, binary, args
        self.micro = micro  # a program pair of bench/micro.bpf.c
        self.cgroup = cgroup  # attach there (a cgroup of the run's own), not at the root
        self.proc = self.pins = None

    def cgpath(self):
        return os.path.join(cgroup2_mount(), self.cgroup) if self.cgroup else cgroup2_mount()

    def __enter__(self):
        cg = self.cgpath()
        if self.name == "floor" or self.micro:
            obj, self.prefix = ("micro.bpf.o", self.micro) if self.micro else \
                ("floor.bpf.o", "floor")
            self.pins = f"/sys/fs/bpf/lp-kcost-{self.name}-{os.getpid()}"
            sh("bpftool", "prog", "loadall", os.path.join(OUT, obj), self.pins)
            for d in ("ingress", "egress"):
                sh("bpftool", "cgroup", "attach", cg, d, "pinned",
                   f"{self.pins}/{self.prefix}_{d}", "multi")
        else:
            scope = ["--cgroup", "/" + self.cgroup] if self.cgroup else []
            self.proc = subprocess.Popen([self.binary, "--quiet", "--listen", "none"] + scope +
                                         self.args,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            ok, buf = read_until(self.proc, "attached")
            if not ok:
                stop_process(self.proc)
                raise RuntimeError(f"{self.name}: agent did not attach: {buf[-400:]!r}")
        return self

    def ids(self):
        if self.pins:
            return {int(json.loads(sh("bpftool", "-j", "prog", "show", "pinned",
                                      f"{self.pins}/{self.prefix}_{d}"))["id"])
                    for d in ("ingress", "egress")}
        return prog_ids_of(self.proc.pid)

    def __exit__(self, *exc):
        if self.proc:
            stop_process(self.proc)
        if self.pins:
            cg = self.cgpath()
            for d in ("ingress", "egress"):
                subprocess.run(["bpftool", "cgroup", "detach", cg, d, "pinned",
                                f"{self.pins}/{self.prefix}_{d}"], capture_output=True)
            subprocess.run(["rm", "-rf", self.pins])


def stats(ids):
    return {p["id"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in prog_table() if p["id"] in ids}


PLACEMENTS = {"split": ("1", "0"), "same": ("0", "0"), "free": (None, None)}


# HTTP/2 modes: h2load's connections and streams at once on each
H2_MODES = {"h2": (32, 1), "h2mux": (4, 8)}


def measure(cfg, ngx, mode, seconds, cpus=None):
    with cfg:
        ids = cfg.ids()
        if not ids:
            raise RuntimeError(f"{cfg.name}: found no programs of its own")
        s0 = stats(ids)
        if mode == "pingpong":
            res = pingpong(cfg.cgroup, cpus)
        elif mode == "grpc":
            res = h2load(ngx.grpc_url, seconds, 4, 1, cpus, GRPC_ARGS)
        elif mode in H2_MODES:
            res = h2load(ngx.h2url, seconds, *H2_MODES[mode], cpus)
        elif mode == "keepalive6":
            res = wrk(ngx.url6, seconds, 32, False, cpus)
        else:
            res = wrk(ngx.url, seconds, 32, mode == "close", cpus)
        s1 = stats(ids)
    ns = sum(s1[i][0] - s0[i][0] for i in ids)
    runs = sum(s1[i][1] - s0[i][1] for i in ids)
    return {"ns_per_request": ns / max(1, res["requests"]),
            "runs_per_request": runs / max(1, res["requests"]),
            "ns_per_run": ns / max(1, runs), "rps": res["rps"]}


PINGPONG_TRIPS = 10000

# gRPC: unary calls of tests/e2e/grpc_peer.py's Echo service (python3-grpcio), from
# h2load: a message b"0 0" (no delay, status OK) in gRPC's framing, as POST
GRPC_BODY = os.path.join(OUT, "grpc-unary.bin")
GRPC_ARGS = ["-d", GRPC_BODY, "-H", "content-type: application/grpc", "-H", "te: trailers"]


def grpc_server(cpus):
    """tests/e2e/grpc_peer.py's server on the server's CPU, and the body of a call."""
    os.makedirs(OUT, exist_ok=True)
    with open(GRPC_BODY, "wb") as f:
        f.write(b"\x00" + len(b"0 0").to_bytes(4, "big") + b"0 0")
    srv = GrpcServer(prefix=["taskset", "-c", cpus] if cpus else ())
    srv.__enter__()
    srv.url = f"http://127.0.0.1:{srv.port}/lp.test.Echo/Unary"
    return srv


def pingpong(cgroup, cpus):
    """bench/pingpong.py inside the cgroup: a connection that is not HTTP."""
    path = os.path.join(cgroup2_mount(), cgroup)
    place = f"{cpus[0]},{cpus[1]}" if cpus and cpus[0] is not None else ""
    r = subprocess.run(["sh", "-c", f'echo $$ > {path}/cgroup.procs && exec "$@"', "sh",
                        sys.executable, os.path.join(HERE, "pingpong.py"),
                        "--trips", str(PINGPONG_TRIPS)] + (["--cpus", place] if place else []),
                       capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise RuntimeError(f"pingpong failed: {r.stderr[-400:]}")
    got = json.loads(r.stdout)
    return {"requests": got["trips"], "rps": got["trips"] / got["seconds"]}


def routes_file(n):
    """n routes, as a service's API might have them; the benchmark's /4k.bin is one."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"routes{n}.txt")
    with open(path, "w") as f:
        f.write("bench=/4k.bin\n")
        for i in range(n - 1):
            f.write(f"r{i}=/api/v{i % 3 + 1}/resource{i}\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modes", default="keepalive,close,h2,h2mux,pingpong")
    ap.add_argument("--binary", default=os.path.join(ROOT, "latprobe"))
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=ARGS: another latprobe configuration (space-separated args)")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=BINARY[:ARGS]: another agent binary (e.g. a stage cut)")
    ap.add_argument("--micro", action="append", default=[],
                    help="NAME: a program pair of bench/micro.bpf.c (m_storage, m_clock, ...)")
    ap.add_argument("--only", default="",
                    help="comma-separated configurations to run (default: all)")
    ap.add_argument("--routes", default="10,256",
                    help="route counts to measure (configurations routesN); '' for none")
    ap.add_argument("--placement", default="split",
                    help="comma-separated CPU placements of nginx and wrk: split, same, free")
    ap.add_argument("--json", default=os.path.join(OUT, "kcost.json"))
    a = ap.parse_args()
    for p in a.placement.split(","):
        if p not in PLACEMENTS:
            sys.exit(f"bench/kcost.py: --placement {p}: not one of {', '.join(PLACEMENTS)}")
    if os.cpu_count() < 2 and "split" in a.placement.split(","):
        sys.exit("bench/kcost.py: --placement split needs two CPUs")
    if os.geteuid() != 0:
        sys.exit("bench/kcost.py: needs root (sudo)")
    if not os.path.exists(os.path.join(OUT, "floor.bpf.o")):
        sys.exit("bench/kcost.py: build the floor first (make .output/bench/floor.bpf.o)")
    configs = {"floor": [], "both": [], "server": ["--side", "server"]}
    for n in filter(None, a.routes.split(",")):
        configs[f"routes{n}"] = ["--routes-file", routes_file(int(n))]
    binaries = {}
    for e in a.extra:
        name, _, args = e.partition("=")
        configs[name] = args.split()
    for e in a.variant:
        name, _, rest = e.partition("=")
        binary, _, args = rest.partition(":")
        configs[name] = args.split()
        binaries[name] = binary
    micros = set(a.micro)
    for name in a.micro:
        configs[name] = []
    if a.only:
        keep = set(a.only.split(",")) | {"floor"} | micros | set(binaries)
        configs = {k: v for k, v in configs.items() if k in keep}
    random.seed(2)
    result = {"seconds": a.seconds, "rounds": a.rounds, "configs": configs, "modes": {}}
    with bpf_stats():
        for place in a.placement.split(","):
            server_cpu, client_cpu = PLACEMENTS[place]
            ngx = Nginx(cpus=server_cpu)
            grpc = grpc_server(server_cpu) if "grpc" in a.modes.split(",") else None
            ngx.grpc_url = grpc.url if grpc else None
            cgdir = f"latprobe-kcost-{os.getpid()}"
            os.makedirs(os.path.join(cgroup2_mount(), cgdir), exist_ok=True)
            try:
                for mode in a.modes.split(","):
                    # the ping-pong's programs see its cgroup only: nothing else's traffic
                    cg = cgdir if mode == "pingpong" else None
                    runs = {c: [] for c in configs}
                    name = mode if place == "split" else f"{mode}, {place}"
                    for r in range(a.rounds):
                        order = list(configs)
                        random.shuffle(order)
                        for c in order:
                            m = measure(Config(c, binaries.get(c, a.binary), configs[c],
                                               c if c in micros else None, cg), ngx, mode,
                                        a.seconds, (server_cpu, client_cpu) if cg else client_cpu)
                            runs[c].append(m)
                            print(f"  {name} round {r + 1} {c:<8} {m['ns_per_request']:7.0f} "
                                  f"ns/request {m['runs_per_request']:4.1f} runs/request "
                                  f"{m['ns_per_run']:5.0f} ns/run {m['rps']:8.0f} req/s",
                                  flush=True)
                    result["modes"][name] = runs
            finally:
                ngx.stop()
                if grpc:
                    grpc.__exit__(None, None, None)
                remove_cgroup(os.path.join(cgroup2_mount(), cgdir), must=False)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    report(result)


def report(result):
    for mode, runs in result["modes"].items():
        kind = mode.split(",")[0]
        load = {"h2": "h2load -c32 -m1", "h2mux": "h2load -c4 -m8"}.get(kind, "wrk -t1 -c32")
        if kind == "grpc":
            print(f"\nkernel cost, {mode}: gRPC unary calls (tests/e2e/grpc_peer.py, python3-"
                  f"grpcio) from h2load -c4 -m1, {result['rounds']} interleaved rounds of "
                  f"{result['seconds']} s, bpf_stats of each configuration's own programs")
        elif kind == "pingpong":
            print(f"\nkernel cost, {mode}: not HTTP, bench/pingpong.py (one connection, "
                  f"{PINGPONG_TRIPS} round trips of 32 + 7 bytes) in a cgroup of its own, every "
                  f"configuration attached there, {result['rounds']} interleaved rounds; "
                  f"a request is a round trip")
        else:
            print(f"\nkernel cost, {mode}: nginx 4 KB, {load}, {result['rounds']} interleaved "
                  f"rounds of {result['seconds']} s, bpf_stats of each configuration's own "
                  f"programs")
        print(f"{'config':<8} {'ns/request':>10} {'min':>6} {'max':>6} {'x floor':>8} "
              f"{'per round':>22} {'runs/req':>8}")
        floors = [r["ns_per_request"] for r in runs["floor"]]
        floor = statistics.median(floors)
        for c, rs in runs.items():
            ns = [r["ns_per_request"] for r in rs]
            # the ratio of each round to the floor of the same round, then the median
            per_round = [n / f for n, f in zip(ns, floors)]
            print(f"{c:<8} {statistics.median(ns):>10.0f} {min(ns):>6.0f} {max(ns):>6.0f} "
                  f"{statistics.median(ns) / floor:>8.2f} "
                  f"{' '.join(f'{x:.2f}' for x in per_round):>22} "
                  f"{statistics.median(r['runs_per_request'] for r in rs):>8.1f}"
                  f"{statistics.median(r['ns_per_run'] for r in rs):>8.0f} ns/run")


if __name__ == "__main__":
    main()
