"""hookguard_client.fastapi with the test double (no server): the deny header
and hook, 503 on outages, shadow mode and the body limit, in a default app."""
from __future__ import annotations

import logging

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from hookguard_client import DEFAULT_MAX_BODY_BYTES, Verdict
from hookguard_client.fastapi import HookguardDependency
from hookguard_client.testing import (FakeHookguardClient, allow, deny, shadow_deny,
                                      unavailable)

BODY = b'{"message":{"type":"status-update","call":{"id":"c1"}}}'


def make_app(fake, handled, **options):
    app = FastAPI()
    guard = HookguardDependency(fake, **options)

    @app.post("/webhooks/vapi")
    async def vapi_webhook(request: Request, verdict: Verdict = Depends(guard)):
        body = await request.body()  # readable again after the dependency
        handled.append((verdict.owner_id, request.state.hookguard_owner_id, len(body)))
        return {"ok": True}
    return app


def post(app, body=BODY):
    with TestClient(app) as tc:
        return tc.post("/webhooks/vapi", content=body, headers={"x-vapi-signature": "ab"})


def test_allow_runs_the_endpoint_with_the_raw_body():
    fake, handled = FakeHookguardClient(allow("42")), []
    assert post(make_app(fake, handled, profile="vapi")).status_code == 200
    assert handled == [("42", "42", len(BODY))]
    call = fake.calls[0]
    assert (call.body, call.profile, call.method, call.headers["x-vapi-signature"]) == (
        BODY, "vapi", "POST", "ab")


def test_deny_answers_status_reason_decision_id_and_calls_the_hook():
    hook, handled = [], []
    app = make_app(FakeHookguardClient(deny("DENY_REASON_CALL_NOT_FOUND", decision_id="d-9")),
                   handled, on_deny=lambda request, v: hook.append(v.reason))
    resp = post(app)
    assert resp.status_code == 404
    assert resp.json() == {"detail": "DENY_REASON_CALL_NOT_FOUND"}
    assert resp.headers["Hookguard-Decision-Id"] == "d-9"
    assert (hook, handled) == (["DENY_REASON_CALL_NOT_FOUND"], [])


def test_a_failing_hook_does_not_change_the_answer():
    def hook(request, verdict):
        raise RuntimeError("app bug")
    resp = post(make_app(FakeHookguardClient(deny()), [], on_deny=hook))
    assert resp.status_code == 403


def test_outage_is_503_hookguard_unavailable():
    resp = post(make_app(FakeHookguardClient(unavailable()), []))
    assert (resp.status_code, resp.json()) == (503, {"detail": "hookguard unavailable"})
    assert "Hookguard-Decision-Id" not in resp.headers


def test_shadow_deny_runs_the_endpoint_and_logs_the_would_be_deny(caplog):
    caplog.set_level(logging.WARNING, logger="hookguard_client")
    handled = []
    fake = FakeHookguardClient(shadow_deny("DENY_REASON_OWNER_MISMATCH", decision_id="d-s"))
    assert post(make_app(fake, handled)).status_code == 200
    assert handled == [("", "", len(BODY))]
    assert "DENY_REASON_OWNER_MISMATCH" in caplog.text and "d-s" in caplog.text


@pytest.mark.parametrize("limit", [DEFAULT_MAX_BODY_BYTES, 10])
def test_body_limit_boundary(limit):
    fake, handled = FakeHookguardClient(allow()), []
    options = {} if limit == DEFAULT_MAX_BODY_BYTES else {"max_body_bytes": limit}
    app = make_app(fake, handled, **options)
    assert post(app, b"x" * limit).status_code == 200
    resp = post(app, b"x" * (limit + 1))
    assert (resp.status_code, resp.json()) == (413, {"detail": f"request body over {limit} bytes"})
    assert [len(c.body) for c in fake.calls] == [limit]


def test_body_limit_without_content_length():
    fake, handled = FakeHookguardClient(allow()), []
    app = make_app(fake, handled, max_body_bytes=10)

    def chunks():
        yield b"012345"
        yield b"6789a"
    with TestClient(app) as tc:
        assert tc.post("/webhooks/vapi", content=chunks()).status_code == 413
    assert fake.calls == []


def test_fail_open_runs_the_endpoint_with_no_owner_and_the_error_set(caplog):
    caplog.set_level(logging.WARNING, logger="hookguard_client")
    handled, seen = [], []
    app = make_app(FakeHookguardClient(unavailable("DEADLINE_EXCEEDED")), handled, fail_open=True)

    @app.post("/webhooks/err")
    async def err_endpoint(verdict: Verdict = Depends(HookguardDependency(
            FakeHookguardClient(unavailable("DEADLINE_EXCEEDED")), fail_open=True))):
        seen.append((verdict.owner_id, verdict.error, verdict.failed_open))
        return {"ok": True}
    assert post(app).status_code == 200
    with TestClient(app) as tc:
        assert tc.post("/webhooks/err", content=BODY).status_code == 200
    assert handled == [("", "", len(BODY))]
    assert seen == [("", "DEADLINE_EXCEEDED", True)]
    assert "fail-open" in caplog.text and BODY.decode() not in caplog.text


def test_fail_open_obeys_a_deny():
    handled = []
    assert post(make_app(FakeHookguardClient(deny()), handled, fail_open=True)).status_code == 403
    assert handled == []


def test_deny_and_shadow_would_deny_are_captured_an_allow_is_not(tmp_path):
    import base64
    import json
    import os

    from hookguard_client.capture import capture_to_directory
    fake = FakeHookguardClient(deny("DENY_REASON_CALL_NOT_FOUND", decision_id="d-1"),
                               shadow_deny(decision_id="d-2"), allow(), unavailable())
    app = make_app(fake, [], capture=capture_to_directory(str(tmp_path)), profile="vapi")
    assert [post(app).status_code for _ in range(4)] == [404, 200, 200, 503]
    files = sorted(os.listdir(tmp_path))
    records = [json.load(open(tmp_path / f)) for f in files]
    assert [r["decision_id"] for r in records] == ["d-1", "d-2"]
    assert all(base64.b64decode(r["body_base64"]) == BODY for r in records)
    assert records[0]["headers"]["x-vapi-signature"] == "ab"
    assert (records[0]["profile"], records[0]["url"]) == ("vapi", "http://testserver/webhooks/vapi")


def test_a_failing_capture_hook_changes_no_answer():
    def hook(capture):
        raise OSError("disk full")
    app = make_app(FakeHookguardClient(deny(), shadow_deny()), [], capture=hook)
    assert [post(app).status_code for _ in range(2)] == [403, 200]


# The full URL goes to hookguard (a twilio profile verifies it); forwarded
# headers count only with trust_forwarded_headers=True.
@pytest.mark.parametrize("trust,headers,url", [
    (False, {}, "http://testserver/webhooks/vapi?tenant=acme"),
    (False, {"x-forwarded-proto": "https", "x-forwarded-host": "hooks.example.com"},
     "http://testserver/webhooks/vapi?tenant=acme"),
    (True, {"x-forwarded-proto": "https", "x-forwarded-host": "hooks.example.com"},
     "https://hooks.example.com/webhooks/vapi?tenant=acme"),
    (True, {"x-forwarded-proto": "evil, HTTPS", "x-forwarded-host": "evil.example, hooks.example.com:8443"},
     "https://hooks.example.com:8443/webhooks/vapi?tenant=acme"),
    (True, {}, "http://testserver/webhooks/vapi?tenant=acme"),
], ids=["direct", "forwarded-ignored", "forwarded-trusted", "last-value-wins", "trusted-absent"])
def test_sends_the_full_url(trust, headers, url):
    fake = FakeHookguardClient(allow("42"))
    app = make_app(fake, [], trust_forwarded_headers=trust)
    with TestClient(app) as tc:
        assert tc.post("/webhooks/vapi?tenant=acme", content=BODY, headers=headers).status_code == 200
    assert fake.calls[0].url == url
