# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""latprobe in the monitoring people already run, against the real peers
(Debian packages started here with private configurations on free ports):

- Nagios 4 runs `latprobe check` as a service against a live agent; the test
  forces checks through Nagios's command pipe and reads the state Nagios
  recorded: OK under fast traffic, CRITICAL once slow traffic breaks the SLO,
  UNKNOWN with the agent stopped.
- zabbix_agentd with the shipped UserParameter file: its item test mode
  (`zabbix_agentd -t KEY`) and a passive check over the Zabbix agent protocol
  return what the agent's JSON API reports; the shipped template parses and
  every item key it uses is one the UserParameter file provides.
- Grafana: every PromQL expression of the shipped dashboard runs against a
  real Prometheus scraping the agent and returns data while traffic flows.
"""
import json
import os
import pwd
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request

import yaml

from test_grpc import GrpcServer, client as grpc_client
from lpharness import BINARY, ROOT, Agent, Prometheus, PyServer, curl, free_port, \
    live_metrics, require_root, stop_process, wait_port

DEPLOY = os.path.join(ROOT, "deploy")
WINDOW = "1m"


def agent_args(port, server_port):
    """An agent with one SLO on the test server's side: 10 ms, 95 %, over a 1 m window
    (and the window summaries the Zabbix template's HTTP items read)."""
    return ["--listen", f"127.0.0.1:{port}", "-i", "1s", "--window", WINDOW, "--window-metrics",
            "--no-default-slo", "--slo", f"name=lptest,port={server_port},side=server,"
            "threshold=10ms,objective=95%"]


def slo_window(port, name="lptest"):
    """The SLO's first window, from /api/v1/slos (what latprobe check reads); it
    must say what the whole document's slos section says."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/slos", timeout=10) as r:
        doc = json.load(r)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/series", timeout=10) as r:
        whole = json.load(r)
    assert set(doc) == {"version", "revision", "time", "slos"}, sorted(doc)
    if doc["time"] == whole["time"]:  # the same collection
        assert doc["slos"] == whole["slos"], (doc["slos"], whole["slos"])
    slo = next(s for s in doc["slos"] if s["name"] == name)
    return slo["windows"][0]


def wait_total(port, want, timeout=15):
    """Wait until the agent's SLO window holds exactly want requests (the
    requests are done; the agent counts them at its next collection)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w = slo_window(port)
        if w["total"] == want:
            return w
        if w["total"] > want:
            raise AssertionError(f"the SLO window holds more than {want} requests: {w}")
        time.sleep(0.3)
    raise AssertionError(f"the SLO window never reached {want} requests: {w}")


class Nagios:
    """nagios4 with a private configuration: one host, one service running
    `latprobe check`, checks only when the test forces them."""

    def __init__(self, check_args):
        self.dir = tempfile.mkdtemp(prefix="lp-nagios-")
        # Nagios runs checks as its own user, who may not reach the build tree
        # (a clone under /root): the plugin runs from the test's directory
        plugin = os.path.join(self.dir, "latprobe")
        shutil.copy(BINARY, plugin)
        os.chmod(plugin, 0o755)
        check_command = f"{plugin} {check_args}"
        user = "nagios"
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise RuntimeError("nagios4-core did not create the nagios user (make deps)")
        d = self.dir
        os.makedirs(f"{d}/checkresults")
        with open(f"{d}/objects.cfg", "w") as f:
            f.write(f"""
define timeperiod {{
    timeperiod_name 24x7
    alias 24x7
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}}
define contact {{
    contact_name nobody
    host_notifications_enabled 0
    service_notifications_enabled 0
    host_notification_period 24x7
    service_notification_period 24x7
    host_notification_options n
    service_notification_options n
    host_notification_commands noop
    service_notification_commands noop
}}
define command {{
    command_name noop
    command_line /bin/true
}}
define command {{
    command_name check_latprobe
    command_line {check_command}
}}
define host {{
    host_name lphost
    address 127.0.0.1
    check_command noop
    max_check_attempts 1
    check_period 24x7
    contacts nobody
    notification_period 24x7
    notifications_enabled 0
}}
define service {{
    host_name lphost
    service_description latprobe-slo
    check_command check_latprobe
    max_check_attempts 1
    check_interval 100000
    retry_interval 100000
    check_period 24x7
    contacts nobody
    notification_period 24x7
    notifications_enabled 0
    active_checks_enabled 1
}}
""")
        with open(f"{d}/nagios.cfg", "w") as f:
            f.write(f"""log_file={d}/nagios.log
cfg_file={d}/objects.cfg
object_cache_file={d}/objects.cache
precached_object_file={d}/objects.precache
resource_file={d}/resource.cfg
status_file={d}/status.dat
status_update_interval=1
nagios_user={user}
nagios_group={user}
check_external_commands=1
command_file={d}/nagios.cmd
lock_file={d}/nagios.lock
temp_file={d}/nagios.tmp
temp_path={d}
check_result_path={d}/checkresults
check_result_reaper_frequency=1
interval_length=1
execute_service_checks=1
execute_host_checks=0
enable_notifications=0
enable_event_handlers=0
enable_flap_detection=0
use_syslog=0
retain_state_information=0
state_retention_file={d}/retention.dat
max_service_check_spread=1
service_inter_check_delay_method=n
illegal_macro_output_chars=`~$&|'"<>
""")
        open(f"{d}/resource.cfg", "w").close()
        subprocess.run(["chown", "-R", f"{user}:{user}", d], check=True)
        os.chmod(d, 0o755)
        self.proc = None

    def __enter__(self):
        v = subprocess.run(["nagios4", "-v", f"{self.dir}/nagios.cfg"], capture_output=True,
                           text=True)
        if v.returncode != 0:
            raise RuntimeError(f"nagios4 rejects the test configuration: {v.stdout[-2000:]}")
        self.proc = subprocess.Popen(["nagios4", f"{self.dir}/nagios.cfg"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(f"{self.dir}/nagios.cmd") and os.path.exists(
                    f"{self.dir}/status.dat"):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"nagios4 did not start: {self.log()}")

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=15)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(f"{self.dir}/nagios.log") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def status(self):
        """The service's block of status.dat as a dict."""
        with open(f"{self.dir}/status.dat") as f:
            text = f.read()
        for block in re.findall(r"servicestatus \{(.*?)\}", text, re.S):
            kv = dict(l.strip().split("=", 1) for l in block.strip().splitlines() if "=" in l)
            if kv.get("service_description") == "latprobe-slo":
                return kv
        return None

    def force_check(self, timeout=30):
        """Force a check now and return (state, output) once Nagios has recorded it."""
        before = int((self.status() or {}).get("last_check", "0"))
        now = int(time.time())
        while now <= before:  # last_check has a resolution of a second
            time.sleep(0.2)
            now = int(time.time())
        with open(f"{self.dir}/nagios.cmd", "w") as f:
            f.write(f"[{now}] SCHEDULE_FORCED_SVC_CHECK;lphost;latprobe-slo;{now}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status()
            if st and int(st.get("last_check", "0")) >= now and \
                    st.get("has_been_checked") == "1":
                return int(st["current_state"]), st["plugin_output"], st.get(
                    "performance_data", "")
            time.sleep(0.3)
        raise AssertionError(f"nagios did not record a check in {timeout}s: {self.log()}")


class NagiosPlugin(unittest.TestCase):
    def test_nagios_records_ok_critical_unknown(self):
        require_root()
        port = free_port()
        with PyServer() as srv:
            check = f"check -u http://127.0.0.1:{port} -s lptest -W {WINDOW} -t 5"
            agent = Agent(*agent_args(port, srv.port)).start()
            try:
                with Nagios(check) as nagios:
                    # fast traffic: every request within 10 ms
                    curl(*[srv.url("/?ms=0")] * 60)
                    w = wait_total(port, 60)
                    state, out, perf = nagios.force_check()
                    self.assertEqual(state, 0, out)
                    self.assertRegex(out, r"^LATPROBE OK - SLO lptest: 100\.00% of 60 requests "
                                     r"within 0\.01s over 1m \(objective 95%\)")
                    self.assertIn("'good_ratio'=1;;0.95:;0;1", perf)
                    self.assertEqual(w["good"], w["total"])

                    # slow traffic: 10 of 70 take 30 ms; 60/70 = 85.7 % < 95 %
                    curl(*[srv.url("/?ms=30")] * 10)
                    w = wait_total(port, 70)
                    self.assertEqual(w["good"], 60)
                    state, out, perf = nagios.force_check()
                    self.assertEqual(state, 2, out)
                    self.assertTrue(out.startswith("LATPROBE CRITICAL - SLO lptest: "), out)
                    ratio = float(re.search(r"'good_ratio'=([0-9.]+);", perf).group(1))
                    self.assertAlmostEqual(ratio, w["good"] / w["total"], places=3)

                    # the agent stopped: UNKNOWN, saying why
                    agent.stop()
                    state, out, _ = nagios.force_check()
                    self.assertEqual(state, 3, out)
                    self.assertIn("cannot ask the agent", out)
            finally:
                agent.kill()


ZBX_PROBE = "latprobe.slo"


def zabbix_passive(port, key, timeout=10):
    """One passive check over the Zabbix agent protocol: a 'ZBXD\\x01' header, the
    data length (8 bytes little endian) and the key; the answer comes back framed
    the same way."""
    data = key.encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"ZBXD\x01" + struct.pack("<Q", len(data)) + data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    if not buf.startswith(b"ZBXD\x01") or len(buf) < 13:
        raise AssertionError(f"not a Zabbix answer: {buf[:64]!r}")
    (n,) = struct.unpack("<Q", buf[5:13])
    body = buf[13:13 + n].decode()
    if len(body) != n:
        raise AssertionError(f"short Zabbix answer: {n} announced, {len(body)} received")
    return body


def low_free_port():
    """A free port below 32768: zabbix_agentd's ListenPort takes 1024-32767 only."""
    import random
    for _ in range(200):
        port = random.randint(20000, 32767)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port in 20000-32767")


class ZabbixAgent:
    """zabbix_agentd on a free port with the shipped UserParameter file (the
    binary path rewritten to the one under test)."""

    def __init__(self, agent_url):
        self.dir = tempfile.mkdtemp(prefix="lp-zabbix-")
        self.port = low_free_port()
        with open(os.path.join(DEPLOY, "zabbix", "userparameter_latprobe.conf")) as f:
            up = f.read()
        self.userparams = up
        up = up.replace("/usr/sbin/latprobe", BINARY)
        with open(f"{self.dir}/latprobe.conf", "w") as f:
            f.write(up)
        self.conf = f"{self.dir}/zabbix_agentd.conf"
        with open(self.conf, "w") as f:
            f.write(f"""PidFile={self.dir}/zabbix_agentd.pid
LogFile={self.dir}/zabbix_agentd.log
LogType=file
ListenIP=127.0.0.1
ListenPort={self.port}
Server=127.0.0.1
StartAgents=2
Timeout=10
AllowRoot=1
Include={self.dir}/latprobe.conf
""")
        self.env = dict(os.environ, LATPROBE_URL=agent_url)
        self.proc = None

    def test_key(self, key):
        r = subprocess.run(["zabbix_agentd", "-c", self.conf, "-t", key], capture_output=True,
                           text=True, timeout=30, env=self.env)
        return r.stdout.strip()

    def __enter__(self):
        self.proc = subprocess.Popen(["zabbix_agentd", "-f", "-c", self.conf], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, timeout=30)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=15)
        shutil.rmtree(self.dir, ignore_errors=True)


def zbx_test_value(line, key):
    """The value of `zabbix_agentd -t KEY`: 'KEY   [t|VALUE]' (t: text, d: double, u: uint)."""
    m = re.match(r"^" + re.escape(key) + r"\s+\[([a-z])\|(.*)\]$", line, re.S)
    if not m:
        raise AssertionError(f"zabbix_agentd -t {key}: {line!r}")
    return m.group(1), m.group(2)


class Zabbix(unittest.TestCase):
    def test_userparameters_return_what_the_agent_reports(self):
        require_root()
        port = free_port()
        with PyServer() as srv:
            with Agent(*agent_args(port, srv.port)) as agent, \
                    ZabbixAgent(f"http://127.0.0.1:{port}") as zbx:
                curl(*[srv.url("/?ms=0")] * 40, *[srv.url("/?ms=30")] * 4)
                w = wait_total(port, 44)
                # traffic has stopped; the window holds the same counts for a minute
                keys = {
                    f"{ZBX_PROBE}[lptest,{WINDOW},total]": str(w["total"]),
                    f"{ZBX_PROBE}[lptest,{WINDOW},good]": str(w["good"]),
                    f"{ZBX_PROBE}[lptest,{WINDOW},met]": "1" if w["met"] else "0",
                    f"{ZBX_PROBE}[lptest,{WINDOW},objective]": "0.95",
                    f"{ZBX_PROBE}[lptest,{WINDOW},threshold]": "0.01",
                }
                for key, want in keys.items():
                    _, got = zbx_test_value(zbx.test_key(key), key)
                    self.assertEqual(got, want, key)
                    self.assertEqual(zabbix_passive(zbx.port, key), want, key)
                key = f"{ZBX_PROBE}[lptest,{WINDOW},good_ratio]"
                self.assertAlmostEqual(float(zabbix_passive(zbx.port, key)),
                                       w["good"] / w["total"], places=5)
                key = f"{ZBX_PROBE}[lptest,{WINDOW},p99]"
                self.assertAlmostEqual(float(zabbix_passive(zbx.port, key)),
                                       w["quantiles_seconds"]["0.99"], places=6)
                self.assertGreater(float(zabbix_passive(zbx.port, key)), 0.025)

                disc = json.loads(zabbix_passive(zbx.port, "latprobe.slo.discovery"))
                self.assertEqual(disc, [{"{#SLO}": "lptest", "{#WINDOW}": WINDOW, "{#ROUTE}": "",
                                         "{#OBJECTIVE}": "0.95", "{#THRESHOLD}": "0.01"}])
                # the passive check of the plugin mode, whole
                out = zabbix_passive(zbx.port, f"latprobe.check[lptest,{WINDOW}]")
                self.assertRegex(out, r"^LATPROBE (OK|CRITICAL) - SLO lptest: ")
                # an SLO the agent does not have: not supported, with the reason
                out = zabbix_passive(zbx.port, f"{ZBX_PROBE}[nope,{WINDOW},good]")
                self.assertIn("ZBX_NOTSUPPORTED", out)
                self.assertIn("no SLO named 'nope'", out)
                self.assertIsNotNone(agent.proc)

    def test_template_uses_only_keys_that_exist(self):
        """The template parses; agent items use keys of the UserParameter file; the
        HTTP item reads the endpoint's /metrics and every Prometheus pattern names a
        metric a live agent exposes; triggers refer to the template's own items."""
        require_root()
        with open(os.path.join(DEPLOY, "zabbix", "latprobe_template.yaml")) as f:
            tpl = yaml.safe_load(f)
        with open(os.path.join(DEPLOY, "zabbix", "userparameter_latprobe.conf")) as f:
            provided = {m.group(1) for m in
                        re.finditer(r"^UserParameter=([^,\[]+)(?:\[\*\])?,", f.read(), re.M)}
        self.assertEqual(provided, {"latprobe.slo", "latprobe.slo.discovery", "latprobe.check"})
        export = tpl["zabbix_export"]
        self.assertEqual(export["version"], "6.0")
        t = export["templates"][0]
        name = t["template"]
        items = list(t.get("items", []))
        rules = t["discovery_rules"]
        protos = [p for r in rules for p in r.get("item_prototypes", [])]
        self.assertTrue(protos, "no item prototypes")
        every = items + rules + protos
        keys = {i["key"] for i in items + protos}
        uuids = [i["uuid"] for i in every + [t]]
        self.assertEqual(len(uuids), len(set(uuids)), "duplicate uuids")
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{32}", u) for u in uuids))
        patterns = []
        for i in every:
            kind = i.get("type", "ZABBIX_PASSIVE")
            if kind == "ZABBIX_PASSIVE":
                self.assertIn(i["key"].split("[")[0], provided, i["key"])
            elif kind == "HTTP_AGENT":
                self.assertEqual(i["url"], "{$LATPROBE.URL}/metrics", i["key"])
            elif kind == "DEPENDENT":
                self.assertIn(i["master_item"]["key"], keys, i["key"])
            else:
                self.fail(f"{i['key']}: item type {kind} not expected")
            for pp in i.get("preprocessing", []):
                if pp["type"] in ("PROMETHEUS_PATTERN", "PROMETHEUS_TO_JSON"):
                    patterns.append(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*",
                                             pp["parameters"][0]).group(0))
        self.assertIn("latprobe_http_request_duration_quantile_seconds", patterns)
        # the prototypes' keys use exactly the macros their discovery gives: the
        # series' by one id over every label (tests/e2e/test_zabbix_js.py)
        for p in protos:
            for macro in re.findall(r"\{#[A-Z]+\}", p["key"]):
                self.assertIn(macro, ("{#SLO}", "{#WINDOW}", "{#SERIES}"), p["key"])
        lld = {m["lld_macro"] for r in rules for m in r.get("lld_macro_paths", [])}
        self.assertEqual(lld, {"{#SERIES}", "{#SIDE}", "{#SERVICE}", "{#CGROUP}", "{#PORT}",
                               "{#METHOD}", "{#STATUS}", "{#ROUTE}", "{#SCHEME}", "{#NETWORK}",
                               "{#VERSION}"})
        # triggers: on the SLO, referring to this template's items
        trig = [tp for p in protos for tp in p.get("trigger_prototypes", [])] + \
            [tr for i in items for tr in i.get("triggers", [])]
        self.assertTrue(any("good_ratio" in tp["expression"] and "{#OBJECTIVE}" in
                            tp["expression"] for tp in trig), trig)
        for tp in trig:
            refs = re.findall(r"\(/([^/]+)/([^[,)]+(?:\[[^\]]*\])?)", tp["expression"])
            self.assertTrue(refs, tp["expression"])
            for host, key in refs:
                self.assertEqual(host, name)
                self.assertIn(key, keys, tp["expression"])
        # every Prometheus pattern names a metric a live agent serves
        # (the template's HTTP items read the window summaries: --window-metrics)
        text = live_metrics("latprobe_http_request_duration_quantile_seconds{",
                            args=("--window-metrics",))
        served = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
        for m in patterns:
            self.assertIn(m, served, f"the template reads {m}, which /metrics does not serve")
        self.assertIn('window="5m"', text)  # {$LATPROBE.WINDOW}'s default


class Grafana(unittest.TestCase):
    def test_every_dashboard_query_returns_data(self):
        """Every PromQL expression of the dashboard, against three real Prometheus
        servers scraping one agent: one ingesting the native histogram (protobuf),
        one the classic buckets (text), and one set up as the README sets up a
        fleet (two jobs, latprobe and latprobe_classic: every series of the
        agent twice, as on any fleet every SLO's objective comes from each
        target). The heatmap is native-only; everything else must answer in all."""
        require_root()
        with open(os.path.join(DEPLOY, "grafana", "latprobe-dashboard.json")) as f:
            dash = json.load(f)
        exprs = []  # (panel title, expr)
        for p in dash["panels"]:
            for t in p["targets"]:
                exprs.append((p["type"], p["title"], t["expr"]))
        self.assertGreaterEqual(len(exprs), 7)
        kinds = {k for k, _, _ in exprs}
        self.assertIn("heatmap", kinds)
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        self.assertEqual(set(variables), {"datasource", "service", "slo", "route", "protocol",
                                          "namespace", "deployment", "statefulset",
                                          "daemonset"})

        port = free_port()
        job = [("latprobe", f"127.0.0.1:{port}", None, None)]
        fleet_jobs = job + [("latprobe_classic", f"127.0.0.1:{port}", {"histograms": "classic"},
                             None)]
        with Prometheus(job) as native, Prometheus(job, native_histograms=False) as classic, \
                Prometheus(fleet_jobs) as fleet, PyServer() as srv, GrpcServer() as grpc:
            agent = Agent("--listen", f"127.0.0.1:{port}", "-i", "1s", "-p", str(srv.port),
                          "-p", str(grpc.port),
                          "--route", "root=/", "--client-address", "host",
                          "--slo", f"name=lptest,port={srv.port},threshold=10ms,"
                          "objective=95%").start()
            try:
                # traffic across several scrapes: rates need two samples with traffic between
                for _ in range(5):
                    curl(*[srv.url("/?ms=1")] * 20, *[srv.url("/?ms=20&status=404")] * 2)
                    grpc_client(grpc.port, *["unary:1:0"] * 5, "unary:0:5")  # the gRPC row
                    native.wait_scrapes(1)
                classic.wait_scrapes(1)
                fleet.wait_scrapes(1)
                # off Kubernetes the pod variables list nothing and stay All: every series
                # passes (test_identity picks pods with them)
                subst = {"$__rate_interval": "30s", "$__range": "1h", "$service": ".*",
                         "$slo": ".*", "$route": ".*", "$protocol": ".*", "$namespace": ".*",
                         "$deployment": ".*", "$statefulset": ".*", "$daemonset": ".*"}
                for prom, mode in ((native, "native"), (classic, "classic"), (fleet, "fleet")):
                    for kind, title, e in exprs:
                        if kind == "heatmap" and mode == "classic":
                            continue
                        q = e
                        for k, v in subst.items():
                            q = q.replace(k, v)
                        self.assertNotIn("$", q, f"unknown variable in {title}: {e}")
                        r = prom.query(q)  # raises on a PromQL error
                        self.assertTrue(r, f"{mode}: no data for '{title}': {q}")
                        vals = [float(x["value"][1]) for x in r if "value" in x] + \
                            [1 for x in r if "histogram" in x]
                        self.assertTrue(any(v == v for v in vals), f"{mode}: only NaN for {title}")
                        if "dependency" in title:  # named by the Host each client sent
                            self.assertIn("127.0.0.1", {x["metric"].get("server_address")
                                                        for x in r}, f"{mode}: {r}")
                    # the variables' label_values() queries list something
                    for name in ("service", "slo", "route", "protocol"):
                        m = re.fullmatch(r"label_values\((\w+), (\w+)\)",
                                         variables[name]["definition"])
                        got = prom.api(f"label/{m.group(2)}/values", **{"match[]": m.group(1)})
                        self.assertTrue(got, f"{mode}: variable {name} lists nothing")
                        if name == "slo":
                            self.assertIn("lptest", got)
                        if name == "route":
                            self.assertIn("root", got)
                        if name == "protocol":
                            self.assertIn("1.1", got)
            finally:
                agent.kill()


if __name__ == "__main__":
    unittest.main()
