# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Traffic that is not HTTP (issue 31 item 3): a connection whose first
payload, in either direction, can begin nothing HTTP is marked once and its
later segments are not read; HTTP beside it is timed as before; a server
that speaks first is decided by its banner; a connection from before the
agent cannot be decided, and its segments are counted. Each test runs its
peers in a cgroup of its own and scopes the agent to it (tests/e2e/tcp_peer.py)."""
import os
import subprocess
import unittest

from lpharness import (HERE, PYTHON, Agent, PortServer, PyServer, TestCgroup, count, curl,
                       free_port, stop_process)

PEER = os.path.join(HERE, "tcp_peer.py")
BANNER = "220 latprobe-test ready\r\n"


class PeerServer(PortServer):
    def __init__(self, prefix, banner=""):
        port = free_port()
        super().__init__([*prefix, PYTHON, PEER, "serve", str(port)] + ([banner] if banner else []),
                         port)


def client(prefix, port, trips, banner_len=0):
    r = subprocess.run([*prefix, PYTHON, PEER, "client", str(port), str(trips), str(banner_len)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode or r.stdout.strip() != "done":
        raise RuntimeError(f"tcp_peer client failed: {r.stderr}")


class NotHttp(unittest.TestCase):
    def test_a_ping_pong_is_marked_once_and_http_beside_it_is_timed(self):
        with TestCgroup("nothttp") as cg, PeerServer(cg.prefix) as srv, \
                PyServer(prefix=cg.prefix) as web, Agent("--cgroup", "/" + cg.name) as ag:
            client(cg.prefix, srv.port, 200)
            self.assertEqual(curl(web.url("/?ms=5"), web.url("/?ms=5"), prefix=cg.prefix),
                             [200, 200])
            client(cg.prefix, srv.port, 50)  # a second connection: marked on its own
            doc = ag.stop()
        c = doc["counters"]
        # each ping-pong connection has two sockets here, each marked once by its first payload
        self.assertEqual(c.get("not_http_connections", 0), 4, c)
        self.assertEqual(c.get("undecided_segments", 0), 0, c)
        self.assertEqual(c.get("orphan_responses", 0), 0, c)
        for side in ("server", "client"):
            self.assertEqual(count(doc, side=side, port=web.port), 2, side)
            self.assertEqual(count(doc, side=side, port=srv.port), 0, side)

    def test_a_server_that_speaks_first_is_decided_by_its_banner(self):
        with TestCgroup("banner") as cg, PeerServer(cg.prefix, BANNER) as srv, \
                Agent("--cgroup", "/" + cg.name) as ag:
            client(cg.prefix, srv.port, 20, len(BANNER))
            doc = ag.stop()
        c = doc["counters"]
        self.assertEqual(c.get("not_http_connections", 0), 2, c)
        self.assertEqual(c.get("undecided_segments", 0), 0, c)
        self.assertEqual(c.get("requests", 0), 0, c)

    def test_the_server_side_alone_decides_on_what_it_receives(self):
        with TestCgroup("nothttpsrv") as cg, PeerServer(cg.prefix) as srv, \
                Agent("--cgroup", "/" + cg.name, "--side", "server") as ag:
            client(cg.prefix, srv.port, 20)
            doc = ag.stop()
        c = doc["counters"]
        # the server's socket by the command it received, the client's by the answer
        self.assertEqual(c.get("not_http_connections", 0), 2, c)
        self.assertEqual(c.get("undecided_segments", 0), 0, c)

    def test_a_connection_from_before_the_agent_stays_undecided_and_counted(self):
        trips = 10
        with TestCgroup("nothttpold") as cg, PeerServer(cg.prefix) as srv:
            held = subprocess.Popen([*cg.prefix, PYTHON, PEER, "client", str(srv.port),
                                     str(trips), "0", "--hold"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(held.stdout.readline().strip(), "ready")
                with Agent("--cgroup", "/" + cg.name) as ag:
                    out, err = held.communicate("go\n", timeout=60)
                    self.assertEqual(out.strip(), "done", err)
                    doc = ag.stop()
            finally:
                stop_process(held)
        c = doc["counters"]
        # every payload segment of both sockets, both ways, classified again and counted
        self.assertEqual(c.get("undecided_segments", 0), 4 * trips, c)
        self.assertEqual(c.get("not_http_connections", 0), 0, c)


if __name__ == "__main__":
    unittest.main()
