# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A test HTTP/1.1 server whose handler sleeps as long as the request asks and
records how long it took, measured in the process itself.

usage: slow_server.py PORT LOGFILE [HOST]
GET /?ms=20&status=404  sleeps 20 ms, answers 404; logs "20 <handler ns>".
GET /?close=1           closes the connection without answering.
The handler time runs from the handler's first line to just before the
response is written (head and a 3-byte body in one write): what in-process
instrumentation would see.
"""
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
LOG = open(sys.argv[2], "a", buffering=1)
HOST = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # no Nagle: a response written in parts would otherwise wait for the
        # client's delayed ACK (~40 ms), and really end then
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        t0 = time.monotonic_ns()
        q = parse_qs(urlparse(self.path).query)
        ms = float(q.get("ms", ["0"])[0])
        status = int(q.get("status", ["200"])[0])
        if q.get("close"):
            self.close_connection = True
            self.connection.shutdown(2)  # SHUT_RDWR: FIN, no response
            return
        if ms:
            time.sleep(ms / 1000.0)
        body = b"ok\n"
        reason = self.responses.get(status, ("",))[0]
        t1 = time.monotonic_ns()
        # head and body in one write: the response's last byte leaves with its first
        self.wfile.write(b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n\r\n%s"
                         % (status, reason.encode(), len(body), body))
        LOG.write(f"{ms} {t1 - t0}\n")

    # every method with a body in its response the same way (cardinality tests)
    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


Server((HOST, PORT), Handler).serve_forever()
