#!/usr/bin/env bash
# Checks the runtime image's package list without Docker: builds a Debian 12
# root filesystem from exactly scripts/image-runtime-packages.txt with
# mmdebstrap (as the Dockerfile's runtime stage installs it), copies the two
# binaries in, and runs them inside `chroot` as the image's non-root UID 10001,
# on a read-only root with a tmpfs /tmp (as the chart runs them):
#   - every listed package is installed;
#   - `ldd` finds every shared library of hookguard-server and hookguard;
#   - `hookguard-server --help` and `hookguard --help` run;
#   - hookguard-server serves on a SQLite database inside the chroot,
#     `hookguard health` reports SERVING, /metrics answers, and SIGTERM ends
#     it with exit status 0 within the drain bound.
#
# Usage: tests/image/test_runtime_rootfs.sh [SERVER_BINARY CLI_BINARY]
#   Binaries default to $HOOKGUARD_BUILD_DIR (default build/)
#   /server/service/hookguard-server and /client/cli/hookguard.
# Env:
#   HOOKGUARD_SKIP_IMAGE_TEST=1  the only way to skip (prints that it skipped).
#   HOOKGUARD_IMAGE_CACHE        rootfs tarball cache dir (default ~/.cache/hookguard);
#                                tarballs are keyed by the package list's hash.
# Needs root (chroot, mount), mmdebstrap (scripts/setup.sh) and, the first
# time for a package list, access to Debian's mirror. Prints `N passed, M failed`.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PKG_FILE="$REPO/scripts/image-runtime-packages.txt"
SUITE=bookworm
UID_GID=10001:10001

if [ "${HOOKGUARD_SKIP_IMAGE_TEST:-0}" = 1 ]; then
  echo "image test: SKIPPED because HOOKGUARD_SKIP_IMAGE_TEST=1: no rootfs built, nothing checked"
  echo "0 passed, 0 failed (skipped)"
  exit 0
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
step() { echo "==> $*"; }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# ------------------------------------------------------------- prerequisites
BUILD_DIR="${HOOKGUARD_BUILD_DIR:-$REPO/build}"
SERVER_BIN="${1:-$BUILD_DIR/server/service/hookguard-server}"
CLI_BIN="${2:-$BUILD_DIR/client/cli/hookguard}"

prereq_ok=1
if [ "$(id -u)" != 0 ]; then
  fail "prerequisite: root is needed for chroot and mount (set HOOKGUARD_SKIP_IMAGE_TEST=1 to skip explicitly)"
  prereq_ok=0
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  fail "prerequisite: mmdebstrap not found (scripts/setup.sh installs it)"
  prereq_ok=0
fi
for b in "$SERVER_BIN" "$CLI_BIN"; do
  if [ ! -f "$b" ] || [ ! -x "$b" ]; then
    fail "prerequisite: binary $b not found: build first (cmake --build build) or pass SERVER CLI paths"
    prereq_ok=0
  fi
done
if [ ! -r "$PKG_FILE" ]; then
  fail "prerequisite: $PKG_FILE missing"
  prereq_ok=0
fi
[ "$prereq_ok" = 1 ] || finish

mapfile -t PKGS < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$PKG_FILE" | grep -v '^$')
ARCH="$(dpkg --print-architecture)"
step "runtime packages (${#PKGS[@]}, from scripts/image-runtime-packages.txt): ${PKGS[*]}"

# ------------------------------------------------------------- rootfs (cached)
CACHE_DIR="${HOOKGUARD_IMAGE_CACHE:-$HOME/.cache/hookguard}"
KEY="$(printf '%s\n' "suite=$SUITE" "arch=$ARCH" "variant=apt" "${PKGS[@]}" | sha256sum | cut -c1-16)"
TARBALL="$CACHE_DIR/rootfs-$SUITE-$ARCH-$KEY.tar"
mkdir -p "$CACHE_DIR"
if [ -s "$TARBALL" ]; then
  step "using cached rootfs $TARBALL (same package list hash $KEY)"
else
  step "building rootfs: mmdebstrap --variant=apt --include=<list> $SUITE (cache miss, key $KEY)"
  start=$(date +%s)
  if mmdebstrap --quiet --variant=apt --format=tar --include="$(IFS=,; echo "${PKGS[*]}")" \
       "$SUITE" "$TARBALL.partial" >"$CACHE_DIR/mmdebstrap-$KEY.log" 2>&1; then
    mv "$TARBALL.partial" "$TARBALL"
    step "rootfs built in $(( $(date +%s) - start )) s: $TARBALL"
  else
    rm -f "$TARBALL.partial"
    tail -20 "$CACHE_DIR/mmdebstrap-$KEY.log"
    fail "mmdebstrap could not build the rootfs (a package name wrong, or no mirror access): see $CACHE_DIR/mmdebstrap-$KEY.log"
    finish
  fi
fi
pass "rootfs from the package list ($(du -h "$TARBALL" | cut -f1))"

# ------------------------------------------------------------- unpack, mount
ROOT="$(mktemp -d "${TMPDIR:-/tmp}/hookguard-rootfs.XXXXXX")"
MOUNTS=()
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null; fi
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" 2>/dev/null; done
  rm -rf "$ROOT"
}
trap cleanup EXIT

if ! tar -C "$ROOT" -xf "$TARBALL"; then
  fail "could not unpack $TARBALL (delete it to rebuild)"
  finish
fi
# The image's user (Dockerfile: hookguard, UID/GID 10001) and the binaries.
echo "hookguard:x:10001:10001::/nonexistent:/usr/sbin/nologin" >>"$ROOT/etc/passwd"
echo "hookguard:x:10001:" >>"$ROOT/etc/group"
install -m 0755 "$SERVER_BIN" "$ROOT/usr/local/bin/hookguard-server"
install -m 0755 "$CLI_BIN" "$ROOT/usr/local/bin/hookguard"
step "unpacked to $ROOT; installed $SERVER_BIN and $CLI_BIN into /usr/local/bin"

# Mount points of the chart's volumes (ConfigMap, webhook and TLS Secrets);
# the kubelet creates these in a real pod.
CHART_MOUNTS=(/etc/hookguard /run/secrets/hookguard /run/secrets/hookguard-tls)
for m in "${CHART_MOUNTS[@]}"; do mkdir -p "$ROOT$m"; done

# Read-only root with a tmpfs /tmp, as readOnlyRootFilesystem + emptyDir /tmp.
if mount --bind "$ROOT" "$ROOT" 2>/dev/null; then
  MOUNTS+=("$ROOT")
  if mount -o remount,bind,ro "$ROOT" 2>/dev/null; then
    step "root filesystem mounted read-only"
    RO_ROOT=1
  else
    step "NOTE: could not remount the root read-only here; running on a writable root"
    RO_ROOT=0
  fi
else
  step "NOTE: bind mounts not permitted here; running on a writable root"
  RO_ROOT=0
fi
if mount -t tmpfs -o size=64m,mode=1777 tmpfs "$ROOT/tmp" 2>/dev/null; then MOUNTS+=("$ROOT/tmp"); fi
if mount -t proc proc "$ROOT/proc" 2>/dev/null; then MOUNTS+=("$ROOT/proc"); fi
if [ "$RO_ROOT" = 1 ]; then
  if chroot --userspec=$UID_GID "$ROOT" /bin/sh -c 'touch /usr/local/bin/x' 2>/dev/null; then
    fail "root filesystem is writable although mounted read-only"
  else
    pass "root filesystem is read-only for UID 10001, /tmp writable"
  fi
fi

as_user() { chroot --userspec=$UID_GID "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent "$@"; }

# ------------------------------------------------------------- packages, ldd
missing_pkgs=()
for p in "${PKGS[@]}"; do
  chroot "$ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_pkgs+=("$p")
done
if [ ${#missing_pkgs[@]} -eq 0 ]; then pass "all ${#PKGS[@]} listed packages installed"; else fail "not installed: ${missing_pkgs[*]}"; fi

used_pkgs=""
for bin in hookguard-server hookguard; do
  out="$(chroot "$ROOT" ldd "/usr/local/bin/$bin" 2>&1)"
  if echo "$out" | grep -q "not found"; then
    fail "ldd $bin: missing libraries: $(echo "$out" | grep 'not found' | awk '{print $1}' | tr '\n' ' ')"
  elif ! echo "$out" | grep -q '=>'; then
    fail "ldd $bin: unexpected output: $out"
  else
    pass "ldd $bin: all $(echo "$out" | grep -c '=>') shared libraries found"
  fi
  # Which packages the libraries come from (to spot unneeded list entries).
  for lib in $(echo "$out" | awk '/=> \//{print $3}'); do
    real="$(chroot "$ROOT" readlink -f "$lib")"
    owner="$(chroot "$ROOT" dpkg -S "$lib" "$real" "${real#/usr}" "/usr${real#/usr}" 2>/dev/null | head -1 | cut -d: -f1)"
    used_pkgs+=" $owner"
  done
done
unused=()
for p in "${PKGS[@]}"; do
  case "$p" in ca-certificates) continue ;; esac
  echo "$used_pkgs" | tr ' ' '\n' | grep -qx "$p" || unused+=("$p")
done
if [ ${#unused[@]} -gt 0 ]; then
  step "NOTE: listed but not linked by either binary (drop them unless loaded at run time): ${unused[*]}"
fi

# ------------------------------------------------------------- run as UID 10001
help_out="$(as_user hookguard-server --help 2>&1)"
help_rc=$?
if echo "$help_out" | grep -q "error while loading shared libraries"; then
  fail "hookguard-server --help: $(echo "$help_out" | head -2)"
elif echo "$help_out" | grep -q -- "listen"; then
  pass "hookguard-server --help runs as UID 10001 (exit $help_rc, usage mentions --listen)"
else
  fail "hookguard-server --help (exit $help_rc) printed no usage: $(echo "$help_out" | head -5)"
fi
cli_out="$(as_user hookguard --help 2>&1)"
cli_rc=$?
if echo "$cli_out" | grep -q "error while loading shared libraries" || [ $cli_rc -ge 126 ]; then
  fail "hookguard --help (exit $cli_rc): $(echo "$cli_out" | head -2)"
else
  pass "hookguard --help runs as UID 10001 (exit $cli_rc)"
fi

# ------------------------------------------------------------- serve + health
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if ! command -v sqlite3 >/dev/null 2>&1; then
  fail "serve: sqlite3 not found on the host to seed the database (scripts/setup.sh installs it)"
  finish
fi
DATA=/tmp/hookguard-test
mkdir -p "$ROOT$DATA"
cat "$REPO/tests/fixtures/django_schema.sql" "$REPO/tests/fixtures/consistent.sql" | sqlite3 "$ROOT$DATA/app.db"
chown -R $UID_GID "$ROOT$DATA"
PORT="$(free_port)"
MPORT="$(free_port)"
DRAIN=5
step "starting hookguard-server in the chroot as UID 10001 on 127.0.0.1:$PORT (sqlite3://db=$DATA/app.db, metrics :$MPORT)"
chroot --userspec=$UID_GID "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent \
  VAPI_WEBHOOK_SECRET=image-test-secret \
  hookguard-server --listen=127.0.0.1:"$PORT" --db=sqlite3://db=$DATA/app.db \
  --metrics_listen=127.0.0.1:"$MPORT" --drain_seconds=$DRAIN >"$ROOT$DATA/server.log" 2>&1 &
SERVER_PID=$!

healthy=0
for _ in $(seq 1 40); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  if as_user hookguard health --target=127.0.0.1:"$PORT" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.5
done
if [ "$healthy" = 1 ]; then
  pass "hookguard health --target=127.0.0.1:$PORT: SERVING (server in the chroot, as UID 10001)"
  if as_user hookguard health --target=127.0.0.1:"$PORT" --service=hookguard.v1.WebhookAuthService >/dev/null 2>&1; then
    pass "hookguard health --service=hookguard.v1.WebhookAuthService: SERVING"
  else
    fail "hookguard health --service=hookguard.v1.WebhookAuthService: not SERVING"
  fi
  if command -v curl >/dev/null 2>&1; then
    if curl -fsS --max-time 5 "http://127.0.0.1:$MPORT/metrics" -o "$ROOT$DATA/metrics.txt"; then
      pass "GET /metrics on :$MPORT answers ($(wc -l <"$ROOT$DATA/metrics.txt") lines)"
    else
      fail "GET /metrics on :$MPORT failed"
    fi
  fi
  kill -TERM "$SERVER_PID"
  start=$(date +%s)
  wait "$SERVER_PID"
  rc=$?
  took=$(( $(date +%s) - start ))
  SERVER_PID=""
  if [ "$rc" = 0 ] && [ "$took" -le $((DRAIN + 5)) ]; then
    pass "SIGTERM: hookguard-server exited 0 in ${took} s (drain bound ${DRAIN} s)"
  else
    fail "SIGTERM: hookguard-server exited $rc after ${took} s (drain bound ${DRAIN} s)"
    tail -20 "$ROOT$DATA/server.log"
  fi
else
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "hookguard health never reported SERVING within 20 s"
  else
    wait "$SERVER_PID"
    fail "hookguard-server exited early with status $?"
  fi
  echo "--- server log (last 20 lines)"
  tail -20 "$ROOT$DATA/server.log"
fi

# ------------------------------------------------------------- as the chart runs it
# Render the chart (ci/production-values.yaml, ci/tls-values.yaml), and run the
# server with the Deployment's exact args, config file, secret files and env
# (secret values random), then run its exact readiness probe. This proves the
# server accepts every flag the chart passes and the config JSON it renders,
# and, with TLS, that the exec probe works under mTLS.
HELM_BIN="${HELM:-$REPO/.tools/bin/helm}"
[ -x "$HELM_BIN" ] || HELM_BIN="$(command -v helm || true)"
CASE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hookguard-chart-case.XXXXXX")"
random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

make_tls() {  # make_tls DIR SERVER_NAME CERT KEY CA: a CA and a server cert usable as a client cert
  local dir=$1 name=$2 cert=$3 key=$4 ca=$5 work="$CASE_DIR/pki"
  mkdir -p "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=hookguard-test-ca -keyout "$work/ca.key" -out "$dir/$ca" 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -keyout "$dir/$key" -out "$work/server.csr" 2>/dev/null &&
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$name" >"$work/ext" &&
  openssl x509 -req -in "$work/server.csr" -CA "$dir/$ca" -CAkey "$work/ca.key" -CAcreateserial \
    -days 1 -extfile "$work/ext" -out "$dir/$cert" 2>/dev/null
}

run_chart_case() {
  local name=$1 out="$CASE_DIR/$1" m
  local case_mounts=()
  if ! /usr/bin/python3 "$REPO/tests/image/render_pod.py" "$HELM_BIN" "$REPO/helm/hookguard" \
       "$REPO/helm/hookguard/ci/$name-values.yaml" "$out"; then
    fail "chart $name: could not render the Deployment"
    return
  fi
  for m in "${CHART_MOUNTS[@]}"; do
    mount -t tmpfs -o size=1m,mode=0755 tmpfs "$ROOT$m" && case_mounts+=("$ROOT$m")
  done
  [ -f "$out/config.json" ] && install -m 0444 "$out/config.json" "$ROOT/etc/hookguard/config.json"
  local f
  while read -r f; do
    [ -n "$f" ] || continue
    random_secret >"$ROOT$f"
    chgrp 10001 "$ROOT$f"; chmod 0440 "$ROOT$f"   # the chart's defaultMode 0440 + fsGroup
  done <"$out/secret_files"
  local env=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent HOOKGUARD_DB="sqlite3://db=$DATA/app.db")
  while read -r f; do [ -n "$f" ] && env+=("$f=$(random_secret)"); done <"$out/env_secrets"
  local tls_ok=1
  if [ -f "$out/tls" ]; then
    mapfile -t T <"$out/tls"   # mountPath certKey keyKey caKey serverName
    if make_tls "$ROOT${T[0]}" "${T[4]}" "${T[1]}" "${T[2]}" "${T[3]}"; then
      chgrp 10001 "$ROOT${T[0]}"/*; chmod 0440 "$ROOT${T[0]}"/*
    else
      fail "chart $name: openssl could not make the test certificates"; tls_ok=0
    fi
  fi
  local port mport
  port="$(free_port)"; mport="$(free_port)"
  local args=()
  while read -r f; do
    case "$f" in
      --listen=*) args+=("--listen=127.0.0.1:$port") ;;
      --metrics_listen=*) args+=("--metrics_listen=127.0.0.1:$mport") ;;
      *) args+=("$f") ;;
    esac
  done <"$out/args"
  local probe=()
  mapfile -t probe <"$out/readiness"
  if [ "${probe[0]}" = grpc ]; then
    probe=(hookguard health "--target=127.0.0.1:$port" "--service=${probe[1]}")
  else
    probe=("${probe[@]/--target=127.0.0.1:*/--target=127.0.0.1:$port}")
  fi
  step "chart $name: hookguard-server ${args[*]} (env: ${env[*]//=*/=...}; readiness: ${probe[*]})"
  if [ "$tls_ok" = 1 ]; then
    chroot --userspec=$UID_GID "$ROOT" /usr/bin/env -i "${env[@]}" hookguard-server "${args[@]}" \
      >"$out/server.log" 2>&1 &
    SERVER_PID=$!
    local ready=0
    for _ in $(seq 1 40); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      if as_user "${probe[@]}" >/dev/null 2>&1; then ready=1; break; fi
      sleep 0.5
    done
    if [ "$ready" = 1 ]; then
      pass "chart $name: server accepts the chart's flags and config; its readiness probe reports SERVING"
      if [ -f "$out/tls" ]; then
        if as_user hookguard health "--target=127.0.0.1:$port" >/dev/null 2>&1; then
          fail "chart $name: a plaintext client got an answer from the TLS server"
        else
          pass "chart $name: a plaintext client is refused"
        fi
        if grep -q -- '--client_ca=' "$out/args"; then
          if as_user hookguard health "--target=127.0.0.1:$port" "--tls_ca=${T[0]}/${T[3]}" \
               "--tls_server_name=${T[4]}" >/dev/null 2>&1; then
            fail "chart $name: a client without a certificate got an answer under mTLS"
          else
            pass "chart $name: a client without a certificate is refused (mTLS)"
          fi
        fi
      fi
      kill -TERM "$SERVER_PID"
      wait "$SERVER_PID"
      local rc=$?
      SERVER_PID=""
      if [ "$rc" = 0 ]; then pass "chart $name: SIGTERM exit 0"; else fail "chart $name: SIGTERM exit $rc"; fi
    else
      if kill -0 "$SERVER_PID" 2>/dev/null; then
        fail "chart $name: readiness probe never reported SERVING within 20 s"
        kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
      else
        wait "$SERVER_PID"
        fail "chart $name: hookguard-server exited with status $? on the chart's args"
      fi
      SERVER_PID=""
      echo "--- server log (last 20 lines)"; tail -20 "$out/server.log"
    fi
  fi
  for ((i = ${#case_mounts[@]} - 1; i >= 0; i--)); do umount "${case_mounts[$i]}"; done
}

if [ -z "$HELM_BIN" ] || [ ! -x "$HELM_BIN" ]; then
  fail "chart runs: helm not found (scripts/setup.sh installs .tools/bin/helm; or set HELM)"
elif ! command -v openssl >/dev/null 2>&1; then
  fail "chart runs: openssl not found (scripts/setup.sh installs it)"
else
  run_chart_case production
  run_chart_case tls
fi
rm -rf "$CASE_DIR"

finish
