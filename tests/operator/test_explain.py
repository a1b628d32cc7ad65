"""`hookguard explain`: every deny reason of the wire API and ALLOW, with the
step that decided, and the same answer a real hookguard-server gives for the
same input (run side by side on the same database and configuration)."""
from __future__ import annotations

import json

import pytest
import servers
from conftest import ENV, OLD_SECRET, SECRET, hmac_hex, run_cli

STEPS = ["signature", "parse", "call_id", "call_lookup", "assistant", "assistant_owner",
         "phone_number", "phone_number_owner", "expected_owner"]


def body_of(call: dict | None) -> bytes:
    message = {"type": "status-update"}
    if call is not None:
        message["call"] = call
    # A token in the body, as real payloads carry: explain must never print it.
    message["phoneNumber"] = {"twilioAuthToken": "TWILIO-TOKEN-never-printed"}
    return json.dumps({"message": message}).encode()


# (name, call in the body, expected owner, secret, reason, http, failing step)
WEBHOOK_CASES = [
    ("allow", {"id": "call_alice_1", "assistantId": "asst_alice", "phoneNumberId": "phone_alice"},
     "1", SECRET, "DENY_REASON_UNSPECIFIED", 200, None),
    ("allow with the old key", {"id": "call_bob_1"}, "", OLD_SECRET, "DENY_REASON_UNSPECIFIED", 200,
     None),
    ("malformed: no call", None, "", SECRET, "DENY_REASON_MALFORMED_EVENT", 400, "parse"),
    ("signature invalid", {"id": "call_alice_1"}, "", "some-other-secret",
     "DENY_REASON_SIGNATURE_INVALID", 401, "signature"),
    ("call not found", {"id": "x' OR '1'='1"}, "", SECRET, "DENY_REASON_CALL_NOT_FOUND", 404,
     "call_lookup"),
    ("assistant mismatch", {"id": "call_bob_1", "assistantId": "asst_alice"}, "", SECRET,
     "DENY_REASON_ASSISTANT_MISMATCH", 403, "assistant"),
    ("assistant owner mismatch", {"id": "call_alice_bobs_assistant"}, "", SECRET,
     "DENY_REASON_ASSISTANT_OWNER_MISMATCH", 403, "assistant_owner"),
    ("assistant missing", {"id": "call_alice_missing_assistant"}, "", SECRET,
     "DENY_REASON_ASSISTANT_OWNER_MISMATCH", 403, "assistant_owner"),
    ("phone number mismatch", {"id": "call_alice_1", "assistantId": "asst_alice",
                               "phoneNumberId": "phone_bob"}, "", SECRET,
     "DENY_REASON_PHONE_NUMBER_MISMATCH", 403, "phone_number"),
    ("phone number owner mismatch", {"id": "call_alice_bobs_phone"}, "", SECRET,
     "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH", 403, "phone_number_owner"),
    ("phone number missing", {"id": "call_alice_missing_phone"}, "", SECRET,
     "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH", 403, "phone_number_owner"),
    ("owner mismatch", {"id": "call_alice_1"}, "2", SECRET, "DENY_REASON_OWNER_MISMATCH", 403,
     "expected_owner"),
]


def webhook_args(tmp_path, call, owner, secret) -> list[str]:
    body = body_of(call)
    path = tmp_path / "body.json"
    path.write_bytes(body)
    args = [f"--body={path}", f"--header=X-Vapi-Signature: {hmac_hex(secret, body)}"]
    if owner:
        args.append(f"--expected_owner={owner}")
    return args


@pytest.mark.parametrize("name,call,owner,secret,reason,http,failing", WEBHOOK_CASES,
                         ids=[c[0] for c in WEBHOOK_CASES])
def test_explain_webhook_matches_the_server(server, inconsistent_db, config_file, tmp_path, name,
                                            call, owner, secret, reason, http, failing):
    args = webhook_args(tmp_path, call, owner, secret)
    explained = run_cli("explain", *args, f"--db={inconsistent_db}", f"--config={config_file}",
                        "--format=json", env=ENV)
    served = run_cli("webhook", *args, f"--target={server.target}", "--format=json")
    assert served.returncode in (0, 1), served.stderr
    answer = json.loads(served.stdout)
    e = json.loads(explained.stdout)

    # The exact answer of the contract...
    assert e["reason"] == reason
    assert e["http_status"] == http
    assert e["decision"] == ("DECISION_ALLOW" if http == 200 else "DECISION_DENY")
    assert explained.returncode == (0 if http == 200 else 1)
    # ...is the real server's answer.
    assert (e["decision"], e["reason"], e["http_status"], e["owner_id"]) == (
        answer["decision"], answer["reason"], answer["http_status"], answer["owner_id"])
    assert explained.returncode == served.returncode
    assert e["signature"] == answer["signature"]
    assert e["key_id"] == answer["key_id"]
    assert e["event"]["call_id"] == answer.get("event", {}).get("call_id", "")

    # Every step, in order; the deciding one fails, those after it are skipped.
    assert [s["step"] for s in e["steps"]] == STEPS
    assert e["failed_step"] == failing
    results = {s["step"]: s["result"] for s in e["steps"]}
    if failing is None:
        assert "fail" not in results.values()
        assert results["signature"] == results["parse"] == results["call_lookup"] == "pass"
    else:
        i = STEPS.index(failing)
        assert results[failing] == "fail"
        assert [results[s] for s in STEPS[:i]].count("fail") == 0
        assert all(results[s] == "skipped" for s in STEPS[i + 1:])
        failed = e["steps"][i]
        assert failed["reason"] == reason
    # Ids and reasons only: never the body's content, a secret or a signature.
    out = explained.stdout + explained.stderr
    for leak in (b"TWILIO-TOKEN", SECRET.encode(), OLD_SECRET.encode(),
                 args[1].split(": ")[1].encode()):
        assert leak not in out


def test_explain_names_the_key_of_a_rotation(server, inconsistent_db, config_file, tmp_path):
    for secret, key_id in ((SECRET, "2026-11"), (OLD_SECRET, "2026-10")):
        args = webhook_args(tmp_path, {"id": "call_alice_1"}, "", secret)
        e = json.loads(run_cli("explain", *args, f"--db={inconsistent_db}",
                               f"--config={config_file}", "--format=json", env=ENV).stdout)
        assert e["key_id"] == key_id
        assert f"key_id '{key_id}'" in e["steps"][0]["detail"]


# (call_id, assistant, phone, expected owner, reason, failing step)
EVENT_CASES = [
    ("call_alice_1", "asst_alice", "phone_alice", "1", "DENY_REASON_UNSPECIFIED", None),
    ("", "", "", "", "DENY_REASON_MALFORMED_EVENT", "call_id"),
    ("call_nobody", "", "", "", "DENY_REASON_CALL_NOT_FOUND", "call_lookup"),
    ("call_bob_1", "asst_alice", "", "", "DENY_REASON_ASSISTANT_MISMATCH", "assistant"),
    ("call_alice_bobs_assistant", "", "", "", "DENY_REASON_ASSISTANT_OWNER_MISMATCH",
     "assistant_owner"),
    ("call_alice_web", "", "phone_alice", "", "DENY_REASON_PHONE_NUMBER_MISMATCH", "phone_number"),
    ("call_alice_bobs_phone", "", "", "", "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH",
     "phone_number_owner"),
    ("call_bob_1", "", "", "1", "DENY_REASON_OWNER_MISMATCH", "expected_owner"),
]


@pytest.mark.parametrize("call_id,assistant,phone,owner,reason,failing", EVENT_CASES,
                         ids=[c[4] + ":" + c[0] for c in EVENT_CASES])
def test_explain_call_event_matches_the_server(server, inconsistent_db, call_id, assistant, phone,
                                               owner, reason, failing):
    args = [f"--call_id={call_id}"]
    args += [f"--assistant_id={assistant}"] if assistant else []
    args += [f"--phone_number_id={phone}"] if phone else []
    args += [f"--expected_owner={owner}"] if owner else []
    # No config, no secret: a call event needs none.
    explained = run_cli("explain", *args, f"--db={inconsistent_db}", "--format=json")
    served = run_cli("authorize", *args, f"--target={server.target}", "--format=json")
    e, answer = json.loads(explained.stdout), json.loads(served.stdout)
    assert e["reason"] == reason == answer["reason"]
    assert (e["decision"], e["http_status"], e["owner_id"]) == (
        answer["decision"], answer["http_status"], answer["owner_id"])
    assert explained.returncode == served.returncode
    assert e["failed_step"] == failing
    assert e["steps"][0]["result"] == e["steps"][1]["result"] == "skipped"


def test_text_output_shows_each_step_and_the_answer(inconsistent_db, config_file, tmp_path):
    args = webhook_args(tmp_path, {"id": "call_bob_1", "assistantId": "asst_alice"}, "", SECRET)
    r = run_cli("explain", *args, f"--db={inconsistent_db}", f"--config={config_file}", env=ENV)
    assert r.returncode == 1, r.stderr
    text = r.stdout.decode()
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert lines["signature"][0] == "pass"
    assert lines["parse"][0] == "pass"
    assert lines["call_lookup"][:1] == ["pass"]
    assert lines["assistant"][:2] == ["fail", "DENY_REASON_ASSISTANT_MISMATCH:"]
    assert lines["expected_owner"][0] == "skipped"
    assert lines["decision"] == ["DECISION_DENY"]
    assert lines["reason"] == ["DENY_REASON_ASSISTANT_MISMATCH"]
    assert lines["http_status"] == ["403"]


def test_body_from_stdin(inconsistent_db, config_file):
    body = body_of({"id": "call_alice_1"})
    r = run_cli("explain", "--body=-", f"--header=x-vapi-signature: {hmac_hex(SECRET, body)}",
                f"--db={inconsistent_db}", f"--config={config_file}", "--format=json", env=ENV,
                stdin=body)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["owner_id"] == "1"


def test_database_down_is_an_error_never_a_decision(config_file, tmp_path):
    port = servers.free_port()
    db = f"postgresql://host=127.0.0.1 port={port} dbname=app user=x password=PgPw-not-shown"
    r = run_cli("explain", "--call_id=call_alice_1", f"--db={db}", "--format=json")
    assert r.returncode == 2
    assert b"UNAVAILABLE" in r.stderr
    assert b"PgPw-not-shown" not in r.stderr + r.stdout
    assert r.stdout == b""
    args = webhook_args(tmp_path, {"id": "call_alice_1"}, "", SECRET)
    r = run_cli("explain", *args, f"--db={db}", f"--config={config_file}", env=ENV)
    assert r.returncode == 2
    assert b"UNAVAILABLE" in r.stderr


def test_configuration_problems_are_errors(inconsistent_db, config_file, tmp_path):
    args = webhook_args(tmp_path, {"id": "call_alice_1"}, "", SECRET)
    # The secret's variable is not set: as the server, refuse and name it.
    r = run_cli("explain", *args, f"--db={inconsistent_db}", f"--config={config_file}")
    assert r.returncode == 2
    assert b"HG_OPERATOR_TEST_SECRET" in r.stderr
    # An unknown profile is the service's INVALID_ARGUMENT, not a decision.
    r = run_cli("explain", *args, "--profile=nope", f"--db={inconsistent_db}",
                f"--config={config_file}", env=ENV)
    assert r.returncode == 2
    assert b"unknown profile" in r.stderr


def test_usage_errors(inconsistent_db, tmp_path):
    assert run_cli("explain", f"--db={inconsistent_db}").returncode == 2  # neither body nor call
    body = tmp_path / "b.json"
    body.write_bytes(b"{}")
    assert run_cli("explain", f"--body={body}", "--call_id=x",
                   f"--db={inconsistent_db}").returncode == 2
    assert run_cli("explain", "--call_id=x", "--header=a: b",
                   f"--db={inconsistent_db}").returncode == 2
    assert run_cli("explain", "--call_id=x", "--bogus=1", f"--db={inconsistent_db}").returncode == 2
    assert run_cli("explain", "--call_id=x").returncode == 2  # no database


# The resolution chain of an inbound assistant-request (default config: by
# the call row, else the phone number): (assistant, phone, reason, failing
# step, steps with their results, resolved_by).
CHAIN_CASES = [
    ("", "phone_alice", "DENY_REASON_UNSPECIFIED", None,
     [("call_id", "pass"), ("call_lookup", "miss"), ("phone_number_lookup", "pass"),
      ("owner_consistency", "skipped"), ("expected_owner", "skipped")],
     "OWNER_SOURCE_PHONE_NUMBER"),
    ("asst_bob", "phone_alice", "DENY_REASON_OWNER_CONFLICT", "owner_consistency",
     [("call_id", "pass"), ("call_lookup", "miss"), ("phone_number_lookup", "pass"),
      ("owner_consistency", "fail"), ("expected_owner", "skipped")],
     "OWNER_SOURCE_UNSPECIFIED"),
    ("", "phone_nobody_999", "DENY_REASON_CALL_NOT_FOUND", "resolve",
     [("call_id", "pass"), ("call_lookup", "miss"), ("phone_number_lookup", "miss"),
      ("resolve", "fail")],
     "OWNER_SOURCE_UNSPECIFIED"),
]


@pytest.mark.parametrize("assistant,phone,reason,failing,steps,resolved_by", CHAIN_CASES,
                         ids=[c[2] for c in CHAIN_CASES])
def test_explain_prints_each_step_of_the_resolution_chain(server, inconsistent_db, assistant,
                                                           phone, reason, failing, steps,
                                                           resolved_by):
    args = ["--call_id=call_inbound_not_stored_yet", "--type=assistant-request",
            f"--phone_number_id={phone}"]
    args += [f"--assistant_id={assistant}"] if assistant else []
    explained = run_cli("explain", *args, f"--db={inconsistent_db}", "--format=json")
    served = run_cli("authorize", *args, f"--target={server.target}", "--format=json")
    e, answer = json.loads(explained.stdout), json.loads(served.stdout)
    assert e["reason"] == reason == answer["reason"]
    assert (e["decision"], e["owner_id"]) == (answer["decision"], answer["owner_id"])
    assert e["failed_step"] == failing
    assert e["resolved_by"] == resolved_by
    assert [(s["step"], s["result"]) for s in e["steps"][2:]] == steps
