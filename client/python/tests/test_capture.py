"""hookguard_client.capture: the capture file format (hookguard-capture/v1)
and how it is written: exact keys, exact bytes, mode 0600, atomic."""
from __future__ import annotations

import base64
import json
import os
import re
import stat

import pytest

from hookguard_client.capture import (CAPTURE_FORMAT, capture_record, make_capture,
                                      should_capture, write_capture)
from hookguard_client.testing import allow, deny, shadow_deny, unavailable

KEYS = ["format", "captured_at", "profile", "method", "url", "headers", "body_base64",
        "expected_owner_id", "decision", "shadow_decision", "reason", "http_status",
        "decision_id"]
BODY = bytes(range(256)) + b'{"message":{}}'


def test_file_has_exactly_the_format_keys_and_the_raw_bytes(tmp_path):
    c = make_capture(BODY, [("X-Signature", "s1"), ("X-Timestamp", "1"), ("x-signature", "s2")],
                     deny("DENY_REASON_CALL_NOT_FOUND", decision_id="0123abcd"), profile="vapi",
                     method="POST", url="https://app.example/webhooks/vapi",
                     expected_owner_id="42")
    path = write_capture(str(tmp_path / "captures"), c)
    assert re.fullmatch(r"\d{8}T\d{6}Z-0123abcd\.json", os.path.basename(path))
    rec = json.load(open(path))
    assert list(rec) == KEYS
    assert rec["format"] == CAPTURE_FORMAT == "hookguard-capture/v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["captured_at"])
    assert base64.b64decode(rec["body_base64"], validate=True) == BODY
    assert rec["headers"] == {"x-signature": "s1, s2", "x-timestamp": "1"}
    assert {k: rec[k] for k in KEYS[8:]} == {
        "decision": "DECISION_DENY", "shadow_decision": "DECISION_UNSPECIFIED",
        "reason": "DENY_REASON_CALL_NOT_FOUND", "http_status": 404, "decision_id": "0123abcd"}
    assert (rec["profile"], rec["method"], rec["url"], rec["expected_owner_id"]) == (
        "vapi", "POST", "https://app.example/webhooks/vapi", "42")


def test_file_is_0600_and_no_temporary_file_is_left(tmp_path):
    os.umask(0o022)
    path = write_capture(str(tmp_path), make_capture(b"{}", {}, deny(decision_id="d")))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == [os.path.basename(path)]


def test_unsafe_or_missing_decision_id_gets_a_random_name(tmp_path):
    for ident in ("", "../../etc/passwd", "a/b"):
        path = write_capture(str(tmp_path), make_capture(b"{}", {}, deny(decision_id=ident)))
        assert os.path.dirname(path) == str(tmp_path)
        assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{16}\.json", os.path.basename(path))


def test_same_decision_twice_keeps_both(tmp_path):
    c = make_capture(b"{}", {}, deny(decision_id="same"))
    assert write_capture(str(tmp_path), c) != write_capture(str(tmp_path), c)
    assert len(os.listdir(tmp_path)) == 2


def test_shadow_record_names_the_shadow_reason():
    rec = capture_record(make_capture(b"", {}, shadow_deny("DENY_REASON_OWNER_MISMATCH")))
    assert (rec["decision"], rec["shadow_decision"], rec["reason"], rec["http_status"]) == (
        "DECISION_ALLOW", "DECISION_DENY", "DENY_REASON_OWNER_MISMATCH", 200)


@pytest.mark.parametrize("verdict,expected", [
    (deny(), True), (shadow_deny(), True), (allow(), False), (unavailable(), False)],
    ids=["deny", "shadow_deny", "allow", "no_decision"])
def test_should_capture_denies_and_would_be_denies_only(verdict, expected):
    assert should_capture(verdict) is expected
