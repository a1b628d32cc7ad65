#!/usr/bin/env bash
# Fails when a C++ file of ours is not formatted as clang-format (.clang-format,
# Google style) would format it. Generated and third-party code is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -vE '^(third_party|client/go|client/java|client/node)/')
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f (run: clang-format -i --style=file $f)"
    bad=$((bad + 1))
  fi
done
echo "format: $(( ${#files[@]} - bad )) passed, $bad failed"
[ "$bad" -eq 0 ]
