#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Scrape cost at a given number of series: body size and the time to build
and send /metrics, per format (text, OpenMetrics, protobuf; plain and gzip).

usage: sudo bench/scrape.py [SERIES]   (default 1000; half server side, half
client side: SERIES/2 distinct (port, status) pairs on loopback)

Prints one table; medians of 20 scrapes each, interleaved across formats.
"""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join(os.path.dirname(HERE), "latprobe")
STATUSES = 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = int(self.path.split("=", 1)[1]) if "=" in self.path else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if os.geteuid() != 0:
        sys.exit("bench/scrape.py: needs root to attach the agent (sudo)")
    want = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    nports = max(1, want // 2 // STATUSES)
    servers = []
    for _ in range(nports):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    port = free_port()
    agent = subprocess.Popen([BINARY, "-q", "--listen", f"127.0.0.1:{port}", "-i", "1s",
                              "--max-series", str(max(16384, 2 * want))],
                             stderr=subprocess.PIPE, text=True)
    while "serving" not in agent.stderr.readline():
        if agent.poll() is not None:
            sys.exit("latprobe did not start")
    # one request per (port, status): a server and a client series each
    for srv in servers:
        p = srv.server_address[1]
        urls = [f"http://127.0.0.1:{p}/?s={400 + i}" for i in range(STATUSES)]
        args = ["curl", "-s"]
        for u in urls:
            args += ["-o", "/dev/null", u]
        subprocess.run(args, check=False)
    time.sleep(2.5)
    url = f"http://127.0.0.1:{port}/metrics"
    fmts = {
        "text": {},
        "openmetrics": {"Accept": "application/openmetrics-text;version=1.0.0"},
        "protobuf": {"Accept": "application/vnd.google.protobuf;"
                               "proto=io.prometheus.client.MetricFamily;encoding=delimited"},
    }
    times = {(f, gz): [] for f in fmts for gz in (False, True)}
    sizes = {}
    for _ in range(20):
        for f, hdr in fmts.items():
            for gz in (False, True):
                h = dict(hdr)
                if gz:
                    h["Accept-Encoding"] = "gzip"
                t0 = time.perf_counter()
                with urllib.request.urlopen(urllib.request.Request(url, headers=h)) as r:
                    body = r.read()
                times[(f, gz)].append(time.perf_counter() - t0)
                sizes[(f, gz)] = len(body)
    with urllib.request.urlopen(url) as r:
        text = r.read().decode()
    nseries = int(float(text.split("\nlatprobe_series ")[1].split()[0]))
    collect = float(text.split("\nlatprobe_collection_duration_seconds ")[1].split()[0])
    rss = float(text.split("\nprocess_resident_memory_bytes ")[1].split()[0])
    agent.terminate()
    agent.wait()
    print(f"series in the kernel map: {nseries}  collection: {collect * 1e3:.2f} ms  "
          f"agent RSS: {rss / 2**20:.1f} MiB")
    print(f"{'format':<12} {'gzip':<5} {'body bytes':>11} {'scrape ms (median)':>19} "
          f"{'min':>7} {'max':>7}")
    for (f, gz), ts in times.items():
        print(f"{f:<12} {'yes' if gz else 'no':<5} {sizes[(f, gz)]:>11} "
              f"{statistics.median(ts) * 1e3:>19.2f} {min(ts) * 1e3:>7.2f} "
              f"{max(ts) * 1e3:>7.2f}")


if __name__ == "__main__":
    main()
