#!/usr/bin/env bash
# Configures and builds everything into ./build (one build directory, ccache).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${HOOKGUARD_BUILD_DIR:-build}"
JOBS="${HOOKGUARD_JOBS:-$(nproc)}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${HOOKGUARD_CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR" -j "$JOBS"
