# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The dependency a client calls (--client-address ip|host): two servers on
one port at two loopback addresses, called by curl from a cgroup of the
test's own, come out as two client series, each with its address and exact
count; without the flag, one series as before. With host, the series are
named by the Host header instead (over HTTPS too; HTTP/2 by :authority, h2c
and TLS), one address under two names is two series, and a Host that is no
name falls back to the address.
A client calling more addresses or hosts than its cgroup's share of series
has the rest together as "other", counted, never lost; past the kernel's
4096 host numbers too."""
import subprocess
import unittest

from lpharness import (PYTHON, Agent, Nginx, TestCgroup, count, curl, free_port, series,
                       wait_port)
from test_http2 import curl_h2, h2load
from test_tls import Certs, tls_agent

# one connection per Host name given, a GET each, from one process
HOSTS_CLIENT = r"""
import http.client, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = 0
for i in range(n):
    c = http.client.HTTPConnection(addr, port, timeout=10)
    c.request("GET", "/", headers={"Host": f"h{i}.example:{port}"})
    r = c.getresponse()
    r.read()
    ok += r.status == 200
    c.close()
print(ok)
"""

# one process, one HTTP server per address given, on one port
SERVERS = r"""
import socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
port = int(sys.argv[1])
class H6(ThreadingHTTPServer):
    address_family = socket.AF_INET6
servers = [(H6 if ":" in a else ThreadingHTTPServer)((a, port), H) for a in sys.argv[2:]]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
servers[0].serve_forever()
"""


class Servers:
    def __init__(self, addrs):
        self.port, self.addrs = free_port(), addrs

    def __enter__(self):
        self.proc = subprocess.Popen([PYTHON, "-c", SERVERS, str(self.port), *self.addrs],
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("the servers did not start")
        for a in self.addrs:
            wait_port(self.port, host=a)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


class ClientAddress(unittest.TestCase):
    def test_two_dependencies_on_one_port_are_two_series(self):
        with Servers(["127.0.0.2", "127.0.0.3"]) as srv:
            for flag in (("--client-address", "ip"), ()):
                with self.subTest(flag=flag), TestCgroup("caddr") as cg, \
                        Agent("-i", "1s", "--cgroup", "/" + cg.name, "--side", "client",
                              "--port", str(srv.port), *flag) as ag:
                    self.assertEqual(curl(*[f"http://127.0.0.2:{srv.port}/"] * 3,
                                          prefix=cg.prefix), [200] * 3)
                    self.assertEqual(curl(*[f"http://127.0.0.3:{srv.port}/"] * 5,
                                          headers=["Host: api.internal"], prefix=cg.prefix),
                                     [200] * 5)
                    doc = ag.stop()
                    got = {(s.get("server_address"), s["count"])
                           for s in series(doc, side="client", port=srv.port)}
                    if flag:
                        self.assertEqual(got, {("127.0.0.2", 3), ("127.0.0.3", 5)})
                    else:
                        self.assertEqual(got, {(None, 8)})
                    self.assertEqual(doc["counters"]["client_addresses_folded"], 0)

    def test_ipv6_dependencies_are_two_series(self):
        # ::1 and an address the test puts on lo (and takes away)
        extra = "fd6c:7072:6f62::2"
        subprocess.run(["ip", "-6", "addr", "add", f"{extra}/128", "dev", "lo", "nodad"],
                       check=True)
        try:
            with Servers(["::1", extra]) as srv, TestCgroup("caddr6") as cg, \
                    Agent("-i", "1s", "--cgroup", "/" + cg.name, "--side", "client", "--port",
                          str(srv.port), "--client-address", "ip") as ag:
                self.assertEqual(curl(*[f"http://[::1]:{srv.port}/"] * 3, prefix=cg.prefix),
                                 [200] * 3)
                self.assertEqual(curl(*[f"http://[{extra}]:{srv.port}/"] * 5,
                                      prefix=cg.prefix), [200] * 5)
                doc = ag.stop()
        finally:
            subprocess.run(["ip", "-6", "addr", "del", f"{extra}/128", "dev", "lo"])
        got = {(s.get("server_address"), s["family"], s["count"])
               for s in series(doc, side="client", port=srv.port)}
        self.assertEqual(got, {("::1", "ipv6", 3), (extra, "ipv6", 5)})
        self.assertEqual(doc["counters"]["client_v6_addresses_full"], 0)

    def test_addresses_past_the_cgroups_share_are_other(self):
        addrs = [f"127.0.0.{i}" for i in range(2, 14)]  # 12 dependencies
        with Servers(addrs) as srv, TestCgroup("cshare") as cg, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, "--side", "client", "--port",
                      str(srv.port), "--client-address", "ip", "--max-series-per-cgroup",
                      "4") as ag:
            for a in addrs:
                self.assertEqual(curl(f"http://{a}:{srv.port}/", prefix=cg.prefix), [200])
            doc = ag.stop()
        ss = series(doc, side="client", port=srv.port)
        named = {s["server_address"]: s["count"] for s in ss if s["server_address"] != "other"}
        other = sum(s["count"] for s in ss if s["server_address"] == "other")
        self.assertEqual(len(named), 4, ss)  # the share: the first four addresses
        self.assertTrue(set(named) <= set(addrs))
        self.assertEqual(sum(named.values()) + other, 12)  # every call counted once
        self.assertEqual(other, 8)
        self.assertEqual(doc["counters"]["client_addresses_folded"], 8)


class ClientHost(unittest.TestCase):
    def test_hosts_name_the_series_and_a_host_that_is_no_name_falls_back(self):
        with Servers(["127.0.0.2", "127.0.0.3"]) as srv, TestCgroup("chost") as cg, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, "--side", "client", "--port",
                      str(srv.port), "--client-address", "host") as ag:
            a, b = f"http://127.0.0.2:{srv.port}/", f"http://127.0.0.3:{srv.port}/"
            # its port and case dropped: one name
            self.assertEqual(curl(*[a] * 3, headers=[f"Host: DB.Internal:{srv.port}"],
                                  prefix=cg.prefix), [200] * 3)
            # one address under two names: two series
            self.assertEqual(curl(*[b] * 5, headers=["Host: api.internal"], prefix=cg.prefix),
                             [200] * 5)
            self.assertEqual(curl(*[b] * 2, headers=["Host: web.internal"], prefix=cg.prefix),
                             [200] * 2)
            # curl's own Host: the address as it was written
            self.assertEqual(curl(*[a] * 4, prefix=cg.prefix), [200] * 4)
            # an IP literal in brackets and a hostile one: no name, the address called
            self.assertEqual(curl(b, headers=["Host: [::1]:80"], prefix=cg.prefix), [200])
            self.assertEqual(curl(b, headers=['Host: a"b\\c'], prefix=cg.prefix), [200])
            doc = ag.stop()
        got = {(s.get("server_address"), s["count"])
               for s in series(doc, side="client", port=srv.port)}
        self.assertEqual(got, {("db.internal", 3), ("api.internal", 5), ("web.internal", 2),
                               ("127.0.0.2", 4), ("127.0.0.3", 2)})
        self.assertEqual(doc["counters"]["client_hosts_unusable"], 2)
        self.assertEqual(doc["counters"]["client_hosts_full"], 0)
        self.assertEqual(doc["counters"]["client_addresses_folded"], 0)

    def test_https_is_named_by_its_host(self):
        with Certs() as certs, Nginx(tls=(certs.cert, certs.key)) as ng:
            ag = tls_agent("-p", str(ng.port), "--side", "client", "--client-address", "host")
            try:
                self.assertEqual(curl(*[ng.url("/")] * 4, headers=["Host: secure.internal"]),
                                 [200] * 4)
                self.assertEqual(curl(*[ng.url("/")] * 2), [200] * 2)
                doc = ag.stop()
            finally:
                ag.kill()
        got = {(s.get("server_address"), s["scheme"], s["count"])
               for s in series(doc, side="client", port=ng.port)}
        self.assertEqual(got, {("secure.internal", "https", 4), ("127.0.0.1", "https", 2)})

    def test_http2_is_named_by_its_authority(self):
        with Certs() as certs, TestCgroup("ch2") as cg, \
                Nginx(http2=True, prefix=cg.one_cpu) as ng, \
                Nginx(http2=True, tls=(certs.cert, certs.key), prefix=cg.prefix) as tls:
            ag = tls_agent("--cgroup", "/" + cg.name, "--side", "client", "--client-address",
                           "host")
            try:
                # h2c, a connection each: curl's Host header becomes :authority
                for _ in range(3):
                    self.assertEqual(curl_h2(ng.url("/4k.bin"), headers=["Host: API.internal"],
                                             prefix=cg.prefix), [200])
                ok, done = h2load(ng.url("/4k.bin"), 200, 2, 8, prefix=cg.one_cpu,
                                  headers=[":authority: load.internal:8443"])
                self.assertEqual((ok, done), (200, 200))
                # HTTP/2 over TLS, one connection; and an authority that is no name
                self.assertEqual(curl_h2(*[tls.url("/4k.bin")] * 2, prefix=cg.prefix, tls=True,
                                         headers=["Host: secure.internal"]), [200] * 2)
                self.assertEqual(curl_h2(ng.url("/4k.bin"), headers=["Host: [::1]"],
                                         prefix=cg.prefix), [200])
                doc = ag.stop()
            finally:
                ag.kill()
        got = {(s.get("server_address"), s["port"], s["scheme"], s["count"])
               for s in series(doc, side="client", protocol_version="2")}
        self.assertEqual(got, {("api.internal", ng.port, "http", 3),
                               ("load.internal", ng.port, "http", 200),
                               ("secure.internal", tls.port, "https", 2),
                               ("127.0.0.1", ng.port, "http", 1)})
        self.assertEqual(doc["counters"]["client_hosts_unusable"], 1)

    def test_thousands_of_hosts_stay_within_the_caps(self):
        n = 4200  # past the kernel's 4096 host numbers
        with Servers(["127.0.0.2"]) as srv, TestCgroup("chosts") as cg, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, "--side", "client", "--port",
                      str(srv.port), "--client-address", "host", "--max-series-per-cgroup",
                      "16") as ag:
            r = subprocess.run([*cg.prefix, PYTHON, "-c", HOSTS_CLIENT, "127.0.0.2",
                                str(srv.port), str(n)], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.stdout.strip(), str(n), r.stderr)
            doc = ag.stop()
        ss = series(doc, side="client", port=srv.port)
        named = {s["server_address"]: s["count"] for s in ss if s["server_address"] != "other"}
        other = sum(s["count"] for s in ss if s["server_address"] == "other")
        self.assertEqual(len(named), 16, named)
        self.assertTrue(all(h.startswith("h") and h.endswith(".example") for h in named))
        self.assertEqual(set(named.values()), {1})
        self.assertEqual(other, n - 16)  # every call counted once
        # numbered first, folded by the cgroup's share; past 4096 numbers "other" at once
        self.assertEqual(doc["counters"]["client_hosts_full"], n - 4096)
        self.assertEqual(doc["counters"]["client_addresses_folded"], 4096 - 16)


if __name__ == "__main__":
    unittest.main()
