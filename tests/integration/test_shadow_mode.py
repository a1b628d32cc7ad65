"""Shadow mode over the threat table: every attack is answered ALLOW / 200
with the decision enforcement would have given beside it, the audit lines
and counters read exactly as in enforce mode, and switching the file to
enforce (hot reload, no restart) turns the same requests into the denies."""
from __future__ import annotations

import json
import time
import urllib.request

import grpc
import pytest
import servers
from conftest import SECRET_NEW, hmac_hex, vapi_body, wait_serving
from conftest import start_fails
from test_threats import OWNERSHIP_CASES

ALLOW, DENY = 1, 2

# The attacks beyond ownership: (name, body, secret, reason enum name, http).
SIGNATURE_AND_PAYLOAD_CASES = [
    ("row 5 forged body (signed with another secret)",
     vapi_body({"id": "call_alice_1"}), "attacker-secret", "DENY_REASON_SIGNATURE_INVALID", 401),
    ("row 4 not JSON", b"this is not json", SECRET_NEW, "DENY_REASON_MALFORMED_EVENT", 400),
    ("row 4 call of the wrong type", b'{"message": {"call": 5}}', SECRET_NEW,
     "DENY_REASON_MALFORMED_EVENT", 400),
    ("row 17 keys that differ only in case",
     b'{"message":{"call":{"id":"call_alice_1"},"Call":{"id":"call_bob_1"}}}', SECRET_NEW,
     "DENY_REASON_MALFORMED_EVENT", 400),
    ("row 23 owner conflict without a call row",
     json.dumps({"message": {"type": "assistant-request",
                             "call": {"id": "call_inbound_new", "assistantId": "asst_alice",
                                      "phoneNumberId": "phone_bob"}}}).encode(), SECRET_NEW,
     "DENY_REASON_OWNER_CONFLICT", 403),
]


def _cases():
    """(name, body, secret, expected owner, reason name, http, owner id)."""
    rows = [(name, vapi_body(call), SECRET_NEW, owner, reason, http, owner_id)
            for name, call, owner, http, reason, owner_id in OWNERSHIP_CASES]
    rows += [(name, body, secret, "", reason, http, "")
             for name, body, secret, reason, http in SIGNATURE_AND_PAYLOAD_CASES]
    return rows


def _config(path, secret_file, mode):
    path.write_text(json.dumps({"profiles": [{
        "name": "vapi", "kind": "hmac", "mode": mode,
        "secrets": [{"key_id": "2026-11", "file": str(secret_file)}]}]}))


def _request(pb, body, secret, owner):
    return pb.m.AuthorizeWebhookRequest(expected_owner_id=owner, request=pb.m.HttpRequest(
        body=body, headers={"X-Vapi-Signature": hmac_hex(secret, body)}))


def _scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def _counters(text, name):
    """{label text: value} of one metric family."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line.rsplit(" ", 1)
            out[labels] = float(value)
    return out


def _delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def _audit(server, decision_ids):
    """The audit lines of these decisions, keyed by decision id."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(l) for l in server.output().splitlines() if l.startswith("{")]
        found = {l["decision_id"]: l for l in lines
                 if l.get("kind") in ("decision", "security_event") and "decision_id" in l}
        if all(d in found for d in decision_ids) or time.monotonic() > deadline:
            return {d: found.get(d) for d in decision_ids}
        time.sleep(0.1)


def _comparable(line):
    """What must be equal between the shadow and the enforced run's lines."""
    keep = ("rpc", "profile", "key_id", "signature", "decision", "reason", "call_id", "owner_id",
            "resolved_by", "grpc_code", "detail", "kind", "level")
    return {k: line.get(k) for k in keep}


def _run(stub, pb, cases):
    return [stub.AuthorizeWebhook(_request(pb, body, secret, owner), timeout=5)
            for _, body, secret, owner, *_ in cases]


def test_shadow_then_enforce_over_the_threat_table(pb, db, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET_NEW)
    cfg = tmp_path / "config.json"
    _config(cfg, secret_file, "shadow")
    port = servers.free_port()
    cases = _cases()
    with servers.HookguardServer(db, config=cfg, args=[
            "--reload_interval_seconds=1", f"--metrics_listen=127.0.0.1:{port}"]) as s:
        wait_serving(s.target)
        # Loud: a start warning naming the profile, and the gauge.
        assert 'profile \\"vapi\\" is in shadow mode' in s.output()
        assert 'hookguard_shadow_profiles 1' in _scrape(port)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)

            before = _scrape(port)
            shadow = _run(stub, pb, cases)
            shadow_metrics = _scrape(port)
            for (name, _, _, _, reason, http, owner_id), r in zip(cases, shadow):
                assert r.decision == ALLOW and r.http_status == 200, name
                assert r.reason == pb.m.DENY_REASON_UNSPECIFIED, name
                assert pb.m.DenyReason.Name(r.shadow_reason) == reason, name
                assert r.shadow_decision == (ALLOW if http == 200 else DENY), name
                # Never a wrong owner: only what the checks really found.
                assert r.owner_id == owner_id, name
            shadow_denies = _delta(_counters(shadow_metrics, "hookguard_shadow_denies_total"),
                                   _counters(before, "hookguard_shadow_denies_total"))
            expected_denies = {}
            for _, _, _, _, reason, http, _ in cases:
                if http != 200:
                    key = ('hookguard_shadow_denies_total{rpc="AuthorizeWebhook",profile="",'
                           f'reason="{reason}"}}')
                    expected_denies[key] = expected_denies.get(key, 0) + 1
            assert shadow_denies == expected_denies
            shadow_requests = _delta(_counters(shadow_metrics, "hookguard_requests_total"),
                                     _counters(before, "hookguard_requests_total"))

            # Switch the file to enforce: picked up without a restart.
            _config(cfg, secret_file, "enforce")
            probe = _request(pb, vapi_body({"id": "call_bob_1", "assistantId": "asst_alice"}),
                             SECRET_NEW, "")
            deadline = time.monotonic() + 15
            while stub.AuthorizeWebhook(probe, timeout=5).decision != DENY:
                assert time.monotonic() < deadline, "enforce mode not picked up"
                time.sleep(0.2)
            assert 'hookguard_shadow_profiles 0' in _scrape(port)

            before = _scrape(port)
            enforced = _run(stub, pb, cases)
            enforced_metrics = _scrape(port)
        for (name, _, _, _, reason, http, owner_id), r in zip(cases, enforced):
            assert pb.m.DenyReason.Name(r.reason) == reason, name
            assert r.http_status == http, name
            assert r.owner_id == owner_id, name
            assert r.shadow_decision == pb.m.DECISION_UNSPECIFIED, name
            assert r.shadow_reason == pb.m.DENY_REASON_UNSPECIFIED, name
        # The counters moved exactly as in shadow mode, request for request.
        assert _delta(_counters(enforced_metrics, "hookguard_requests_total"),
                      _counters(before, "hookguard_requests_total")) == shadow_requests
        assert _delta(_counters(enforced_metrics, "hookguard_shadow_denies_total"),
                      _counters(before, "hookguard_shadow_denies_total")) == {}

        # The audit lines too, but for the mode marker.
        shadow_lines = _audit(s, [r.decision_id for r in shadow])
        enforced_lines = _audit(s, [r.decision_id for r in enforced])
    for (name, *_), a, b in zip(cases, shadow, enforced):
        line_a, line_b = shadow_lines[a.decision_id], enforced_lines[b.decision_id]
        assert line_a is not None and line_b is not None, name
        assert line_a.get("mode") == "shadow" and "mode" not in line_b, name
        assert _comparable(line_a) == _comparable(line_b), name


def test_shadow_call_event_follows_the_default_profile(pb, db, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET_NEW)
    cfg = tmp_path / "config.json"
    _config(cfg, secret_file, "shadow")
    with servers.HookguardServer(db, config=cfg) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            r = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(event=pb.m.CallEvent(
                call_id="call_bob_1", assistant_id="asst_alice")), timeout=5)
            assert (r.decision, r.http_status, r.owner_id) == (ALLOW, 200, "")
            assert r.shadow_reason == pb.m.DENY_REASON_ASSISTANT_MISMATCH
            ok = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(event=pb.m.CallEvent(
                call_id="call_bob_1")), timeout=5)
            assert (ok.decision, ok.owner_id, ok.shadow_decision) == (ALLOW, "2", ALLOW)
            assert ok.resolved_by == pb.m.OWNER_SOURCE_CALL


@pytest.mark.parametrize("mode", ["Shadow", "dry-run", "audit"])
def test_unknown_mode_refuses_to_start(db, tmp_path, mode):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET_NEW)
    cfg = tmp_path / "config.json"
    _config(cfg, secret_file, mode)
    stderr = start_fails([f"--db={db}", f"--config={cfg}"])
    assert f'mode: \\"{mode}\\" is neither' in stderr or f'mode: "{mode}" is neither' in stderr
    assert str(cfg) in stderr and '"vapi"' in stderr
