"""FastAPI integration: a dependency that asks hookguard before the endpoint
runs.

    guard = HookguardDependency(AsyncHookguardClient("hookguard:50051"))

    @app.post("/webhooks/vapi")
    async def vapi(request: Request, verdict: Verdict = Depends(guard)):
        event = await request.json()       # the body is cached: readable again
        handle(event, owner_id=verdict.owner_id)

It reads the raw body (up to `max_body_bytes`, default 4 MiB as the server;
a larger body is answered 413) before anything parses it. On deny it raises
HTTPException with the verdict's HTTP status, the reason as detail and the
decision id in the `Hookguard-Decision-Id` header (the endpoint does not
run); when hookguard cannot be asked, 503 "hookguard unavailable" (with
`fail_open=True` the endpoint runs instead, with an empty owner and the
verdict's `error` set, and a warning is logged). On ALLOW it also sets
`request.state.hookguard_owner_id`. A profile in shadow mode is let through
(its would-be deny is logged on the "hookguard_client" logger). `capture`
receives every denied or would-be-denied delivery (hookguard_client.capture).

It sends hookguard the request's method and full URL (`request.url`), which a
`twilio` profile verifies: Twilio signs the URL it called. Behind a proxy that
terminates TLS, run uvicorn with `--proxy-headers --forwarded-allow-ips=<the
proxy's address>` (the scheme then comes from X-Forwarded-Proto); if the
proxy also changes the host, pass `trust_forwarded_headers=True` so that the
URL's scheme and host come from X-Forwarded-Proto and X-Forwarded-Host (their
last values: the ones the proxy next to the app wrote). Only behind such a
proxy: an app that clients reach directly would let them name any host.
"""
# No `from __future__ import annotations` here: older FastAPI (0.110) cannot
# resolve string annotations of a callable object's __call__ and would take
# `request` for a query parameter.
from typing import Any, Callable, Optional

from fastapi import HTTPException, Request

from ._core import DEFAULT_MAX_BODY_BYTES, Verdict, fail_open_verdict
from ._framework import (OnDeny, authorize_async, body_too_large_text, call_on_deny,
                         deny_headers, deny_text, note_allowed)
from .capture import CaptureHook, call_capture, make_capture


async def read_body(request: Request, limit: int) -> Optional[bytes]:
    """The raw body, or None when it is longer than `limit` bytes. Kept where
    `request.body()` caches it, so the endpoint can read it again."""
    try:
        if int(request.headers.get("content-length") or 0) > limit:
            return None
    except ValueError:
        pass
    if hasattr(request, "_body"):  # read before (FastAPI does for body parameters)
        body = request._body
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        body = request._body = b"".join(chunks)
    return body if len(body) <= limit else None


class HookguardDependency:
    """`client` is an AsyncHookguardClient (or a test double). `on_deny(request,
    verdict)` is called for every webhook not let through. `fail_open=True`
    lets a webhook through when hookguard gives no decision. `capture(c)` is
    called with every denied or shadow-would-deny delivery (e.g.
    hookguard_client.capture.capture_to_directory(dir)). `trust_forwarded_headers=True`
    (default False) takes the URL's scheme and host from X-Forwarded-Proto and
    X-Forwarded-Host (their last values), for apps behind a proxy."""

    def __init__(self, client: Any, *, profile: str = "",
                 expected_owner_id: Optional[Callable[[Request], str]] = None,
                 on_deny: Optional[OnDeny] = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, fail_open: bool = False,
                 capture: Optional[CaptureHook] = None,
                 trust_forwarded_headers: bool = False) -> None:
        self.client = client
        self.trust_forwarded_headers = trust_forwarded_headers
        self.fail_open = fail_open
        self.capture = capture
        self.profile = profile
        self.expected_owner_id = expected_owner_id
        self.on_deny = on_deny
        self.max_body_bytes = max_body_bytes

    async def __call__(self, request: Request) -> Verdict:
        body = await read_body(request, self.max_body_bytes)
        if body is None:
            raise HTTPException(status_code=413, detail=body_too_large_text(self.max_body_bytes))
        expected = self.expected_owner_id(request) if self.expected_owner_id else ""
        headers = request.headers.items()
        url = self.url(request)
        verdict = await authorize_async(self.client, body, headers, profile=self.profile,
                                        expected_owner_id=expected, method=request.method,
                                        url=url)
        if self.fail_open:
            verdict = fail_open_verdict(verdict, self.profile)
        call_capture(self.capture,
                     lambda: make_capture(body, headers, verdict, profile=self.profile,
                                          method=request.method, url=url,
                                          expected_owner_id=expected),
                     verdict)
        if not verdict.allowed:
            call_on_deny(self.on_deny, request, verdict)
            raise HTTPException(status_code=verdict.http_status, detail=deny_text(verdict),
                                headers=deny_headers(verdict) or None)
        note_allowed(verdict)
        request.state.hookguard_owner_id = verdict.owner_id
        return verdict

    def url(self, request: Request) -> str:
        """The full URL the platform called, as hookguard is sent it."""
        url = request.url
        if self.trust_forwarded_headers:
            proto = _last(request.headers.get("x-forwarded-proto"))
            host = _last(request.headers.get("x-forwarded-host"))
            url = url.replace(scheme=proto.lower() or url.scheme, netloc=host or url.netloc)
        return str(url)


def _last(value: Optional[str]) -> str:
    """The last of a forwarded header's comma-separated values (the one the
    proxy next to the app wrote: a client can send its own first ones),
    stripped; "" when absent."""
    return (value or "").split(",")[-1].strip()
