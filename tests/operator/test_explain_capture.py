"""`hookguard explain --capture=FILE`: a delivery saved by a client's capture
helper (format hookguard-capture/v1, /work/notes/capture-format.md) replays
through the service's own checks exactly as `explain --body --header` does,
and the answer the app got when it was captured is shown beside."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from conftest import ENV, SECRET, hmac_hex, run_cli


def capture_file(tmp_path, body: bytes, headers: dict, **fields) -> str:
    doc = {
        "format": "hookguard-capture/v1",
        "captured_at": "2026-12-05T07:30:00Z",
        "profile": "vapi",
        "method": "POST",
        "url": "https://app.example.com/webhooks/vapi",
        "headers": {k.lower(): v for k, v in headers.items()},
        "body_base64": base64.b64encode(body).decode(),
        "expected_owner_id": "",
        "decision": "DECISION_ALLOW",
        "shadow_decision": "DECISION_DENY",
        "reason": "DENY_REASON_ASSISTANT_MISMATCH",
        "http_status": 200,
        "decision_id": "captured-decision-1",
        "added_by_a_newer_helper": {"ignored": True},
    }
    doc.update(fields)
    path = tmp_path / "20261205T073000Z-captured-decision-1.json"
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return str(path)


def body_of(call: dict) -> bytes:
    return json.dumps({"message": {"type": "status-update", "call": call}}).encode()


def explain(*args: str, db: str, config) -> tuple[int, dict]:
    r = run_cli("explain", f"--db={db}", f"--config={config}", "--format=json", *args, env=ENV)
    assert r.returncode in (0, 1), r.stderr.decode()
    return r.returncode, json.loads(r.stdout)


def test_a_capture_replays_as_its_body_and_headers_do(tmp_path, clean_db, config_file):
    cases = [
        # (call, expected owner in the capture, reason, failing step)
        ({"id": "call_bob_1", "assistantId": "asst_alice"}, "", "DENY_REASON_ASSISTANT_MISMATCH",
         "assistant"),
        ({"id": "call_alice_1"}, "", "DENY_REASON_UNSPECIFIED", None),
        ({"id": "call_alice_1"}, "2", "DENY_REASON_OWNER_MISMATCH", "expected_owner"),
        ({"id": "call_nobody"}, "", "DENY_REASON_CALL_NOT_FOUND", "call_lookup"),
    ]
    for call, owner, reason, step in cases:
        body = body_of(call)
        headers = {"X-Vapi-Signature": hmac_hex(SECRET, body)}
        path = capture_file(tmp_path, body, headers, expected_owner_id=owner)
        rc, got = explain(f"--capture={path}", db=clean_db, config=config_file)
        body_path = tmp_path / "body.json"
        body_path.write_bytes(body)
        args = [f"--body={body_path}", f"--header=X-Vapi-Signature: {headers['X-Vapi-Signature']}",
                "--profile=vapi", "--method=POST", "--url=https://app.example.com/webhooks/vapi"]
        if owner:
            args.append(f"--expected_owner={owner}")
        rc_body, same = explain(*args, db=clean_db, config=config_file)
        assert (rc, got["reason"], got["failed_step"]) == (rc_body, reason, step), got
        for key in ("decision", "reason", "http_status", "owner_id", "event", "profile"):
            assert got[key] == same[key], key
        # The same steps; the signature was checked as of the capture time.
        assert got["steps"][1:] == same["steps"][1:]
        assert got["steps"][0]["detail"] == (
            same["steps"][0]["detail"] + " at the capture time 2026-12-05T07:30:00Z")
        assert same["captured"] is None
        assert got["captured"] == {"captured_at": "2026-12-05T07:30:00Z",
                                   "decision": "DECISION_ALLOW",
                                   "shadow_decision": "DECISION_DENY",
                                   "reason": "DENY_REASON_ASSISTANT_MISMATCH", "http_status": 200,
                                   "decision_id": "captured-decision-1"}


def test_text_output_shows_the_captured_answer_and_never_the_secret_header(tmp_path, clean_db,
                                                                            config_file):
    body = body_of({"id": "call_bob_1", "assistantId": "asst_alice"})
    signature = hmac_hex(SECRET, body)
    path = capture_file(tmp_path, body, {"x-vapi-signature": signature})
    r = run_cli("explain", f"--db={clean_db}", f"--config={config_file}", f"--capture={path}",
                env=ENV)
    out = r.stdout.decode()
    assert r.returncode == 1, r.stderr.decode()
    assert "DENY_REASON_ASSISTANT_MISMATCH" in out
    assert ("captured     DECISION_ALLOW DENY_REASON_ASSISTANT_MISMATCH, shadow DECISION_DENY "
            "(http 200) at 2026-12-05T07:30:00Z, decision_id captured-decision-1") in out, out
    assert signature not in out and signature not in r.stderr.decode()


def test_profile_and_expected_owner_flags_override_the_capture(tmp_path, clean_db, config_file):
    body = body_of({"id": "call_alice_1"})
    path = capture_file(tmp_path, body, {"x-vapi-signature": hmac_hex(SECRET, body)},
                        profile="renamed-since", expected_owner_id="2")
    r = run_cli("explain", f"--db={clean_db}", f"--config={config_file}", f"--capture={path}",
                env=ENV)
    assert r.returncode == 2 and "renamed-since" in r.stderr.decode(), r.stderr
    rc, got = explain(f"--capture={path}", "--profile=vapi", "--expected_owner=1", db=clean_db,
                      config=config_file)
    assert (rc, got["decision"], got["owner_id"]) == (0, "DECISION_ALLOW", "1"), got


def test_bad_capture_files_are_refused_naming_the_problem(tmp_path, clean_db, config_file):
    body = body_of({"id": "call_alice_1"})
    good = capture_file(tmp_path, body, {})
    cases = [
        ({"format": "hookguard-capture/v2"}, "format"),
        ({"body_base64": "%%%"}, "body_base64"),
        ({"headers": ["x"]}, "headers"),
    ]
    for fields, says in cases:
        doc = json.loads(open(good).read())
        doc.update(fields)
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(doc))
        r = run_cli("explain", f"--db={clean_db}", f"--config={config_file}", f"--capture={bad}",
                    env=ENV)
        assert r.returncode == 2, r.stdout
        assert says in r.stderr.decode() and str(bad) in r.stderr.decode(), r.stderr
    for extra in ("--body=x", "--call_id=c", "--header=a: b", "--url=u"):
        r = run_cli("explain", f"--db={clean_db}", f"--config={config_file}", f"--capture={good}",
                    extra, env=ENV)
        assert r.returncode == 2, extra


def test_a_timestamped_signature_is_checked_as_of_the_capture_time(tmp_path, clean_db):
    """A vapi-hmac delivery captured yesterday verifies as it did when it
    arrived; one that was already stale then is still STALE."""
    secret = "capture-vapi-hmac-secret"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"profiles": [{"name": "vapi", "preset": "vapi-hmac",
                                                "secrets": [{"key_id": "h", "env": "HG_CAP"}]}]}))
    arrived = datetime(2026, 12, 4, 7, 30, tzinfo=timezone.utc)
    ts = str(int(arrived.timestamp() * 1000))
    body = body_of({"id": "call_alice_1"})
    headers = {"x-timestamp": ts,
               "x-signature": hmac.new(secret.encode(), ts.encode() + b"." + body,
                                       hashlib.sha256).hexdigest()}
    for captured_at, signature, rc in (
            (arrived + timedelta(seconds=2), "SIGNATURE_RESULT_VALID", 0),
            (arrived + timedelta(seconds=400), "SIGNATURE_RESULT_STALE", 1)):
        path = capture_file(tmp_path, body, headers,
                            captured_at=captured_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        r = run_cli("explain", f"--db={clean_db}", f"--config={config}", f"--capture={path}",
                    "--format=json", env={"HG_CAP": secret})
        got = json.loads(r.stdout)
        assert (r.returncode, got["signature"]) == (rc, signature), got
    # Explained now, from its body and headers, the same delivery is stale.
    body_path = tmp_path / "body.json"
    body_path.write_bytes(body)
    r = run_cli("explain", f"--db={clean_db}", f"--config={config}", f"--body={body_path}",
                *[f"--header={k}: {v}" for k, v in headers.items()], "--format=json",
                env={"HG_CAP": secret})
    assert json.loads(r.stdout)["signature"] == "SIGNATURE_RESULT_STALE"
    bad = capture_file(tmp_path, body, headers, captured_at="yesterday")
    r = run_cli("explain", f"--db={clean_db}", f"--config={config}", f"--capture={bad}",
                env={"HG_CAP": secret})
    assert r.returncode == 2 and "captured_at" in r.stderr.decode(), r.stderr
