# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A test HTTP/1.1 server whose handler sleeps as long as the request asks and
records how long it took, measured in the process itself.

usage: slow_server.py PORT LOGFILE [HOST]
GET /?ms=20&status=404  sleeps 20 ms, answers 404; logs "20 <handler ns>".
GET /?close=1           closes the connection without answering.
The handler time runs from the handler's first line to just before the
response is written (head and a 3-byte body, at once with TCP_NODELAY): what
in-process instrumentation would see.
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
        # head and body are two writes: without this, Nagle holds the body until
        # the client's delayed ACK (~40 ms), and the response really ends then
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
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        t1 = time.monotonic_ns()
        self.end_headers()  # the buffered status line and headers leave here
        self.wfile.write(body)
        LOG.write(f"{ms} {t1 - t0}\n")

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


Server((HOST, PORT), Handler).serve_forever()
