# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""gRPC end to end: a python3-grpcio server and client (tests/e2e/grpc_peer.py)
on loopback, each agent scoped to a cgroup of the test's own. Unary calls of
known delay, calls failing with NOT_FOUND and DEADLINE_EXCEEDED, a
server-streaming call that takes seconds, a client-streaming call, the
health check excluded: counts, statuses, methods and durations against the
client's own timings, both sides; an SLO on gRPC calls that a failed call
never meets; and a channel opened before the agent, whose references to
entries from before are counted, never given a guessed status."""
import json
import os
import subprocess
import unittest

from lpharness import (HERE, PYTHON, Agent, PortServer, TestCgroup, count, free_port, series,
                       stop_process)

PEER = os.path.join(HERE, "grpc_peer.py")
SVC = "lp.test.Echo"
# schema 3: within 4.4 % of the truth; the client's own time adds its stack
BOUND = 0.045
OFFSET = 0.01


class GrpcServer(PortServer):
    def __init__(self, prefix=()):
        port = free_port()
        super().__init__([*prefix, PYTHON, PEER, "server", str(port)], port)


def client(port, *calls, prefix=()):
    """grpc_peer.py client: each call's path, status and the client's own seconds."""
    r = subprocess.run([*prefix, PYTHON, PEER, "client", str(port), *calls],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise RuntimeError(f"grpc client failed: {r.stderr}")
    return [json.loads(l) for l in r.stdout.splitlines()]


def routes():
    return ["--route", f"/{SVC}/Unary", "--route", f"/{SVC}/ServerStream",
            "--route", f"/{SVC}/ClientStream", "--exclude-path", "/grpc.health.v1.Health/"]


class Grpc(unittest.TestCase):
    def test_calls_statuses_and_methods_are_exact_on_both_sides(self):
        with TestCgroup("grpc") as cg, GrpcServer(prefix=cg.prefix) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, *routes(), "--slo",
                      "name=grpc_100ms,rpc=grpc,side=server,threshold=100ms,"
                      "objective=99%") as ag:
            got = client(srv.port, *["unary:20:0"] * 10, *["unary:0:5"] * 5,
                         *["unary:0:4"] * 2, "sstream:500:0:4", "cstream:0:0:5",
                         *["health:0:0"] * 3, prefix=cg.prefix)
            doc = ag.stop()
        codes = [g["code"] for g in got]
        self.assertEqual(codes, [0] * 10 + [5] * 5 + [4] * 2 + [0, 0] + [0] * 3)
        for side in ("server", "client"):
            m = dict(side=side, port=srv.port, rpc_system="grpc", protocol_version="2",
                     method="POST")
            self.assertEqual(count(doc, **m, rpc_method="Unary", grpc_status=0), 10, side)
            self.assertEqual(count(doc, **m, rpc_method="Unary", grpc_status=5), 5, side)
            self.assertEqual(count(doc, **m, rpc_method="Unary", grpc_status=4), 2, side)
            self.assertEqual(count(doc, **m, rpc_method="ServerStream", grpc_status=0), 1)
            self.assertEqual(count(doc, **m, rpc_method="ClientStream", grpc_status=0), 1)
            self.assertEqual(count(doc, side=side, port=srv.port), 19, side)
            for s in series(doc, **m):
                self.assertEqual(s["rpc_service"], SVC)
                self.assertEqual(s["route"], f"/{SVC}/{s['rpc_method']}")
                self.assertEqual(s["status"], 200)
            # durations: the agent's sum against the client's own, per method and status
            for meth, code, calls in (("Unary", 0, got[:10]), ("ServerStream", 0, got[17:18])):
                truth = sum(g["seconds"] for g in calls)
                s = series(doc, **m, rpc_method=meth, grpc_status=code)
                measured = sum(x["sum_seconds"] for x in s)
                self.assertLessEqual(measured, truth + 0.001, (side, meth))
                self.assertGreaterEqual(measured, truth * (1 - BOUND) - OFFSET * len(calls),
                                        (side, meth))
        # the streaming call: the whole call, to its trailers (4 messages 0.5 s apart)
        stream = series(doc, side="server", port=srv.port, rpc_method="ServerStream")[0]
        self.assertGreater(stream["sum_seconds"], 1.9)
        # the health check: excluded, counted, in no series
        ex = [e for e in doc["excluded"] if e["path"] == "/grpc.health.v1.Health/"][0]
        self.assertEqual((ex["server"], ex["client"]), (3, 3))
        for name in ("h2_connections_lost", "h2_streams_unresolved", "grpc_status_invalid",
                     "lost_samples"):
            self.assertEqual(doc["counters"].get(name, 0), 0, name)
        # the SLO: 10 + 2 fast successes good; 5 NOT_FOUND good (the client's error, answered
        # fast); the 2 DEADLINE_EXCEEDED never good however fast; the stream too slow
        slo = [s for s in doc["slos"] if s["name"] == "grpc_100ms"][0]
        w = slo["windows"][0]
        self.assertEqual(w["total"], 19)
        self.assertEqual(w["good"], 10 + 5 + 1)

    def test_a_channel_open_before_the_agent_is_never_guessed(self):
        with TestCgroup("grpcold") as cg, GrpcServer(prefix=cg.prefix) as srv:
            held = subprocess.Popen([*cg.prefix, PYTHON, PEER, "hold", str(srv.port), "4",
                                     *["unary:10:0"] * 3, *["unary:0:5"] * 3],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(held.stdout.readline().strip(), "ready")
                with Agent("-i", "1s", "--cgroup", "/" + cg.name, *routes()) as ag:
                    out, err = held.communicate(timeout=60)
                    self.assertEqual(held.returncode, 0, err)
                    # a new channel after: exact
                    got = client(srv.port, *["unary:10:0"] * 2, "unary:0:5", prefix=cg.prefix)
                    doc = ag.stop()
            finally:
                stop_process(held)
        old = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([g["code"] for g in old], [0] * 3 + [5] * 3)
        self.assertEqual([g["code"] for g in got], [0, 0, 5])
        c = doc["counters"]
        for side in ("server", "client"):
            ok = count(doc, side=side, port=srv.port, grpc_status=0)
            nf = count(doc, side=side, port=srv.port, grpc_status=5)
            other = count(doc, side=side, port=srv.port) - ok - nf
            # the new channel's calls at least; the old one's only where its status was read
            self.assertGreaterEqual(ok, 2, side)
            self.assertGreaterEqual(nf, 1, side)
            self.assertLessEqual(ok, 5, side)
            self.assertLessEqual(nf, 4, side)
            self.assertEqual(other, 0, side)  # never a call without its status
        # what the agent could not resolve on the old channel is counted
        unresolved = c.get("h2_streams_unresolved", 0) + c.get("untimed_requests", 0)
        sampled_old = sum(count(doc, side=s, port=srv.port) for s in ("server", "client")) - 6
        self.assertEqual(sampled_old + unresolved, 12, c)
        self.assertEqual(c.get("grpc_status_invalid", 0), 0)


if __name__ == "__main__":
    unittest.main()
