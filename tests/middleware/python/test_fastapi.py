"""End-to-end: a FastAPI app (TestClient) guarded by hookguard_client.fastapi,
against the live server."""
from __future__ import annotations


import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from hookguard_client import DEFAULT_MAX_BODY_BYTES, AsyncHookguardClient, Verdict
from hookguard_client.fastapi import HookguardDependency

handled: list = []


def make_app(target: str) -> FastAPI:
    # --- docs/clients.md: FastAPI ----------------------------------------------
    app = FastAPI()
    guard = HookguardDependency(AsyncHookguardClient(target))

    @app.post("/webhooks/vapi")
    async def vapi_webhook(request: Request, verdict: Verdict = Depends(guard)):
        event = await request.json()        # runs only for an allowed webhook
        handled.append((verdict.owner_id, event["message"]["type"]))
        return {"ok": True}
    # --- end -------------------------------------------------------------------
    return app


@pytest.fixture(autouse=True)
def clear():
    handled.clear()


def post(tc, body, headers):
    return tc.post("/webhooks/vapi", content=body, headers=headers)


def test_allowed_webhook_runs_endpoint_with_owner(hookguard_target, vector):
    body, headers, _ = vector("allow_message_shape")
    with TestClient(make_app(hookguard_target)) as tc:
        resp = post(tc, body, headers)
    assert resp.status_code == 200, resp.text
    assert handled == [("1", "status-update")]


def test_attacks_get_contract_status_and_endpoint_not_run(hookguard_target, vector):
    with TestClient(make_app(hookguard_target)) as tc:
        for name in ("threat1_cross_user_assistant", "threat3_phone_number_hijacking",
                     "threat5_body_changed_after_signing", "threat4_not_json"):
            body, headers, expect = vector(name)
            assert post(tc, body, headers).status_code == expect["http_status"], name
    assert handled == []


def test_deny_carries_the_decision_id(hookguard_target, vector):
    body, headers, _ = vector("threat8_assistant_owned_by_other_user")
    with TestClient(make_app(hookguard_target)) as tc:
        resp = post(tc, body, headers)
    assert (resp.status_code, resp.json()) == (403, {"detail": "DENY_REASON_ASSISTANT_OWNER_MISMATCH"})
    assert len(resp.headers["Hookguard-Decision-Id"]) > 8


def test_body_limit_boundary_matches_the_server(hookguard_target, signed_report):
    with TestClient(make_app(hookguard_target)) as tc:
        assert post(tc, *signed_report(DEFAULT_MAX_BODY_BYTES)).status_code == 200
        assert post(tc, *signed_report(DEFAULT_MAX_BODY_BYTES + 1)).status_code == 413
    assert handled == [("1", "end-of-call-report")]


def test_unreachable_server_is_503(unreachable_target, vector):
    body, headers, _ = vector("allow_message_shape")
    app = FastAPI()
    guard = HookguardDependency(AsyncHookguardClient(unreachable_target, timeout=0.3))

    @app.post("/webhooks/vapi")
    async def vapi_webhook(verdict: Verdict = Depends(guard)):
        handled.append(verdict.owner_id)
        return {"ok": True}

    with TestClient(app) as tc:
        resp = post(tc, body, headers)
    assert (resp.status_code, resp.json()) == (503, {"detail": "hookguard unavailable"})
    assert handled == []


def test_shadow_mode_lets_through_and_logs_would_be_denies(hookguard_target, vector, caplog,
                                                          assert_shadow_logged):
    """A profile in shadow mode (tests/contract/config.json): every webhook
    reaches the endpoint (200), with the owner only when the checks found
    one; a would-be deny is logged with its reason and decision id."""
    app = FastAPI()
    guard = HookguardDependency(AsyncHookguardClient(hookguard_target), profile="vapi-shadow")

    @app.post("/webhooks/vapi")
    async def vapi_webhook(verdict: Verdict = Depends(guard)):
        handled.append(verdict.owner_id)
        return {"ok": True}

    names = ["shadow_allowed_call", "shadow_cross_user_assistant", "shadow_forged_signature"]
    caplog.set_level("WARNING", logger="hookguard_client")
    with TestClient(app) as tc:
        for name in names:
            body, headers, expect = vector(name)
            caplog.clear()
            assert post(tc, body, headers).status_code == expect["http_status"] == 200, name
            assert_shadow_logged(name, expect)
    assert handled == [vector(n)[2]["owner_id"] for n in names]


def fail_open_app(target, handled_verdicts, **options):
    app = FastAPI()
    guard = HookguardDependency(AsyncHookguardClient(target, timeout=0.3), **options)

    @app.post("/webhooks/vapi")
    async def vapi_webhook(verdict: Verdict = Depends(guard)):
        handled_verdicts.append((verdict.owner_id, verdict.error))
        return {"ok": True}
    return app


def test_unreachable_server_with_fail_open_runs_the_endpoint_with_error_and_no_owner(
        unreachable_target, vector, caplog):
    body, headers, _ = vector("allow_message_shape")
    caplog.set_level("WARNING", logger="hookguard_client")
    seen: list = []
    with TestClient(fail_open_app(unreachable_target, seen, fail_open=True)) as tc:
        assert post(tc, body, headers).status_code == 200
    assert seen == [("", "UNAVAILABLE")]
    assert "fail-open" in caplog.text
    assert headers["x-vapi-signature"] not in caplog.text


def test_fail_open_still_obeys_the_servers_deny(hookguard_target, vector):
    body, headers, expect = vector("threat1_cross_user_assistant")
    seen: list = []
    with TestClient(fail_open_app(hookguard_target, seen, fail_open=True)) as tc:
        assert post(tc, body, headers).status_code == expect["http_status"] == 403
    assert seen == []


def test_denied_and_shadow_would_deny_deliveries_are_captured(hookguard_target, vector, tmp_path):
    import base64
    import json
    import os

    from hookguard_client.capture import capture_to_directory
    seen: list = []
    capture = capture_to_directory(str(tmp_path))
    with TestClient(fail_open_app(hookguard_target, seen, capture=capture)) as tc:
        for name in ("allow_message_shape", "threat1_cross_user_assistant"):
            body, headers, expect = vector(name)
            assert post(tc, body, headers).status_code == expect["http_status"]
    with TestClient(fail_open_app(hookguard_target, seen, capture=capture,
                                  profile="vapi-shadow")) as tc:
        for name in ("shadow_allowed_call", "shadow_cross_user_assistant"):
            body, headers, expect = vector(name)
            assert post(tc, body, headers).status_code == 200
    records = [json.load(open(tmp_path / f)) for f in sorted(os.listdir(tmp_path))]
    got = sorted((r["profile"], r["decision"], r["shadow_decision"], r["reason"],
                  base64.b64decode(r["body_base64"])) for r in records)
    assert got == sorted([
        ("", "DECISION_DENY", "DECISION_UNSPECIFIED", "DENY_REASON_ASSISTANT_MISMATCH",
         vector("threat1_cross_user_assistant")[0]),
        ("vapi-shadow", "DECISION_ALLOW", "DECISION_DENY", "DENY_REASON_ASSISTANT_MISMATCH",
         vector("shadow_cross_user_assistant")[0])])
