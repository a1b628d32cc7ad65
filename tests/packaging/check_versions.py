#!/usr/bin/env python3
"""Checks that every client package carries the release version of
CMakeLists.txt's project(VERSION ...), the one place a release sets it (the
C++ package and the server take it from there; Go's comes from the git tag
client/go/vX.Y.Z). Prints "N passed, M failed"."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def read(rel: str, pattern: str) -> str:
    m = re.search(pattern, (REPO / rel).read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else "(none)"


def main() -> int:
    release = read("CMakeLists.txt", r"^project\(hookguard VERSION ([0-9.]+)")
    found = {
        "client/python/hookguard_client/__init__.py": read(
            "client/python/hookguard_client/__init__.py", r'^__version__ = "([^"]+)"'),
        "client/node/package.json": json.loads(
            (REPO / "client/node/package.json").read_text(encoding="utf-8"))["version"],
        "client/java/pom.xml": read("client/java/pom.xml",
                                    r"<artifactId>hookguard-client</artifactId>\s*<version>([^<]+)<"),
    }
    wrong = {k: v for k, v in found.items() if v != release}
    for k, v in wrong.items():
        print(f"{k}: version {v}, the release (CMakeLists.txt) is {release}")
    print(f"{len(found) - len(wrong)} passed, {len(wrong)} failed")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
