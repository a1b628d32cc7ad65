"""Twilio, Retell and ElevenLabs signatures end to end (CONTRACT section 7):
the real server verifies deliveries of each platform's published shape
(tests/fixtures/{twilio,retell,elevenlabs}), signed here with Python's hmac
by each platform's published rule, through VerifySignature and through the
CLI's `verify` and `webhook` with --method/--url."""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from conftest import BINARY, servers, start_fails, wait_serving
from platform_signing import twilio_signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STATUS = (FIXTURES / "twilio" / "voice_status_callback.form").read_bytes()
RETELL = (FIXTURES / "retell" / "call_ended.json").read_bytes()
ELEVENLABS = (FIXTURES / "elevenlabs" / "post_call_transcription.json").read_bytes()
URL = "https://hooks.example.com/twilio/voice/status?tenant=acme"
TOKEN = "4c1f0e9d8b7a69584736251403f2e1d0"
TOKEN_NEXT = "a0b1c2d3e4f5061728394a5b6c7d8e9f"
RETELL_KEY = "key_integration_retell"
ELEVENLABS_SECRET = "wsec_integration_elevenlabs"
ENV = {"HG_TWILIO_TOKEN": TOKEN, "HG_TWILIO_TOKEN_NEXT": TOKEN_NEXT,
       "HG_RETELL_KEY": RETELL_KEY, "HG_ELEVENLABS_SECRET": ELEVENLABS_SECRET}
FORM = "application/x-www-form-urlencoded"


def retell_header(body: bytes, ms: int) -> str:
    digest = hmac.new(RETELL_KEY.encode(), body + str(ms).encode(), hashlib.sha256).hexdigest()
    return f"v={ms},d={digest}"


def elevenlabs_header(body: bytes, t: int) -> str:
    digest = hmac.new(ELEVENLABS_SECRET.encode(), f"{t}.".encode() + body,
                      hashlib.sha256).hexdigest()
    return f"t={t},v0={digest}"


@pytest.fixture(scope="module")
def platform_server(sqlite_db, tmp_path_factory):
    cfg = tmp_path_factory.mktemp("platforms") / "config.json"
    cfg.write_text(json.dumps({"profiles": [
        {"name": "twilio", "kind": "twilio",
         "secrets": [{"key_id": "current", "env": "HG_TWILIO_TOKEN"},
                     {"key_id": "next", "env": "HG_TWILIO_TOKEN_NEXT"}]},
        {"name": "retell", "preset": "retell",
         "secrets": [{"key_id": "retell", "env": "HG_RETELL_KEY"}]},
        {"name": "elevenlabs", "preset": "elevenlabs",
         "secrets": [{"key_id": "el", "env": "HG_ELEVENLABS_SECRET"}]},
    ], "default_profile": "twilio"}))
    with servers.HookguardServer(sqlite_db, config=cfg, env=ENV) as s:
        wait_serving(s.target)
        yield s


@pytest.fixture(scope="module")
def verify(platform_server, pb):
    channel = grpc.insecure_channel(platform_server.target)
    stub = pb.grpc.WebhookAuthServiceStub(channel)

    def call(profile: str, body: bytes, headers: dict, url: str = "", method: str = "POST"):
        return stub.VerifySignature(pb.m.VerifySignatureRequest(
            profile=profile,
            request=pb.m.HttpRequest(body=body, headers=headers, method=method, url=url)),
            timeout=5)

    yield call
    channel.close()


def twilio_request(body=STATUS, url=URL, signed_url=None, signed_body=None, token=TOKEN):
    return body, {"X-Twilio-Signature": twilio_signature(
        token, signed_url or url, STATUS if signed_body is None else signed_body),
        "Content-Type": FORM}, url


TWILIO_CASES = [
    # name, (body, headers, url), result, key_id
    ("status callback", twilio_request(), "VALID", "current"),
    ("rotated token", twilio_request(token=TOKEN_NEXT), "VALID", "next"),
    ("default port written by the app",
     twilio_request(url="https://hooks.example.com:443/twilio/voice/status?tenant=acme",
                    signed_url=URL), "VALID", "current"),
    ("scheme", twilio_request(url=URL.replace("https:", "http:"), signed_url=URL), "MISMATCH", ""),
    ("host", twilio_request(url=URL.replace("example.com", "example.net"), signed_url=URL),
     "MISMATCH", ""),
    ("port", twilio_request(url=URL.replace("example.com", "example.com:8443"), signed_url=URL),
     "MISMATCH", ""),
    ("path", twilio_request(url=URL.replace("/status", "/status2"), signed_url=URL),
     "MISMATCH", ""),
    ("query", twilio_request(url=URL.replace("acme", "globex"), signed_url=URL), "MISMATCH", ""),
    ("parameter added", twilio_request(body=STATUS + b"&Digits=1"), "MISMATCH", ""),
    ("parameter removed",
     twilio_request(body=STATUS.replace(b"&SipResponseCode=200", b"")), "MISMATCH", ""),
    ("another subaccount",
     twilio_request(body=STATUS.replace(b"AccountSid=AC25aa", b"AccountSid=AC99bb")),
     "MISMATCH", ""),
    ("repeated parameter, both signed",
     twilio_request(body=STATUS + b"&To=%2B14155550101", signed_body=STATUS + b"&To=%2B14155550101"),
     "VALID", "current"),
    ("bad percent-encoding", twilio_request(body=STATUS + b"&Digits=%G1",
                                            signed_body=STATUS), "MALFORMED", ""),
    ("no url", twilio_request(url="", signed_url=URL), "MALFORMED", ""),
]


@pytest.mark.parametrize("name,request_,result,key_id", TWILIO_CASES,
                         ids=[c[0] for c in TWILIO_CASES])
def test_twilio_voice_status_callback(verify, pb, name, request_, result, key_id):
    body, headers, url = request_
    got = verify("twilio", body, headers, url)
    assert pb.m.SignatureResult.Name(got.result) == f"SIGNATURE_RESULT_{result}", got.detail
    assert got.key_id == key_id
    assert got.http_status == (200 if result == "VALID" else 401)
    assert TOKEN not in got.detail and headers["X-Twilio-Signature"] not in got.detail
    if name == "no url":
        assert "request has no url" in got.detail


def test_twilio_json_body_is_checked_against_body_sha256(verify, pb):
    body = b'{"AccountSid":"AC25aa00521bfac6d667f13fec086072df","Level":"ERROR"}'
    url = f"{URL}&bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, url, b""),
               "Content-Type": "application/json"}
    assert verify("twilio", body, headers, url).result == pb.m.SIGNATURE_RESULT_VALID
    changed = verify("twilio", body.replace(b"ERROR", b"DEBUG"), headers, url)
    assert changed.result == pb.m.SIGNATURE_RESULT_MISMATCH and "bodySHA256" in changed.detail


def test_retell_call_ended(verify, pb):
    now_ms = int(time.time() * 1000)
    ok = verify("retell", RETELL, {"X-Retell-Signature": retell_header(RETELL, now_ms)})
    assert ok.result == pb.m.SIGNATURE_RESULT_VALID, ok.detail
    assert ok.key_id == "retell" and ok.timestamp_unix == now_ms // 1000
    changed = RETELL.replace(b'"call_status":"ended"', b'"call_status":"error"')
    assert verify("retell", changed, {"X-Retell-Signature": retell_header(RETELL, now_ms)}
                  ).result == pb.m.SIGNATURE_RESULT_MISMATCH
    stale_ms = now_ms - 301_000
    stale = verify("retell", RETELL, {"X-Retell-Signature": retell_header(RETELL, stale_ms)})
    assert stale.result == pb.m.SIGNATURE_RESULT_STALE, stale.detail
    other_key = hmac.new(b"another-api-key", RETELL + str(now_ms).encode(),
                         hashlib.sha256).hexdigest()
    assert verify("retell", RETELL, {"X-Retell-Signature": f"v={now_ms},d={other_key}"}
                  ).result == pb.m.SIGNATURE_RESULT_MISMATCH


def test_elevenlabs_post_call_transcription(verify, pb):
    now = int(time.time())
    ok = verify("elevenlabs", ELEVENLABS, {"ElevenLabs-Signature": elevenlabs_header(ELEVENLABS, now)})
    assert ok.result == pb.m.SIGNATURE_RESULT_VALID, ok.detail
    assert ok.key_id == "el" and ok.timestamp_unix == now
    changed = ELEVENLABS.replace(b'"status":"done"', b'"status":"failed"')
    assert verify("elevenlabs", changed,
                  {"ElevenLabs-Signature": elevenlabs_header(ELEVENLABS, now)}
                  ).result == pb.m.SIGNATURE_RESULT_MISMATCH
    # Within ElevenLabs' 30 minutes, then past them.
    assert verify("elevenlabs", ELEVENLABS,
                  {"ElevenLabs-Signature": elevenlabs_header(ELEVENLABS, now - 1700)}
                  ).result == pb.m.SIGNATURE_RESULT_VALID
    assert verify("elevenlabs", ELEVENLABS,
                  {"ElevenLabs-Signature": elevenlabs_header(ELEVENLABS, now - 1900)}
                  ).result == pb.m.SIGNATURE_RESULT_STALE


def _cli(*args: str, body: bytes) -> subprocess.CompletedProcess:
    cli = servers.build_dir() / "tools" / "hookguard" / "hookguard"
    return subprocess.run([str(cli), *args, "--body=-"], input=body, capture_output=True,
                          timeout=30)


def test_cli_verify_and_webhook_send_method_and_url(platform_server):
    body, headers, url = twilio_request()
    flags = [f"--target={platform_server.target}", "--profile=twilio",
             *[f"--header={k}: {v}" for k, v in headers.items()], "--method=POST"]
    verified = _cli("verify", *flags, f"--url={url}", body=body)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert b"SIGNATURE_RESULT_VALID" in verified.stdout and b"current" in verified.stdout
    # webhook: the signature verifies; the body is no VAPI event, so the
    # decision is a deny (exit 1), but not for the signature.
    webhook = _cli("webhook", *flags, f"--url={url}", body=body)
    assert webhook.returncode == 1, webhook.stdout + webhook.stderr
    assert b"SIGNATURE_RESULT_VALID" in webhook.stdout, webhook.stdout
    without_url = _cli("webhook", *flags, body=body)
    assert b"SIGNATURE_RESULT_MALFORMED" in without_url.stdout, without_url.stdout
    assert b"request has no url" in without_url.stdout


def test_secrets_and_signatures_never_reach_the_log(platform_server, verify):
    body, headers, url = twilio_request()
    verify("twilio", body, headers, url)
    verify("twilio", body, headers, "")
    log = platform_server.output()
    for secret in (TOKEN, TOKEN_NEXT, RETELL_KEY, ELEVENLABS_SECRET,
                   headers["X-Twilio-Signature"], "AC25aa00521bfac6d667f13fec086072df"):
        assert secret not in log


def test_twilio_profile_refuses_options_at_start(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"profiles": [
        {"name": "tw", "kind": "twilio", "algorithm": "sha256",
         "secrets": [{"key_id": "t", "env": "HG_TWILIO_TOKEN"}]}]}))
    err = start_fails([f"--config={cfg}", "--db=sqlite3://db=:memory:"], env=ENV)
    assert 'profile "tw"' in err and 'algorithm: not an option of kind "twilio"' in err, err
    assert BINARY.exists()


def test_cli_sign_signs_as_twilio_retell_and_elevenlabs(platform_server, tmp_path):
    """`hookguard sign` makes the headers each platform sends (the same
    signature Python's hmac computes), and the server verifies them."""
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"profiles": [
        {"name": "twilio", "kind": "twilio", "secrets": [{"key_id": "t", "env": "HG_TWILIO_TOKEN"}]},
        {"name": "retell", "preset": "retell", "secrets": [{"key_id": "r", "env": "HG_RETELL_KEY"}]},
        {"name": "elevenlabs", "preset": "elevenlabs",
         "secrets": [{"key_id": "e", "env": "HG_ELEVENLABS_SECRET"}]}],
        "default_profile": "twilio"}))
    cli = servers.build_dir() / "tools" / "hookguard" / "hookguard"

    def sign(*args: str, body: bytes) -> dict:
        p = subprocess.run([str(cli), "sign", f"--config={cfg}", *args, "--body=-"], input=body,
                           capture_output=True, timeout=30, env=ENV)
        assert p.returncode == 0, p.stderr
        return dict(line.split(": ", 1) for line in p.stdout.decode().splitlines() if ": " in line)

    headers = sign("--profile=twilio", f"--url={URL}", body=STATUS)
    assert headers == {"x-twilio-signature": twilio_signature(TOKEN, URL, STATUS)}
    for profile, body in (("retell", RETELL), ("elevenlabs", ELEVENLABS)):
        headers = sign(f"--profile={profile}", body=body)
        verified = _cli("verify", f"--target={platform_server.target}", f"--profile={profile}",
                        *[f"--header={k}: {v}" for k, v in headers.items()], body=body)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    body, headers, url = twilio_request()
    signature = sign("--profile=twilio", f"--url={url}", body=body)["x-twilio-signature"]
    verified = _cli("verify", f"--target={platform_server.target}", "--profile=twilio",
                    f"--header=X-Twilio-Signature: {signature}", f"--url={url}", body=body)
    assert verified.returncode == 0, verified.stdout + verified.stderr
