# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What an SRE installs: the Debian package (make deb: lintian reports no
error, dpkg -i then dpkg -r succeed and leave the files where the unit and the
man page say), make install, the man page (renders without warnings, covers
every flag and every metric a live agent serves), the Kubernetes manifests
(parse, and carry the capabilities, mounts, probe and selectors named in
the design)."""
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from lpharness import BINARY, ROOT, live_metrics, require_root

DEPLOY = os.path.join(ROOT, "deploy")
MAN = os.path.join(DEPLOY, "latprobe.8")


def man_text():
    r = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
    return r


def long_options(help_text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", help_text))


class ManPage(unittest.TestCase):
    def test_renders_without_warnings(self):
        r = man_text()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", "man/groff warnings")
        text = re.sub(".\b", "", r.stdout)  # overstrike bold/underline
        for section in ("SYNOPSIS", "OPTIONS", "METRICS", "CHECK", "EXIT STATUS", "FILES"):
            self.assertIn(f"\n{section}\n", text)

    def test_covers_every_flag(self):
        with open(MAN) as f:
            src = f.read().replace("\\-", "-")
        for cmd in ([BINARY, "--help"], [BINARY, "check", "--help"]):
            out = subprocess.run(cmd, capture_output=True, text=True).stdout
            flags = long_options(out)
            self.assertGreater(len(flags), 8, cmd)
            for flag in flags:
                self.assertIn(flag, src, f"{' '.join(cmd[1:])}: {flag} is not in latprobe(8)")

    def test_covers_every_metric_a_live_agent_serves(self):
        require_root()
        with open(MAN) as f:
            src = f.read().replace("\\-", "-")
        text = live_metrics("http_server_request_duration_seconds_bucket")
        families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        self.assertGreater(len(families), 20)
        self.assertIn("http_server_request_duration_seconds", families)
        for fam in families:
            if fam.startswith("process_"):
                continue  # documented as process_*
            # counters are named with _total in the page, as Prometheus shows them
            self.assertTrue(fam in src or fam + "_total" in src,
                            f"{fam} is served but not in latprobe(8)")


class Readme(unittest.TestCase):
    def test_usage_is_the_help_word_for_word(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        m = re.search(r"\n## Usage\n\n```\n(.*?)```\n", readme, re.S)
        self.assertIsNotNone(m, "README.md has no Usage block")
        out = subprocess.run([BINARY, "--help"], capture_output=True, text=True, check=True).stdout
        self.assertEqual(m.group(1), out, "README's Usage is not latprobe --help: make readme-usage")


class Install(unittest.TestCase):
    def test_make_install_into_destdir(self):
        dest = tempfile.mkdtemp(prefix="lp-install-")
        try:
            r = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/lp"],
                               cwd=ROOT, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            binary = os.path.join(dest, "opt/lp/sbin/latprobe")
            self.assertTrue(os.access(binary, os.X_OK))
            with open(os.path.join(dest, "etc/systemd/system/latprobe.service")) as f:
                unit = f.read()
            self.assertIn("ExecStart=/opt/lp/sbin/latprobe ", unit)
            self.assertIn("EnvironmentFile=-/etc/default/latprobe", unit)
            self.assertIn(" --config /etc/latprobe/latprobe.yaml ", unit)
            self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", unit)
            with open(os.path.join(dest, "etc/latprobe/latprobe.yaml")) as f:
                self.assertIn('listen: ":18464"', f.read())
            with open(os.path.join(dest, "etc/default/latprobe")) as f:
                self.assertIn("LATPROBE_OPTS=", f.read())
            self.assertTrue(os.path.exists(os.path.join(dest, "opt/lp/share/man/man8/latprobe.8")))
            # a second install keeps the admin's defaults file
            with open(os.path.join(dest, "etc/default/latprobe"), "w") as f:
                f.write('LATPROBE_OPTS="--listen :9999"\n')
            subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/lp"],
                           cwd=ROOT, check=True, capture_output=True)
            with open(os.path.join(dest, "etc/default/latprobe")) as f:
                self.assertIn(":9999", f.read())
        finally:
            shutil.rmtree(dest, ignore_errors=True)


class DebianPackage(unittest.TestCase):
    def test_deb_is_lintian_clean_installs_and_removes(self):
        require_root()
        for old in glob.glob(os.path.join(ROOT, "latprobe_*.deb")):
            os.unlink(old)
        r = subprocess.run(["make", "-s", "deb"], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = glob.glob(os.path.join(ROOT, "latprobe_*.deb"))
        self.assertEqual(len(debs), 1, debs)
        deb = debs[0]

        info = subprocess.run(["dpkg-deb", "-f", deb], capture_output=True, text=True).stdout
        # one semantic version everywhere (the file VERSION), the git revision beside it
        with open(os.path.join(ROOT, "VERSION")) as f:
            version = f.read().strip()
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        self.assertEqual(re.search(r"^Version: (.*)$", info, re.M).group(1), version)
        self.assertEqual(os.path.basename(deb).split("_")[1], version)
        with open(os.path.join(ROOT, "deploy", "kubernetes", "latprobe.yaml")) as f:
            self.assertIn(f"image: registry.example.org/latprobe:{version}\n", f.read())
        out = subprocess.run([os.path.join(ROOT, "latprobe"), "--version"], capture_output=True,
                             text=True).stdout
        self.assertRegex(out, rf"^latprobe {re.escape(version)} \([0-9a-f]{{7,}}(-dirty)?\)\n$")
        text = live_metrics("latprobe_build_info{")
        self.assertRegex(text, rf'latprobe_build_info{{version="{re.escape(version)}",'
                               r'revision="[0-9a-f]{7,}(-dirty)?",schema="\d+"} 1')
        depends = re.search(r"^Depends: (.*)$", info, re.M).group(1)
        for lib in ("libbpf1", "libc6", "libcurl4", "libjson-c5", "libmicrohttpd12"):
            self.assertIn(lib, depends)
        files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
        for path in ("./usr/sbin/latprobe", "./lib/systemd/system/latprobe.service",
                     "./etc/default/latprobe", "./etc/latprobe/latprobe.yaml",
                     "./usr/share/man/man8/latprobe.8.gz",
                     "./usr/share/doc/latprobe/copyright",
                     "./usr/share/doc/latprobe/examples/kubernetes/latprobe.yaml",
                     "./usr/share/doc/latprobe/examples/zabbix/latprobe_template.yaml",
                     "./usr/share/doc/latprobe/examples/zabbix/userparameter_latprobe.conf",
                     "./usr/share/doc/latprobe/examples/grafana/latprobe-dashboard.json",
                     "./usr/share/doc/latprobe/examples/prometheus/latprobe-rules.yml"):
            self.assertIn(path, files)
        self.assertNotIn(" ./usr/local", files)
        for line in files.splitlines():
            self.assertIn("root/root", line, line)

        lint = subprocess.run(["lintian", "--no-tag-display-limit", deb], capture_output=True,
                              text=True)
        # no error (the bar) and no warning either (where the package stands)
        errors = [l for l in lint.stdout.splitlines() if l.startswith(("E:", "W:"))]
        self.assertEqual(errors, [], lint.stdout)
        print(f"\n    lintian: {len(lint.stdout.splitlines())} tags, no error or warning "
              f"({', '.join(sorted({l.split(': ')[-1].split()[0] for l in lint.stdout.splitlines()})) or 'none'})")

        if subprocess.run(["dpkg", "-s", "latprobe"], capture_output=True).returncode == 0:
            self.fail("a latprobe package is already installed on this machine; "
                      "the test will not replace it (dpkg -r latprobe first)")
        try:
            r = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True,
                               env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = subprocess.run(["/usr/sbin/latprobe", "--version"], capture_output=True,
                                 text=True)
            self.assertEqual(out.returncode, 0)
            self.assertTrue(out.stdout.startswith("latprobe "), out.stdout)
            with open("/lib/systemd/system/latprobe.service") as f:
                self.assertIn("ExecStart=/usr/sbin/latprobe ", f.read())
            with gzip.open("/usr/share/man/man8/latprobe.8.gz", "rt") as f:
                self.assertIn(".SH EXIT STATUS", f.read())
            r = subprocess.run(["man", "-w", "8", "latprobe"], capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), "/usr/share/man/man8/latprobe.8.gz")
            r = subprocess.run(["dpkg", "-r", "latprobe"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertFalse(os.path.exists("/usr/sbin/latprobe"))
            self.assertFalse(os.path.exists("/lib/systemd/system/latprobe.service"))
            # the conffiles stay until purge, as for any Debian daemon
            self.assertTrue(os.path.exists("/etc/default/latprobe"))
            self.assertTrue(os.path.exists("/etc/latprobe/latprobe.yaml"))
            r = subprocess.run(["dpkg", "-P", "latprobe"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertFalse(os.path.exists("/etc/default/latprobe"))
            self.assertFalse(os.path.exists("/etc/latprobe/latprobe.yaml"))
            # and the README's way: apt resolves the package's dependencies itself
            r = subprocess.run(["apt-get", "install", "-y", deb],
                               capture_output=True, text=True,
                               env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(os.access("/usr/sbin/latprobe", os.X_OK))
            r = subprocess.run(["apt-get", "purge", "-y", "latprobe"], capture_output=True,
                               text=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertFalse(os.path.exists("/usr/sbin/latprobe"))
        finally:
            subprocess.run(["dpkg", "-P", "latprobe"], capture_output=True)
            os.unlink(deb)


class Kubernetes(unittest.TestCase):
    def test_manifests_carry_what_the_agent_needs(self):
        with open(os.path.join(DEPLOY, "kubernetes", "latprobe.yaml")) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        by_kind = {d["kind"]: d for d in docs}
        self.assertEqual(set(by_kind),
                         {"Namespace", "ConfigMap", "DaemonSet", "Service", "PodMonitor"})
        ns = by_kind["Namespace"]["metadata"]["name"]
        ds = by_kind["DaemonSet"]
        self.assertEqual(ds["apiVersion"], "apps/v1")
        pod = ds["spec"]["template"]
        labels = pod["metadata"]["labels"]
        self.assertEqual(ds["spec"]["selector"]["matchLabels"], labels)
        spec = pod["spec"]
        (c,) = spec["containers"]
        sc = c["securityContext"]
        self.assertFalse(sc.get("privileged", False))
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        # the last three for HTTPS: the TLS library scanner (README, "Privileges")
        self.assertEqual(set(sc["capabilities"]["add"]),
                         {"BPF", "NET_ADMIN", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH",
                          "SYS_ADMIN"})
        # the cgroup filesystem, read-only, from the host
        mounts = {m["name"]: m for m in c["volumeMounts"]}
        vols = {v["name"]: v for v in spec["volumes"]}
        cg = [m for m in mounts.values() if m["mountPath"] == "/sys/fs/cgroup"]
        self.assertEqual(len(cg), 1)
        self.assertTrue(cg[0]["readOnly"])
        self.assertEqual(vols[cg[0]["name"]]["hostPath"]["path"], "/sys/fs/cgroup")
        # and the settings, from the ConfigMap, re-read when it changes
        conf = [m for m in mounts.values() if m["mountPath"] == "/etc/latprobe"]
        self.assertEqual(len(conf), 1)
        self.assertTrue(conf[0]["readOnly"])
        self.assertEqual(vols[conf[0]["name"]]["configMap"]["name"],
                         by_kind["ConfigMap"]["metadata"]["name"])
        # and the kubelet's log directories for pod names (--k8s-root), read-only
        logs = {m["mountPath"]: m for m in mounts.values() if m["mountPath"].startswith("/host/")}
        self.assertEqual(set(logs), {"/host/var/log/pods", "/host/var/log/containers"})
        for m in logs.values():
            self.assertTrue(m["readOnly"])
            self.assertEqual(vols[m["name"]]["hostPath"]["path"], m["mountPath"][len("/host"):])
        self.assertEqual(c["args"][c["args"].index("--k8s-root") + 1], "/host")
        self.assertEqual(len(mounts), 4, "only the cgroup filesystem, the settings and the "
                         "kubelet's log directories")
        self.assertEqual(c["args"][:2], ["--config", "/etc/latprobe/latprobe.yaml"])
        self.assertIn("--watch-config", c["args"])
        settings = yaml.safe_load(by_kind["ConfigMap"]["data"]["latprobe.yaml"])
        # readiness on /-/ready of the port the agent listens on
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        probe = c["readinessProbe"]["httpGet"]
        self.assertEqual(probe["path"], "/-/ready")
        self.assertIn(probe["port"], ports)
        listen = settings["listen"]
        self.assertEqual(int(listen.rsplit(":", 1)[1]), ports[probe["port"]])
        # the args and the ConfigMap's file are ones the agent accepts
        d = tempfile.mkdtemp(prefix="lp-configmap-")
        try:
            path = os.path.join(d, "latprobe.yaml")
            with open(path, "w") as f:
                f.write(by_kind["ConfigMap"]["data"]["latprobe.yaml"])
            args = [path if a == "/etc/latprobe/latprobe.yaml" else a for a in c["args"]]
            r = subprocess.run([BINARY, *args, "--help"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            # a bad value in it would be refused there: the file is read
            with open(path, "a") as f:
                f.write("schema: 99\n")
            r = subprocess.run([BINARY, *args, "--help"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn("--schema", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        for kind in ("ConfigMap", "DaemonSet", "Service", "PodMonitor"):
            self.assertEqual(by_kind[kind]["metadata"]["namespace"], ns, kind)
        svc = by_kind["Service"]
        self.assertEqual(svc["spec"]["selector"], labels)
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], probe["port"])
        pm = by_kind["PodMonitor"]
        self.assertEqual(pm["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(pm["spec"]["selector"]["matchLabels"], labels)
        ep = pm["spec"]["podMetricsEndpoints"][0]
        self.assertIn(ep["port"], ports)
        self.assertEqual(ep["path"], "/metrics")


if __name__ == "__main__":
    unittest.main()
