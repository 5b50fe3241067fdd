# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hostile names: a service in a cgroup whose name is not UTF-8 and carries a
quote and a carriage return, served by a process that names itself with an
invalid byte and a terminal escape. Every output stays valid: Prometheus'
own parser accepts the scrape, the JSON API parses as strict UTF-8, and the
table prints no control byte."""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpharness import (PYTHON, BINARY, Agent, cgroup2_mount, count, curl, die_with_parent,  # noqa: E402
                       free_port, read_until, require_root, stop_process, wait_port)

CG_NAME = b'latprobe-e2e-x\xff"q\r-%d.service'
COMM = b"py\xff\x1b[7m"

# a one-line HTTP server that renames itself first (prctl PR_SET_NAME)
SERVER = r"""
import ctypes, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(bytes.fromhex(sys.argv[2])))
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class HostileNames(unittest.TestCase):
    def test_every_output_is_valid_whatever_the_names(self):
        require_root()
        mount = cgroup2_mount().encode()
        cg = os.path.join(mount, CG_NAME % os.getpid())
        os.mkdir(cg)
        srv = table = None
        port, mport = free_port(), free_port()
        try:
            srv = subprocess.Popen(
                [b"sh", b"-c", b'echo $$ > "$0/cgroup.procs" && exec "$@"', cg,
                 PYTHON, "-c", SERVER, str(port), COMM.hex()],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
            wait_port(port)
            with open(f"/proc/{srv.pid}/comm", "rb") as f:
                self.assertEqual(f.read().rstrip(b"\n"), COMM)  # the kernel kept the bytes
            table = subprocess.Popen([BINARY, "-i", "1s", "--duration", "4s", "--listen", "none",
                                      "--port", str(port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=die_with_parent)
            with Agent("--listen", f"127.0.0.1:{mport}", "-i", "1s", "--port", str(port)) as ag:
                self.assertTrue(read_until(table, "attached")[0])
                self.assertEqual(curl(*[f"http://127.0.0.1:{port}/"] * 5), [200] * 5)
                time.sleep(2.3)
                bodies = {}
                for name, accept in (("text", "text/plain"),
                                     ("om", "application/openmetrics-text; version=1.0.0")):
                    req = urllib.request.Request(f"http://127.0.0.1:{mport}/metrics",
                                                 headers={"Accept": accept})
                    with urllib.request.urlopen(req, timeout=10) as r:
                        bodies[name] = r.read()
                with urllib.request.urlopen(f"http://127.0.0.1:{mport}/api/v1/series",
                                            timeout=10) as r:
                    api = r.read()
                doc = ag.stop()
            tout, _ = table.communicate(timeout=30)
        finally:
            stop_process(srv)
            stop_process(table)
            for _ in range(50):
                try:
                    os.rmdir(cg)
                    break
                except OSError:
                    time.sleep(0.1)
        # the series is there, named from the cleaned names
        self.assertEqual(count(doc, side="server", port=port), 5)
        # Prometheus' own parser accepts the scrape
        r = subprocess.run(["promtool", "check", "metrics"], input=bodies["text"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name, body in bodies.items():
            body.decode("utf-8")  # strict: raises on any invalid byte
            self.assertNotIn(b"\x1b", body, name)
            self.assertNotIn(b"\r", body, name)
        json.loads(api.decode("utf-8"))
        self.assertIn("\ufffd", api.decode("utf-8"))  # replaced, not dropped
        # the table: no control byte but the line ends
        self.assertTrue(tout)
        self.assertFalse([b for b in tout if b < 0x20 and b not in (0x0a,)], tout)
        self.assertNotIn(b"\x7f", tout)


if __name__ == "__main__":
    unittest.main()
