"""What the framework helpers (Django, FastAPI) share: the text and headers
of a deny, the shadow-mode log line, calling a sync or async client.

Nothing here imports a web framework.
"""
from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Optional

from ._core import DECISION_ID_HEADER, Verdict

log = logging.getLogger("hookguard_client")

#: on_deny(request, verdict): called for every webhook that is not let through
#: (a deny, or 503 when hookguard gave no decision) before the answer is sent.
OnDeny = Callable[[Any, Verdict], Any]


def deny_text(verdict: Verdict) -> str:
    """The body of a deny answer: the reason's name, or "hookguard
    unavailable" when no decision was obtained (503)."""
    return "hookguard unavailable" if verdict.error else verdict.reason


def deny_headers(verdict: Verdict) -> dict:
    """DECISION_ID_HEADER with the decision id, when there was a decision."""
    return {DECISION_ID_HEADER: verdict.decision_id} if verdict.decision_id else {}


def body_too_large_text(limit: int) -> str:
    return f"request body over {limit} bytes"


def note_allowed(verdict: Verdict) -> None:
    """Logs (warning) an ALLOW that shadow mode gave for a webhook that
    enforcement would deny. Never the body, a header or a secret."""
    if verdict.shadow_deny:
        log.warning("hookguard shadow mode: let through a webhook that enforcement would deny "
                    "(%s, decision_id %s)", verdict.shadow_reason, verdict.decision_id)


async def authorize_async(client: Any, *args, **kwargs) -> Verdict:
    """Awaits an AsyncHookguardClient; also takes a client whose
    authorize_webhook is synchronous (test doubles)."""
    result = client.authorize_webhook(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


def call_on_deny(on_deny: Optional[OnDeny], request: Any, verdict: Verdict) -> None:
    """Calls the app's hook; an exception in it is logged and the deny is
    answered all the same."""
    if on_deny is None:
        return
    try:
        on_deny(request, verdict)
    except Exception:  # noqa: BLE001 - the deny must still be answered
        log.exception("hookguard on_deny hook failed (decision_id %s)", verdict.decision_id)
