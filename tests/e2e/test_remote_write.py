# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Prometheus remote write against the real receivers Debian packages:
Prometheus 2.42 (--web.enable-remote-write-receiver) and VictoriaMetrics 1.79.
The same Prometheus also scrapes the agent, so every answer is compared
between the two paths; then a receiver that is down, and one answering 500,
come back without a counter reset."""
import http.server
import json
import threading
import time
import unittest
import urllib.parse

from lpharness import Prometheus, PyServer, curl, http_get
from test_push import AgentProc, Handler, victoria, wait_for


def vm_value(port, expr):
    http_get(f"http://127.0.0.1:{port}/internal/force_flush")
    q = urllib.parse.urlencode({"query": expr})
    status, _, body = http_get(f"http://127.0.0.1:{port}/api/v1/query?{q}")
    doc = json.loads(body)
    r = doc["data"]["result"]
    return float(r[0]["value"][1]) if r else None


def rw(port, job="lp-rw"):
    return (f"remote-write+http://127.0.0.1:{port}/api/v1/write"
            f"?interval=1s&timeout=1s&job={job}")


class RemoteWrite(unittest.TestCase):
    def test_prometheus_and_victoriametrics_hold_what_a_scrape_gives(self):
        with PyServer() as srv:
            vm = victoria()
            prom = Prometheus([], native_histograms=False)
            prom.args.append("--web.enable-remote-write-receiver")
            native = Prometheus([], native_histograms=True)  # receives native=1
            native.args.append("--web.enable-remote-write-receiver")
            agent = None
            try:
                with prom, native:
                    agent = AgentProc("--push", rw(prom.port), "--push", rw(vm.port),
                                      "--push", rw(native.port, "lp-native") + "&native=1",
                                      "--route", "slow=/slow", "-p", str(srv.port))
                    # the same agent scraped too: job "latprobe", classic and native
                    job = [("latprobe", f"127.0.0.1:{agent.mport}", None, None)]
                    with Prometheus(job, native_histograms=False) as scraper, \
                            Prometheus(job) as nscraper:
                        curl(*[srv.url("/?ms=1")] * 20, *[srv.url("/?ms=30&status=404")] * 5,
                             srv.url("/slow?ms=1"))
                        time.sleep(1.5)
                        scraper.wait_scrapes(2)
                        sink = rw(prom.port).split("?")[0]
                        n0 = agent.value("latprobe_push_requests_total", sink=sink,
                                         result="success") or 0
                        wait_for(lambda: (agent.value("latprobe_push_requests_total",
                                                      sink=sink, result="success") or 0)
                                 >= n0 + 2, what="two pushes after the traffic")
                        time.sleep(1)
                        port = srv.port
                        sel = f'server_port="{port}"'
                        queries = {
                            "count": 'sum(http_server_request_duration_seconds_count{%s})',
                            "404": 'sum(http_server_request_duration_seconds_count{%s,'
                                   'http_response_status_code="404"})',
                            "le 10ms": 'sum(http_server_request_duration_seconds_bucket{%s,'
                                       'le="0.01"})',
                            "slo good": 'sum(latprobe_slo_good_requests_total{%s,side="server",'
                                        'slo="get_10ms"})',
                            "route": 'sum(http_server_request_duration_seconds_count{%s,'
                                     'http_route="slow"})',
                            "p99": 'histogram_quantile(0.99, sum by (le) ('
                                   'http_server_request_duration_seconds_bucket{%s}))',
                        }
                        got = {}
                        for name, q in queries.items():
                            scraped = scraper.value(q % (sel + ',job="latprobe"'))
                            written = prom.value(q % (sel + ',job="lp-rw"'))
                            in_vm = vm_value(vm.port, q % (sel + ',job="lp-rw"'))
                            got[name] = (scraped, written, in_vm)
                        print("    scrape / remote write to Prometheus / to VictoriaMetrics: "
                              + ", ".join(f"{k} {v}" for k, v in got.items()))
                        for name, (scraped, written, in_vm) in got.items():
                            self.assertEqual(written, scraped, name)
                            self.assertEqual(in_vm, scraped, name)
                        self.assertEqual(got["count"][0], 26)
                        self.assertEqual(got["404"][0], 5)
                        self.assertEqual(got["route"][0], 1)
                        self.assertEqual(got["slo good"][0], 21)
                        # native histograms: remote-written (native=1) as scraped (protobuf)
                        nscraper.wait_scrapes(1)
                        for q in ('histogram_count(sum(http_server_request_duration_seconds{%s}))',
                                  'histogram_sum(sum(http_server_request_duration_seconds{%s}))',
                                  'histogram_quantile(0.99, sum('
                                  'http_server_request_duration_seconds{%s}))'):
                            scraped = nscraper.value(q % (sel + ',job="latprobe"'))
                            written = native.value(q % (sel + ',job="lp-native"'))
                            print(f"    native, scrape / remote write: {scraped} / {written}")
                            self.assertIsNotNone(scraped, q)
                            self.assertAlmostEqual(written, scraped, places=9, msg=q)
                        # the external labels: instance is the node
                        r = prom.query(f'http_server_request_duration_seconds_count{{{sel},'
                                       'job="lp-rw"}')
                        self.assertTrue(r and all(x["metric"].get("instance") for x in r))
            finally:
                if agent:
                    agent.stop()
                vm.stop()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])

    def test_a_receiver_down_or_failing_comes_back_without_a_counter_reset(self):
        err500 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        Handler.do_POST = Handler.do_PUT
        threading.Thread(target=err500.serve_forever, daemon=True).start()
        p500 = err500.server_address[1]
        Handler.mode[p500] = 500
        with PyServer() as srv:
            prom = Prometheus([], native_histograms=False)  # its port is chosen, not yet open
            prom.args.append("--web.enable-remote-write-receiver")
            agent = AgentProc("--push", rw(prom.port), "--push", rw(p500), "-p", str(srv.port))
            try:
                down, failing = rw(prom.port).split("?")[0], rw(p500).split("?")[0]
                curl(*[srv.url("/?ms=1")] * 10)
                for sink in (down, failing):
                    wait_for(lambda: (agent.value("latprobe_push_requests_total", sink=sink,
                                                  result="failure") or 0) > 0,
                             what=f"a failed push to {sink}")
                    self.assertEqual(agent.value("latprobe_push_requests_total", sink=sink,
                                                 result="success"), 0)
                # the queue stays bounded: dropped snapshots are counted
                wait_for(lambda: (agent.value("latprobe_push_dropped_total", sink=down) or 0) > 0,
                         timeout=30, what="drops while the receiver is down")
                Handler.mode[p500] = 204
                with prom:
                    wait_for(lambda: (agent.value("latprobe_push_requests_total", sink=down,
                                                  result="success") or 0) >= 2,
                             timeout=30, what="pushes once the receiver is up")
                    curl(*[srv.url("/?ms=1")] * 5)
                    time.sleep(1.5)
                    n = agent.value("latprobe_push_requests_total", sink=down,
                                    result="success")
                    wait_for(lambda: agent.value("latprobe_push_requests_total", sink=down,
                                                 result="success") >= n + 2,
                             what="two more pushes")
                    sel = f'http_server_request_duration_seconds_count{{server_port="{srv.port}"}}'
                    self.assertEqual(prom.value(f"sum({sel})"), 15)
                    self.assertEqual(prom.value(f"sum(resets({sel}[5m]))"), 0)
                wait_for(lambda: (agent.value("latprobe_push_requests_total", sink=failing,
                                              result="success") or 0) > 0,
                         what="a push after the failing receiver recovered")
            finally:
                agent.stop()
                err500.shutdown()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])


if __name__ == "__main__":
    unittest.main()
