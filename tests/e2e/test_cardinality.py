# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The cardinality guard in the kernel (--max-series-per-cgroup): one cgroup
floods the series map with every method x 100 statuses x 3 ports while a
second service in a cgroup of its own keeps its old and new series exact and
unfolded. Both services and their clients run in cgroups the test creates."""
import os
import time
import unittest

from lpharness import (Agent, Prometheus, PyServer, TestCgroup, curl, free_port, http_get,
                       remove_cgroup, series)

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
STATUSES = list(range(400, 500))


def by_port(doc, port, side="server"):
    return [s for s in series(doc, side=side, port=port, metric="duration")]


class CardinalityGuard(unittest.TestCase):
    def test_a_flooding_cgroup_never_pushes_another_service_into_overflow(self):
        max_series, cap = 300, 60
        with TestCgroup("noisy") as noisy, TestCgroup("quiet") as quiet, \
                PyServer(prefix=noisy.prefix) as n1, PyServer(prefix=noisy.prefix) as n2, \
                PyServer(prefix=noisy.prefix) as n3, PyServer(prefix=quiet.prefix) as q, \
                Agent("--max-series", str(max_series), "--max-series-per-cgroup", str(cap),
                      "-i", "1s") as agent:
            # the quiet service's old series
            self.assertEqual(curl(*[q.url("/?status=200")] * 5, prefix=quiet.prefix), [200] * 5)
            # the flood: 6 methods x 100 statuses x 3 ports, from the noisy cgroup
            sent = 0
            for srv in (n1, n2, n3):
                for m in METHODS:
                    codes = curl(*[srv.url(f"/?status={s}") for s in STATUSES], method=m,
                                 prefix=noisy.prefix)
                    self.assertEqual(codes, STATUSES)
                    sent += len(codes)
            # the quiet service's new series, after the flood, and its old one again
            news = {201: 3, 404: 2, 503: 4}
            for st, k in news.items():
                self.assertEqual(curl(*[q.url(f"/?status={st}")] * k, prefix=quiet.prefix),
                                 [st] * k)
            self.assertEqual(curl(*[q.url("/?status=200")] * 2, prefix=quiet.prefix), [200] * 2)
            time.sleep(1.5)
            doc = agent.stop()

        # the quiet service: every series exact, by its own status, nothing folded
        for side in ("server", "client"):
            got = {s["status"]: s["count"] for s in by_port(doc, q.port, side)}
            self.assertEqual(got, {200: 7, **news}, side)
            for s in by_port(doc, q.port, side):
                self.assertNotIn("status_label", s)
        # nobody went into the map-wide overflow series
        self.assertEqual(doc["counters"]["overflow_samples"], 0)
        self.assertFalse([s for s in doc["series"] if s["overflow"] and s["count"]])
        # the noisy cgroup: all its requests are there, in its own series (exact,
        # status classes, or its own overflow series), none lost
        noisy_ports = {n1.port, n2.port, n3.port}
        noisy_server = [s for s in doc["series"] if s["side"] == "server" and
                        s["metric"] == "duration" and s["cgroup"] == "/" + noisy.name]
        self.assertEqual(sum(s["count"] for s in noisy_server), sent)
        self.assertTrue(all(s["port"] in noisy_ports or s.get("status_label") == "other"
                            for s in noisy_server))
        labels = {s.get("status_label") for s in noisy_server}
        self.assertIn("4xx", labels)
        self.assertIn("other", labels)
        # bounded: its share, the status classes past it, its overflow series
        mine = [s for s in doc["series"] if s["cgroup"] == "/" + noisy.name]
        self.assertLessEqual(len(mine), cap + 32 + 8 + 4)
        over = [c for c in doc["cgroups_over_share"] if c["cgroup"] == "/" + noisy.name]
        self.assertEqual(len(over), 1, doc["cgroups_over_share"])
        self.assertGreater(over[0]["folded_status_class"], 0)
        self.assertGreater(over[0]["folded_overflow"], 0)
        self.assertFalse([c for c in doc["cgroups_over_share"]
                          if c["cgroup"] == "/" + quiet.name])


if __name__ == "__main__":
    unittest.main()


class SubCgroups:
    """Cgroups below a test cgroup (paths relative to it); emptied and removed after."""

    def __init__(self, parent, *names):
        self.parent = parent
        self.paths = [os.path.join(parent.path, n) for n in names]

    def __enter__(self):
        for p in self.paths:
            os.mkdir(p)
        return self

    def prefix(self, i):
        return ["sh", "-c", f'echo $$ > {self.paths[i]}/cgroup.procs && exec "$@"', "sh"]

    def __exit__(self, *exc):
        for p in reversed(self.paths):
            remove_cgroup(p, must=False)


class TenantShare(unittest.TestCase):
    def test_a_tenants_sub_cgroups_share_one_share(self):
        """The agent scoped to a cgroup: a tenant (a child of it) floods from six
        cgroups of its own; they share the tenant's one share, so the map has
        room for another tenant's new series (issue 32: six siblings took six
        shares, filled the map, and a victim's new series all folded)."""
        max_series, cap = 240, 40
        with TestCgroup("scope") as scope:
            names = ["tenant", *[f"tenant/c{i}" for i in range(6)], "victim"]
            with SubCgroups(scope, *names) as cg:
                servers = [PyServer(prefix=cg.prefix(1 + i)) for i in range(6)]
                victim = PyServer(prefix=cg.prefix(7))
                try:
                    for srv in [*servers, victim]:
                        srv.__enter__()
                    with Agent("--cgroup", scope.path, "--max-series", str(max_series),
                               "--max-series-per-cgroup", str(cap), "-i", "1s") as agent:
                        for i, srv in enumerate(servers):
                            statuses = list(range(400, 430))
                            self.assertEqual(curl(*[srv.url(f"/?status={st}") for st in statuses],
                                                  prefix=cg.prefix(1 + i)), statuses)
                        news = {201: 3, 404: 2, 503: 4}
                        for st, k in news.items():
                            self.assertEqual(curl(*[victim.url(f"/?status={st}")] * k,
                                                  prefix=cg.prefix(7)), [st] * k)
                        time.sleep(1.5)
                        doc = agent.stop()
                finally:
                    for srv in [*servers, victim]:
                        if srv.proc:
                            srv.__exit__()
        for side in ("server", "client"):
            got = {s["status"]: s["count"] for s in by_port(doc, victim.port, side)}
            self.assertEqual(got, news, side)
        self.assertEqual(doc["counters"]["overflow_samples"], 0)
        tenant = f"/{scope.name}/tenant"
        over = [c for c in doc["cgroups_over_share"] if c["cgroup"] == tenant]
        self.assertEqual(len(over), 1, doc["cgroups_over_share"])
        mine = [s for s in doc["series"] if s["cgroup"].startswith(tenant + "/") or
                s["cgroup"] == tenant]
        print(f"\n    6 sub-cgroups x 30 statuses x 2 sides: {len(mine)} series for the "
              f"tenant (a share of {cap}), the victim's {sum(news.values())} requests exact")
        self.assertLessEqual(len(mine), cap + 32 + 8 + 4)


class Retirement(unittest.TestCase):
    def test_a_retired_series_stays_monotone_for_prometheus_across_its_return(self):
        port = free_port()
        job = [("latprobe", f"127.0.0.1:{port}", None, None)]
        # server and client in a cgroup of their own, the agent scoped to it: the
        # node's other traffic (and Prometheus's scrapes) make no series to retire
        with TestCgroup("retire") as cg, PyServer(prefix=cg.prefix) as srv, \
                Prometheus(job, native_histograms=False) as prom, \
                Agent("--listen", f"127.0.0.1:{port}", "-i", "1s", "--retire-after", "5s",
                      "--cgroup", "/" + cg.name, "-p", str(srv.port)) as agent:
            self.assertEqual(curl(*[srv.url("/?ms=1")] * 10, prefix=cg.prefix), [200] * 10)
            text = wait_metric(port, "latprobe_series_retirements_total", 2)
            # retired from the kernel (server and client series), still exported whole
            self.assertIn(f'http_server_request_duration_seconds_count{{'
                          f'http_request_method="GET",http_response_status_code="200",'
                          f'server_port="{srv.port}"', text)
            self.assertEqual(metric_value(text, "latprobe_series_retired"), 2)
            self.assertEqual(server_count(text, srv.port), 10)
            prom.wait_scrapes(2)
            # it comes back: the kernel counts from 0, the exported total goes on
            self.assertEqual(curl(*[srv.url("/?ms=1")] * 5, prefix=cg.prefix), [200] * 5)
            text = wait_metric(port, "latprobe_series_returns_total", 2)
            self.assertEqual(server_count(text, srv.port), 15)
            prom.wait_scrapes(3)
            sel = f'http_server_request_duration_seconds_count{{server_port="{srv.port}"}}'
            self.assertEqual(prom.value(f"resets({sel}[5m])"), 0)
            self.assertEqual(prom.value(sel), 15)
            # what rate() and increase() see: the 5 requests after the return, no reset
            rng = prom.api("query_range", query=sel, start=time.time() - 120, end=time.time(),
                           step="1")
            vals = [float(v) for _, v in rng["result"][0]["values"]]
            self.assertEqual(vals, sorted(vals))
            self.assertEqual((vals[0], vals[-1]), (10, 15))
            doc = agent.stop()
        self.assertGreaterEqual(doc["series_retirements"], 2)
        self.assertGreaterEqual(doc["series_returns"], 2)


class Forgetting(unittest.TestCase):
    def test_series_that_come_and_go_do_not_pile_up(self):
        """Rounds of short-lived series (20 statuses a round, both sides) with
        --retire-after 1s: each round's series retire, then leave the agent;
        /metrics does not grow with the rounds (issue 32: it grew from 0.26 to
        7.5 MB over 30 rounds while the kernel map stayed nearly empty)."""
        port = free_port()
        with TestCgroup("forget") as cg, PyServer(prefix=cg.prefix) as srv, \
                Agent("--listen", f"127.0.0.1:{port}", "-i", "1s", "--retire-after", "1s",
                      "--cgroup", "/" + cg.name, "-p", str(srv.port)):
            sizes = []
            for rnd in range(4):
                statuses = [400 + 20 * rnd + i for i in range(20)]
                self.assertEqual(curl(*[srv.url(f"/?ms=1&status={st}") for st in statuses],
                                      prefix=cg.prefix), statuses)
                wait_metric(port, "latprobe_series_forgotten_total", 40 * (rnd + 1))
                _, _, body = http_get(f"http://127.0.0.1:{port}/metrics")
                text = body.decode()
                sizes.append(len(body))
                # nothing of the port is exported once its series are forgotten
                self.assertIsNone(server_count(text, srv.port))
            print(f"\n    /metrics after each round of 40 series: {sizes} bytes")
            self.assertLess(max(sizes) - min(sizes), 2000)


def metric_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def server_count(text, port):
    for line in text.splitlines():
        if line.startswith("http_server_request_duration_seconds_count{") and \
                f'server_port="{port}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_metric(port, name, at_least, timeout=20):
    """/metrics once the counter name reaches at_least."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, _, body = http_get(f"http://127.0.0.1:{port}/metrics")
        text = body.decode()
        v = metric_value(text, name)
        if v is not None and v >= at_least:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{name} never reached {at_least}: {text[-3000:]}")
