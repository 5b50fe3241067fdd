# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The pull endpoint against the real peers: promtool, a real Prometheus with
native histograms (and one without, which asks for OpenMetrics), TLS and basic
auth with curl, and abuse of the endpoint."""
import concurrent.futures
import gzip
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from lpharness import (Agent, PyServer, Prometheus, ROOT, BINARY, count, curl, free_port,
                       live_metrics,
                       http_get, median, series)

PROTO_ACCEPT = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
# what Prometheus 2.42 sends without native histograms
OM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
             "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
RULES = os.path.join(ROOT, "deploy", "prometheus")


def promtool(*args, stdin=None):
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


class Endpoint(unittest.TestCase):
    def test_live_scrape_passes_promtool_and_negotiates_formats(self):
        port = free_port()
        with PyServer() as srv, Agent("--listen", f"127.0.0.1:{port}", "-i", "1s") as agent:
            curl(*[srv.url("/?ms=1")] * 20, srv.url("/?status=404"))
            time.sleep(1.5)
            base = f"http://127.0.0.1:{port}"
            status, hdr, text = http_get(base + "/metrics")
            self.assertEqual(status, 200)
            self.assertTrue(hdr["Content-Type"].startswith("text/plain; version=0.0.4"))
            check = promtool("check", "metrics", stdin=text.decode())
            self.assertEqual((check.returncode, check.stdout + check.stderr), (0, ""))
            self.assertIn(f'server_port="{srv.port}"', text.decode())
            # OpenMetrics when asked, in Prometheus's own words
            status, hdr, om = http_get(base + "/metrics", {"Accept": OM_ACCEPT})
            self.assertTrue(hdr["Content-Type"].startswith("application/openmetrics-text; "
                                                           "version=1.0.0"))
            self.assertTrue(om.endswith(b"# EOF\n"))
            # protobuf
            status, hdr, pb = http_get(base + "/metrics", {"Accept": PROTO_ACCEPT})
            self.assertIn("proto=io.prometheus.client.MetricFamily", hdr["Content-Type"])
            self.assertIn(b"http_server_request_duration_seconds", pb)
            # gzip of the same text
            status, hdr, gz = http_get(base + "/metrics", {"Accept-Encoding": "gzip"})
            self.assertEqual(hdr.get("Content-Encoding"), "gzip")
            self.assertIn(b"# TYPE http_server_request_duration_seconds histogram",
                          gzip.decompress(gz))
            # the rest of the API
            self.assertEqual(http_get(base + "/-/healthy")[0], 200)
            self.assertEqual(http_get(base + "/-/ready")[0], 200)
            self.assertIn(b"/metrics", http_get(base + "/")[2])
            status, hdr, js = http_get(base + "/api/v1/series")
            self.assertEqual((status, hdr["Content-Type"]), (200, "application/json"))
            import json
            doc = json.loads(js)
            self.assertEqual(count(doc, side="server", port=srv.port, status=200), 20)
            self.assertEqual(http_get(base + "/nope")[0], 404)
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X",
                                "POST", "--data", "x", base + "/metrics"],
                               capture_output=True, text=True)
            self.assertEqual(r.stdout, "405")
            agent.stop()

    def test_rules_file_passes_promtool_check_and_unit_tests(self):
        r = promtool("check", "rules", os.path.join(RULES, "latprobe-rules.yml"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run(["promtool", "test", "rules", "latprobe-rules.test.yml"], cwd=RULES,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)
        # every latprobe metric a rule reads is one a live agent serves (with an SLO and a
        # push sink that refuses: the push figures exist)
        with open(os.path.join(RULES, "latprobe-rules.yml")) as f:
            used = set(re.findall(r"(?<![:\w])(latprobe_[a-z_]+)(?![:\w])", f.read()))
        self.assertIn("latprobe_map_read_errors_total", used)
        text = live_metrics("latprobe_slo_good_requests_total{", timeout=20,
                            args=("--slo", "name=s,threshold=10ms,objective=99%",
                                  "--push", "graphite://127.0.0.1:9?interval=1s"))
        served = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
        for m in sorted(used):
            self.assertIn(m, served, f"the rules read {m}, which /metrics does not serve")


class RealPrometheus(unittest.TestCase):
    """A stock Prometheus answers the SLO question from latprobe's metrics.

    A Python server answers 95 % of GETs after 2 ms and 5 % after 30 ms, so
    exactly 95 % finish within 10 ms: the requests sit far from the threshold
    on either side (the kernel adds about 0.3 ms), so the classic le="0.01"
    bucket counts them exactly: the raw counters give 381/401 (the mix plus one
    warm-up request) to the last bit.

    The README's expression divides two rate()s. Prometheus extrapolates each
    rate to the ends of its range on its own, and caps the extrapolation
    toward the start by how close that counter's first sample is to zero, so
    numerator and denominator are scaled by factors that differ by a fraction
    of a scrape interval over the range (here 1 s over about 35 s). The test
    allows 0.5 %: a wrong bucket would be off by 5 %."""

    N = 400

    def test_slo_expression_quantiles_and_counts_through_promql(self):
        port = free_port()
        with PyServer() as srv, Agent("--listen", f"127.0.0.1:{port}", "-i", "1s",
                                      "--window-metrics") as agent, \
                Prometheus([("latprobe", f"127.0.0.1:{port}", None, None),
                            ("latprobe_classic", f"127.0.0.1:{port}",
                             {"histograms": "classic"}, None)]) as prom, \
                Prometheus([("latprobe_om", f"127.0.0.1:{port}", None, None)],
                           native_histograms=False) as prom_om:
            # one request first, so every series exists before the measured traffic
            curl(srv.url("/?ms=2"))
            # the kernel-to-handler offset, in a series of its own (status 201)
            curl(*[srv.url("/?ms=0&status=201")] * 20)
            time.sleep(1.2)
            prom.wait_scrapes(2)
            t0 = time.time()
            urls = [srv.url("/?ms=30") if i % 20 == 7 else srv.url("/?ms=2")
                    for i in range(self.N)]
            self.assertEqual(curl(*urls), [200] * self.N)
            time.sleep(1.2)
            prom.wait_scrapes(2)
            prom_om.wait_scrapes(1)
            rng = f"{int(time.time() - t0) + 30}s"
            sel = f'job="latprobe_classic",server_port="{srv.port}",http_request_method="GET",' \
                  f'http_response_status_code="200"'
            # the README's SLO expression
            ratio = prom.value(
                f'sum(rate(http_server_request_duration_seconds_bucket{{{sel},le="0.01"}}[{rng}]))'
                f' / sum(rate(http_server_request_duration_seconds_count{{{sel}}}[{rng}]))')
            total = prom.value(f'sum(http_server_request_duration_seconds_count{{{sel}}})')
            exact = prom.value(
                f'sum(http_server_request_duration_seconds_bucket{{{sel},le="0.01"}})'
                f' / sum(http_server_request_duration_seconds_count{{{sel}}})')
            native_sel = sel.replace("latprobe_classic", "latprobe")
            p99 = prom.value(f'histogram_quantile(0.99, sum(rate('
                             f'http_server_request_duration_seconds{{{native_sel}}}[{rng}])))')
            native_count = prom.value(
                f'histogram_count(sum(http_server_request_duration_seconds{{{native_sel}}}))')
            gauge = prom.value(
                f'latprobe_http_request_duration_quantile_seconds{{{native_sel},side="server",'
                f'quantile="0.99",window="1m"}}')
            om_total = prom_om.value(
                f'sum(http_server_request_duration_seconds_count{{job="latprobe_om",'
                f'server_port="{srv.port}",http_request_method="GET",'
                f'http_response_status_code="200"}})')
            om_health = [t["health"] for t in prom_om.targets()]
            doc = agent.stop()
            handler2 = median(srv.handler_times(2.0))
            handler30 = sorted(srv.handler_times(30.0))
            handler0 = median(srv.handler_times(0.0))

        offset = series(doc, side="server", status=201)[0]["quantiles_seconds"]["0.5"] - handler0
        # the true p99: the 396th of 400 latencies, one of the 20 slow ones
        true_p99 = handler30[int(0.99 * self.N) - (self.N - len(handler30)) - 1] + offset
        print(f"    SLO ratio {ratio!r} (raw counters {exact!r}), count {total}, native p99 {p99 * 1e3:.2f} ms, "
              f"latprobe p99 gauge {gauge * 1e3:.2f} ms, true p99 {true_p99 * 1e3:.2f} ms "
              f"(offset {offset * 1e6:.0f} us, fast median {handler2 * 1e3:.2f} ms)")
        self.assertEqual(len(handler30), self.N // 20)
        # the counters are exact: Prometheus holds what the agent counted, bucket for
        # bucket (381 of 401 when every 2 ms request finishes within 10 ms; on a busy
        # host one may not, and then the agent and Prometheus agree on that too)
        mine = series(doc, side="server", port=srv.port, status=200, method="GET",
                      metric="duration")[0]
        good = next(b["count"] for b in mine["buckets"] if b["le"] == "0.01")
        self.assertEqual(exact, good / mine["count"])
        self.assertTrue(370 <= good <= 381, good)
        self.assertAlmostEqual(ratio, 0.95, delta=0.005)
        self.assertEqual(total, self.N + 1)
        self.assertEqual(native_count, self.N + 1)
        # within one bucket of schema 3 (growth factor 2^(1/8) = 1.0905)
        self.assertLess(abs(p99 / true_p99 - 1), 0.0905)
        self.assertLess(abs(gauge / true_p99 - 1), 0.05)
        # the Prometheus without native histograms took OpenMetrics and got the same count
        self.assertEqual(om_health, ["up"])
        self.assertEqual(om_total, self.N + 1)


def make_tls(tmp):
    cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    line = subprocess.run(["htpasswd", "-nbBC", "10", "prometheus", "s3cret"], check=True,
                          capture_output=True, text=True).stdout.strip()
    user, hashed = line.split(":", 1)
    conf = os.path.join(tmp, "web.yml")
    with open(conf, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
                f"basic_auth_users:\n  {user}: '{hashed}'\n")
    return conf, cert, key


class TlsAuth(unittest.TestCase):
    def test_tls_and_basic_auth(self):
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            conf, cert, key = make_tls(tmp)
            with Agent("--listen", f"127.0.0.1:{port}", "--web-config", conf):
                url = f"https://127.0.0.1:{port}/metrics"

                def code(*args):
                    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                        "--cacert", cert, *args, url],
                                       capture_output=True, text=True, timeout=30)
                    return r.stdout

                self.assertEqual(code("-u", "prometheus:s3cret"), "200")
                self.assertEqual(code("-u", "prometheus:s3cret"), "200")  # cached check
                self.assertEqual(code(), "401")
                self.assertEqual(code("-u", "prometheus:wrong"), "401")
                self.assertEqual(code("-u", "nobody:s3cret"), "401")
                # plain HTTP to the TLS port is not served
                r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    "-u", "prometheus:s3cret",
                                    f"http://127.0.0.1:{port}/metrics"],
                                   capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.stdout, "200")

    def test_bad_web_config_stops_start_up_naming_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf, cert, key = make_tls(tmp)
            cases = []
            os.chmod(cert, 0)  # root reads it anyway: point at a missing file instead
            missing = os.path.join(tmp, "missing.yml")
            cases.append((missing, "cannot read"))
            bad_cert = os.path.join(tmp, "badcert.yml")
            with open(bad_cert, "w") as f:
                f.write(f"tls_server_config:\n  cert_file: {tmp}/nope.crt\n  key_file: {key}\n")
            cases.append((bad_cert, "cannot use cert_file"))
            not_pem = os.path.join(tmp, "notpem.yml")
            with open(not_pem, "w") as f:
                f.write(f"tls_server_config:\n  cert_file: {conf}\n  key_file: {key}\n")
            cases.append((not_pem, "not a PEM certificate"))
            plain = os.path.join(tmp, "plain.yml")
            with open(plain, "w") as f:
                f.write("basic_auth_users:\n  alice: hunter2\n")
            cases.append((plain, "not a bcrypt hash"))
            unknown = os.path.join(tmp, "unknown.yml")
            with open(unknown, "w") as f:
                f.write("tls_config:\n  cert_file: x\n")
            cases.append((unknown, "unknown key 'tls_config'"))
            broken = os.path.join(tmp, "broken.yml")
            with open(broken, "w") as f:
                f.write('tls_server_config:\n  cert_file: "unterminated\n')
            cases.append((broken, "YAML error"))
            for path, msg in cases:
                r = subprocess.run([BINARY, "--listen", f"127.0.0.1:{free_port()}",
                                    "--web-config", path], capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(r.returncode, 2, (path, r.stderr))
                self.assertIn(path, r.stderr)
                self.assertIn(msg, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


class Abuse(unittest.TestCase):
    """Each abuse is answered or refused; the agent stays up and keeps collecting."""

    def test_concurrent_slow_huge_and_wrong_requests(self):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with Agent("--listen", f"127.0.0.1:{port}", "-i", "1s") as agent:
            time.sleep(1.2)

            def collections():
                text = http_get(base + "/metrics")[2].decode()
                return int(float(text.split("\nlatprobe_collections_total ")[1].split()[0]))

            before = collections()
            # a slow client: one byte a second, for longer than the connection timeout
            slow = socket.create_connection(("127.0.0.1", port))
            dropped = threading.Event()

            def dribble():
                try:
                    for ch in b"GET /metrics HTTP/1.1\r\nHost: x\r\n":
                        slow.sendall(bytes([ch]))
                        time.sleep(1.0)
                except OSError:
                    dropped.set()

            t = threading.Thread(target=dribble, daemon=True)
            t.start()
            # 200 concurrent scrapes meanwhile
            with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
                results = list(ex.map(lambda _: self._try(base + "/metrics"), range(200)))
            ok = sum(1 for r in results if r == 200)
            refused = sum(1 for r in results if r is None)
            self.assertEqual(ok + refused, 200, results)
            self.assertGreaterEqual(ok, 150)
            # a 1 MB header
            big = socket.create_connection(("127.0.0.1", port), timeout=10)
            try:
                big.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) +
                            b"\r\n\r\n")
            except OSError:
                pass  # refused mid-way: fine
            try:
                answer = big.recv(200)
            except OSError:
                answer = b""
            big.close()
            self.assertFalse(answer.startswith(b"HTTP/1.1 200"), answer)
            # a POST with a body
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--data-binary", "x" * 100000, base + "/metrics"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.stdout, "405")
            # the slow client is cut off by the connection timeout (10 s)
            t.join(timeout=40)
            slow.settimeout(5)
            try:
                rest = slow.recv(100)
            except OSError:
                rest = b""
            slow.close()
            self.assertFalse(rest.startswith(b"HTTP/1.1 200"))
            self.assertTrue(dropped.is_set() or rest == b"", "slow client never dropped")
            # still up, still collecting
            self.assertEqual(http_get(base + "/-/healthy")[0], 200)
            self.assertGreater(collections(), before + 5)
            self.assertIsNone(agent.proc.poll())
            agent.stop()

    def test_slow_clients_on_the_scrapers_own_address_do_not_lock_it_out(self):
        """40 connections from 127.0.0.1 that trickle their heads (libmicrohttpd
        takes 32 an address): the scraper, on the same address, is answered
        within seconds, not refused until the slow ones time out (issue 32)."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with Agent("--listen", f"127.0.0.1:{port}", "-i", "1s"):
            slow = []
            try:
                for _ in range(40):
                    try:
                        c = socket.create_connection(("127.0.0.1", port), timeout=5)
                        c.sendall(b"GET /metrics HTTP/1.1\r\n")  # the rest never comes
                        slow.append(c)
                    except OSError:
                        pass
                time.sleep(1.5)  # older than the guard's 1 s: theirs are the slowest heads
                t0 = time.monotonic()
                status = None
                while status != 200 and time.monotonic() - t0 < 5:
                    status = self._try(base + "/metrics")
                    if status != 200:
                        time.sleep(0.2)
                took = time.monotonic() - t0
            finally:
                for c in slow:
                    c.close()
        print(f"    40 slow connections on 127.0.0.1: the scraper answered after {took:.2f} s")
        self.assertEqual(status, 200)
        self.assertLess(took, 5)

    @staticmethod
    def _try(url):
        try:
            return http_get(url, timeout=30)[0]
        except OSError:
            return None


if __name__ == "__main__":
    unittest.main()
