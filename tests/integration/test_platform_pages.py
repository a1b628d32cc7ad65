"""Each platform page (docs/platforms/<platform>.md) runs as written: its
config (the ```json block after `<!-- platform config: <platform> -->`)
passes `hookguard-server --check_config` with dummy secrets in the
environment, and, for the platforms with a subject query, a fixture of
tests/fixtures/<platform>/ signed by `hookguard sign --config` with that
config is allowed for its tenant by the real server over a SQLite database
made with the page's own tables (the ```sql block after
`<!-- platform schema: <platform> -->`), and denied SUBJECT_NOT_FOUND for an
id nobody owns. The VAPI page's config is checked on the default (Django)
schema with a built-in VAPI fixture."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess

import grpc
import pytest

from conftest import BINARY, servers, wait_serving

DOCS = servers.REPO / "docs" / "platforms"
FIXTURES = servers.REPO / "tests" / "fixtures"
CLI = servers.build_dir() / "tools" / "hookguard" / "hookguard"
TWILIO_URL = "https://hooks.example.com/twilio/voice/status"

# platform: (fixture, the row that makes user 1 own the fixture's tenant id,
#            the same body with an id nobody owns, the URL signed (twilio))
PLATFORMS = {
    "stripe": ("stripe/connect_payment_intent_succeeded.json",
               "INSERT INTO payments_connectedaccount VALUES (1, 'acct_1AliceAAAAAAAAAA', 1)",
               ("acct_1AliceAAAAAAAAAA", "acct_1NobodyNNNNNNNNN"), None),
    "github": ("github/issues_opened.json",
               "INSERT INTO integrations_githubinstallation VALUES (1, 41000001, 1)",
               ('"id":41000001', '"id":41000009'), None),
    "slack": ("slack/event_callback_message.json",
              "INSERT INTO integrations_slackworkspace VALUES (1, 'T0ALICE01', 1)",
              ("T0ALICE01", "T0NOBODY1"), None),
    "twilio": ("twilio/voice_status_callback.form",
               "INSERT INTO telephony_twiliosubaccount VALUES "
               "(1, 'AC25aa00521bfac6d667f13fec086072df', 1)",
               ("AC25aa00521bfac6d667f13fec086072df", "AC00000000000000000000000000000000"),
               TWILIO_URL),
    "retell": ("retell/call_ended.json",
               "INSERT INTO voice_retellagent VALUES (1, 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD', 1);"
               "INSERT INTO voice_retellnumber VALUES (1, '+12137771234', 1)",
               ("oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", "agent_nobody"), None),
    "elevenlabs": ("elevenlabs/post_call_transcription.json",
                   "INSERT INTO voice_elevenlabsagent VALUES "
                   "(1, 'agent_01alice0000000000000000', 1)",
                   ("agent_01alice0000000000000000", "agent_01nobody"), None),
}


def block(platform: str, kind: str, lang: str) -> str:
    page = DOCS / f"{platform}.md"
    text = page.read_text()
    marker = f"<!-- platform {kind}: {platform} -->"
    assert text.count(marker) == 1, f"{page} must hold the marker {marker} once"
    found = re.search(re.escape(marker) + rf"\s*```{lang}\n(.*?)\n```", text, re.S)
    assert found, f"no ```{lang} block right after {marker} in {page}"
    return found.group(1)


def page_config(platform: str) -> dict:
    return json.loads(block(platform, "config", "json"))


def dummy_env(config: dict) -> dict:
    return {"PATH": "/usr/bin:/bin",
            **{s["env"]: f"dummy-{s['env'].lower()}"
               for p in config["profiles"] for s in p["secrets"]}}


def sign(config_file, env: dict, body_file, url: str | None) -> dict:
    args = [str(CLI), "sign", f"--config={config_file}", f"--body={body_file}"]
    if url:
        args.append(f"--url={url}")
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)


def test_every_platform_has_a_page():
    assert {p.stem for p in DOCS.glob("*.md")} == {*PLATFORMS, "vapi"}


@pytest.mark.parametrize("platform", [*PLATFORMS, "vapi"])
def test_page_config_passes_check_config(platform, tmp_path):
    config = page_config(platform)
    assert len(config["profiles"]) == 1
    cfg = tmp_path / "hookguard.json"
    cfg.write_text(json.dumps(config))
    r = subprocess.run([str(BINARY), "--check_config", f"--config={cfg}"],
                       env=dummy_env(config), capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout + r.stderr, r


def authorize(pb, target: str, profile: str, body: bytes, headers: dict, url: str | None):
    with grpc.insecure_channel(target) as channel:
        stub = pb.grpc.WebhookAuthServiceStub(channel)
        request = pb.m.HttpRequest(body=body, headers=headers)
        if url:
            request.method, request.url = "POST", url
            request.headers["Content-Type"] = "application/x-www-form-urlencoded"
        return stub.AuthorizeWebhook(
            pb.m.AuthorizeWebhookRequest(profile=profile, request=request), timeout=10)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_page_config_decides_a_signed_fixture_on_the_page_schema(platform, tmp_path, pb):
    fixture, insert, (owned, nobody), url = PLATFORMS[platform]
    config = page_config(platform)
    profile = config["profiles"][0]["name"]
    env = dummy_env(config)
    cfg = tmp_path / "hookguard.json"
    cfg.write_text(json.dumps(config))
    db = tmp_path / "app.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.executescript(block(platform, "schema", "sql"))
        conn.executescript(insert)
    body = (FIXTURES / fixture).read_bytes()
    if fixture.endswith(".json"):  # compact, so the id replacements below match
        body = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert owned.encode() in body
    other = body.replace(owned.encode(), nobody.encode())
    with servers.HookguardServer(servers.sqlite_db(db), config=cfg, env=env) as s:
        wait_serving(s.target)
        for data, decision, owner, reason in [
                (body, pb.m.DECISION_ALLOW, "1", pb.m.DENY_REASON_UNSPECIFIED),
                (other, pb.m.DECISION_DENY, "", pb.m.DENY_REASON_SUBJECT_NOT_FOUND)]:
            body_file = tmp_path / "body"
            body_file.write_bytes(data)
            headers = sign(cfg, env, body_file, url)
            answer = authorize(pb, s.target, profile, data, headers, url)
            assert answer.signature == pb.m.SIGNATURE_RESULT_VALID, answer
            assert (answer.decision, answer.owner_id, answer.reason) == (
                decision, owner, reason), answer


def test_vapi_page_config_decides_a_signed_fixture_on_the_default_schema(tmp_path, pb):
    config = page_config("vapi")
    assert config["profiles"][0]["preset"] == "vapi-hmac"
    env = dummy_env(config)
    cfg = tmp_path / "hookguard.json"
    cfg.write_text(json.dumps(config))
    db = servers.sqlite_db(tmp_path / "app.sqlite3", *servers.django_fixtures(inconsistent=False))
    body_file = tmp_path / "body"
    r = subprocess.run([str(CLI), "sign", f"--config={cfg}", "--fixture=status-update",
                        "--call_id=call_alice_1", "--assistant_id=asst_alice",
                        "--phone_number_id=phone_alice", f"--body_out={body_file}"],
                       env=env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    headers = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
    assert set(h.lower() for h in headers) == {"x-signature", "x-timestamp"}, headers
    with servers.HookguardServer(db, config=cfg, env=env) as s:
        wait_serving(s.target)
        answer = authorize(pb, s.target, "vapi", body_file.read_bytes(), headers, None)
        assert (answer.decision, answer.owner_id) == (pb.m.DECISION_ALLOW, "1"), answer
