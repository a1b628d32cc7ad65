#!/usr/bin/env bash
# Every test: set up this machine, build, and run
#   1. the whole ctest suite of the Release build: unit tests, integration
#      tests on real PostgreSQL and SQLite, the demo, operator tools, the
#      chart, the container image, contract tests of every client language,
#      lint (format, clang-tidy, buf), constant-time, load faults and soak;
#   2. the unit and integration tests again under ASan + UBSan (clang);
#   3. each libFuzzer target for FUZZ_SECONDS (default 60) seconds.
# This is what CI (.ci/run) runs.
#
#   scripts/test.sh --quick   for daily work: the unit tests and the
#                             integration tests on SQLite only (a few minutes
#                             after a build); no image, clients, lint,
#                             sanitizers or fuzzing.
#   scripts/test.sh ARGS...   ARGS go to ctest (e.g. -L unit, -R parser),
#                             and steps 2 and 3 are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${HOOKGUARD_BUILD_DIR:-build}"

if [ "${1:-}" = "--quick" ]; then
  shift
  HOOKGUARD_SETUP_SKIP_CLIENTS="${HOOKGUARD_SETUP_SKIP_CLIENTS:-1}" bash scripts/setup.sh || exit 1
  bash scripts/build.sh || exit 1
  status=0
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" -L unit "$@") || status=1
  HOOKGUARD_BUILD_DIR="$PWD/$BUILD_DIR" .venv/bin/python -m pytest -q -p no:cacheprovider \
    -k "not postgresql" tests/integration || status=1
  if [ "$status" -ne 0 ]; then echo "test.sh --quick: FAILED (see above)"; else echo "test.sh --quick: passed"; fi
  exit "$status"
fi

bash scripts/setup.sh || exit 1
bash scripts/build.sh || exit 1
status=0
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 900 "$@") || status=1
if [ $# -eq 0 ]; then
  SANITIZE_SKIP_SETUP=1 bash scripts/sanitize.sh || status=1
  FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash scripts/fuzz.sh || status=1
fi
if [ "$status" -ne 0 ]; then echo "test.sh: FAILED (see above)"; else echo "test.sh: every suite passed"; fi
exit "$status"
