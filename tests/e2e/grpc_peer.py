# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A gRPC server and client (python3-grpcio) for the end-to-end tests, no
generated code: messages are raw bytes. A request says what its call does:
b"<delay ms> <status code> [<messages>]".

  grpc_peer.py server PORT
      service lp.test.Echo: Unary (answers after the delay with the code),
      ServerStream (<messages> replies, the delay between each, then the
      code), ClientStream (reads every request, answers the first's code);
      and grpc.health.v1.Health/Check (SERVING).
  grpc_peer.py client PORT CALL...
      CALL is METHOD:DELAY:CODE[:N][@TIMEOUT] (METHOD unary, sstream,
      cstream, health, or a path /pkg.Service/Method called unary: one the
      server does not have answers UNIMPLEMENTED), all on one channel;
      prints one JSON line per call:
      its method path, the status code the client got and the client's own
      time from the call's start to its end.
  grpc_peer.py hold PORT SECONDS CALL...
      as client, but opens the channel (and makes one call) first, then
      prints "ready", waits SECONDS, and makes the calls on that channel.
"""
import json
import sys
import time
from concurrent import futures

import grpc

SERVICE = "lp.test.Echo"
PATHS = {
    "unary": f"/{SERVICE}/Unary",
    "sstream": f"/{SERVICE}/ServerStream",
    "cstream": f"/{SERVICE}/ClientStream",
    "health": "/grpc.health.v1.Health/Check",
}


def parse(req):
    parts = req.decode().split()
    delay = int(parts[0]) / 1000.0
    code = int(parts[1])
    n = int(parts[2]) if len(parts) > 2 else 1
    return delay, grpc.StatusCode.__members__[code_name(code)], n


def code_name(code):
    for c in grpc.StatusCode:
        if c.value[0] == code:
            return c.name
    raise ValueError(code)


def finish(context, code):
    if code != grpc.StatusCode.OK:
        context.abort(code, "asked for")


def unary(req, context):
    delay, code, _ = parse(req)
    time.sleep(delay)
    finish(context, code)
    return b"ok"


def server_stream(req, context):
    delay, code, n = parse(req)
    for i in range(n):
        time.sleep(delay)
        yield b"part %d" % i
    finish(context, code)


def client_stream(reqs, context):
    first = None
    for r in reqs:
        first = first or r
    delay, code, _ = parse(first)
    time.sleep(delay)
    finish(context, code)
    return b"ok"


def health(req, context):
    return b"\x08\x01"  # HealthCheckResponse{status: SERVING}


def serve(port):
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(SERVICE, handlers),
        grpc.method_handlers_generic_handler(
            "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(health)}),
    ))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


def call(channel, spec):
    timeout = None
    if "@" in spec:
        spec, t = spec.split("@")
        timeout = float(t)
    parts = spec.split(":")
    kind, delay, code = parts[0], parts[1], parts[2]
    n = parts[3] if len(parts) > 3 else "1"
    req = f"{delay} {code} {n}".encode()
    path = kind if kind.startswith("/") else PATHS[kind]
    t0 = time.monotonic()
    got = 0
    try:
        if kind in ("unary", "health") or kind.startswith("/"):
            channel.unary_unary(path)(req, timeout=timeout)
        elif kind == "sstream":
            for _ in channel.unary_stream(path)(req, timeout=timeout):
                pass
        else:
            channel.stream_unary(path)(iter([req] * int(n)), timeout=timeout)
    except grpc.RpcError as e:
        got = e.code().value[0]
    return {"path": path, "code": got, "seconds": time.monotonic() - t0}


def client(port, specs, hold=None):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        if hold is not None:
            call(ch, "unary:0:0")
            print("ready", flush=True)
            time.sleep(hold)
        for s in specs:
            print(json.dumps(call(ch, s)), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    elif sys.argv[1] == "client":
        client(int(sys.argv[2]), sys.argv[3:])
    else:
        client(int(sys.argv[2]), sys.argv[4:], hold=float(sys.argv[3]))
