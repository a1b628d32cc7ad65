#!/usr/bin/env bash
# Unit tests of every client package, no hookguard-server needed (fake
# in-process servers), plus the drift checks of generated or copied files:
#   Python  pytest client/python/tests   (incl. regen.sh --check of the stubs)
#   Node    node --test + tsc on the declarations (incl. bundled proto == protos/)
#   Go      go vet, go test, regen.sh --check of the checked-in stubs
#   Java    mvn -o test (surefire, in-process gRPC)
#   vectors make_vectors.py --check
#   versions tests/packaging/check_versions.py (every package = CMakeLists.txt's)
# The C++ client's unit test (webhook_guard_test) is registered with ctest
# (label unit) and runs with the C++ build. Last line: "N passed, M failed"
# (steps, not cases).
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
passed=0 failed=0
step() {  # step NAME CMD...
  local name="$1"; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}
step "python client" .venv/bin/python -m pytest -q -p no:cacheprovider client/python/tests
step "node client" bash -c 'cd client/node && node --test test/ && node_modules/.bin/tsc -p test/tsconfig.json'
step "go client" bash -c 'cd client/go && go vet ./... && go test -count=1 ./... && ./regen.sh --check'
step "go test modules vet" bash -c 'cd tests/contract/go && go vet ./... && cd ../../middleware/go && go vet ./...'
step "java client" bash -c 'cd client/java && mvn -q -o -B test'
step "contract vectors up to date" python3 tests/contract/make_vectors.py --check
step "the docs' snippets match the tests" python3 tests/contract/check_docs.py
step "the docs' relative links resolve" python3 tests/contract/check_links.py
step "package versions match the release" python3 tests/packaging/check_versions.py
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
