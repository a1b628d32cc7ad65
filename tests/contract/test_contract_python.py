"""Contract runner for the Python client: every vector of vectors.json, sent
through HookguardClient and AsyncHookguardClient, against the live server at
HOOKGUARD_TARGET (started by tests/contract/run.sh), or one started here."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path

import pytest

from hookguard_client import AsyncHookguardClient, HookguardClient, Verdict

sys.path.insert(0, str(Path(__file__).resolve().parent))
VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text(encoding="utf-8"))["vectors"]


def body_of(v: dict) -> bytes:
    return base64.b64decode(v["body_base64"]) if "body_base64" in v else v["body"].encode("utf-8")


def check(v: dict, got: Verdict) -> None:
    """Every key of the vector's expectation, and only those, must match; a
    key this runner cannot read fails rather than being skipped."""
    exp = v["expect"]
    actual = {"decision": got.decision, "reason": got.reason, "http_status": got.http_status,
              "owner_id": got.owner_id, "signature": got.signature, "key_id": got.key_id,
              "error": got.error, "resolved_by": got.resolved_by,
              "delivery_key": got.delivery_key, "shadow_decision": got.shadow_decision,
              "shadow_reason": got.shadow_reason, "resolved_subject": got.resolved_subject}
    assert set(exp) <= set(actual), f"{v['name']}: unknown expect keys {set(exp) - set(actual)}"
    assert {k: actual[k] for k in exp} == exp, f"{v['name']}: {v['description']} ({got.detail})"
    assert got.allowed == (exp.get("decision") == "DECISION_ALLOW")
    assert got.shadow_deny == (exp.get("shadow_decision") == "DECISION_DENY")


@pytest.fixture(scope="module")
def target():
    """HOOKGUARD_TARGET (run.py sets it), else a server started here (needs
    the built hookguard-server: fails, never skips, without it)."""
    t = os.environ.get("HOOKGUARD_TARGET")
    if t:
        yield t
        return
    import live
    with live.live_hookguard() as t:
        yield t


@pytest.fixture(scope="module")
def client(target):
    # 5 s: the large vectors and a cold first connection must not hit the
    # default 500 ms deadline on a loaded CI machine.
    with HookguardClient(target, timeout=5.0) as c:
        yield c


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sync_client(client, v):
    got = client.authorize_webhook(body_of(v), v["headers"], profile=v["profile"],
                                   expected_owner_id=v["expected_owner_id"],
                                   method=v.get("method", ""), url=v.get("url", ""))
    check(v, got)


def test_async_client_all_vectors(target):
    async def run() -> list:
        async with AsyncHookguardClient(target, timeout=5.0) as c:
            return await asyncio.gather(*(
                c.authorize_webhook(body_of(v), v["headers"], profile=v["profile"],
                                    expected_owner_id=v["expected_owner_id"],
                                    method=v.get("method", ""), url=v.get("url", ""))
                for v in VECTORS))

    for v, got in zip(VECTORS, asyncio.run(run())):
        check(v, got)


def test_vectors_cover_threats():
    covered = {v["threat"] for v in VECTORS}
    assert {1, 2, 3, 4, 5, 6, 8, 9, 10, 23} <= covered


def test_vectors_cover_platform_schemes():
    """Twilio (the URL is sent), Retell and ElevenLabs: valid, forged and
    stale signatures reach every runner."""
    by_profile = {}
    for v in VECTORS:
        by_profile.setdefault(v["profile"], set()).add(v["expect"].get("signature"))
    assert {"SIGNATURE_RESULT_VALID", "SIGNATURE_RESULT_MISMATCH",
            "SIGNATURE_RESULT_MALFORMED"} <= by_profile["twilio"]
    assert "SIGNATURE_RESULT_STALE" in by_profile["retell"] | by_profile["elevenlabs"]
    assert "SIGNATURE_RESULT_VALID" in by_profile["retell-any-age"]
    assert "SIGNATURE_RESULT_VALID" in by_profile["elevenlabs-any-age"]
    assert any(v.get("url") for v in VECTORS)


def test_vectors_cover_owner_sources_and_shadow_answers():
    """What every runner must read: each way an owner is found, and shadow
    answers of both kinds, with a delivery key to compare."""
    exps = [v["expect"] for v in VECTORS]
    assert {"OWNER_SOURCE_CALL", "OWNER_SOURCE_PHONE_NUMBER", "OWNER_SOURCE_UNSPECIFIED"} <= {
        e.get("resolved_by") for e in exps}
    assert {"DECISION_ALLOW", "DECISION_DENY"} <= {e.get("shadow_decision") for e in exps}
    assert any(len(e.get("delivery_key", "")) == 64 for e in exps)
