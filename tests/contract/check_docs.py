#!/usr/bin/env python3
"""Checks that the code snippets of the docs are code the tests run.

Test sources mark regions with a comment line containing
"--- docs/PAGE.md: NAME" (any page under docs/) and end them with one
containing "--- end". Each region, dedented, must appear verbatim in the page
it names. Every fenced code block of a framework guide (docs/guides/*.md) in a
programming language must be such a region, so a guide shows no code that no
test runs, and every ```json block of the docs must parse as JSON (configs and log lines
are copied from them). `check_docs.py --print` prints the regions (to paste after a change).
"""
from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Files that must keep at least one region (a region elsewhere counts too).
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
    "examples/django/exampleapp/settings.py",
    "examples/express/app.js",
    "tests/packaging/django_app/hooks/tests.py",
]
SEARCHED = ["client", "tests", "examples"]
SUFFIXES = {".py", ".js", ".go", ".java", ".cc", ".h", ".ts"}
SKIP = {"node_modules", ".venv", "build", "target", "__pycache__"}
START = re.compile(r"--- (docs/[\w./-]+\.md): (.+?) -*$")
# Languages whose fenced blocks in a guide must come from a test.
CODE = {"python", "py", "js", "javascript", "ts", "typescript", "go", "java", "cpp", "c++"}
FENCE = re.compile(r"^```(\w[\w+]*)\n(.*?)^```", re.M | re.S)


def source_files() -> list[Path]:
    out = []
    for top in SEARCHED:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and not SKIP & set(path.parts):
                out.append(path)
    return out


def regions() -> dict[tuple[str, str, str], str]:
    """(page, name, source) -> the region's dedented text."""
    out: dict[tuple[str, str, str], str] = {}
    for path in source_files():
        rel = str(path.relative_to(REPO))
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        page, name, buf = None, None, []
        for line in lines:
            m = START.search(line)
            if m:
                page, name, buf = m.group(1), m.group(2).strip(), []
            elif name and "--- end" in line:
                out[(page, name, rel)] = textwrap.dedent("\n".join(buf)).strip("\n")
                page, name = None, None
            elif name:
                buf.append(line)
    return out


def main() -> int:
    found = regions()
    if sys.argv[1:] == ["--print"]:
        for (page, name, rel), text in found.items():
            print(f"## {page}: {name} ({rel})\n{text}\n")
        return 0
    failures = 0
    for (page, name, rel), text in found.items():
        doc = REPO / page
        if not doc.is_file():
            print(f"{rel}: region {name!r} names {page}, which does not exist")
            failures += 1
        elif text not in doc.read_text(encoding="utf-8"):
            print(f"{page} lacks the current snippet {name} ({rel})")
            failures += 1
    for guide in sorted((REPO / "docs" / "guides").glob("*.md")):
        page = str(guide.relative_to(REPO))
        mine = {text for (p, _, _), text in found.items() if p == page}
        for m in FENCE.finditer(guide.read_text(encoding="utf-8")):
            block = m.group(2).strip("\n")
            if m.group(1).lower() in CODE and block not in mine:
                first = block.splitlines()[0] if block else ""
                print(f"{page}: a {m.group(1)} block no test runs (starts {first!r})")
                failures += 1
    for page in sorted((REPO / "docs").rglob("*.md")) + [REPO / "README.md"]:
        for m in FENCE.finditer(page.read_text(encoding="utf-8")):
            if m.group(1).lower() == "json":
                try:
                    json.loads(m.group(2))
                except ValueError as err:
                    print(f"{page.relative_to(REPO)}: a json block that does not parse ({err})")
                    failures += 1
    without = [rel for rel in SOURCES if not any(r == rel for (_, _, r) in found)]
    if without:
        print(f"no snippet in {', '.join(without)}")
        failures += 1
    print(f"{len(found)} regions; {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
