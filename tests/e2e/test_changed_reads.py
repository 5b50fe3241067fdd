# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Collections read only the series that changed (issue 17, item 2).

The kernel marks a series at each sample; a collection reads the values of
the marked series only, and all of them when the kernel created a series.
Checked through the agent's own gauge latprobe_collection_series_read,
collection by collection: an idle node reads nothing, a request reads its
two series (server and client side), a new series makes a whole read; and
every count stays exact throughout. An idle collection keeps the views, so
a gzip scrape after it reuses the series part built before it; a plain
scrape that comes while another is being sent shares its series part. The
servers and the client run in a cgroup of the test's own and the agent
watches only it, so the test's scrapes of the agent are not traffic it
sees."""
import socket
import time
import unittest

from lpharness import PyServer, TestCgroup, curl
from test_push import AgentProc
from test_scrape_cache import get

COUNT = "http_server_request_duration_seconds_count"
CLIENT = "http_client_request_duration_seconds_count"


def before_own(body):
    """The series part of a scrape: everything before the agent's own metrics
    (which start with latprobe_build_info and change at every scrape)."""
    return body.split(b"# HELP latprobe_build_info")[0]


def hits_in(body):
    for line in body.split(b"\n"):
        if line.startswith(b"latprobe_scrape_cache_hits_total "):
            return float(line.split()[1])
    raise AssertionError("no latprobe_scrape_cache_hits_total in the scrape")


def own(agent, name):
    v = agent.value(name)
    if v is None:
        raise AssertionError(f"{name} missing from the scrape")
    return v


def collections_after(agent, n_after, timeout=15):
    """latprobe_collection_series_read of each collection from the next one
    on, until n_after collections have run: [(collection, series read)]."""
    seen = []
    last = own(agent, "latprobe_collections_total")
    deadline = time.monotonic() + timeout
    while len(seen) < n_after and time.monotonic() < deadline:
        time.sleep(0.1)
        text = agent.metrics()[1]
        vals = {}
        for line in text.splitlines():
            for name in ("latprobe_collections_total", "latprobe_collection_series_read"):
                if line.startswith(name + " "):
                    vals[name] = float(line.split()[1])
        cur = vals["latprobe_collections_total"]
        if cur == last + 1:
            seen.append((cur, vals["latprobe_collection_series_read"]))
        elif cur > last + 1:
            # a collection went by between two scrapes: its figure is unknown, say so
            seen.append((cur, None))
        last = cur
    if len(seen) < n_after:
        raise AssertionError(f"only {len(seen)} collections in {timeout} s")
    return seen


class ChangedReads(unittest.TestCase):
    def test_collections_read_what_changed_and_counts_stay_exact(self):
        with TestCgroup("changed") as cg, PyServer(prefix=cg.prefix) as s1, \
                PyServer(prefix=cg.prefix) as s2, PyServer(prefix=cg.prefix) as s3:
            agent = AgentProc("--cgroup", "/" + cg.name)
            try:
                for s in (s1, s2, s3):
                    self.assertEqual(curl(*[s.url("/?ms=1")] * 5, prefix=cg.prefix), [200] * 5)
                # the next collections: the new series make a whole read, then idle
                reads = collections_after(agent, 4)
                total = own(agent, "latprobe_series")  # the overflow series included
                self.assertEqual(total, 7)
                idle = [r for _, r in reads[1:] if r is not None]
                self.assertTrue(idle, f"no idle collection seen whole: {reads}")
                self.assertEqual(idle, [0] * len(idle), f"idle collections read: {reads}")
                for s in (s1, s2, s3):
                    self.assertEqual(agent.value(COUNT, server_port=s.port), 5)
                    self.assertEqual(agent.value(CLIENT, server_port=s.port), 5)

                # idle collections keep the views: a gzip scrape after the next one
                # reuses the series part built before it (and it is still right)
                a = get(agent.mport)
                hits = own(agent, "latprobe_scrape_cache_hits_total")
                collections_after(agent, 1)
                b = get(agent.mport)
                self.assertEqual(own(agent, "latprobe_scrape_cache_hits_total"), hits + 1)
                self.assertGreater(len(before_own(b)), 1000)
                self.assertEqual(before_own(b), before_own(a))
                self.assertEqual(before_own(b), before_own(get(agent.mport, gz=False)))

                # one request more to one server: its two series are read, nothing else
                self.assertEqual(curl(s1.url("/?ms=1"), prefix=cg.prefix), [200])
                reads = collections_after(agent, 3)
                got = [r for _, r in reads if r]
                # a series shares its mark with another only by a hash collision: 2 or 3
                self.assertEqual(len(got), 1, f"collections after one request: {reads}")
                self.assertIn(got[0], (2, 3), f"collections after one request: {reads}")
                self.assertEqual(agent.value(COUNT, server_port=s1.port), 6)
                self.assertEqual(agent.value(CLIENT, server_port=s1.port), 6)
                for s in (s2, s3):
                    self.assertEqual(agent.value(COUNT, server_port=s.port), 5)

                # a new series (a status not seen before): the whole map is read
                self.assertEqual(curl(s2.url("/?ms=1&status=404"), prefix=cg.prefix), [404])
                reads = collections_after(agent, 3)
                got = [r for _, r in reads if r]
                self.assertEqual(got, [9], f"collections after a new series: {reads}")
                self.assertEqual(agent.value(COUNT, server_port=s2.port,
                                             http_response_status_code=404), 1)
                self.assertEqual(agent.value(COUNT, server_port=s2.port,
                                             http_response_status_code=200), 5)
            finally:
                agent.proc.terminate()
                agent.proc.wait(timeout=10)


    def test_concurrent_plain_scrapes_share_one_series_part(self):
        """An uncompressed scrape that comes while another is still being sent
        shares its series part (a cache hit) and gives the same bytes; once
        both are sent, the part is not kept."""
        with TestCgroup("sharedraw") as cg, PyServer(prefix=cg.prefix) as s1, \
                PyServer(prefix=cg.prefix) as s2:
            agent = AgentProc("--cgroup", "/" + cg.name, "--max-series-per-cgroup", "0",
                              "--window-metrics")
            held = None
            try:
                # 2 ports x 300 statuses x both sides: 1 200 series, a text body of some
                # 7 MB: more than loopback's send buffer takes (tcp_wmem's 4 MB at most),
                # so the held response stays in flight
                for s in (s1, s2):
                    urls = [s.url(f"/?ms=0&status={200 + i}") for i in range(300)]
                    self.assertEqual(curl(*urls, prefix=cg.prefix), list(range(200, 500)))
                collections_after(agent, 2)
                # a scrape reports the hits before its own; a second apart, nothing
                # is in flight, so sequential scrapes never share
                time.sleep(0.5)
                hits = hits_in(get(agent.mport, gz=False))
                time.sleep(0.5)
                # a scraper that reads a little and stops: its response stays in flight
                held = socket.socket()
                held.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                held.connect(("127.0.0.1", agent.mport))
                held.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                first = held.recv(1024)
                self.assertIn(b"200 OK", first)
                time.sleep(0.3)
                other = get(agent.mport, gz=False)
                # the held one, read to its end: the same series part
                held.settimeout(10)
                while True:
                    d = held.recv(1 << 16)
                    if not d:
                        break
                    first += d
                held.close()
                held = None
                body = first.split(b"\r\n\r\n", 1)[1]
                self.assertGreater(len(before_own(body)), 5000000)
                self.assertEqual(before_own(body), before_own(other))
                # one hit: the scrape that came while the held one was sent
                time.sleep(0.5)
                after = hits_in(get(agent.mport, gz=False))
                self.assertEqual(after, hits + 1)
                # and nothing kept: the next one, alone, builds it anew
                time.sleep(0.5)
                self.assertEqual(hits_in(get(agent.mport, gz=False)), after)
            finally:
                if held:
                    held.close()
                agent.proc.terminate()
                agent.proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
