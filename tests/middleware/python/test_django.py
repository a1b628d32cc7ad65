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
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    # What `django-admin startproject` writes (CSRF included), plus hookguard.
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
    HOOKGUARD_TARGET="set-by-the-fixture:0",
    HOOKGUARD_TIMEOUT=5,
    HOOKGUARD_PATHS=["/mw/"],
)
django.setup()

import asyncio  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

import hookguard_client.django as hg_django  # noqa: E402
from hookguard_client import DEFAULT_MAX_BODY_BYTES, HookguardClient  # noqa: E402
from hookguard_client.django import hookguard_webhook  # noqa: E402

handled: list = []

# --- docs/guides/django.md: view -----------------------------------------------------
@hookguard_webhook
def vapi_webhook(request):
    event = json.loads(request.body)            # runs only for an allowed webhook
    owner_id = request.hookguard_owner_id       # the user the call belongs to
    handled.append((owner_id, event["message"]["type"]))
    return JsonResponse({"ok": True})
# --- end -----------------------------------------------------------------------


@hookguard_webhook
async def vapi_webhook_async(request):
    event = json.loads(request.body)            # runs only for an allowed webhook
    handled.append((request.hookguard_owner_id, event["message"]["type"]))
    return JsonResponse({"ok": True})


def plain_view(request):
    handled.append((getattr(request, "hookguard_owner_id", None), "mw"))
    return JsonResponse({"ok": True})


UNREACHABLE: dict = {}
verdicts: list = []  # (owner, error) of each verdict_view run


def verdict_view(request):
    verdicts.append((request.hookguard_owner_id, request.hookguard_verdict.error))
    return JsonResponse({"ok": True})


@csrf_exempt  # the decorator inside exempts only the view it makes
def unreachable_view(request):
    return hookguard_webhook(client=UNREACHABLE["client"])(plain_view)(request)


twilio_verdicts: list = []  # the verdict of each Twilio delivery, allowed or denied


@hookguard_webhook(profile="twilio", on_deny=lambda request, verdict: twilio_verdicts.append(verdict))
def twilio_status(request):
    twilio_verdicts.append(request.hookguard_verdict)
    return JsonResponse({"ok": True})


urlpatterns = [
    path("twilio/voice/status", twilio_status),
    path("webhooks/vapi", vapi_webhook),
    path("webhooks/vapi-async", vapi_webhook_async),
    path("mw/webhook", plain_view),
    path("down/webhook", unreachable_view),
    path("webhooks/vapi/", verdict_view),
    path("webhooks/vapi-shadow/", verdict_view),
]


@pytest.fixture(autouse=True)
def live(hookguard_target, unreachable_target):
    settings.HOOKGUARD_TARGET = hookguard_target
    hg_django._default_client = hg_django._default_async_client = None
    UNREACHABLE["client"] = HookguardClient(unreachable_target, timeout=0.3)
    handled.clear()
    verdicts.clear()
    twilio_verdicts.clear()
    yield
    UNREACHABLE["client"].close()


def post(url, body, headers, asgi=False):
    """As the platform posts: no CSRF cookie or token; CSRF enforced."""
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if asgi:
        return asyncio.run(AsyncClient(enforce_csrf_checks=True).post(
            url, data=body, content_type="application/json", headers=headers))
    return Client(enforce_csrf_checks=True).post(url, data=body, content_type="application/json",
                                                 headers=headers)


ROUTES = ["/webhooks/vapi", "/webhooks/vapi-async", "/mw/webhook"]


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_allowed_webhook_runs_view_with_owner(vector, route, asgi):
    body, headers, _ = vector("allow_message_shape")
    resp = post(route, body, headers, asgi)
    assert resp.status_code == 200, resp.content
    assert handled == [("1", "mw" if route.startswith("/mw/") else "status-update")]


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_cross_user_attack_is_403_with_decision_id_and_view_not_run(vector, route, asgi):
    body, headers, expect = vector("threat1_cross_user_assistant")
    resp = post(route, body, headers, asgi)
    assert resp.status_code == expect["http_status"] == 403
    assert resp.content == b"DENY_REASON_ASSISTANT_MISMATCH"
    assert len(resp["Hookguard-Decision-Id"]) > 8
    assert handled == []


@pytest.mark.parametrize("route", ROUTES)
def test_forged_signature_is_401(vector, route):
    body, headers, _ = vector("threat5_other_secret")
    assert post(route, body, headers).status_code == 401
    assert handled == []


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_body_limit_boundary_matches_the_server(signed_report, route, asgi):
    body, headers = signed_report(DEFAULT_MAX_BODY_BYTES)
    assert post(route, body, headers, asgi).status_code == 200
    body, headers = signed_report(DEFAULT_MAX_BODY_BYTES + 1)
    assert post(route, body, headers, asgi).status_code == 413
    assert len(handled) == 1


def test_middleware_guards_configured_paths(vector):
    body, headers, _ = vector("allow_flat_shape")
    assert post("/mw/webhook", body, headers).status_code == 200
    bad_body, bad_headers, _ = vector("threat2_assistant_spoofing")
    assert post("/mw/webhook", bad_body, bad_headers).status_code == 403
    assert handled == [("2", "mw")]


def test_unreachable_server_is_503(vector):
    body, headers, _ = vector("allow_message_shape")
    resp = post("/down/webhook", body, headers)
    assert (resp.status_code, resp.content) == (503, b"hookguard unavailable")
    assert handled == []


SHADOW = ["shadow_allowed_call", "shadow_cross_user_assistant", "shadow_forged_signature"]


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("route", ROUTES)
def test_shadow_mode_lets_through_and_logs_would_be_denies(vector, route, asgi, caplog,
                                                          assert_shadow_logged):
    """HOOKGUARD_PROFILE in shadow mode (tests/contract/config.json): every
    webhook reaches the view (200), with the owner only when the checks found
    one; a would-be deny is logged with its reason and decision id."""
    from django.test import override_settings
    caplog.set_level("WARNING", logger="hookguard_client")
    with override_settings(HOOKGUARD_PROFILE="vapi-shadow"):
        for name in SHADOW:
            body, headers, expect = vector(name)
            caplog.clear()
            resp = post(route, body, headers, asgi)
            assert resp.status_code == expect["http_status"] == 200, (name, resp.content)
            assert_shadow_logged(name, expect)
    kind = "mw" if route.startswith("/mw/") else "status-update"
    assert handled == [(vector(n)[2]["owner_id"], kind) for n in SHADOW]


def test_unreachable_server_with_fail_open_runs_the_view_with_error_and_no_owner(
        vector, unreachable_target, caplog):
    """HOOKGUARD_FAIL_OPEN: hookguard down, the middleware lets the webhook
    through, with no owner and the verdict's error set, and logs a warning."""
    from django.test import override_settings
    body, headers, _ = vector("allow_message_shape")
    caplog.set_level("WARNING", logger="hookguard_client")
    with override_settings(HOOKGUARD_TARGET=unreachable_target, HOOKGUARD_TIMEOUT=0.3,
                           HOOKGUARD_FAIL_OPEN=True, HOOKGUARD_PATHS=["/webhooks/vapi/"]):
        for asgi in (False, True):
            hg_django._default_client = hg_django._default_async_client = None
            assert post("/webhooks/vapi/", body, headers, asgi).status_code == 200
    assert verdicts == [("", "UNAVAILABLE")] * 2
    assert "fail-open" in caplog.text and headers["x-vapi-signature"] not in caplog.text


def test_unreachable_server_without_fail_open_is_still_503(vector, unreachable_target):
    from django.test import override_settings
    body, headers, _ = vector("allow_message_shape")
    with override_settings(HOOKGUARD_TARGET=unreachable_target, HOOKGUARD_TIMEOUT=0.3,
                           HOOKGUARD_PATHS=["/webhooks/vapi/"]):
        assert post("/webhooks/vapi/", body, headers).status_code == 503
    assert verdicts == []


def test_fail_open_obeys_the_servers_deny(vector):
    from django.test import override_settings
    body, headers, _ = vector("threat1_cross_user_assistant")
    with override_settings(HOOKGUARD_FAIL_OPEN=True, HOOKGUARD_PATHS=["/webhooks/vapi/"]):
        assert post("/webhooks/vapi/", body, headers).status_code == 403
    assert verdicts == []


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_paths_map_two_prefixes_to_two_profiles(vector, asgi):
    """One app, two webhook paths, two profiles: the enforcing one denies the
    attack, the shadow one lets the same attack through."""
    from django.test import override_settings
    body, headers, _ = vector("threat1_cross_user_assistant")
    with override_settings(HOOKGUARD_PATHS={"/webhooks/vapi/": "vapi",
                                            "/webhooks/vapi-shadow/": "vapi-shadow"}):
        assert post("/webhooks/vapi/", body, headers, asgi).status_code == 403
        assert post("/webhooks/vapi-shadow/", body, headers, asgi).status_code == 200
        ok_body, ok_headers, _ = vector("allow_message_shape")
        assert post("/webhooks/vapi/", ok_body, ok_headers, asgi).status_code == 200
    assert verdicts == [("", None), ("1", None)]


def test_denied_and_shadow_would_deny_deliveries_land_in_the_capture_dir(vector, tmp_path):
    import base64
    import os
    from django.test import override_settings
    with override_settings(HOOKGUARD_CAPTURE_DIR=str(tmp_path),
                           HOOKGUARD_PATHS={"/webhooks/vapi/": "vapi",
                                            "/webhooks/vapi-shadow/": "vapi-shadow"}):
        for route, name in (("/webhooks/vapi/", "allow_message_shape"),
                            ("/webhooks/vapi/", "threat5_other_secret"),
                            ("/webhooks/vapi-shadow/", "shadow_cross_user_assistant")):
            body, headers, expect = vector(name)
            assert post(route, body, headers).status_code == expect["http_status"], name
    files = sorted(os.listdir(tmp_path))
    records = [json.load(open(tmp_path / f)) for f in files]
    assert all(oct(os.stat(tmp_path / f).st_mode & 0o777) == "0o600" for f in files)
    got = sorted((r["profile"], r["reason"], r["http_status"], base64.b64decode(r["body_base64"]),
                  r["headers"]["x-vapi-signature"]) for r in records)
    want = []
    for profile, name in (("vapi", "threat5_other_secret"),
                          ("vapi-shadow", "shadow_cross_user_assistant")):
        body, headers, expect = vector(name)
        want.append((profile, expect.get("reason") if profile == "vapi"
                     else expect["shadow_reason"], expect["http_status"], body,
                     headers["x-vapi-signature"]))
    assert got == sorted(want)
    assert all(r["url"].startswith("http://testserver/webhooks/") for r in records)


def _twilio_delivery():
    """The contract's Twilio status callback: body, headers, the URL Twilio signed."""
    import live as contract  # tests/contract/live.py (conftest puts it on the path)
    v = next(v for v in contract.vectors()["vectors"] if v["name"] == "twilio_status_callback")
    return v["body"].encode(), v["headers"], v["url"]


@pytest.mark.parametrize("how,asgi", [
    ("direct", False), ("behind-proxy", False), ("behind-proxy", True),
    ("proxy-not-trusted", False), ("proxy-not-trusted", True)],
    ids=["direct-wsgi", "behind-proxy-wsgi", "behind-proxy-asgi", "proxy-not-trusted-wsgi",
         "proxy-not-trusted-asgi"])
def test_a_twilio_delivery_verifies_through_django(how, asgi):
    """Twilio signs the URL it called: the helper sends build_absolute_uri(),
    so the signature verifies when the app is reached at that URL, or behind
    a proxy once Django's own settings trust its forwarded headers; untrusted
    forwarded headers are ignored (MISMATCH). (Django's AsyncClient cannot
    send another Host than testserver: the ASGI cases go through a proxy.)"""
    from urllib.parse import urlsplit
    from django.test import override_settings
    body, headers, url = _twilio_delivery()
    signed = urlsplit(url)
    target = f"{signed.path}?{signed.query}"
    extra = {"X-Twilio-Signature": headers["X-Twilio-Signature"]}
    if how == "direct":
        kwargs, proxy = {"secure": True, "HTTP_HOST": signed.netloc}, {}
    else:  # the proxy terminated TLS and forwards to the app's own host
        kwargs = {}
        extra.update({"X-Forwarded-Proto": "https", "X-Forwarded-Host": signed.netloc})
        proxy = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
                 "USE_X_FORWARDED_HOST": True} if how == "behind-proxy" else {}
    form = "application/x-www-form-urlencoded"
    with override_settings(**proxy):
        if asgi:
            asyncio.run(AsyncClient(enforce_csrf_checks=True).post(
                target, data=body, content_type=form, headers=extra, **kwargs))
        else:
            Client(enforce_csrf_checks=True).post(target, data=body, content_type=form,
                                                  headers=extra, **kwargs)
    [verdict] = twilio_verdicts
    want = "SIGNATURE_RESULT_MISMATCH" if how == "proxy-not-trusted" else "SIGNATURE_RESULT_VALID"
    assert verdict.signature == want, verdict
    if want == "SIGNATURE_RESULT_VALID":
        assert verdict.key_id == "twilio-primary" and verdict.http_status != 401
