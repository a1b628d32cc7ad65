"""Unit tests of hookguard_client against an in-process fake server; one test
per failure mode, as Envoy's ext_authz client tests."""
from __future__ import annotations

import asyncio
import subprocess
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from hookguard_client import AsyncHookguardClient, HookguardClient, hookguard_pb2 as pb
from hookguard_client import hookguard_pb2_grpc
from hookguard_client._core import normalize_headers


class FakeService(hookguard_pb2_grpc.WebhookAuthServiceServicer):
    def __init__(self, answer):
        self.answer = answer
        self.seen = None

    def AuthorizeWebhook(self, request, context):
        self.seen = request
        result = self.answer(request)
        if isinstance(result, grpc.StatusCode):
            context.abort(result, "fake failure")
        return result


@pytest.fixture
def fake():
    servers = []

    def start(answer):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        service = FakeService(answer)
        hookguard_pb2_grpc.add_WebhookAuthServiceServicer_to_server(service, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return service, f"127.0.0.1:{port}"

    yield start
    for s in servers:
        s.stop(None)


def allow(_req):
    return pb.AuthorizeWebhookResponse(decision=pb.DECISION_ALLOW, owner_id="1", http_status=200,
                                       signature=pb.SIGNATURE_RESULT_VALID, key_id="env")


def test_authorization_allowed_passes_request_through(fake):
    service, target = fake(allow)
    with HookguardClient(target) as client:
        v = client.authorize_webhook(b"{\x00\xff}", {"X-Vapi-Signature": "ab"}, profile="vapi",
                                     expected_owner_id="1")
    assert (v.allowed, v.owner_id, v.http_status, v.key_id, v.error) == (True, "1", 200, "env", None)
    assert v.decision == "DECISION_ALLOW" and v.signature == "SIGNATURE_RESULT_VALID"
    assert service.seen.request.body == b"{\x00\xff}"
    assert service.seen.request.headers["X-Vapi-Signature"] == "ab"
    assert (service.seen.profile, service.seen.expected_owner_id) == ("vapi", "1")


def test_shadow_and_resolution_fields_are_passed_on(fake):
    _, target = fake(lambda r: pb.AuthorizeWebhookResponse(
        decision=pb.DECISION_ALLOW, http_status=200, decision_id="d-1",
        resolved_by=pb.OWNER_SOURCE_PHONE_NUMBER, delivery_key="k-1",
        shadow_decision=pb.DECISION_DENY, shadow_reason=pb.DENY_REASON_OWNER_CONFLICT))
    with HookguardClient(target) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.resolved_by, v.delivery_key) == (
        True, 200, "OWNER_SOURCE_PHONE_NUMBER", "k-1")
    assert (v.shadow_decision, v.shadow_reason, v.shadow_deny) == (
        "DECISION_DENY", "DENY_REASON_OWNER_CONFLICT", True)


def test_enforce_mode_is_no_shadow_deny(fake):
    service, target = fake(allow)
    with HookguardClient(target) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.shadow_decision, v.shadow_deny) == ("DECISION_UNSPECIFIED", False)


def test_authorization_denied_mirrors_http_status(fake):
    _, target = fake(lambda r: pb.AuthorizeWebhookResponse(
        decision=pb.DECISION_DENY, reason=pb.DENY_REASON_CALL_NOT_FOUND, http_status=404, owner_id="2"))
    with HookguardClient(target) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.reason, v.owner_id) == (False, 404, "DENY_REASON_CALL_NOT_FOUND", "")


def test_unspecified_decision_is_deny(fake):
    _, target = fake(lambda r: pb.AuthorizeWebhookResponse(http_status=200))
    with HookguardClient(target) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status) == (False, 403)


def test_server_unavailable_fails_closed(fake):
    _, target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)
    with HookguardClient(target) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.error) == (False, 503, "UNAVAILABLE")


def test_deadline_exceeded_fails_closed(fake):
    def slow(req):
        time.sleep(0.3)
        return allow(req)
    _, target = fake(slow)
    with HookguardClient(target, timeout=0.05) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.error) == (False, 503, "DEADLINE_EXCEEDED")


def test_no_server_fails_closed():
    target, raw_body, headers, handled = "127.0.0.1:1", b"{}", {"x-vapi-signature": "00"}, []
    # --- docs/reference/clients.md: Python ---
    client = HookguardClient(target, timeout=0.5)   # one per process; thread-safe
    verdict = client.authorize_webhook(raw_body, headers)
    if not verdict.allowed:
        status = verdict.http_status   # 401/403/404/400, or 503 when hookguard is unreachable
    else:
        handled.append(verdict.owner_id)   # process the event for this user only
        status = 200
    # --- end ---
    client.close()
    assert (verdict.allowed, status, handled) == (False, 503, [])


def test_str_body_is_refused():
    with HookguardClient("127.0.0.1:1") as client:
        with pytest.raises(TypeError):
            client.authorize_webhook("{}", {})  # type: ignore[arg-type]


def test_async_client_allowed_and_unavailable(fake):
    _, ok_target = fake(allow)
    _, down_target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)

    async def run():
        async with AsyncHookguardClient(ok_target) as ok, AsyncHookguardClient(down_target) as down:
            return await ok.authorize_webhook(b"{}", {}), await down.authorize_webhook(b"{}", {})

    ok_v, down_v = asyncio.run(run())
    assert ok_v.allowed and ok_v.owner_id == "1"
    assert (down_v.allowed, down_v.http_status, down_v.error) == (False, 503, "UNAVAILABLE")


def test_default_service_config_spreads_calls_and_retries_unavailable(fake):
    """Two replicas behind one target (as a headless Service's DNS name
    gives): round_robin sends calls to both, and a call that one of them
    answers UNAVAILABLE is retried on the other, within the deadline."""
    down, down_target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)
    up, up_target = fake(allow)
    calls = {"down": 0, "up": 0}
    down.answer = lambda r: calls.update(down=calls["down"] + 1) or grpc.StatusCode.UNAVAILABLE
    up.answer = lambda r: calls.update(up=calls["up"] + 1) or allow(r)
    target = f"ipv4:{down_target},{up_target}"
    with HookguardClient(target, timeout=2) as client:
        # Until both replicas are connected round_robin picks only the ready
        # one: a call can spend its three attempts on the failing one if it
        # connects first (a loaded machine). Warm up until each answered one.
        deadline = time.monotonic() + 10
        while 0 in calls.values() and time.monotonic() < deadline:
            client.authorize_webhook(b"{}", {})
        assert 0 not in calls.values(), calls
        before = dict(calls)
        for _ in range(20):
            v = client.authorize_webhook(b"{}", {})
            assert v.allowed, v
    assert calls["up"] - before["up"] == 20 and calls["down"] > before["down"], (before, calls)


def test_default_retry_is_bounded_by_the_deadline(fake):
    service, target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)
    seen = []
    service.answer = lambda r: seen.append(1) or grpc.StatusCode.UNAVAILABLE
    with HookguardClient(target, timeout=2) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.error, len(seen)) == (False, 503, "UNAVAILABLE", 3)


def test_async_client_uses_the_default_service_config(fake):
    down, down_target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)
    up, up_target = fake(allow)
    calls = {"down": 0, "up": 0}
    down.answer = lambda r: calls.update(down=calls["down"] + 1) or grpc.StatusCode.UNAVAILABLE
    up.answer = lambda r: calls.update(up=calls["up"] + 1) or allow(r)

    async def run():
        async with AsyncHookguardClient(f"ipv4:{down_target},{up_target}", timeout=2) as c:
            deadline = time.monotonic() + 10  # warm up: both replicas connected (above)
            while 0 in calls.values() and time.monotonic() < deadline:
                await c.authorize_webhook(b"{}", {})
            before = calls["down"]
            verdicts = [await c.authorize_webhook(b"{}", {}) for _ in range(6)]
            return verdicts, calls["down"] - before

    verdicts, retried = asyncio.run(run())
    assert all(v.allowed for v in verdicts) and retried >= 1, (verdicts, calls)


def test_caller_service_config_replaces_the_default(fake):
    service, target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)
    seen = []
    service.answer = lambda r: seen.append(1) or grpc.StatusCode.UNAVAILABLE
    with HookguardClient(target, options=[("grpc.service_config", "{}")]) as client:
        assert client.authorize_webhook(b"{}", {}).error == "UNAVAILABLE"
    assert len(seen) == 1


def test_headers_repeated_names_are_joined():
    assert normalize_headers([("a", "1"), ("a", "2"), (b"b", b"3")]) == {"a": "1, 2", "b": "3"}


def test_checked_in_stubs_match_the_proto():
    regen = Path(__file__).resolve().parents[1] / "regen.sh"
    result = subprocess.run([str(regen), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def deny_owner(_req):
    return pb.AuthorizeWebhookResponse(decision=pb.DECISION_DENY, http_status=403,
                                       reason=pb.DENY_REASON_OWNER_MISMATCH, decision_id="d1")


def test_fail_open_unreachable_server_lets_through_with_error_and_no_owner(caplog):
    caplog.set_level("WARNING", logger="hookguard_client")
    with HookguardClient("127.0.0.1:1", timeout=0.3, fail_open=True) as client:
        v = client.authorize_webhook(b'{"secret":"body"}', {"x-vapi-signature": "sig-abc"},
                                     profile="vapi")
    assert (v.allowed, v.http_status, v.owner_id, v.error, v.failed_open) == (
        True, 200, "", "UNAVAILABLE", True)
    assert "fail-open" in caplog.text and "'vapi'" in caplog.text
    assert "sig-abc" not in caplog.text and "secret" not in caplog.text


def test_fail_open_deadline_lets_through(fake):
    def slow(req):
        time.sleep(0.3)
        return deny_owner(req)
    _, target = fake(slow)
    with HookguardClient(target, timeout=0.05, fail_open=True) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.error, v.owner_id) == (True, "DEADLINE_EXCEEDED", "")


def test_fail_open_still_obeys_a_deny_and_an_allow(fake):
    _, deny_target = fake(deny_owner)
    _, allow_target = fake(allow)
    with HookguardClient(deny_target, fail_open=True) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.error, v.failed_open) == (False, 403, None, False)
    with HookguardClient(allow_target, fail_open=True) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.owner_id, v.error, v.failed_open) == (True, "1", None, False)


def test_fail_open_off_by_default():
    with HookguardClient("127.0.0.1:1", timeout=0.3) as client:
        v = client.authorize_webhook(b"{}", {})
    assert (v.allowed, v.http_status, v.error) == (False, 503, "UNAVAILABLE")


def test_async_client_fail_open(fake):
    _, target = fake(lambda r: grpc.StatusCode.UNAVAILABLE)

    async def run():
        async with AsyncHookguardClient(target, fail_open=True) as client:
            return await client.authorize_webhook(b"{}", {})
    v = asyncio.run(run())
    assert (v.allowed, v.http_status, v.owner_id, v.error) == (True, 200, "", "UNAVAILABLE")
