#!/usr/bin/env python3
"""Checks that every code snippet in docs/clients.md is code the tests run.

Test sources (each has at least one) mark regions with a comment line containing
"--- docs/clients.md: NAME" and end them with one containing "--- end".
Each region, dedented, must appear verbatim in docs/clients.md.
`check_docs.py --print` prints the regions (to paste after a change).
"""
from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "clients.md"
SOURCES = [
    "client/python/tests/test_client.py",
    "tests/middleware/python/test_django.py",
    "tests/middleware/python/test_fastapi.py",
    "client/node/test/client.test.js",
    "tests/middleware/node/express.test.js",
    "client/go/hookguard/client_test.go",
    "tests/middleware/go/middleware_test.go",
    "client/java/src/test/java/dev/hookguard/client/WebhookGuardTest.java",
    "client/cpp/example/main.cc",
]
START = re.compile(r"--- docs/clients\.md: (.+?) -*$")


def regions() -> dict[str, str]:
    out: dict[str, str] = {}
    for rel in SOURCES:
        lines = (REPO / rel).read_text(encoding="utf-8").splitlines()
        name, buf = None, []
        for line in lines:
            m = START.search(line)
            if m:
                name, buf = m.group(1).strip(), []
            elif name and "--- end" in line:
                out[f"{name} ({rel})"] = textwrap.dedent("\n".join(buf)).strip("\n")
                name = None
            elif name:
                buf.append(line)
    return out


def main() -> int:
    found = regions()
    if sys.argv[1:] == ["--print"]:
        for k, v in found.items():
            print(f"## {k}\n{v}\n")
        return 0
    doc = DOC.read_text(encoding="utf-8")
    missing = [k for k, v in found.items() if v not in doc]
    for k in missing:
        print(f"docs/clients.md lacks the current snippet {k}")
    without = [rel for rel in SOURCES if not any(k.endswith(f"({rel})") for k in found)]
    if without:
        print(f"no snippet in {', '.join(without)}")
        return 1
    print(f"{len(found) - len(missing)} passed, {len(missing)} failed")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
