"""Django integration: a view decorator and a middleware that ask hookguard
before a webhook view runs.

Both read `request.body` (the raw bytes; Django caches them, so the view can
read them again) before anything parses it. On ALLOW the view runs with
`request.hookguard_owner_id` (and `request.hookguard_verdict`) set; on deny the
view does not run and the response has the verdict's HTTP status; when
hookguard cannot be asked, 503.

Settings (used when no client is passed): HOOKGUARD_TARGET ("host:port"),
HOOKGUARD_TIMEOUT (seconds, default 0.5), HOOKGUARD_TLS_CA / HOOKGUARD_TLS_CERT /
HOOKGUARD_TLS_KEY (PEM file paths), HOOKGUARD_PROFILE, and for the middleware
HOOKGUARD_PATHS (a list of path prefixes to guard).
"""
from __future__ import annotations

import functools
import threading
from typing import Callable, Optional

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ._core import DEFAULT_TIMEOUT_S, TlsOptions, Verdict
from .client import HookguardClient

_default_client: Optional[HookguardClient] = None
_default_lock = threading.Lock()


def default_client() -> HookguardClient:
    """The process-wide client built from settings (created on first use)."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            tls = None
            if any(getattr(settings, k, None) for k in ("HOOKGUARD_TLS_CA", "HOOKGUARD_TLS_CERT")):
                tls = TlsOptions.from_files(getattr(settings, "HOOKGUARD_TLS_CA", None),
                                            getattr(settings, "HOOKGUARD_TLS_CERT", None),
                                            getattr(settings, "HOOKGUARD_TLS_KEY", None))
            _default_client = HookguardClient(
                settings.HOOKGUARD_TARGET, tls=tls,
                timeout=getattr(settings, "HOOKGUARD_TIMEOUT", DEFAULT_TIMEOUT_S))
        return _default_client


def check_request(request: HttpRequest, client: Optional[HookguardClient] = None,
                  profile: Optional[str] = None,
                  expected_owner_id: Optional[Callable[[HttpRequest], str]] = None) -> Verdict:
    """Asks hookguard about a Django request; sets the request attributes on ALLOW."""
    client = client or default_client()
    verdict = client.authorize_webhook(
        request.body, request.headers.items(),
        profile=profile if profile is not None else getattr(settings, "HOOKGUARD_PROFILE", ""),
        expected_owner_id=expected_owner_id(request) if expected_owner_id else "",
        method=request.method or "")
    if verdict.allowed:
        request.hookguard_owner_id = verdict.owner_id
        request.hookguard_verdict = verdict
    return verdict


def deny_response(verdict: Verdict) -> HttpResponse:
    text = verdict.error and "hookguard unavailable" or verdict.reason
    return HttpResponse(text, status=verdict.http_status, content_type="text/plain")


def hookguard_webhook(view=None, *, client: Optional[HookguardClient] = None,
                      profile: Optional[str] = None,
                      expected_owner_id: Optional[Callable[[HttpRequest], str]] = None):
    """Decorates a webhook view (also CSRF-exempts it: the platform has no token).

        @hookguard_webhook
        def vapi_webhook(request):
            owner = request.hookguard_owner_id
    """
    def decorate(fn):
        @csrf_exempt
        @functools.wraps(fn)
        def wrapper(request, *args, **kwargs):
            verdict = check_request(request, client, profile, expected_owner_id)
            if not verdict.allowed:
                return deny_response(verdict)
            return fn(request, *args, **kwargs)
        return wrapper
    return decorate(view) if view is not None else decorate


class HookguardMiddleware:
    """Guards every request whose path starts with one of settings.HOOKGUARD_PATHS.
    Place it before any middleware that reads request.POST."""

    def __init__(self, get_response, client: Optional[HookguardClient] = None):
        self.get_response = get_response
        self.client = client
        self.paths = tuple(getattr(settings, "HOOKGUARD_PATHS", ()))

    def __call__(self, request: HttpRequest):
        if self.paths and request.path.startswith(self.paths):
            verdict = check_request(request, self.client)
            if not verdict.allowed:
                return deny_response(verdict)
        return self.get_response(request)
