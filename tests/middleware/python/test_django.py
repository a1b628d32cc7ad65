"""End-to-end: a real Django app (test client) guarded by hookguard_client.django,
against the live server. ALLOW runs the view with the owner id; an attack gets
the contract's status and the view does not run; an unreachable server is 503."""
from __future__ import annotations

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["hookguard_client.django.HookguardMiddleware"],
    HOOKGUARD_TARGET="set-by-the-fixture:0",
    HOOKGUARD_PATHS=["/mw/"],
)
django.setup()

import json  # noqa: E402

import pytest  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402

import hookguard_client.django as hg_django  # noqa: E402
from hookguard_client import HookguardClient  # noqa: E402
from hookguard_client.django import hookguard_webhook  # noqa: E402

handled: list = []

# --- docs/clients.md: Django ---------------------------------------------------
@hookguard_webhook
def vapi_webhook(request):
    event = json.loads(request.body)            # runs only for an allowed webhook
    owner_id = request.hookguard_owner_id       # the user the call belongs to
    handled.append((owner_id, event["message"]["type"]))
    return JsonResponse({"ok": True})
# --- end -----------------------------------------------------------------------


def plain_view(request):
    handled.append((getattr(request, "hookguard_owner_id", None), "mw"))
    return JsonResponse({"ok": True})


UNREACHABLE: dict = {}


def unreachable_view(request):
    return hookguard_webhook(client=UNREACHABLE["client"])(plain_view)(request)


urlpatterns = [
    path("webhooks/vapi", vapi_webhook),
    path("mw/webhook", plain_view),
    path("down/webhook", unreachable_view),
]


@pytest.fixture(autouse=True)
def live(hookguard_target, unreachable_target):
    settings.HOOKGUARD_TARGET = hookguard_target
    hg_django._default_client = None
    UNREACHABLE["client"] = HookguardClient(unreachable_target, timeout=0.3)
    handled.clear()
    yield
    UNREACHABLE["client"].close()


def post(url, body, headers):
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def test_allowed_webhook_runs_view_with_owner(vector):
    body, headers, _ = vector("allow_message_shape")
    resp = post("/webhooks/vapi", body, headers)
    assert resp.status_code == 200, resp.content
    assert handled == [("1", "status-update")]


def test_cross_user_attack_is_403_and_view_not_run(vector):
    body, headers, expect = vector("threat1_cross_user_assistant")
    resp = post("/webhooks/vapi", body, headers)
    assert resp.status_code == expect["http_status"] == 403
    assert handled == []


def test_forged_signature_is_401(vector):
    body, headers, _ = vector("threat5_other_secret")
    assert post("/webhooks/vapi", body, headers).status_code == 401
    assert handled == []


def test_middleware_guards_configured_paths(vector):
    body, headers, _ = vector("allow_flat_shape")
    assert post("/mw/webhook", body, headers).status_code == 200
    bad_body, bad_headers, _ = vector("threat2_assistant_spoofing")
    assert post("/mw/webhook", bad_body, bad_headers).status_code == 403
    assert handled == [("2", "mw")]


def test_unreachable_server_is_503(vector):
    body, headers, _ = vector("allow_message_shape")
    resp = post("/down/webhook", body, headers)
    assert resp.status_code == 503
    assert handled == []
