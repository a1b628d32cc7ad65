"""`hookguard sign` and `hookguard send`: deliveries signed with the secrets
of a hookguard configuration, as the platform signs them.

- Headers printed by `sign` verify on a real hookguard-server (ALLOW with the
  fixture's owner) for every scheme the CLI can produce.
- The vapi-hmac headers are checked independently (Python's hmac over
  "{x-timestamp}.{body}"), with a millisecond timestamp, as VAPI sends.
- `--fixture` with id flags changes only those ids; with `--call_id` alone the
  fixture's other ids (another tenant's) are cleared, so a delivery for any
  call of your database is allowed, as the guides' "try it" step expects.
- `send` POSTs to a tiny app (http.server here) that receives exactly the
  body and headers `sign` prints, asks hookguard, and answers its verdict's
  http_status: what a developer runs against their own endpoint."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import servers
from conftest import run_cli

SECRETS = {
    "HG_SIGN_VAPI_HMAC": "vapi-hmac-sign-secret",
    "HG_SIGN_VAPI": "vapi-legacy-sign-secret",
    "HG_SIGN_BEARER": "vapi-bearer-token",
    "HG_SIGN_SECRET": "vapi-x-secret",
    "HG_SIGN_STRIPE": "whsec_stripe-sign-secret",
    "HG_SIGN_GITHUB": "github-sign-secret",
    "HG_SIGN_SLACK": "slack-sign-secret",
    "HG_SIGN_STANDARD": "whsec_" + base64.b64encode(b"standard-webhooks-key-32-bytes!!").decode(),
}
PROFILES = [
    {"name": "vapi-hmac", "preset": "vapi-hmac", "env": "HG_SIGN_VAPI_HMAC"},
    {"name": "vapi", "preset": "vapi", "env": "HG_SIGN_VAPI"},
    {"name": "vapi-bearer", "preset": "vapi-bearer", "env": "HG_SIGN_BEARER"},
    {"name": "vapi-secret", "preset": "vapi-secret", "env": "HG_SIGN_SECRET"},
    {"name": "stripe", "preset": "stripe", "env": "HG_SIGN_STRIPE"},
    {"name": "github", "preset": "github", "env": "HG_SIGN_GITHUB"},
    {"name": "slack", "preset": "slack", "env": "HG_SIGN_SLACK"},
    {"name": "standard", "kind": "standard_webhooks", "env": "HG_SIGN_STANDARD"},
    {"name": "signs-url", "kind": "hmac", "env": "HG_SIGN_VAPI",
     "payload_format": "{method} {url} {body}"},
]


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    profiles = []
    for p in PROFILES:
        p = dict(p)
        env = p.pop("env")
        p["secrets"] = [{"key_id": "k1", "env": env}]
        profiles.append(p)
    path = tmp_path_factory.mktemp("sign") / "config.json"
    path.write_text(json.dumps({"profiles": profiles, "default_profile": "vapi-hmac"}))
    return path


@pytest.fixture(scope="module")
def hookguard(sqlite_clean, config):
    with servers.HookguardServer(sqlite_clean, config=config, env=SECRETS) as s:
        servers.wait_serving(s.target)
        yield s


def sign(config, *args: str) -> dict:
    r = run_cli("sign", f"--config={config}", *args, env=SECRETS)
    assert r.returncode == 0, r.stderr.decode()
    headers = {}
    for line in r.stdout.decode().splitlines():
        name, _, value = line.partition(": ")
        headers[name] = value
    return headers


def webhook(hookguard, profile: str, body_path, headers: dict, *extra: str):
    args = [f"--target={hookguard.target}", f"--profile={profile}", f"--body={body_path}",
            "--format=json", *extra]
    args += [f"--header={k}: {v}" for k, v in headers.items()]
    r = run_cli("webhook", *args)
    return r.returncode, json.loads(r.stdout or b"{}")


@pytest.mark.parametrize("profile", [p["name"] for p in PROFILES])
def test_signed_fixture_is_allowed_by_a_real_server(hookguard, config, tmp_path, profile):
    body = tmp_path / "body.json"
    extra = ["--url=https://app.example/hook"] if profile == "signs-url" else []
    headers = sign(config, f"--profile={profile}", "--fixture=status-update",
                   f"--body_out={body}", *extra)
    assert body.read_bytes() == (servers.FIXTURES / "vapi" / "status-update.json").read_bytes()
    if extra:
        extra.append("--method=POST")  # what sign signed by default
    rc, answer = webhook(hookguard, profile, body, headers, *extra)
    assert rc == 0, answer
    assert answer["decision"] == "DECISION_ALLOW"
    assert answer["owner_id"] == "2"  # the fixture is bob's call_bob_1
    assert answer["signature"] == "SIGNATURE_RESULT_VALID"


def test_vapi_hmac_headers_are_what_a_vapi_hmac_credential_sends(config, tmp_path):
    body_path = tmp_path / "body.json"
    before = int(time.time() * 1000)
    headers = sign(config, "--fixture=end-of-call-report", f"--body_out={body_path}")
    after = int(time.time() * 1000)
    assert set(headers) == {"x-signature", "x-timestamp"}
    ts = headers["x-timestamp"]
    assert before <= int(ts) <= after  # milliseconds, now
    body = body_path.read_bytes()
    want = hmac.new(SECRETS["HG_SIGN_VAPI_HMAC"].encode(), ts.encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    assert headers["x-signature"] == want
    # A fixed timestamp is signed as given; an old one is authentic but stale.
    fixed = sign(config, "--fixture=end-of-call-report", "--timestamp=1700000000000")
    assert fixed["x-timestamp"] == "1700000000000"
    assert fixed["x-signature"] == hmac.new(SECRETS["HG_SIGN_VAPI_HMAC"].encode(),
                                            b"1700000000000." + body, hashlib.sha256).hexdigest()


def test_stale_timestamp_is_refused_by_the_server(hookguard, config, tmp_path):
    body = tmp_path / "body.json"
    headers = sign(config, "--fixture=status-update", "--timestamp=1700000000000",
                   f"--body_out={body}")
    rc, answer = webhook(hookguard, "vapi-hmac", body, headers)
    assert rc == 1
    assert answer["signature"] == "SIGNATURE_RESULT_STALE"
    assert answer["http_status"] == 401


def test_id_flags_change_only_those_ids(hookguard, config, tmp_path):
    body_path = tmp_path / "body.json"
    headers = sign(config, "--fixture=status-update", "--call_id=call_alice_1",
                   "--assistant_id=asst_alice", "--phone_number_id=phone_alice",
                   "--set=message.call.orgId=org-x", "--set=message.status:=null",
                   f"--body_out={body_path}")
    original = (servers.FIXTURES / "vapi" / "status-update.json").read_text()
    edited = body_path.read_text()
    want = json.loads(original)
    m = want["message"]
    m["call"].update(id="call_alice_1", assistantId="asst_alice", phoneNumberId="phone_alice",
                     orgId="org-x")
    m["phoneNumber"]["id"] = "phone_alice"
    m["status"] = None
    assert json.loads(edited) == want
    # Formatting and key order are the fixture's: the same lines, but the edited ones.
    changed = [(a, b) for a, b in zip(original.splitlines(), edited.splitlines()) if a != b]
    assert len(original.splitlines()) == len(edited.splitlines())
    assert 0 < len(changed) <= 6, changed
    rc, answer = webhook(hookguard, "vapi-hmac", body_path, headers)
    assert (rc, answer["decision"], answer["owner_id"]) == (0, "DECISION_ALLOW", "1"), answer


@pytest.mark.parametrize("fixture,call_id,owner", [
    ("status-update", "call_alice_1", "1"),       # the fixture names bob's assistant and number
    ("end-of-call-report", "call_bob_1", "2"),
    ("assistant-request", "call_alice_1", "1"),
])
def test_call_id_alone_clears_the_fixtures_other_ids(hookguard, config, tmp_path, fixture,
                                                     call_id, owner):
    body_path = tmp_path / "body.json"
    headers = sign(config, f"--fixture={fixture}", f"--call_id={call_id}",
                   f"--body_out={body_path}")
    m = json.loads(body_path.read_text())["message"]
    assert m["call"]["id"] == call_id
    assert m["call"].get("assistantId") is None and m["call"].get("phoneNumberId") is None
    assert (m.get("phoneNumber") or {}).get("id") is None
    rc, answer = webhook(hookguard, "vapi-hmac", body_path, headers)
    assert (rc, answer["decision"], answer["owner_id"]) == (0, "DECISION_ALLOW", owner), answer
    # Without the clearing the fixture's ids would decide: an id given explicitly still does.
    headers = sign(config, f"--fixture={fixture}", f"--call_id={call_id}",
                   "--assistant_id=asst_nobody", f"--body_out={body_path}")
    rc, answer = webhook(hookguard, "vapi-hmac", body_path, headers)
    assert (rc, answer["reason"]) == (1, "DENY_REASON_ASSISTANT_MISMATCH"), answer


def test_sign_refuses_what_it_cannot_do(config, tmp_path):
    cases = [
        (["--fixture=no-such-fixture"], "status-update"),
        (["--fixture=chat.created", "--phone_number_id=p"], "--phone_number_id"),
        (["--fixture=status-update", "--set=message..id=x"], "path"),
        (["--fixture=status-update", "--profile=nope"], "nope"),
        (["--fixture=status-update", "--key_id=k9"], "k9"),
        (["--fixture=status-update", "--profile=signs-url"], "--url"),
        ([], "--body"),
    ]
    for args, says in cases:
        r = run_cli("sign", f"--config={config}", *args, env=SECRETS)
        assert r.returncode == 2, (args, r.stdout)
        assert says in r.stderr.decode(), (args, r.stderr)
    # A secret that cannot be read is named, as the server names it.
    r = run_cli("sign", f"--config={config}", "--fixture=hang")
    assert r.returncode == 2 and "HG_SIGN_VAPI_HMAC" in r.stderr.decode(), r.stderr


class _App:
    """A tiny web app: records each delivery and answers hookguard's verdict."""

    def __init__(self, target: str):
        from hookguard_client import HookguardClient

        self.client = HookguardClient(target)
        self.received: list[tuple[str, dict, bytes]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                app.received.append((self.path, headers, body))
                profile = self.path.rsplit("/", 1)[-1]
                verdict = app.client.authorize_webhook(body, headers, profile=profile)
                answer = json.dumps({"decision": verdict.decision, "owner_id": verdict.owner_id,
                                     "reason": verdict.reason}).encode()
                self.send_response(verdict.http_status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


def test_send_posts_exactly_what_sign_prints_and_prints_the_apps_answer(hookguard, config,
                                                                         tmp_path):
    with _App(hookguard.target) as app:
        body_path = tmp_path / "sent.json"
        r = run_cli("send", f"--config={config}", f"--url={app.url}/webhooks/vapi-hmac",
                    "--fixture=status-update", f"--body_out={body_path}",
                    "--header=X-Extra: 1", env=SECRETS)
        assert r.returncode == 0, r.stderr.decode()
        out = r.stdout.decode()
        assert out.startswith("HTTP 200\n"), out
        assert json.loads(out.split("\n", 1)[1]) == {"decision": "DECISION_ALLOW",
                                                     "owner_id": "2", "reason":
                                                     "DENY_REASON_UNSPECIFIED"}
        path, headers, body = app.received[-1]
        assert path == "/webhooks/vapi-hmac"
        assert body == body_path.read_bytes() == \
            (servers.FIXTURES / "vapi" / "status-update.json").read_bytes()
        assert headers["content-type"] == "application/json"
        assert headers["x-extra"] == "1"
        assert headers["x-signature"] == hmac.new(
            SECRETS["HG_SIGN_VAPI_HMAC"].encode(), headers["x-timestamp"].encode() + b"." + body,
            hashlib.sha256).hexdigest()

        # Another tenant's ids in a signed delivery: the app answers 403, send exits 1.
        r = run_cli("send", f"--config={config}", f"--url={app.url}/webhooks/stripe",
                    "--profile=stripe", "--fixture=status-update", "--assistant_id=asst_alice",
                    env=SECRETS)
        assert r.returncode == 1, r.stderr.decode()
        assert r.stdout.decode().startswith("HTTP 403\n")
        assert "DENY_REASON_ASSISTANT_MISMATCH" in r.stdout.decode()
        assert re.match(r"t=\d{10},v1=[0-9a-f]{64}$", app.received[-1][1]["stripe-signature"])

        # Signed with the wrong profile's secret: 401 from the app.
        r = run_cli("send", f"--config={config}", f"--url={app.url}/webhooks/vapi",
                    "--profile=slack", "--fixture=hang", env=SECRETS)
        assert r.returncode == 1 and r.stdout.decode().startswith("HTTP 401\n"), r.stdout


def test_send_fails_closed_when_nothing_answers(config):
    port = servers.free_port()
    r = run_cli("send", f"--config={config}", f"--url=http://127.0.0.1:{port}/hook",
                "--fixture=hang", "--timeout_ms=2000", env=SECRETS)
    assert r.returncode == 2
    assert "no answer from" in r.stderr.decode()
    r = run_cli("send", f"--config={config}", "--url=ftp://x/", "--fixture=hang", env=SECRETS)
    assert r.returncode == 2 and "http://" in r.stderr.decode()


def test_send_over_https_verifies_the_apps_certificate(hookguard, config, tmp_path):
    """https with --tls_ca: the app's certificate is verified (a CA the CLI
    was not given is refused, nothing sent)."""
    import ssl
    import subprocess

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    for name in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem")
    (tmp_path / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
            "app.key", "-out", "app.csr")
    openssl("x509", "-req", "-in", "app.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "app.pem")
    with _App(hookguard.target) as app:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "app.pem", tmp_path / "app.key")
        app.server.socket = context.wrap_socket(app.server.socket, server_side=True)
        url = app.url.replace("http://", "https://") + "/webhooks/vapi-hmac"
        r = run_cli("send", f"--config={config}", f"--url={url}", "--fixture=status-update",
                    f"--tls_ca={tmp_path / 'ca.pem'}", env=SECRETS)
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout.decode().startswith("HTTP 200\n")
        sent = len(app.received)
        r = run_cli("send", f"--config={config}", f"--url={url}", "--fixture=status-update",
                    f"--tls_ca={tmp_path / 'other-ca.pem'}", "--timeout_ms=3000", env=SECRETS)
        assert r.returncode == 2 and "no answer from" in r.stderr.decode(), r.stderr
        assert len(app.received) == sent
