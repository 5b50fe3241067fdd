# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A test HTTP/1.1 server that sends its response's head at once and its body
in parts with pauses, so a response takes time to finish.

usage: trickle_server.py PORT [CERT KEY]   (with CERT and KEY: HTTPS)
GET /len?parts=4&gap=40     Content-Length body, 4 parts 40 ms apart
GET /chunked?parts=4&gap=40 chunked body, a chunk per part, then the zero chunk
GET /close?parts=4&gap=40   HTTP/1.0 body without a length, ended by closing
GET /early?ms=0             103 Early Hints and 200 written in one send()
POST /slow?ms=1500          reads its body, answers 404 after ms
Keep-alive except /close. TCP_NODELAY: each part leaves when it is written.
Over TLS, /close ends with close_notify (SSL_shutdown), then the FIN.
"""
import socket
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

from raw_server import read_until  # the same head reader as the scripted server

PORT = int(sys.argv[1])
TLS = None
if len(sys.argv) > 3:
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(sys.argv[2], sys.argv[3])


def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if TLS:
            conn = TLS.wrap_socket(conn, server_side=True)
        answer(conn)
    except (ssl.SSLError, OSError):
        conn.close()


def answer(conn):
    buf = b""
    with conn:
        while True:
            head, buf = read_until(conn, buf, b"\r\n\r\n")
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                    for l in lines[1:] if ":" in l}
            length = int(hdrs.get("content-length", "0"))
            while len(buf) < length:
                buf += conn.recv(65536)
            buf = buf[length:]
            url = urlparse(target)
            q = parse_qs(url.query)
            parts = int(q.get("parts", ["4"])[0])
            gap = float(q.get("gap", ["40"])[0]) / 1000
            piece = b"x" * 1000
            if url.path == "/len":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (parts * 1000))
                for i in range(parts):
                    time.sleep(gap)
                    conn.sendall(piece)
            elif url.path == "/chunked":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for i in range(parts):
                    time.sleep(gap)
                    conn.sendall(b"3e8\r\n" + piece + b"\r\n")
                time.sleep(gap)
                conn.sendall(b"0\r\n\r\n")
            elif url.path == "/close":
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                for i in range(parts):
                    time.sleep(gap)
                    conn.sendall(piece)
                if TLS:
                    conn = conn.unwrap()  # close_notify first
                conn.shutdown(socket.SHUT_WR)
                return
            elif url.path == "/early":
                conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            elif url.path == "/slow":
                time.sleep(float(q.get("ms", ["1500"])[0]) / 1000)
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", PORT))
    ls.listen(64)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
