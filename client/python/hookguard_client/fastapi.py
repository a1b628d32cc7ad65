"""FastAPI integration: a dependency that asks hookguard before the endpoint
runs.

    guard = HookguardDependency(AsyncHookguardClient("hookguard:50051"))

    @app.post("/webhooks/vapi")
    async def vapi(request: Request, verdict: Verdict = Depends(guard)):
        event = await request.json()       # the body is cached: readable again
        handle(event, owner_id=verdict.owner_id)

It reads `await request.body()` (the raw bytes) before anything parses it. On
deny it raises HTTPException with the verdict's HTTP status (the endpoint does
not run); when hookguard cannot be asked, 503. On ALLOW it also sets
`request.state.hookguard_owner_id`.
"""
from __future__ import annotations

from typing import Callable, Optional

from fastapi import HTTPException, Request

from ._core import Verdict
from .client import AsyncHookguardClient


class HookguardDependency:
    def __init__(self, client: AsyncHookguardClient, *, profile: str = "",
                 expected_owner_id: Optional[Callable[[Request], str]] = None) -> None:
        self.client = client
        self.profile = profile
        self.expected_owner_id = expected_owner_id

    async def __call__(self, request: Request) -> Verdict:
        body = await request.body()
        verdict = await self.client.authorize_webhook(
            body, request.headers.items(), profile=self.profile,
            expected_owner_id=self.expected_owner_id(request) if self.expected_owner_id else "",
            method=request.method)
        if not verdict.allowed:
            raise HTTPException(status_code=verdict.http_status,
                                detail="hookguard unavailable" if verdict.error else verdict.reason)
        request.state.hookguard_owner_id = verdict.owner_id
        return verdict
