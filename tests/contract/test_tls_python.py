"""The Python client's TLS options against a server with mutual TLS
(HOOKGUARD_TLS_* from run.py, or a server started here)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live  # noqa: E402

from hookguard_client import HookguardClient, TlsOptions  # noqa: E402


@pytest.fixture(scope="module")
def tls_env():
    if os.environ.get("HOOKGUARD_TLS_TARGET"):
        yield {k: v for k, v in os.environ.items() if k.startswith("HOOKGUARD_TLS_")}
        return
    with live.live_tls_hookguard() as env:
        yield env


def allow_vector():
    v = next(v for v in live.vectors()["vectors"] if v["name"] == "allow_message_shape")
    return v["body"].encode(), v["headers"]


def test_mutual_tls_client_is_allowed(tls_env):
    tls = TlsOptions.from_files(ca=tls_env["HOOKGUARD_TLS_CA"], cert=tls_env["HOOKGUARD_TLS_CERT"],
                                key=tls_env["HOOKGUARD_TLS_KEY"])
    with HookguardClient(tls_env["HOOKGUARD_TLS_TARGET"], tls=tls, timeout=5) as client:
        v = client.authorize_webhook(*allow_vector())
    assert (v.allowed, v.owner_id, v.http_status) == (True, "1", 200), v


def test_without_client_certificate_fails_closed(tls_env):
    tls = TlsOptions.from_files(ca=tls_env["HOOKGUARD_TLS_CA"])
    with HookguardClient(tls_env["HOOKGUARD_TLS_TARGET"], tls=tls, timeout=5) as client:
        v = client.authorize_webhook(*allow_vector())
    assert (v.allowed, v.http_status) == (False, 503) and v.error, v


def test_plaintext_to_tls_server_fails_closed(tls_env):
    with HookguardClient(tls_env["HOOKGUARD_TLS_TARGET"], timeout=2) as client:
        v = client.authorize_webhook(*allow_vector())
    assert (v.allowed, v.http_status) == (False, 503), v
