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


@hookguard_webhook
def sync_view(request):
    handled.append((request.hookguard_owner_id, len(request.body)))
    return JsonResponse({"ok": True})


@hookguard_webhook(on_deny=lambda request, verdict: denied.append(verdict))
async def async_view(request):
    await asyncio.sleep(0)
    handled.append((request.hookguard_owner_id, len(request.body)))
    return JsonResponse({"ok": True})


def plain_view(request):  # guarded by the middleware (HOOKGUARD_PATHS)
    handled.append((getattr(request, "hookguard_owner_id", None), len(request.body)))
    return JsonResponse({"ok": True})


async def plain_async_view(request):
    handled.append((getattr(request, "hookguard_owner_id", None), len(request.body)))
    return JsonResponse({"ok": True})


urlpatterns = [
    path("hooks/sync", sync_view),
    path("hooks/async", async_view),
    path("mw/sync", plain_view),
    path("mw/async", plain_async_view),
    path("open/form", plain_view),  # not guarded: CSRF applies as usual
]

ROUTES = ["/hooks/sync", "/hooks/async", "/mw/sync", "/mw/async"]
BODY = b'{"message":{"type":"status-update","call":{"id":"c1"}}}'


@pytest.fixture(autouse=True)
def clear():
    handled.clear()
    denied.clear()


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
