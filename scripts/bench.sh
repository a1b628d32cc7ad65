#!/usr/bin/env bash
# The load benchmark (docs/performance.md): builds the Release tree
# build-perf, then measures on this machine, under h2load, the floor (a gRPC
# server that only reads the request), the Python peer, VerifySignature,
# AuthorizeWebhook on PostgreSQL (lookups coalesced, and one query per
# lookup), and AuthorizeWebhook with the ownership cache, with 2 KB and
# 300 KB bodies, at 1 stream and at saturation (8x16); prints throughput,
# p50/p99/p99.9 latency and server RSS, and writes results.md, results.json
# and bench.png into build-perf/bench/. Then the parser-vs-HMAC micro
# benchmark. Extra arguments go to tests/load/bench.py (e.g. --rounds 3).
#   BENCH_SECONDS=5 (per load)  BENCH_ROUNDS=1  HOOKGUARD_BUILD_DIR=build-perf
set -euo pipefail
cd "$(dirname "$0")/.."
export HOOKGUARD_BUILD_DIR="${HOOKGUARD_BUILD_DIR:-build-perf}"
if [ "${BENCH_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh >/dev/null; fi
if [ ! -f "$HOOKGUARD_BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$HOOKGUARD_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$HOOKGUARD_BUILD_DIR" -j "${HOOKGUARD_JOBS:-2}" \
  hookguard-server hookguard-floor-server call_event_parser_benchmark
.venv/bin/python tests/load/bench.py "$@"
echo
echo "== parsing vs HMAC of a 300 KB body (google-benchmark) =="
"$HOOKGUARD_BUILD_DIR/server/payload/call_event_parser_benchmark" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "median|^Benchmark|---"
