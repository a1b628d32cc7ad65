"""hookguard_client.django with the test double (no server): Django's default
MIDDLEWARE with CSRF enforced, sync and async views, WSGI (Client) and ASGI
(AsyncClient), the deny header and hook, 503 on outages, shadow mode and the
body limit."""
from __future__ import annotations

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    # What `django-admin startproject` writes, plus hookguard.
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                    "django.contrib.sessions", "django.contrib.messages",
                    "django.contrib.staticfiles"],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "hookguard_client.django.HookguardMiddleware",
    ],
    HOOKGUARD_PATHS=["/mw/"],
    HOOKGUARD_TARGET="unused:0",
)
django.setup()

import asyncio  # noqa: E402
import logging  # noqa: E402

import pytest  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from hookguard_client import DEFAULT_MAX_BODY_BYTES  # noqa: E402
from hookguard_client.django import hookguard_webhook  # noqa: E402
from hookguard_client.testing import (FakeHookguardClient, allow, deny, shadow_deny,  # noqa: E402
                                      unavailable)

handled: list = []
denied: list = []
errors: list = []  # request.hookguard_verdict.error of each view run


def note(request):
    handled.append((getattr(request, "hookguard_owner_id", None), len(request.body)))
    verdict = getattr(request, "hookguard_verdict", None)
    errors.append(verdict.error if verdict is not None else None)


@hookguard_webhook
def sync_view(request):
    note(request)
    return JsonResponse({"ok": True})


@hookguard_webhook(on_deny=lambda request, verdict: denied.append(verdict))
async def async_view(request):
    await asyncio.sleep(0)
    note(request)
    return JsonResponse({"ok": True})


def plain_view(request):  # guarded by the middleware (HOOKGUARD_PATHS)
    note(request)
    return JsonResponse({"ok": True})


async def plain_async_view(request):
    note(request)
    return JsonResponse({"ok": True})


urlpatterns = [
    path("hooks/sync", sync_view),
    path("hooks/async", async_view),
    path("mw/sync", plain_view),
    path("mw/async", plain_async_view),
    path("open/form", plain_view),  # not guarded: CSRF applies as usual
    path("webhooks/vapi/event", plain_view),
    path("webhooks/stripe/event", plain_view),
    path("webhooks/vapi-other/event", plain_view),
]

ROUTES = ["/hooks/sync", "/hooks/async", "/mw/sync", "/mw/async"]
BODY = b'{"message":{"type":"status-update","call":{"id":"c1"}}}'


@pytest.fixture(autouse=True)
def clear():
    handled.clear()
    denied.clear()
    errors.clear()


def post(route, body=BODY, asgi=False, **headers):
    """POST like the platform: no CSRF cookie or token, CSRF enforced."""
    if asgi:
        client = AsyncClient(enforce_csrf_checks=True)
        return asyncio.run(client.post(route, data=body, content_type="application/json",
                                       headers=headers))
    return Client(enforce_csrf_checks=True).post(route, data=body,
                                                 content_type="application/json", headers=headers)


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_allow_runs_the_view_with_csrf_enforced(route, asgi):
    fake = FakeHookguardClient(allow("42"))
    with override_settings(HOOKGUARD_CLIENT=fake):
        resp = post(route, asgi=asgi, **{"X-Vapi-Signature": "ab"})
    assert resp.status_code == 200, resp.content
    assert handled == [("42", len(BODY))]
    assert fake.calls[0].body == BODY and fake.calls[0].method == "POST"
    assert {k.lower(): v for k, v in fake.calls[0].headers.items()}["x-vapi-signature"] == "ab"


class AsyncOnlyFake(FakeHookguardClient):
    """Answers only awaiting callers, as AsyncHookguardClient."""

    async def authorize_webhook(self, body, headers, **kwargs):
        return super().authorize_webhook(body, headers, **kwargs)


@pytest.mark.parametrize("route", ["/mw/sync", "/mw/async", "/hooks/async"])
def test_asgi_and_async_views_await_the_client(route):
    with override_settings(HOOKGUARD_CLIENT=AsyncOnlyFake(allow("7"))):
        assert post(route, asgi=True).status_code == 200
    assert handled == [("7", len(BODY))]


def test_unguarded_post_still_needs_a_csrf_token():
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(allow())):
        assert post("/open/form").status_code == 403
    assert handled == []


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_deny_answers_status_reason_and_decision_id(route, asgi):
    hook = []
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(
            deny("DENY_REASON_ASSISTANT_MISMATCH", decision_id="d-123")),
            HOOKGUARD_ON_DENY=lambda request, verdict: hook.append(verdict.decision_id)):
        resp = post(route, asgi=asgi)
    assert (resp.status_code, resp.content) == (403, b"DENY_REASON_ASSISTANT_MISMATCH")
    assert resp["Hookguard-Decision-Id"] == "d-123"
    assert handled == []
    # async_view has its own hook, which replaces the setting's.
    assert (hook, [v.decision_id for v in denied]) == (
        ([], ["d-123"]) if route == "/hooks/async" else (["d-123"], []))


@pytest.mark.parametrize("route", ROUTES)
def test_outage_is_503_hookguard_unavailable(route):
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(unavailable("DEADLINE_EXCEEDED"))):
        resp = post(route)
    assert (resp.status_code, resp.content) == (503, b"hookguard unavailable")
    assert "Hookguard-Decision-Id" not in resp
    assert handled == []


@pytest.mark.parametrize("route", ROUTES)
def test_shadow_deny_runs_the_view_and_logs_the_would_be_deny(route, caplog):
    caplog.set_level(logging.WARNING, logger="hookguard_client")
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(
            shadow_deny("DENY_REASON_CALL_NOT_FOUND", decision_id="d-shadow"))):
        resp = post(route)
    assert resp.status_code == 200
    assert handled == [("", len(BODY))]
    assert "DENY_REASON_CALL_NOT_FOUND" in caplog.text and "d-shadow" in caplog.text
    assert BODY.decode() not in caplog.text


@pytest.mark.parametrize("route", ROUTES)
def test_body_limit_is_the_servers_4_mib(route):
    fake = FakeHookguardClient(allow())
    at_limit = b"x" * DEFAULT_MAX_BODY_BYTES  # over Django's own 2.5 MB
    with override_settings(HOOKGUARD_CLIENT=fake):
        assert post(route, at_limit).status_code == 200
        assert post(route, at_limit + b"x").status_code == 413
    assert [len(c.body) for c in fake.calls] == [DEFAULT_MAX_BODY_BYTES]
    assert handled == [(handled[0][0], DEFAULT_MAX_BODY_BYTES)]


def test_body_limit_setting():
    fake = FakeHookguardClient(allow())
    with override_settings(HOOKGUARD_CLIENT=fake, HOOKGUARD_MAX_BODY_BYTES=10):
        assert post("/mw/sync", b"0123456789").status_code == 200
        resp = post("/mw/sync", b"0123456789a")
    assert (resp.status_code, resp.content) == (413, b"request body over 10 bytes")
    assert len(fake.calls) == 1


def test_fake_answers_in_order_then_repeats_the_last():
    fake = FakeHookguardClient(allow("1"), deny())
    with override_settings(HOOKGUARD_CLIENT=fake):
        assert [post("/hooks/sync").status_code for _ in range(3)] == [200, 403, 403]


# --- fail-open (HOOKGUARD_FAIL_OPEN) ---------------------------------------------

@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_fail_open_runs_the_view_with_no_owner_and_the_error_set(route, asgi, caplog):
    caplog.set_level(logging.WARNING, logger="hookguard_client")
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(unavailable("UNAVAILABLE")),
                           HOOKGUARD_FAIL_OPEN=True):
        resp = post(route, asgi=asgi, **{"X-Vapi-Signature": "secret-sig"})
    assert resp.status_code == 200, resp.content
    assert (handled, errors) == ([("", len(BODY))], ["UNAVAILABLE"])
    assert "fail-open" in caplog.text and "UNAVAILABLE" in caplog.text
    assert "secret-sig" not in caplog.text and BODY.decode() not in caplog.text


@pytest.mark.parametrize("route", ROUTES)
def test_fail_open_off_is_still_503(route):
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(unavailable()),
                           HOOKGUARD_FAIL_OPEN=False):
        assert post(route).status_code == 503
    assert handled == []


@pytest.mark.parametrize("route", ROUTES)
def test_fail_open_obeys_a_deny(route):
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(deny()), HOOKGUARD_FAIL_OPEN=True):
        assert post(route).status_code == 403
    assert handled == []


def test_fail_open_decorator_argument():
    view = hookguard_webhook(client=FakeHookguardClient(unavailable()), fail_open=True)(plain_view)
    from django.test import RequestFactory
    request = RequestFactory().post("/x", data=BODY, content_type="application/json")
    assert view(request).status_code == 200
    assert errors == ["UNAVAILABLE"]


# --- capture (HOOKGUARD_CAPTURE_DIR / HOOKGUARD_CAPTURE) -------------------------

def captured(directory):
    import json
    import os
    files = sorted(os.listdir(directory))
    return files, [json.load(open(os.path.join(directory, f))) for f in files]


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_deny_is_captured_with_the_exact_bytes(route, asgi, tmp_path):
    import base64
    body = b'{"message":{"call":{"id":"c\xc3\xa9"}}}\n\x00'
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(
            deny("DENY_REASON_CALL_NOT_FOUND", decision_id="d-404")),
            HOOKGUARD_CAPTURE_DIR=str(tmp_path)):
        assert post(route, body, asgi=asgi, **{"X-Vapi-Signature": "ab"}).status_code == 404
    files, records = captured(tmp_path)
    assert len(files) == 1 and files[0].endswith("-d-404.json")
    rec = records[0]
    assert base64.b64decode(rec["body_base64"]) == body
    assert rec["headers"]["x-vapi-signature"] == "ab"
    assert (rec["decision"], rec["reason"], rec["http_status"], rec["method"]) == (
        "DECISION_DENY", "DENY_REASON_CALL_NOT_FOUND", 404, "POST")
    assert rec["url"] == "http://testserver" + route


@pytest.mark.parametrize("route", ROUTES)
def test_a_shadow_would_deny_is_captured_and_an_allow_is_not(route, tmp_path):
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(
            allow("1"), shadow_deny("DENY_REASON_OWNER_MISMATCH", decision_id="d-sh"),
            unavailable()), HOOKGUARD_CAPTURE_DIR=str(tmp_path)):
        assert [post(route).status_code for _ in range(3)] == [200, 200, 503]
    files, records = captured(tmp_path)
    assert [r["decision_id"] for r in records] == ["d-sh"]
    assert (records[0]["decision"], records[0]["shadow_decision"], records[0]["reason"]) == (
        "DECISION_ALLOW", "DECISION_DENY", "DENY_REASON_OWNER_MISMATCH")


@pytest.mark.parametrize("route", ROUTES)
def test_a_failing_capture_hook_changes_no_answer(route, caplog):
    def hook(capture):
        raise RuntimeError("disk full")
    with override_settings(HOOKGUARD_CLIENT=FakeHookguardClient(deny(), shadow_deny()),
                           HOOKGUARD_CAPTURE=hook):
        assert [post(route).status_code for _ in range(2)] == [403, 200]
    assert "capture hook failed" in caplog.text


# --- HOOKGUARD_PATHS as a map of path prefixes to profiles ----------------------

@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_paths_map_each_prefix_to_its_profile(asgi):
    fake = FakeHookguardClient(allow("3"))
    with override_settings(HOOKGUARD_CLIENT=fake, HOOKGUARD_PATHS={
            "/webhooks/vapi/": "vapi", "/webhooks/stripe/": "stripe", "/webhooks/": "other"}):
        for route in ("/webhooks/vapi/event", "/webhooks/stripe/event",
                      "/webhooks/vapi-other/event"):
            assert post(route, asgi=asgi).status_code == 200
        # Not in the map any more: not guarded, so CSRF refuses it.
        assert post("/mw/sync", asgi=asgi).status_code == 403
    assert [c.profile for c in fake.calls] == ["vapi", "stripe", "other"]
    assert handled == [("3", len(BODY))] * 3


def test_paths_list_keeps_the_single_profile_setting():
    fake = FakeHookguardClient(allow())
    with override_settings(HOOKGUARD_CLIENT=fake, HOOKGUARD_PROFILE="vapi-shadow"):
        assert post("/mw/sync").status_code == 200
    assert fake.calls[0].profile == "vapi-shadow"


# The full URL goes to hookguard (a twilio profile verifies it): Django's
# build_absolute_uri, so forwarded headers count only under Django's own
# SECURE_PROXY_SSL_HEADER / USE_X_FORWARDED_HOST.
@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("proxy_settings,url", [
    ({}, "http://testserver{route}?tenant=acme"),
    ({"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
      "USE_X_FORWARDED_HOST": True}, "https://hooks.example.com{route}?tenant=acme"),
], ids=["direct", "behind-proxy"])
def test_sends_the_full_url(route, asgi, proxy_settings, url):
    fake = FakeHookguardClient(allow("42"))
    with override_settings(HOOKGUARD_CLIENT=fake, **proxy_settings):
        resp = post(f"{route}?tenant=acme", asgi=asgi, **{
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"})
    assert resp.status_code == 200, resp.content
    assert fake.calls[0].url == url.format(route=route)
