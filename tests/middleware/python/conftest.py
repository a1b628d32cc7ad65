from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
import live  # noqa: E402


@pytest.fixture(scope="session")
def hookguard_target():
    """HOOKGUARD_TARGET when set (tests/contract/run.py sets it), else a
    server started here (needs the built hookguard-server: fails without)."""
    target = os.environ.get("HOOKGUARD_TARGET")
    if target:
        yield target
        return
    with live.live_hookguard() as t:
        yield t


@pytest.fixture(scope="session")
def vector():
    by_name = {v["name"]: v for v in live.vectors()["vectors"]}

    def get(name: str):
        v = by_name[name]
        body = base64.b64decode(v["body_base64"]) if "body_base64" in v else v["body"].encode()
        return body, dict(v["headers"]), v["expect"]
    return get


@pytest.fixture(scope="session")
def signed_report():
    """An end-of-call report for alice's call (allowed) of exactly `size`
    bytes, signed with the contract's secret for the default profile."""
    secret = live.vectors()["secrets_env"]["HOOKGUARD_CONTRACT_SECRET"].encode()

    def make(size: int):
        head = (b'{"message":{"type":"end-of-call-report","call":{"id":"call_alice_1",'
                b'"assistantId":"asst_alice"},"transcript":"')
        tail = b'"}}'
        body = head + b"a" * (size - len(head) - len(tail)) + tail
        return body, {"x-vapi-signature": hmac.new(secret, body, hashlib.sha256).hexdigest(),
                      "content-type": "application/json"}
    return make


@pytest.fixture
def assert_shadow_logged(caplog):
    """Checks the client's log after the shadow vector `name` was answered
    (clear `caplog` before sending it): one line naming the would-be deny's
    reason and its decision id, or no line for a would-be allow."""
    def check(name: str, expect: dict) -> None:
        lines = [r.getMessage() for r in caplog.records if r.name == "hookguard_client"]
        if expect["shadow_decision"] == "DECISION_DENY":
            assert len(lines) == 1 and expect["shadow_reason"] in lines[0], (name, lines)
            assert re.search(r"decision_id [0-9a-f]{16,}", lines[0]), lines
        else:
            assert lines == [], (name, lines)
    return check


@pytest.fixture
def unreachable_target():
    from servers import free_port
    return f"127.0.0.1:{free_port()}"
