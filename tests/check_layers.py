#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The user-space layers, checked: every include of a project header names
its folder, and points to the same layer or one below; and there is no
include cycle. Exit 1 naming each include that breaks a rule.

    base  <  core  <  export  <  sinks  <  app
(include/, the kernel contract, is below them all.)"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "userspace")
LAYERS = ["base", "core", "export", "sinks", "app"]
INC = re.compile(r'^#include "([^"]+)"', re.M)


def module(path):
    """a module: its .c files and its .h; X_int.h, the insides that X's
    files share (collector_int.h), belongs to X, as do the files it ties"""
    base = path.rsplit(".", 1)[0]
    return base[:-4] if base.endswith("_int") else base


def main():
    bad, graph = [], {}
    for layer in LAYERS:
        for f in sorted(os.listdir(os.path.join(ROOT, layer))):
            if not f.endswith((".c", ".h")):
                continue
            me = f"{layer}/{f}"
            with open(os.path.join(ROOT, layer, f)) as fh:
                incs = INC.findall(fh.read())
            mod = module(me)
            graph.setdefault(mod, set()).update(
                module(i) for i in incs if "/" in i and module(i) != mod)
            for i in incs:
                if "/" not in i:
                    continue  # include/ (the kernel contract) and generated headers
                to = i.split("/")[0]
                if to not in LAYERS:
                    bad.append(f"{me}: includes {i}, outside the layers")
                elif LAYERS.index(to) > LAYERS.index(layer):
                    bad.append(f"{me}: includes {i}, a layer above ({to} > {layer})")
    # cycles among modules (cli.c -> push -> expo -> cli was one)
    state = {}

    def visit(n, path):
        if state.get(n) == 1:
            bad.append("include cycle: " + " -> ".join(path + [n]))
            return
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in sorted(graph.get(n, [])):
            visit(m, path + [n])
        state[n] = 2

    for n in graph:
        visit(n, [])
    for b in bad:
        print(b)
    if bad:
        return 1
    print(f"layers: {len(graph)} modules, includes point down or across only, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
