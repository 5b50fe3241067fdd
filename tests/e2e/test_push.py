# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Push sinks against the real peers (Debian packages started here on
loopback, on free ports, with private state): prometheus-pushgateway,
carbon-cache (whisper files read back with python3-whisper), influxdb 1.x,
victoria-metrics (Influx line protocol and Graphite plaintext with tags), and
a DogStatsD receiver that parses every datagram by the DogStatsD grammar.
One agent feeds them all at once while its /metrics is scraped. Then faults:
a sink that accepts and never answers, one that answers 500 (and recovers),
one that refuses, a name that does not resolve."""
import glob
import base64
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

from lpharness import BINARY, Prometheus, PyServer, curl, die_with_parent, free_port, http_get, \
    require_root, stop_process, wait_port

N = 12  # requests per phase


class Daemon:
    """A peer started on loopback with a private directory; stopped and removed after."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"lp-{name}-")
        self.proc = None

    def start(self, cmd, port, env=None):
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     cwd=self.dir)
        try:
            wait_port(port, timeout=30)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{cmd[0]} did not start: {self.tail()}")
        return self

    def tail(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc, timeout=15)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def pushgateway(web_config=None):
    port = free_port()
    d = Daemon("pushgateway")
    d.port = port
    extra = [f"--web.config.file={web_config}"] if web_config else []
    return d.start(["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}", *extra],
                   port)


def carbon():
    d = Daemon("carbon")
    d.port, pickle, query = free_port(), free_port(), free_port()
    os.makedirs(os.path.join(d.dir, "whisper"))
    with open(os.path.join(d.dir, "carbon.conf"), "w") as f:
        f.write(f"""[cache]
STORAGE_DIR = {d.dir}/
LOCAL_DATA_DIR = {d.dir}/whisper/
WHITELISTS_DIR = {d.dir}/
LOG_DIR = {d.dir}/
PID_DIR = {d.dir}/
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 10000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {d.port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {pickle}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {query}
LOG_LISTENER_CONN_SUCCESS = False
ENABLE_TAGS = False
""")
    with open(os.path.join(d.dir, "storage-schemas.conf"), "w") as f:
        f.write("[all]\npattern = .*\nretentions = 1s:1h\n")
    return d.start(["carbon-cache", f"--config={d.dir}/carbon.conf", f"--pidfile={d.dir}/pid",
                    "--nodaemon", "start"], d.port)


def influxdb():
    d = Daemon("influxdb")
    d.port, rpc = free_port(), free_port()
    conf = os.path.join(d.dir, "influxdb.conf")
    with open(conf, "w") as f:
        f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d.dir}/meta"
[data]
  dir = "{d.dir}/data"
  wal-dir = "{d.dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{d.port}"
  log-enabled = false
""")
    d.start(["influxd", "-config", conf], d.port)
    influx_query(d.port, "CREATE DATABASE lp", post=True)
    return d


def influx_query(port, q, db=None, post=False):
    args = {"q": q}
    if db:
        args["db"] = db
    data = urllib.parse.urlencode(args).encode()
    url = f"http://127.0.0.1:{port}/query"
    req = urllib.request.Request(url, data=data) if post else \
        urllib.request.Request(url + "?" + data.decode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def victoria():
    d = Daemon("victoria")
    d.port, d.graphite = free_port(), free_port()
    return d.start(["victoria-metrics", f"-httpListenAddr=127.0.0.1:{d.port}",
                    f"-graphiteListenAddr=127.0.0.1:{d.graphite}",
                    f"-storageDataPath={d.dir}/data", "-search.latencyOffset=0s",
                    "-loggerLevel=ERROR"], d.port)


def vm_export(port, match):
    http_get(f"http://127.0.0.1:{port}/internal/force_flush")
    q = urllib.parse.urlencode({"match[]": match})
    status, _, body = http_get(f"http://127.0.0.1:{port}/api/v1/export?{q}")
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


class StatsdReceiver(threading.Thread):
    LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*):(-?[0-9.]+(?:e[-+]?[0-9]+)?)\|(c|g)"
                      r"(?:\|#([^|,#\s]+(?:,[^|,#\s]+)*))?$")

    def __init__(self, unix_path=None):
        super().__init__(daemon=True)
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o666)  # the agent sends as nobody
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.datagrams, self.bad = [], []
        self.stop = False
        # stall_on(datagram) -> True: stop reading for stall_s seconds, once
        self.stall_on, self.stall_s, self.stalled = None, 0, False

    def run(self):
        while not self.stop:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.datagrams.append(d)
            for line in d.decode().split("\n"):
                if not self.LINE.match(line):
                    self.bad.append(line)
            if self.stall_on and not self.stalled and self.stall_on(d):
                self.stalled = True
                time.sleep(self.stall_s)

    def counters(self, name, **tags):
        """The sum of every counter sample of name whose tags include tags."""
        total = 0.0
        for d in self.datagrams:
            for line in d.decode().split("\n"):
                m = self.LINE.match(line)
                if not m or m.group(1) != name or m.group(3) != "c":
                    continue
                have = dict(t.split(":", 1) for t in (m.group(4) or "").split(",") if t)
                if all(have.get(k) == str(v) for k, v in tags.items()):
                    total += float(m.group(2))
        return total


def wait_for(fn, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError, IndexError) as e:
            last = e
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class AgentProc:
    """latprobe with an endpoint and push sinks; /metrics is read through it."""

    def __init__(self, *args):
        require_root()
        self.mport = free_port()
        self.proc = subprocess.Popen([BINARY, "-q", "-i", "1s", "--listen",
                                      f"127.0.0.1:{self.mport}", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=die_with_parent)
        self.err = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            self.err += line
            if "attached" in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError(f"latprobe did not start: {self.err}")

    def _drain(self):
        for line in self.proc.stderr:
            self.err += line

    def metrics(self, timeout=5):
        t0 = time.monotonic()
        status, _, body = http_get(f"http://127.0.0.1:{self.mport}/metrics", timeout=timeout)
        return status, body.decode(), time.monotonic() - t0

    def value(self, name, **labels):
        text = self.metrics()[1]
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line.split("}")[0]))
            if all(have.get(k) == str(v) for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return None

    def stop(self):
        stop_process(self.proc)


class AllSinks(unittest.TestCase):
    def test_one_agent_feeds_every_sink_and_the_endpoint(self):
        pg, cb, ix, vm = pushgateway(), carbon(), influxdb(), victoria()
        dsd = StatsdReceiver()
        dsd.start()
        agent = prom = None
        try:
            with PyServer() as srv:
                port = srv.port
                agent = AgentProc(
                    "--port", str(port),
                    "--push", f"pushgateway+http://127.0.0.1:{pg.port}?interval=1s&job=lptest",
                    "--push", f"graphite://127.0.0.1:{cb.port}?interval=1s&tags=0&prefix=lpt",
                    "--push", f"influxdb://127.0.0.1:{ix.port}/lp?interval=1s",
                    "--push", f"influxdb://127.0.0.1:{vm.port}/vm?interval=1s",
                    "--push", f"graphite://127.0.0.1:{vm.graphite}?interval=1s",
                    "--push", f"dogstatsd://127.0.0.1:{dsd.port}?interval=1s&max_size=512")
                # and a Prometheus scrapes the same agent all along
                prom = Prometheus([("latprobe", f"127.0.0.1:{agent.mport}", None, None)],
                                  native_histograms=False)
                prom.__enter__()
                self.assertEqual(curl(*[srv.url("/?ms=1")] * N), [200] * N)
                host = socket.gethostname()
                sel = 'http_server_request_duration_seconds_count{'

                def pg_count():
                    for line in http_get(f"http://127.0.0.1:{pg.port}/metrics")[2].decode() \
                            .splitlines():
                        if line.startswith(sel) and f'server_port="{port}"' in line and \
                                'job="lptest"' in line and f'instance="{host}"' in line:
                            return float(line.rsplit(" ", 1)[1])
                    return None
                wait_for(lambda: pg_count() == N, what=f"pushgateway count {N}")
                # the whole histogram went, under the grouping key: +Inf equals the count
                pgtext = http_get(f"http://127.0.0.1:{pg.port}/metrics")[2].decode()
                inf = [line for line in pgtext.splitlines()
                       if line.startswith("http_server_request_duration_seconds_bucket{") and
                       f'server_port="{port}"' in line and 'job="lptest"' in line and
                       'le="+Inf"' in line]
                self.assertEqual(len(inf), 1, inf)
                self.assertEqual(float(inf[0].rsplit(" ", 1)[1]), N)
                # a second phase: the Pushgateway's group is replaced, not duplicated
                self.assertEqual(curl(*[srv.url("/?ms=1")] * N), [200] * N)
                wait_for(lambda: pg_count() == 2 * N, what=f"pushgateway count {2 * N}")
                lines = [line for line in http_get(f"http://127.0.0.1:{pg.port}/metrics")[2]
                         .decode().splitlines() if line.startswith(sel) and
                         f'server_port="{port}"' in line]
                self.assertEqual(len(lines), 1, lines)

                # carbon: the whisper file of the count holds 2N
                import whisper

                def whisper_last():
                    files = glob.glob(f"{cb.dir}/whisper/lpt/server/*/*/ipv4/h1/{port}/GET/200/count.wsp")
                    if not files:
                        return None
                    _, vals = whisper.fetch(files[0], int(time.time()) - 120)[:2]
                    vals = [v for v in vals if v is not None]
                    return vals[-1] if vals else None
                wait_for(lambda: whisper_last() == 2 * N, what="whisper count",
                         timeout=30)

                # influxdb 1.x: the fields and tags, through its query API
                def influx_last():
                    r = influx_query(ix.port, "SELECT last(count), service, method FROM "
                                     f"http_request_duration_seconds WHERE port='{port}' AND "
                                     "side='server' AND status='200'", db="lp")
                    return r["results"][0]["series"][0]["values"][0]
                row = wait_for(lambda: (lambda v: v if v[1] == 2 * N else None)(influx_last()),
                               what="influx count")
                self.assertEqual(row[3], "GET")
                slo = influx_query(ix.port, "SELECT last(good), last(total) FROM latprobe_slo "
                                   f"WHERE port='{port}' AND side='server' AND "
                                   "slo='get_10ms'", db="lp")
                good, total = slo["results"][0]["series"][0]["values"][0][1:3]
                self.assertEqual(total, 2 * N)
                self.assertLessEqual(good, total)
                self.assertGreater(good, 0)

                # victoria-metrics: the line protocol and Graphite tags
                def vm_values(match):
                    out = vm_export(vm.port, match)
                    return [s["values"][-1] for s in out]
                wait_for(lambda: vm_values(
                    f'{{__name__="http_request_duration_seconds_count",port="{port}",'
                    f'side="server"}}') == [2 * N], what="victoria influx count")
                wait_for(lambda: vm_values(
                    f'{{__name__="latprobe.http.request.count",port="{port}",'
                    f'side="server",method="GET"}}') == [2 * N], what="victoria graphite count")

                # DogStatsD: every datagram parses, none over max_size, counters add up
                wait_for(lambda: dsd.counters("latprobe.http.request.count", side="server",
                                              port=port) == 2 * N, what="dogstatsd count")
                self.assertEqual(dsd.bad, [])
                self.assertTrue(all(len(d) <= 512 for d in dsd.datagrams))
                self.assertGreater(len(dsd.datagrams), 1)

                # Prometheus scraped the same counts the sinks received
                wait_for(lambda: prom.value(
                    f'sum(http_server_request_duration_seconds_count{{server_port="{port}",'
                    f'http_request_method="GET"}})') == 2 * N, what="prometheus count")
                self.assertTrue(all(t["health"] == "up" for t in prom.targets()),
                                prom.targets())

                # and the endpoint kept serving, with every sink's success counted
                status, text, _ = agent.metrics()
                self.assertEqual(status, 200)
                for m in re.finditer(r'latprobe_push_requests_total\{sink="([^"]+)",'
                                     r'result="success"\} (\d+)', text):
                    self.assertGreater(int(m.group(2)), 0, m.group(1))
                self.assertEqual(len(re.findall(r'latprobe_push_requests_total\{[^}]*'
                                                r'result="success"', text)), 6)
        finally:
            if prom:
                prom.__exit__()
            if agent:
                agent.stop()
            dsd.stop = True
            for d in (pg, cb, ix, vm):
                d.stop()


class Secrets(unittest.TestCase):
    def test_user_nobody_pushes_with_a_root_only_secret(self):
        """The shipped unit runs --user nobody; the secret file is root's, 0600.
        It is read once, before the privilege drop: the pushes carry it (a
        Pushgateway with basic auth accepts them) and the agent keeps running."""
        require_root()
        tmp = tempfile.mkdtemp(prefix="lp-secret-")
        pg = agent = None
        try:
            pw = "pa55-" + os.urandom(6).hex()
            bcrypt = subprocess.run(["htpasswd", "-nbB", "-C", "4", "lp", pw], text=True,
                                    capture_output=True, check=True).stdout.strip()
            with open(os.path.join(tmp, "web.yml"), "w") as f:
                f.write("basic_auth_users:\n  lp: " + bcrypt.split(":", 1)[1] + "\n")
            secret = os.path.join(tmp, "auth")
            with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(f"lp:{pw}\n")
            os.chmod(tmp, 0o700)  # nobody can reach the file at all
            pg = pushgateway(os.path.join(tmp, "web.yml"))
            mport = free_port()
            agent = subprocess.Popen(
                [BINARY, "--quiet", "--user", "nobody", "--listen", f"127.0.0.1:{mport}", "-i", "1s",
                 "--push", f"pushgateway+http://127.0.0.1:{pg.port}?interval=1s&job=lpsecret"
                           f"&auth_file={secret}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                preexec_fn=die_with_parent)

            def pushed():
                req = urllib.request.Request(f"http://127.0.0.1:{pg.port}/metrics")
                req.add_header("Authorization", "Basic " + base64.b64encode(
                    f"lp:{pw}".encode()).decode())
                with urllib.request.urlopen(req, timeout=5) as r:
                    return 'job="lpsecret"' in r.read().decode()
            wait_for(pushed, what="a push accepted by the Pushgateway with basic auth")
            self.assertIsNone(agent.poll(), "the agent exited after the privilege drop")
            with open(f"/proc/{agent.pid}/cmdline", "rb") as f:
                self.assertNotIn(pw.encode(), f.read())
            wait_port(mport)
            # the agent counts the push once the Pushgateway's answer is in: a
            # moment after the Pushgateway shows it
            wait_for(lambda: re.search(
                r'latprobe_push_requests_total\{[^}]*result="success"[^}]*\} [1-9]',
                http_get(f"http://127.0.0.1:{mport}/metrics")[2].decode()),
                timeout=10, what="the push counted as a success by the agent")
        finally:
            if agent:
                stop_process(agent)
                err = agent.stderr.read()
                self.assertNotIn(pw, err)
            if pg:
                pg.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class UnixStall(unittest.TestCase):
    def test_a_dogstatsd_unix_receiver_that_never_reads_stalls_nothing(self):
        """A unix datagram receiver that stops reading fills its queue (10
        datagrams by default): sends must time out within timeout=, failures
        be counted, scrapes go on, and SIGTERM end the agent promptly."""
        require_root()
        tmp = tempfile.mkdtemp(prefix="lp-dsd-")
        os.chmod(tmp, 0o755)
        path = os.path.join(tmp, "dsd.sock")
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        rx.bind(path)  # and never read
        os.chmod(path, 0o666)  # the agent sends as nobody
        agent = None
        try:
            with PyServer() as srv:
                mport = free_port()
                agent = subprocess.Popen(
                    [BINARY, "--quiet", "--listen", f"127.0.0.1:{mport}", "-i", "1s",
                     "--push", f"unix://{path}?interval=1s&timeout=1s&max_size=256"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                    preexec_fn=die_with_parent)
                wait_port(mport)
                for status in (200, 201, 404, 500):
                    curl(*[srv.url(f"/?ms=0&status={status}")] * 3)

                def failures():
                    body = http_get(f"http://127.0.0.1:{mport}/metrics", timeout=2)[2].decode()
                    m = re.search(r'latprobe_push_requests_total\{[^}]*result="failure"\} (\d+)',
                                  body)
                    return m and int(m.group(1)) >= 2
                wait_for(failures, timeout=30, what="push failures against a full queue")
                t0 = time.monotonic()
                status = http_get(f"http://127.0.0.1:{mport}/metrics", timeout=2)[0]
                self.assertEqual(status, 200)
                self.assertLess(time.monotonic() - t0, 2)
                t0 = time.monotonic()
                agent.terminate()
                agent.wait(timeout=15)
                self.assertEqual(agent.returncode, 0)
                self.assertLess(time.monotonic() - t0, 5, "SIGTERM waited on the stalled sink")
        finally:
            if agent:
                stop_process(agent)
            rx.close()
            shutil.rmtree(tmp, ignore_errors=True)


def push_figures(mport):
    """{(family, result-or-None): value} of the push self metrics."""
    body = http_get(f"http://127.0.0.1:{mport}/metrics", timeout=2)[2].decode()
    out = {}
    for m in re.finditer(r'^latprobe_push_(requests|lines_skipped)_total\{([^}]*)\} (\S+)$', body,
                         re.M):
        r = re.search(r'result="(\w+)"', m.group(2))
        out[(m.group(1), r and r.group(1))] = float(m.group(3))
    return out


class DogStatsDExact(unittest.TestCase):
    """Counter increments reach DogStatsD once each: a push that fails half-way
    resumes after what arrived, and lines too long for a datagram are left out
    (counted) without failing the push and re-sending the rest."""

    def test_a_push_that_fails_half_way_resumes_after_what_arrived(self):
        require_root()
        tmp = tempfile.mkdtemp(prefix="lp-dsd-")
        os.chmod(tmp, 0o755)
        path = os.path.join(tmp, "dsd.sock")
        rx = StatsdReceiver(unix_path=path)
        agent = None
        try:
            with PyServer() as srv:
                tag = f"port:{srv.port}".encode()
                # the first datagram with one of srv's counts: stop reading for 3 s,
                # so the unix queue (10 datagrams) fills and the push times out
                rx.stall_on = lambda d: b"latprobe.http.request.count:" in d and tag in d
                rx.stall_s = 3
                rx.start()
                mport = free_port()
                agent = subprocess.Popen(
                    [BINARY, "--quiet", "--listen", f"127.0.0.1:{mport}", "-i", "1s",
                     "--push", f"unix://{path}?interval=1s&timeout=1s&max_size=256"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                    preexec_fn=die_with_parent)
                wait_port(mport)
                statuses = (200, 201, 404, 500)
                for status in statuses:
                    self.assertEqual(curl(*[srv.url(f"/?ms=0&status={status}")] * 3),
                                     [status] * 3)
                wait_for(lambda: rx.stalled, what="the receiver's stall")
                wait_for(lambda: push_figures(mport).get(("requests", "failure"), 0) >= 1,
                         what="a push failed half-way")
                ok = push_figures(mport)[("requests", "success")]
                wait_for(lambda: push_figures(mport)[("requests", "success")] >= ok + 3,
                         what="pushes after the stall")
                for side in ("server", "client"):
                    for status in statuses:
                        got = rx.counters("latprobe.http.request.count", side=side,
                                          port=srv.port, status=status)
                        self.assertEqual(got, 3, f"{side} {status}: increments re-sent")
                self.assertEqual(rx.bad, [])
        finally:
            if agent:
                stop_process(agent)
            rx.stop = True
            rx.join(timeout=5)
            rx.sock.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_lines_longer_than_max_size_are_counted_not_a_failure(self):
        rx = StatsdReceiver()
        rx.start()
        a = None
        try:
            with PyServer() as srv:
                a = AgentProc("--push", f"dogstatsd://127.0.0.1:{rx.port}?interval=1s&max_size=64")
                curl(*[srv.url("/?ms=0")] * 3)
                wait_for(lambda: push_figures(a.mport).get(("lines_skipped", None), 0) > 0,
                         what="lines skipped")
                ok = push_figures(a.mport)[("requests", "success")]
                wait_for(lambda: push_figures(a.mport)[("requests", "success")] >= ok + 2,
                         what="pushes that succeed")
                self.assertEqual(push_figures(a.mport)[("requests", "failure")], 0)
                self.assertEqual(rx.datagrams, [])  # every line is longer than 64 bytes
                self.assertIn("lines longer than max_size=64 skipped", a.err)
        finally:
            if a:
                a.stop()
            rx.stop = True
            rx.join(timeout=5)
            rx.sock.close()


class Handler(http.server.BaseHTTPRequestHandler):
    mode = {}

    def do_PUT(self):
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        code = Handler.mode.get(self.server.server_address[1], 500)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class Faults(unittest.TestCase):
    def test_broken_sinks_never_stall_the_agent(self):
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(64)  # accepts (in the kernel), never answers
        err500 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=err500.serve_forever, daemon=True).start()
        p500 = err500.server_address[1]
        Handler.mode[p500] = 500
        refused = free_port()
        sinks = {
            "hang": f"pushgateway+http://127.0.0.1:{hang.getsockname()[1]}",
            "500": f"pushgateway+http://127.0.0.1:{p500}",
            "refused": f"pushgateway+http://127.0.0.1:{refused}",
            "noname": "pushgateway+http://no-such-host.invalid:9091",
        }
        agent = AgentProc(*sum((["--push", u + "?interval=1s&timeout=1s&queue=2"]
                                for u in sinks.values()), []))
        try:
            slowest = 0.0
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                status, text, took = agent.metrics(timeout=5)
                self.assertEqual(status, 200)
                slowest = max(slowest, took)
                time.sleep(0.2)
            print(f"    slowest scrape while 4 sinks were broken: {slowest * 1e3:.0f} ms")
            self.assertLess(slowest, 0.5)
            for name, url in sinks.items():
                sink = url.split("?")[0]
                self.assertGreater(agent.value("latprobe_push_requests_total", sink=sink,
                                               result="failure"), 0, name)
                self.assertEqual(agent.value("latprobe_push_requests_total", sink=sink,
                                             result="success"), 0, name)
            # the hanging sink's queue (2) overflowed: drops counted
            self.assertGreater(agent.value("latprobe_push_dropped_total",
                                           sink=sinks["hang"]), 0)
            # the 500 sink comes back: the next push succeeds, at the next retry (its
            # backoff doubles with each failure, with jitter: after 8 s of failures it
            # may be 16-32 s away; the cap is 60 s)
            Handler.mode[p500] = 200
            wait_for(lambda: agent.value("latprobe_push_requests_total", sink=sinks["500"],
                                         result="success") > 0, timeout=65,
                     what="a push after the sink recovered")
            self.assertGreater(agent.value("latprobe_push_last_success_timestamp_seconds",
                                           sink=sinks["500"]), time.time() - 30)
            self.assertIn("push to", agent.err)
        finally:
            agent.stop()
            err500.shutdown()
            hang.close()
        self.assertEqual(agent.proc.returncode, 0, agent.err[-500:])


class BadFlags(unittest.TestCase):
    def test_bad_push_urls_exit_2_naming_the_value(self):
        for url, why in (("ftp://x", "unknown scheme"),
                         ("graphite://x?interval=soon", "bad value for interval: 'soon'"),
                         ("influxdb2://x?org=o&bucket=b&token_file=/nonexistent",
                          "token_file cannot be read")):
            r = subprocess.run([BINARY, "--push", url], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(url, r.stderr)
            self.assertIn(why, r.stderr)


if __name__ == "__main__":
    unittest.main()
