"""Test doubles for an app's own tests, without a hookguard server.

    from hookguard_client.testing import FakeHookguardClient, allow, deny

    fake = FakeHookguardClient(allow("42"))               # every call: ALLOW for user 42
    fake = FakeHookguardClient(allow("42"), deny("DENY_REASON_OWNER_MISMATCH"))
                                                          # first call ALLOW, then DENY (repeats)

Django: `@override_settings(HOOKGUARD_CLIENT=fake)` (the decorator and the
middleware use it instead of HOOKGUARD_TARGET). FastAPI:
`HookguardDependency(fake)`, or `app.dependency_overrides`. The fake answers
sync and async callers alike and records what it was asked in `calls`.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

from ._core import UNAVAILABLE_HTTP_STATUS, HeadersLike, Verdict, normalize_headers

# The HTTP status hookguard answers with for each deny reason.
_DENY_STATUS = {
    "DENY_REASON_MALFORMED_EVENT": 400,
    "DENY_REASON_SIGNATURE_INVALID": 401,
    "DENY_REASON_CALL_NOT_FOUND": 404,
}


def allow(owner_id: str = "1", *, decision_id: str = "fake-allow",
          resolved_by: str = "OWNER_SOURCE_CALL", delivery_key: str = "") -> Verdict:
    """An ALLOW for `owner_id`."""
    return Verdict(allowed=True, decision="DECISION_ALLOW", reason="DENY_REASON_UNSPECIFIED",
                   owner_id=owner_id, http_status=200, signature="SIGNATURE_RESULT_VALID",
                   decision_id=decision_id, resolved_by=resolved_by, delivery_key=delivery_key)


def deny(reason: str = "DENY_REASON_OWNER_MISMATCH", *, decision_id: str = "fake-deny",
         http_status: Optional[int] = None) -> Verdict:
    """A DENY with the HTTP status the server gives `reason` (400, 401, 404, else 403)."""
    signature = ("SIGNATURE_RESULT_MISMATCH" if reason == "DENY_REASON_SIGNATURE_INVALID"
                 else "SIGNATURE_RESULT_VALID")
    return Verdict(allowed=False, decision="DECISION_DENY", reason=reason, owner_id="",
                   http_status=http_status or _DENY_STATUS.get(reason, 403),
                   signature=signature, decision_id=decision_id)


def unavailable(error: str = "UNAVAILABLE") -> Verdict:
    """No decision (hookguard unreachable, deadline): what the clients return
    for an RPC error."""
    return Verdict(allowed=False, decision="DECISION_UNSPECIFIED",
                   reason="DENY_REASON_UNSPECIFIED", owner_id="",
                   http_status=UNAVAILABLE_HTTP_STATUS, error=error)


def shadow_deny(reason: str = "DENY_REASON_OWNER_MISMATCH", *, owner_id: str = "",
                decision_id: str = "fake-shadow") -> Verdict:
    """The ALLOW of a profile in shadow mode for a webhook that enforcement
    would deny with `reason`."""
    return dataclasses.replace(allow(owner_id, decision_id=decision_id,
                                     resolved_by="OWNER_SOURCE_UNSPECIFIED"),
                               shadow_decision="DECISION_DENY", shadow_reason=reason)


@dataclasses.dataclass(frozen=True)
class FakeCall:
    """One request the fake was asked about."""

    body: bytes
    headers: dict
    profile: str
    expected_owner_id: str
    method: str
    url: str


class FakeHookguardClient:
    """Stands in for HookguardClient and AsyncHookguardClient: answers each
    call with the next of `verdicts`, the last one for every call after."""

    def __init__(self, *verdicts: Verdict) -> None:
        if not verdicts:
            raise ValueError("give at least one verdict (allow(), deny(), ...)")
        self._verdicts = list(verdicts)
        self.calls: List[FakeCall] = []

    def authorize_webhook(self, body: bytes, headers: HeadersLike, *, profile: str = "",
                          expected_owner_id: str = "", method: str = "", url: str = "",
                          timeout: Optional[float] = None) -> Verdict:
        if isinstance(body, str):
            raise TypeError("body must be the raw bytes as received, not str")
        self.calls.append(FakeCall(bytes(body), normalize_headers(headers), profile,
                                   expected_owner_id, method, url))
        return self._verdicts[min(len(self.calls), len(self._verdicts)) - 1]

    def close(self) -> None:
        pass
