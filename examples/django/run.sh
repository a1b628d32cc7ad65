#!/usr/bin/env bash
# The Django example end to end: creates the app's SQLite database, starts
# hookguard-server on it and the app (runserver), and sends signed VAPI
# deliveries through the app with `hookguard send` (examples/lib.sh):
#   1. shadow mode + fail-open (how to adopt): everything reaches the view,
#      the attack is captured for `hookguard explain --capture=FILE`;
#   2. enforce: the attack is denied 403 (and captured), alice's report runs;
#   3. hookguard down: fail-open runs the view with no owner.
# Exits non-zero on any wrong answer. Usage: examples/django/run.sh
source "$(dirname "$0")/../lib.sh"
APP="$REPO/examples/django"
APP_LOG="$WORK/django.log"

export EXAMPLE_DB="$WORK/app.sqlite3" HOOKGUARD_CAPTURE_DIR="$WORK/captures"
DB="$EXAMPLE_DB"
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
  (cd "$APP" && exec "$PY" manage.py runserver "127.0.0.1:$PORT" --noreload) >>"$APP_LOG" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  wait_http "http://127.0.0.1:$PORT/"  # not the webhook path: a probe is no delivery
}
stop_app() { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; }
after_enforce() {  # the view acted for alice only
  local summaries
  summaries="$(manage shell -v 0 -c 'from api.models import InterviewCall as C
print(*(C.objects.get(vapi_call_id=c).summary or "-" for c in ("call_alice_1", "call_bob_1")))')"
  if [ "$summaries" = "ok -" ]; then echo "ok   alice's call updated, bob's untouched by the attack"; else
    echo "FAIL summaries (alice, bob): $summaries"; FAILED=$((FAILED + 1)); fi
}

WANT_ALICE='"owner": "1", "error": null, "shadow_deny": false'
WANT_ATTACK_SHADOW='"owner": "", "error": null, "shadow_deny": true'
WANT_FAILED_OPEN='"owner": "", "error": "UNAVAILABLE"'
run_phases
finish
