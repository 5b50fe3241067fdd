#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Where the kernel time goes: build the programs cut off after each stage
(LP_STAGE in bpf/latprobe.bpf.c), run wrk against URL with bpf_stats on, and
print ns per HTTP request and per program run for the agent's programs only.
Rebuilds the real agent at the end.

usage: sudo bench/stages.py URL   (e.g. an nginx on loopback serving 4 KB)
"""
import json, subprocess, time, re, os, sys
os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
def progs():
    return {p["id"]: p for p in json.loads(subprocess.check_output(["bpftool","-j","prog","show"])) if p.get("name","").startswith("latprobe_")}
url = sys.argv[1]
for st in [1, 2, 3, 4, 0] * 2:
    subprocess.check_call(f"clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -DLP_STAGE={st} -Wall -Wextra -Werror -Wno-unused-function -Iinclude -I/usr/include/x86_64-linux-gnu -c bpf/latprobe.bpf.c -o .output/latprobe.bpf.o && bpftool gen skeleton .output/latprobe.bpf.o name latprobe_bpf > .output/latprobe.skel.h && make -s latprobe >/dev/null", shell=True)
    old = set(progs())
    a = subprocess.Popen(["./latprobe","--quiet","--listen","none"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    new = [i for i in progs() if i not in old]
    open("/proc/sys/kernel/bpf_stats_enabled","w").write("1")
    p0 = progs()
    out = subprocess.check_output(["wrk","-t1","-c32","-d4s",url], text=True)
    p1 = progs()
    open("/proc/sys/kernel/bpf_stats_enabled","w").write("0")
    a.terminate(); a.wait(); time.sleep(1.5)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    t = sum(p1[i]["run_time_ns"] - p0[i].get("run_time_ns",0) for i in new)
    c = sum(p1[i]["run_cnt"] - p0[i].get("run_cnt",0) for i in new)
    print(f"stage {st}: {t/n:6.0f} ns/request {c/n:4.1f} runs/request {t/max(c,1):5.0f} ns/run  {n/4:8.0f} req/s", flush=True)
subprocess.check_call("touch bpf/latprobe.bpf.c && make -s latprobe", shell=True)
