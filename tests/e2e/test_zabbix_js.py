# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The Zabbix template's per-series items, run as the Zabbix server runs them:
its JavaScript preprocessing in Duktape (the engine Zabbix embeds; Debian's
duktape-dev, through tests/zabbix/zabbix_js.c), fed what Zabbix's
PROMETHEUS_TO_JSON step makes of a live agent's /metrics. The agent times
requests that differ only by route and by network type (nginx on 127.0.0.1
and ::1), on both sides: every series gets an item key of its own, and each
item reads its own series' value."""
import json
import os
import re
import subprocess
import tempfile
import time
import unittest
import urllib.request

import yaml

from lpharness import ROOT, Agent, Nginx, curl, free_port, require_root

TEMPLATE = os.path.join(ROOT, "deploy", "zabbix", "latprobe_template.yaml")
HARNESS = os.path.join(ROOT, "tests", "zabbix", "zabbix_js.c")
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def prometheus_to_json(text, selector):
    """Zabbix's PROMETHEUS_TO_JSON of one metric{label="value",...} selector:
    the matching lines as [{name, value, labels, ...}], values as strings."""
    name, _, sel = selector.partition("{")
    want = dict(LABEL.findall(sel))
    rows = []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or m.group(1) != name:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\")
                  for k, v in LABEL.findall(m.group(2))}
        if all(labels.get(k) == v for k, v in want.items()):
            rows.append({"name": name, "value": m.group(3), "line_raw": line, "labels": labels,
                         "type": "gauge", "help": ""})
    return rows


class ZabbixSeriesItems(unittest.TestCase):
    def setUp(self):
        require_root()
        self.dir = tempfile.mkdtemp(prefix="lp-zabbixjs-")
        self.js = os.path.join(self.dir, "zabbix_js")
        r = subprocess.run(["cc", "-O2", "-Wall", "-Werror", "-o", self.js, HARNESS, "-lduktape"],
                           capture_output=True, text=True)
        if r.returncode:
            raise AssertionError(f"cannot build zabbix_js.c (duktape-dev): {r.stderr}")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def run_js(self, script, value, macros):
        for k, v in macros.items():
            script = script.replace(k, v)
        path = os.path.join(self.dir, "step.js")
        with open(path, "w") as f:
            f.write(script)
        r = subprocess.run([self.js, path], input=value, capture_output=True, text=True)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    def test_every_series_has_its_own_key_and_value(self):
        with open(TEMPLATE) as f:
            tpl = yaml.safe_load(f)["zabbix_export"]["templates"][0]
        rule = next(r for r in tpl["discovery_rules"] if r["key"] == "latprobe.series.discovery")
        window = next(m["value"] for m in tpl["macros"] if m["macro"] == "{$LATPROBE.WINDOW}")
        port = free_port()
        with Nginx() as ngx, Agent("--listen", f"127.0.0.1:{port}", "-i", "1s", "-w", window,
                                   "--window-metrics", "--route", "a=/a", "-p",
                                   str(ngx.port)):
            for host in ("127.0.0.1", "[::1]"):
                for path in ("/a", "/b"):
                    curl(f"http://{host}:{ngx.port}{path}")
            deadline, text = time.monotonic() + 15, ""
            while time.monotonic() < deadline:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    text = r.read().decode()
                if text.count("latprobe_http_request_duration_quantile_seconds{") >= 8 * 4:
                    break
                time.sleep(0.5)
        # discovery: PROMETHEUS_TO_JSON, then the rule's JavaScript
        steps = rule["preprocessing"]
        self.assertEqual([s["type"] for s in steps], ["PROMETHEUS_TO_JSON", "JAVASCRIPT"])
        sel = steps[0]["parameters"][0].replace("{$LATPROBE.WINDOW}", window)
        rc, out, err = self.run_js(steps[1]["parameters"][0],
                                   json.dumps(prometheus_to_json(text, sel)), {})
        self.assertEqual(rc, 0, err)
        rows = json.loads(out)
        # 2 routes x 2 network types x 2 sides: 8 series that differ by no key label before
        self.assertEqual(len(rows), 8, [r["labels"] for r in rows])
        macros = {m["lld_macro"]: m["path"].split(".")[-1] for m in rule["lld_macro_paths"]}
        for r in rows:
            for m, label in macros.items():
                self.assertIsInstance(r["labels"].get(label), str, (m, r["labels"]))
        ids = [r["labels"]["series_id"] for r in rows]
        self.assertEqual(len(set(ids)), len(ids), "two series share an item key")
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids), ids)
        self.assertEqual({r["labels"]["http_route"] for r in rows}, {"a", "unrouted"})
        self.assertEqual({r["labels"]["network_type"] for r in rows}, {"ipv4", "ipv6"})
        # each prototype: its key is unique per series, and its value is that series'
        for proto in rule["item_prototypes"]:
            keys = {proto["key"].replace("{#SERIES}", i) for i in ids}
            self.assertEqual(len(keys), len(ids), proto["key"])
            steps = proto["preprocessing"]
            sel = steps[0]["parameters"][0].replace("{$LATPROBE.WINDOW}", window)
            q = re.search(r'quantile="([^"]+)"', sel).group(1)
            value = json.dumps(prometheus_to_json(text, sel))
            for r in rows:
                rc, out, err = self.run_js(steps[1]["parameters"][0], value,
                                           {"{#SERIES}": r["labels"]["series_id"]})
                self.assertEqual(rc, 0, err)
                want = next(x["value"] for x in prometheus_to_json(text, sel)
                            if all(x["labels"].get(k, "") == v for k, v in r["labels"].items()
                                   if k not in ("series_id", "quantile")))
                self.assertEqual(out, want, (q, r["labels"]))
            # a series that is gone: the step fails (DISCARD_VALUE keeps the last value)
            rc, _, err = self.run_js(steps[1]["parameters"][0], value,
                                     {"{#SERIES}": "0000000000000000"})
            self.assertEqual(rc, 1)
            self.assertIn("not in /metrics", err)


if __name__ == "__main__":
    unittest.main()
