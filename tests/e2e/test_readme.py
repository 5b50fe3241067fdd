# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Every example of the README, as a reader would use it: each shell block
parses (bash -n) and each latprobe command in it is one the agent accepts;
each YAML block parses, the configuration-file example is one the agent
accepts; each PromQL expression evaluates without error against a real
Prometheus that scrapes a live agent the way the README sets it up (the
"latprobe" and "latprobe_classic" jobs), and the SLO expressions answer with
data while nginx is under load."""
import os
import re
import shlex
import subprocess
import tempfile
import time
import unittest

import yaml

from lpharness import BINARY, ROOT, Agent, Nginx, Prometheus, free_port, wrk

with open(os.path.join(ROOT, "README.md")) as f:
    README = f.read()


def blocks(lang):
    return [m.group(1) for m in re.finditer(rf"```{lang}\n(.*?)```", README, re.S)]


def latprobe_commands(text):
    """The latprobe invocations of a shell block, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["sudo"]:
            words = words[1:]
        if words[:1] == ["latprobe"]:
            # up to a pipe: the agent's arguments only
            if "|" in words:
                words = words[:words.index("|")]
            out.append(words[1:])
    return out


def expressions(text):
    """The expressions of a PromQL block: separated by blank or comment lines."""
    out, cur = [], []
    for line in text.splitlines() + [""]:
        if not line.strip() or line.lstrip().startswith("#"):
            if cur:
                out.append("\n".join(cur))
                cur = []
            continue
        cur.append(line)
    return out


class Examples(unittest.TestCase):
    def test_every_shell_block_parses_and_its_flags_are_accepted(self):
        sh = blocks("sh")
        self.assertGreaterEqual(len(sh), 5)
        tmp = tempfile.mkdtemp(prefix="lp-readme-")
        token = os.path.join(tmp, "influx.token")
        with open(token, "w") as f:
            f.write("a-token\n")
        ncmd = 0
        try:
            for text in sh:
                r = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, f"{text!r}: {r.stderr}")
                for args in latprobe_commands(text):
                    # the secret file an example names, made here; --help after
                    # every flag: they are all parsed (and checked) before it
                    args = [a.replace("/etc/latprobe/influx.token", token) for a in args]
                    r = subprocess.run([BINARY, *args, "--help"], capture_output=True,
                                       text=True, timeout=30)
                    self.assertEqual(r.returncode, 0, f"latprobe {args}: {r.stderr}")
                    ncmd += 1
        finally:
            subprocess.run(["rm", "-rf", tmp], check=False)
        self.assertGreaterEqual(ncmd, 4)

    def test_every_yaml_block_parses_and_the_config_example_runs(self):
        ys = blocks("yaml")
        self.assertGreaterEqual(len(ys), 4)
        configs = 0
        for text in ys:
            doc = yaml.safe_load(text)
            self.assertIsNotNone(doc, text)
            if isinstance(doc, dict) and "slo" in doc and "listen" in doc:
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                    f.write(text)
                    f.flush()
                    r = subprocess.run([BINARY, "--config", f.name, "--help"],
                                       capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                configs += 1
        self.assertEqual(configs, 1, "the README's configuration-file example")

    def test_every_promql_expression_evaluates_against_the_readme_setup(self):
        exprs = [e for b in blocks("promql") for e in expressions(b)]
        self.assertGreaterEqual(len(exprs), 8)
        lport = free_port()
        target = f"127.0.0.1:{lport}"
        with Nginx() as ngx, Agent("--listen", target, "-i", "1s"):
            # the README's two jobs: native histograms, and the classic buckets
            with Prometheus([("latprobe", target, None, None),
                             ("latprobe_classic", target, {"histograms": "classic"}, None)]) as prom:
                prom.wait_scrapes(1)
                wrk(ngx.url("/"), connections=4, duration="6s")
                prom.wait_scrapes(3)
                answered = 0
                for e in exprs:
                    r = prom.query(e)  # raises, naming the expression, on a PromQL error
                    if "latprobe_slo_" in e or 'le="0.01"' in e:
                        self.assertTrue(r, f"no data for the README's {e!r}")
                        answered += 1
                self.assertGreaterEqual(answered, 4)


if __name__ == "__main__":
    unittest.main()
