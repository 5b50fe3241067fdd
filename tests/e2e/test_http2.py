# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""HTTP/2 end to end, framed and timed in the kernel: nginx with h2c (prior
knowledge) driven by curl --http2-prior-knowledge and h2load (many
concurrent streams on few connections), nginx with TLS and ALPN h2 driven by
curl --http2 (through the OpenSSL uprobes), and a python3-h2 server that
streams its bodies in parts with pauses against a python3-h2 client's own
timing; each agent scoped to a cgroup of the test's own, both sides."""
import json
import os
import re
import subprocess
import unittest

from lpharness import (HERE, PYTHON, Agent, Nginx, TestCgroup, count, free_port, series,
                       stop_process, wait_port)
from test_routes import files, routes_of
from test_tls import Certs, tls_agent

# schema 3: a sample is within 4.4 % of the truth; the socket layer adds the
# time between the kernel and the process
BOUND = 0.045
OFFSET = 0.005


def curl_h2(*urls, prefix=(), tls=False, headers=()):
    """curl over HTTP/2; the status of each URL, in order. With TLS one process
    (one connection) fetches them all; in plaintext one process each (curl
    7.88 fails a second request on a prior-knowledge connection)."""
    base = [*prefix, "curl", "-sS", "--max-time", "30"]
    base += ["--http2", "-k"] if tls else ["--http2-prior-knowledge"]
    for h in headers:
        base += ["-H", h]
    out = ""
    for batch in [urls] if tls else [[u] for u in urls]:
        cmd = list(base)
        for u in batch:
            cmd += ["-o", "/dev/null", "-w", "%{http_code} %{http_version}\\n", u]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        out += r.stdout
    got = [l.split() for l in out.splitlines()]
    if len(got) != len(urls) or any(v != "2" for _, v in got):
        raise RuntimeError(f"curl did not speak HTTP/2 to every URL: {out!r} {r.stderr!r}")
    return [int(c) for c, _ in got]


def h2load(url, n, clients, streams, prefix=(), headers=()):
    """h2load (nghttp2-client): its count of 2xx responses."""
    r = subprocess.run([*prefix, "h2load", "-n", str(n), "-c", str(clients), "-m", str(streams),
                        *[a for h in headers for a in ("-H", h)], url],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", r.stdout)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", r.stdout)
    if not m or not done:
        raise RuntimeError(f"h2load output not understood: {r.stdout} {r.stderr}")
    return int(m.group(1)), int(done.group(1))


class H2Server:
    """tests/e2e/h2_server.py: bodies streamed in parts with pauses."""

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def __init__(self, prefix=()):
        self.port = free_port()
        self.prefix = list(prefix)

    def __enter__(self):
        self.proc = subprocess.Popen([*self.prefix, PYTHON, os.path.join(HERE, "h2_server.py"),
                                      str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=10)


def h2_client(port, *paths, prefix=()):
    """tests/e2e/h2_client.py: each request's status and the client's own timing."""
    r = subprocess.run([*prefix, PYTHON, os.path.join(HERE, "h2_client.py"), str(port), *paths],
                       capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(l) for l in r.stdout.splitlines()]


class Http2(unittest.TestCase):
    def test_nginx_h2c_with_curl_and_h2load_is_counted_exactly_on_both_sides(self):
        # nginx and h2load on one CPU: loopback keeps their segments in order (TestCgroup)
        with TestCgroup("h2c") as cg, Nginx(http2=True, prefix=cg.one_cpu) as ng, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name) as ag:
            codes = curl_h2(*[ng.url("/4k.bin")] * 5, ng.url("/nope"), ng.url("/nope"),
                            ng.url("/204"), prefix=cg.prefix)
            self.assertEqual(codes, [200] * 5 + [404, 404, 204])
            ok, done = h2load(ng.url("/4k.bin"), 2000, 4, 32, prefix=cg.one_cpu)
            self.assertEqual((ok, done), (2000, 2000))
            doc = ag.stop()
        for side in ("server", "client"):
            self.assertEqual(count(doc, side=side, port=ng.port, status=200, method="GET",
                                   protocol_version="2"), 2005,
                             f"{side}; counters {doc['counters']}")
            self.assertEqual(count(doc, side=side, port=ng.port, status=404,
                                   protocol_version="2"), 2, side)
            self.assertEqual(count(doc, side=side, port=ng.port, status=204,
                                   protocol_version="2"), 1, side)
            self.assertEqual(count(doc, side=side, port=ng.port, protocol_version="1.1"), 0)
        for name in ("h2_connections_lost", "h2_streams_unresolved", "h2_streams_reset",
                     "lost_samples", "h2_segments_out_of_order"):
            self.assertEqual(doc["counters"].get(name, 0), 0, name)
        self.assertEqual(doc["counters"]["requests"], 2 * 2008)

    def test_https_with_alpn_h2_is_framed_through_openssl(self):
        with Certs() as certs, TestCgroup("h2tls") as cg, \
                Nginx(http2=True, tls=(certs.cert, certs.key), prefix=cg.prefix) as ng:
            ag = tls_agent("--cgroup", "/" + cg.name)
            try:
                codes = curl_h2(*[ng.url("/4k.bin")] * 3, ng.url("/nope"), prefix=cg.prefix,
                                tls=True)
                self.assertEqual(codes, [200, 200, 200, 404])
                doc = ag.stop()
            finally:
                ag.kill()
            self.assertEqual(ng.served(), 4)
        for side in ("server", "client"):
            self.assertEqual(count(doc, side=side, port=ng.port, scheme="https", status=200,
                                   protocol_version="2"), 3, side)
            self.assertEqual(count(doc, side=side, port=ng.port, scheme="https", status=404,
                                   protocol_version="2"), 1, side)
        self.assertEqual(count(doc, scheme="http", port=ng.port), 0)

    def test_streamed_bodies_are_timed_to_their_last_frame_and_labels_resolve(self):
        paths = ["/slow?parts=3&pause=0.2", "/status/201", "/status/201", "/status/404",
                 "/slow?parts=2&pause=0.3", "/status/201"]
        with TestCgroup("h2slow") as cg, H2Server(prefix=cg.prefix) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name) as ag:
            got = h2_client(srv.port, *paths, prefix=cg.prefix)
            doc = ag.stop()
        self.assertEqual([g["status"] for g in got], [200, 201, 201, 404, 200, 201])
        slow = sum(g["seconds"] for g in got if g["path"].startswith("/slow"))
        for side in ("server", "client"):
            s200 = series(doc, side=side, port=srv.port, status=200, protocol_version="2")
            self.assertEqual(sum(s["count"] for s in s200), 2, side)
            probe = sum(s["sum_seconds"] for s in s200)
            # python3-h2 indexes :status 201 and refers to it after: the dynamic table
            self.assertEqual(count(doc, side=side, port=srv.port, status=201), 3, side)
            self.assertEqual(count(doc, side=side, port=srv.port, status=404), 1, side)
            self.assertLess(abs(probe - slow), slow * BOUND + OFFSET,
                            f"{side}: probe {probe:.4f} s, client {slow:.4f} s")
        self.assertEqual(doc["counters"].get("h2_streams_unresolved", 0), 0)


    def test_routes_on_http2_paths_and_an_excluded_health_check(self):
        # curl and h2load (nghttp2: :path Huffman-coded and never indexed, the same bytes on
        # each call: matched from the connection's last short :path after the first) against
        # nginx h2c; the gRPC health check path excluded. Table references: test_grpc.py.
        health = "/grpc.health.v1.Health/Check"
        with TestCgroup("h2route") as cg, Nginx(http2=True, prefix=cg.one_cpu) as ng:
            files(ng, health, "/api/users/1")
            with Agent("-i", "1s", "--cgroup", "/" + cg.name, "--route", "users=/api/users",
                       "--exclude-path", "/grpc.health.v1.Health/", "--slo",
                       "name=users,route=users,side=server,threshold=1s,objective=99%") as ag:
                codes = curl_h2(*[ng.url("/api/users/1")] * 3, ng.url("/4k.bin"),
                                ng.url(health), prefix=cg.prefix)
                self.assertEqual(codes, [200] * 5)
                ok, done = h2load(ng.url("/api/users/1"), 2000, 4, 32, prefix=cg.one_cpu)
                self.assertEqual((ok, done), (2000, 2000))
                hok, hdone = h2load(ng.url(health), 500, 2, 8, prefix=cg.one_cpu)
                self.assertEqual((hok, hdone), (500, 500))
                doc = ag.stop()
        for side in ("server", "client"):
            self.assertEqual(routes_of(doc, ng.port, side), {("users", 200): 2003,
                                                              ("unrouted", 200): 1},
                             f"{side}; counters {doc['counters']}")
        ex = [e for e in doc["excluded"] if e["path"] == "/grpc.health.v1.Health/"][0]
        self.assertEqual((ex["server"], ex["client"]), (501, 501))
        slo = [s for s in doc["slos"] if s["name"] == "users"][0]
        self.assertEqual((slo["windows"][0]["total"], slo["windows"][0]["good"]), (2003, 2003))
        self.assertEqual(doc["counters"].get("h2_streams_unresolved", 0), 0)
        self.assertEqual(doc["counters"]["h2_segments_out_of_order"], 0)
        self.assertEqual(count(doc, port=ng.port, route="unknown"), 0)

    def test_an_http11_upgrade_to_h2c_is_followed_on_as_http2(self):
        # curl --http2 on http:// asks "Upgrade: h2c"; each curl its own connection
        paths = ["/status/404", "/status/200", "/slow?parts=3&pause=0.2"]
        with TestCgroup("h2up") as cg, H2Server(prefix=cg.prefix) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name) as ag:
            got = []
            for p in paths:
                r = subprocess.run([*cg.prefix, "curl", "-sS", "--max-time", "30", "--http2",
                                    "-o", "/dev/null", "-w",
                                    "%{http_code} %{http_version} %{time_total}",
                                    srv.url(p)], capture_output=True, text=True, timeout=60)
                got.append(r.stdout.split())
            doc = ag.stop()
        self.assertEqual([(g[0], g[1]) for g in got], [("404", "2"), ("200", "2"), ("200", "2")],
                         "curl did not upgrade to h2c")
        client_200 = float(got[1][2]) + float(got[2][2])
        for side in ("server", "client"):
            self.assertEqual(count(doc, side=side, port=srv.port, status=404, method="GET",
                                   protocol_version="2"), 1, side)
            s200 = series(doc, side=side, port=srv.port, status=200, protocol_version="2")
            self.assertEqual(sum(s["count"] for s in s200), 2, side)
            self.assertEqual(count(doc, side=side, port=srv.port, protocol_version="1.1"), 0)
            # stream 1 is timed from the HTTP/1.1 request's first byte to its last DATA frame
            probe = sum(s["sum_seconds"] for s in s200)
            self.assertLess(abs(probe - client_200), client_200 * BOUND + OFFSET,
                            f"{side}: probe {probe:.4f} s, curl {client_200:.4f} s")
        self.assertEqual(doc["counters"].get("h2c_upgrades", 0), 6)
        for name in ("upgraded", "h2_connections_lost", "unanswered", "untimed"):
            self.assertEqual(doc["counters"].get(name, 0), 0, name)

    def test_a_connection_open_before_the_agent_is_followed_from_its_next_request(self):
        import tempfile
        flag = os.path.join(tempfile.mkdtemp(prefix="lp-h2-"), "go")
        paths = ["/status/201", "/status/200", "wait:" + flag, "/status/404",
                 "/slow?parts=2&pause=0.1", "/status/404"]
        with TestCgroup("h2mid") as cg, H2Server(prefix=cg.prefix) as srv:
            client = subprocess.Popen([*cg.prefix, PYTHON, os.path.join(HERE, "h2_client.py"),
                                       str(srv.port), *paths], stdout=subprocess.PIPE,
                                      text=True)
            try:
                first = [json.loads(client.stdout.readline()) for _ in range(2)]
                with Agent("-i", "1s", "--cgroup", "/" + cg.name) as ag:
                    open(flag, "w").close()
                    rest = [json.loads(l) for l in client.stdout]
                    client.wait(timeout=30)
                    doc = ag.stop()
            finally:
                stop_process(client)
        self.assertEqual([g["status"] for g in first + rest], [201, 200, 404, 200, 404])
        for side in ("server", "client"):
            # the connection's first requests were before the agent; the next three are timed
            self.assertEqual(count(doc, side=side, port=srv.port, status=404), 2, side)
            self.assertEqual(count(doc, side=side, port=srv.port, status=200), 1, side)
            self.assertEqual(count(doc, side=side, port=srv.port, status=201), 0, side)


if __name__ == "__main__":
    unittest.main()
