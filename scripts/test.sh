#!/usr/bin/env bash
# Every test: set up this machine, build, run the whole suite with ctest
# (unit tests, integration tests on real PostgreSQL and SQLite, chart, image,
# contract tests). Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd "${HOOKGUARD_BUILD_DIR:-build}"
exec ctest --output-on-failure --timeout 900 "$@"
