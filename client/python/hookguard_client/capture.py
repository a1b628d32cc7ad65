"""Keeping the raw deliveries that were denied, or that shadow mode would have
denied, so that `hookguard explain --capture=FILE` can replay them.

    from hookguard_client.capture import capture_to_directory
    HOOKGUARD_CAPTURE = capture_to_directory("/var/lib/myapp/hookguard-captures")   # Django
    HookguardDependency(client, capture=capture_to_directory("/var/lib/..."))         # FastAPI

A capture hook is called as hook(capture) with a `Capture` for every delivery
that got a DENY, and for every shadow-mode ALLOW that enforcement would have
denied; never for an allow, nor when hookguard gave no decision. An exception
in the hook is logged and never changes the answer.

A capture file holds the signature headers and the body: secrets-bearing
data. `write_capture` writes it with mode 0600, atomically (a temporary file
renamed into place), one delivery per file, in the format
"hookguard-capture/v1".
"""
from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import secrets
import tempfile
import time
from typing import Callable, Optional

from ._core import HeadersLike, Verdict, log, normalize_headers

#: The value of the "format" key of every capture file.
CAPTURE_FORMAT = "hookguard-capture/v1"

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclasses.dataclass(frozen=True)
class Capture:
    """One delivery as the app received it, with hookguard's verdict.
    `profile` is the profile the app asked for ("" = the default)."""

    body: bytes
    headers: dict
    verdict: Verdict
    profile: str = ""
    method: str = ""
    url: str = ""
    expected_owner_id: str = ""


#: A capture hook: called with each denied or would-be-denied delivery.
CaptureHook = Callable[[Capture], None]


def should_capture(verdict: Verdict) -> bool:
    """True for a DENY and for a shadow-mode ALLOW that enforcement would deny."""
    return verdict.decision == "DECISION_DENY" or verdict.shadow_deny


def make_capture(body: bytes, headers: HeadersLike, verdict: Verdict, *, profile: str = "",
                 method: str = "", url: str = "", expected_owner_id: str = "") -> Capture:
    """A Capture with the header names lowercased (repeated names joined), as
    hookguard matches them."""
    lowered: list = []
    for name, value in normalize_headers(headers).items():
        lowered.append((name.lower(), value))
    return Capture(bytes(body), normalize_headers(lowered), verdict, profile or "", method or "",
                   url or "", expected_owner_id or "")


def capture_record(capture: Capture, now: Optional[float] = None) -> dict:
    """The capture file's JSON object (format hookguard-capture/v1)."""
    v = capture.verdict
    reason = v.reason if v.decision == "DECISION_DENY" else v.shadow_reason
    return {
        "format": CAPTURE_FORMAT,
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "profile": capture.profile,
        "method": capture.method,
        "url": capture.url,
        "headers": {k.lower(): v for k, v in capture.headers.items()},
        "body_base64": base64.b64encode(capture.body).decode("ascii"),
        "expected_owner_id": capture.expected_owner_id,
        "decision": v.decision,
        "shadow_decision": v.shadow_decision,
        "reason": reason,
        "http_status": v.http_status,
        "decision_id": v.decision_id,
    }


def write_capture(directory: str, capture: Capture) -> str:
    """Writes `capture` into `directory` (created 0700 if missing) as
    <yyyymmddThhmmssZ>-<decision_id or random>.json, mode 0600, atomically.
    Returns the file's path. Raises OSError on failure."""
    now = time.time()
    record = capture_record(capture, now)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    ident = capture.verdict.decision_id
    if not _SAFE_ID.fullmatch(ident):
        ident = secrets.token_hex(8)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = os.path.join(directory, f"{stamp}-{ident}.json")
    if os.path.exists(path):  # the same decision captured twice in one second
        path = path[:-len(".json")] + f"-{secrets.token_hex(4)}.json"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".capture-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            json.dump(record, f, indent=1, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def capture_to_directory(directory: str) -> CaptureHook:
    """A capture hook that writes each capture into `directory` (write_capture)."""
    def hook(capture: Capture) -> None:
        write_capture(directory, capture)
    hook.directory = directory  # type: ignore[attr-defined]
    return hook


def call_capture(hook: Optional[CaptureHook], capture_fn: Callable[[], Capture],
                 verdict: Verdict) -> None:
    """Calls `hook` with capture_fn() when the verdict is worth capturing. An
    exception in the hook is logged (decision id only) and swallowed: the
    answer never depends on it."""
    if hook is None or not should_capture(verdict):
        return
    try:
        hook(capture_fn())
    except Exception:  # noqa: BLE001 - a capture must never change the answer
        log.exception("hookguard capture hook failed (decision_id %s)", verdict.decision_id)
