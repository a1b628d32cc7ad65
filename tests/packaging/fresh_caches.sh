#!/usr/bin/env bash
# The fresh-machine check of the client packages: a clean clone of this
# repository, set up by scripts/setup.sh alone with every per-user package
# cache new and empty (home, Go module and build caches, npm, pip, Maven),
# then the packaging tests (tests/packaging) run there, offline where they
# say so. A module, wheel, npm package or Maven artifact that the tests need
# and setup.sh never fetched fails here, as it would on a new machine, even
# when this machine's own caches happen to hold it.
#
# Debian's packages are the one thing not emptied (they are system-wide);
# scripts/setup.sh installs them from one explicit list.
#
#   tests/packaging/fresh_caches.sh [BUILD_DIR]
# BUILD_DIR (default: $HOOKGUARD_BUILD_DIR, else ./build) holds the built
# server the live tests start; the clean clone builds nothing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$(cd "${1:-${HOOKGUARD_BUILD_DIR:-$repo/build}}" && pwd)"

root="$(mktemp -d /tmp/hookguard-fresh.XXXXXX)"
cleanup() {
  # The Go module cache is written read-only.
  chmod -R u+w "$root" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT

mkdir -p "$root/home"
export HOME="$root/home"
export XDG_CACHE_HOME="$root/home/.cache"
export GOPATH="$root/go" GOMODCACHE="$root/go/pkg/mod" GOCACHE="$root/go-build"
export npm_config_cache="$root/npm"
export PIP_CACHE_DIR="$root/pip"
# Maven takes its home from the password database, not $HOME: name the local
# repository explicitly, for setup.sh's own checks (MAVEN_REPO_LOCAL) and for
# every mvn it and the tests run (MAVEN_OPTS).
export MAVEN_REPO_LOCAL="$root/m2"
export MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.repo.local=$root/m2"
unset GOFLAGS GOPROXY GONOSUMDB GOPRIVATE
# A user's shell does not set it: let Python write __pycache__ as it would there.
unset PYTHONDONTWRITEBYTECODE

git clone -q "$repo" "$root/repo"
cd "$root/repo"
echo "fresh_caches: scripts/setup.sh in a clean clone with empty caches ($root)"
start=$(date +%s)
bash scripts/setup.sh
echo "fresh_caches: setup took $(($(date +%s) - start)) s"

HOOKGUARD_BUILD_DIR="$build_dir" .venv/bin/python -m pytest -q -p no:cacheprovider tests/packaging
