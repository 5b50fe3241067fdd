#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Resident memory of an agent pushing to dead sinks for a bounded time:
a Pushgateway URL that accepts and never answers, one that refuses, an
InfluxDB that answers 500, a name that does not resolve; every second, with
a little traffic. Prints VmRSS at start and every minute.

usage: sudo bench/deadsink.py [MINUTES]   (default 10; $LATPROBE: another binary)"""
import http.server, os, socket, subprocess, sys, threading, time, urllib.request
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from lpharness import free_port, rss_kib as rss  # noqa: E402

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_POST
    def log_message(self, *a): pass

minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10
hang = socket.socket(); hang.bind(("127.0.0.1", 0)); hang.listen(1024)
s500 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=s500.serve_forever, daemon=True).start()
web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=web.serve_forever, daemon=True).start()
refused = free_port()
q = "?interval=1s&timeout=1s"
agent = subprocess.Popen([os.environ.get("LATPROBE", os.path.join(ROOT, "latprobe")), "-q", "-i", "1s", "--listen", "none",
    "--push", f"pushgateway+http://127.0.0.1:{hang.getsockname()[1]}{q}",
    "--push", f"pushgateway+http://127.0.0.1:{refused}{q}",
    "--push", f"influxdb://127.0.0.1:{s500.server_address[1]}/db{q}",
    "--push", f"pushgateway+http://no-such-host.invalid{q}"],
    stdout=subprocess.DEVNULL, stderr=open("/tmp/deadsink-agent.log", "w"))
time.sleep(3)
start = rss(agent.pid)
print(f"start: {start} KiB", flush=True)
t_end = time.monotonic() + minutes * 60
nxt = time.monotonic() + 60
while time.monotonic() < t_end and agent.poll() is None:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{web.server_address[1]}/x", timeout=2)
    except Exception:
        pass
    time.sleep(1)
    if time.monotonic() >= nxt:
        print(f"{(time.monotonic() - t_end) / 60 + minutes:.0f} min: {rss(agent.pid)} KiB", flush=True)
        nxt += 60
if agent.poll() is not None:
    sys.exit(f"the agent exited ({agent.returncode}) after {minutes * 60 - (t_end - time.monotonic()):.0f} s")
end = rss(agent.pid)
agent.terminate(); agent.wait()
print(f"end after {minutes:g} min: {end} KiB (start {start} KiB, {end - start:+d} KiB); exit {agent.returncode}")
