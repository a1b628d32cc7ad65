"""Threat-table rows 1-6, 8-10 and 12, each with the exact answer the
wire API documents, through a real server on real PostgreSQL and on SQLite."""
from __future__ import annotations

import json
import time

import grpc
import pytest
from conftest import (SECRET_NEW, SECRET_OLD, TS_SECRET, LEGACY_SECRET, hmac_hex, signed_webhook,
                      vapi_body)

ALLOW, DENY = 1, 2

# (name, call fields, expected_owner, http, reason enum name, owner)
OWNERSHIP_CASES = [
    ("allow alice's call", {"id": "call_alice_1", "assistantId": "asst_alice",
                            "phoneNumberId": "phone_alice"}, "", 200, "DENY_REASON_UNSPECIFIED", "1"),
    ("allow bob's call, only the call id", {"id": "call_bob_1"}, "", 200,
     "DENY_REASON_UNSPECIFIED", "2"),
    ("allow a web call without a phone number", {"id": "call_alice_web", "assistantId": "asst_alice"},
     "1", 200, "DENY_REASON_UNSPECIFIED", "1"),
    ("row 1 cross-user: bob's call with alice's assistant",
     {"id": "call_bob_1", "assistantId": "asst_alice"}, "", 403, "DENY_REASON_ASSISTANT_MISMATCH", ""),
    ("row 2 assistant spoofing", {"id": "call_alice_1", "assistantId": "asst_nobody_999"}, "", 403,
     "DENY_REASON_ASSISTANT_MISMATCH", ""),
    ("row 3 phone hijacking", {"id": "call_alice_1", "assistantId": "asst_alice",
                               "phoneNumberId": "phone_bob"}, "", 403,
     "DENY_REASON_PHONE_NUMBER_MISMATCH", ""),
    ("row 3 phone named on a call without one", {"id": "call_alice_web", "phoneNumberId": "phone_alice"},
     "", 403, "DENY_REASON_PHONE_NUMBER_MISMATCH", ""),
    ("row 8 call's assistant owned by another user", {"id": "call_alice_bobs_assistant"}, "", 403,
     "DENY_REASON_ASSISTANT_OWNER_MISMATCH", ""),
    ("row 8 call's phone number owned by another user", {"id": "call_alice_bobs_phone"}, "", 403,
     "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH", ""),
    ("row 8 call whose assistant row is missing", {"id": "call_alice_missing_assistant"}, "", 403,
     "DENY_REASON_ASSISTANT_OWNER_MISMATCH", ""),
    ("row 9 caller acting for the wrong tenant", {"id": "call_alice_1"}, "2", 403,
     "DENY_REASON_OWNER_MISMATCH", ""),
    ("row 10 SQL injection", {"id": "x' OR '1'='1"}, "", 404, "DENY_REASON_CALL_NOT_FOUND", ""),
    ("row 10 SQL injection, comment", {"id": "call_alice_1' --"}, "", 404,
     "DENY_REASON_CALL_NOT_FOUND", ""),
    ("unknown call", {"id": "call_that_does_not_exist"}, "", 404, "DENY_REASON_CALL_NOT_FOUND", ""),
]


@pytest.mark.parametrize("name,call,owner,http,reason,owner_id", OWNERSHIP_CASES,
                         ids=[c[0] for c in OWNERSHIP_CASES])
def test_authorize_webhook(stub, pb, name, call, owner, http, reason, owner_id):
    r = stub.AuthorizeWebhook(signed_webhook(pb, vapi_body(call), expected_owner=owner), timeout=5)
    assert pb.m.DenyReason.Name(r.reason) == reason
    assert r.http_status == http
    assert r.decision == (ALLOW if http == 200 else DENY)
    assert r.owner_id == owner_id
    assert r.signature == pb.m.SIGNATURE_RESULT_VALID
    assert r.key_id == "2026-11"
    assert r.event.call_id == call["id"]
    assert len(r.decision_id) == 32


@pytest.mark.parametrize("name,call,owner,http,reason,owner_id", OWNERSHIP_CASES,
                         ids=[c[0] for c in OWNERSHIP_CASES])
def test_authorize_call_event(stub, pb, name, call, owner, http, reason, owner_id):
    event = pb.m.CallEvent(call_id=call["id"], assistant_id=call.get("assistantId", ""),
                           phone_number_id=call.get("phoneNumberId", ""))
    r = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(event=event, expected_owner_id=owner),
                                timeout=5)
    assert pb.m.DenyReason.Name(r.reason) == reason
    assert r.http_status == http
    assert r.owner_id == owner_id


def test_flat_shape_of_the_origin_document(stub, pb):
    body = json.dumps({"type": "call.ended",
                       "call": {"id": "call_bob_1", "assistantId": "asst_bob"}}).encode()
    r = stub.AuthorizeWebhook(signed_webhook(pb, body), timeout=5)
    assert (r.decision, r.owner_id, r.http_status) == (ALLOW, "2", 200)


def test_phone_number_object_of_vapi_messages(stub, pb):
    body = vapi_body({"id": "call_alice_1"}, phoneNumber={"id": "phone_bob", "twilioAuthToken": "x"})
    r = stub.AuthorizeWebhook(signed_webhook(pb, body), timeout=5)
    assert pb.m.DenyReason.Name(r.reason) == "DENY_REASON_PHONE_NUMBER_MISMATCH"


MALFORMED = [
    ("no call object", json.dumps({"message": {"type": "status-update"}}).encode()),
    ("call without id", vapi_body({"assistantId": "asst_alice"})),
    ("empty call id", vapi_body({"id": ""})),
    ("not JSON", b"call_id=call_alice_1"),
    ("call is a number", json.dumps({"message": {"call": 5}}).encode()),
    ("call id is a number", vapi_body({"id": 5})),
    ("duplicate call keys", b'{"call":{"id":"call_bob_1"},"call":{"id":"call_alice_1"}}'),
    ("duplicate id keys", b'{"call":{"id":"call_bob_1","id":"call_alice_1"}}'),
    ("escaped duplicate key", b'{"call":{"id":"call_bob_1"},"c\\u0061ll":{"id":"call_alice_1"}}'),
    ("deep nesting", b'{"call":{"id":"call_alice_1"},"x":' + b"[" * 100000 + b"]" * 100000 + b"}"),
    ("invalid UTF-8", b'{"call":{"id":"call_alice_1\xff\xfe"}}'),
    ("NUL byte outside strings", b'{"call":{"id":"call_alice_1"}}\x00'),
    ("trailing garbage", b'{"call":{"id":"call_alice_1"}} {"call":{"id":"call_bob_1"}}'),
    ("empty body", b""),
]


@pytest.mark.parametrize("name,body", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_row4_and_row12_malformed_bodies_are_400(stub, pb, name, body):
    r = stub.AuthorizeWebhook(signed_webhook(pb, body), timeout=5)
    assert r.decision == DENY
    assert pb.m.DenyReason.Name(r.reason) == "DENY_REASON_MALFORMED_EVENT"
    assert r.http_status == 400
    assert r.owner_id == ""


def test_row5_body_changed_after_signing(stub, pb):
    body = vapi_body({"id": "call_alice_1"})
    req = signed_webhook(pb, body)
    req.request.body = body.replace(b"call_alice_1", b"call_bob_1")
    r = stub.AuthorizeWebhook(req, timeout=5)
    assert pb.m.DenyReason.Name(r.reason) == "DENY_REASON_SIGNATURE_INVALID"
    assert r.signature == pb.m.SIGNATURE_RESULT_MISMATCH
    assert r.http_status == 401
    assert r.event.call_id == "", "a forged body must not be parsed"


def test_row5_signed_with_another_secret(stub, pb):
    r = stub.AuthorizeWebhook(signed_webhook(pb, vapi_body({"id": "call_alice_1"}), secret="guess"),
                              timeout=5)
    assert (r.reason, r.signature, r.http_status) == (
        pb.m.DENY_REASON_SIGNATURE_INVALID, pb.m.SIGNATURE_RESULT_MISMATCH, 401)


@pytest.mark.parametrize("headers,result", [
    ({}, "SIGNATURE_RESULT_MISSING"),
    ({"x-vapi-signature": ""}, "SIGNATURE_RESULT_MISSING"),
    ({"x-vapi-signature": "zz-not-hex"}, "SIGNATURE_RESULT_MALFORMED"),
    ({"x-vapi-signature": "a" * 64, "X-VAPI-SIGNATURE": "b" * 64}, "SIGNATURE_RESULT_MALFORMED"),
    ({"x-vapi-signature": "ab" * 600000}, "SIGNATURE_RESULT_MALFORMED"),
])
def test_signature_header_faults(stub, pb, headers, result):
    body = vapi_body({"id": "call_alice_1"})
    r = stub.VerifySignature(pb.m.VerifySignatureRequest(
        request=pb.m.HttpRequest(body=body, headers=headers)), timeout=5)
    assert pb.m.SignatureResult.Name(r.result) == result
    assert r.http_status == 401


def ts_request(pb, body: bytes, ts: int, secret: str = TS_SECRET):
    sig = hmac_hex(secret, f"{ts}.".encode() + body)
    return pb.m.HttpRequest(body=body, headers={"x-signature": sig, "x-timestamp": str(ts)})


@pytest.mark.parametrize("offset,unit,result", [
    (0, 1, "SIGNATURE_RESULT_VALID"),
    (0, 1000, "SIGNATURE_RESULT_VALID"),       # milliseconds, as VAPI sends
    (-3600, 1, "SIGNATURE_RESULT_STALE"),      # row 6: replay an hour later
    (-3600, 1000, "SIGNATURE_RESULT_STALE"),
    (+3600, 1, "SIGNATURE_RESULT_STALE"),      # from the future
])
def test_row6_replay_outside_tolerance_is_stale(stub, pb, offset, unit, result):
    ts = (int(time.time()) + offset) * unit
    r = stub.VerifySignature(pb.m.VerifySignatureRequest(
        profile="vapi_ts", request=ts_request(pb, vapi_body({"id": "call_alice_1"}), ts)), timeout=5)
    assert pb.m.SignatureResult.Name(r.result) == result
    if result == "SIGNATURE_RESULT_VALID":
        assert abs(r.timestamp_unix - time.time()) < 10


def test_row6_timestamp_profile_without_timestamp_is_malformed(stub, pb):
    body = vapi_body({"id": "call_alice_1"})
    req = pb.m.HttpRequest(body=body, headers={"x-signature": hmac_hex(TS_SECRET, body)})
    r = stub.VerifySignature(pb.m.VerifySignatureRequest(profile="vapi_ts", request=req), timeout=5)
    assert r.result == pb.m.SIGNATURE_RESULT_MALFORMED


def test_row6_stale_webhook_is_denied_401(stub, pb):
    body = vapi_body({"id": "call_alice_1"})
    req = pb.m.AuthorizeWebhookRequest(profile="vapi_ts",
                                       request=ts_request(pb, body, int(time.time()) - 3600))
    r = stub.AuthorizeWebhook(req, timeout=5)
    assert (r.signature, r.reason, r.http_status) == (
        pb.m.SIGNATURE_RESULT_STALE, pb.m.DENY_REASON_SIGNATURE_INVALID, 401)


def test_shared_secret_profile(stub, pb):
    body = b"{}"
    ok = stub.VerifySignature(pb.m.VerifySignatureRequest(
        profile="legacy", request=pb.m.HttpRequest(body=body, headers={"X-Vapi-Secret": LEGACY_SECRET})),
        timeout=5)
    bad = stub.VerifySignature(pb.m.VerifySignatureRequest(
        profile="legacy", request=pb.m.HttpRequest(body=body, headers={"x-vapi-secret": "wrong"})),
        timeout=5)
    assert (ok.result, ok.key_id, ok.http_status) == (pb.m.SIGNATURE_RESULT_VALID, "legacy", 200)
    assert (bad.result, bad.http_status) == (pb.m.SIGNATURE_RESULT_MISMATCH, 401)


def test_row16_rotation_both_secrets_verify_and_key_id_says_which(stub, pb):
    body = vapi_body({"id": "call_alice_1"})
    for secret, key_id in ((SECRET_NEW, "2026-11"), (SECRET_OLD, "2026-10")):
        r = stub.AuthorizeWebhook(signed_webhook(pb, body, secret=secret), timeout=5)
        assert (r.decision, r.key_id) == (ALLOW, key_id)


def test_unknown_profile_is_invalid_argument(stub, pb):
    with pytest.raises(grpc.RpcError) as e:
        stub.VerifySignature(pb.m.VerifySignatureRequest(profile="nope"), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_row12_body_over_the_limit_is_resource_exhausted(stub, pb):
    body = b'{"call":{"id":"call_alice_1"},"pad":"' + b"x" * (2 << 20) + b'"}'
    with pytest.raises(grpc.RpcError) as e:
        stub.AuthorizeWebhook(signed_webhook(pb, body), timeout=10)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_row12_hundred_megabyte_body_is_refused_and_server_survives(stub, pb, server):
    body = b"x" * (100 << 20)
    with pytest.raises(grpc.RpcError) as e:
        stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(request=pb.m.HttpRequest(body=body)),
                              timeout=30)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    r = stub.AuthorizeWebhook(signed_webhook(pb, vapi_body({"id": "call_alice_1"})), timeout=5)
    assert r.decision == ALLOW
    assert server.proc.poll() is None


def test_row12_huge_and_odd_headers_do_not_crash(stub, pb, server):
    body = vapi_body({"id": "call_alice_1"})
    headers = {"x-vapi-signature": hmac_hex(SECRET_NEW, body), "x-junk": "\u00e9\u4e2d" * 10000,
               "x-nul": "a\x00b"}
    r = stub.AuthorizeWebhook(signed_webhook(pb, body, headers=headers), timeout=5)
    assert r.decision == ALLOW
    assert server.proc.poll() is None


def test_health_and_reflection_are_served(server, pb):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "hookguard.v1.WebhookAuthService"):
            assert health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status == \
                health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        names = {s.name for a in answers for s in a.list_services_response.service}
        assert "hookguard.v1.WebhookAuthService" in names


@pytest.mark.parametrize("call_id", ["call_alice_1\x00junk", "call_alice_1\n", "c" * 257])
def test_row10_ids_that_would_be_cut_or_bent_are_malformed(stub, pb, call_id):
    # libpq passes ids as C strings: without this check "call_alice_1\0junk"
    # would be looked up as "call_alice_1".
    r = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(
        event=pb.m.CallEvent(call_id=call_id)), timeout=5)
    assert (r.decision, r.reason, r.http_status) == (DENY, pb.m.DENY_REASON_MALFORMED_EVENT, 400)
