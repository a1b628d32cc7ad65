"""Every VAPI server message type, in the shapes VAPI sends them
(tests/fixtures/vapi/), signed and sent through AuthorizeWebhook, and through
AuthorizeCallEvent with the ids a web tier would extract, under the default
resolution chain and under an "early events" chain, on PostgreSQL and SQLite.

One table row per (message, config, variant): the expected reason, HTTP
status, owner and resolved_by. A variant edits ids of the fixture (a call the
app has no row for yet, another tenant's phone number, ...)."""
from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import servers
from conftest import hmac_hex, wait_serving

FIXTURES = servers.FIXTURES / "vapi"
SECRET = "vapi-messages-test-secret"
TWILIO_TOKEN = "fixture-twilio-auth-token-not-real"  # in every fixture's phoneNumber object
DEFAULT, EARLY = "default", "early"
RESOLVE = {
    DEFAULT: None,  # no ownership.resolve: the server's default chain
    EARLY: [{"types": ["assistant-request"], "by": ["call", "phone_number"]},
            {"types": ["status-update"], "by": ["call", "assistant"]},
            {"types": ["chat.*", "session.*"], "by": ["assistant"]},
            {"types": ["*"], "by": ["call"]}],
}
NEW_CALL = "call_not_in_the_db_yet"  # a call VAPI knows and the app has no row for (yet)
BOB_PHONE = {"call.phoneNumberId": "phone_bob", "phoneNumber.id": "phone_bob"}


@dataclass(frozen=True)
class Expect:
    reason: str = ""  # DenyReason without DENY_REASON_, "" for ALLOW
    http: int = 200
    owner: str = ""
    by: str = ""  # OwnerSource without OWNER_SOURCE_, "" when no owner


def allow(owner: str, by: str) -> Expect:
    return Expect(owner=owner, by=by)


NOT_FOUND = Expect("CALL_NOT_FOUND", 404)
MALFORMED = Expect("MALFORMED_EVENT", 400)
CONFLICT = Expect("OWNER_CONFLICT", 403)
OWNER_MISMATCH = Expect("OWNER_MISMATCH", 403)


@dataclass(frozen=True)
class Row:
    fixture: str  # file stem in tests/fixtures/vapi
    config: str  # DEFAULT or EARLY
    variant: str  # names the edits in the test id
    expect: Expect
    edits: dict = field(default_factory=dict)  # "call.id" -> value (None: JSON null)
    expected_owner: str = ""
    # The parser decides (ids that contradict each other): AuthorizeCallEvent
    # gets ids already picked by the caller, so it has no equivalent row.
    body_only: bool = False

    @property
    def id(self) -> str:
        return f"{self.fixture}-{self.config}-{self.variant}"


# Call events: (fixture, owner of its call, with a new call id under DEFAULT,
# with a new call id under EARLY). As sent, each is decided by its call row
# under both configs (resolved_by CALL).
CALL_EVENTS = [
    ("status-update", "2", NOT_FOUND, allow("2", "ASSISTANT")),  # bob's outbound call
    ("end-of-call-report", "1", NOT_FOUND, NOT_FOUND),  # ~70 KB artifact
    ("conversation-update", "1", NOT_FOUND, NOT_FOUND),  # web call: phoneNumberId null
    ("handoff-destination-request", "2", NOT_FOUND, NOT_FOUND),
    ("hang", "1", NOT_FOUND, NOT_FOUND),
    ("knowledge-base-request", "1", NOT_FOUND, NOT_FOUND),
    ("model-output", "1", NOT_FOUND, NOT_FOUND),
    ("phone-call-control", "1", NOT_FOUND, NOT_FOUND),
    ("speech-update", "2", NOT_FOUND, NOT_FOUND),
    ("tool-calls", "1", NOT_FOUND, NOT_FOUND),
    ("transfer-destination-request", "2", NOT_FOUND, NOT_FOUND),  # transient assistant
    ("transfer-update", "1", NOT_FOUND, NOT_FOUND),
    ("transcript", "1", NOT_FOUND, NOT_FOUND),
    ("transcript-final", "1", NOT_FOUND, NOT_FOUND),  # type transcript[transcriptType="final"]
    ("user-interrupted", "2", NOT_FOUND, NOT_FOUND),
    ("language-change-detected", "1", NOT_FOUND, NOT_FOUND),
    ("voice-input", "1", NOT_FOUND, NOT_FOUND),
    ("voice-request", "1", NOT_FOUND, NOT_FOUND),
    ("call.endpointing.request", "2", NOT_FOUND, NOT_FOUND),
    ("call.deleted", "2", NOT_FOUND, NOT_FOUND),
    ("call.delete.failed", "1", NOT_FOUND, NOT_FOUND),
    ("call.artifact.upload", "1", NOT_FOUND, NOT_FOUND),
    ("assistant.speechStarted", "1", NOT_FOUND, NOT_FOUND),
]

# Events without a call: (fixture, owner of the assistant of its chat or session).
CHAT_AND_SESSION_EVENTS = [
    ("chat.created", "1"), ("chat.deleted", "2"),
    ("session.created", "1"), ("session.updated", "2"), ("session.deleted", "1"),
]


def table() -> list[Row]:
    rows = []
    for fixture, owner, new_default, new_early in CALL_EVENTS:
        rows += [Row(fixture, DEFAULT, "as-sent", allow(owner, "CALL")),
                 Row(fixture, EARLY, "as-sent", allow(owner, "CALL")),
                 Row(fixture, DEFAULT, "new-call", new_default, {"call.id": NEW_CALL}),
                 Row(fixture, EARLY, "new-call", new_early, {"call.id": NEW_CALL})]
    for fixture, owner in CHAT_AND_SESSION_EVENTS:
        rows += [Row(fixture, DEFAULT, "as-sent", MALFORMED),  # the default has no rule for them
                 Row(fixture, EARLY, "as-sent", allow(owner, "ASSISTANT"))]
    rows += [
        Row("chat.created", EARLY, "other-tenant-expected", OWNER_MISMATCH, expected_owner="2"),
        Row("chat.created", EARLY, "unknown-assistant", NOT_FOUND, {"chat.assistantId": "asst_x"}),
        Row("chat.created", EARLY, "transient-assistant", MALFORMED, {"chat.assistantId": None}),
        Row("session.updated", EARLY, "unknown-assistant", NOT_FOUND,
            {"session.assistantId": "asst_x"}),
    ]
    for config in (DEFAULT, EARLY):
        rows += [
            # Inbound call to alice's number, no row yet: the number names the tenant.
            Row("assistant-request", config, "as-sent", allow("1", "PHONE_NUMBER")),
            Row("assistant-request", config, "bobs-number", allow("2", "PHONE_NUMBER"), BOB_PHONE),
            Row("assistant-request", config, "row-exists", allow("1", "CALL"),
                {"call.id": "call_alice_1"}),
            Row("assistant-request", config, "bobs-number-alices-assistant", CONFLICT,
                {**BOB_PHONE, "call.assistantId": "asst_alice"}),
            Row("assistant-request", config, "unknown-assistant",
                Expect("ASSISTANT_MISMATCH", 403), {"call.assistantId": "asst_x"}),
            Row("assistant-request", config, "unknown-number", NOT_FOUND,
                {"call.phoneNumberId": "phone_x", "phoneNumber.id": "phone_x"}),
            Row("assistant-request", config, "number-ids-disagree", MALFORMED,
                {"call.phoneNumberId": "phone_bob"}, body_only=True),
            Row("assistant-request", config, "other-tenant-expected", OWNER_MISMATCH,
                expected_owner="2"),
            # A known call keeps every check of its row, whatever the chain.
            Row("hang", config, "bobs-number", Expect("PHONE_NUMBER_MISMATCH", 403), BOB_PHONE),
            Row("hang", config, "bobs-assistant", Expect("ASSISTANT_MISMATCH", 403),
                {"call.assistantId": "asst_bob"}),
            Row("hang", config, "other-tenant-expected", OWNER_MISMATCH, expected_owner="2"),
            Row("status-update", config, "other-tenant-expected", OWNER_MISMATCH,
                expected_owner="1"),
            Row("campaign.predial", config, "as-sent", MALFORMED),  # no call, chat or session
        ]
    rows += [
        # Outbound calls the app just created, before its row is committed.
        Row("status-update", EARLY, "new-call-alices-assistant", CONFLICT,
            {"call.id": NEW_CALL, "call.assistantId": "asst_alice"}),
        Row("status-update", EARLY, "new-call-unknown-number", Expect("PHONE_NUMBER_MISMATCH", 403),
            {"call.id": NEW_CALL, "call.phoneNumberId": "phone_x", "phoneNumber.id": "phone_x"}),
        Row("status-update", EARLY, "new-call-transient-assistant", NOT_FOUND,
            {"call.id": NEW_CALL, "call.assistantId": None}),
        Row("status-update", EARLY, "new-web-call", allow("2", "ASSISTANT"),
            {"call.id": NEW_CALL, "call.type": "webCall", "call.phoneNumberId": None,
             "phoneNumber": None}),
        Row("status-update", EARLY, "new-call-other-tenant-expected", OWNER_MISMATCH,
            {"call.id": NEW_CALL}, expected_owner="1"),
        Row("status-update", EARLY, "new-call-number-ids-disagree", MALFORMED,
            {"call.id": NEW_CALL, "phoneNumber.id": "phone_alice"}, body_only=True),
    ]
    return rows


ROWS = table()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def body_of(row: Row) -> bytes:
    """The fixture's raw bytes, or, with edits, the edited message serialised
    as VAPI does (compact JSON)."""
    raw = fixture_bytes(row.fixture)
    if not row.edits:
        return raw
    doc = json.loads(raw)
    for path, value in row.edits.items():
        *parents, key = path.split(".")
        target = doc["message"]
        for p in parents:
            target = target[p]
        assert key in target, f"{row.fixture} has no {path}"
        target[key] = value
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def extract(pb, body: bytes):
    """The CallEvent a web tier builds from the body it parsed itself."""
    m = json.loads(body)["message"]
    call = m.get("call") or {}
    holder = call or m.get("chat") or m.get("session") or {}
    phone = (call.get("phoneNumberId") or (m.get("phoneNumber") or {}).get("id")
             or holder.get("phoneNumberId"))
    return pb.m.CallEvent(type=m["type"], call_id=call.get("id") or "",
                          assistant_id=holder.get("assistantId") or "",
                          phone_number_id=phone or "", org_id=holder.get("orgId") or "")


@pytest.fixture(scope="module")
def stubs(db, pb, tmp_path_factory):
    """config name -> (stub, server): one server per config, on `db`."""
    work = tmp_path_factory.mktemp("vapi-messages")
    with contextlib.ExitStack() as stack:
        result = {}
        for name in RESOLVE:
            server = stack.enter_context(servers.HookguardServer(
                db, config=_config(work, name), env={"HG_VAPI_SECRET": SECRET}))
            wait_serving(server.target)
            channel = stack.enter_context(grpc.insecure_channel(server.target))
            result[name] = (pb.grpc.WebhookAuthServiceStub(channel), server)
        yield result


def _config(work: Path, name: str) -> Path:
    config = {"profiles": [{"name": "vapi", "preset": "vapi",
                            "secrets": [{"key_id": "vapi-1", "env": "HG_VAPI_SECRET"}]}]}
    if RESOLVE[name]:
        config["ownership"] = {"resolve": RESOLVE[name]}
    path = work / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


def webhook(pb, body: bytes, expected_owner: str = ""):
    return pb.m.AuthorizeWebhookRequest(
        expected_owner_id=expected_owner,
        request=pb.m.HttpRequest(body=body, headers={"x-vapi-signature": hmac_hex(SECRET, body)}))


def check(pb, r, want: Expect):
    got = Expect(pb.m.DenyReason.Name(r.reason).removeprefix("DENY_REASON_")
                 .replace("UNSPECIFIED", ""), r.http_status, r.owner_id,
                 pb.m.OwnerSource.Name(r.resolved_by).removeprefix("OWNER_SOURCE_")
                 .replace("UNSPECIFIED", ""))
    assert got == want, r.detail
    assert r.decision == (pb.m.DECISION_ALLOW if want.http == 200 else pb.m.DECISION_DENY)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_authorize_webhook(stubs, pb, row):
    stub, _ = stubs[row.config]
    body = body_of(row)
    r = stub.AuthorizeWebhook(webhook(pb, body, row.expected_owner), timeout=5)
    assert r.signature == pb.m.SIGNATURE_RESULT_VALID
    check(pb, r, row.expect)
    assert r.delivery_key == hashlib.sha256(body).hexdigest()
    if row.expect.reason != "MALFORMED_EVENT":
        # hookguard read exactly the ids the web tier reads.
        assert r.event == extract(pb, body)


CALL_EVENT_ROWS = [r for r in ROWS if not r.body_only]


@pytest.mark.parametrize("row", CALL_EVENT_ROWS, ids=[r.id for r in CALL_EVENT_ROWS])
def test_authorize_call_event(stubs, pb, row):
    stub, _ = stubs[row.config]
    r = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(
        event=extract(pb, body_of(row)), expected_owner_id=row.expected_owner), timeout=5)
    check(pb, r, row.expect)


def test_every_fixture_is_in_the_table():
    files = {p.stem for p in FIXTURES.glob("*.json")}
    assert files == {r.fixture for r in ROWS}
    types = {json.loads(fixture_bytes(f))["message"]["type"] for f in files}
    assert len(types) == len(files) == 30, "one fixture per VAPI server message type"


def test_duplicate_deliveries_share_the_delivery_key(stubs, pb):
    stub, _ = stubs[DEFAULT]
    body = fixture_bytes("end-of-call-report")
    assert 60_000 < len(body) < 80_000
    first, again = (stub.AuthorizeWebhook(webhook(pb, body), timeout=5) for _ in range(2))
    verify = stub.VerifySignature(pb.m.VerifySignatureRequest(
        request=webhook(pb, body).request), timeout=5)
    assert first.decision == again.decision == pb.m.DECISION_ALLOW
    assert first.delivery_key == again.delivery_key == verify.delivery_key \
        == hashlib.sha256(body).hexdigest()
    assert first.decision_id != again.decision_id
    other = stub.AuthorizeWebhook(webhook(pb, fixture_bytes("hang")), timeout=5)
    assert other.delivery_key != first.delivery_key


def test_logs_hold_no_secret_nor_provider_credential(stubs, pb):
    for config, (stub, server) in stubs.items():
        for name in ("assistant-request", "end-of-call-report"):
            body = fixture_bytes(name)
            assert TWILIO_TOKEN.encode() in body
            assert stub.AuthorizeWebhook(webhook(pb, body), timeout=5).decision == \
                pb.m.DECISION_ALLOW
        log = server.output()
        assert '"kind":"decision"' in log
        for secret in (SECRET, TWILIO_TOKEN, hmac_hex(SECRET, body)):
            assert secret not in log, f"{config}: a secret reached the log"
