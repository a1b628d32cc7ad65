#!/usr/bin/env python3
"""Writes tests/contract/vectors.json: the shared test vectors of every
language's contract runner.

Signatures are computed here, once, with the test secrets below and written
into the file, so each runner sends exactly these bytes and headers (no
runner re-implements signing; byte-exactness is proven by the server's answer).
`make_vectors.py --check` fails when vectors.json differs from a fresh run.

Every expectation is the answer protos/hookguard/v1/hookguard.proto and docs/
specify for the fixtures
tests/fixtures/{django_schema,consistent,inconsistent,subjects}.sql and the
server configuration tests/contract/config.json.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
from platform_signing import twilio_signature  # noqa: E402
OUT = HERE / "vectors.json"

# The secrets the orchestrator (run.sh) gives the server through the
# environment variables named in config.json. Test-only values.
SECRETS = {
    "HOOKGUARD_CONTRACT_SECRET": "contract-secret-2026-new",
    "HOOKGUARD_CONTRACT_SECRET_OLD": "contract-secret-2026-old",
    # Twilio auth tokens are 32 hex digits; a rotation has a primary and a secondary.
    "HOOKGUARD_CONTRACT_TWILIO_TOKEN": "f0e1d2c3b4a5968778695a4b3c2d1e0f",
    "HOOKGUARD_CONTRACT_TWILIO_TOKEN_OLD": "0123456789abcdef0123456789abcdef",
    "HOOKGUARD_CONTRACT_RETELL_KEY": "key_contract_retell_0c7a4e",
    "HOOKGUARD_CONTRACT_ELEVENLABS_SECRET": "wsec_contract_elevenlabs_5b9d",
    "HOOKGUARD_CONTRACT_SLACK_SECRET": "slack-contract-signing-secret-3c1f",
}
NEW = SECRETS["HOOKGUARD_CONTRACT_SECRET"]
OLD = SECRETS["HOOKGUARD_CONTRACT_SECRET_OLD"]
OTHER = "not-the-platforms-secret"


def sig(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def message(call: dict | None, type_: str = "status-update", **extra) -> bytes:
    msg: dict = {"type": type_}
    if call is not None:
        msg["call"] = call
    msg.update(extra)
    return json.dumps({"message": msg}, separators=(",", ":")).encode()


def flat(call, type_: str = "status-update") -> bytes:
    return json.dumps({"type": type_, "call": call}, separators=(",", ":")).encode()


def allow(owner: str, key_id: str = "contract-new", source: str = "CALL") -> dict:
    return {"decision": "DECISION_ALLOW", "reason": "DENY_REASON_UNSPECIFIED",
            "http_status": 200, "owner_id": owner, "signature": "SIGNATURE_RESULT_VALID",
            "key_id": key_id, "resolved_by": f"OWNER_SOURCE_{source}"}


def deny(reason: str, status: int, signature: str = "SIGNATURE_RESULT_VALID") -> dict:
    return {"decision": "DECISION_DENY", "reason": f"DENY_REASON_{reason}",
            "http_status": status, "owner_id": "", "signature": signature,
            "resolved_by": "OWNER_SOURCE_UNSPECIFIED"}


def shadow(would: dict) -> dict:
    """The answer of a profile in shadow mode for what enforcement would
    answer `would`: ALLOW/200, the would-be decision and reason in
    shadow_decision/shadow_reason, owner_id and resolved_by only when the
    would-be decision is ALLOW."""
    out = dict(would, decision="DECISION_ALLOW", reason="DENY_REASON_UNSPECIFIED",
               http_status=200, shadow_decision=would["decision"],
               shadow_reason=would["reason"])
    if would["decision"] != "DECISION_ALLOW":
        out.update(owner_id="", resolved_by="OWNER_SOURCE_UNSPECIFIED")
    return out


def vector(name: str, threat, body: bytes, expect: dict, *, headers: dict | None = None,
           secret: str | None = NEW, header: str = "x-vapi-signature", profile: str = "",
           expected_owner_id: str = "", description: str = "", method: str = "",
           url: str = "") -> dict:
    h = dict(headers or {})
    if secret is not None:
        h[header] = sig(secret, body)
    h.setdefault("content-type", "application/json")
    v: dict = {"name": name, "threat": threat, "description": description}
    try:
        v["body"] = body.decode("utf-8")
        if v["body"].encode("utf-8") != body:
            raise UnicodeError
    except UnicodeError:
        v["body_base64"] = base64.b64encode(body).decode()
    if "signature" in expect:
        # Set only with a valid signature: the hex SHA-256 of the body for
        # these profiles (their schemes sign no message id).
        valid = expect["signature"] == "SIGNATURE_RESULT_VALID"
        expect = dict(expect, delivery_key=hashlib.sha256(body).hexdigest() if valid else "")
    v.update({"headers": h, "profile": profile, "expected_owner_id": expected_owner_id,
              "expect": expect})
    # HttpRequest.method and .url, only for the vectors whose scheme signs
    # them (Twilio); runners send "" when a vector has none.
    if method:
        v["method"] = method
    if url:
        v["url"] = url
    return v


FIXTURES = HERE.parent / "fixtures"


def subject_allow(owner: str, subject: str, key_id: str) -> dict:
    return dict(allow(owner, key_id, "SUBJECT"), resolved_subject=subject)


def subject_deny(reason: str, status: int) -> dict:
    return dict(deny(reason, status), resolved_subject="")


def platform_body(path: str, **changes) -> bytes:
    """A platform's fixture (tests/fixtures/<platform>/), compact, with
    top-level members changed."""
    doc = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    doc.update(changes)
    return json.dumps(doc, separators=(",", ":")).encode()


def github_headers(body: bytes) -> dict:
    return {"x-hub-signature-256": "sha256=" + sig(NEW, body)}


ALICE_CALL = {"id": "call_alice_1", "assistantId": "asst_alice", "phoneNumberId": "phone_alice",
              "orgId": "org_demo"}


def vectors() -> list[dict]:
    v = []
    # --- allowed events, both payload shapes -------------------------------
    v.append(vector("allow_message_shape", None,
                    message(ALICE_CALL, phoneNumber={"id": "phone_alice"}), allow("1"),
                    description="VAPI server message for alice's call: allowed, owner 1"))
    v.append(vector("allow_flat_shape", None,
                    flat({"id": "call_bob_1", "assistantId": "asst_bob",
                          "phoneNumberId": "phone_bob"}, "end-of-call-report"), allow("2"),
                    description="flat shape of the origin document for bob's call"))
    v.append(vector("allow_web_call_without_phone", None,
                    message({"id": "call_alice_web", "assistantId": "asst_alice"}), allow("1"),
                    description="a web call has no phone number"))
    v.append(vector("allow_call_id_only", None, message({"id": "call_bob_1"}), allow("2"),
                    description="assistant and phone number are optional in the event"))
    v.append(vector("allow_expected_owner_matches", 9, message(ALICE_CALL), allow("1"),
                    expected_owner_id="1",
                    description="expected_owner_id equal to the call's owner"))
    v.append(vector("allow_header_name_case", None, message(ALICE_CALL), allow("1"),
                    header="X-Vapi-Signature", description="header names are case-insensitive"))
    v.append(vector("allow_rotation_old_secret", 16, message(ALICE_CALL), allow("1", "contract-old"),
                    secret=OLD, description="during rotation the old secret verifies too"))
    transcript = " ".join(f"user: sentence number {i} of a long interview." for i in range(3000))
    big = message(dict(ALICE_CALL), "end-of-call-report",
                  artifact={"transcript": transcript, "messages": [{"role": "bot", "message": "hello"}]})
    assert len(big) > 100_000
    v.append(vector("allow_large_end_of_call_report", None, big, allow("1"),
                    description="end-of-call reports carry transcripts of hundreds of KB"))
    unicode_body = message(ALICE_CALL, "transcript", transcript="Grüße, 你好 — ünïcödé")
    v.append(vector("allow_non_ascii_body", None, unicode_body, allow("1"),
                    description="non-ASCII UTF-8 is signed and sent byte for byte"))

    # --- the threat table of docs/explanation/security.md (the `threat` number) --------
    v.append(vector("threat1_cross_user_assistant", 1,
                    message({"id": "call_bob_1", "assistantId": "asst_alice"}),
                    deny("ASSISTANT_MISMATCH", 403),
                    description="bob's call with alice's assistant"))
    v.append(vector("threat2_assistant_spoofing", 2,
                    message({"id": "call_alice_1", "assistantId": "asst_nobody"}),
                    deny("ASSISTANT_MISMATCH", 403),
                    description="a real call with an assistant id nobody owns"))
    v.append(vector("threat3_phone_number_hijacking", 3,
                    message({"id": "call_alice_1", "assistantId": "asst_alice",
                             "phoneNumberId": "phone_bob"}),
                    deny("PHONE_NUMBER_MISMATCH", 403),
                    description="alice's call and assistant with bob's phone number"))
    v.append(vector("threat3_phone_number_on_web_call", 3,
                    flat({"id": "call_alice_web", "assistantId": "asst_alice",
                          "phoneNumberId": "phone_alice"}),
                    deny("PHONE_NUMBER_MISMATCH", 403),
                    description="a phone number on a call that has none"))
    v.append(vector("threat4_no_call", 4, message(None), deny("MALFORMED_EVENT", 400),
                    description="no call object"))
    v.append(vector("threat4_no_call_id", 4, message({"assistantId": "asst_alice"}),
                    deny("MALFORMED_EVENT", 400), description="call without id"))
    v.append(vector("threat4_not_json", 4, b"this is not json {", deny("MALFORMED_EVENT", 400),
                    description="a body that is not JSON"))
    v.append(vector("threat4_call_wrong_type", 4, b'{"message":{"type":"status-update","call":5}}',
                    deny("MALFORMED_EVENT", 400), description='"call": 5'))
    v.append(vector("threat4_flat_call_wrong_type", 4, b'{"type":"status-update","call":"call_alice_1"}',
                    deny("MALFORMED_EVENT", 400), description='"call" is a string'))
    v.append(vector("threat4_binary_body", 4, b"\x00\xff\xfe{\"call\":\x80}",
                    deny("MALFORMED_EVENT", 400),
                    description="binary, invalid UTF-8 with NUL bytes (sent as base64 here)"))
    signed = message(ALICE_CALL)
    tampered = signed.replace(b"call_alice_1", b"call_bob_1")
    v.append(vector("threat5_body_changed_after_signing", 5, tampered,
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISMATCH"),
                    headers={"x-vapi-signature": sig(NEW, signed)}, secret=None,
                    description="the signature of the original body on a changed body"))
    v.append(vector("threat5_other_secret", 5, message(ALICE_CALL),
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISMATCH"), secret=OTHER,
                    description="signed with a secret that is not configured"))
    v.append(vector("threat5_missing_signature", 5, message(ALICE_CALL),
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISSING"), secret=None,
                    description="no signature header at all"))
    v.append(vector("threat5_malformed_signature", 5, message(ALICE_CALL),
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MALFORMED"), secret=None,
                    headers={"x-vapi-signature": "zz-not-hex-zz"},
                    description="a signature header that is not hex"))
    v.append(vector("threat5_signature_of_other_call", 5, message(ALICE_CALL),
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISMATCH"), secret=None,
                    headers={"x-vapi-signature": sig(NEW, message({"id": "call_bob_1"}))},
                    description="a valid signature of another body"))
    # Replay: validly signed, but the timestamp (2001-09-09, in milliseconds as
    # VAPI sends) is far outside the 300 s window; and one far in the future.
    for name, ts in (("threat6_replay_old_timestamp", "1000000000000"),
                     ("threat6_timestamp_in_future", "4102444800000")):
        body = message(ALICE_CALL)
        v.append(vector(name, 6, body, deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_STALE"),
                        secret=None, profile="vapi-timestamped",
                        headers={"x-vapi-timestamp": ts,
                                 "x-vapi-signature": sig(NEW, ts.encode() + b"." + body)},
                        description="validly signed with a timestamp outside the tolerance"))
    # Profile vapi-hmac (preset vapi-hmac: what a VAPI HMAC credential sends
    # with its defaults): x-signature = hex HMAC-SHA256 of "{timestamp}.{body}",
    # x-timestamp in milliseconds. A fixed file cannot hold a fresh timestamp,
    # so the MAC is proven byte-exact through STALE (given only after the MAC
    # matched, never for a forgery).
    old_ms = "1000000000000"
    body = message(ALICE_CALL)
    v.append(vector("vapi_hmac_authentic_but_stale", 6, body,
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_STALE"), secret=None,
                    profile="vapi-hmac",
                    headers={"x-timestamp": old_ms,
                             "x-signature": sig(NEW, old_ms.encode() + b"." + body)},
                    description="preset vapi-hmac: the MAC of '{timestamp}.{body}' matches, the "
                                "millisecond timestamp is outside the 300 s window"))
    v.append(vector("vapi_hmac_other_secret", 5, body,
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISMATCH"), secret=None,
                    profile="vapi-hmac",
                    headers={"x-timestamp": old_ms,
                             "x-signature": sig(OTHER, old_ms.encode() + b"." + body)},
                    description="preset vapi-hmac signed with another secret: a forgery is "
                                "MISMATCH, never STALE"))
    v.append(vector("vapi_hmac_timestamp_missing", 6, body,
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MALFORMED"), secret=None,
                    profile="vapi-hmac",
                    headers={"x-signature": sig(NEW, old_ms.encode() + b"." + body)},
                    description="preset vapi-hmac without its x-timestamp header"))
    v.append(vector("vapi_hmac_legacy_header_only", 5, body,
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISSING"),
                    profile="vapi-hmac",
                    description="preset vapi-hmac reads x-signature, not the legacy "
                                "x-vapi-signature over the body"))
    v.append(vector("threat6_timestamp_missing", 6, message(ALICE_CALL),
                    deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MALFORMED"),
                    profile="vapi-timestamped",
                    description="a timestamped profile without the timestamp header"))
    v.append(vector("threat8_assistant_owned_by_other_user", 8,
                    message({"id": "call_alice_bobs_assistant", "assistantId": "asst_bob"}),
                    deny("ASSISTANT_OWNER_MISMATCH", 403),
                    description="inconsistent row: alice's call whose assistant is bob's"))
    v.append(vector("threat8_phone_owned_by_other_user", 8,
                    message({"id": "call_alice_bobs_phone", "assistantId": "asst_alice",
                             "phoneNumberId": "phone_bob"}),
                    deny("PHONE_NUMBER_OWNER_MISMATCH", 403),
                    description="inconsistent row: alice's call whose phone number is bob's"))
    v.append(vector("threat9_wrong_tenant", 9, message(ALICE_CALL), deny("OWNER_MISMATCH", 403),
                    expected_owner_id="2", description="bob acting on alice's call"))
    v.append(vector("threat10_sql_injection_or", 10, message({"id": "x' OR '1'='1"}),
                    deny("CALL_NOT_FOUND", 404), description="SQL in the call id"))
    v.append(vector("threat10_sql_injection_comment", 10,
                    message({"id": "call_alice_1' --", "assistantId": "asst_alice"}),
                    deny("CALL_NOT_FOUND", 404), description="SQL comment after a real id"))
    v.append(vector("call_not_found", None, message({"id": "call_nobody"}),
                    deny("CALL_NOT_FOUND", 404), description="an unknown call id"))

    # --- events before the call row: the default resolution chain ---------
    # assistant-request is resolved by its call row, else its phone number
    # (an inbound call still ringing); the app has no row for these calls.
    def ringing(call_id: str, phone: str, assistant=None) -> bytes:
        return message({"id": call_id, "assistantId": assistant, "phoneNumberId": phone,
                        "orgId": "org_demo"}, "assistant-request", phoneNumber={"id": phone})
    v.append(vector("inbound_assistant_request_by_phone_number", 23,
                    ringing("call_inbound_new", "phone_alice"), allow("1", source="PHONE_NUMBER"),
                    description="an inbound call still ringing, no call row: the owner of the "
                                "number"))
    v.append(vector("inbound_assistant_request_owner_conflict", 23,
                    ringing("call_inbound_new", "phone_bob", "asst_alice"),
                    deny("OWNER_CONFLICT", 403),
                    description="no call row; bob's number with alice's assistant"))
    v.append(vector("inbound_assistant_request_unknown_number", 23,
                    ringing("call_inbound_new", "phone_nobody"), deny("CALL_NOT_FOUND", 404),
                    description="no call row and no row for the number either"))
    v.append(vector("status_update_before_call_row", 23,
                    message({"id": "call_outbound_new", "assistantId": "asst_alice"}),
                    deny("CALL_NOT_FOUND", 404),
                    description="other types are decided by the call row only by default"))

    # --- shadow mode (profile vapi-shadow): ALLOW/200, the would-be decision
    # in shadow_decision/shadow_reason, the owner only when really found ----
    v.append(vector("shadow_allowed_call", None, message(ALICE_CALL), shadow(allow("1")),
                    profile="vapi-shadow",
                    description="shadow mode, an allowed call: the owner and shadow ALLOW"))
    v.append(vector("shadow_cross_user_assistant", 1,
                    message({"id": "call_bob_1", "assistantId": "asst_alice"}),
                    shadow(deny("ASSISTANT_MISMATCH", 403)), profile="vapi-shadow",
                    description="shadow mode, threat 1: let through, no owner, would-be deny"))
    v.append(vector("shadow_forged_signature", 5, message(ALICE_CALL),
                    shadow(deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISMATCH")),
                    secret=OTHER, profile="vapi-shadow",
                    description="shadow mode, signed with another secret: let through, no "
                                "owner, would-be 401"))

    # --- subjects (profiles with ownership.subjects): the tenant's id read
    # from the signed body. stripe-connect signs like the vapi profile (the
    # stripe preset's timestamp would make a fixed vector stale); github uses
    # the github preset. Owners: tests/fixtures/subjects.sql. ---------------
    stripe = platform_body("stripe/connect_payment_intent_succeeded.json")
    v.append(vector("subject_stripe_connect_account", None, stripe,
                    subject_allow("1", "account", "contract-subjects"), profile="stripe-connect",
                    description="a Stripe Connect event: `account` names alice's account"))
    v.append(vector("subject_stripe_unknown_account", 34,
                    platform_body("stripe/connect_payment_intent_succeeded.json",
                                  account="acct_1Nobody"),
                    subject_deny("SUBJECT_NOT_FOUND", 404), profile="stripe-connect",
                    description="an account the app has no row for"))
    v.append(vector("subject_stripe_other_tenants_account", 9,
                    platform_body("stripe/connect_payment_intent_succeeded.json",
                                  account="acct_1BobBBBBBBBBBBBB"),
                    subject_deny("OWNER_MISMATCH", 403), profile="stripe-connect",
                    expected_owner_id="1",
                    description="bob's connected account while the app acts for alice"))
    v.append(vector("subject_stripe_duplicate_account_key", 17,
                    stripe.replace(b'"account":"acct_1AliceAAAAAAAAAA"',
                                   b'"account":"acct_1AliceAAAAAAAAAA",'
                                   b'"account":"acct_1BobBBBBBBBBBBBB"'),
                    subject_deny("MALFORMED_EVENT", 400), profile="stripe-connect",
                    description="`account` twice: readers differ on which one wins"))
    v.append(vector("subject_stripe_case_variant_account_key", 17,
                    platform_body("stripe/connect_payment_intent_succeeded.json",
                                  Account="acct_1BobBBBBBBBBBBBB"),
                    subject_deny("MALFORMED_EVENT", 400), profile="stripe-connect",
                    description="`Account` beside `account`: a case-insensitive reader may "
                                "take bob's"))
    v.append(vector("subject_stripe_account_wrong_type", 4,
                    platform_body("stripe/connect_payment_intent_succeeded.json",
                                  account={"id": "acct_1AliceAAAAAAAAAA"}),
                    subject_deny("MALFORMED_EVENT", 400), profile="stripe-connect",
                    description="`account` is an object"))
    v.append(vector("subject_stripe_sql_injection", 10,
                    platform_body("stripe/connect_payment_intent_succeeded.json",
                                  account="x' OR '1'='1"),
                    subject_deny("SUBJECT_NOT_FOUND", 404), profile="stripe-connect",
                    description="SQL in the subject id: a bound parameter finds nothing"))
    github = platform_body("github/issues_opened.json")
    v.append(vector("subject_github_installation_number", None, github,
                    subject_allow("1", "installation", "contract-github"), secret=None,
                    headers=github_headers(github), profile="github-app",
                    description="a GitHub App delivery: installation.id is a JSON number"))
    bad_number = github.replace(b'"id":41000001,', b'"id":41000001.0,')
    v.append(vector("subject_github_installation_float", 4, bad_number,
                    subject_deny("MALFORMED_EVENT", 400), secret=None,
                    headers=github_headers(bad_number), profile="github-app",
                    description="installation.id with a fraction: no integer to compare"))
    doubled = github.replace(b'"installation":{"id":41000001,',
                             b'"installation":{"id":41000001,"ID":41000002,')
    v.append(vector("subject_github_case_variant_id", 17, doubled,
                    subject_deny("MALFORMED_EVENT", 400), secret=None,
                    headers=github_headers(doubled), profile="github-app",
                    description="`ID` beside `id` inside installation"))
    v.append(vector("subject_github_body_changed_after_signing", 5,
                    github.replace(b'"id":41000001,', b'"id":41000002,'),
                    dict(deny("SIGNATURE_INVALID", 401, "SIGNATURE_RESULT_MISMATCH"), resolved_subject=""),
                    secret=None, headers=github_headers(github), profile="github-app",
                    description="bob's installation id swapped into alice's signed delivery"))
    v.append(vector("subject_shadow_unknown_account", 34,
                    platform_body("stripe/connect_payment_intent_succeeded.json",
                                  account="acct_1Nobody"),
                    dict(shadow(deny("SUBJECT_NOT_FOUND", 404)), resolved_subject=""),
                    profile="stripe-connect-shadow",
                    description="shadow mode: let through, the would-be 404 beside it"))

    v.extend(platform_vectors())

    # --- not a decision: the helpers fail closed with 503 ------------------
    v.append(vector("rpc_error_unknown_profile", None, message(ALICE_CALL),
                    {"error": "INVALID_ARGUMENT", "decision": "DECISION_UNSPECIFIED",
                     "http_status": 503, "owner_id": ""},
                    profile="no-such-profile",
                    description="an unknown profile is INVALID_ARGUMENT; the helper answers 503"))
    return v


FIXTURES = HERE.parent / "fixtures"
TWILIO_TOKEN = SECRETS["HOOKGUARD_CONTRACT_TWILIO_TOKEN"]
TWILIO_TOKEN_OLD = SECRETS["HOOKGUARD_CONTRACT_TWILIO_TOKEN_OLD"]
RETELL_KEY = SECRETS["HOOKGUARD_CONTRACT_RETELL_KEY"]
ELEVENLABS_SECRET = SECRETS["HOOKGUARD_CONTRACT_ELEVENLABS_SECRET"]
SLACK_SECRET = SECRETS["HOOKGUARD_CONTRACT_SLACK_SECRET"]
FORM = "application/x-www-form-urlencoded"
TWILIO_URL = "https://hooks.example.com/twilio/voice/status?tenant=acme"


def platform_answer(result: str, key_id: str = "", *, owner: str = "", subject: str = "",
                    reason: str = "", status: int = 0) -> dict:
    """The whole AuthorizeWebhook answer of a subject profile
    (ownership.subjects in config.json): an invalid signature is 401 before
    any subject is read; with a valid one, ALLOW for `owner` resolved by
    `subject`, or the deny `reason` with its `status`."""
    if result != "SIGNATURE_RESULT_VALID":
        return dict(deny("SIGNATURE_INVALID", 401, result), resolved_subject="")
    if reason:
        return dict(subject_deny(reason, status), key_id=key_id)
    return subject_allow(owner, subject, key_id)


def platform_vectors() -> list[dict]:
    """Twilio, Retell, ElevenLabs and Slack deliveries (CONTRACT section 7),
    sent through every client's AuthorizeWebhook: the fixtures of
    tests/fixtures/{twilio,retell,elevenlabs,slack}, signed here by each
    platform's published rule, decided by each profile's subject
    (ownership.subjects in config.json; owners in subjects.sql)."""
    v = []
    status = (FIXTURES / "twilio" / "voice_status_callback.form").read_bytes()

    def twilio(name, threat, body, result, *, url=TWILIO_URL, signed_url=None, signed_body=None,
               token=TWILIO_TOKEN, key_id="twilio-primary", content_type=FORM,
               expected_owner_id="", owner="1", reason="", status=0, description=""):
        headers = {"X-Twilio-Signature": twilio_signature(
            token, signed_url or url, signed_body if signed_body is not None else body),
            "content-type": content_type}
        expect = platform_answer(result, key_id, owner=owner, subject="account", reason=reason,
                                 status=status)
        return vector(name, threat, body, expect, headers=headers, secret=None,
                      profile="twilio", method="POST", url=url,
                      expected_owner_id=expected_owner_id, description=description)

    v.append(twilio("twilio_status_callback", None, status, "SIGNATURE_RESULT_VALID",
                    description="a voice status callback, form-encoded, signed over the URL and "
                                "the sorted parameters"))
    v.append(twilio("twilio_rotated_token", 16, status, "SIGNATURE_RESULT_VALID",
                    token=TWILIO_TOKEN_OLD, key_id="twilio-secondary",
                    description="signed with the secondary auth token during a rotation"))
    v.append(twilio("twilio_default_port_written", None, status, "SIGNATURE_RESULT_VALID",
                    url="https://hooks.example.com:443/twilio/voice/status?tenant=acme",
                    signed_url=TWILIO_URL,
                    description="Twilio signed the URL without :443; the app sees it with"))
    for part, url in (("scheme", "http://hooks.example.com/twilio/voice/status?tenant=acme"),
                      ("host", "https://hooks.example.org/twilio/voice/status?tenant=acme"),
                      ("port", "https://hooks.example.com:8443/twilio/voice/status?tenant=acme"),
                      ("path", "https://hooks.example.com/twilio/voice/other?tenant=acme"),
                      ("query", "https://hooks.example.com/twilio/voice/status?tenant=other")):
        v.append(twilio(f"twilio_url_mismatch_{part}", 5, status, "SIGNATURE_RESULT_MISMATCH",
                        url=url, signed_url=TWILIO_URL,
                        description=f"the signature of another URL ({part} differs)"))
    v.append(twilio("twilio_other_subaccount", 5,
                    status.replace(b"AC25aa00521bfac6d667f13fec086072df",
                                   b"AC99bb00521bfac6d667f13fec086072df"),
                    "SIGNATURE_RESULT_MISMATCH", signed_body=status,
                    description="AccountSid changed to another subaccount after signing"))
    v.append(twilio("twilio_parameter_added", 5, status + b"&CallerName=Mallory",
                    "SIGNATURE_RESULT_MISMATCH", signed_body=status,
                    description="a parameter added after signing"))
    alice_sid = b"AccountSid=AC25aa00521bfac6d667f13fec086072df"
    bobs = status.replace(alice_sid, b"AccountSid=AC000000000000000000000000000b0b0")
    v.append(twilio("twilio_expected_owner_matches", 9, status, "SIGNATURE_RESULT_VALID",
                    expected_owner_id="1",
                    description="alice's subaccount while the app acts for alice"))
    v.append(twilio("twilio_another_tenants_subaccount", 9, bobs, "SIGNATURE_RESULT_VALID",
                    expected_owner_id="1", reason="OWNER_MISMATCH", status=403,
                    description="correctly signed for bob's AccountSid while the app acts for "
                                "alice"))
    v.append(twilio("twilio_unknown_subaccount", 34,
                    status.replace(alice_sid, b"AccountSid=AC0000000000000000000000000n0b0dy"),
                    "SIGNATURE_RESULT_VALID", reason="SUBJECT_NOT_FOUND", status=404,
                    description="correctly signed for a subaccount the app has no row for"))
    repeated = status + b"&AccountSid=AC000000000000000000000000000b0b0"
    v.append(twilio("twilio_repeated_account_sid", 17, repeated, "SIGNATURE_RESULT_VALID",
                    reason="MALFORMED_EVENT", status=400,
                    description="AccountSid twice, correctly signed: readers differ on which "
                                "one wins"))
    v.append(twilio("twilio_bad_percent_encoding", 4, status + b"&Digits=%zz",
                    "SIGNATURE_RESULT_MALFORMED", signed_body=status,
                    description="a form body the strict parser refuses"))
    v.append(twilio("twilio_no_url", None, status, "SIGNATURE_RESULT_MALFORMED", url="",
                    signed_url=TWILIO_URL,
                    description="no HttpRequest.url: the request Twilio signed cannot be rebuilt"))
    json_body = b'{"AccountSid":"AC25aa00521bfac6d667f13fec086072df","EventType":"onMessageAdded"}'
    json_url = f"{TWILIO_URL}&bodySHA256={hashlib.sha256(json_body).hexdigest()}"
    v.append(twilio("twilio_json_body_sha256", None, json_body, "SIGNATURE_RESULT_VALID",
                    url=json_url, signed_body=b"", content_type="application/json",
                    reason="MALFORMED_EVENT", status=400,
                    description="a JSON body: the URL carries its bodySHA256 (valid); the "
                                "profile's form:AccountSid cannot be read from JSON, so it "
                                "fails closed"))
    v.append(twilio("twilio_json_body_changed", 5, json_body.replace(b"AC25aa", b"AC99bb"),
                    "SIGNATURE_RESULT_MISMATCH", url=json_url, signed_body=b"",
                    content_type="application/json",
                    description="a JSON body changed after signing: it no longer has the "
                                "URL's bodySHA256"))

    # Retell and ElevenLabs sign a timestamp. A vector file cannot hold a
    # fresh one, so the VALID vectors go to profiles whose tolerance spans
    # years (retell-any-age, elevenlabs-any-age in config.json), and the
    # presets' own windows are checked with timestamps far outside them.
    retell_body = (FIXTURES / "retell" / "call_ended.json").read_bytes()
    retell_ms = "1764919863000"

    def retell(name, threat, body, result, ms=retell_ms, profile="retell-any-age",
               signed_body=None, expected_owner_id="", owner="1", reason="", status=0,
               description=""):
        digest = sig(RETELL_KEY, (signed_body or body) + ms.encode())
        expect = platform_answer(result, "retell", owner=owner, subject="agent", reason=reason,
                                 status=status)
        return vector(name, threat, body, expect,
                      headers={"X-Retell-Signature": f"v={ms},d={digest}"}, secret=None,
                      profile=profile, expected_owner_id=expected_owner_id,
                      description=description)

    v.append(retell("retell_call_ended", None, retell_body, "SIGNATURE_RESULT_VALID",
                    description="Retell call_ended: v=<ms>,d=<hex HMAC-SHA256 of body + ms>"))
    v.append(retell("retell_body_changed", 5,
                    retell_body.replace(b"oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
                                        b"oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxE"),
                    "SIGNATURE_RESULT_MISMATCH", signed_body=retell_body,
                    description="agent_id changed after signing"))
    bob_agent = retell_body.replace(b'"agent_id":"oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"',
                                    b'"agent_id":"bobAgentXXXXXXXXXXXXXXXXXXXXXXXX"')
    v.append(retell("retell_another_tenants_agent", 9, bob_agent, "SIGNATURE_RESULT_VALID",
                    expected_owner_id="1", reason="OWNER_MISMATCH", status=403,
                    description="correctly signed for bob's agent while the app acts for alice"))
    v.append(retell("retell_duplicate_agent_id", 17,
                    retell_body.replace(b'"agent_id":"oBeD',
                                        b'"agent_id":"bobAgentXXXXXXXXXXXXXXXXXXXXXXXX",'
                                        b'"agent_id":"oBeD'),
                    "SIGNATURE_RESULT_VALID", reason="MALFORMED_EVENT", status=400,
                    description="agent_id twice in call, correctly signed"))
    v.append(retell("retell_stale", 6, retell_body, "SIGNATURE_RESULT_STALE", ms="1000000000000",
                    profile="retell",
                    description="validly signed, timestamp far outside Retell's 5 minutes"))

    eleven_body = (FIXTURES / "elevenlabs" / "post_call_transcription.json").read_bytes()
    eleven_t = "1764919871"

    def elevenlabs(name, threat, body, result, t=eleven_t, profile="elevenlabs-any-age",
                   signed_body=None, expected_owner_id="", owner="1", reason="", status=0,
                   description=""):
        digest = sig(ELEVENLABS_SECRET, t.encode() + b"." + (signed_body or body))
        expect = platform_answer(result, "elevenlabs", owner=owner, subject="agent",
                                 reason=reason, status=status)
        return vector(name, threat, body, expect,
                      headers={"ElevenLabs-Signature": f"t={t},v0={digest}"}, secret=None,
                      profile=profile, expected_owner_id=expected_owner_id,
                      description=description)

    v.append(elevenlabs("elevenlabs_post_call_transcription", None, eleven_body,
                        "SIGNATURE_RESULT_VALID",
                        description='ElevenLabs post_call_transcription: t=<s>,v0=<hex '
                                    'HMAC-SHA256 of "<t>.<body>">'))
    v.append(elevenlabs("elevenlabs_body_changed", 5,
                        eleven_body.replace(b"agent_01alice", b"agent_02bob00"),
                        "SIGNATURE_RESULT_MISMATCH", signed_body=eleven_body,
                        description="agent_id changed after signing"))
    v.append(elevenlabs("elevenlabs_another_tenants_agent", 9,
                        eleven_body.replace(b"agent_01alice0000000000000000",
                                            b"agent_02bob000000000000000000"),
                        "SIGNATURE_RESULT_VALID", expected_owner_id="1",
                        reason="OWNER_MISMATCH", status=403,
                        description="correctly signed for bob's agent while the app acts for "
                                    "alice"))
    v.append(elevenlabs("elevenlabs_unknown_agent", 34,
                        eleven_body.replace(b"agent_01alice0000000000000000",
                                            b"agent_09nobody00000000000000"),
                        "SIGNATURE_RESULT_VALID", reason="SUBJECT_NOT_FOUND", status=404,
                        description="correctly signed for an agent the app has no row for"))
    v.append(elevenlabs("elevenlabs_stale", 6, eleven_body, "SIGNATURE_RESULT_STALE",
                        t="1000000000", profile="elevenlabs",
                        description="validly signed, timestamp far outside 30 minutes"))

    # Slack (preset slack: x-slack-signature "v0=" + hex HMAC-SHA256 of
    # "v0:<timestamp>:<body>", 300 s window): VALID vectors on slack-any-age,
    # the window on slack. The subject is /team_id of the event_callback.
    slack_body = platform_body("slack/event_callback_message.json")
    slack_ts = "1764919880"

    def slack(name, threat, body, result, ts=slack_ts, profile="slack-any-age",
              signed_body=None, expected_owner_id="", reason="", status=0, description=""):
        digest = sig(SLACK_SECRET, b"v0:" + ts.encode() + b":" + (signed_body or body))
        expect = platform_answer(result, "contract-slack", owner="1", subject="team",
                                 reason=reason, status=status)
        return vector(name, threat, body, expect,
                      headers={"X-Slack-Request-Timestamp": ts,
                               "X-Slack-Signature": "v0=" + digest},
                      secret=None, profile=profile, expected_owner_id=expected_owner_id,
                      description=description)

    v.append(slack("slack_event_callback", None, slack_body, "SIGNATURE_RESULT_VALID",
                   description="Slack Events API event_callback: team_id names alice's "
                               "workspace"))
    v.append(slack("slack_expected_owner_matches", 9, slack_body, "SIGNATURE_RESULT_VALID",
                   expected_owner_id="1",
                   description="alice's workspace while the app acts for alice"))
    v.append(slack("slack_another_tenants_team", 9,
                   platform_body("slack/event_callback_message.json", team_id="T0BOB0002"),
                   "SIGNATURE_RESULT_VALID", expected_owner_id="1", reason="OWNER_MISMATCH",
                   status=403,
                   description="correctly signed for bob's workspace while the app acts for "
                               "alice"))
    v.append(slack("slack_unknown_team", 34,
                   platform_body("slack/event_callback_message.json", team_id="T0NOBODY1"),
                   "SIGNATURE_RESULT_VALID", reason="SUBJECT_NOT_FOUND", status=404,
                   description="a workspace the app has no row for"))
    v.append(slack("slack_duplicate_team_id", 17,
                   slack_body.replace(b'"team_id":"T0ALICE01","api_app_id"',
                                      b'"team_id":"T0ALICE01","team_id":"T0BOB0002","api_app_id"'),
                   "SIGNATURE_RESULT_VALID", reason="MALFORMED_EVENT", status=400,
                   description="`team_id` twice, correctly signed"))
    v.append(slack("slack_case_variant_team_id", 17,
                   platform_body("slack/event_callback_message.json", Team_ID="T0BOB0002"),
                   "SIGNATURE_RESULT_VALID", reason="MALFORMED_EVENT", status=400,
                   description="`Team_ID` beside `team_id`: a case-insensitive reader may take "
                               "bob's"))
    v.append(slack("slack_team_id_wrong_type", 4,
                   platform_body("slack/event_callback_message.json", team_id=["T0ALICE01"]),
                   "SIGNATURE_RESULT_VALID", reason="MALFORMED_EVENT", status=400,
                   description="`team_id` is an array"))
    v.append(slack("slack_body_changed_after_signing", 5,
                   platform_body("slack/event_callback_message.json", team_id="T0BOB0002"),
                   "SIGNATURE_RESULT_MISMATCH", signed_body=slack_body,
                   description="bob's team_id swapped into alice's signed delivery"))
    v.append(slack("slack_stale", 6, slack_body, "SIGNATURE_RESULT_STALE", ts="1000000000",
                   profile="slack",
                   description="validly signed, timestamp far outside Slack's 5 minutes"))
    return v


def render() -> str:
    doc = {
        "comment": ("Generated by tests/contract/make_vectors.py; do not edit. Run the server with "
                    "tests/contract/config.json, the secrets below in its environment, and the "
                    "fixtures django_schema.sql + consistent.sql + inconsistent.sql + subjects.sql. "
                    "A body is "
                    "UTF-8 text in 'body' or bytes in 'body_base64'. Runners compare every 'expect' "
                    "key (an unknown key is a failure) and no other; 'error' means a gRPC status "
                    "code instead of a decision. Enum values are their proto names."),
        "secrets_env": SECRETS,
        "vectors": vectors(),
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    if sys.argv[1:] == ["--check"]:
        if OUT.read_text(encoding="utf-8") != text:
            sys.exit("vectors.json is stale: run tests/contract/make_vectors.py")
        print("vectors.json up to date")
    else:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT} ({len(vectors())} vectors)")
