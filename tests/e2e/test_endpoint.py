# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The endpoint against clients on the same node that mean harm: slow request
heads (slowloris), password guessing, and the TLS settings of the web config.

Loopback has every 127.0.0.0/8 address, so "other machines" are other source
addresses here: the scraper is 127.0.0.2, attackers are 127.0.0.1 or
127.0.0.10 and up.
"""
import base64
import http.client
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from lpharness import BINARY, Agent, free_port, median, wait_port


def scrape(port, source="127.0.0.2", auth=None, path="/metrics", timeout=10, context=None):
    """(status, seconds) of one GET from the given source address."""
    t0 = time.monotonic()
    if context:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                        source_address=(source, 0), context=context)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                       source_address=(source, 0))
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status, time.monotonic() - t0
    finally:
        c.close()


class Trickler:
    """Connections that send a request head one byte at a time, every `every`
    seconds, and never finish it; each notes when the server closed it."""

    HEAD = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 4000

    def __init__(self, port, sources, per_source, every=1.0):
        self.socks, self.opened, self.closed = [], {}, {}
        for src in sources:
            for _ in range(per_source):
                s = socket.socket()
                s.bind((src, 0))
                s.setblocking(False)
                try:
                    s.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                self.socks.append(s)
                self.opened[s] = time.monotonic()
        self.every, self.stop_ = every, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stop_.is_set() and i < len(self.HEAD):
            for s in self.socks:
                if s in self.closed:
                    continue
                try:
                    s.send(self.HEAD[i:i + 1])
                    if s.recv(1) == b"":
                        self.closed[s] = time.monotonic()
                except (BlockingIOError, InterruptedError):
                    pass  # nothing to read: still open
                except OSError:
                    self.closed[s] = time.monotonic()
            i += 1
            self.stop_.wait(self.every)

    def stop(self):
        self.stop_.set()
        self.thread.join(timeout=10)
        for s in self.socks:
            s.close()


def metric(port, name, auth=None):
    body = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=("127.0.0.2", 0))
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} \
        if auth else {}
    body.request("GET", "/metrics", headers=headers)
    text = body.getresponse().read().decode()
    body.close()
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


class Slowloris(unittest.TestCase):
    def test_300_trickling_connections_from_one_address_leave_the_endpoint_answering(self):
        port = free_port()
        with Agent("--listen", f"127.0.0.1:{port}", "-i", "1s"):
            wait_port(port)
            t = Trickler(port, ["127.0.0.1"], 300)
            try:
                time.sleep(3)
                status, took = scrape(port)
                print(f"    scrape beside 300 trickling connections from one address: "
                      f"{took * 1000:.0f} ms")
                self.assertEqual(status, 200)
                self.assertLess(took, 2)
                # the address got its share and no more: most were refused at once
                self.assertGreaterEqual(len(t.closed), 300 - 32)
            finally:
                t.stop()

    def test_300_trickling_connections_from_ten_addresses_leave_the_endpoint_answering(self):
        port = free_port()
        with Agent("--listen", f"127.0.0.1:{port}", "-i", "1s"):
            wait_port(port)
            t = Trickler(port, [f"127.0.0.{10 + i}" for i in range(10)], 30)
            try:
                time.sleep(3)
                worst = 0
                for _ in range(5):
                    status, took = scrape(port)
                    self.assertEqual(status, 200)
                    worst = max(worst, took)
                print(f"    slowest of 5 scrapes beside 300 trickling connections from 10 "
                      f"addresses: {worst * 1000:.0f} ms")
                self.assertLess(worst, 2)
                self.assertGreater(metric(port, "latprobe_http_slow_connections_closed_total"),
                                   0)
            finally:
                t.stop()

    def test_a_request_head_has_a_deadline_in_all_not_per_byte(self):
        port = free_port()
        with Agent("--listen", f"127.0.0.1:{port}", "-i", "1s"):
            wait_port(port)
            t = Trickler(port, ["127.0.0.1"], 1, every=1.0)
            try:
                deadline = time.monotonic() + 16
                while time.monotonic() < deadline and not t.closed:
                    time.sleep(0.2)
                s = t.socks[0]
                self.assertIn(s, t.closed, "a head sent a byte a second stayed open 16 s")
                lived = t.closed[s] - t.opened[s]
                print(f"    a head trickled a byte a second was closed after {lived:.1f} s")
                self.assertGreater(lived, 9)
                self.assertLess(lived, 13)
            finally:
                t.stop()


def htpasswd(user, password, cost=10):
    line = subprocess.run(["htpasswd", "-nbBC", str(cost), user, password], check=True,
                          capture_output=True, text=True).stdout.strip()
    return line.split(":", 1)[1]


class BasicAuth(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.conf = os.path.join(self.tmp.name, "web.yml")
        with open(self.conf, "w") as f:
            f.write(f"basic_auth_users:\n  prometheus: '{htpasswd('prometheus', 's3cret')}'\n")
        self.port = free_port()

    def tearDown(self):
        self.tmp.cleanup()

    def test_an_unknown_user_costs_what_a_wrong_password_costs(self):
        with Agent("--listen", f"127.0.0.1:{self.port}", "--web-config", self.conf):
            wait_port(self.port)
            known, unknown = [], []
            for _ in range(6):  # under the failure limit of each address
                status, took = scrape(self.port, "127.0.0.3", auth="prometheus:wrong")
                self.assertEqual(status, 401)
                known.append(took)
                status, took = scrape(self.port, "127.0.0.4", auth="mallory:wrong")
                self.assertEqual(status, 401)
                unknown.append(took)
            k, u = median(known), median(unknown)
            print(f"    median refusal: known user {k * 1000:.1f} ms, unknown user "
                  f"{u * 1000:.1f} ms")
            self.assertGreater(k, 0.01)  # bcrypt cost 10 ran
            self.assertGreater(u, k * 0.6)
            self.assertLess(u, k / 0.6)

    def test_a_flood_of_wrong_passwords_does_not_stall_good_scrapes(self):
        with Agent("--listen", f"127.0.0.1:{self.port}", "--web-config", self.conf):
            wait_port(self.port)
            self.assertEqual(scrape(self.port, "127.0.0.2", auth="prometheus:s3cret")[0], 200)
            stop = threading.Event()
            codes = {}
            lock = threading.Lock()

            def guess(src):
                n = 0
                while not stop.is_set() and n < 400:
                    n += 1
                    try:
                        st, _ = scrape(self.port, src, auth=f"prometheus:guess{n}")
                    except OSError:
                        st = "error"
                    with lock:
                        codes[st] = codes.get(st, 0) + 1

            # 16 guessers: 8 from one address, 8 from eight others
            srcs = ["127.0.0.5"] * 8 + [f"127.0.0.{30 + i}" for i in range(8)]
            threads = [threading.Thread(target=guess, args=(s,), daemon=True) for s in srcs]
            for th in threads:
                th.start()
            try:
                time.sleep(0.5)
                good = []
                for _ in range(20):
                    status, took = scrape(self.port, "127.0.0.2", auth="prometheus:s3cret")
                    self.assertEqual(status, 200)
                    good.append(took)
                    time.sleep(0.1)
            finally:
                stop.set()
                for th in threads:
                    th.join(timeout=30)
            print(f"    good scrapes during a flood of 16 guessers: median "
                  f"{median(good) * 1000:.1f} ms, worst {max(good) * 1000:.1f} ms; "
                  f"guesses answered {codes}")
            self.assertLess(max(good), 0.25)
            self.assertGreater(codes.get(429, 0), 0)  # the failure limit refused unhashed
            self.assertNotIn(200, codes)

    def test_the_failure_limit_refuses_at_once_and_spares_others(self):
        with Agent("--listen", f"127.0.0.1:{self.port}", "--web-config", self.conf):
            wait_port(self.port)
            for i in range(10):
                self.assertEqual(scrape(self.port, "127.0.0.6", auth=f"prometheus:x{i}")[0],
                                 401)
            status, took = scrape(self.port, "127.0.0.6", auth="prometheus:x11")
            self.assertEqual(status, 429)
            self.assertLess(took, 0.02)  # no bcrypt
            # the right password from that address is still checked only if remembered;
            # another address is not affected
            self.assertEqual(scrape(self.port, "127.0.0.7", auth="prometheus:s3cret")[0], 200)
            self.assertEqual(scrape(self.port, "127.0.0.6", auth="prometheus:s3cret")[0], 200)
            self.assertGreaterEqual(metric(self.port, "latprobe_http_logins_limited_total",
                                           auth="prometheus:s3cret"), 1)


def openssl(*args, **kw):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True, **kw)


class TlsSettings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.cert, cls.key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cls.key, "-out",
                cls.cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1")
        # a client CA, a client it signed, and a client it did not
        cls.ca, cls.ca_key = os.path.join(d, "ca.crt"), os.path.join(d, "ca.key")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cls.ca_key, "-out",
                cls.ca, "-days", "2", "-subj", "/CN=latprobe test clients")
        cls.client, cls.client_key = os.path.join(d, "client.crt"), os.path.join(d, "client.key")
        csr = os.path.join(d, "client.csr")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", cls.client_key, "-out", csr,
                "-subj", "/CN=prometheus")
        openssl("x509", "-req", "-in", csr, "-CA", cls.ca, "-CAkey", cls.ca_key,
                "-CAcreateserial", "-out", cls.client, "-days", "2")
        cls.stranger, cls.stranger_key = (os.path.join(d, "stranger.crt"),
                                          os.path.join(d, "stranger.key"))
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cls.stranger_key,
                "-out", cls.stranger, "-days", "2", "-subj", "/CN=stranger")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def config(self, extra=""):
        path = os.path.join(self.tmp.name, f"web{time.monotonic_ns()}.yml")
        with open(path, "w") as f:
            f.write(f"tls_server_config:\n  cert_file: {self.cert}\n  key_file: {self.key}\n"
                    + extra)
        return path

    def handshake(self, port, *args):
        """The protocol and cipher negotiated, or None if the handshake failed."""
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
                           input="", capture_output=True, text=True, timeout=20)
        m = re.search(r"New, (TLSv[\d.]+), Cipher is (\S+)", r.stdout)
        if r.returncode != 0 or not m or m.group(2) == "(NONE)":
            return None
        return m.group(1), m.group(2)

    # the client side offers old protocols and weak suites too (SECLEVEL=0):
    # what is refused, the agent refused
    OLD = ["-cipher", "DEFAULT@SECLEVEL=0"]

    def test_defaults_are_tls12_and_up_with_forward_secrecy(self):
        port = free_port()
        with Agent("--listen", f"127.0.0.1:{port}", "--web-config", self.config()):
            wait_port(port)
            self.assertIsNone(self.handshake(port, "-tls1", *self.OLD))
            self.assertIsNone(self.handshake(port, "-tls1_1", *self.OLD))
            self.assertEqual(self.handshake(port, "-tls1_2")[0], "TLSv1.2")
            self.assertEqual(self.handshake(port, "-tls1_3")[0], "TLSv1.3")
            self.assertIsNone(self.handshake(port, "-tls1_2", "-cipher",
                                             "AES128-SHA:@SECLEVEL=0"))
            self.assertIsNone(self.handshake(port, "-tls1_2", "-cipher",
                                             "AES256-GCM-SHA384:@SECLEVEL=0"))

    def test_versions_and_cipher_suites_from_the_config(self):
        port = free_port()
        conf = self.config("  min_version: TLS12\n  max_version: TLS12\n"
                           "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                           "  prefer_server_cipher_suites: true\n")
        with Agent("--listen", f"127.0.0.1:{port}", "--web-config", conf):
            wait_port(port)
            self.assertIsNone(self.handshake(port, "-tls1_3"))
            self.assertEqual(self.handshake(port, "-tls1_2"),
                             ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"))
            self.assertIsNone(self.handshake(port, "-tls1_2", "-cipher",
                                             "ECDHE-RSA-AES128-GCM-SHA256"))
        port = free_port()
        with Agent("--listen", f"127.0.0.1:{port}", "--web-config",
                   self.config("  min_version: TLS13\n")):
            wait_port(port)
            self.assertIsNone(self.handshake(port, "-tls1_2"))
            self.assertEqual(self.handshake(port, "-tls1_3")[0], "TLSv1.3")

    def curl(self, port, *args):
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                            self.cert, *args, f"https://127.0.0.1:{port}/metrics"],
                           capture_output=True, text=True, timeout=30)
        return r.stdout

    def test_mutual_tls(self):
        port = free_port()
        conf = self.config(f"  client_auth_type: RequireAndVerifyClientCert\n"
                           f"  client_ca_file: {self.ca}\n")
        with Agent("--listen", f"127.0.0.1:{port}", "--web-config", conf):
            wait_port(port)
            for tls in ("--tlsv1.2", "--tlsv1.3"):
                self.assertEqual(self.curl(port, tls, "--cert", self.client, "--key",
                                           self.client_key), "200", tls)
                self.assertNotEqual(self.curl(port, tls), "200", tls)
                self.assertNotEqual(self.curl(port, tls, "--cert", self.stranger, "--key",
                                              self.stranger_key), "200", tls)
            # what a client without a certificate is told
            self.assertEqual(self.curl(port), "403")
            r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                                "-quiet"], input="GET /metrics HTTP/1.0\r\n\r\n",
                               capture_output=True, text=True, timeout=20)
            self.assertIn("client certificate required", r.stdout)
        port = free_port()
        conf = self.config(f"  client_auth_type: VerifyClientCertIfGiven\n"
                           f"  client_ca_file: {self.ca}\n")
        with Agent("--listen", f"127.0.0.1:{port}", "--web-config", conf):
            wait_port(port)
            self.assertEqual(self.curl(port), "200")
            self.assertEqual(self.curl(port, "--cert", self.client, "--key", self.client_key),
                             "200")
            self.assertEqual(self.curl(port, "--cert", self.stranger, "--key",
                                       self.stranger_key), "403")

    def test_bad_tls_settings_name_the_key(self):
        cases = [("  min_version: TLS14\n", "min_version: 'TLS14'"),
                 ("  min_version: TLS13\n  max_version: TLS12\n", "min_version is above"),
                 ("  cipher_suites:\n    - TLS_RSA_WITH_RC4_128_SHA\n", "TLS_RSA_WITH_RC4"),
                 ("  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file"),
                 ("  client_auth_type: Sometimes\n", "client_auth_type: 'Sometimes'"),
                 (f"  client_ca_file: {self.ca}\n", "NoClientCert")]
        for extra, msg in cases:
            path = self.config(extra)
            r = subprocess.run([BINARY, "--listen", f"127.0.0.1:{free_port()}",
                                "--web-config", path],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (extra, r.stderr))
            self.assertIn(msg, r.stderr)
            self.assertIn(path, r.stderr)


if __name__ == "__main__":
    unittest.main()
