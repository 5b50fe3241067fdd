#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An HTTP/2 server (h2c, prior knowledge) from Debian's python3-h2 that
streams each response body in parts with pauses, for whole-response timing
tests: GET /slow?parts=N&pause=S sends N DATA frames S seconds apart, the
last with END_STREAM; GET /status/CODE answers CODE with a short body; one
connection at a time, each on its own thread.

usage: h2_server.py PORT"""
import socket
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

import h2.config
import h2.connection
import h2.events


def answer(conn, sock, lock, stream, path):
    url = urlsplit(path)
    q = parse_qs(url.query)
    if url.path.startswith("/status/"):
        code = url.path.rsplit("/", 1)[1]
        with lock:
            conn.send_headers(stream, [(":status", code), ("content-length", "2")])
            conn.send_data(stream, b"ok", end_stream=True)
            sock.sendall(conn.data_to_send())
        return
    parts = int(q.get("parts", ["3"])[0])
    pause = float(q.get("pause", ["0.2"])[0])
    with lock:
        conn.send_headers(stream, [(":status", "200"), ("content-type", "text/plain")])
        sock.sendall(conn.data_to_send())
    for i in range(parts):
        time.sleep(pause)
        with lock:
            conn.send_data(stream, b"x" * 100, end_stream=(i == parts - 1))
            sock.sendall(conn.data_to_send())


def serve(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    lock = threading.Lock()
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    while True:
        data = sock.recv(65536)
        if not data:
            break
        with lock:
            events = conn.receive_data(data)
            sock.sendall(conn.data_to_send())
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                path = dict((k.decode(), v.decode()) for k, v in ev.headers)[":path"]
                threading.Thread(target=answer, args=(conn, sock, lock, ev.stream_id, path),
                                 daemon=True).start()
    sock.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(16)
    while True:
        s, _ = srv.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    main()
