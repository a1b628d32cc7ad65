"""Sync and asyncio clients of hookguard's AuthorizeWebhook."""
from __future__ import annotations

import asyncio
from typing import Optional

import grpc

from ._core import (DEFAULT_TIMEOUT_S, HeadersLike, TlsOptions, Verdict, build_request,
                    channel_options, fail_open_verdict, verdict_from_error,
                    verdict_from_response)
from ._gen import hookguard_pb2_grpc


class HookguardClient:
    """Asks hookguard whether a webhook may be processed. Thread-safe: share
    one instance (one HTTP/2 channel) across the whole process.

    `target` is "host:port", or "dns:///name:port" for a name with one address
    per replica (a Kubernetes headless Service): calls are spread over every
    address (round_robin) and retried on UNAVAILABLE within the deadline
    (SERVICE_CONFIG; `options` with "grpc.service_config" replaces it).
    Plaintext unless `tls` is given. `timeout` is the deadline of each call in
    seconds. `channel` replaces the channel built from target and tls (tests,
    custom interceptors); the client then does not own it and `close()`
    leaves it open.

    `fail_open=True`: when hookguard gives no decision (unreachable,
    deadline, any RPC error) the verdict lets the webhook through (allowed,
    200, empty owner_id, `error` set) and a warning is logged on the
    "hookguard_client" logger. A decision, ALLOW or DENY, is always obeyed.
    """

    def __init__(self, target: str = "", *, tls: Optional[TlsOptions] = None,
                 timeout: float = DEFAULT_TIMEOUT_S,
                 channel: Optional[grpc.Channel] = None,
                 options: Optional[list] = None, fail_open: bool = False) -> None:
        self.fail_open = fail_open
        self._owns_channel = channel is None
        if channel is None:
            if not target:
                raise ValueError("target or channel is required")
            opts = channel_options(options)
            channel = (grpc.secure_channel(target, tls.credentials(), opts) if tls
                       else grpc.insecure_channel(target, opts))
        self._channel = channel
        self._stub = hookguard_pb2_grpc.WebhookAuthServiceStub(channel)
        self.timeout = timeout

    def authorize_webhook(self, body: bytes, headers: HeadersLike, *, profile: str = "",
                          expected_owner_id: str = "", method: str = "", url: str = "",
                          timeout: Optional[float] = None) -> Verdict:
        """One round trip: signature, payload, ownership. Never raises for an
        RPC failure: returns a Verdict with allowed=False, http_status=503
        (with fail_open: allowed=True, 200, no owner; `error` set either way)."""
        request = build_request(body, headers, profile, expected_owner_id, method, url)
        try:
            resp = self._stub.AuthorizeWebhook(
                request, timeout=self.timeout if timeout is None else timeout)
        except Exception as err:  # noqa: BLE001 - fail closed on anything
            return self._no_decision(err, profile)
        return verdict_from_response(resp)

    def _no_decision(self, err: BaseException, profile: str) -> Verdict:
        verdict = verdict_from_error(err)
        return fail_open_verdict(verdict, profile) if self.fail_open else verdict

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "HookguardClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncHookguardClient:
    """The asyncio twin of HookguardClient.

    The grpc.aio channel is created on first use, inside the running event
    loop (a channel is bound to the loop that created it), so the client may
    be constructed at import time. Use it from one event loop.
    """

    def __init__(self, target: str = "", *, tls: Optional[TlsOptions] = None,
                 timeout: float = DEFAULT_TIMEOUT_S,
                 channel: Optional[grpc.aio.Channel] = None,
                 options: Optional[list] = None, fail_open: bool = False) -> None:
        self.fail_open = fail_open
        if channel is None and not target:
            raise ValueError("target or channel is required")
        self._target = target
        self._tls = tls
        self._options = channel_options(options)
        self._owns_channel = channel is None
        self._channel = channel
        self._stub = hookguard_pb2_grpc.WebhookAuthServiceStub(channel) if channel else None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self.timeout = timeout

    def _ensure_stub(self) -> hookguard_pb2_grpc.WebhookAuthServiceStub:
        loop = asyncio.get_running_loop()
        if self._owns_channel and self._stub is not None and self._loop is not loop:
            # Another event loop than the channel's (e.g. a test client that
            # runs each request in a new loop): a channel cannot cross loops.
            self._stub = None
        if self._stub is None:
            self._loop = loop
            if self._tls:
                self._channel = grpc.aio.secure_channel(self._target, self._tls.credentials(),
                                                        self._options)
            else:
                self._channel = grpc.aio.insecure_channel(self._target, self._options)
            self._stub = hookguard_pb2_grpc.WebhookAuthServiceStub(self._channel)
        return self._stub

    async def authorize_webhook(self, body: bytes, headers: HeadersLike, *, profile: str = "",
                                expected_owner_id: str = "", method: str = "", url: str = "",
                                timeout: Optional[float] = None) -> Verdict:
        """As HookguardClient.authorize_webhook; never raises for an RPC failure."""
        request = build_request(body, headers, profile, expected_owner_id, method, url)
        try:
            resp = await self._ensure_stub().AuthorizeWebhook(
                request, timeout=self.timeout if timeout is None else timeout)
        except Exception as err:  # noqa: BLE001 - fail closed on anything
            return self._no_decision(err, profile)
        return verdict_from_response(resp)

    _no_decision = HookguardClient._no_decision

    async def close(self) -> None:
        if self._owns_channel and self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._stub = None

    async def __aenter__(self) -> "AsyncHookguardClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
