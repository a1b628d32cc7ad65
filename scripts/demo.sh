#!/usr/bin/env bash
# The main job: set up this machine, build, start hookguard on a SQLite demo
# database and send it legitimate and attacking webhooks through the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo needs no client toolchains (Node, Go, Java): skip them here.
HOOKGUARD_SETUP_SKIP_CLIENTS=1 bash scripts/setup.sh
bash scripts/build.sh
exec .venv/bin/python scripts/demo.py
