# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers of the end-to-end tests: the agent, real servers and clients on
loopback, each started on a free port and always stopped.

Every server and client here is a Debian package (nginx, wrk, curl, python3);
`make deps` installs them. Nothing is mocked: the agent's BPF programs are
attached to the running kernel and see the real traffic.
"""
import ctypes
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("LATPROBE", os.path.join(ROOT, "latprobe"))
PYTHON = "/usr/bin/python3"


_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """preexec_fn: the child is killed when the test process dies, however it
    dies (a failed assertion, a runner's timeout, SIGKILL): nothing a test
    starts outlives it."""
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def prog_ids_of(pid):
    """The BPF programs process pid holds, by owner: the prog_id of every
    program and link fd in /proc/PID/fdinfo (never "what appeared since": other
    agents may attach and detach on the node at the same moment)."""
    ids = set()
    d = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                m = re.search(r"^prog_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it does not go within timeout seconds."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def require_root():
    if os.geteuid() != 0:
        raise RuntimeError(
            "end-to-end tests attach BPF programs and need root (run: sudo make test)")


def free_port():
    """A TCP port free on both 127.0.0.1 and ::1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.bind(("::1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_port(port, host="127.0.0.1", timeout=10.0, netns=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if netns:
            r = subprocess.run(["ip", "netns", "exec", netns, "ss", "-Hltn",
                                f"sport = :{port}"], capture_output=True, text=True)
            if r.stdout.strip():
                return
        else:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout}s")


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.startswith("cgroup2 "):
                return left.split()[4]
    raise RuntimeError("no cgroup2 mount")


class LossyNetns:
    """A network namespace of the test's own, its loopback up, with the
    nftables rules given (an input chain of `inet lossy`); .drops() counts
    what the rules dropped. Deleted on exit, on failure too."""

    def __init__(self, tag, rules):
        require_root()
        self.name = f"lp-{tag}-{os.getpid()}"
        self.rules = rules

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            subprocess.run(["ip", "netns", "exec", self.name, "nft", "-f", "-"],
                           input="table inet lossy {\n  chain input {\n    type filter hook input "
                                 "priority 0; policy accept;\n" + self.rules + "\n  }\n}\n",
                           text=True, check=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def run(self, cmd, **kw):
        return subprocess.run(["ip", "netns", "exec", self.name, *cmd], check=True, **kw)

    def drops(self):
        out = self.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
        return sum(int(x) for x in re.findall(r"packets (\d+)", out))

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name])


class PortServer:
    """A server command listening on self.port (set by the subclass with its
    command), started and waited for by a `with`, stopped at its end."""

    def __init__(self, cmd, port):
        self.cmd, self.port, self.proc = cmd, port, None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port)
        except Exception:
            stop_process(self.proc)
            raise
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=10)


class TestCgroup:
    """A cgroup v2 of the test's own; `prefix` runs a command inside it."""

    def __init__(self, tag):
        require_root()
        self.name = f"latprobe-e2e-{tag}-{os.getpid()}"
        self.path = os.path.join(cgroup2_mount(), self.name)
        self.prefix = ["sh", "-c", f'echo $$ > {self.path}/cgroup.procs && exec "$@"', "sh"]
        # ... and on one CPU. Loopback hands a sent segment to the sending CPU's
        # backlog; under load that CPU's softirq is deferred to ksoftirqd, and a
        # sender that moved on to the other CPU can have its next segment received
        # first: truly out of order, which no observer before TCP can follow inside
        # HTTP/2 frames (h2_segments_out_of_order counts it). Tests that count
        # exactly under load pin their peers here: each CPU's backlog is in order.
        self.one_cpu = [*self.prefix, "taskset", "-c", str(min(os.sched_getaffinity(0)))]

    def __enter__(self):
        os.mkdir(self.path)
        return self

    def __exit__(self, *exc):
        remove_cgroup(self.path)


def remove_cgroup(path, must=True):
    """Kill what runs in the cgroup at path, and remove it (it must have no
    children left); with must=False a cgroup that stays busy is left."""
    with open(os.path.join(path, "cgroup.procs")) as f:
        for pid in f.read().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.1)
    if must:
        os.rmdir(path)


def read_until(proc, text, stream="stderr", timeout=15.0):
    """Read proc's stream until text appears, the stream ends or the process
    exits: (found, bytes read). Raw reads: a buffered readline could hold lines
    select() no longer sees."""
    fd = getattr(proc, stream).fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            if text.encode() in buf:
                return True, buf
        elif proc.poll() is not None:
            break
    return False, buf


class Agent:
    """latprobe --json, stopped with SIGINT: the document it prints then is the result."""

    def __init__(self, *args, duration="300s", env=None):
        require_root()
        self.args = [BINARY, "--json", "--duration", duration, *args]
        self.env = {**os.environ, **env} if env else None
        self.proc = None
        self.stderr = ""
        self.result = None

    def start(self, timeout=15.0):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=die_with_parent, env=self.env)
        found, buf = read_until(self.proc, "attached", timeout=timeout)
        self.stderr = buf.decode(errors="replace")
        if found:
            return self
        self.kill()
        raise RuntimeError(f"latprobe did not attach: rc={self.proc.returncode} "
                           f"stderr={self.stderr!r}")

    def stop(self, sig=signal.SIGINT, timeout=20.0):
        """Stop the agent and return its JSON document."""
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        self.stderr += err
        if self.proc.returncode != 0:
            raise RuntimeError(f"latprobe exited {self.proc.returncode}: {self.stderr!r}")
        lines = [l for l in out.splitlines() if l.strip()]
        if not lines:
            raise RuntimeError(f"latprobe printed no JSON: {self.stderr!r}")
        self.result = json.loads(lines[-1])
        return self.result

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            for f in (self.proc.stdout, self.proc.stderr):
                if f and not f.closed:
                    f.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()


def children(pid, name=None):
    """The pids whose parent is pid (and whose name is name, when given)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:]
            if int(rest.split()[1]) == pid and (name is None or comm == name):
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def series(doc, **match):
    """The series of a latprobe JSON document whose fields equal match."""
    return [s for s in doc["series"] if all(s.get(k) == v for k, v in match.items())]


def count(doc, **match):
    return sum(s["count"] for s in series(doc, **match))


class Nginx:
    """nginx on a free port (127.0.0.1 and ::1), serving a 4 KB file and index.html."""

    def __init__(self, keepalive=True, port=None, prefix=(), worker_connections=4096, tls=None,
                 http2=False):
        """tls: (certificate, key) files: HTTPS, with an access log (self.served()).
        http2: HTTP/2 (h2c with prior knowledge in plaintext, ALPN h2 with tls)."""
        self.port = port or free_port()
        self.tls = tls
        self.prefix = list(prefix)
        self.dir = tempfile.mkdtemp(prefix="lp-nginx-")
        with open(os.path.join(self.dir, "4k.bin"), "wb") as f:
            f.write(os.urandom(4096))
        with open(os.path.join(self.dir, "index.html"), "w") as f:
            f.write("latprobe test\n")
        ka = "keepalive_timeout 60s; keepalive_requests 100000;" if keepalive else \
            "keepalive_timeout 0;"
        ssl, log = "", "access_log off;"
        h2 = " http2" if http2 else ""
        if tls:
            ssl = f" ssl{h2}; ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]}"
            log = f"access_log {self.dir}/access.log;"
        else:
            ssl = h2
        conf = f"""
daemon off; worker_processes 1; pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
worker_rlimit_nofile {worker_connections * 2 + 100};
events {{ worker_connections {worker_connections}; }}
http {{
  {log} {ka}
  client_body_temp_path {self.dir}; proxy_temp_path {self.dir};
  fastcgi_temp_path {self.dir}; uwsgi_temp_path {self.dir}; scgi_temp_path {self.dir};
  server {{ listen 127.0.0.1:{self.port}{ssl}; listen [::1]:{self.port}{' ssl' if tls else ''}{h2};
    root {self.dir};
    location = /204 {{ return 204; }} }}
}}
"""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([*self.prefix, "nginx", "-c", self.conf, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path="/", v6=False):
        host = "[::1]" if v6 else "127.0.0.1"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def served(self):
        """Requests nginx logged (tls only: the others run without a log)."""
        with open(os.path.join(self.dir, "access.log")) as f:
            return sum(1 for _ in f)


class RawServer:
    """tests/e2e/raw_server.py: a scripted HTTP server (or a raw echo server)."""

    def __init__(self, prefix=(), echo=False):
        self.port = free_port()
        self.cmd = [*prefix, PYTHON, os.path.join(HERE, "raw_server.py"), str(self.port)]
        if echo:
            self.cmd.append("echo")
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PyServer:
    """tests/e2e/slow_server.py: GET /?ms=N sleeps N ms; logs its own handler times.

    prefix: command prefix, e.g. ["ip", "netns", "exec", NS] or a cgroup wrapper.
    """

    def __init__(self, port=None, prefix=(), host="127.0.0.1", netns=None):
        self.port = port or free_port()
        self.host = host
        self.netns = netns
        fd, self.log = tempfile.mkstemp(prefix="lp-pyserver-", suffix=".log")
        os.close(fd)
        self.cmd = [*prefix, PYTHON, os.path.join(HERE, "slow_server.py"), str(self.port),
                    self.log, host]
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.host, netns=self.netns)
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=10)
        os.unlink(self.log)

    def handler_times(self, ms=None):
        """Handler durations in seconds, as the server measured them."""
        out = []
        with open(self.log) as f:
            for line in f:
                m, ns = line.split()
                if ms is None or float(m) == ms:
                    out.append(int(ns) / 1e9)
        return out

    def url(self, path="/"):
        return f"http://{self.host}:{self.port}{path}"


def curl(*urls, headers=(), v6=False, method=None, timeout=30, prefix=()):
    """One curl process fetching every URL (reusing its connection when it can).
    Returns the list of HTTP status codes."""
    cmd = [*prefix, "curl", "-sS", "--max-time", str(timeout)]
    if v6:
        cmd.append("-6")
    if method == "HEAD":
        cmd.append("-I")
    elif method:
        cmd += ["-X", method]
    for h in headers:
        cmd += ["-H", h]
    if any(u.startswith("https:") for u in urls):
        cmd.append("-k")  # the tests' own self-signed certificates
    for u in urls:
        cmd += ["-o", "/dev/null", "-w", "%{http_code}\\n", u]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
    codes = [int(c) for c in r.stdout.split()]
    if len(codes) != len(urls):
        raise RuntimeError(f"curl: {r.stderr.strip()} (got {codes})")
    return codes


def wrk(url, connections=8, duration="3s", threads=1):
    """Run wrk; returns (responses, non_2xx, connections)."""
    r = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}",
                        "--latency", url], capture_output=True, text=True, timeout=120)
    m = re.search(r"(\d+) requests in", r.stdout)
    if not m:
        raise RuntimeError(f"wrk output not understood: {r.stdout} {r.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     r.stdout)
    return int(m.group(1)), int(bad.group(1)) if bad else 0, connections, \
        tuple(int(x) for x in errs.groups()) if errs else (0, 0, 0, 0)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


class Prometheus:
    """Debian's prometheus on a free port, scraping the given jobs every second.

    jobs: list of (job_name, target "host:port", params dict or None, scheme)."""

    def __init__(self, jobs, native_histograms=True, extra_files=()):
        self.port = free_port()
        self.njobs = len(jobs)
        self.dir = tempfile.mkdtemp(prefix="lp-prometheus-")
        lines = ["global: {scrape_interval: 1s, evaluation_interval: 1s}", "scrape_configs:"]
        for name, target, params, scheme in jobs:
            lines.append(f"  - job_name: {name}")
            lines.append(f"    scheme: {scheme or 'http'}")
            if params:
                lines.append("    params: {" + ", ".join(f"{k}: [{v}]" for k, v in params.items())
                             + "}")
            lines.append(f"    static_configs: [{{targets: ['{target}']}}]")
        self.conf = os.path.join(self.dir, "prometheus.yml")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.args = ["prometheus", f"--config.file={self.conf}",
                     f"--storage.tsdb.path={self.dir}/data",
                     f"--web.listen-address=127.0.0.1:{self.port}"]
        if native_histograms:
            self.args.append("--enable-feature=native-histograms")
        self.proc = None

    def __enter__(self):
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready",
                                            timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"prometheus did not start: {open(self.log.name).read()[-2000:]}")

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=15)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                doc = json.load(r)
        except urllib.error.HTTPError as e:
            # a PromQL error (422, 400): say which, with the expression
            raise RuntimeError(f"prometheus {e.code} for {params}: {e.read()[:500]!r}") from None
        if doc.get("status") != "success":
            raise RuntimeError(f"prometheus: {doc}")
        return doc["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def value(self, expr):
        """The single float value of an instant query (None if empty)."""
        r = self.query(expr)
        if not r:
            return None
        if len(r) != 1:
            raise RuntimeError(f"{expr}: {len(r)} series")
        return float(r[0]["value"][1])

    def targets(self):
        return self.api("targets")["activeTargets"]

    def wait_scrapes(self, n=2, timeout=20):
        """Wait until every configured target has been scraped n more times.
        Prometheus publishes its targets some seconds after it starts: until
        then there is nothing to wait for, and that is not "scraped"."""
        def last():
            return {t["scrapeUrl"]: t["lastScrape"] for t in self.targets()
                    if t["lastScrape"] and not t["lastScrape"].startswith("0001-")}
        deadline = time.monotonic() + timeout
        seen = last()
        while len(seen) < self.njobs and time.monotonic() < deadline:
            time.sleep(0.3)
            seen = last()
        count = 0
        while count < n and time.monotonic() < deadline:
            time.sleep(0.3)
            now = last()
            if len(now) >= self.njobs and all(now[k] != seen.get(k) for k in now):
                count += 1
                seen = now
        if count < n:
            raise RuntimeError("prometheus did not scrape in time")


def live_metrics(until, timeout=10, args=()):
    """/metrics of an agent (extra flags: args) that has timed one request to a
    test server: the text once it holds `until` (raises if it never does)."""
    port = free_port()
    with PyServer() as srv, Agent("--listen", f"127.0.0.1:{port}", "-i", "1s", *args):
        curl(srv.url("/?ms=1"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            if until in text:
                return text
            time.sleep(0.5)
    raise RuntimeError(f"/metrics never held {until!r} within {timeout}s")


def http_get(url, headers=None, timeout=10, context=None):
    """(status, headers, body bytes) of a GET; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
