#!/usr/bin/env bash
# The Django example end to end: creates the app's SQLite database, starts
# hookguard-server on it and the app (runserver), and sends signed VAPI
# deliveries through the app with `hookguard send`:
#   1. shadow mode + fail-open (how to adopt): everything reaches the view,
#      the attack is captured for `hookguard explain --capture=FILE`;
#   2. enforce: the attack is denied 403 (and captured), alice's report runs;
#   3. hookguard down: fail-open runs the view with no owner.
# Exits non-zero on any wrong answer. Usage: examples/django/run.sh
source "$(dirname "$0")/../lib.sh"
APP="$REPO/examples/django"

export EXAMPLE_DB="$WORK/app.sqlite3" HOOKGUARD_CAPTURE_DIR="$WORK/captures"
manage() { (cd "$APP" && "$PY" manage.py "$@"); }
manage migrate --run-syncdb -v 0
manage shell -v 0 -c '
from django.contrib.auth.models import User
from api.models import Assistant, InterviewCall, PhoneNumber
alice = User.objects.create(id=1, username="alice")
bob = User.objects.create(id=2, username="bob")
a = Assistant.objects.create(vapi_assistant_id="asst_alice", user=alice)
b = Assistant.objects.create(vapi_assistant_id="asst_bob", user=bob)
p = PhoneNumber.objects.create(vapi_phone_number_id="phone_alice", user=alice)
InterviewCall.objects.create(vapi_call_id="call_alice_1", user=alice, assistant=a, phone_number=p)
InterviewCall.objects.create(vapi_call_id="call_bob_1", user=bob, assistant=b)
'

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT/webhooks/vapi/"
start_app() {  # the app, on HOOKGUARD_TARGET
  (cd "$APP" && exec "$PY" manage.py runserver "127.0.0.1:$PORT" --noreload) \
    >>"$WORK/django.log" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  wait_http "http://127.0.0.1:$PORT/"  # not the webhook path: a probe is no delivery
}
stop_app() { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; }

CONFIG="$APP/hookguard.json"
[ "$HAVE_SEND" = 1 ] || CONFIG="$(config_for shadow "$APP/hookguard.json")"  # TEMPORARY FALLBACK

echo "--- 1. shadow mode + fail-open: nothing is blocked, would-be denies are captured"
start_hookguard "$(config_for shadow "$APP/hookguard.json")" "$EXAMPLE_DB"
start_app
expect "alice's report"          200 '"owner": "1"' "$CONFIG" vapi "$WORK/alice.json" "$URL"
expect "attack (shadow)"         200 '"owner": "", "error": null, "shadow_deny": true' \
  "$CONFIG" vapi "$WORK/attack.json" "$URL"
expect_captures "$HOOKGUARD_CAPTURE_DIR" 1

echo "--- 2. enforce: the attack is denied"
stop_app
stop_hookguard
start_hookguard "$(config_for enforce "$APP/hookguard.json")" "$EXAMPLE_DB"
start_app
expect "alice's report"          200 '"owner": "1", "error": null, "shadow_deny": false' \
  "$CONFIG" vapi "$WORK/alice.json" "$URL"
expect "attack (enforced)"       403 'DENY_REASON_ASSISTANT_MISMATCH' "$CONFIG" vapi "$WORK/attack.json" "$URL"
expect_captures "$HOOKGUARD_CAPTURE_DIR" 2
summaries="$(manage shell -v 0 -c 'from api.models import InterviewCall as C
print(*(C.objects.get(vapi_call_id=c).summary or "-" for c in ("call_alice_1", "call_bob_1")))')"
if [ "$summaries" = "ok -" ]; then echo "ok   alice's call updated, bob's untouched by the attack"; else
  echo "FAIL summaries (alice, bob): $summaries"; FAILED=$((FAILED + 1)); fi

echo "--- 3. hookguard down: fail-open lets the webhook through, with no owner"
stop_hookguard
expect "alice's report (no hookguard)" 200 '"owner": "", "error": "UNAVAILABLE"' \
  "$CONFIG" vapi "$WORK/alice.json" "$URL"
if grep -q "fail-open" "$WORK/django.log"; then echo "ok   the app logged the fail-open"; else
  echo "FAIL no fail-open warning in the app's log"; FAILED=$((FAILED + 1)); fi

finish
