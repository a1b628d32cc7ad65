#!/usr/bin/env bash
# Runs each libFuzzer target (tests/fuzz) for a bounded time, starting from
# its seed corpus tests/fuzz/corpus/<target>/ (read-only: new inputs go to a
# scratch corpus in the build tree). Fails on the first crash, leak, timeout
# or sanitizer report; the reproducer lands in $BUILD/fuzz/artifacts/.
#   FUZZ_SECONDS=60 (per target)   HOOKGUARD_ASAN_DIR=build-asan
# Builds the clang ASan+UBSan+fuzzer tree first if needed (as sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${HOOKGUARD_ASAN_DIR:-build-asan}"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS=(payload_fuzzer form_body_fuzzer signature_fuzzer config_fuzzer)
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHOOKGUARD_SANITIZE=ON -DHOOKGUARD_FUZZ=ON
fi
ninja -C "$BUILD" -j "${HOOKGUARD_JOBS:-2}" "${TARGETS[@]}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$BUILD/fuzz/artifacts"
for t in "${TARGETS[@]}"; do
  work="$BUILD/fuzz/corpus/$t"
  mkdir -p "$work"
  max_len=4096
  [ "$t" = payload_fuzzer ] && max_len=65536
  echo "== $t: ${SECONDS_EACH}s, seeds tests/fuzz/corpus/$t ($(ls tests/fuzz/corpus/$t | wc -l) files)"
  # The fuzzer's own exit status (a pipe's, with `|| true`, would be lost:
  # a crash once read as "ok").
  log="$BUILD/fuzz/$t.log"
  status=0
  "$BUILD/tests/fuzz/$t" "$work" "tests/fuzz/corpus/$t" \
    -max_total_time="$SECONDS_EACH" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$BUILD/fuzz/artifacts/$t-" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|Done)|ERROR|crash-|leak-|timeout-" "$log" || true
  if [ "$status" != 0 ]; then
    # The whole report (signal, stack, the reproducer's name): the filter above
    # keeps only summary lines, and a CI log is often all there is to read.
    echo "---- last 80 lines of $log ----" >&2
    tail -n 80 "$log" >&2
    echo "fuzz: $t FAILED (exit $status); artifacts in $BUILD/fuzz/artifacts/" >&2
    exit 1
  fi
  echo "fuzz: $t ok"
done
echo "fuzz: all targets ran ${SECONDS_EACH}s each without a crash"
