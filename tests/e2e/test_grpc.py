# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""gRPC end to end: python3-grpcio (tests/e2e/grpc_peer.py) and grpc-go
(tests/e2e/grpc_go/peer.go, built offline from Debian's golang-google-grpc-dev)
servers and clients, each pair and across, on loopback, each agent scoped to a
cgroup of the test's own. Unary calls of
known delay, calls failing with NOT_FOUND and DEADLINE_EXCEEDED, a
server-streaming call that takes seconds, a client-streaming call, the
health check excluded: counts, statuses, methods and durations against the
client's own timings, both sides; an SLO on gRPC calls that a failed call
never meets; and a channel opened before the agent, whose references to
entries from before are counted, never given a guessed status."""
import functools
import json
import os
import shutil
import subprocess
import unittest

from lpharness import (HERE, PYTHON, ROOT, Agent, PortServer, TestCgroup, count, free_port,
                       series, stop_process)

PEER = os.path.join(HERE, "grpc_peer.py")
GO_SRC = os.path.join(HERE, "grpc_go", "peer.go")
SVC = "lp.test.Echo"
# schema 3: within 4.4 % of the truth; the client's own time adds its stack
BOUND = 0.045
OFFSET = 0.01


@functools.lru_cache(maxsize=None)
def go_peer():
    """tests/e2e/grpc_go/peer.go, built once with Debian's Go and grpc-go sources, offline
    (GOPATH mode: no module download); the build cache under .output/ for the next run."""
    go = shutil.which("go")
    if not go or not os.path.isdir("/usr/share/gocode/src/google.golang.org/grpc"):
        raise RuntimeError("the grpc-go peer needs golang-go and golang-google-grpc-dev "
                           "(make deps installs them)")
    out = os.path.join(ROOT, ".output", "tests", "grpc_go_peer")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOFLAGS": "",
           "GOCACHE": os.path.join(ROOT, ".output", "gocache"), "CGO_ENABLED": "0"}
    r = subprocess.run([go, "build", "-o", out, GO_SRC], env=env, capture_output=True,
                       text=True, timeout=900)
    if r.returncode:
        raise RuntimeError(f"building the grpc-go peer failed: {r.stderr}")
    return out


def peer_cmd(peer):
    """The command of a peer: "python" (grpc_peer.py) or "go" (grpc_go/peer.go)."""
    return [PYTHON, PEER] if peer == "python" else [go_peer()]


class GrpcServer(PortServer):
    def __init__(self, prefix=(), peer="python"):
        port = free_port()
        super().__init__([*prefix, *peer_cmd(peer), "server", str(port)], port)


def client(port, *calls, prefix=(), peer="python"):
    """A peer's client: each call's path, status and the client's own seconds."""
    r = subprocess.run([*prefix, *peer_cmd(peer), "client", str(port), *calls],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise RuntimeError(f"grpc client failed: {r.stderr}")
    return [json.loads(l) for l in r.stdout.splitlines()]


def routes():
    return ["--route", f"/{SVC}/Unary", "--route", f"/{SVC}/ServerStream",
            "--route", f"/{SVC}/ClientStream", "--exclude-path", "/grpc.health.v1.Health/"]


class Grpc(unittest.TestCase):
    def test_calls_statuses_and_methods_are_exact_on_both_sides(self):
        self.exact("python", "python")

    def test_grpc_go_server_and_client_exact_on_both_sides(self):
        self.exact("go", "go")

    def test_grpc_go_and_python_across_exact_on_both_sides(self):
        with self.subTest(server="go", client="python"):
            self.exact("go", "python")
        with self.subTest(server="python", client="go"):
            self.exact("python", "go")

    def exact(self, server, client_peer):
        with TestCgroup("grpc") as cg, GrpcServer(prefix=cg.prefix, peer=server) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, *routes(), "--slo",
                      "name=grpc_100ms,rpc=grpc,side=server,threshold=100ms,"
                      "objective=99%") as ag:
            got = client(srv.port, *["unary:20:0"] * 10, *["unary:0:5"] * 5,
                         *["unary:0:4"] * 2, "sstream:500:0:4", "cstream:0:0:5",
                         *["health:0:0"] * 3, prefix=cg.prefix, peer=client_peer)
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
        self.channel_before("python")

    def test_a_grpc_go_channel_open_before_the_agent_is_never_guessed(self):
        self.channel_before("go")

    def channel_before(self, peer):
        with TestCgroup("grpcold") as cg, GrpcServer(prefix=cg.prefix, peer=peer) as srv:
            held = subprocess.Popen([*cg.prefix, *peer_cmd(peer), "hold", str(srv.port), "4",
                                     *["unary:10:0"] * 3, *["unary:0:5"] * 3],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(held.stdout.readline().strip(), "ready")
                with Agent("-i", "1s", "--cgroup", "/" + cg.name, *routes()) as ag:
                    out, err = held.communicate(timeout=60)
                    self.assertEqual(held.returncode, 0, err)
                    # a new channel after: exact
                    got = client(srv.port, *["unary:10:0"] * 2, "unary:0:5", prefix=cg.prefix,
                                 peer=peer)
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


class LearnedMethods(unittest.TestCase):
    """Methods without --route: learned in the kernel from the paths the calls carry
    (--grpc-methods, default 256), a slot each, kept through the HPACK table."""

    CALLS = [*["unary:10:0"] * 5, *["unary:0:5"] * 3, "sstream:50:0:3", "cstream:0:0:2",
             *["health:0:0"] * 2]

    def test_methods_are_learned_without_routes(self):
        for server, client_peer in (("python", "python"), ("go", "go"), ("python", "go")):
            with self.subTest(server=server, client=client_peer):
                self.learned(server, client_peer)

    def learned(self, server, client_peer):
        with TestCgroup("grpclearn") as cg, GrpcServer(prefix=cg.prefix, peer=server) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, "--slo",
                      f"name=unary,route=/{SVC}/Unary,side=server,threshold=1s,"
                      "objective=99%") as ag:
            got = client(srv.port, *self.CALLS, prefix=cg.prefix, peer=client_peer)
            doc = ag.stop()
        self.assertEqual([g["code"] for g in got], [0] * 5 + [5] * 3 + [0] * 4)
        health = "grpc.health.v1.Health"
        for side in ("server", "client"):
            m = dict(side=side, port=srv.port, rpc_system="grpc")
            want = {(SVC, "Unary", 0): 5, (SVC, "Unary", 5): 3, (SVC, "ServerStream", 0): 1,
                    (SVC, "ClientStream", 0): 1, (health, "Check", 0): 2}
            for (svc, meth, code), n in want.items():
                self.assertEqual(count(doc, **m, rpc_service=svc, rpc_method=meth,
                                       grpc_status=code), n, (side, meth, code))
            self.assertEqual(count(doc, side=side, port=srv.port), 12, side)
            for s in series(doc, side=side, port=srv.port):
                self.assertEqual(s["route"], f"/{s['rpc_service']}/{s['rpc_method']}")
        self.assertEqual(doc["counters"].get("grpc_methods_past_cap", 0), 0)
        # an SLO on a learned method: its 8 calls, all within 1 s (NOT_FOUND is the caller's)
        w = [s for s in doc["slos"] if s["name"] == "unary"][0]["windows"][0]
        self.assertEqual((w["total"], w["good"]), (8, 8))

    def test_a_flood_of_methods_stays_within_the_cap(self):
        paths = [f"/lp.evil.S{i}/M{i}:0:0" for i in range(30)]
        with TestCgroup("grpcflood") as cg, GrpcServer(prefix=cg.prefix) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, "--grpc-methods", "8") as ag:
            got = client(srv.port, *paths, prefix=cg.prefix)
            doc = ag.stop()
        self.assertEqual([g["code"] for g in got], [12] * 30)  # UNIMPLEMENTED
        for side in ("server", "client"):
            s = series(doc, side=side, port=srv.port)
            named = {x["rpc_method"] for x in s if x.get("rpc_method")}
            self.assertEqual(len(named), 8, side)
            self.assertEqual(sum(x["count"] for x in s), 30, side)
            self.assertEqual(sum(x["count"] for x in s if not x.get("rpc_method")), 22, side)
            for x in s:
                self.assertEqual(x["grpc_status"], 12)
        # every call past the cap was counted (each path is new: a literal, learned once)
        self.assertGreaterEqual(doc["counters"].get("grpc_methods_past_cap", 0), 22)

    def test_no_methods_learned_when_off(self):
        with TestCgroup("grpcoff") as cg, GrpcServer(prefix=cg.prefix) as srv, \
                Agent("-i", "1s", "--cgroup", "/" + cg.name, "--grpc-methods", "0") as ag:
            client(srv.port, *["unary:0:0"] * 3, prefix=cg.prefix)
            doc = ag.stop()
        s = series(doc, side="server", port=srv.port)
        self.assertEqual(sum(x["count"] for x in s), 3)
        for x in s:
            self.assertIsNone(x.get("rpc_method"))
            self.assertIsNone(x.get("route"))


if __name__ == "__main__":
    unittest.main()
