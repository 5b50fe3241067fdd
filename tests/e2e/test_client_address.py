# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The dependency a client calls (--client-address ip): two servers on one
port at two loopback addresses, called by curl from a cgroup of the test's
own, come out as two client series, each with its address and exact count;
without the flag, one series as before. A client calling more addresses
than its cgroup's share of series has the rest together as "other",
counted, never lost."""
import subprocess
import unittest

from lpharness import PYTHON, Agent, TestCgroup, count, curl, free_port, series, wait_port

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


if __name__ == "__main__":
    unittest.main()
