# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Docker and Podman names outside Kubernetes, with a real container engine:
Debian's podman (runc as its runtime: crun refuses a hybrid cgroup layout),
an image the test builds here from busybox-static's binary (offline: no
registry), busybox's httpd in the container on the host's network. The
agent, become nobody with no capability, names the server's series by the
container's name, read from Podman's state (root's alone) by its helper,
which keeps CAP_DAC_READ_SEARCH and nothing else."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from lpharness import (Agent, children, count, curl, free_port, require_root, series,
                       wait_port)

CAP_DAC_READ_SEARCH = 2


def podman(*args, check=True):
    r = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode:
        raise RuntimeError(f"podman {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def status_field(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1]
    raise KeyError(field)


class EngineNames(unittest.TestCase):
    def test_a_podman_container_is_named_by_its_container_name(self):
        require_root()
        for tool in ("podman", "runc", "busybox"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is missing (make deps installs podman, runc and "
                                   "busybox-static)")
        tag = f"localhost/latprobe-e2e-busybox:{os.getpid()}"
        name = f"latprobe-e2e-web-{os.getpid()}"
        port = free_port()
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(f"{d}/root/bin")
            os.makedirs(f"{d}/root/www")
            shutil.copy(shutil.which("busybox"), f"{d}/root/bin/busybox")
            with open(f"{d}/root/www/index.html", "w") as f:
                f.write("ok\n")
            subprocess.run(["tar", "-C", f"{d}/root", "-cf", f"{d}/rootfs.tar", "."], check=True)
            podman("import", "-q", f"{d}/rootfs.tar", tag)
        try:
            podman("--runtime", "runc", "run", "-d", "--name", name, "--network", "host",
                   "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", tag,
                   "/bin/busybox", "httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www")
            wait_port(port)
            with Agent("-i", "1s", "--port", str(port)) as ag:
                self.assertEqual(curl(*[f"http://127.0.0.1:{port}/"] * 5), [200] * 5)
                # the helper: the agent's child, CAP_DAC_READ_SEARCH its only capability
                helpers = children(ag.proc.pid, "latprobe-names")
                self.assertEqual(len(helpers), 1, children(ag.proc.pid))
                self.assertEqual(int(status_field(helpers[0], "CapEff"), 16),
                                 1 << CAP_DAC_READ_SEARCH)
                self.assertEqual(int(status_field(ag.proc.pid, "CapEff"), 16), 0)
                # nothing of the agent's but its socket: no map, no listener, no pipe
                self.assertEqual(sorted(int(f) for f in os.listdir(f"/proc/{helpers[0]}/fd")),
                                 [0, 1, 2, 3])
                self.assertNotEqual(status_field(ag.proc.pid, "Uid"), "0")
                time.sleep(1.5)
                doc = ag.stop()
            self.assertIn("container names: Docker/Podman state read by a helper", ag.stderr)
        finally:
            podman("rm", "-f", "-t", "0", name, check=False)
            podman("rmi", "-f", tag, check=False)
        srv = series(doc, side="server", port=port)
        self.assertEqual([s["service"] for s in srv], [name])
        self.assertEqual(count(doc, side="server", port=port, status=200), 5)
        self.assertRegex(srv[0]["cgroup"], r"libpod-[0-9a-f]{64}")
        # the client (curl, outside any container) keeps its own name
        self.assertNotIn(name, {s["service"] for s in series(doc, side="client", port=port)})


if __name__ == "__main__":
    unittest.main()
