#!/usr/bin/env bash
# The Express example end to end: creates a SQLite database with the tables
# hookguard's default ownership queries read (tests/fixtures: two tenants),
# starts hookguard-server on it and the app, and sends signed VAPI deliveries
# through the app with `hookguard send` (examples/lib.sh):
#   1. shadow mode + fail-open: everything reaches the handler, the attack is
#      captured for `hookguard explain --capture=FILE`;
#   2. enforce: the attack is denied 403 (and captured);
#   3. hookguard down: fail-open runs the handler with no owner.
# Exits non-zero on any wrong answer. Usage: examples/express/run.sh
source "$(dirname "$0")/../lib.sh"
APP="$REPO/examples/express"
APP_LOG="$WORK/express.log"

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
  PORT="$PORT" node "$APP/app.js" >>"$APP_LOG" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  wait_http "http://127.0.0.1:$PORT/"  # not the webhook path: a probe is no delivery
}
stop_app() { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; }

WANT_ALICE='"owner":"1","type":"end-of-call-report","error":null,"shadowDeny":false'
WANT_ATTACK_SHADOW='"owner":"",.*"error":null,"shadowDeny":true'
WANT_FAILED_OPEN='"owner":"",.*"error":"UNAVAILABLE"'
run_phases
finish
