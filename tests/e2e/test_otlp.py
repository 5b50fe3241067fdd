# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""OTLP/HTTP metrics (otlp+http://). Debian packages no OTLP receiver, so a
small receiver here keeps the request bodies and the OpenTelemetry project's
own generated protobuf types (npm: @opentelemetry/otlp-transformer, installed
by make deps into .output/otlp) decode them. What they decode to is compared
with what the same agent serves to a scrape at the same time: counts, sums,
buckets (the exponential histogram against a real Prometheus's native
histogram of the scrape), scale, zero count, attributes and resources. Then a
receiver that is down, answers 500 or hangs: pushes fail and are counted, the
queue stays bounded, and after recovery the cumulative counts continue from
the same start time (OTLP's way of saying "no reset")."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from lpharness import HERE, Prometheus, PyServer, curl, free_port
from test_push import AgentProc, wait_for

DECODER = os.path.join(HERE, "..", "otlp", "decode.js")
# make deps installs the OpenTelemetry packages here, outside the source tree
NODE_PATH = os.path.join(HERE, "..", "..", ".output", "otlp", "node_modules")
NODE_MODULES = os.path.join(NODE_PATH, "@opentelemetry",
                            "otlp-transformer")


class Receiver:
    """An OTLP/HTTP endpoint on 127.0.0.1: keeps every body it accepts, per
    path. mode: 200 (accept), 500, or "hang" (never answers in time)."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.mode = 200
        self.bodies = {}
        self.types = set()
        self.lock = threading.Lock()
        self.srv = None

    def __enter__(self):
        recv = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if recv.mode == "hang":
                    time.sleep(3)
                    return
                if recv.mode == 200:
                    with recv.lock:
                        recv.bodies.setdefault(self.path, []).append(body)
                        recv.types.add(self.headers.get("Content-Type"))
                self.send_response(recv.mode)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()

    def count(self, path):
        with self.lock:
            return len(self.bodies.get(path, []))

    def last(self, path):
        with self.lock:
            return self.bodies[path][-1]


def decode(*bodies):
    """The bodies as the OpenTelemetry JS types decode them (dicts)."""
    if not shutil.which("node") or not os.path.isdir(NODE_MODULES):
        raise AssertionError("the OTLP decoder is not installed: run make deps "
                             "(Node.js, and npm ci into .output/otlp)")
    d = tempfile.mkdtemp(prefix="lp-otlp-")
    try:
        files = []
        for i, b in enumerate(bodies):
            files.append(os.path.join(d, f"{i}.pb"))
            with open(files[-1], "wb") as f:
                f.write(b)
        out = subprocess.run(["node", DECODER, *files], capture_output=True, text=True,
                             env={**os.environ, "NODE_PATH": os.path.abspath(NODE_PATH)},
                             timeout=60)
        if out.returncode:
            raise AssertionError(f"the OTLP decoder refused a body: {out.stderr[-1000:]}")
        return [json.loads(line) for line in out.stdout.splitlines()]
    finally:
        shutil.rmtree(d)


def attrs(kvs):
    out = {}
    for kv in kvs or []:
        v = kv["value"]
        out[kv["key"]] = int(v["intValue"]) if "intValue" in v else v.get("stringValue")
    return out


def points(doc, name):
    """(resource attributes, metric, point, point attributes) of every point of a metric."""
    for rm in doc.get("resourceMetrics", []):
        res = attrs(rm["resource"].get("attributes"))
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                if m["name"] != name:
                    continue
                data = m[m["data"]]
                for p in data.get("dataPoints", []):
                    yield res, m, p, attrs(p.get("attributes"))


def start_times(doc):
    """{(metric, point attributes): startTimeUnixNano} of every cumulative point."""
    out = {}
    for rm in doc.get("resourceMetrics", []):
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                for p in m[m["data"]].get("dataPoints", []):
                    if "startTimeUnixNano" in p:
                        key = (m["name"], json.dumps(p.get("attributes"), sort_keys=True))
                        out[key] = p["startTimeUnixNano"]
    return out


def native_buckets(prom, expr):
    """A Prometheus native histogram's buckets: {(lower, upper): count}."""
    r = prom.query(expr)
    if len(r) != 1:
        raise AssertionError(f"{expr}: {len(r)} series")
    h = r[0]["histogram"][1]
    return int(h["count"]), float(h["sum"]), {
        (float(lo), float(hi)): int(c) for _, lo, hi, c in h.get("buckets", [])}


def otlp_buckets(p):
    """An exponential data point's buckets as {(lower, upper): count} (the zero bucket too)."""
    scale = p.get("scale", 0)
    base = 2.0 ** (2.0 ** -scale)
    pos = p.get("positive", {})
    out = {}
    for i, c in enumerate(pos.get("bucketCounts", [])):
        if int(c):
            k = pos.get("offset", 0) + i
            out[(base ** k, base ** (k + 1))] = int(c)
    if int(p.get("zeroCount", 0)):
        t = p["zeroThreshold"]
        out[(-t, t)] = int(p["zeroCount"])
    return out


def same_buckets(a, b):
    """Equal bucket maps, bounds compared to 1e-9 relative."""
    if len(a) != len(b):
        return False
    for (lo, hi), c in a.items():
        if not any(abs(lo - l2) <= 1e-9 * abs(lo) and abs(hi - h2) <= 1e-9 * abs(hi) and c == c2
                   for (l2, h2), c2 in b.items()):
            return False
    return True


def otlp(port, path, extra=""):
    return f"otlp+http://127.0.0.1:{port}{path}?interval=1s&timeout=1s{extra}"


class Otlp(unittest.TestCase):
    def test_what_arrives_decodes_to_what_a_scrape_gives(self):
        with PyServer() as srv, Receiver() as recv:
            agent = AgentProc("--push", otlp(recv.port, "/v1/metrics", "&host=node-a"),
                              "--push", otlp(recv.port, "/explicit/v1/metrics",
                                             "&histograms=explicit&windows=1"),
                              "--route", "slow=/slow", "-p", str(srv.port))
            try:
                job = [("latprobe", f"127.0.0.1:{agent.mport}", None, None)]
                with Prometheus(job) as nscraper:
                    curl(*[srv.url("/?ms=1")] * 20, *[srv.url("/?ms=30&status=404")] * 5,
                         srv.url("/slow?ms=1"))
                    time.sleep(1.5)
                    n = {p: recv.count(p) for p in ("/v1/metrics", "/explicit/v1/metrics")}
                    wait_for(lambda: all(recv.count(p) >= n[p] + 2 for p in n),
                             what="two pushes to each path after the traffic")
                    nscraper.wait_scrapes(2)
                    exp, explicit = decode(recv.last("/v1/metrics"),
                                           recv.last("/explicit/v1/metrics"))
                    self.check_exponential(exp, agent, nscraper, srv.port)
                    self.check_explicit(explicit, agent, srv.port)
                    self.assertEqual(recv.types, {"application/x-protobuf"})
            finally:
                agent.stop()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])

    def check_exponential(self, doc, agent, prom, port):
        pts = [x for x in points(doc, "http.server.request.duration")
               if x[3].get("server.port") == port]
        self.assertTrue(pts, "no server points for the test's port")
        by = {(a["http.response.status_code"], a.get("http.route")): (res, m, p, a)
              for res, m, p, a in pts}
        self.assertEqual(set(by), {(200, "unrouted"), (404, "unrouted"), (200, "slow")})
        self.assertEqual({k: int(v[2]["count"]) for k, v in by.items()},
                         {(200, "unrouted"): 20, (404, "unrouted"): 5, (200, "slow"): 1})
        service = None
        for (status, route), (res, m, p, a) in by.items():
            self.assertEqual(m["unit"], "s")
            self.assertEqual(m["exponentialHistogram"]["aggregationTemporality"],
                             "AGGREGATION_TEMPORALITY_CUMULATIVE")
            self.assertEqual(a["http.request.method"], "GET")
            self.assertEqual(a["network.type"], "ipv4")
            self.assertNotIn("service_name", a)
            self.assertEqual(res["host.name"], "node-a")
            service = res["service.name"]
            self.assertLessEqual(int(p["startTimeUnixNano"]), int(p["timeUnixNano"]))
            # OTLP's rule: count = zero count + every bucket
            self.assertEqual(int(p["count"]),
                             int(p.get("zeroCount", 0))
                             + sum(int(c) for c in p["positive"]["bucketCounts"]))
            sel = (f'{{server_port="{port}",http_response_status_code="{status}",'
                   f'http_route="{route}"}}')
            count, total, buckets = native_buckets(
                prom, "http_server_request_duration_seconds" + sel)
            mine = otlp_buckets(p)
            print(f"    {status} {route}: OTLP count {p['count']} sum {p['sum']:.6f} "
                  f"scale {p['scale']}, {len(mine)} buckets; native scrape count {count} "
                  f"sum {total:.6f}, {len(buckets)} buckets")
            self.assertEqual(int(p["count"]), count)
            self.assertAlmostEqual(p["sum"], total, places=9)
            self.assertTrue(same_buckets(mine, buckets), f"{mine} != {buckets}")
            self.assertEqual(p["scale"], 3)  # the default schema
        # the series' service is the resource's service.name
        self.assertEqual(agent.value("http_server_request_duration_seconds_count",
                                     server_port=port, http_route="slow",
                                     service_name=service), 1)
        # counters: monotonic cumulative sums, as a scrape has them
        slo = [(m, p) for res, m, p, a in points(doc, "latprobe_slo_good_requests")
               if a.get("server.port") == port and a.get("side") == "server"]
        self.assertTrue(slo)
        self.assertTrue(all(m["sum"]["isMonotonic"] for m, _ in slo))
        self.assertEqual(sum(p["asDouble"] for _, p in slo),
                         sum(agent.value("latprobe_slo_good_requests_total", server_port=port,
                                         side="server", http_response_status_code=s,
                                         http_route=r) or 0
                             for s, r in ((200, "unrouted"), (404, "unrouted"), (200, "slow"))))
        self.assertEqual(sum(p["asDouble"] for _, p in slo), 21)
        # what belongs to no service: the agent's own resource
        own = [res for res, m, p, a in points(doc, "latprobe_slo_objective")]
        self.assertTrue(own and all(r["service.name"] == "latprobe" for r in own))
        # no windows by default
        self.assertEqual(list(points(doc, "latprobe_http_request_duration_quantile")), [])

    def check_explicit(self, doc, agent, port):
        pts = [(m, p, a) for res, m, p, a in points(doc, "http.server.request.duration")
               if a.get("server.port") == port and a.get("http.response.status_code") == 404]
        self.assertEqual(len(pts), 1)
        m, p, a = pts[0]
        self.assertEqual(m["data"], "histogram")
        sel = dict(server_port=port, http_response_status_code=404)
        text = agent.metrics()[1]
        les = []
        for line in text.splitlines():
            if line.startswith("http_server_request_duration_seconds_bucket{") and \
                    f'server_port="{port}"' in line and 'http_response_status_code="404"' in line:
                les.append(line.split('le="')[1].split('"')[0])
        bounds = [float(x) for x in les if x != "+Inf"]
        self.assertEqual(p["explicitBounds"], bounds)
        cum = [agent.value("http_server_request_duration_seconds_bucket", le=le, **sel)
               for le in les]
        per = [int(c - (cum[i - 1] if i else 0)) for i, c in enumerate(cum)]
        self.assertEqual([int(c) for c in p["bucketCounts"]], per)
        self.assertEqual(int(p["count"]), 5)
        self.assertAlmostEqual(p["sum"], agent.value("http_server_request_duration_seconds_sum",
                                                     **sel), places=9)
        # windows=1: the quantile summary and the per-window gauges
        q = [(m, p) for res, m, p, a in points(doc, "latprobe_http_request_duration_quantile")
             if a.get("server.port") == port and a.get("http.response.status_code") == 404]
        self.assertTrue(q)
        m, p = q[0]
        self.assertEqual(m["data"], "summary")
        self.assertEqual(int(p["count"]), 5)
        self.assertIn(0.99, [v["quantile"] for v in p["quantileValues"]])
        # the unit's suffix leaves the name (unit "1"): latprobe_slo_good_ratio in Prometheus
        ratio = list(points(doc, "latprobe_slo_good"))
        self.assertTrue(ratio and all(m["unit"] == "1" and m["data"] == "gauge"
                                      for _, m, _, _ in ratio))

    def test_a_receiver_down_failing_or_hanging_comes_back_without_a_reset(self):
        with PyServer() as srv:
            recv = Receiver()  # its port chosen, not yet listening
            sink = otlp(recv.port, "/v1/metrics", "&queue=2")
            agent = AgentProc("--push", sink, "-p", str(srv.port))
            name = sink.split("?")[0]

            def pushes(result):
                return agent.value("latprobe_push_requests_total", sink=name,
                                   result=result) or 0

            try:
                curl(*[srv.url("/?ms=1")] * 10)
                wait_for(lambda: pushes("failure") > 0, what="a failed push while down")
                self.assertEqual(pushes("success"), 0)
                wait_for(lambda: (agent.value("latprobe_push_dropped_total", sink=name) or 0)
                         > 0, timeout=30, what="drops while the receiver is down")
                with recv:
                    wait_for(lambda: recv.count("/v1/metrics") >= 1, timeout=30,
                             what="a push once the receiver is up")
                    first_doc = decode(recv.last("/v1/metrics"))[0]
                    first = self.server_point(first_doc, srv.port)
                    self.assertEqual(int(first["count"]), 10)
                    for mode in (500, "hang"):
                        recv.mode = mode
                        f0 = pushes("failure")
                        curl(*[srv.url("/?ms=1")] * 5)
                        wait_for(lambda: pushes("failure") >= f0 + 2, timeout=30,
                                 what=f"failed pushes to a receiver answering {mode}")
                        t0 = time.monotonic()
                        status, _, _ = agent.metrics(timeout=5)
                        self.assertEqual(status, 200)
                        self.assertLess(time.monotonic() - t0, 0.5, "a scrape while failing")
                    recv.mode = 200
                    n = recv.count("/v1/metrics")
                    wait_for(lambda: recv.count("/v1/metrics") >= n + 2, timeout=30,
                             what="pushes after recovery")
                    last_doc = decode(recv.last("/v1/metrics"))[0]
                    last = self.server_point(last_doc, srv.port)
                    print(f"    before the faults: count {first['count']}, after: "
                          f"{last['count']}, start time unchanged: "
                          f"{first['startTimeUnixNano'] == last['startTimeUnixNano']}")
                    self.assertEqual(int(last["count"]), 20)
                    self.assertEqual(last["startTimeUnixNano"], first["startTimeUnixNano"])
                    # every cumulative point keeps its start: the agent's own counters
                    # too (a start that moves is a reset in OTLP's data model)
                    with recv.lock:
                        bodies = list(recv.bodies["/v1/metrics"])
                    seen, moved = {}, set()
                    for doc in decode(*bodies):
                        for k, v in start_times(doc).items():
                            if seen.setdefault(k, v) != v:
                                moved.add(k[0])
                    self.assertGreater(len([k for k in seen if k[0].startswith("latprobe")]), 5)
                    print(f"    {len(bodies)} exports, {len(seen)} cumulative points: "
                          f"start times that moved: {sorted(moved) or 'none'}")
                    self.assertEqual(sorted(moved), [], "start times that moved between exports")
                    self.assertGreater(int(last["timeUnixNano"]), int(first["timeUnixNano"]))
            finally:
                agent.stop()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])

    def server_point(self, doc, port):
        pts = [p for res, m, p, a in points(doc, "http.server.request.duration")
               if a.get("server.port") == port]
        self.assertEqual(len(pts), 1)
        return pts[0]


if __name__ == "__main__":
    unittest.main()
