"""Django integration: a view decorator and a middleware that ask hookguard
before a webhook view runs. Both work in sync and async views, under WSGI and
ASGI, with Django's default MIDDLEWARE (CsrfViewMiddleware included).

Both read the raw body (up to HOOKGUARD_MAX_BODY_BYTES; a larger body is
answered 413) before anything parses it, and leave it in `request.body` for
the view. On ALLOW the view runs with `request.hookguard_owner_id` and
`request.hookguard_verdict` set; on deny the view does not run and the
response has the verdict's HTTP status, the reason as text and the decision
id in the `Hookguard-Decision-Id` header; when hookguard cannot be asked, 503
"hookguard unavailable" (with HOOKGUARD_FAIL_OPEN = True the view runs instead,
with an empty owner and `request.hookguard_verdict.error` set, and a warning
is logged). A profile in shadow mode is let through (its would-be deny is
logged on the "hookguard_client" logger).

Settings: HOOKGUARD_TARGET ("host:port" or "dns:///name:port"),
HOOKGUARD_TIMEOUT (seconds, default 0.5), HOOKGUARD_TLS_CA / HOOKGUARD_TLS_CERT /
HOOKGUARD_TLS_KEY (PEM file paths), HOOKGUARD_PROFILE, HOOKGUARD_MAX_BODY_BYTES
(default 4 MiB, the server's default), HOOKGUARD_ON_DENY (a callable, or its
dotted path, called as on_deny(request, verdict) for every webhook not let
through), HOOKGUARD_CLIENT (a client object to use instead of the one built
from HOOKGUARD_TARGET: a test double in the app's tests), HOOKGUARD_FAIL_OPEN
(default False: let webhooks through when hookguard gives no decision),
HOOKGUARD_CAPTURE (a capture hook, or its dotted path, called with every
denied or shadow-would-deny delivery: see hookguard_client.capture),
HOOKGUARD_CAPTURE_DIR (a directory: the same as HOOKGUARD_CAPTURE =
capture_to_directory(dir)), and for the middleware HOOKGUARD_PATHS: a list of
path prefixes to guard with HOOKGUARD_PROFILE, or a dict mapping path prefixes
to profile names ({"/webhooks/vapi/": "vapi", "/webhooks/stripe/": "stripe"};
the longest matching prefix wins).

Both send hookguard the request's method and full URL
(`request.build_absolute_uri()`), which a `twilio` profile verifies: Twilio
signs the URL it called. Behind a proxy or load balancer that terminates TLS
or changes the host, tell Django to trust what the proxy forwards, with
Django's own settings: SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO",
"https") and USE_X_FORWARDED_HOST = True (and USE_X_FORWARDED_PORT when the
proxy forwards a port), and only when the proxy sets those headers itself.
"""
from __future__ import annotations

import functools
import io
import threading
from typing import Any, Callable, Optional

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from ._core import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_S, TlsOptions, Verdict, fail_open_verdict
from ._framework import (OnDeny, authorize_async, body_too_large_text, call_on_deny,
                         deny_headers, deny_text, note_allowed)
from .capture import CaptureHook, call_capture, capture_to_directory, make_capture
from .client import AsyncHookguardClient, HookguardClient

_default_client: Optional[HookguardClient] = None
_default_async_client: Optional[AsyncHookguardClient] = None
_default_lock = threading.Lock()


def _client_args() -> tuple:
    tls = None
    if any(getattr(settings, k, None) for k in ("HOOKGUARD_TLS_CA", "HOOKGUARD_TLS_CERT")):
        tls = TlsOptions.from_files(getattr(settings, "HOOKGUARD_TLS_CA", None),
                                    getattr(settings, "HOOKGUARD_TLS_CERT", None),
                                    getattr(settings, "HOOKGUARD_TLS_KEY", None))
    return settings.HOOKGUARD_TARGET, {
        "tls": tls, "timeout": getattr(settings, "HOOKGUARD_TIMEOUT", DEFAULT_TIMEOUT_S)}


def _shared_client(name: str, make: Callable[..., Any]) -> Any:
    """settings.HOOKGUARD_CLIENT if set, else the process-wide client kept in
    the module global `name`, built from the settings on first use."""
    override = getattr(settings, "HOOKGUARD_CLIENT", None)
    if override is not None:
        return override
    with _default_lock:
        if globals()[name] is None:
            target, kwargs = _client_args()
            globals()[name] = make(target, **kwargs)
        return globals()[name]


def default_client() -> Any:
    """settings.HOOKGUARD_CLIENT if set, else the process-wide client built
    from the settings (created on first use)."""
    return _shared_client("_default_client", HookguardClient)


def default_async_client() -> Any:
    """As default_client, for async views and the middleware under ASGI."""
    return _shared_client("_default_async_client", AsyncHookguardClient)


def read_body(request: HttpRequest, limit: int) -> Optional[bytes]:
    """The raw body, or None when it is longer than `limit` bytes.

    `request.body` refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by
    default) with a 400. On a guarded route hookguard's limit applies
    instead: the stream is read here and the bytes kept where `request.body`
    keeps them (as HttpRequest.body itself does), so the view reads
    `request.body` and `request.POST` as usual.
    """
    if hasattr(request, "_body"):  # read before (another middleware)
        return request.body if len(request.body) <= limit else None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None
    body = request.read(limit + 1)
    if len(body) > limit:
        return None
    request._body = body
    request._stream = io.BytesIO(body)
    return body


def deny_response(verdict: Verdict) -> HttpResponse:
    return HttpResponse(deny_text(verdict), status=verdict.http_status,
                        content_type="text/plain", headers=deny_headers(verdict))


class _Guard:
    """One guarded route or prefix; settings not given here are read on each
    request (so override_settings works in tests)."""

    def __init__(self, client: Any = None, profile: Optional[str] = None,
                 expected_owner_id: Optional[Callable[[HttpRequest], str]] = None,
                 on_deny: Optional[OnDeny] = None, max_body_bytes: Optional[int] = None,
                 fail_open: Optional[bool] = None, capture: Optional[CaptureHook] = None) -> None:
        self.client = client
        self.profile = profile
        self.expected_owner_id = expected_owner_id
        self.on_deny = on_deny
        self.max_body_bytes = max_body_bytes
        self.fail_open = fail_open
        self.capture = capture

    def check(self, request: HttpRequest, profile: Optional[str] = None) -> Optional[HttpResponse]:
        """None to let the request through, else the answer. `profile`
        overrides the guard's (the middleware's path map)."""
        body = self._body(request)
        if isinstance(body, HttpResponse):
            return body
        args = self._args(request, profile)
        verdict = (self.client or default_client()).authorize_webhook(body, **args)
        return self._answer(request, verdict, body, args)

    async def acheck(self, request: HttpRequest,
                     profile: Optional[str] = None) -> Optional[HttpResponse]:
        body = self._body(request)
        if isinstance(body, HttpResponse):
            return body
        args = self._args(request, profile)
        verdict = await authorize_async(self.client or default_async_client(), body, **args)
        return self._answer(request, verdict, body, args)

    def _body(self, request: HttpRequest):
        limit = self.max_body_bytes or getattr(settings, "HOOKGUARD_MAX_BODY_BYTES",
                                               DEFAULT_MAX_BODY_BYTES)
        body = read_body(request, limit)
        if body is None:
            return HttpResponse(body_too_large_text(limit), status=413, content_type="text/plain")
        return body

    def _args(self, request: HttpRequest, profile: Optional[str] = None) -> dict:
        if profile is None:
            profile = self.profile
        if profile is None:
            profile = getattr(settings, "HOOKGUARD_PROFILE", "")
        return {"headers": request.headers.items(), "profile": profile,
                "expected_owner_id": self.expected_owner_id(request) if self.expected_owner_id
                else "",
                "method": request.method or "", "url": _url(request)}

    def _capture_hook(self) -> Optional[CaptureHook]:
        hook = self.capture or getattr(settings, "HOOKGUARD_CAPTURE", None)
        if isinstance(hook, str):
            hook = import_string(hook)
        if hook is None and getattr(settings, "HOOKGUARD_CAPTURE_DIR", None):
            hook = capture_to_directory(settings.HOOKGUARD_CAPTURE_DIR)
        return hook

    def _answer(self, request: HttpRequest, verdict: Verdict, body: bytes,
                args: dict) -> Optional[HttpResponse]:
        fail_open = self.fail_open
        if fail_open is None:
            fail_open = getattr(settings, "HOOKGUARD_FAIL_OPEN", False)
        if fail_open:
            verdict = fail_open_verdict(verdict, args["profile"])
        call_capture(self._capture_hook(),
                     lambda: make_capture(body, args["headers"], verdict, profile=args["profile"],
                                          method=args["method"], url=args["url"],
                                          expected_owner_id=args["expected_owner_id"]),
                     verdict)
        if verdict.allowed:
            note_allowed(verdict)
            request.hookguard_owner_id = verdict.owner_id
            request.hookguard_verdict = verdict
            # The platform sends no CSRF token: its signature, just checked,
            # stands in for it. Only this request skips CsrfViewMiddleware.
            request._dont_enforce_csrf_checks = True
            return None
        on_deny = self.on_deny or getattr(settings, "HOOKGUARD_ON_DENY", None)
        call_on_deny(import_string(on_deny) if isinstance(on_deny, str) else on_deny,
                     request, verdict)
        return deny_response(verdict)


def _url(request: HttpRequest) -> str:
    """The request's absolute URL (what Twilio signs), or "" when the Host is
    not allowed (hookguard then answers MALFORMED for a profile that signs
    the URL). Django's own build_absolute_uri: behind a proxy it takes the
    scheme from SECURE_PROXY_SSL_HEADER and the host from X-Forwarded-Host
    (USE_X_FORWARDED_HOST, USE_X_FORWARDED_PORT) only when those settings
    say to trust them."""
    try:
        return request.build_absolute_uri()
    except Exception:  # noqa: BLE001 - DisallowedHost and the like: no URL
        return ""


def hookguard_webhook(view=None, *, client: Any = None, profile: Optional[str] = None,
                      expected_owner_id: Optional[Callable[[HttpRequest], str]] = None,
                      on_deny: Optional[OnDeny] = None, max_body_bytes: Optional[int] = None,
                      fail_open: Optional[bool] = None, capture: Optional[CaptureHook] = None):
    """Decorates a webhook view, sync or async, and CSRF-exempts it (the
    platform has no token). For an async view pass an AsyncHookguardClient
    (the default one is built from the settings). `fail_open` and `capture`
    default to the settings HOOKGUARD_FAIL_OPEN and HOOKGUARD_CAPTURE(_DIR).

        @hookguard_webhook
        def vapi_webhook(request):
            owner = request.hookguard_owner_id
    """
    def decorate(fn):
        guard = _Guard(client, profile, expected_owner_id, on_deny, max_body_bytes, fail_open,
                       capture)
        if iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def wrapper(request, *args, **kwargs):
                denied = await guard.acheck(request)
                return denied if denied is not None else await fn(request, *args, **kwargs)
        else:
            @functools.wraps(fn)
            def wrapper(request, *args, **kwargs):
                denied = guard.check(request)
                return denied if denied is not None else fn(request, *args, **kwargs)
        # As django.views.decorators.csrf.csrf_exempt does (which wraps async
        # views only from Django 5.0 on).
        wrapper.csrf_exempt = True
        return wrapper
    return decorate(view) if view is not None else decorate


class HookguardMiddleware:
    """Guards every request whose path starts with one of
    settings.HOOKGUARD_PATHS: a list of prefixes (profile HOOKGUARD_PROFILE),
    or a dict {prefix: profile} (the longest matching prefix names the
    profile). Anywhere in MIDDLEWARE: it runs before any view-level
    middleware (CsrfViewMiddleware exempts only the requests it let
    through). Sync and async: under ASGI it uses AsyncHookguardClient."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response, client: Any = None):
        self.get_response = get_response
        paths = getattr(settings, "HOOKGUARD_PATHS", ()) or ()
        if isinstance(paths, str):
            raise ValueError("HOOKGUARD_PATHS must be a list of path prefixes or a dict of "
                             "prefix -> profile, not a string")
        # (prefix, profile or None for HOOKGUARD_PROFILE), longest prefix first.
        items = paths.items() if isinstance(paths, dict) else ((p, None) for p in paths)
        self.paths = sorted(items, key=lambda item: len(item[0]), reverse=True)
        self.guard = _Guard(client)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def _match(self, request: HttpRequest):
        """(True, profile) for a guarded path (profile None: the guard's
        default), else (False, None)."""
        for prefix, profile in self.paths:
            if request.path.startswith(prefix):
                return True, profile
        return False, None

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self.__acall__(request)
        guarded, profile = self._match(request)
        if guarded:
            denied = self.guard.check(request, profile)
            if denied is not None:
                return denied
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest):
        guarded, profile = self._match(request)
        if guarded:
            denied = await self.guard.acheck(request, profile)
            if denied is not None:
                return denied
        return await self.get_response(request)
