"""Python client of hookguard, the webhook authorization service.

    client = HookguardClient("hookguard:50051")
    verdict = client.authorize_webhook(raw_body, headers)
    if not verdict.allowed:
        return HttpResponse(status=verdict.http_status)
    process(event, owner_id=verdict.owner_id)

Fail closed: an RPC error returns a Verdict with allowed=False and
http_status=503 (the platform retries), never an allow; unless the client is
built with fail_open=True, which lets such a webhook through unverified
(allowed, no owner, `error` set, a warning logged). A decision is always
obeyed.
"""
__version__ = "0.1.0"

from ._core import (DECISION_ID_HEADER, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_S,
                    SERVICE_CONFIG, UNAVAILABLE_HTTP_STATUS, TlsOptions, Verdict, channel_options,
                    fail_open_verdict, normalize_headers)
from ._gen import hookguard_pb2, hookguard_pb2_grpc
from .client import AsyncHookguardClient, HookguardClient

__all__ = [
    "__version__", "AsyncHookguardClient", "HookguardClient", "TlsOptions", "Verdict",
    "DECISION_ID_HEADER", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_TIMEOUT_S", "SERVICE_CONFIG",
    "UNAVAILABLE_HTTP_STATUS", "channel_options", "fail_open_verdict", "normalize_headers",
    "hookguard_pb2", "hookguard_pb2_grpc",
]
