# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""--config FILE and SIGHUP end to end: a running agent re-reads its file and
applies SLOs, routes, exclusions and push sinks without detaching (its BPF
programs stay the same, by owner) and without a counter going back; a bad
file, or one that changes what only a restart can, is refused whole and the
running configuration keeps working. Real peers on loopback: python's
http.server behind tests/e2e/slow_server.py, curl, two prometheus-pushgateway
daemons (one dropped, one added by the reload)."""
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from lpharness import Agent, BINARY, ROOT, PyServer, count, curl, free_port, prog_ids_of, \
    read_until, series, stop_process, wait_port

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def scrape(port):
    """{(name, labels): value} of every sample of /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, line
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def counters(samples):
    """The samples Prometheus treats as counters: they may never go down."""
    return {k: v for k, v in samples.items()
            if k[0].endswith(("_total", "_count", "_bucket", "_sum"))
            and not k[0].startswith("process_")}


def value(samples, name, **labels):
    """The sum of the samples of name whose labels include labels."""
    total, found = 0.0, False
    for (n, l), v in samples.items():
        if n == name and all(f'{k}="{x}"' in l for k, x in labels.items()):
            total += v
            found = True
    return total if found else None


def wait_for(cond, timeout=20, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = cond()
        if r:
            return r
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


class Gateway:
    """prometheus-pushgateway on a free loopback port, stopped after."""

    def __enter__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="lp-pgw-")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        wait_port(self.port, timeout=30)
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=15)
        self.log.close()
        subprocess.run(["rm", "-rf", self.dir], check=False)

    def url(self):
        return f"pushgateway+http://127.0.0.1:{self.port}?interval=1s&job=lpconfig"

    def count(self, **labels):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        total = 0
        for line in text.splitlines():
            if line.startswith("http_server_request_duration_seconds_count{") and \
                    'job="lpconfig"' in line and \
                    all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


class ConfigFile:
    """A configuration file the agent (once it runs as nobody) can read again."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lp-config-")
        os.chmod(self.dir, 0o755)
        self.path = os.path.join(self.dir, "latprobe.yaml")

    def write(self, text):
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.path)  # as a configuration manager does: whole or not at all

    def remove(self):
        subprocess.run(["rm", "-rf", self.dir], check=False)


class Reload(unittest.TestCase):
    def setUp(self):
        self.cf = ConfigFile()
        self.addCleanup(self.cf.remove)

    def hup(self, agent, expect):
        """SIGHUP, and the agent's line that says what came of it."""
        agent.proc.send_signal(signal.SIGHUP)
        found, buf = read_until(agent.proc, expect, timeout=15)
        text = buf.decode(errors="replace")
        self.assertTrue(found, f"no '{expect}' after SIGHUP: {text!r}")
        return text

    def test_sighup_applies_slos_routes_exclusions_and_sinks_without_a_reset(self):
        lport = free_port()
        with PyServer() as srv, Gateway() as gw_a, Gateway() as gw_b:
            base = (f'listen: "127.0.0.1:{lport}"\n'
                    "interval: 1s\n"
                    "quiet: true\n")
            self.cf.write(base +
                          "route: [users=/api/users]\n"
                          "exclude-path: /healthz\n"
                          "slo:\n"
                          "  - {name: users_25ms, threshold: 25ms, objective: 99%,\n"
                          "     route: users, side: server}\n"
                          f"push: '{gw_a.url()}'\n")
            with Agent("--config", self.cf.path) as agent:
                pid = agent.proc.pid
                progs = prog_ids_of(pid)
                self.assertTrue(progs, "the agent holds no BPF program")
                # phase 1: 10 users, 5 health checks, 4 elsewhere
                curl(*[srv.url(f"/api/users/{i}?ms=1") for i in range(10)])
                curl(*[srv.url("/healthz") for _ in range(5)])
                curl(*[srv.url("/other") for _ in range(4)])
                wait_for(lambda: value(scrape(lport), "latprobe_slo_requests_total",
                                       slo="users_25ms", server_port=str(srv.port)) == 10,
                         what="users_25ms at 10")
                wait_for(lambda: gw_a.count(http_route="users",
                                            server_port=str(srv.port)) == 10,
                         what="pushgateway A at 10")
                before = counters(scrape(lport))

                # the reload: a route, an SLO, an exclusion swapped, sink A for sink B
                self.cf.write(base +
                              "route: [orders=/api/orders, users=/api/users]\n"
                              "exclude-path: [/ready]\n"
                              "slo:\n"
                              "  - {name: users_25ms, threshold: 25ms, objective: 99%,\n"
                              "     route: users, side: server}\n"
                              "  - name=orders_50ms,threshold=50ms,objective=99.9%,"
                              "route=orders,side=server\n"
                              f"push: '{gw_b.url()}'\n")
                line = self.hup(agent, "reloaded")
                self.assertIn("3 SLOs, 2 routes, 1 excluded path, 1 sink", line)
                self.assertEqual(prog_ids_of(pid), progs, "the reload re-attached")
                after = counters(scrape(lport))
                # no counter went back; none Prometheus saw vanished but the dropped
                # sink's own (its series end: Prometheus marks them stale)
                for k, v in before.items():
                    if 'sink="pushgateway' in k[1] and str(gw_a.port) in k[1]:
                        continue
                    self.assertIn(k, after, f"{k} vanished on reload")
                    self.assertGreaterEqual(after[k], v, f"{k} went back on reload")
                s = scrape(lport)
                self.assertEqual(value(s, "latprobe_config_reloads_total", result="success"), 1)
                self.assertEqual(value(s, "latprobe_config_last_reload_successful"), 1)

                # phase 2, under the new configuration
                curl(*[srv.url(f"/api/orders/{i}?ms=1") for i in range(6)])
                curl(*[srv.url("/ready") for _ in range(3)])
                curl(*[srv.url("/healthz") for _ in range(2)])
                curl(*[srv.url(f"/api/users/{i}?ms=1") for i in range(4)])
                port = str(srv.port)
                wait_for(lambda: value(scrape(lport), "latprobe_slo_requests_total",
                                       slo="orders_50ms", server_port=port) == 6,
                         what="orders_50ms at 6")
                s = scrape(lport)
                self.assertEqual(value(s, "latprobe_slo_requests_total", slo="users_25ms",
                                       server_port=port), 14)
                self.assertEqual(value(s, "latprobe_http_excluded_requests_total",
                                       path="/ready", side="server"), 3)
                # /healthz is no longer excluded: its counter stays at what it was
                self.assertEqual(value(s, "latprobe_http_excluded_requests_total",
                                       path="/healthz", side="server"), 5)
                self.assertEqual(value(s, "http_server_request_duration_seconds_count",
                                       http_route="unrouted", server_port=port), 4 + 2)
                # sink B took over, with everything; sink A's figures are no longer served
                wait_for(lambda: gw_b.count(http_route="orders",
                                            server_port=port) == 6,
                         what="pushgateway B at 6 orders")
                self.assertEqual(gw_b.count(http_route="users",
                                            server_port=port), 14)
                s = scrape(lport)
                self.assertIsNone(value(s, "latprobe_push_requests_total",
                                        sink=f"pushgateway+http://127.0.0.1:{gw_a.port}"))
                self.assertGreaterEqual(value(s, "latprobe_push_requests_total",
                                              result="success"), 1)
                good = counters(s)

                # refused reloads: the running configuration stays, and says why
                for text, why in (
                        ("route: [\n", "YAML"),
                        (base + "schema: 4\n", "--schema changed, which takes a restart"),
                        (base + "route: [users=/api/users]\nslo:\n"
                         "  - {name: users_25ms, threshold: 50ms, objective: 99%}\n",
                         "SLO 'users_25ms' changed its definition"),
                        (base + "route: [users=/api/users]\n"
                         "slo:\n  - name=x,threshold=20ms,objective=99%\n",
                         "threshold 0.02s is not a classic boundary"),
                        (base + "bogus: 1\n", "unknown setting 'bogus'")):
                    self.cf.write(text)
                    line = self.hup(agent, "refused")
                    self.assertIn(why, line)
                s = scrape(lport)
                self.assertEqual(value(s, "latprobe_config_last_reload_successful"), 0)
                self.assertEqual(value(s, "latprobe_config_reloads_total", result="failure"), 5)
                self.assertEqual(value(s, "latprobe_config_reloads_total", result="success"), 1)
                for k, v in good.items():
                    self.assertGreaterEqual(s.get(k, -1), v, f"{k} after a refused reload")
                # the running routes, SLOs and sink still work
                curl(*[srv.url(f"/api/orders/{i}?ms=1") for i in range(2)])
                wait_for(lambda: value(scrape(lport), "latprobe_slo_requests_total",
                                       slo="orders_50ms", server_port=port) == 8,
                         what="orders_50ms at 8 after refused reloads")
                wait_for(lambda: gw_b.count(http_route="orders",
                                            server_port=port) == 8,
                         what="pushgateway B at 8 orders")
                doc = agent.stop()
            self.assertEqual(count(doc, side="server", port=srv.port, route="orders",
                                   metric="duration"), 8)
            self.assertEqual(count(doc, side="server", port=srv.port, route="users",
                                   metric="duration"), 14)

    def test_the_command_line_overrides_the_file_and_sighup_without_a_file_is_harmless(self):
        lport = free_port()
        self.cf.write(f'listen: "127.0.0.1:{free_port()}"\ninterval: 1s\nquiet: true\n')
        with PyServer() as srv:
            # --listen on the command line wins over the file's
            with Agent("--config", self.cf.path, "--listen", f"127.0.0.1:{lport}") as agent:
                curl(srv.url("/?ms=1"))
                wait_for(lambda: value(scrape(lport), "http_server_request_duration_seconds_count",
                                       server_port=str(srv.port)) == 1, what="one request")
                agent.stop()
            with Agent("--listen", f"127.0.0.1:{lport}", "-i", "1s") as agent:
                line = self.hup(agent, "nothing to re-read")
                self.assertIn("started without --config", line)
                self.assertIsNone(agent.proc.poll(), "SIGHUP ended the agent")
                curl(srv.url("/?ms=1"))
                doc = agent.stop()
            self.assertEqual(count(doc, side="server", port=srv.port, metric="duration"), 1)

    def test_watch_config_applies_a_configmap_style_swap(self):
        """--watch-config (the DaemonSet's): a ConfigMap update swaps the file's
        symlink; the agent applies it at its next collection, without a signal."""
        lport = free_port()
        data = os.path.join(self.cf.dir, "..data_1")
        os.mkdir(data)
        os.chmod(data, 0o755)

        def publish(text, n):
            d = os.path.join(self.cf.dir, f"..data_{n}")
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
            with open(os.path.join(d, "latprobe.yaml"), "w") as f:
                f.write(text)
            os.chmod(os.path.join(d, "latprobe.yaml"), 0o644)
            tmp = os.path.join(self.cf.dir, "..data_tmp")
            os.symlink(os.path.basename(d), tmp)
            os.replace(tmp, os.path.join(self.cf.dir, "..data"))

        base = f'listen: "127.0.0.1:{lport}"\ninterval: 1s\nquiet: true\n'
        publish(base, 1)
        os.symlink("..data/latprobe.yaml", self.cf.path)
        with PyServer() as srv:
            with Agent("--config", self.cf.path, "--watch-config") as agent:
                publish(base + "route: [users=/api/users]\n", 2)
                found, buf = read_until(agent.proc, "reloaded", timeout=15)
                self.assertTrue(found, buf.decode(errors="replace"))
                self.assertIn("changed", buf.decode(errors="replace"))
                curl(*[srv.url(f"/api/users/{i}?ms=1") for i in range(3)])
                wait_for(lambda: value(scrape(lport), "http_server_request_duration_seconds_count",
                                       http_route="users", server_port=str(srv.port)) == 3,
                         what="3 on route users")
                # a bad update is refused once, not at every collection
                publish(base + "route: [users=/api/users]\nschema: 5\n", 3)
                found, buf = read_until(agent.proc, "refused", timeout=15)
                self.assertTrue(found, buf.decode(errors="replace"))
                time.sleep(3)
                s = scrape(lport)
                self.assertEqual(value(s, "latprobe_config_reloads_total", result="failure"), 1)
                self.assertEqual(value(s, "latprobe_config_reloads_total", result="success"), 1)
                agent.stop()

    def test_the_shipped_file_and_its_examples_run(self):
        """deploy/latprobe.yaml (/etc/latprobe/latprobe.yaml) as installed, and with
        its commented examples switched on: the agent attaches with either."""
        with open(os.path.join(ROOT, "deploy", "latprobe.yaml")) as f:
            shipped = f.read()
        lines = []
        for line in shipped.splitlines():
            m = re.match(r"^# ((slo|route|exclude-path|push):.*|  .*)$", line)
            lines.append(m.group(1) if m else line)
        examples = "\n".join(lines).replace("pushgateway.example:9091", "127.0.0.1:9") + "\n"
        self.assertIn("\nslo:\n  - name: checkout_250ms\n", examples)
        for text, slos in ((shipped, 1), (examples, 2)):
            self.cf.write(text)
            lport = free_port()
            with Agent("--config", self.cf.path, "--listen", f"127.0.0.1:{lport}") as agent:
                s = scrape(lport)
                self.assertEqual(len([k for k in s if k[0] == "latprobe_slo_objective_ratio"]),
                                 slos)
                agent.stop()

    def test_a_bad_file_at_start_exits_2_naming_it(self):
        self.cf.write("interval: 2s\nslo: [threshold=10ms]\n")
        r = subprocess.run([BINARY, "--config", self.cf.path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--slo", r.stderr)
        self.cf.write("interval: 2s\nnope: 1\n")
        r = subprocess.run([BINARY, "--config", self.cf.path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{self.cf.path}:2: unknown setting 'nope'", r.stderr)


if __name__ == "__main__":
    unittest.main()
