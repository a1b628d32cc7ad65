#!/usr/bin/env python3
"""The npm install specs of the Node client's dependencies and of its Express
peer, at the lowest or the newest versions client/node/package.json allows,
one per line:

    node_deps.py lowest   # name@X.Y.Z: the floor of each range, exactly
    node_deps.py newest   # name@RANGE: npm installs the highest release in it

scripts/setup.sh installs both sets into .tools/node-deps/{lowest,newest};
tests/packaging/test_fresh_apps.py runs the client's tests on each.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "client" / "node" / "package.json"


def ranges() -> dict:
    pkg = json.loads(PACKAGE.read_text(encoding="utf-8"))
    return {**pkg["dependencies"], **pkg["peerDependencies"]}


def floor(version_range: str) -> str:
    """"^1.9.0", ">=0.3.0 <0.9.0", ">=4.17.0" -> the lowest version they allow."""
    m = re.match(r"^(?:\^|>=)?(\d+\.\d+\.\d+)(?:\s+<\S+)?$", version_range)
    if not m:
        raise ValueError(f"write the range as ^X.Y.Z or >=X.Y.Z [<A.B.C]: {version_range!r}")
    return m.group(1)


def specs(which: str) -> list[str]:
    return [f"{name}@{floor(r) if which == 'lowest' else r}" for name, r in ranges().items()]


if __name__ == "__main__":
    if sys.argv[1:] not in (["lowest"], ["newest"]):
        sys.exit("usage: node_deps.py lowest|newest")
    print("\n".join(specs(sys.argv[1])))
