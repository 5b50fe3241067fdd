#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Overhead of latprobe against the floor and the peers, side by side.

nginx serves a 4 KB file on loopback; wrk drives it. Each round runs every
configuration once, in a shuffled order (interleaved rounds, so drift and
noise hit all alike):
  baseline   nothing attached
  latprobe   the agent, defaults (--quiet --listen none)
  floor      an empty cgroup_skb ingress+egress pair that only allows
  bpftrace   read-to-write time per (pid, fd) of nginx on syscall tracepoints
  ringbuf    an event per request and response start through a BPF ring
             buffer to a user-space consumer that pairs them
Keep-alive and Connection: close (a new socket, and per-socket storage, for
every request). Then, with kernel.bpf_stats_enabled=1 (restored after), one
round per BPF configuration for the kernel time of its programs, and a run
with few connections for the CPU time per request the probe adds.

usage: sudo bench/overhead.py [--seconds 8] [--rounds 5] [--json OUT]
"""
import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, ".output", "bench")
LATPROBE = os.path.join(ROOT, "latprobe")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from lpharness import cgroup2_mount, read_until  # noqa: E402

CONFIGS = ["baseline", "latprobe", "floor", "bpftrace", "ringbuf"]

BPFTRACE = r"""
tracepoint:syscalls:sys_enter_recvfrom, tracepoint:syscalls:sys_enter_read
/comm == "nginx"/ { @fd[tid] = args->fd + 1; }
tracepoint:syscalls:sys_exit_recvfrom, tracepoint:syscalls:sys_exit_read
/@fd[tid]/ {
  if (args->ret > 0 && !@start[pid, @fd[tid] - 1]) { @start[pid, @fd[tid] - 1] = nsecs; }
  delete(@fd[tid]);
}
tracepoint:syscalls:sys_enter_writev, tracepoint:syscalls:sys_enter_write
/comm == "nginx" && @start[pid, args->fd]/ {
  @usecs = hist((nsecs - @start[pid, args->fd]) / 1000);
  delete(@start[pid, args->fd]);
}
"""


@contextlib.contextmanager
def bpf_stats():
    """kernel.bpf_stats_enabled=1 while inside, as it was after."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        before = f.read().strip()
    with open(path, "w") as f:
        f.write("1")
    try:
        yield
    finally:
        with open(path, "w") as f:
            f.write(before)


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


class Nginx:
    """nginx serving a 4 KB file on loopback; tls=(cert, key): over HTTPS."""

    def __init__(self, tls=None, cpus=None):
        self.dir = tempfile.mkdtemp(prefix="lp-bench-nginx-")
        with open(os.path.join(self.dir, "4k.bin"), "wb") as f:
            f.write(os.urandom(4096))
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        conf = os.path.join(self.dir, "nginx.conf")
        ssl = " ssl" if tls else ""
        certs = f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.h2port = s.getsockname()[1]
        with open(conf, "w") as f:
            f.write(f"""daemon off; worker_processes 1; pid {self.dir}/pid;
error_log {self.dir}/error.log crit; worker_rlimit_nofile 20000;
events {{ worker_connections 10000; }}
http {{ access_log off; sendfile off; keepalive_requests 10000000; keepalive_timeout 60s;
  client_body_temp_path {self.dir}; proxy_temp_path {self.dir}; fastcgi_temp_path {self.dir};
  uwsgi_temp_path {self.dir}; scgi_temp_path {self.dir};
  server {{ listen 127.0.0.1:{self.port}{ssl}; listen [::1]:{self.port}{ssl}; {certs}
    root {self.dir}; }}
  server {{ listen 127.0.0.1:{self.h2port}{ssl} http2; {certs} root {self.dir}; }} }}
""")
        pin = ["taskset", "-c", cpus] if cpus else []
        self.proc = subprocess.Popen(pin + ["nginx", "-c", conf, "-p", self.dir])
        time.sleep(0.5)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/4k.bin"
        self.url6 = f"{'https' if tls else 'http'}://[::1]:{self.port}/4k.bin"
        # the same file over HTTP/2 (h2c with prior knowledge, or ALPN h2 with tls)
        self.h2url = f"{'https' if tls else 'http'}://127.0.0.1:{self.h2port}/4k.bin"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_line(proc, text, stream="stderr", timeout=60):
    found, buf = read_until(proc, text, stream, timeout)
    if not found:
        raise RuntimeError(f"{proc.args[0]}: no '{text}': {buf[-500:]!r}")


class Probe:
    """One configuration, attached for the duration of a `with`."""

    def __init__(self, name):
        self.name = name
        self.proc = None
        self.pins = None

    def __enter__(self):
        cg = cgroup2_mount()
        if self.name == "latprobe":
            self.proc = subprocess.Popen([LATPROBE, "--quiet", "--listen", "none"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wait_line(self.proc, "attached")
        elif self.name == "floor":
            self.pins = f"/sys/fs/bpf/lp-bench-floor-{os.getpid()}"
            sh("bpftool", "prog", "loadall", os.path.join(OUT, "floor.bpf.o"), self.pins)
            for d in ("ingress", "egress"):
                sh("bpftool", "cgroup", "attach", cg, d, "pinned", f"{self.pins}/floor_{d}",
                   "multi")
        elif self.name == "bpftrace":
            self.proc = subprocess.Popen(["bpftrace", "-e", BPFTRACE], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
            wait_line(self.proc, "Attaching", stream="stdout")
            time.sleep(0.5)
        elif self.name == "ringbuf":
            self.proc = subprocess.Popen([os.path.join(OUT, "ringbuf_consumer"), cg],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_line(self.proc, "attached")
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()
        if self.pins:
            cg = cgroup2_mount()
            for d in ("ingress", "egress"):
                subprocess.run(["bpftool", "cgroup", "detach", cg, d, "pinned",
                                f"{self.pins}/floor_{d}"], capture_output=True)
            shutil.rmtree(self.pins, ignore_errors=True)


def wrk(url, seconds, conns, close, cpus=None):
    args = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", url]
    if close:
        args[1:1] = ["-H", "Connection: close"]
    if cpus:
        args[0:0] = ["taskset", "-c", cpus]
    out = sh(*args)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": n, "rps": rps, "p99": p99, "non2xx": int(bad.group(1)) if bad else 0}


def h2load(url, seconds, conns, streams, cpus=None, extra=()):
    """h2load (nghttp2-client) for a time: its requests that succeeded, and the rate.
    extra: more h2load arguments (-d BODY, -H HEADER: gRPC calls)."""
    args = ["h2load", "-t1", f"-c{conns}", f"-m{streams}", f"-D{seconds}", *extra, url]
    if cpus:
        args[0:0] = ["taskset", "-c", cpus]
    out = sh(*args)
    n = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out).group(1))
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    return {"requests": n, "rps": rps, "p99": 0.0, "non2xx": 0}


def cpu_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v) - idle) / os.sysconf("SC_CLK_TCK")


def prog_stats(prefix):
    progs = json.loads(sh("bpftool", "-j", "prog", "show"))
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in progs if p.get("name", "").startswith(prefix)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 8)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 5)))
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--json", default=os.path.join(OUT, "overhead.json"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/overhead.py: needs root (sudo)")
    if not os.path.ismount("/sys/fs/bpf"):
        subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=True)
    if not os.path.exists("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=True)
    random.seed(1)
    ngx = Nginx()
    result = {"seconds": a.seconds, "rounds": a.rounds, "conns": a.conns, "modes": {}}
    try:
        for mode, close in (("keepalive", False), ("close", True)):
            runs = {c: [] for c in CONFIGS}
            for r in range(a.rounds):
                order = CONFIGS[:]
                random.shuffle(order)
                for c in order:
                    with Probe(c):
                        res = wrk(ngx.url, a.seconds, a.conns, close)
                    if res["non2xx"]:
                        sys.exit(f"{c}: {res['non2xx']} non-2xx responses")
                    runs[c].append(res)
                    print(f"  {mode} round {r + 1} {c:<9} {res['rps']:>10.0f} req/s "
                          f"p99 {res['p99'] * 1e6:.0f} us", flush=True)
            # kernel time of the BPF programs, with bpf_stats on (it costs a little)
            kernel = {}
            with bpf_stats():
                for c, prefix in (("latprobe", "latprobe_"), ("floor", "floor_"),
                                  ("ringbuf", "ringbuf_")):
                    with Probe(c):
                        s0 = prog_stats(prefix)
                        res = wrk(ngx.url, a.seconds, a.conns, close)
                        s1 = prog_stats(prefix)
                    per_prog = {}
                    total_ns = 0
                    for name, (t1, n1) in s1.items():
                        t0, n0 = s0.get(name, (0, 0))
                        per_prog[name] = (t1 - t0) / max(1, n1 - n0)
                        total_ns += t1 - t0
                    kernel[c] = {"ns_per_run": per_prog,
                                 "ns_per_request": total_ns / max(1, res["requests"])}
            # CPU per request at a lower load (4 connections)
            cpu = {}
            for c in ("baseline", "latprobe", "baseline", "latprobe"):
                with Probe(c):
                    c0 = cpu_busy()
                    res = wrk(ngx.url, a.seconds, 4, close)
                    c1 = cpu_busy()
                cpu.setdefault(c, []).append((c1 - c0) / res["requests"])
            result["modes"][mode] = {
                "runs": runs, "kernel": kernel,
                "cpu_per_request": {c: statistics.median(v) for c, v in cpu.items()}}
    finally:
        ngx.stop()
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    report(result)


def report(result):
    for mode, m in result["modes"].items():
        runs = m["runs"]
        base = statistics.median(r["rps"] for r in runs["baseline"])
        base_p99 = statistics.median(r["p99"] for r in runs["baseline"])
        floor = statistics.median(r["rps"] for r in runs["floor"])
        print(f"\noverhead, {mode}: nginx 4 KB, wrk -t1 -c{result['conns']}, "
              f"{result['rounds']} interleaved rounds of {result['seconds']} s")
        print(f"{'config':<10} {'req/s median':>12} {'min':>9} {'max':>9} {'/baseline':>9} "
              f"{'/floor':>7} {'p99 us':>7} {'p99 +us':>8}")
        for c in CONFIGS:
            rps = [r["rps"] for r in runs[c]]
            p99 = statistics.median(r["p99"] for r in runs[c])
            med = statistics.median(rps)
            print(f"{c:<10} {med:>12.0f} {min(rps):>9.0f} {max(rps):>9.0f} {med / base:>9.3f} "
                  f"{med / floor:>7.3f} {p99 * 1e6:>7.0f} {(p99 - base_p99) * 1e6:>8.0f}")
        for c, k in m["kernel"].items():
            runs_ns = ", ".join(f"{n} {v:.0f} ns/run" for n, v in sorted(k["ns_per_run"].items()))
            print(f"  bpf_stats {c:<9} {k['ns_per_request']:>6.0f} ns per HTTP request ({runs_ns})")
        cpu = m["cpu_per_request"]
        print(f"  CPU per request at 4 connections: baseline {cpu['baseline'] * 1e6:.2f} us, "
              f"latprobe {cpu['latprobe'] * 1e6:.2f} us "
              f"(+{(cpu['latprobe'] - cpu['baseline']) * 1e9:.0f} ns)")


if __name__ == "__main__":
    main()
