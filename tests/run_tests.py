#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Run latprobe's test suites and print one summary line: "N passed, M failed".

  unit   cmocka binaries built with ASan/UBSan (no privilege needed)
  bpf    the real BPF object through BPF_PROG_TEST_RUN (root)
  e2e    the agent with real servers and clients on loopback (root)

Tests that need root fail when run without it, saying why. The only way
around that is the explicit LATPROBE_UNPRIVILEGED=1, for people without root;
it is reported in the summary as skipped, and CI never sets it.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import unittest

totals = {"passed": 0, "failed": 0, "skipped": 0}
failures = []


def run_cmocka(path):
    name = os.path.basename(path)
    t0 = time.monotonic()
    r = subprocess.run([path], capture_output=True, text=True)
    out = r.stdout + r.stderr
    passed = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
    failed = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
    if r.returncode != 0 and failed == 0:
        failed = 1  # crashed, a sanitizer fired, or setup failed
    if passed + failed == 0:
        failed = 1  # ran nothing: that is a failure too
    totals["passed"] += passed
    totals["failed"] += failed
    status = "ok" if failed == 0 and r.returncode == 0 else "FAILED"
    print(f"  {name:<22} {passed:3d} passed {failed:3d} failed  "
          f"({time.monotonic() - t0:.1f}s) {status}")
    if status != "ok":
        failures.append(name)
        sys.stdout.write("".join("    | " + l + "\n" for l in out.splitlines()[-60:]))


def run_fuzzer(path, seconds):
    """Run a libFuzzer target on its committed seed corpus for a bounded time."""
    import shutil
    import tempfile
    name = os.path.basename(path)
    if not os.access(path, os.X_OK):
        totals["failed"] += 1
        failures.append(f"{name}: not built ({path})")
        print(f"  {name:<22} not built: {path} FAILED")
        return
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz", "corpus",
                         name.replace("fuzz_", ""))
    work = tempfile.mkdtemp(prefix="lp-fuzz-")
    t0 = time.monotonic()
    r = subprocess.run([path, f"-max_total_time={seconds}", "-print_final_stats=1", work, seeds],
                       capture_output=True, text=True)
    shutil.rmtree(work, ignore_errors=True)
    out = r.stdout + r.stderr
    m = re.search(r"stat::number_of_executed_units:\s+(\d+)", out)
    runs = int(m.group(1)) if m else 0
    ok = r.returncode == 0 and runs > 0
    totals["passed" if ok else "failed"] += 1
    print(f"  {name:<22} {runs:>9} executions ({time.monotonic() - t0:.0f}s) "
          f"{'ok' if ok else 'FAILED'}")
    if not ok:
        failures.append(name)
        sys.stdout.write("".join("    | " + l + "\n" for l in out.splitlines()[-40:]))


def run_e2e(directory, binary):
    os.environ["LATPROBE"] = os.path.abspath(binary)
    sys.path.insert(0, os.path.abspath(directory))
    suite = unittest.defaultTestLoader.discover(directory, pattern="test_*.py",
                                                top_level_dir=directory)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    # a skipped end-to-end test is a failure: nothing here is optional
    bad += len(result.skipped)
    totals["passed"] += result.testsRun - bad
    totals["failed"] += bad
    for t, _ in result.failures + result.errors + result.skipped:
        failures.append(t.id())
    if result.testsRun == 0:
        totals["failed"] += 1
        failures.append("e2e: no test ran")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit", default="")
    ap.add_argument("--bpf", default="")
    ap.add_argument("--e2e", default="")
    ap.add_argument("--fuzz", default="")
    ap.add_argument("--fuzz-time", type=int,
                    default=int(os.environ.get("LATPROBE_FUZZ_SECONDS", "20")))
    ap.add_argument("--binary", default="./latprobe")
    a = ap.parse_args()

    root = os.geteuid() == 0
    unprivileged = os.environ.get("LATPROBE_UNPRIVILEGED") == "1"
    if (a.bpf or a.e2e) and not root and not unprivileged:
        print("latprobe tests: the BPF and end-to-end tests load programs into the kernel and "
              "need root: run 'sudo make test' (or set LATPROBE_UNPRIVILEGED=1 to run only the "
              "unit tests, reported as skipped)")
        print("summary: 0 passed, 1 failed")
        return 1

    if a.unit:
        print("== unit tests (ASan/UBSan)")
        for path in a.unit.split():
            run_cmocka(path)
    if a.fuzz:
        print(f"== fuzzers, {a.fuzz_time}s each from the committed seeds (make fuzz runs longer)")
        for path in a.fuzz.split():
            run_fuzzer(path, a.fuzz_time)
    if a.bpf:
        print("== BPF_PROG_TEST_RUN tests of the real object")
        if root:
            run_cmocka(a.bpf)
        else:
            print("  NOT RUN: needs root (LATPROBE_UNPRIVILEGED=1)")
            totals["skipped"] += 1
    if a.e2e:
        print("== end-to-end tests on loopback")
        if root:
            run_e2e(a.e2e, a.binary)
        else:
            print("  NOT RUN: needs root (LATPROBE_UNPRIVILEGED=1)")
            totals["skipped"] += 1

    if failures:
        print("failed: " + ", ".join(failures))
    line = f"summary: {totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    print(line)
    return 0 if totals["failed"] == 0 and totals["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
