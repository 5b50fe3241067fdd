#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Cost of HTTPS timing: nginx over TLS serving a 4 KB file on loopback, wrk
driving it over https keep-alive (-t1 -c32), both ends through OpenSSL's
libssl (so each request passes the uprobes twice: nginx's SSL_read and
SSL_write, wrk's SSL_write and SSL_read). Mode h2: the same file over
HTTP/2 inside TLS (ALPN h2), h2load -c32 -m1 (nghttp2 through OpenSSL too).

Interleaved rounds, each configuration once per round in a shuffled order:
  none     no agent: the throughput without probes
  agent    latprobe with its defaults (HTTPS on)
  notls    latprobe --no-tls (plaintext only: cgroup_skb sees ciphertext)
With kernel.bpf_stats_enabled=1 (restored after): the agent's own programs'
run time per request (its programs told apart by the agent's pid), split
into the uprobe programs (lp_tls_*) and the cgroup_skb pair, and the
uprobe hits per request (their run counts: each one a trap into the kernel
and back, which bpf_stats does not time).

  (+ any --variant NAME=BINARY: e.g. bench/build_stage.sh's TLS cuts, whose
   return programs, or both, stop at once: the traps' own cost)

usage: sudo bench/tlscost.py [--seconds 4] [--rounds 3] [--binary ./latprobe]
                             [--variant NAME=BINARY] [--modes https,h2]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, ".output", "bench")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from overhead import Nginx, bpf_stats, h2load, sh, wrk  # noqa: E402
from lpharness import prog_ids_of, read_until, stop_process, wait_port  # noqa: E402


class NginxTLS(Nginx):
    """overhead.py's nginx over HTTPS, with a self-signed certificate of its own."""

    def __init__(self):
        self.certs = tempfile.mkdtemp(prefix="lp-bench-tls-")
        cert, key = os.path.join(self.certs, "cert.pem"), os.path.join(self.certs, "key.pem")
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
           "-subj", "/CN=localhost", "-keyout", key, "-out", cert)
        super().__init__(tls=(cert, key))
        wait_port(self.port)

    def stop(self):
        super().stop()
        shutil.rmtree(self.certs, ignore_errors=True)


def programs(pid):
    """The agent's programs: {id: (name, run_time_ns, run_cnt)}."""
    ids = prog_ids_of(pid)
    return {p["id"]: (p.get("name", ""), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(sh("bpftool", "-j", "prog", "show")) if p["id"] in ids}


def measure(config, binary, load, seconds):
    proc = None
    if config != "none":
        args = [binary, "--quiet", "--listen", "none"] + (["--no-tls"] if config == "notls"
                                                          else [])
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        text = "attached" if config == "notls" else "TLS: probing"
        ok, buf = read_until(proc, text, timeout=30)
        if not ok:
            stop_process(proc)
            raise RuntimeError(f"{config}: the agent did not start: {buf[-400:]!r}")
        time.sleep(0.5)
    try:
        before = programs(proc.pid) if proc else {}
        res = load(seconds)
        after = programs(proc.pid) if proc else {}
    finally:
        if proc:
            stop_process(proc)
    tls = skb = hits = 0
    for i, (name, ns, cnt) in after.items():
        d = ns - before.get(i, (name, 0, 0))[1]
        if name.startswith("lp_tls"):
            tls += d
            hits += cnt - before.get(i, (name, 0, 0))[2]
        else:
            skb += d
    n = max(1, res["requests"])
    return {"rps": res["rps"], "tls_ns": tls / n, "skb_ns": skb / n, "hits": hits / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "latprobe"))
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=BINARY: another agent (e.g. a TLS stage cut, LP_TLS_STAGE)")
    ap.add_argument("--modes", default="https",
                    help="https (wrk, HTTP/1.1) and/or h2 (h2load, ALPN h2), comma-separated")
    ap.add_argument("--json", default=os.path.join(OUT, "tlscost.json"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/tlscost.py: needs root (sudo)")
    configs = ["none", "agent", "notls"]
    binaries = {c: a.binary for c in configs}
    for v in a.variant:
        name, _, binary = v.partition("=")
        configs.append(name)
        binaries[name] = binary
    random.seed(3)
    ngx = NginxTLS()
    loads = {"https": (lambda sec: wrk(ngx.url, sec, 32, False), "wrk -t1 -c32 keep-alive"),
             "h2": (lambda sec: h2load(ngx.h2url, sec, 32, 1), "h2load -c32 -m1, ALPN h2")}
    modes = a.modes.split(",")
    for m in modes:
        if m not in loads:
            sys.exit(f"bench/tlscost.py: --modes {m}: not one of {', '.join(loads)}")
    runs = {m: {c: [] for c in configs} for m in modes}
    try:
        with bpf_stats():
            for mode in modes:
                for r in range(a.rounds):
                    order = list(configs)
                    random.shuffle(order)
                    for c in order:
                        m = measure(c, binaries[c], loads[mode][0], a.seconds)
                        runs[mode][c].append(m)
                        print(f"  {mode} round {r + 1} {c:<6} {m['rps']:8.0f} req/s  uprobes "
                              f"{m['tls_ns']:6.0f} ns/request ({m['hits']:4.1f} hits)  "
                              f"cgroup_skb {m['skb_ns']:6.0f} ns/request", flush=True)
    finally:
        ngx.stop()
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"seconds": a.seconds, "rounds": a.rounds, "runs": runs}, f, indent=1)
    for mode in modes:
        report(mode, loads[mode][1], runs[mode], configs, a)


def report(mode, load, runs, configs, a):
    base = [m["rps"] for m in runs["none"]]
    print(f"\nHTTPS cost ({mode}): nginx 4 KB over TLS, {load}, {a.rounds} interleaved "
          f"rounds of {a.seconds} s")
    print(f"{'config':<7} {'req/s':>8} {'x none':>7} {'uprobes ns/req':>15} "
          f"{'hits/req':>8} {'ns/hit':>7} {'cgroup_skb ns/req':>18}")
    for c in configs:
        rs = runs[c]
        rps = statistics.median(m["rps"] for m in rs)
        ratio = statistics.median(m["rps"] / b for m, b in zip(rs, base))
        tls = statistics.median(m['tls_ns'] for m in rs)
        hits = statistics.median(m.get('hits', 0) for m in rs)
        print(f"{c:<7} {rps:>8.0f} {ratio:>7.3f} {tls:>15.0f} {hits:>8.1f} "
              f"{tls / hits if hits else 0:>7.0f} "
              f"{statistics.median(m['skb_ns'] for m in rs):>18.0f}")


if __name__ == "__main__":
    main()
