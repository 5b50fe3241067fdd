# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A scripted HTTP/1.1 server for hostile-traffic tests, written on raw sockets
so every byte and every segment is under the test's control.

usage: raw_server.py PORT [echo]
  echo: a raw echo server (for non-HTTP protocols).
Paths (keep-alive, pipelining and Content-Length bodies handled):
  /103        103 Early Hints, 30 ms later 200
  /ws         101 Switching Protocols, then echoes frames prefixed with
              "GET / HTTP/1.1" and sends status-line lookalikes
  /slowbody   200 with a 10 MB body sent slowly (for client resets)
  /204 /304   those statuses, no body
  /batch4     waits for three more requests, then 200 ms later answers all
              four with chunked responses of three chunks each in one segment
  /splitpair  waits for one more request, then answers this one with a head
              split across two segments, the second also holding the other's
              204: a response framing cannot follow, and one after it
  anything else: 200 "ok"; Expect: 100-continue gets a 100 before the body.
"""
import socket
import sys
import threading
import time



CHUNKED3 = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\nabcd\r\n4\r\nefgh\r\n4\r\nijkl\r\n0\r\n\r\n")


def echo(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def read_until(conn, buf, marker):
    while marker not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    i = buf.index(marker) + len(marker)
    return buf[:i], buf[i:]


def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    with conn:
        while True:
            head, buf = read_until(conn, buf, b"\r\n\r\n")
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
            hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                    for l in lines[1:] if ":" in l}
            if hdrs.get("expect", "").lower() == "100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            length = int(hdrs.get("content-length", "0"))
            while len(buf) < length:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            buf = buf[length:]
            if path in ("/batch4", "/splitpair"):
                for _ in range(3 if path == "/batch4" else 1):
                    more, buf = read_until(conn, buf, b"\r\n\r\n")
                    if more is None:
                        return
            if path == "/batch4":
                time.sleep(0.2)
                conn.sendall(CHUNKED3 * 4)
            elif path == "/splitpair":
                time.sleep(0.2)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
                time.sleep(0.01)
                conn.sendall(b"ngth: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n")
            elif path == "/103":
                conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
                time.sleep(0.03)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            elif path == "/ws":
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\n\r\n")
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + data)
                    time.sleep(0.01)
                    conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
            elif path == "/slowbody":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
                try:
                    for _ in range(200):
                        conn.sendall(b"x" * 50000)
                        time.sleep(0.01)
                except OSError:
                    return
                return
            elif path in ("/204", "/304"):
                conn.sendall(f"HTTP/1.1 {path[1:]} X\r\n\r\n".encode())
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def main():
    port = int(sys.argv[1])
    handler = echo if len(sys.argv) > 2 and sys.argv[2] == "echo" else serve
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(512)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


if __name__ == "__main__":  # trickle_server.py imports read_until from here
    main()
