# Sourced by examples/*/run.sh: starts hookguard-server on a SQLite database,
# sends signed deliveries through the example app with `hookguard send`, and
# checks each answer. Every process started here is stopped on exit.
#
# Needs what scripts/setup.sh installs (.venv, client/node/node_modules) and a
# build (scripts/build.sh; HOOKGUARD_BUILD_DIR, default build/).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOOKGUARD_BUILD_DIR:-$REPO/build}"
HG_SERVER="$BUILD/server/service/hookguard-server"
HG="$BUILD/tools/hookguard/hookguard"
PY="$REPO/.venv/bin/python"
for f in "$HG_SERVER" "$HG" "$PY"; do
  [ -x "$f" ] || { echo "example: $f is missing (run scripts/setup.sh and scripts/build.sh)" >&2; exit 2; }
done

WORK="$(mktemp -d)"
FAILED=0
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${KEEP_WORK:-}" ]; then echo "example: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The platform's webhook secret, in the environment variable the example's
# hookguard.json names: hookguard-server and `hookguard send` read it there.
export VAPI_WEBHOOK_SECRET="example-only-secret-$RANDOM$RANDOM"

# config_for MODE SRC: a copy of hookguard config SRC with every profile's
# mode set to MODE (shadow or enforce); prints its path.
config_for() {
  local mode="$1" src="$2" out="$WORK/hookguard-$1.json"
  "$PY" - "$mode" "$src" "$out" <<'PYEOF'
import json, sys
mode, src, out = sys.argv[1:]
config = json.load(open(src))
for p in config["profiles"]:
    p["mode"] = mode
json.dump(config, open(out, "w"), indent=1)
PYEOF
  echo "$out"
}

# start_hookguard CONFIG DB_FILE: starts hookguard-server, waits until it
# serves; sets HOOKGUARD_TARGET and HG_PID.
start_hookguard() {
  local port
  port="$(free_port)"
  export HOOKGUARD_TARGET="127.0.0.1:$port"
  "$HG_SERVER" --listen="$HOOKGUARD_TARGET" --db="sqlite3://db=$2" --config="$1" \
    >"$WORK/hookguard-$port.log" 2>&1 &
  HG_PID=$!
  PIDS+=("$HG_PID")
  for _ in $(seq 100); do
    if "$HG" health --target="$HOOKGUARD_TARGET" >/dev/null 2>&1; then return 0; fi
    kill -0 "$HG_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "example: hookguard-server did not start:" >&2
  cat "$WORK/hookguard-$port.log" >&2
  exit 1
}

stop_hookguard() {
  kill "$HG_PID" 2>/dev/null || true
  wait "$HG_PID" 2>/dev/null || true
}

# wait_http URL: waits until something answers HTTP at URL (use a path that
# is no webhook: a probe would be a delivery of an empty body).
wait_http() {
  for _ in $(seq 150); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "example: nothing answers at $1" >&2
  exit 1
}

# send CONFIG PROFILE BODY_FILE URL: POSTs the delivery the platform would
# send (signed for PROFILE) to URL; prints the app's status on the first line
# and its body after.
send() {
  local out
  out="$("$HG" send --config="$1" --profile="$2" --body="$3" --url="$4" 2>&1)" || true
  local status
  status="$(printf '%s\n' "$out" | grep -oE '^(HTTP[/0-9.]* |[Ss]tatus:? *)?[1-5][0-9][0-9]\b' | grep -oE '[1-5][0-9][0-9]$' | head -1)"
  printf '%s\n%s\n' "${status:-none}" "$out"
}

# expect NAME WANT_STATUS WANT_BODY_REGEX CONFIG PROFILE BODY_FILE URL
expect() {
  local name="$1" want="$2" pattern="$3" answer status
  shift 3
  answer="$(send "$@")"
  status="$(printf '%s\n' "$answer" | head -1)"
  if [ "$status" = "$want" ] && printf '%s\n' "$answer" | tail -n +2 | grep -qE "$pattern"; then
    echo "ok   $name: $status"
  else
    echo "FAIL $name: want $want and /$pattern/, got:"
    printf '%s\n' "$answer" | tail -n +2 | sed 's/^/       /'
    FAILED=$((FAILED + 1))
  fi
}

# expect_captures DIR N: exactly N capture files in DIR, each 0600 and in
# the hookguard-capture/v1 format.
expect_captures() {
  local n
  n="$(find "$1" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l)"
  if [ "$n" = "$2" ] && "$PY" - "$1" <<'PYEOF'
import json, os, stat, sys
d = sys.argv[1]
for f in os.listdir(d):
    p = os.path.join(d, f)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    assert json.load(open(p))["format"] == "hookguard-capture/v1", p
PYEOF
  then
    echo "ok   $n capture file(s) in the capture directory"
  else
    echo "FAIL capture directory: want $2 files (0600, hookguard-capture/v1), got $n"
    FAILED=$((FAILED + 1))
  fi
}

# run_phases: the three phases every example runs, on the app the caller's
# start_app / stop_app start and stop (APP_LOG its log), with hookguard's
# config $APP/hookguard.json and the database DB; URL is the webhook's. The
# caller sets the patterns of the app's answers: WANT_ALICE (alice's report
# allowed, owner 1), WANT_ATTACK_SHADOW (the attack let through, no owner, a
# would-be deny), WANT_FAILED_OPEN (no owner, error UNAVAILABLE). After phase
# 2 it calls after_enforce (if defined) for app-specific checks.
run_phases() {
  local config="$APP/hookguard.json"

  echo "--- 1. shadow mode + fail-open: nothing is blocked, would-be denies are captured"
  start_hookguard "$(config_for shadow "$APP/hookguard.json")" "$DB"
  start_app
  expect "alice's report"     200 "$WANT_ALICE" "$config" vapi "$WORK/alice.json" "$URL"
  expect "attack (shadow)"    200 "$WANT_ATTACK_SHADOW" "$config" vapi "$WORK/attack.json" "$URL"
  expect_captures "$HOOKGUARD_CAPTURE_DIR" 1

  echo "--- 2. enforce: the attack is denied"
  stop_app
  stop_hookguard
  start_hookguard "$(config_for enforce "$APP/hookguard.json")" "$DB"
  start_app
  expect "alice's report"     200 "$WANT_ALICE" "$config" vapi "$WORK/alice.json" "$URL"
  expect "attack (enforced)"  403 'DENY_REASON_ASSISTANT_MISMATCH' "$config" vapi "$WORK/attack.json" "$URL"
  expect_captures "$HOOKGUARD_CAPTURE_DIR" 2
  explain_capture "$(config_for enforce "$APP/hookguard.json")"
  if declare -F after_enforce >/dev/null; then after_enforce; fi

  echo "--- 3. hookguard down: fail-open lets the webhook through, with no owner"
  stop_hookguard
  expect "alice's report (no hookguard)" 200 "$WANT_FAILED_OPEN" "$config" vapi "$WORK/alice.json" "$URL"
  if grep -q "fail-open" "$APP_LOG"; then echo "ok   the app logged the fail-open"; else
    echo "FAIL no fail-open warning in the app's log"; FAILED=$((FAILED + 1)); fi
  stop_app
}

# explain_capture CONFIG: replays the newest capture file with `hookguard
# explain --capture` (what an operator does with a would-be deny): the attack
# must be explained as the cross-tenant deny it is.
explain_capture() {
  local file out
  file="$(find "$HOOKGUARD_CAPTURE_DIR" -name '*.json' | sort | tail -1)"
  out="$("$HG" explain --capture="$file" --db="sqlite3://db=$DB" --config="$1" 2>&1)" || true
  if printf '%s\n' "$out" | grep -qE '^reason +DENY_REASON_ASSISTANT_MISMATCH'; then
    echo "ok   hookguard explain --capture: DENY_REASON_ASSISTANT_MISMATCH"
  else
    echo "FAIL hookguard explain --capture=$file:"
    printf '%s\n' "$out" | sed 's/^/       /'
    FAILED=$((FAILED + 1))
  fi
}

finish() {
  if [ "$FAILED" -gt 0 ]; then
    echo "example: $FAILED wrong answer(s)"
    exit 1
  fi
  echo "example: every answer as expected"
}

# The deliveries: end-of-call reports of the tenants' calls. Alice (user 1)
# owns call_alice_1 and asst_alice; bob (user 2) owns call_bob_1. The attack
# is bob's call sent with alice's assistant (threat row 1 of
# docs/explanation/security.md).
cat >"$WORK/alice.json" <<'JSON'
{"message":{"type":"end-of-call-report","call":{"id":"call_alice_1","assistantId":"asst_alice","phoneNumberId":"phone_alice"},"summary":"ok"}}
JSON
cat >"$WORK/attack.json" <<'JSON'
{"message":{"type":"end-of-call-report","call":{"id":"call_bob_1","assistantId":"asst_alice"},"summary":"cross-tenant"}}
JSON
