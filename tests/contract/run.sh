#!/usr/bin/env bash
# Contract + middleware end-to-end tests of every client against one live
# hookguard-server; see run.py. Last line: "N passed, M failed".
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
exec "$repo/.venv/bin/python" "$repo/tests/contract/run.py" "$@"
