#!/usr/bin/env bash
# The Express example end to end: creates a SQLite database with the tables
# hookguard's default ownership queries read (tests/fixtures: two tenants),
# starts hookguard-server on it and the app, and sends signed VAPI deliveries
# through the app with `hookguard send`:
#   1. shadow mode + fail-open: everything reaches the handler, the attack is
#      captured for `hookguard explain --capture=FILE`;
#   2. enforce: the attack is denied 403 (and captured);
#   3. hookguard down: fail-open runs the handler with no owner.
# Exits non-zero on any wrong answer. Usage: examples/express/run.sh
source "$(dirname "$0")/../lib.sh"
APP="$REPO/examples/express"

DB="$WORK/app.sqlite3"
cat "$REPO/tests/fixtures/django_schema.sql" "$REPO/tests/fixtures/consistent.sql" | sqlite3 "$DB"
export HOOKGUARD_CAPTURE_DIR="$WORK/captures"

# `require('@hookguard/client')` resolves to this repository's client/node,
# express to its devDependency.
mkdir -p "$WORK/node_modules/@hookguard"
ln -s "$REPO/client/node" "$WORK/node_modules/@hookguard/client"
export NODE_PATH="$WORK/node_modules:$REPO/client/node/node_modules"

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT/webhooks/vapi"
start_app() {
  PORT="$PORT" node "$APP/app.js" >>"$WORK/express.log" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  wait_http "http://127.0.0.1:$PORT/"  # not the webhook path: a probe is no delivery
}
stop_app() { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; }

CONFIG="$APP/hookguard.json"
[ "$HAVE_SEND" = 1 ] || CONFIG="$(config_for shadow "$APP/hookguard.json")"  # TEMPORARY FALLBACK

echo "--- 1. shadow mode + fail-open: nothing is blocked, would-be denies are captured"
start_hookguard "$(config_for shadow "$APP/hookguard.json")" "$DB"
start_app
expect "alice's report"      200 '"owner":"1","type":"end-of-call-report","error":null,"shadowDeny":false' \
  "$CONFIG" vapi "$WORK/alice.json" "$URL"
expect "attack (shadow)"     200 '"owner":"",.*"shadowDeny":true' "$CONFIG" vapi "$WORK/attack.json" "$URL"
expect_captures "$HOOKGUARD_CAPTURE_DIR" 1

echo "--- 2. enforce: the attack is denied"
stop_app
stop_hookguard
start_hookguard "$(config_for enforce "$APP/hookguard.json")" "$DB"
start_app
expect "alice's report"      200 '"owner":"1"' "$CONFIG" vapi "$WORK/alice.json" "$URL"
expect "attack (enforced)"   403 'DENY_REASON_ASSISTANT_MISMATCH' "$CONFIG" vapi "$WORK/attack.json" "$URL"
expect_captures "$HOOKGUARD_CAPTURE_DIR" 2

echo "--- 3. hookguard down: fail-open lets the webhook through, with no owner"
stop_hookguard
expect "alice's report (no hookguard)" 200 '"owner":"",.*"error":"UNAVAILABLE"' \
  "$CONFIG" vapi "$WORK/alice.json" "$URL"
if grep -q "fail-open" "$WORK/express.log"; then echo "ok   the app logged the fail-open"; else
  echo "FAIL no fail-open warning in the app's log"; FAILED=$((FAILED + 1)); fi

finish
