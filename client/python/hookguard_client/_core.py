"""What the sync and async clients share: building requests, reading answers.

Nothing here does I/O; `HookguardClient` and `AsyncHookguardClient` only add
the call itself.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from typing import Iterable, Mapping, Optional, Tuple, Union

import grpc

from ._gen import hookguard_pb2 as pb

log = logging.getLogger("hookguard_client")

#: Default time the web tier waits for a decision, in seconds.
DEFAULT_TIMEOUT_S = 0.5

#: The HTTP status to answer the platform with when hookguard gave no
#: decision (RPC error, deadline): 503 makes the platform retry later.
UNAVAILABLE_HTTP_STATUS = 503

#: The largest body the framework helpers pass on, in bytes: the server's
#: own default limit (hookguard-server --max_body_bytes, 4 MiB). A larger
#: body is answered 413 without asking hookguard.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

#: The response header in which the framework helpers hand back the decision
#: id of a deny (the same id is in hookguard's audit log line).
DECISION_ID_HEADER = "Hookguard-Decision-Id"

#: The gRPC service config every client uses unless its channel options set
#: "grpc.service_config": round_robin over every address the target resolves
#: to (a Kubernetes headless Service, dns:///hookguard-headless.NS.svc:50051,
#: gives one per pod), and a call that fails UNAVAILABLE (a replica going
#: away, a connection reset) retried on the next replica, up to 3 attempts and
#: never past the call's deadline. All three RPCs only read, so a retry is
#: safe.
SERVICE_CONFIG = json.dumps({
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [{
        "name": [{"service": "hookguard.v1.WebhookAuthService"}],
        "retryPolicy": {
            "maxAttempts": 3,
            "initialBackoff": "0.05s",
            "maxBackoff": "0.2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }],
}, separators=(",", ":"))

HeadersLike = Union[Mapping[str, str], Iterable[Tuple[str, str]]]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The answer for one webhook. Process the event only when `allowed`.

    `http_status` is what to answer the platform with. `error` is set (the
    gRPC status code's name, e.g. "UNAVAILABLE") when no decision was
    obtained; `allowed` is then False and `http_status` is 503, unless the
    client or helper runs with fail_open=True: then `allowed` is True,
    `http_status` 200 and `owner_id` empty (`failed_open`).
    """

    allowed: bool
    decision: str  # "DECISION_ALLOW", "DECISION_DENY" or "DECISION_UNSPECIFIED"
    reason: str  # a DenyReason name, "DENY_REASON_UNSPECIFIED" with ALLOW
    owner_id: str
    http_status: int
    signature: str = "SIGNATURE_RESULT_UNSPECIFIED"
    key_id: str = ""
    message_id: str = ""
    decision_id: str = ""
    detail: str = ""
    error: Optional[str] = None
    resolved_by: str = "OWNER_SOURCE_UNSPECIFIED"  # an OwnerSource name: where owner_id came from
    delivery_key: str = ""  # the same for every delivery of one event: deduplicate on it
    shadow_decision: str = "DECISION_UNSPECIFIED"  # shadow mode: what enforcement would decide
    shadow_reason: str = "DENY_REASON_UNSPECIFIED"  # shadow mode: why enforcement would deny
    resolved_subject: str = ""  # resolved_by OWNER_SOURCE_SUBJECT: the subject that named the owner

    @property
    def shadow_deny(self) -> bool:
        """True for the ALLOW of a profile in shadow mode that enforcement
        would have denied (`shadow_reason` says why): log it, do not block.
        `owner_id` is then set only if the checks really found an owner."""
        return self.allowed and self.shadow_decision == "DECISION_DENY"

    @property
    def failed_open(self) -> bool:
        """True when fail-open let the webhook through without any decision
        (`error` says why): nothing was verified and the owner is unknown."""
        return self.allowed and self.error is not None


@dataclasses.dataclass(frozen=True)
class TlsOptions:
    """TLS for the channel to hookguard. PEM bytes; all optional.

    `root_certificates` is the CA that signed hookguard's certificate (None:
    the system roots). `certificate_chain` and `private_key` together are the
    client certificate for mTLS.
    """

    root_certificates: Optional[bytes] = None
    certificate_chain: Optional[bytes] = None
    private_key: Optional[bytes] = None

    @classmethod
    def from_files(cls, ca: Optional[str] = None, cert: Optional[str] = None,
                   key: Optional[str] = None) -> "TlsOptions":
        def read(path: Optional[str]) -> Optional[bytes]:
            if path is None:
                return None
            with open(path, "rb") as f:
                return f.read()
        return cls(read(ca), read(cert), read(key))

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain)


def channel_options(options: Optional[list] = None) -> list:
    """The caller's gRPC channel options plus the default service config
    (SERVICE_CONFIG), unless the caller set "grpc.service_config" itself."""
    opts = list(options or [])
    if not any(name == "grpc.service_config" for name, _ in opts):
        opts.append(("grpc.service_config", SERVICE_CONFIG))
    return opts


def normalize_headers(headers: HeadersLike) -> dict:
    """Headers as one str->str map. Repeated names are joined with ", " (as
    HTTP does); the server matches names case-insensitively."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict = {}
    for name, value in items:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if name in out:
            out[name] = out[name] + ", " + value
        else:
            out[name] = value
    return out


def build_request(body: bytes, headers: HeadersLike, profile: str = "",
                  expected_owner_id: str = "", method: str = "",
                  url: str = "") -> pb.AuthorizeWebhookRequest:
    if isinstance(body, str):
        raise TypeError("body must be the raw bytes as received, not str")
    return pb.AuthorizeWebhookRequest(
        profile=profile,
        expected_owner_id=expected_owner_id,
        request=pb.HttpRequest(body=bytes(body), headers=normalize_headers(headers),
                               method=method, url=url))


def verdict_from_response(resp: pb.AuthorizeWebhookResponse) -> Verdict:
    allowed = resp.decision == pb.DECISION_ALLOW
    status = resp.http_status
    # Trust the server's status, but never answer 2xx for a deny, nor
    # nothing at all.
    if not allowed and (status == 0 or 200 <= status < 300):
        status = 403
    if allowed and status == 0:
        status = 200
    return Verdict(
        allowed=allowed,
        decision=pb.Decision.Name(resp.decision),
        reason=pb.DenyReason.Name(resp.reason),
        owner_id=resp.owner_id if allowed else "",
        http_status=status,
        signature=pb.SignatureResult.Name(resp.signature),
        key_id=resp.key_id,
        message_id=resp.message_id,
        decision_id=resp.decision_id,
        detail=resp.detail,
        resolved_by=pb.OwnerSource.Name(resp.resolved_by),
        delivery_key=resp.delivery_key,
        shadow_decision=pb.Decision.Name(resp.shadow_decision),
        shadow_reason=pb.DenyReason.Name(resp.shadow_reason),
        resolved_subject=resp.resolved_subject)


def verdict_from_error(err: BaseException) -> Verdict:
    """Fail closed: any error while asking is "do not process, retry later"."""
    if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
        code = err.code()
        name = code.name if code is not None else "UNKNOWN"
        detail = err.details() or "" if hasattr(err, "details") else ""
    else:
        name, detail = "UNKNOWN", type(err).__name__
    return Verdict(allowed=False, decision="DECISION_UNSPECIFIED",
                   reason="DENY_REASON_UNSPECIFIED", owner_id="",
                   http_status=UNAVAILABLE_HTTP_STATUS, detail=detail, error=name)


def fail_open_verdict(verdict: Verdict, profile: str = "") -> Verdict:
    """The fail-open answer for a verdict without a decision: let through,
    200, no owner, `error` kept. A decision (ALLOW or DENY) is returned
    unchanged: fail-open never overrides one. Logs a warning every time
    (the error code and the profile; never the body, a header or a secret)."""
    if verdict.error is None or verdict.allowed:
        return verdict
    log.warning("hookguard gave no decision (%s) for profile %r: fail-open lets the webhook "
                "through UNVERIFIED, with no owner", verdict.error, profile)
    return dataclasses.replace(verdict, allowed=True, http_status=200, owner_id="")
