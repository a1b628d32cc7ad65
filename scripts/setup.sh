#!/usr/bin/env bash
# Installs everything hookguard needs on a fresh Debian 12 machine of the
# polyglot kind. Idempotent: a second run only checks. Run as root (CI is root).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# C++ toolchain and libraries the server links against, plus the servers and
# tools the tests start (PostgreSQL, h2load) and the fuzz/sanitizer compiler.
APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsoci-dev libabsl-dev libssl-dev libboost-dev libpq-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev libcpp-httplib-dev
  postgresql sqlite3 nghttp2-client openssl curl unzip jq python3-yaml
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: Debian packages ok"
