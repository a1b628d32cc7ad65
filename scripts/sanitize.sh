#!/usr/bin/env bash
# ASan + UBSan: builds everything with clang into build-asan (the same tree
# holds the libFuzzer targets, HOOKGUARD_FUZZ=ON) and runs the unit and
# integration tests against it (the Python harness starts this tree's
# hookguard-server through HOOKGUARD_BUILD_DIR, which ctest sets). Any
# sanitizer report fails the test that triggered it.
# Extra arguments go to ctest (default: -L 'unit|integration').
#   HOOKGUARD_ASAN_DIR=build-asan  HOOKGUARD_JOBS=2
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${HOOKGUARD_ASAN_DIR:-build-asan}"
# A fresh clone elsewhere (CI) shares the ccache entries of this tree:
# paths are hashed relative to the checkout, and the debug info's working
# directory is left out of the hash.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
if [ "${SANITIZE_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh >/dev/null; fi
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHOOKGUARD_SANITIZE=ON -DHOOKGUARD_FUZZ=ON
fi
ninja -C "$BUILD" -j "${HOOKGUARD_JOBS:-2}"
# Leaks are reported (gRPC and Protobuf free their globals at exit), UB aborts.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$BUILD"
if [ $# -eq 0 ]; then set -- -L 'unit|integration'; fi
exec ctest --output-on-failure --timeout 900 "$@"
