# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kubernetes identity end to end, with no API server: a node laid out as the
kubelet lays it out, under a directory of the test's own (--k8s-root). Two
pods, one under each cgroup driver's names: a Deployment's pod in the
systemd driver's slices (containerd), a StatefulSet's in cgroupfs's
directories (CRI-O ids), each with a real server inside; the kubelet's
/var/log/pods and /var/log/containers entries for them, one pod's namespace
named with a byte that is not UTF-8. The agent, scoped to the test's own
cgroup, labels each series with its namespace, pod, container and workload in
JSON and in /metrics (which promtool parses), and a pod deleted and
recreated under a new UID is a new series."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from lpharness import PYTHON, HERE, BINARY, ROOT, Agent, Prometheus, cgroup2_mount, curl, \
    free_port, read_until, remove_cgroup, require_root, stop_process, wait_port

UID1 = "0b2f7c7e-1d3a-4f8b-9c2e-5a6b7c8d9e0f"
CID1 = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
UID2 = "7a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8"
CID2 = "a1b2c3d4e5f60718293a4b5c6d7e8f903f2a9c1b7d4e5f60718293a4b5c6d7e8"
UID3 = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"


class Node:
    """Cgroups named as the kubelet names them below a cgroup of the test's
    own, and the kubelet's log directories below a root of the test's own."""

    def __init__(self):
        require_root()
        self.base = f"latprobe-e2e-k8s-{os.getpid()}"
        self.mount = cgroup2_mount()
        self.root = tempfile.mkdtemp(prefix="lp-k8s-root-")
        os.chmod(self.root, 0o755)  # the agent reads it as nobody
        self.cgroups = []
        self.procs = []

    def cgroup(self, rel):
        path = os.path.join(self.mount, self.base)
        for part in [""] + rel.strip("/").split("/"):
            path = os.path.join(path, part) if part else path
            if not os.path.isdir(path):
                os.mkdir(path)
                self.cgroups.append(path)
        return path

    def pod(self, ns, pod, uid, container, cid):
        d = os.path.join(self.root, "var/log/pods", f"{ns}_{pod}_{uid}", container)
        os.makedirs(d, mode=0o755, exist_ok=True)
        links = os.path.join(self.root, "var/log/containers")
        os.makedirs(links, mode=0o755, exist_ok=True)
        for p in (self.root, os.path.join(self.root, "var"), os.path.join(self.root, "var/log"),
                  os.path.join(self.root, "var/log/pods"), links, os.path.dirname(d), d):
            os.chmod(p, 0o755)
        os.symlink(os.path.join("/var/log/pods", f"{ns}_{pod}_{uid}", container, "0.log"),
                   os.path.join(links, f"{pod}_{ns}_{container}-{cid}.log"))

    def server(self, cg):
        port = free_port()
        p = subprocess.Popen(["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec "$@"', "sh",
                              PYTHON, os.path.join(HERE, "slow_server.py"), str(port),
                              "/dev/null", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_port(port)
        return port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            stop_process(p)
        for path in reversed(self.cgroups):
            remove_cgroup(path, must=False)
        shutil.rmtree(self.root, ignore_errors=True)


def two_pods(node, db_namespace="data"):
    """A Deployment's pod (systemd driver, containerd) and a StatefulSet's
    (cgroupfs, CRI-O ids), each with a server: their ports."""
    uidu = UID1.replace("-", "_")
    web = node.cgroup("kubepods.slice/kubepods-burstable.slice/"
                      f"kubepods-burstable-pod{uidu}.slice/cri-containerd-{CID1}.scope")
    db = node.cgroup(f"kubepods/besteffort/pod{UID2}/{CID2}")
    node.pod("shop", "web-7d9f8b6c5d-x2k4p", UID1, "nginx", CID1)
    node.pod(db_namespace, "db-0", UID2, "postgres", CID2)
    return node.server(web), node.server(db)


def series_of(doc, port):
    return [s for s in doc["series"] if s["port"] == port and s["side"] == "server"]


class KubernetesNames(unittest.TestCase):
    def test_pods_of_both_drivers_are_named_from_the_kubelet_files(self):
        with Node() as node:
            pweb, pdb = two_pods(node, "data\udcff")  # a byte 0xff in the namespace
            lport = free_port()
            with Agent("--cgroup", "/" + node.base, "--k8s-root", node.root, "--side", "server",
                       "-i", "1s", "--listen", f"127.0.0.1:{lport}") as ag:
                for _ in range(3):
                    curl(f"http://127.0.0.1:{pweb}/?ms=1")
                    curl(f"http://127.0.0.1:{pdb}/?ms=1")
                time.sleep(2.5)
                with urllib.request.urlopen(f"http://127.0.0.1:{lport}/metrics") as r:
                    text = r.read().decode()
                # latprobe check over one namespace, one pod: the default SLO (GETs in 10 ms)
                checks = {}
                for scope in (("--namespace", "shop"), ("--pod", "db-0"),
                              ("--namespace", "nope")):
                    r = subprocess.run([BINARY, "check", "-u", f"http://127.0.0.1:{lport}",
                                        *scope], capture_output=True, text=True, timeout=30)
                    checks[scope[1]] = (r.returncode, r.stdout)
                doc = ag.stop()
        self.assertEqual(checks["shop"][0], 0, checks)
        self.assertIn("SLO get_10ms (namespace shop): 100.00% of 3 requests", checks["shop"][1])
        self.assertEqual(checks["db-0"][0], 0, checks)
        self.assertIn("(pod db-0): 100.00% of 3 requests", checks["db-0"][1])
        self.assertEqual(checks["nope"][0], 3, checks)
        self.assertIn("no series of namespace nope", checks["nope"][1])
        w = series_of(doc, pweb)
        self.assertEqual(sum(s["count"] for s in w), 3, w)
        self.assertEqual({(s["namespace"], s["pod"], s["container"], s["deployment"],
                           s["statefulset"], s["daemonset"]) for s in w},
                         {("shop", "web-7d9f8b6c5d-x2k4p", "nginx", "web", None, None)})
        d = series_of(doc, pdb)
        self.assertEqual(sum(s["count"] for s in d), 3, d)
        self.assertEqual({(s["pod"], s["container"], s["statefulset"], s["deployment"])
                          for s in d}, {("db-0", "postgres", "db", None)})
        # a pod's service is its container's name
        self.assertEqual({s["service"] for s in w}, {"nginx"})
        self.assertEqual({s["service"] for s in d}, {"postgres"})
        # the namespace's byte that is not UTF-8 became U+FFFD, never raw
        self.assertEqual({s["namespace"] for s in d}, {"data\ufffd"})
        self.assertIn('k8s_namespace_name="shop",k8s_pod_name="web-7d9f8b6c5d-x2k4p",'
                      'k8s_container_name="nginx",k8s_deployment_name="web"', text)
        self.assertIn('k8s_pod_name="db-0",k8s_container_name="postgres",'
                      'k8s_statefulset_name="db"', text)
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertNotIn("error", (r.stdout + r.stderr).lower(), r.stdout + r.stderr)

    def test_the_dashboards_namespace_and_workload_variables_pick_their_pods(self):
        """The shipped Grafana dashboard's Kubernetes variables, against a real
        Prometheus scraping an agent on a node with a Deployment's pod and a
        StatefulSet's: each variable lists its names, and a panel's query with
        one chosen holds that pod's service alone (All: both)."""
        with open(os.path.join(ROOT, "deploy", "grafana", "latprobe-dashboard.json")) as f:
            dash = json.load(f)
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        p99 = [t["expr"] for p in dash["panels"] for t in p["targets"]
               if p["title"] == "p50 and p99 by service"][1]
        with Node() as node:
            pweb, pdb = two_pods(node)
            lport = free_port()
            with Agent("--cgroup", "/" + node.base, "--k8s-root", node.root, "--side", "server",
                       "-i", "1s", "--listen", f"127.0.0.1:{lport}"), \
                    Prometheus([("latprobe", f"127.0.0.1:{lport}", None, None)]) as prom:
                for _ in range(4):
                    curl(*[f"http://127.0.0.1:{pweb}/?ms=1"] * 3)
                    curl(*[f"http://127.0.0.1:{pdb}/?ms=1"] * 3)
                    prom.wait_scrapes(1)
                listed = {}
                for name in ("namespace", "deployment", "statefulset", "daemonset"):
                    m = re.fullmatch(r"label_values\((\w+), (\w+)\)",
                                     variables[name]["definition"])
                    listed[name] = set(prom.api(f"label/{m.group(2)}/values",
                                                **{"match[]": m.group(1)}))

                def services(**chosen):
                    q = p99.replace("$__rate_interval", "30s")
                    for v in ("service", "route", "protocol", "namespace", "deployment",
                              "statefulset", "daemonset"):
                        q = q.replace("$" + v, chosen.get(v, ".*"))
                    self.assertNotIn("$", q)
                    return {r["metric"].get("service_name") for r in prom.query(q)}

                every = services()
                shop = services(namespace="shop")
                web_only = services(deployment="web")
                db_only = services(statefulset="db")
                none = services(daemonset="nothing")
        self.assertEqual(listed, {"namespace": {"shop", "data"}, "deployment": {"web"},
                                  "statefulset": {"db"}, "daemonset": set()})
        self.assertEqual(every, {"nginx", "postgres"})
        self.assertEqual(shop, {"nginx"})
        self.assertEqual(web_only, {"nginx"})
        self.assertEqual(db_only, {"postgres"})
        self.assertEqual(none, set())

    def test_service_name_from_chooses_its_source(self):
        got = {}
        with Node() as node:
            pweb, pdb = two_pods(node)
            for order in ("workload,container", "process", "unit,process", "pod"):
                with Agent("--cgroup", "/" + node.base, "--k8s-root", node.root, "--side",
                           "server", "--service-name-from", order) as ag:
                    curl(f"http://127.0.0.1:{pweb}/?ms=1")
                    curl(f"http://127.0.0.1:{pdb}/?ms=1")
                    doc = ag.stop()
                got[order] = ({s["service"] for s in series_of(doc, pweb)},
                              {s["service"] for s in series_of(doc, pdb)})
        self.assertEqual(got["workload,container"], ({"web"}, {"db"}))
        self.assertEqual(got["process"], ({"python3"}, {"python3"}))
        # a pod's cgroup is its container's scope: the runtime's id, cut to 12
        self.assertEqual(got["unit,process"], ({"container:" + CID1[:12]},
                                               {"container:" + CID2[:12]}))
        self.assertEqual(got["pod"], ({"web-7d9f8b6c5d-x2k4p"}, {"db-0"}))
        # a bad source is refused, naming the flag
        r = subprocess.run([BINARY, "--service-name-from", "container,image", "--duration", "1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--service-name-from: 'image' is not container, workload, pod, unit or "
                      "process", r.stderr)

    def test_the_table_names_each_pod(self):
        uidu = UID1.replace("-", "_")
        with Node() as node:
            web = node.cgroup("kubepods.slice/kubepods-burstable.slice/"
                              f"kubepods-burstable-pod{uidu}.slice/cri-containerd-{CID1}.scope")
            node.pod("shop", "web-7d9f8b6c5d-x2k4p", UID1, "nginx", CID1)
            plain = node.cgroup("system.slice/web.service")  # no pod's
            pweb, pplain = node.server(web), node.server(plain)
            ag = subprocess.Popen([BINARY, "--cgroup", "/" + node.base, "--k8s-root", node.root,
                                   "--side", "server", "-i", "1s", "--listen", "none",
                                   "--duration", "4s"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
            try:
                found, buf = read_until(ag, "attached")
                self.assertTrue(found, buf)
                curl(f"http://127.0.0.1:{pweb}/?ms=1", f"http://127.0.0.1:{pweb}/?ms=1")
                curl(f"http://127.0.0.1:{pplain}/?ms=1")
                out, err = ag.communicate(timeout=30)
            finally:
                stop_process(ag)
        self.assertEqual(ag.returncode, 0, err)
        last = out[out.rindex("\nSERVICE "):]
        header = last.splitlines()[1]
        col = header.index("NAMESPACE/POD")
        rows = {l.split()[3]: l for l in last.splitlines()[2:] if l.strip()}
        self.assertEqual(rows[str(pweb)][col:].split()[0], "shop/web-7d9f8b6c5d-x2k4p", last)
        self.assertEqual(rows[str(pplain)][col:].split()[0], "-", last)
        self.assertTrue(rows[str(pweb)].startswith("nginx "), last)

    def test_a_pod_recreated_under_a_new_uid_is_a_new_series(self):
        with Node() as node:
            first = node.cgroup(f"kubepods/pod{UID1}/{CID1}")
            node.pod("shop", "api-0", UID1, "api", CID1)
            lport = free_port()
            with Agent("--cgroup", "/" + node.base, "--k8s-root", node.root, "--side", "server",
                       "-i", "1s", "--listen", f"127.0.0.1:{lport}") as ag:
                p1 = node.server(first)
                curl(f"http://127.0.0.1:{p1}/?ms=1")
                time.sleep(1.5)
                # the same name, a new UID: the kubelet's new files, a new cgroup
                node.pod("shop", "api-0", UID3, "api", CID2)
                second = node.cgroup(f"kubepods/pod{UID3}/{CID2}")
                p2 = node.server(second)
                curl(f"http://127.0.0.1:{p2}/?ms=1")
                curl(f"http://127.0.0.1:{p2}/?ms=1")
                time.sleep(2.5)
                doc = ag.stop()
        a, b = series_of(doc, p1), series_of(doc, p2)
        self.assertEqual(sum(s["count"] for s in a), 1)
        self.assertEqual(sum(s["count"] for s in b), 2)
        self.assertEqual({s["pod"] for s in a + b}, {"api-0"})
        self.assertNotEqual({s["cgroup"] for s in a}, {s["cgroup"] for s in b})


if __name__ == "__main__":
    unittest.main()
