#!/usr/bin/env bash
# Every test: set up this machine, build, and run
#   1. the whole ctest suite of the Release build: unit tests, integration
#      tests on real PostgreSQL and SQLite, the demo, operator tools, the
#      chart, the image's runtime root filesystem, contract tests of every
#      client language, lint (format, clang-tidy, buf), constant-time, load
#      faults and soak;
#   2. the unit and integration tests again under ASan + UBSan (clang);
#   3. each libFuzzer target for FUZZ_SECONDS (default 60) seconds.
# Arguments go to the first ctest (e.g. -L unit) and then skip 2 and 3.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
bash scripts/build.sh || exit 1
status=0
(cd "${HOOKGUARD_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 900 "$@") || status=1
if [ $# -eq 0 ]; then
  SANITIZE_SKIP_SETUP=1 bash scripts/sanitize.sh || status=1
  FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash scripts/fuzz.sh || status=1
fi
if [ "$status" -ne 0 ]; then echo "test.sh: FAILED (see above)"; else echo "test.sh: every suite passed"; fi
exit "$status"
