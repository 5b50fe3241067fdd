#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A redis-style ping-pong on loopback: traffic that is not HTTP.

One connection, a 32-byte command and a 7-byte answer, TRIPS round trips,
client and server in this one process (the server a thread), each pinned
to a CPU of its own with --cpus S,C ("split") or both on one. bench/kcost.py
runs it inside a cgroup of its own (mode "pingpong") to measure what the
agent costs per program run on a connection that is not HTTP.

usage: bench/pingpong.py [--trips 10000] [--cpus 1,0]
prints one JSON line: {"trips": N, "seconds": S}
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
from tcp_peer import recv_exactly  # noqa: E402

COMMAND = b"*2\r\n$4\r\nECHO\r\n$12\r\nping-pong-32\r\n"[:32]
ANSWER = b"+PONG\r\n"


def serve(ls, trips, cpu):
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    c, _ = ls.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with c:
        for _ in range(trips):
            recv_exactly(c, len(COMMAND))
            c.sendall(ANSWER)


def run(trips, cpus=(None, None)):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    t = threading.Thread(target=serve, args=(ls, trips, cpus[0]), daemon=True)
    t.start()
    if cpus[1] is not None:
        os.sched_setaffinity(0, {cpus[1]})
    s = socket.create_connection(ls.getsockname())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.monotonic()
    with s:
        for _ in range(trips):
            s.sendall(COMMAND)
            if recv_exactly(s, len(ANSWER)) != ANSWER:
                raise RuntimeError("wrong answer")
    secs = time.monotonic() - t0
    t.join(10)
    ls.close()
    return {"trips": trips, "seconds": secs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trips", type=int, default=10000)
    ap.add_argument("--cpus", default="")
    a = ap.parse_args()
    cpus = tuple(int(x) for x in a.cpus.split(",")) if a.cpus else (None, None)
    print(json.dumps(run(a.trips, cpus)), flush=True)


if __name__ == "__main__":
    main()
