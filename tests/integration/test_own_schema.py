"""The own-schema example of docs/ownership.md runs as written: its config
(the fenced block after `<!-- own-schema example -->`) sets only
`ownership.call_query`, over a database that has none of the Django tables.
The server starts, prepares only the call lookup, answers allow and deny from
the app's own tables, and denies an event that needs the (unset) phone number
lookup with a detail naming the missing query; `--check_config` says which
lookups are on."""
from __future__ import annotations

import json
import re
import subprocess
import time

import grpc
import pytest
import servers
from conftest import hmac_hex, wait_serving

DOC = servers.REPO / "docs" / "ownership.md"
MARKER = "<!-- own-schema example -->"
SECRET = "own-schema-test-secret"

# The tables the example's query reads, named as the example's comment says.
SCHEMA = """
CREATE TABLE agents (id INTEGER PRIMARY KEY, provider_agent_id TEXT UNIQUE NOT NULL,
                     org_id INTEGER);
CREATE TABLE lines (id INTEGER PRIMARY KEY, provider_line_id TEXT UNIQUE NOT NULL,
                    org_id INTEGER);
CREATE TABLE voice_calls (id INTEGER PRIMARY KEY, provider_id TEXT UNIQUE NOT NULL,
                          org_id INTEGER NOT NULL, agent_id INTEGER REFERENCES agents(id),
                          line_id INTEGER REFERENCES lines(id));
INSERT INTO agents VALUES (1, 'agent_ten', 10), (2, 'agent_twenty', 20);
INSERT INTO lines VALUES (1, 'line_ten', 10), (2, 'line_twenty', 20);
INSERT INTO voice_calls VALUES
  (1, 'vc_ten', 10, 1, 1),          -- all org 10's
  (2, 'vc_ten_web', 10, 1, NULL),   -- a web call: no line
  (3, 'vc_mixed', 10, 2, NULL),     -- org 10's call on org 20's agent
  (4, 'vc_line_mixed', 10, 1, 2);   -- org 10's call on org 20's line
"""


def example_config() -> dict:
    text = DOC.read_text()
    assert text.count(MARKER) == 1, f"{DOC} must hold the marker {MARKER} once"
    block = re.search(re.escape(MARKER) + r"\s*```json\n(.*?)\n```", text, re.S)
    assert block, f"no ```json block right after {MARKER} in {DOC}"
    return json.loads(block.group(1))


def _body(type_: str, call_id: str, assistant_id: str | None = None,
          phone_number_id: str | None = None) -> bytes:
    call = {"id": call_id, "assistantId": assistant_id, "phoneNumberId": phone_number_id}
    message = {"type": type_, "call": call}
    if phone_number_id:
        message["phoneNumber"] = {"id": phone_number_id}
    return json.dumps({"message": message}, separators=(",", ":")).encode()


def _signed(pb, body: bytes, secret: str = SECRET):
    """What a VAPI HMAC credential with its defaults sends (preset vapi-hmac)."""
    ts = str(int(time.time() * 1000))
    return pb.m.HttpRequest(body=body, headers={
        "x-signature": hmac_hex(secret, f"{ts}.".encode() + body), "x-timestamp": ts})


@pytest.fixture(scope="module", params=["sqlite3", "postgresql"])
def own_schema(request, tmp_path_factory):
    """(SOCI connection string, config file): the example's tables, on SQLite
    and on PostgreSQL, with none of the Django tables."""
    work = tmp_path_factory.mktemp("own-schema")
    cfg = work / "config.json"
    cfg.write_text(json.dumps(example_config()))
    if request.param == "sqlite3":
        import sqlite3

        db = servers.sqlite_db(work / "app.sqlite3")
        with sqlite3.connect(work / "app.sqlite3") as conn:
            conn.executescript(SCHEMA)
        yield db, cfg
        return
    with servers.PostgresServer() as pg:
        pg.psql(SCHEMA)
        yield pg.soci, cfg


def test_the_example_uses_only_the_call_query():
    ownership = example_config()["ownership"]
    assert set(ownership) == {"call_query"}
    assert ":call_id" in ownership["call_query"]
    assert "api_" not in ownership["call_query"]


def test_check_config_says_which_lookups_are_on(own_schema):
    _, cfg = own_schema
    binary = servers.build_dir() / "server" / "service" / "hookguard-server"
    r = subprocess.run([str(binary), "--check_config", f"--config={cfg}"], capture_output=True,
                       text=True, env={"VAPI_WEBHOOK_SECRET": SECRET}, timeout=30)
    assert r.returncode == 0, r.stderr
    assert ("ownership lookups: call on (ownership.call_query), phone_number off "
            "(ownership.phone_number_query is not set), assistant off "
            "(ownership.assistant_query is not set)") in r.stdout, r.stdout
    assert ("ownership.resolve: assistant-request by call, phone_number (phone_number is off, "
            "ownership.phone_number_query is not set: an event without a call row that reaches "
            "it is denied CALL_NOT_FOUND)") in r.stdout, r.stdout


CASES = [
    # (name, body, expected_owner_id, reason, http_status, owner_id)
    ("own call allowed", _body("status-update", "vc_ten", "agent_ten", "line_ten"), "",
     "", 200, "10"),
    ("web call without a line", _body("end-of-call-report", "vc_ten_web", "agent_ten"), "10",
     "", 200, "10"),
    ("call of another org's agent", _body("status-update", "vc_mixed", "agent_twenty"), "",
     "ASSISTANT_OWNER_MISMATCH", 403, ""),
    ("call on another org's line", _body("status-update", "vc_line_mixed", "agent_ten",
                                         "line_twenty"), "",
     "PHONE_NUMBER_OWNER_MISMATCH", 403, ""),
    ("another agent named than the call's", _body("status-update", "vc_ten", "agent_twenty"),
     "", "ASSISTANT_MISMATCH", 403, ""),
    ("expected owner is another org", _body("status-update", "vc_ten"), "20",
     "OWNER_MISMATCH", 403, ""),
    ("unknown call", _body("status-update", "vc_unknown", "agent_ten"), "",
     "CALL_NOT_FOUND", 404, ""),
    # The default chain resolves an inbound assistant-request by its number;
    # that lookup is off here, so the event is denied, saying why.
    ("assistant-request needs the phone number lookup",
     _body("assistant-request", "vc_inbound_new", None, "line_ten"), "",
     "CALL_NOT_FOUND", 404, ""),
]


def test_the_example_starts_and_decides_from_the_apps_own_tables(pb, own_schema):
    db, cfg = own_schema
    with servers.HookguardServer(db, config=cfg, env={"VAPI_WEBHOOK_SECRET": SECRET}) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            for name, body, expected, reason, status, owner in CASES:
                r = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(
                    request=_signed(pb, body), expected_owner_id=expected), timeout=5)
                want = pb.m.DENY_REASON_UNSPECIFIED if not reason else \
                    pb.m.DenyReason.Value(f"DENY_REASON_{reason}")
                assert r.signature == pb.m.SIGNATURE_RESULT_VALID, name
                assert (r.reason, r.http_status, r.owner_id) == (want, status, owner), \
                    (name, r.detail)
                assert r.decision == (pb.m.DECISION_ALLOW if not reason else pb.m.DECISION_DENY)
            r = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(request=_signed(
                pb, _body("assistant-request", "vc_inbound_new", None, "line_ten"))), timeout=5)
            assert r.detail == ("no call row; phone_number lookup is off: "
                                "ownership.phone_number_query is not set"), r.detail
            # A chat event (no call) under the default chain stays malformed.
            chat = json.dumps({"message": {"type": "chat.created",
                                           "chat": {"assistantId": "agent_ten"}}}).encode()
            r = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(request=_signed(pb, chat)),
                                      timeout=5)
            assert r.reason == pb.m.DENY_REASON_MALFORMED_EVENT, r.detail
            # Signed with another secret: refused before any lookup.
            r = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(
                request=_signed(pb, CASES[0][1], "wrong")), timeout=5)
            assert r.reason == pb.m.DENY_REASON_SIGNATURE_INVALID
        out = s.output()
    assert "ownership lookups: call on (ownership.call_query), phone_number off" in out
    assert "no such table" not in out
