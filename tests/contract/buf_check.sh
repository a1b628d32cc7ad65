#!/usr/bin/env bash
# Guards the wire contract: `buf lint` (STANDARD) on protos/, and
# `buf breaking` (FILE) of protos/ against the first release frozen in
# protos/released/v1. A self-check proves the breaking check can fail: a copy
# with one renumbered field must be rejected. buf comes from npm
# (@bufbuild/buf in .tools/buf, installed by scripts/setup.sh).
# Last line: "N passed, M failed".
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
buf="${BUF:-$repo/.tools/buf/node_modules/.bin/buf}"
[ -x "$buf" ] || { echo "buf not found at $buf: run scripts/setup.sh"; echo "0 passed, 1 failed"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
passed=0 failed=0
check() {  # check NAME EXPECTED_RC CMD...
  local name="$1" want="$2"; shift 2
  "$@" >"$tmp/out" 2>&1; local rc=$?
  if { [ "$want" = 0 ] && [ $rc = 0 ]; } || { [ "$want" = fail ] && [ $rc != 0 ]; }; then
    echo "PASS $name"; passed=$((passed + 1))
  else
    echo "FAIL $name (exit $rc)"; sed 's/^/  /' "$tmp/out"; failed=$((failed + 1))
  fi
}
# The frozen copy sits inside the protos/ module (excluded from its build);
# buf wants --against inputs outside it, so compare with a copy.
cp -r protos/released/v1 "$tmp/released"
check "buf lint protos" 0 "$buf" lint protos
check "buf breaking protos vs released v1" 0 "$buf" breaking protos --against "$tmp/released"
mkdir -p "$tmp/broken" && cp -r protos/. "$tmp/broken/" && rm -rf "$tmp/broken/released"
sed -i 's/^  bytes body = 1;/  bytes body = 11;/' "$tmp/broken/hookguard/v1/hookguard.proto"
grep -q 'bytes body = 11;' "$tmp/broken/hookguard/v1/hookguard.proto" || { echo "self-check edit failed"; exit 1; }
check "buf breaking rejects a renumbered field (self-check)" fail "$buf" breaking "$tmp/broken" --against "$tmp/released"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
