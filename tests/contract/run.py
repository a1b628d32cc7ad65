#!/usr/bin/env python3
"""Runs every language's contract runner and middleware end-to-end test
against ONE live hookguard-server (PostgreSQL with the Django fixtures,
tests/contract/config.json), and exits non-zero if any fails. A second
server with mutual TLS (SQLite, same fixtures, a test CA made with openssl)
checks each client's TLS options (HOOKGUARD_TLS_* in the runners' env). The last line
is "N passed, M failed" (test cases, summed over all runners; a runner that
fails without reporting cases, e.g. a build error, counts as one failure).

    tests/contract/run.py                  # all: python node go java cpp
    tests/contract/run.py --only python,go
    HOOKGUARD_BUILD_DIR=build-x tests/contract/run.py

Needs: the built server and C++ contract runner in $HOOKGUARD_BUILD_DIR
(default build/), and what scripts/setup.sh installs (.venv, client/node
node_modules, Go modules, Maven cache).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import live  # noqa: E402

RUNNERS = ["python", "node", "go", "java", "cpp"]


def junit_counts(*files: Path) -> tuple[int, int]:
    passed = failed = 0
    for f in files:
        for case in ET.parse(f).getroot().iter("testcase"):
            if case.find("skipped") is not None:
                failed += 1  # nothing may skip here
            elif case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            else:
                passed += 1
    return passed, failed


def run(cmd: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    print(f"\n=== {' '.join(cmd)}   (in {cwd.relative_to(REPO) if cwd != REPO else '.'})", flush=True)
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace")
    print(p.stdout, flush=True)
    return p.returncode, p.stdout


def python_runner(env, tmp):
    xml = tmp / "python.xml"
    rc, _ = run([str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 f"--junitxml={xml}", "tests/contract/test_contract_python.py",
                 "tests/contract/test_tls_python.py", "tests/middleware/python"],
                REPO, env)
    return rc, junit_counts(xml) if xml.exists() else (0, 0)


def node_runner(env, tmp):
    rc, out = run(["node", "--test", "--test-reporter=tap",
                   "tests/contract/node/contract.test.js", "tests/middleware/node/express.test.js"],
                  REPO, env)
    p = re.findall(r"^# pass (\d+)$", out, re.M)
    f = re.findall(r"^# fail (\d+)$", out, re.M)
    return rc, (int(p[-1]) if p else 0, int(f[-1]) if f else 0)


def go_runner(env, tmp):
    total_rc, passed, failed = 0, 0, 0
    for d in ("tests/contract/go", "tests/middleware/go"):
        rc, out = run(["go", "test", "-count=1", "-v", "./..."], REPO / d, env)
        total_rc = total_rc or rc
        passed += len(re.findall(r"^\s*--- PASS: ", out, re.M))
        failed += len(re.findall(r"^\s*--- (?:FAIL|SKIP): ", out, re.M))
    return total_rc, (passed, failed)


def java_runner(env, tmp):
    reports = REPO / "client" / "java" / "target" / "surefire-reports"
    for old in reports.glob("TEST-*ContractTest.xml"):
        old.unlink()
    rc, _ = run(["mvn", "-q", "-o", "-B", "-Pcontract", "test"], REPO / "client" / "java", env)
    files = list(reports.glob("TEST-*ContractTest.xml"))
    return rc, junit_counts(*files) if files else (0, 0)


def cpp_runner(env, tmp):
    binary = Path(os.environ.get("HOOKGUARD_CPP_CONTRACT_TEST") or
                  live.build_dir() / "client" / "cpp" / "hookguard_client_contract_test")
    if not binary.exists():
        print(f"\n=== C++: {binary} is not built (cmake --build {live.build_dir()} "
              "--target hookguard_client_contract_test)", flush=True)
        return 1, (0, 0)
    xml = tmp / "cpp.xml"
    rc, _ = run([str(binary), f"--gtest_output=xml:{xml}"], REPO, env)
    return rc, junit_counts(xml) if xml.exists() else (0, 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(RUNNERS), help="comma-separated runners")
    ap.add_argument("--target", help="use this running server instead of starting one")
    args = ap.parse_args()
    chosen = [r for r in args.only.split(",") if r]
    unknown = set(chosen) - set(RUNNERS)
    if unknown:
        ap.error(f"unknown runners {sorted(unknown)}")

    results: list[tuple[str, int, int, int, float]] = []

    def run_all(target: str) -> None:
        env = dict(os.environ, HOOKGUARD_TARGET=target,
                   HOOKGUARD_VECTORS=str(HERE / "vectors.json"))
        with tempfile.TemporaryDirectory(prefix="hookguard-contract-") as tmp:
            for name in chosen:
                start = time.monotonic()
                rc, (p, f) = globals()[f"{name}_runner"](env, Path(tmp))
                if rc != 0 and f == 0:
                    f = 1  # failed without reporting a failing case (build error...)
                results.append((name, rc, p, f, time.monotonic() - start))

    try:
        if args.target:
            run_all(args.target)
        else:
            with live.live_hookguard() as target, live.live_tls_hookguard() as tls_env:
                print(f"hookguard-server at {target}; with mutual TLS at "
                      f"{tls_env['HOOKGUARD_TLS_TARGET']}", flush=True)
                os.environ.update(tls_env)
                run_all(target)
    except Exception as err:  # could not start the server: that is a failure
        print(f"contract: cannot run: {err}", file=sys.stderr)
        results.append(("setup", 1, 0, 1, 0.0))

    print("\n=== contract summary")
    for name, rc, p, f, secs in results:
        print(f"  {name:7s} exit {rc:3d}  {p:4d} passed  {f:3d} failed  {secs:6.1f}s")
    passed = sum(r[2] for r in results)
    failed = sum(r[3] for r in results)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 and all(r[1] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
