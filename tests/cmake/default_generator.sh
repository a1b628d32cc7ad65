#!/usr/bin/env bash
# The standard CMake workflow a packager or a C++ user types first, with the
# default generator (Unix Makefiles), not the Ninja of scripts/build.sh:
#   cmake -S . -B DIR && cmake --build DIR
# Builds the server and the CLI into build-make/ beside the main build dir
# (the same depth, so that ccache with CCACHE_BASEDIR serves the objects the
# main build already compiled), then runs the server once.
# Usage: tests/cmake/default_generator.sh [BUILD_DIR]   (default: build-make)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$repo/build-make}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$repo}"
unset CMAKE_GENERATOR
cmake -S "$repo" -B "$dir" -DHOOKGUARD_BUILD_TESTS=OFF >/dev/null
grep -q '^CMAKE_GENERATOR:INTERNAL=Unix Makefiles$' "$dir/CMakeCache.txt" ||
  { echo "FAIL: $dir was not configured with the default generator"; exit 1; }
cmake --build "$dir" -j "${HOOKGUARD_JOBS:-$(nproc)}" --target hookguard-server hookguard
# Without a secret the server must refuse to start, naming the problem.
out="$("$dir/server/service/hookguard-server" --listen=127.0.0.1:0 2>&1 || true)"
case "$out" in
  *"no webhook secret configured"*) echo "PASS default generator builds hookguard-server and hookguard" ;;
  *) echo "FAIL: unexpected output: $out"; exit 1 ;;
esac
"$dir/tools/hookguard/hookguard" --help >/dev/null 2>&1 || "$dir/tools/hookguard/hookguard" help >/dev/null 2>&1 ||
  { echo "FAIL: the CLI does not run"; exit 1; }
echo "1 passed, 0 failed"
