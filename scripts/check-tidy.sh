#!/usr/bin/env bash
# clang-tidy (.clang-tidy: bug and performance checks) on the server's code,
# using the build's compile_commands.json. Usage: check-tidy.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
mapfile -t files < <(git ls-files 'server/*.cc' | grep -vE '_(test|benchmark)\.cc$')
log=$(mktemp)
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet >"$log" 2>&1 || status=$?
grep -E "(warning|error):" "$log" | sort -u || true
rm -f "$log"
if [ "$status" -ne 0 ]; then
  echo "tidy: 0 passed, 1 failed (${#files[@]} files checked)"
  exit 1
fi
echo "tidy: ${#files[@]} passed, 0 failed"
