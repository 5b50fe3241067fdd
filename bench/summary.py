#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""One table of every target of `make bench`, from the JSON the benchmarks
wrote (.output/bench/{overhead,kcost,accuracy,scale}.json), each with its figure and
a verdict. usage: bench/summary.py [DIR]"""
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(HERE), ".output",
                                                         "bench")


def load(name):
    try:
        with open(os.path.join(DIR, name + ".json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def med(runs, c):
    return statistics.median(r["rps"] for r in runs[c])


def main():
    rows = []

    def row(target, figure, ok):
        rows.append((target, figure, "met" if ok else "MISSED"))

    ov = load("overhead")
    if ov:
        for mode, m in ov["modes"].items():
            r = m["runs"]
            base, lp, fl, bt, rb = (med(r, c) for c in
                                    ("baseline", "latprobe", "floor", "bpftrace", "ringbuf"))
            row(f"{mode}: latprobe >= 98 % of the floor's req/s",
                f"{lp / fl:.3f} (latprobe {lp / base:.3f}, floor {fl / base:.3f}, "
                f"ringbuf {rb / base:.3f} of baseline)", lp / fl >= 0.98)
            lp_loss, bt_loss = 1 - lp / base, 1 - bt / base
            row(f"{mode}: latprobe's loss <= half bpftrace's",
                f"{lp_loss * 100:.1f} % vs bpftrace {bt_loss * 100:.1f} %",
                lp_loss <= bt_loss / 2)
            k = m["kernel"]
            own = k["latprobe"]["ns_per_request"]
            row(f"{mode}: kernel time <= 300 ns per request",
                f"{own:.0f} ns (floor's empty programs {k['floor']['ns_per_request']:.0f} ns; "
                f"ringbuf {k['ringbuf']['ns_per_request']:.0f} ns)", own <= 300)
            cpu = m["cpu_per_request"]
            rows.append((f"{mode}: CPU per request added at 4 connections",
                         f"+{(cpu['latprobe'] - cpu['baseline']) * 1e9:.0f} ns "
                         f"({cpu['baseline'] * 1e6:.1f} us baseline)", "figure"))
    kc = load("kcost")
    if kc:
        for mode, runs in kc["modes"].items():
            if not mode.startswith("pingpong") or "floor" not in runs:
                continue
            fl = statistics.median(r["ns_per_run"] for r in runs["floor"])
            for c in ("both", "server"):
                if c in runs:
                    ns = statistics.median(r["ns_per_run"] for r in runs[c])
                    row(f"{mode}: not HTTP, {c}: <= 2x the empty pair per run",
                        f"{ns:.0f} ns/run, {ns / fl:.2f}x (floor {fl:.0f} ns)", ns <= 2 * fl)
    acc = load("accuracy")
    if acc:
        from accuracy import SCHEMAS, DISTS, schema_bound, verdict
        for s in SCHEMAS:
            worst, beyond, v = verdict(acc, s)
            b = schema_bound(s)
            rows.append((f"quantile error at schema {s} <= {b * 100:.2f} %",
                         f"worst {worst * 100:.2f} % (p50..p99.9, two distributions); "
                         f"{beyond * 100:.2f} % beyond the reference's uncertainty", v))
        otel = max(abs(q["otel"]["error"]) for d in DISTS for q in acc[d]["quantiles"])
        rows.append(("OTel fixed buckets, linear interpolation", f"worst {otel * 100:.1f} %",
                     "figure"))
        for d in DISTS:
            sl = acc[d]["slo"]
            diff = max(abs(g - sl["truth_good"]) for g in sl["latprobe_good"])
            row(f"{d}: SLO good count at 10 ms = truth", f"differs by {diff} "
                f"(within the offset of 10 ms: {sl['near_threshold']}; "
                f"truth {sl['truth_good']}/{acc[d]['n']})", diff <= sl["near_threshold"])
    sc = load("scale")
    if sc:
        for r in sc:
            n = r["series"]
            cs = r["collect_s"] + r["scrape"]["text"]["median_s"]
            pb = r["collect_s"] + r["scrape"]["protobuf"]["median_s"]
            fig = (f"collect {r['collect_s'] * 1e3:.0f} + scrape text "
                   f"{r['scrape']['text']['median_s'] * 1e3:.0f} / protobuf "
                   f"{r['scrape']['protobuf']['median_s'] * 1e3:.0f} ms; RSS "
                   f"{r['rss'] / 2**20:.1f} MiB (peak {r['rss_peak'] / 2**20:.0f}); idle CPU "
                   f"{r['cpu_idle'] * 100:.2f} %; maps {sum(r['maps'].values()) / 2**20:.1f} MiB")
            if 5000 <= n <= 20000:
                row(f"{n} series: collection + scrape < 50 ms", fig, max(cs, pb) < 0.05)
                row(f"{n} series: resident memory < 32 MiB", f"{r['rss'] / 2**20:.1f} MiB",
                    r["rss"] < 32 * 2**20)
                row(f"{n} series: idle CPU < 0.1 % of a core", f"{r['cpu_idle'] * 100:.2f} %",
                    r["cpu_idle"] < 0.001)
                rates = r.get("cpu_at_rate", [])
                if len(rates) == 2:
                    a, b = rates
                    row(f"{n} series: agent CPU flat in the request rate",
                        f"{a['cpu'] * 100:.2f} % at {a['rps']:.0f} req/s, "
                        f"{b['cpu'] * 100:.2f} % at {b['rps']:.0f} req/s",
                        b["cpu"] <= a["cpu"] + 0.01)
            else:
                rows.append((f"{n} series", fig, "figure"))
    if not rows:
        sys.exit(f"no benchmark results in {DIR}")
    w = max(len(t) for t, _, _ in rows)
    print(f"\n{'target':<{w}}  {'verdict':<7}  figure")
    for t, f, v in rows:
        print(f"{t:<{w}}  {v:<7}  {f}")


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
