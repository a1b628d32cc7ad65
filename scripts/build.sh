#!/usr/bin/env bash
# Configures and builds everything into ./build (one build directory, ccache).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${HOOKGUARD_BUILD_DIR:-build}"
# Paths under the checkout are hashed relative to it: build dirs beside this
# one (build-make, build-asan) share the ccache entries of identical compiles.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
JOBS="${HOOKGUARD_JOBS:-$(nproc)}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${HOOKGUARD_CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR" -j "$JOBS"
