# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hostile and unusual traffic, end to end. Each test puts its server in a
cgroup of its own and scopes the agent to it: the agent's counters then count
this test's server-side sockets only, and every count is asserted exactly.
The conversations are driven byte by byte from raw sockets."""
import random
import resource
import socket
import struct
import subprocess
import time
import unittest

from lpharness import Agent, Nginx, RawServer, TestCgroup, count, curl, rss_kib, series, wrk


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_responses(s, n, final_only=True):
    """Read until n final (non-1xx) status lines arrived; returns the bytes."""
    buf = b""
    while True:
        finals = buf.count(b"HTTP/1.1 2") + buf.count(b"HTTP/1.1 3") + buf.count(b"HTTP/1.1 4")
        if finals >= n:
            return buf
        data = s.recv(65536)
        if not data:
            return buf
        buf += data


def samples(doc):
    return sum(s["count"] for s in doc["series"])


class Hostile(unittest.TestCase):
    def run_case(self, client, nginx=False):
        """Run client(port) against a raw server (or nginx) in a scoped cgroup."""
        with TestCgroup("hostile") as cg:
            server = Nginx(prefix=cg.prefix) if nginx else RawServer(prefix=cg.prefix)
            with server as srv, Agent("--cgroup", "/" + cg.name) as agent:
                client(srv.port)
                time.sleep(0.3)
                return agent.stop(), srv.port

    def test_get_and_a_status_line_inside_a_post_body_count_one_request(self):
        body = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"

        def client(port):
            s = connect(port)
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % len(body))
            time.sleep(0.05)
            s.sendall(body)  # a segment of its own, starting with "GET "
            self.assertIn(b"200 OK", read_responses(s, 1))
            s.close()

        doc, port = self.run_case(client)
        self.assertEqual(samples(doc), 1)
        self.assertEqual(count(doc, method="POST", status=200), 1)
        self.assertEqual(doc["counters"]["orphan_responses"], 0)

    def test_request_line_one_byte_per_segment_is_untimed_not_misread(self):
        req = b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n"

        def client(port):
            s = connect(port)
            for b in req:
                s.sendall(bytes([b]))
                time.sleep(0.005)
            read_responses(s, 1)
            # the connection is usable afterwards: a whole request is timed
            s.sendall(b"GET /y HTTP/1.1\r\nHost: x\r\n\r\n")
            read_responses(s, 1)
            s.close()

        doc, _ = self.run_case(client)
        # the split start: counted as untimed, never as a request of another method
        self.assertEqual(doc["counters"]["untimed"], 1)
        self.assertEqual(samples(doc), 1)
        self.assertEqual(count(doc, method="GET", status=200), 1)
        self.assertEqual(doc["counters"]["orphan_responses"], 0)

    def test_three_pipelined_requests_in_one_segment(self):
        def client(port):
            s = connect(port)
            s.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
            self.assertEqual(read_responses(s, 3).count(b"HTTP/1.1 200"), 3)
            s.close()

        doc, _ = self.run_case(client)
        # requests are framed exactly: each of the three begins in that segment
        # (its first byte arrived then), and each response is paired in order
        self.assertEqual(samples(doc), 3)
        self.assertEqual(doc["counters"]["requests"], 3)
        self.assertEqual(doc["counters"]["untimed"], 0)
        self.assertEqual(doc["counters"]["orphan_responses"], 0)

    def check_never_mispaired(self, first, n_first, path_then="/x"):
        """first: bytes of pipelined requests the server answers together;
        then four GETs one second apart on the same connection. Every sample
        is one of the true durations (the batch's ~0.2 s or a sequential
        GET's < 50 ms), and every request is accounted for."""
        def client(port):
            s = connect(port)
            s.sendall(first)
            buf = b""
            while buf.count(b"HTTP/1.1 2") < n_first or not (buf.endswith(b"0\r\n\r\n") or
                                                              buf.endswith(b"Content\r\n\r\n")):
                d = s.recv(65536)
                self.assertTrue(d, "the server closed early")
                buf += d
            for _ in range(4):
                time.sleep(1.0)
                s.sendall(f"GET {path_then} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                self.assertIn(b"200 OK", read_responses(s, 1))
            s.close()

        doc, _ = self.run_case(client)
        for s in doc["series"]:
            le = {b["le"]: b["count"] for b in s["buckets"]}
            # nothing the length of a pause between requests (1 s) or more
            self.assertEqual(le["0.5"], s["count"], s)
            # the sequential GETs take < 50 ms, the batch 0.2 s
            self.assertLessEqual(s["sum_seconds"], 0.25 * min(n_first, s["count"]) + 0.05 * 4, s)
        c = doc["counters"]
        total = n_first + 4
        self.assertEqual(c["requests"] + c["untimed"], total)
        self.assertEqual(c["requests"], samples(doc) + c["unframed_responses"] + c["unanswered"]
                         + c["unpaired_requests"], c)
        return doc

    def test_pipelined_responses_beyond_the_framing_steps_are_never_mispaired(self):
        # the audit's case: four chunked responses of three chunks in one
        # segment take more framing steps than a segment is given
        doc = self.check_never_mispaired(b"GET /batch4 HTTP/1.1\r\nHost: x\r\n\r\n" * 4, 4)
        self.assertGreaterEqual(doc["counters"]["unpaired_requests"], 1)

    def test_an_unframed_response_never_moves_a_time_onto_the_next_method(self):
        doc = self.check_never_mispaired(b"GET /splitpair HTTP/1.1\r\nHost: x\r\n\r\n"
                                         b"DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n", 2)
        self.assertEqual(count(doc, method="DELETE"), 0)
        self.assertEqual(doc["counters"]["unframed_responses"], 1)

    def test_expect_100_continue_latency_ends_at_the_final_response(self):
        body = b"x" * 100

        def client(port):
            s = connect(port)
            s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                      b"Content-Length: 100\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100 Continue"))
            time.sleep(0.08)
            s.sendall(body)
            read_responses(s, 1)
            s.close()

        doc, _ = self.run_case(client)
        self.assertEqual(samples(doc), 1)
        post = series(doc, method="POST", status=200)[0]
        self.assertGreaterEqual(post["sum_seconds"], 0.08)
        self.assertEqual(doc["counters"]["interim_responses"], 1)
        self.assertEqual(series(doc, status=100), [])

    def test_103_early_hints_is_interim(self):
        def client(port):
            s = connect(port)
            s.sendall(b"GET /103 HTTP/1.1\r\nHost: x\r\n\r\n")
            read_responses(s, 1)
            s.close()

        doc, _ = self.run_case(client)
        self.assertEqual(samples(doc), 1)
        self.assertGreaterEqual(series(doc, status=200)[0]["sum_seconds"], 0.03)
        self.assertEqual(doc["counters"]["interim_responses"], 1)

    def test_101_upgrade_then_websocket_frames_with_get_are_not_counted(self):
        def client(port):
            s = connect(port)
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\n\r\n")
            self.assertTrue(s.recv(200).startswith(b"HTTP/1.1 101"))
            for i in range(5):
                s.sendall(b"GET / HTTP/1.1\r\nHost: frame%d\r\n\r\n" % i)
                time.sleep(0.03)
                s.recv(65536)
            s.close()

        doc, _ = self.run_case(client)
        self.assertEqual(samples(doc), 1)
        self.assertEqual(count(doc, method="GET", status=101), 1)
        self.assertEqual(doc["counters"]["upgraded"], 1)
        for k in ("untimed", "orphan_responses", "unanswered"):
            self.assertEqual(doc["counters"][k], 0, k)

    def test_head_204_304_and_http10_connection_close(self):
        def client(port):
            base = f"http://127.0.0.1:{port}"
            self.assertEqual(curl(base + "/index.html", method="HEAD"), [200])
            self.assertEqual(curl(base + "/204"), [204])
            # nginx answers 304 to exactly its own Last-Modified (if_modified_since exact);
            # curl -z would report 304 from a check of its own, so send the header raw
            s = connect(port)
            s.sendall(b"HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            head = read_responses(s, 1).decode()
            lm = [l.split(": ", 1)[1] for l in head.split("\r\n") if l.startswith("Last-Modified")]
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: %s\r\n\r\n"
                      % lm[0].encode())
            self.assertTrue(read_responses(s, 1).startswith(b"HTTP/1.1 304"))
            s.close()
            r = subprocess.run(["curl", "-s", "--http1.0", "-H", "Connection: close", "-o",
                                "/dev/null", "-w", "%{http_code}", base + "/index.html"],
                               capture_output=True, text=True)
            self.assertEqual(r.stdout, "200")

        doc, _ = self.run_case(client, nginx=True)
        self.assertEqual(count(doc, method="HEAD", status=200), 2)
        self.assertEqual(count(doc, method="GET", status=204), 1)
        self.assertEqual(count(doc, method="GET", status=304), 1)
        self.assertEqual(count(doc, method="GET", status=200), 1)  # the HTTP/1.0 one
        self.assertEqual(samples(doc), 5)

    def test_client_reset_mid_response(self):
        def client(port):
            s = connect(port)
            s.sendall(b"GET /slowbody HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(1000).startswith(b"HTTP/1.1 200"))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST
            # and the next connection is served and timed
            s = connect(port)
            s.sendall(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
            read_responses(s, 1)
            s.close()

        doc, _ = self.run_case(client)
        # the reset cut the response short: no sample (its last byte never left),
        # counted unanswered; the next connection is timed
        self.assertEqual(count(doc, method="GET", status=200), 1)
        self.assertEqual(doc["counters"]["unanswered"], 1)

    def test_non_http_traffic_makes_no_sample(self):
        rnd = random.Random(7)
        client_hello = bytes.fromhex("16030100c8010000c40303") + bytes(rnd.randrange(256)
                                                                      for _ in range(197))
        payloads = [
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000012040000000000"),
            client_hello,
            b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
            struct.pack("!ii", 8, 80877103) + struct.pack("!ii", 9, 196608) + b"user\0",
            bytes(rnd.randrange(256) for _ in range(65536)),
        ]

        def client(port):
            for p in payloads:
                s = connect(port)
                s.sendall(p)
                got = b""
                while len(got) < len(p):
                    data = s.recv(65536)
                    if not data:
                        break
                    got += data
                self.assertEqual(got, p)
                s.close()

        with TestCgroup("nonhttp") as cg, RawServer(prefix=cg.prefix, echo=True) as srv, \
                Agent("--cgroup", "/" + cg.name) as agent:
            client(srv.port)
            time.sleep(0.3)
            doc = agent.stop()
        self.assertEqual(doc["series"], [])
        for k in ("requests", "untimed", "orphan_responses", "unanswered", "storage_failures"):
            self.assertEqual(doc["counters"][k], 0, k)


class ChurnAndIdle(unittest.TestCase):
    def test_connection_churn_is_exact_and_memory_stays_flat(self):
        conns = 32
        with TestCgroup("churn") as cg, Nginx(keepalive=False, prefix=cg.prefix) as ngx, \
                Agent("--cgroup", "/" + cg.name, "-i", "1s") as agent:
            time.sleep(1.2)
            rss0 = rss_kib(agent.proc.pid)
            responses, non2xx, _, errors = wrk(ngx.url("/index.html"), connections=conns,
                                               duration="15s")
            time.sleep(1.5)
            rss1 = rss_kib(agent.proc.pid)
            doc = agent.stop()
        got = count(doc, method="GET", status=200)
        rate = responses / 15
        print(f"    {responses} connections in 15 s ({rate:.0f}/s), counted {got}, "
              f"agent RSS {rss0} -> {rss1} KiB")
        self.assertEqual(non2xx, 0)
        self.assertGreaterEqual(got, responses)
        self.assertLessEqual(got, responses + conns)
        self.assertEqual(doc["counters"]["storage_failures"], 0)
        self.assertEqual(doc["counters"]["unanswered"], 0)
        # one connection per request: no per-connection memory in user space
        self.assertLess(rss1 - rss0, 2048)

    def test_5000_idle_keepalive_connections(self):
        n = 5000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 3 * n), max(hard, 3 * n)))
        with TestCgroup("idle") as cg, Nginx(prefix=cg.prefix, worker_connections=n + 200) \
                as ngx, Agent("--cgroup", "/" + cg.name, "-i", "1s") as agent:
            time.sleep(1.2)
            rss0 = rss_kib(agent.proc.pid)
            socks = []
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", ngx.port), timeout=10)
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
                socks.append(s)
            for s in socks:
                self.assertTrue(read_responses(s, 1).startswith(b"HTTP/1.1 200"))
            time.sleep(3)  # idle, every connection holding its per-socket state
            rss1 = rss_kib(agent.proc.pid)
            for s in socks:
                s.close()
            time.sleep(1.5)
            doc = agent.stop()
        print(f"    {n} idle connections: agent RSS {rss0} -> {rss1} KiB")
        self.assertEqual(count(doc, method="GET", status=200), n)
        self.assertEqual(doc["counters"]["storage_failures"], 0)
        self.assertLess(rss1 - rss0, 2048)


if __name__ == "__main__":
    unittest.main()
