# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Routes (--route, --routes-file, --exclude-path) end to end: real nginx, curl,
wrk and raw sockets on loopback, the agent's JSON document and /metrics, a
real Prometheus and promtool. Counts are exact: the requests each test sends
are all it looks at (its own server's port)."""
import os
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from lpharness import (Agent, BINARY, Nginx, Prometheus, count, curl, free_port, http_get,
                       series, wrk)


def files(ngx, *paths):
    """Create files (and their directories) under nginx's root."""
    for p in paths:
        full = os.path.join(ngx.dir, p.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("x\n")


def routes_of(doc, port, side="server"):
    """{(route, status): count} of one port and side."""
    out = {}
    for s in series(doc, side=side, port=port, metric="duration"):
        k = (s["route"], s["status"])
        out[k] = out.get(k, 0) + s["count"]
    return out


def raw_request(port, parts, pause=0.05):
    """One request sent in several segments (TCP_NODELAY, a pause between
    sends); returns the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, p in enumerate(parts):
            if i:
                time.sleep(pause)
            s.sendall(p)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        # read the rest (Connection: close) so the response is whole before we close
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
    return data.split(b"\r\n", 1)[0].decode()


class Routes(unittest.TestCase):
    def test_exact_counts_per_route_and_every_target_form(self):
        with Nginx() as ngx:
            files(ngx, "/api/cart/checkout", "/api/users/1", "/static/app.js")
            args = ["--route", "checkout=/api/cart/checkout", "--route", "/api/users",
                    "--route", "/static/", "-i", "1s"]
            with Agent(*args) as agent:
                u = ngx.url
                self.assertEqual(curl(*[u("/api/cart/checkout")] * 3), [200] * 3)
                self.assertEqual(curl(*[u("/api/users/1")] * 4, u("/api/users/2"),
                                      u("/api/users?id=1"), u("/api/usersX")),
                                 [200] * 4 + [404, 301, 404])
                self.assertEqual(curl(*[u("/static/app.js")] * 2), [200] * 2)
                self.assertEqual(curl(u("/index.html"), u("/4k.bin"), u("/")), [200] * 3)
                # a 2 KB path under a route, and one under none
                self.assertEqual(curl(u("/static/" + "a" * 2048), u("/" + "b" * 2048)),
                                 [404, 404])
                # absolute-form (what a proxy receives): matched on its path
                r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    "--proxy", f"127.0.0.1:{ngx.port}",
                                    "http://shop.example/api/users/1"],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.stdout, "200")
                time.sleep(1.5)
                doc = agent.stop()
        got = routes_of(doc, ngx.port)
        self.assertEqual(got, {
            ("checkout", 200): 3,
            ("/api/users", 200): 5,     # four, and the absolute-form one
            ("/api/users", 404): 1,     # /api/users/2
            ("/api/users", 301): 1,     # /api/users?id=1 (a directory)
            ("/static/", 200): 2,
            ("/static/", 404): 1,       # the 2 KB path under /static/
            ("unrouted", 200): 3,
            ("unrouted", 404): 2,       # /api/usersX (not under /api/users) and /bbb...
        }, doc["counters"])
        # the client side of the same requests (curl on this node) carries the same routes
        self.assertEqual(routes_of(doc, ngx.port, side="client"), got)

    def test_a_request_line_split_across_segments_never_gets_a_wrong_route(self):
        with Nginx() as ngx:
            files(ngx, "/api/users/1")
            with Agent("--route", "/api/users", "--route", "/api/", "-i", "1s") as agent:
                # the path is cut at "/api/us": it could be /api/users or /api/usb
                line = raw_request(ngx.port, [b"GET /api/us",
                                              b"ers/1 HTTP/1.1\r\nHost: x\r\n"
                                              b"Connection: close\r\n\r\n"])
                self.assertIn(" 200 ", line)
                # cut after the whole path: the route is certain
                line = raw_request(ngx.port, [b"GET /api/users/1 HT",
                                              b"TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])
                self.assertIn(" 200 ", line)
                time.sleep(1.5)
                doc = agent.stop()
        got = routes_of(doc, ngx.port)
        self.assertEqual(got, {("unrouted", 200): 1, ("/api/users", 200): 1}, doc["counters"])

    def test_excluded_health_checks_stay_out_of_the_slo(self):
        with Nginx() as ngx:
            files(ngx, "/healthz", "/api/orders")
            args = ["--route", "/api/", "--exclude-path", "/healthz", "-i", "1s",
                    "--slo", "name=api,route=/api/,side=server,threshold=1s,objective=99%"]
            with Agent(*args) as agent:
                n = 30
                # health checks hammered by wrk while the real requests run
                proc = subprocess.Popen(["wrk", "-t1", "-c8", "-d4s", ngx.url("/healthz")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
                try:
                    time.sleep(0.5)
                    self.assertEqual(curl(*[ngx.url("/api/orders")] * n), [200] * n)
                    out, _ = proc.communicate(timeout=60)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                health = int(out.split(" requests in")[0].split()[-1])
                time.sleep(1.5)
                doc = agent.stop()
        self.assertGreater(health, 1000, out)
        # the SLO of the real route: exactly the n requests, all good
        slo = [s for s in doc["slos"] if s["name"] == "api"][0]
        self.assertEqual(slo["route"], "/api/")
        self.assertEqual((slo["windows"][0]["total"], slo["windows"][0]["good"]), (n, n))
        # no series holds a health check: only /api/ on this port
        self.assertEqual(routes_of(doc, ngx.port), {("/api/", 200): n})
        # the health checks are counted, per side: wrk's responses (plus what was in
        # flight when it stopped, at most one a connection)
        ex = doc["excluded"][0]
        self.assertEqual(ex["path"], "/healthz")
        self.assertTrue(health <= ex["server"] <= health + 8, (health, ex))
        self.assertTrue(health <= ex["client"] <= health + 8, (health, ex))

    def test_a_bad_routes_file_exits_2_naming_the_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".routes", delete=False) as f:
            f.write("# shop\ncheckout=/api/cart/checkout\n\nusers=api/users\n")
        try:
            r = subprocess.run([BINARY, "--routes-file", f.name, "--duration", "1s"],
                               capture_output=True, text=True, timeout=30)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{f.name}:4:", r.stderr)
        self.assertIn("'users=api/users'", r.stderr)
        r = subprocess.run([BINARY, "--slo", "route=/nope,threshold=1s,objective=99%",
                            "--route", "/api", "--duration", "1s"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("route '/nope' is not the label of a --route", r.stderr)

    def test_route_slo_through_prometheus_and_promtool(self):
        port = free_port()
        with tempfile.NamedTemporaryFile("w", suffix=".routes", delete=False) as rf:
            rf.write("# the shop's routes\nusers=/api/users\ncheckout=/api/cart/checkout\n")
        try:
            with Nginx() as ngx:
                files(ngx, "/api/users/1", "/healthz")
                args = ["--listen", f"127.0.0.1:{port}", "-i", "1s", "--routes-file", rf.name,
                        "--exclude-path", "/healthz", "--side", "server",
                        "--slo", "name=users_get,route=users,method=GET,threshold=1s,"
                                 "objective=99%"]
                with Agent(*args) as agent, \
                        Prometheus([("latprobe", f"127.0.0.1:{port}", None, None)]) as prom:
                    self.assertEqual(curl(*[ngx.url("/api/users/1")] * 7,
                                          *[ngx.url("/api/users/9")] * 3,
                                          *[ngx.url("/healthz")] * 4, ngx.url("/")),
                                     [200] * 7 + [404] * 3 + [200] * 5)
                    time.sleep(1.5)
                    status, _, text = http_get(f"http://127.0.0.1:{port}/metrics")
                    check = subprocess.run(["promtool", "check", "metrics"],
                                           input=text.decode(), capture_output=True, text=True,
                                           timeout=60)
                    self.assertEqual((check.returncode, check.stdout + check.stderr), (0, ""))
                    self.assertIn('http_route="users"', text.decode())
                    self.assertIn('latprobe_http_excluded_requests_total{path="/healthz",'
                                  'side="server"} 4', text.decode())
                    prom.wait_scrapes(2)
                    sel = (f'slo="users_get",http_route="users",server_port="{ngx.port}",'
                           'http_request_method="GET"')
                    # route + method + status, as an SRE selects them
                    self.assertEqual(prom.value(
                        f'sum(latprobe_slo_requests_total{{{sel},'
                        'http_response_status_code="200"})'), 7)
                    self.assertEqual(prom.value(
                        f'sum(latprobe_slo_good_requests_total{{{sel},'
                        'http_response_status_code="404"})'), 3)
                    self.assertEqual(prom.value(f'sum(latprobe_slo_requests_total{{{sel}}})'),
                                     10)
                    # the (native) histogram by route: the unrouted "/", nothing of /healthz
                    self.assertEqual(prom.value(
                        'histogram_count(sum(http_server_request_duration_seconds{'
                        f'http_route="unrouted",server_port="{ngx.port}"}}))'), 1)
                    self.assertEqual(prom.value(
                        'histogram_count(sum(http_server_request_duration_seconds{'
                        f'server_port="{ngx.port}"}}))'), 11)
                    agent.stop()
        finally:
            os.unlink(rf.name)


if __name__ == "__main__":
    unittest.main()
