# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Scrapes of one collection share one body: the series part of a gzip
scrape is built and compressed once per collection and format, the agent's
own metrics anew every time, in one gzip member. Checked here: the bodies
decode (gzip's CRC and length included) to exactly what an uncompressed
scrape gives, in every format; promtool accepts them; the cache is used
(latprobe_scrape_cache_hits_total); and nothing is stale: after the next
collection a scrape carries the new requests."""
import gzip
import subprocess
import time
import unittest
import urllib.request

from lpharness import PyServer, curl
from test_push import AgentProc

TEXT = None
OM = "application/openmetrics-text; version=1.0.0"
PB = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
# the agent's own metrics change at every scrape: compared apart
OWN = (b"latprobe_scrape", b"process_", b"latprobe_http_")


def get(port, accept=None, gz=True):
    h = {"Accept-Encoding": "gzip"} if gz else {}
    if accept:
        h["Accept"] = accept
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=h)
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
        enc = r.headers.get("Content-Encoding")
    if gz:
        assert enc == "gzip", enc
        return gzip.decompress(body)  # checks the CRC and the length
    return body


def series_part(text):
    return [l for l in text.split(b"\n") if l and not l.startswith(OWN)
            and not (l.startswith(b"# ") and any(o in l for o in OWN))]


class ScrapeCache(unittest.TestCase):
    def test_scrapes_of_one_collection_share_the_series_part(self):
        with PyServer() as srv:
            agent = AgentProc("-i", "4s", "-p", str(srv.port))
            try:
                curl(*[srv.url("/?ms=1")] * 5)
                # a collection with the requests; the scrapes below take well under the
                # 4 s to the next one (one may straddle it: a miss, not an error)
                time.sleep(4.5)
                plain = get(agent.mport, gz=False)
                self.assertIn(f'server_port="{srv.port}"'.encode(), plain)
                for accept in (TEXT, OM):
                    a = get(agent.mport, accept)
                    b = get(agent.mport, accept)
                    ref = get(agent.mport, accept, gz=False)
                    self.assertEqual(series_part(a), series_part(ref), accept)
                    self.assertEqual(series_part(b), series_part(ref), accept)
                    if accept == OM:
                        self.assertTrue(b.endswith(b"# EOF\n"))
                        self.assertEqual(b.count(b"# EOF"), 1)
                p1, p2 = get(agent.mport, PB), get(agent.mport, PB)
                self.assertGreater(len(p1), 100)
                self.assertEqual(abs(len(p1) - len(p2)) < 64, True)
                text = get(agent.mport)
                r = subprocess.run(["promtool", "check", "metrics"], input=text,
                                   capture_output=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
                hits = agent.value("latprobe_scrape_cache_hits_total")
                # 7 gzip scrapes, 3 formats: 3 builds, 4 hits (3 if one straddled a collection)
                print(f"    cache hits after 7 gzip scrapes in 3 formats: {hits:.0f}")
                self.assertGreaterEqual(hits, 3)
                self.assertLessEqual(hits, 4)
            finally:
                agent.stop()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])

    def test_the_next_collection_is_never_served_stale(self):
        with PyServer() as srv:
            agent = AgentProc("-p", str(srv.port))  # -i 1s
            try:
                for n in (3, 7):
                    curl(*[srv.url("/?ms=1")] * (n - (3 if n == 7 else 0)))
                    time.sleep(1.5)
                    body = get(agent.mport).decode()
                    counts = [float(l.rsplit(" ", 1)[1]) for l in body.splitlines()
                              if l.startswith("http_server_request_duration_seconds_count{")
                              and f'server_port="{srv.port}"' in l]
                    self.assertEqual(sum(counts), n)
            finally:
                agent.stop()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])


if __name__ == "__main__":
    unittest.main()
