#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Traffic that is not HTTP, for tests/e2e/test_not_http.py: a redis-style
ping-pong (a 32-byte command, a 7-byte answer), optionally after a banner
the server sends first (as SMTP, MySQL or SSH servers do).

  tcp_peer.py serve PORT [BANNER]      answer every command, until killed
  tcp_peer.py client PORT TRIPS [BANNER_LEN] [--hold]
      TRIPS round trips; with --hold, one round trip, "ready" on stdout, a
      line on stdin, then the TRIPS
"""
import socket
import sys
import threading

COMMAND = b"*1\r\n$4\r\nPING\r\n" + b"x" * 18
ANSWER = b"+PONG\r\n"


def recv_exactly(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise ConnectionError("peer closed")
        got += b
    return got


def answer(c, banner):
    with c:
        if banner:
            c.sendall(banner)
        try:
            while True:
                recv_exactly(c, len(COMMAND))
                c.sendall(ANSWER)
        except ConnectionError:
            pass


def serve(port, banner):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=answer, args=(c, banner), daemon=True).start()


def trips(s, n):
    for _ in range(n):
        s.sendall(COMMAND)
        if recv_exactly(s, len(ANSWER)) != ANSWER:
            raise RuntimeError("wrong answer")


def client(port, n, banner_len, hold):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with s:
        if banner_len:
            recv_exactly(s, banner_len)
        if hold:
            trips(s, 1)
            print("ready", flush=True)
            sys.stdin.readline()
        trips(s, n)
    print("done", flush=True)


def main():
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3].encode() if len(sys.argv) > 3 else b"")
    else:
        args = [a for a in sys.argv[2:] if a != "--hold"]
        client(int(args[0]), int(args[1]), int(args[2]) if len(args) > 2 else 0,
               "--hold" in sys.argv)


if __name__ == "__main__":
    main()
