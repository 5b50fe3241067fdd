#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The tree's shape, checked (make test runs it beside check_layers.py):

- every path under bpf/, include/ or userspace/ that a comment names (in
  the sources, tests, benchmarks, Makefile and the developer documents)
  exists: a comment that outlives a move or a rename fails here;
- no source file under bpf/, include/ or userspace/ is over 700 lines;
- no function there is over 80 lines, tables and usage text aside (LONG).

It first checks itself on a small tree with one offence of each kind.
Exit 1 naming each offence."""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CODE = ["bpf", "include", "userspace"]
SCANNED = CODE + ["tests", "bench", "deploy"]
DOCS = ["Makefile", "README.md", "CONTRIBUTING.md", ".ci/run"]
MAX_FILE, MAX_FUNC = 700, 80
# functions that are a table or text, not logic: the limit would only cut them in two
LONG = {
    "lp_emit_self": "the table of the agent's own metric families",
    "lp_cli_usage": "the usage text",
}
PATH = re.compile(r"(?<![\w./-])((?:bpf|include|userspace)/[\w./-]*[\w])")
C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
PY_COMMENT = re.compile(r"#[^\n]*")


def sources(dirs, ends):
    for d in dirs:
        for dp, dn, fn in os.walk(os.path.join(ROOT, d)):
            dn[:] = [x for x in dn if x not in ("node_modules", "corpus", "golden")]
            for f in sorted(fn):
                if f.endswith(ends):
                    yield os.path.join(dp, f)


def comments(path, text):
    if path.endswith((".c", ".h")):
        return C_COMMENT.findall(text)
    if path.endswith((".py", ".sh")) or os.path.basename(path) in ("Makefile", "run"):
        return PY_COMMENT.findall(text)
    return [text]  # a document: all of it


def named_paths(bad):
    files = list(sources(SCANNED, (".c", ".h", ".py", ".sh")))
    files += [os.path.join(ROOT, d) for d in DOCS if os.path.exists(os.path.join(ROOT, d))]
    for path in files:
        with open(path, errors="replace") as fh:
            text = fh.read()
        for com in comments(path, text):
            for p in PATH.findall(com):
                if "*" in p or "%" in p:
                    continue
                if not os.path.exists(os.path.join(ROOT, p.rstrip("."))):
                    bad.append(f"{os.path.relpath(path, ROOT)}: names {p}, which does not exist")


def functions(lines):
    """(name, first line, length) of each function in kernel style: its
    body opens with '{' alone at column 0 and closes with '}' there"""
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            yield (m.group(1) if m else lines[j].strip()), j + 1, k - j + 1
            i = k
        i += 1


def sizes(bad):
    for path in sources(CODE, (".c", ".h")):
        rel = os.path.relpath(path, ROOT)
        if rel.endswith(".pb-c.c") or rel.endswith(".pb-c.h"):
            continue
        with open(path, errors="replace") as fh:
            lines = fh.read().split("\n")
        if len(lines) - 1 > MAX_FILE:
            bad.append(f"{rel}: {len(lines) - 1} lines (at most {MAX_FILE}: one concern per file)")
        for name, at, n in functions(lines):
            if n > MAX_FUNC and name not in LONG:
                bad.append(f"{rel}:{at}: {name} is {n} lines (at most {MAX_FUNC})")


def check(root):
    global ROOT
    ROOT, bad = root, []
    named_paths(bad)
    sizes(bad)
    return bad


def self_test():
    """the checks fail where they must: a tree with one of each offence"""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="lp-tree-") as t:
        for d in ("include", "userspace/core", "tests"):
            os.makedirs(os.path.join(t, d))
        body = "\n".join(f"\tx += {i};" for i in range(81))
        files = {
            "include/ok.h": "/* see userspace/core/a.c */\n",
            "userspace/core/a.c": f"/* was userspace/gone.c */\nint f(void)\n{{\n{body}\n}}\n",
            "userspace/core/big.c": "int x;\n" * 701,
            "tests/t.py": "# tests include/ok.h and include/missing.h\n",
        }
        for name, text in files.items():
            with open(os.path.join(t, name), "w") as fh:
                fh.write(text)
        bad = check(t)
    want = ["userspace/core/a.c: names userspace/gone.c, which does not exist",
            "tests/t.py: names include/missing.h, which does not exist",
            "userspace/core/big.c: 701 lines (at most 700: one concern per file)",
            "userspace/core/a.c:2: f is 84 lines (at most 80)"]
    if sorted(bad) != sorted(want):
        print("check_tree self-test: expected", want, "got", bad)
        return 1
    return 0


def main():
    if self_test():
        return 1
    bad = check(ROOT)
    for b in bad:
        print(b)
    if bad:
        return 1
    print(f"tree: every path a comment names exists; files <= {MAX_FILE} lines, "
          f"functions <= {MAX_FUNC} ({len(LONG)} tables and texts aside)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
