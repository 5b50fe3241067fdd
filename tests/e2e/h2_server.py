#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An HTTP/2 server (h2c, prior knowledge) from Debian's python3-h2 that
streams each response body in parts with pauses, for whole-response timing
tests: GET /slow?parts=N&pause=S sends N DATA frames S seconds apart, the
last with END_STREAM; GET /status/CODE answers CODE with a short body; each
connection on its own thread. A connection may begin with the client
preface (prior knowledge) or with an HTTP/1.1 request offering h2c
(RFC 7540 3.2, as curl --http2 sends on http://): answered 101, the request
is then stream 1, answered in HTTP/2.

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


def upgrade(sock, conn, lock):
    """An HTTP/1.1 start: read its head; if it offers h2c, switch. The bytes
    after the head (none from curl before the 101) are returned."""
    head = b""
    while b"\r\n\r\n" not in head:
        more = sock.recv(65536)
        if not more:
            return None, b""
        head += more
    head, rest = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, v in
              (l.split(":", 1) for l in lines[1:] if ":" in l)}
    if "h2c" not in [t.strip().lower() for t in fields.get("upgrade", "").split(",")]:
        sock.sendall(b"HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-length: 0\r\n"
                     b"connection: close\r\n\r\n")
        return None, b""
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                 b"Upgrade: h2c\r\n\r\n")
    with lock:
        conn.initiate_upgrade_connection(fields.get("http2-settings", "").encode())
        sock.sendall(conn.data_to_send())
    path = lines[0].split(" ")[1]
    threading.Thread(target=answer, args=(conn, sock, lock, 1, path), daemon=True).start()
    return True, rest


def serve(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    lock = threading.Lock()
    first = sock.recv(3, socket.MSG_PEEK)
    if first and first != b"PRI":
        ok, data = upgrade(sock, conn, lock)
        if not ok:
            sock.close()
            return
    else:
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
