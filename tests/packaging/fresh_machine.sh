#!/usr/bin/env bash
# The fully fresh check, by hand (about 40 minutes, 2 GB of disk, root, not in CI):
# runs the README's two commands, scripts/demo.sh and then `CI=true bash .ci/run`,
# in a clean clone inside a podman container whose root file system is a new
# Debian 12 with only what a development machine of ours comes with (compilers,
# cmake, ninja, GoogleTest, PostgreSQL, Python with pytest, OpenJDK 17 with
# Maven; Go and Node.js copied from this machine, since Debian's are older).
# Everything else must come from scripts/setup.sh: Debian packages, helm, the
# Python venv, and the Go, npm and Maven caches, which start empty.
#
#   tests/packaging/fresh_machine.sh [--rebuild]     # logs in $OUT (default /tmp/hookguard-fresh)
#
# The base image is built once with mmdebstrap and kept as
# localhost/hookguard-fresh-machine:bookworm (--rebuild makes it again).
# The container gets a host directory as its podman store (the image test runs
# podman inside it, and overlay cannot stack on the container's own overlay),
# and trusts the CA certificates this machine trusts in
# /usr/local/share/ca-certificates (an egress proxy's, say).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-/tmp/hookguard-fresh}"
image=localhost/hookguard-fresh-machine:bookworm
for tool in podman mmdebstrap runc go node; do
  command -v "$tool" >/dev/null || { echo "fresh_machine: $tool not found (scripts/setup.sh installs podman, mmdebstrap and runc)" >&2; exit 2; }
done
# A previous failed run's leftovers would read as this run's.
rm -rf "$out/logs/left"
mkdir -p "$out/logs" "$out/store"
# Keep nested runs from inheriting this machine's podman settings.
printf '[containers]\ndefault_ulimits = []\n' > "$out/containers.conf"
export CONTAINERS_CONF="$out/containers.conf"

if [ "${1:-}" = "--rebuild" ] || ! podman image exists "$image"; then
  go_root="$(go env GOROOT)"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  base_packages=(
    build-essential make cmake ninja-build libgtest-dev pkg-config git ca-certificates
    curl wget unzip zip xz-utils zstd jq file less procps iproute2 lsof strace gdb valgrind sudo
    python3 python3-dev python3-pip python3-venv python3-pytest
    openjdk-17-jdk-headless maven postgresql postgresql-contrib sqlite3
  )
  echo "fresh_machine: building $image with mmdebstrap (Go from $go_root, npm from $npm_dir)"
  mmdebstrap --variant=apt --include="$(IFS=,; echo "${base_packages[*]}")" \
    --customize-hook="copy-in $go_root /usr/local" \
    --customize-hook="copy-in $(readlink -f "$(command -v node)") /usr/bin" \
    --customize-hook='mkdir -p "$1/usr/lib/node_modules"' \
    --customize-hook="copy-in $npm_dir /usr/lib/node_modules" \
    --customize-hook='ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"' \
    bookworm "$out/base.tar" > "$out/logs/mmdebstrap.log" 2>&1
  podman import --quiet "$out/base.tar" "$image" >/dev/null
  rm -f "$out/base.tar"
fi

cat > "$out/inside.sh" <<'EOF'
#!/bin/bash
set -u
export PATH="/usr/local/go/bin:$PATH"
if compgen -G '/hostca/*.crt' >/dev/null; then
  cp /hostca/*.crt /usr/local/share/ca-certificates/ && update-ca-certificates >/dev/null 2>&1
fi
export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
git clone -q /repo /root/hookguard && cd /root/hookguard
echo "fresh_machine: $(git log --oneline -1 | cut -c1-80)"
start=$(date +%s); bash scripts/demo.sh > /logs/demo.log 2>&1; demo=$?
echo "fresh_machine: scripts/demo.sh exit $demo in $(( $(date +%s) - start )) s (logs/demo.log)"
start=$(date +%s); CI=true bash .ci/run > /logs/test.log 2>&1; test=$?
echo "fresh_machine: CI=true bash .ci/run exit $test in $(( $(date +%s) - start )) s (logs/test.log)"
# What a failure leaves behind (ctest logs, fuzz reproducers) dies with the
# container: keep it next to the logs.
if [ "$test" != 0 ]; then
  mkdir -p /logs/left
  cp -r build/Testing/Temporary /logs/left/ctest 2>/dev/null
  cp -r build-asan/fuzz/artifacts /logs/left/fuzz-artifacts 2>/dev/null
  cp build-asan/fuzz/*.log /logs/left/ 2>/dev/null
fi
[ "$demo" = 0 ] && [ "$test" = 0 ]
EOF

hostca=/usr/local/share/ca-certificates
if [ ! -d "$hostca" ]; then hostca="$out/no-ca"; mkdir -p "$hostca"; fi
podman run --rm --runtime runc --privileged --network host \
  -v "$repo:/repo:ro" -v "$out/logs:/logs" -v "$out/inside.sh:/inside.sh:ro" \
  -v "$hostca:/hostca:ro" -v "$out/store:/var/lib/containers" \
  "$image" bash /inside.sh
