"""The README's demo: hookguard on a SQLite database of two tenants, fed
legitimate webhooks and the attacks of the threat table (docs/explanation/security.md),
through the `hookguard` CLI, printed as a table of expected vs actual answers.

Run through scripts/demo.sh (which sets up and builds first). Exits 1 if any
row differs from the answer the docs promise.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
import servers  # noqa: E402

SECRET = "demo-webhook-secret"
CLI = servers.build_dir() / "tools" / "hookguard" / "hookguard"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def vapi(call: dict, type_: str = "status-update", **extra) -> bytes:
    message = {"type": type_, "call": call, **extra}
    return json.dumps({"message": message}).encode()


# (case, body, headers (None: correctly signed), expected http, expected reason
#  [, how an allowed event's owner was found: resolved_by])
LEGIT = vapi({"id": "call_alice_1", "assistantId": "asst_alice", "phoneNumberId": "phone_alice",
              "orgId": "org_1"}, "end-of-call-report",
             artifact={"transcript": "AI: Hello! User: Hi. " * 2000},
             phoneNumber={"id": "phone_alice", "twilioAuthToken": "tw-secret-token"})
# An inbound call to a number without a fixed assistant: VAPI asks which
# assistant to use while the call rings, before the app has a row for it.
INBOUND = {"id": "call_inbound_new", "type": "inboundPhoneCall", "status": "ringing",
           "assistantId": None, "phoneNumberId": "phone_alice", "orgId": "org_1"}
CASES = [
    ("legitimate webhook (alice's call)", LEGIT, None, 200, "", "CALL"),
    ("legitimate webhook, flat shape (bob's)",
     json.dumps({"type": "call.ended", "call": {"id": "call_bob_1", "assistantId": "asst_bob"}}).encode(),
     None, 200, "", "CALL"),
    ("inbound call to alice's number, no call row yet",
     vapi(INBOUND, "assistant-request",
          phoneNumber={"id": "phone_alice", "twilioAuthToken": "tw-secret-token"}),
     None, 200, "", "PHONE_NUMBER"),
    ("1 cross-user: bob's call, alice's assistant",
     vapi({"id": "call_bob_1", "assistantId": "asst_alice"}), None, 403, "ASSISTANT_MISMATCH"),
    ("2 assistant spoofing: unknown assistant",
     vapi({"id": "call_alice_1", "assistantId": "asst_fake_999"}), None, 403, "ASSISTANT_MISMATCH"),
    ("3 phone hijack: alice's call, bob's number",
     vapi({"id": "call_alice_1", "assistantId": "asst_alice", "phoneNumberId": "phone_bob"}),
     None, 403, "PHONE_NUMBER_MISMATCH"),
    ("4 injection: no call object", json.dumps({"message": {"type": "status-update"}}).encode(),
     None, 400, "MALFORMED_EVENT"),
    ("4 injection: call without id", vapi({"assistantId": "asst_alice"}), None, 400,
     "MALFORMED_EVENT"),
    ("4 injection: not JSON", b"type=call.ended&call=1", None, 400, "MALFORMED_EVENT"),
    ("4 injection: \"call\": 5", json.dumps({"message": {"call": 5}}).encode(), None, 400,
     "MALFORMED_EVENT"),
    ("4 injection: duplicate \"call\" keys",
     b'{"call":{"id":"call_alice_1"},"call":{"id":"call_bob_1"}}', None, 400, "MALFORMED_EVENT"),
    ("5 forged: body changed after signing", LEGIT.replace(b"call_alice_1", b"call_bob_1"),
     {"x-vapi-signature": sign(LEGIT)}, 401, "SIGNATURE_INVALID"),
    ("5 forged: signed with another secret", LEGIT,
     {"x-vapi-signature": sign(LEGIT, "attacker-secret")}, 401, "SIGNATURE_INVALID"),
    ("5 forged: no signature at all", LEGIT, {}, 401, "SIGNATURE_INVALID"),
    ("8 inconsistent rows: call's assistant is bob's",
     vapi({"id": "call_alice_bobs_assistant"}), None, 403, "ASSISTANT_OWNER_MISMATCH"),
    ("10 SQL injection in call.id", vapi({"id": "x' OR '1'='1"}), None, 404, "CALL_NOT_FOUND"),
    ("23 inbound: bob's number, alice's assistant",
     vapi({**INBOUND, "phoneNumberId": "phone_bob", "assistantId": "asst_alice"}, "assistant-request"),
     None, 403, "OWNER_CONFLICT"),
]


def answer_text(http: int, reason: str, resolved_by: str) -> str:
    """'200 ALLOW by CALL' or '403 OWNER_CONFLICT'."""
    return f"{http} {reason or 'ALLOW'}" + (f" by {resolved_by}" if resolved_by else "")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=30)


def main() -> int:
    if not CLI.exists():
        print(f"demo: {CLI} is missing; run scripts/build.sh first", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="hookguard-demo-"))
    db = servers.sqlite_db(work / "app.db", *servers.django_fixtures(inconsistent=True))
    print(f"Ownership database: {work / 'app.db'} (SQLite; alice = user 1, bob = user 2)")
    with servers.HookguardServer(db, env={"VAPI_WEBHOOK_SECRET": SECRET}) as server:
        target = f"--target={server.target}"
        deadline = time.monotonic() + 10
        while run_cli("health", target).returncode != 0:
            if time.monotonic() > deadline:
                print(server.output())
                return 1
            time.sleep(0.1)
        print(f"hookguard-server is SERVING on {server.target}\n")

        # VerifySignature alone: a signed sample, then the same body tampered with.
        sample = work / "sample.json"
        sample.write_bytes(LEGIT)
        print("$ hookguard verify --body=sample.json --header='x-vapi-signature: <hmac>'")
        out = run_cli("verify", target, f"--body={sample}", f"--header=x-vapi-signature: {sign(LEGIT)}")
        print(out.stdout)
        tampered = work / "tampered.json"
        tampered.write_bytes(LEGIT.replace(b"asst_alice", b"asst_bob"))
        print("$ hookguard verify --body=tampered.json --header='x-vapi-signature: <same hmac>'")
        out2 = run_cli("verify", target, f"--body={tampered}", f"--header=x-vapi-signature: {sign(LEGIT)}")
        print(out2.stdout)
        verify_ok = out.returncode == 0 and out2.returncode == 1

        print("$ hookguard webhook --body=... --header=... for each case:\n")
        rows, failures = [], 0
        for i, (name, body, headers, want_http, want_reason, *want_by) in enumerate(CASES):
            path = work / f"case{i}.json"
            path.write_bytes(body)
            if headers is None:
                headers = {"x-vapi-signature": sign(body)}
            args = ["webhook", target, f"--body={path}", "--format=json"]
            args += [f"--header={k}: {v}" for k, v in headers.items()]
            result = run_cli(*args)
            try:
                answer = json.loads(result.stdout)
                got_http = answer["http_status"]
                got_reason = answer["reason"].removeprefix("DENY_REASON_").replace("UNSPECIFIED", "")
                got_by = answer["resolved_by"].removeprefix("OWNER_SOURCE_").replace("UNSPECIFIED", "")
                got = answer_text(got_http, got_reason, got_by)
            except (ValueError, KeyError):
                got_http, got_reason, got_by = None, None, None
                got = f"error: {result.stderr.strip()[:60]}"
            want_by = want_by[0] if want_by else ""
            want = answer_text(want_http, want_reason, want_by)
            ok = (got_http, got_reason, got_by) == (want_http, want_reason, want_by)
            failures += not ok
            rows.append((name, want, got, "ok" if ok else "WRONG"))

        width = max(len(r[0]) for r in rows)
        print(f"{'case'.ljust(width)}  {'expected'.ljust(30)}  {'actual'.ljust(30)}  check")
        print(f"{'-' * width}  {'-' * 30}  {'-' * 30}  -----")
        for name, want, got, check in rows:
            print(f"{name.ljust(width)}  {want.ljust(30)}  {got.ljust(30)}  {check}")

        log = server.output()
        leaked = [s for s in (SECRET, "tw-secret-token", sign(LEGIT)) if s in log]
        decisions = sum(1 for line in log.splitlines() if '"kind":"decision"' in line)
        print(f"\nAudit log: {decisions} decision lines on the server's stdout; one of them:")
        for line in log.splitlines():
            if '"rpc":"AuthorizeWebhook"' in line and '"security_event"' in line:
                print("  " + line)
                break
        print("secrets, signatures or tokens in the log: " + ("FOUND " + str(leaked) if leaked else "none"))

    total = len(rows) + 2
    passed = total - failures - (0 if verify_ok else 2) - (1 if leaked else 0)
    print(f"\ndemo: {passed} passed, {total - passed} failed")
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
