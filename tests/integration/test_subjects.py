"""Tenant ownership by subjects (config profiles[].ownership.subjects), on
PostgreSQL and SQLite, through the real server: real-shaped deliveries of
Stripe Connect, GitHub Apps, Slack, Twilio, Retell and ElevenLabs
(tests/fixtures/<platform>/, from each platform's published payload
documentation), signed with the stripe, github and slack presets and the
twilio kind (Retell and ElevenLabs with a plain HMAC profile here: their
presets are the signature side's), and the attacks
of threat rows 32 and 34: another tenant's id, a field changed after
signing, duplicate and case-variant keys along the pointer, wrong types, a
header as a source."""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
import urllib.request

import grpc
import pytest

from conftest import BINARY, SECRET_NEW, servers, wait_serving
from platform_signing import twilio_signature

FIXTURES = servers.REPO / "tests" / "fixtures"
STRIPE_SECRET = "whsec_stripe_test_secret"
GITHUB_SECRET = "github-app-webhook-secret"
SLACK_SECRET = "slack-signing-secret-8f742231b10e8888abcd"
RETELL_SECRET = "retell-api-key-test"
ELEVEN_SECRET = "wsec_elevenlabs_test"
TWILIO_TOKEN = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
TWILIO_URL = "https://hooks.example.com/twilio/voice/status?tenant=acme"
ENV = {"HG_STRIPE": STRIPE_SECRET, "HG_GITHUB": GITHUB_SECRET, "HG_SLACK": SLACK_SECRET,
       "HG_RETELL": RETELL_SECRET, "HG_ELEVEN": ELEVEN_SECRET, "HG_VAPI": SECRET_NEW,
       "HG_TWILIO": TWILIO_TOKEN}


def subject(name: str, from_: str, query: str, required: bool | None = None) -> dict:
    s = {"name": name, "from": from_, "query": query}
    if required is not None:
        s["required"] = required
    return s


STRIPE_QUERY = ("SELECT CAST(user_id AS TEXT) FROM payments_connectedaccount"
                " WHERE stripe_account_id = :id")
GITHUB_QUERY = ("SELECT CAST(user_id AS TEXT) FROM integrations_githubinstallation"
                " WHERE CAST(installation_id AS TEXT) = :id")
SLACK_QUERY = "SELECT CAST(user_id AS TEXT) FROM integrations_slackworkspace WHERE team_id = :id"
RETELL_AGENT_QUERY = "SELECT CAST(user_id AS TEXT) FROM voice_retellagent WHERE agent_id = :id"
RETELL_NUMBER_QUERY = ("SELECT CAST(user_id AS TEXT) FROM voice_retellnumber"
                       " WHERE phone_number = :id")
ELEVEN_QUERY = "SELECT CAST(user_id AS TEXT) FROM voice_elevenlabsagent WHERE agent_id = :id"
FORM_QUERY = ("SELECT CAST(user_id AS TEXT) FROM telephony_twiliosubaccount"
              " WHERE account_sid = :id")

STRIPE_SUBJECTS = {"subjects": [subject("account", "/account", STRIPE_QUERY)]}
CONFIG = {
    "profiles": [
        {"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "v", "env": "HG_VAPI"}]},
        {"name": "stripe", "preset": "stripe", "secrets": [{"key_id": "s", "env": "HG_STRIPE"}],
         "ownership": STRIPE_SUBJECTS},
        {"name": "stripe-shadow", "preset": "stripe", "mode": "shadow",
         "secrets": [{"key_id": "s", "env": "HG_STRIPE"}], "ownership": STRIPE_SUBJECTS},
        {"name": "github", "preset": "github", "secrets": [{"key_id": "g", "env": "HG_GITHUB"}],
         "ownership": {"subjects": [subject("installation", "/installation/id", GITHUB_QUERY)]}},
        {"name": "slack", "preset": "slack", "secrets": [{"key_id": "k", "env": "HG_SLACK"}],
         "ownership": {"subjects": [subject("team", "/team_id", SLACK_QUERY)]}},
        {"name": "retell", "kind": "hmac", "signature_header": "x-test-signature",
         "secrets": [{"key_id": "r", "env": "HG_RETELL"}],
         "ownership": {"subjects": [subject("agent", "/call/agent_id", RETELL_AGENT_QUERY),
                                    subject("number", "/call/to_number", RETELL_NUMBER_QUERY,
                                            required=False)]}},
        {"name": "elevenlabs", "kind": "hmac", "signature_header": "x-test-signature",
         "secrets": [{"key_id": "e", "env": "HG_ELEVEN"}],
         "ownership": {"subjects": [subject("agent", "/data/agent_id", ELEVEN_QUERY)]}},
        # form: subjects with a plain HMAC over the body (Twilio's own scheme,
        # kind twilio, is the signature side's).
        {"name": "form", "kind": "hmac", "signature_header": "x-test-signature",
         "secrets": [{"key_id": "f", "env": "HG_RETELL"}],
         "ownership": {"subjects": [subject("account", "form:AccountSid", FORM_QUERY)]}},
        # Twilio's own scheme (kind twilio: the URL and the sorted parameters).
        {"name": "twilio", "kind": "twilio", "secrets": [{"key_id": "t", "env": "HG_TWILIO"}],
         "ownership": {"subjects": [subject("account", "form:AccountSid", FORM_QUERY)]}},
    ],
    "default_profile": "vapi",
}


def _check_config(*args, env=None):
    return subprocess.run([str(BINARY), "--check_config", *args],
                          env={"PATH": "/usr/bin:/bin", **(env or {})},
                          capture_output=True, text=True, timeout=20)


def fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def hexmac(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def sign(profile: str, body: bytes) -> dict:
    """The headers the platform sends for `body` (profile as in CONFIG)."""
    ts = str(int(time.time()))
    if profile.startswith("stripe"):
        return {"Stripe-Signature": f"t={ts},v1={hexmac(STRIPE_SECRET, ts.encode() + b'.' + body)}"}
    if profile == "github":
        return {"X-Hub-Signature-256": "sha256=" + hexmac(GITHUB_SECRET, body),
                "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    if profile == "twilio":
        return {"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, TWILIO_URL, body),
                "Content-Type": "application/x-www-form-urlencoded"}
    if profile == "slack":
        return {"X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": "v0=" + hexmac(SLACK_SECRET, b"v0:" + ts.encode() + b":" + body)}
    secret = {"retell": RETELL_SECRET, "elevenlabs": ELEVEN_SECRET, "vapi": SECRET_NEW,
              "form": RETELL_SECRET}[profile]
    return {"x-test-signature" if profile != "vapi" else "x-vapi-signature": hexmac(secret, body)}


@pytest.fixture(scope="module", params=["postgresql", "sqlite3"])
def subject_db(request, tmp_path_factory) -> str:
    files = [*servers.django_fixtures(inconsistent=False), FIXTURES / "subjects.sql"]
    if request.param == "sqlite3":
        return servers.sqlite_db(tmp_path_factory.mktemp("subjects") / "app.db", *files)
    pg = request.getfixturevalue("postgres")
    if not getattr(pg, "subjects_loaded", False):
        pg.load(FIXTURES / "subjects.sql")
        pg.subjects_loaded = True
    return pg.soci


@pytest.fixture(scope="module")
def hg(subject_db, tmp_path_factory):
    config = tmp_path_factory.mktemp("subjects-cfg") / "config.json"
    config.write_text(json.dumps(CONFIG))
    with servers.HookguardServer(subject_db, config=config, env=ENV) as s:
        wait_serving(s.target)
        yield s


@pytest.fixture(scope="module")
def call(hg, pb):
    channel = grpc.insecure_channel(hg.target)
    stub = pb.grpc.WebhookAuthServiceStub(channel)

    def authorize(profile: str, body: bytes, *, expected_owner_id: str = "",
                  headers: dict | None = None):
        # Twilio signs the URL it called: the request carries it.
        url, method = (TWILIO_URL, "POST") if profile == "twilio" else ("", "")
        request = pb.m.AuthorizeWebhookRequest(
            profile=profile, expected_owner_id=expected_owner_id,
            request=pb.m.HttpRequest(body=body, headers=headers or sign(profile, body),
                                     method=method, url=url))
        return stub.AuthorizeWebhook(request, timeout=10)

    yield authorize
    channel.close()


def with_(obj: dict, path: str, value) -> dict:
    """A copy of `obj` with the member at the slash path set to `value`."""
    out = json.loads(json.dumps(obj))
    *parents, last = path.strip("/").split("/")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


STRIPE = fixture("stripe/connect_payment_intent_succeeded.json")
GITHUB = fixture("github/issues_opened.json")
SLACK = fixture("slack/event_callback_message.json")
RETELL = fixture("retell/call_ended.json")
ELEVEN = fixture("elevenlabs/post_call_transcription.json")
TWILIO = (FIXTURES / "twilio" / "voice_status_callback.form").read_bytes()
ALICE_SID = b"AccountSid=AC25aa00521bfac6d667f13fec086072df"
BOB_SID = b"AccountSid=AC000000000000000000000000000b0b0"
BOB_ACCOUNT = "acct_1BobBBBBBBBBBBBB"

# name, profile, body, expected_owner_id, reason (None: ALLOW), http, owner, subject
CASES = [
    ("stripe_connect_allowed", "stripe", dumps(STRIPE), "", None, 200, "1", "account"),
    ("stripe_expected_owner_matches", "stripe", dumps(STRIPE), "1", None, 200, "1", "account"),
    ("stripe_another_tenants_account", "stripe", dumps(with_(STRIPE, "/account", BOB_ACCOUNT)),
     "1", "OWNER_MISMATCH", 403, "", ""),
    ("stripe_unknown_account", "stripe", dumps(with_(STRIPE, "/account", "acct_1Nobody")), "",
     "SUBJECT_NOT_FOUND", 404, "", ""),
    ("stripe_sql_injection_in_account", "stripe",
     dumps(with_(STRIPE, "/account", "x' OR '1'='1")), "", "SUBJECT_NOT_FOUND", 404, "", ""),
    ("stripe_platform_event_without_account", "stripe",
     dumps({k: v for k, v in STRIPE.items() if k != "account"}), "", "MALFORMED_EVENT", 400, "",
     ""),
    ("stripe_empty_account_is_absent", "stripe", dumps(with_(STRIPE, "/account", "")), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("stripe_duplicate_account_key", "stripe",
     dumps(STRIPE).replace(b'"account":"acct_1AliceAAAAAAAAAA"',
                           b'"account":"acct_1AliceAAAAAAAAAA","account":"acct_1BobBBBBBBBBBBBB"'),
     "", "MALFORMED_EVENT", 400, "", ""),
    ("stripe_case_variant_account_key", "stripe",
     dumps(with_(STRIPE, "/Account", BOB_ACCOUNT)), "", "MALFORMED_EVENT", 400, "", ""),
    ("stripe_account_is_an_object", "stripe",
     dumps(with_(STRIPE, "/account", {"id": "acct_1AliceAAAAAAAAAA"})), "", "MALFORMED_EVENT",
     400, "", ""),
    ("stripe_account_is_a_bool", "stripe", dumps(with_(STRIPE, "/account", True)), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("github_installation_allowed", "github", dumps(GITHUB), "", None, 200, "1", "installation"),
    ("github_bobs_installation", "github", dumps(with_(GITHUB, "/installation/id", 41000002)),
     "", None, 200, "2", "installation"),
    ("github_another_tenants_installation", "github",
     dumps(with_(GITHUB, "/installation/id", 41000002)), "1", "OWNER_MISMATCH", 403, "", ""),
    ("github_installation_id_float", "github",
     dumps(GITHUB).replace(b'"id":41000001,', b'"id":41000001.0,'), "", "MALFORMED_EVENT", 400,
     "", ""),
    ("github_installation_id_exponent", "github",
     dumps(GITHUB).replace(b'"id":41000001,', b'"id":4.1000002e7,'), "", "MALFORMED_EVENT", 400,
     "", ""),
    ("github_installation_id_bool", "github", dumps(with_(GITHUB, "/installation/id", False)),
     "", "MALFORMED_EVENT", 400, "", ""),
    ("github_duplicate_installation_id", "github",
     dumps(GITHUB).replace(b'"id":41000001,', b'"id":41000001,"id":41000002,'), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("github_case_variant_installation_key", "github",
     dumps(with_(GITHUB, "/Installation", {"id": 41000002})), "", "MALFORMED_EVENT", 400, "", ""),
    ("github_unknown_installation", "github", dumps(with_(GITHUB, "/installation/id", 999)), "",
     "SUBJECT_NOT_FOUND", 404, "", ""),
    ("slack_team_allowed", "slack", dumps(SLACK), "", None, 200, "1", "team"),
    ("slack_unknown_team", "slack", dumps(with_(SLACK, "/team_id", "T0NOBODY")), "",
     "SUBJECT_NOT_FOUND", 404, "", ""),
    ("slack_case_variant_team_id", "slack", dumps(with_(SLACK, "/Team_ID", "T0BOB0002")), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("slack_expected_owner_matches", "slack", dumps(SLACK), "1", None, 200, "1", "team"),
    ("slack_another_tenants_team", "slack", dumps(with_(SLACK, "/team_id", "T0BOB0002")), "1",
     "OWNER_MISMATCH", 403, "", ""),
    ("slack_duplicate_team_id", "slack",
     dumps(SLACK).replace(b'"team_id":"T0ALICE01","api_app_id"',
                          b'"team_id":"T0ALICE01","team_id":"T0BOB0002","api_app_id"'),
     "", "MALFORMED_EVENT", 400, "", ""),
    ("slack_team_id_is_an_array", "slack", dumps(with_(SLACK, "/team_id", ["T0ALICE01"])), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("twilio_status_callback_allowed", "twilio", TWILIO, "", None, 200, "1", "account"),
    ("twilio_expected_owner_matches", "twilio", TWILIO, "1", None, 200, "1", "account"),
    ("twilio_another_tenants_subaccount", "twilio", TWILIO.replace(ALICE_SID, BOB_SID), "1",
     "OWNER_MISMATCH", 403, "", ""),
    ("twilio_bobs_subaccount", "twilio", TWILIO.replace(ALICE_SID, BOB_SID), "", None, 200, "2",
     "account"),
    ("twilio_unknown_subaccount", "twilio",
     TWILIO.replace(ALICE_SID, b"AccountSid=AC0000000000000000000000000n0b0dy"), "",
     "SUBJECT_NOT_FOUND", 404, "", ""),
    ("twilio_repeated_account_sid", "twilio", TWILIO + b"&" + BOB_SID, "", "MALFORMED_EVENT",
     400, "", ""),
    ("twilio_account_sid_absent", "twilio", TWILIO.replace(ALICE_SID + b"&", b""), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("retell_agent_and_number_allowed", "retell", dumps(RETELL), "", None, 200, "1", "agent"),
    ("retell_number_optional", "retell",
     dumps(with_(RETELL, "/call", {k: v for k, v in RETELL["call"].items() if k != "to_number"})),
     "", None, 200, "1", "agent"),
    ("retell_agent_and_number_of_different_tenants", "retell",
     dumps(with_(RETELL, "/call/to_number", "+12137775678")), "", "OWNER_CONFLICT", 403, "", ""),
    ("retell_duplicate_agent_id", "retell",
     dumps(RETELL).replace(b'"agent_id":"oBeD', b'"agent_id":"bobAgentXXXXXXXXXXXXXXXXXXXXXXXX",'
                           b'"agent_id":"oBeD'), "", "MALFORMED_EVENT", 400, "", ""),
    ("elevenlabs_agent_allowed", "elevenlabs", dumps(ELEVEN), "", None, 200, "1", "agent"),
    ("elevenlabs_another_tenants_agent", "elevenlabs",
     dumps(with_(ELEVEN, "/data/agent_id", "agent_02bob000000000000000000")), "1",
     "OWNER_MISMATCH", 403, "", ""),
    ("elevenlabs_agent_id_wrong_type", "elevenlabs", dumps(with_(ELEVEN, "/data/agent_id", 1.5)),
     "", "MALFORMED_EVENT", 400, "", ""),
    ("form_field_allowed", "form",
     b"CallSid=CA1&AccountSid=AC00000000000000000000000000a11ce&To=%2B15005550006", "", None, 200,
     "1", "account"),
    ("form_field_another_tenant", "form",
     b"CallSid=CA1&AccountSid=AC000000000000000000000000000b0b0", "1", "OWNER_MISMATCH", 403, "",
     ""),
    ("form_field_unknown", "form", b"AccountSid=AC0nobody", "", "SUBJECT_NOT_FOUND", 404, "", ""),
    ("form_field_repeated", "form",
     b"AccountSid=AC00000000000000000000000000a11ce&AccountSid=AC000000000000000000000000000b0b0",
     "", "MALFORMED_EVENT", 400, "", ""),
    ("form_field_bad_percent_encoding", "form", b"AccountSid=AC%zz", "", "MALFORMED_EVENT", 400,
     "", ""),
    ("form_field_absent", "form", b"CallSid=CA1", "", "MALFORMED_EVENT", 400, "", ""),
    ("form_body_is_json", "form", dumps({"AccountSid": "AC00000000000000000000000000a11ce"}), "",
     "MALFORMED_EVENT", 400, "", ""),
    ("elevenlabs_data_not_an_object", "elevenlabs", dumps(with_(ELEVEN, "/data", ["x"])), "",
     "MALFORMED_EVENT", 400, "", ""),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_subject_decisions(call, pb, case):
    name, profile, body, expected, reason, http, owner, subject_name = case
    r = call(profile, body, expected_owner_id=expected)
    assert r.signature == pb.m.SIGNATURE_RESULT_VALID, (name, r.detail)
    assert r.http_status == http, (name, r.detail)
    if reason is None:
        assert r.decision == pb.m.DECISION_ALLOW, (name, r.detail)
        assert r.resolved_by == pb.m.OWNER_SOURCE_SUBJECT
    else:
        assert r.decision == pb.m.DECISION_DENY, name
        assert pb.m.DenyReason.Name(r.reason) == f"DENY_REASON_{reason}", (name, r.detail)
        assert r.resolved_by == pb.m.OWNER_SOURCE_UNSPECIFIED
    assert r.owner_id == owner, name
    assert r.resolved_subject == subject_name, name
    assert not r.HasField("event"), "a subject profile parses no call event"


def test_field_changed_after_signing_is_a_bad_signature(call, pb):
    for profile, body, tampered in (
            ("stripe", dumps(STRIPE), dumps(with_(STRIPE, "/account", BOB_ACCOUNT))),
            ("github", dumps(GITHUB), dumps(with_(GITHUB, "/installation/id", 41000002))),
            ("slack", dumps(SLACK), dumps(with_(SLACK, "/team_id", "T0BOB0002"))),
            ("twilio", TWILIO, TWILIO.replace(ALICE_SID, BOB_SID))):
        r = call(profile, tampered, headers=sign(profile, body))
        assert r.decision == pb.m.DECISION_DENY and r.http_status == 401, profile
        assert r.reason == pb.m.DENY_REASON_SIGNATURE_INVALID, profile


def test_null_owner_fails_closed(call):
    body = dumps(with_(RETELL, "/call/to_number", "+12137770000"))
    with pytest.raises(grpc.RpcError) as err:
        call("retell", body)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_shadow_mode_answers_allow_with_the_would_be_deny(call, pb):
    r = call("stripe-shadow", dumps(with_(STRIPE, "/account", "acct_1Nobody")))
    assert (r.decision, r.http_status) == (pb.m.DECISION_ALLOW, 200)
    assert r.shadow_decision == pb.m.DECISION_DENY
    assert r.shadow_reason == pb.m.DENY_REASON_SUBJECT_NOT_FOUND
    assert r.owner_id == ""
    ok = call("stripe-shadow", dumps(STRIPE))
    assert (ok.owner_id, ok.resolved_subject) == ("1", "account")
    assert ok.shadow_decision == pb.m.DECISION_ALLOW


def test_vapi_profile_beside_subject_profiles_keeps_the_call_model(call, pb):
    body = dumps({"message": {"type": "status-update", "call": {"id": "call_alice_1"}}})
    r = call("vapi", body)
    assert (r.decision, r.owner_id, r.resolved_by) == (pb.m.DECISION_ALLOW, "1",
                                                        pb.m.OWNER_SOURCE_CALL)
    assert r.resolved_subject == ""
    # A VAPI body on a subject profile names no subject.
    r = call("stripe", body)
    assert r.reason == pb.m.DENY_REASON_MALFORMED_EVENT


def test_audit_line_names_each_subject_and_its_id(hg, call):
    call("retell", dumps(RETELL))
    deadline = time.time() + 5
    while time.time() < deadline:
        lines = [json.loads(l) for l in hg.output().splitlines() if l.startswith("{")]
        hits = [l for l in lines if l.get("subjects") ==
                "agent=oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD,number=+12137771234"]
        if hits:
            assert hits[-1]["resolved_subject"] == "agent"
            assert hits[-1]["resolved_by"] == "OWNER_SOURCE_SUBJECT"
            assert hits[-1]["owner_id"] == "1"
            return
        time.sleep(0.05)
    pytest.fail("no audit line with the subjects:\n" + hg.output()[-2000:])


# Threat row 32: a tenant id from unsigned bytes is refused as a source at start.
@pytest.mark.parametrize("subjects,says", [
    ([subject("shop", "header:X-Shopify-Shop-Domain", STRIPE_QUERY)],
     ["header is never a subject source", "X-Shopify-Shop-Domain"]),
    ([subject("a", "account", STRIPE_QUERY)], ["JSON Pointer"]),
    ([subject("a", "/a~2", STRIPE_QUERY)], ["'~' must be followed by 0 or 1"]),
    ([subject("a", "/account", "SELECT owner FROM t WHERE k = :id AND t = :tenant")],
     [":tenant"]),
    ([subject("a", "/account", "SELECT owner FROM t WHERE k = 'acct'")], ["must bind :id"]),
    ([subject("a", "/account", STRIPE_QUERY), subject("a", "/x", STRIPE_QUERY)], ["duplicate"]),
    ([subject("", "/account", STRIPE_QUERY)], [".name: required"]),
    ([subject("a", "/account", STRIPE_QUERY), subject("b", "form:To", STRIPE_QUERY)],
     ["not both"]),
    ([], ["at least one subject"]),
])
def test_check_config_refuses_bad_subjects(tmp_path, subjects, says):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"profiles": [
        {"name": "p", "preset": "stripe", "secrets": [{"key_id": "k", "env": "S"}],
         "ownership": {"subjects": subjects}}]}))
    r = _check_config(f"--config={cfg}", env={"S": "x"})
    assert r.returncode == 1, r
    for s in says:
        assert s in r.stderr, r.stderr
    assert 'profile "p"' in r.stderr, r.stderr


def test_check_config_accepts_subject_profiles(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(CONFIG))
    r = _check_config(f"--config={cfg}", env=ENV)
    assert r.returncode == 0, r.stderr


def test_concurrent_subject_lookups_each_get_their_own_owner(subject_db, pb, tmp_path):
    """One connection, many requests at once: lookups queue and go out in
    batches (UNION ALL of copies of the subject query), and each request
    still gets its own id's answer (threat row 27, for subjects)."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    metrics_port = servers.free_port()
    with servers.HookguardServer(subject_db, config=config, env=ENV,
                                 args=["--pool_size=1", "--worker_threads=8",
                                       f"--metrics_listen=127.0.0.1:{metrics_port}"]) as s:
        wait_serving(s.target)
        channel = grpc.insecure_channel(s.target)
        stub = pb.grpc.WebhookAuthServiceStub(channel)
        accounts = [("acct_1AliceAAAAAAAAAA", "1"), (BOB_ACCOUNT, "2"), ("acct_1Nobody", "")]
        futures = []
        for i in range(90):
            account, owner = accounts[i % 3]
            body = dumps(with_(STRIPE, "/account", account))
            request = pb.m.AuthorizeWebhookRequest(
                profile="stripe", request=pb.m.HttpRequest(body=body, headers=sign("stripe", body)))
            futures.append((owner, stub.AuthorizeWebhook.future(request, timeout=20)))
        for owner, future in futures:
            r = future.result()
            assert r.owner_id == owner, r.detail
            assert r.http_status == (200 if owner else 404), r.detail
        channel.close()
        # Every subject lookup went through the coalescer and its metrics.
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
        assert "hookguard_db_batch_size_sum 90" in metrics.splitlines(), metrics


def test_an_app_with_only_subject_profiles_starts_on_its_own_schema(tmp_path, pb):
    """No profile uses the VAPI call model and no ownership.call_query is set:
    the call model's lookups are off (never prepared), so a Stripe-only app
    whose database has none of the Django tables starts and answers;
    --check_config says so, and a call event is denied naming the lookup."""
    db = servers.sqlite_db(tmp_path / "stripe_only.db", FIXTURES / "subjects.sql")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"profiles": [
        {"name": "stripe", "preset": "stripe", "secrets": [{"key_id": "s", "env": "HG_STRIPE"}],
         "ownership": STRIPE_SUBJECTS}]}))
    r = _check_config(f"--config={config}", env=ENV)
    assert r.returncode == 0, r.stderr
    assert "call off (every profile authorizes by ownership.subjects" in r.stdout + r.stderr, r
    with servers.HookguardServer(db, config=config, env=ENV) as s:
        wait_serving(s.target)
        channel = grpc.insecure_channel(s.target)
        stub = pb.grpc.WebhookAuthServiceStub(channel)
        try:
            body = dumps(STRIPE)
            answer = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(
                profile="stripe", request=pb.m.HttpRequest(body=body, headers=sign("stripe", body))),
                timeout=10)
            assert (answer.decision, answer.owner_id, answer.resolved_subject) == (
                pb.m.DECISION_ALLOW, "1", "account"), answer
            body = dumps(with_(STRIPE, "/account", "acct_1Nobody"))
            answer = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(
                profile="stripe", request=pb.m.HttpRequest(body=body, headers=sign("stripe", body))),
                timeout=10)
            assert answer.reason == pb.m.DENY_REASON_SUBJECT_NOT_FOUND, answer
            answer = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(
                event=pb.m.CallEvent(type="status-update", call_id="call_alice_1")), timeout=10)
            assert (answer.decision, answer.reason) == (
                pb.m.DECISION_DENY, pb.m.DENY_REASON_CALL_NOT_FOUND), answer
            assert "call lookup is off" in answer.detail, answer
        finally:
            channel.close()
