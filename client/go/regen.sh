#!/usr/bin/env bash
# Regenerates the checked-in Go stubs (hookguardv1/) from the contract with
# protoc (Debian's) and protoc-gen-go / protoc-gen-go-grpc from .tools/bin
# (installed by scripts/setup.sh). `regen.sh --check` fails on drift.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PATH="$repo/.tools/bin:$PATH"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
protoc -I "$repo/protos" \
  --go_out="$out" --go_opt=module=github.com/hookguard/hookguard/client/go \
  --go-grpc_out="$out" --go-grpc_opt=module=github.com/hookguard/hookguard/client/go \
  "$repo/protos/hookguard/v1/hookguard.proto"
if [ "${1:-}" = "--check" ]; then
  diff -r "$out/hookguardv1" "$here/hookguardv1" && echo "go stubs up to date"
else
  rm -rf "$here/hookguardv1" && cp -r "$out/hookguardv1" "$here/hookguardv1" && echo "wrote $here/hookguardv1"
fi
