"""`hookguard audit-db` on real PostgreSQL and SQLite: the exact findings of
tests/fixtures/inconsistent.sql, a clean database, a custom query from the
config, and errors (exit 2, password never printed)."""
from __future__ import annotations

import json

import servers
from conftest import run_cli

# Every row of tests/fixtures/inconsistent.sql, as the JSON output names it.
EXPECTED_FINDINGS = [
    {"kind": "assistant_owner_mismatch", "deny_reason": "DENY_REASON_ASSISTANT_OWNER_MISMATCH",
     "call_id": "call_alice_bobs_assistant", "call_owner_id": "1",
     "assistant_id": "asst_bob", "assistant_owner_id": "2"},
    {"kind": "assistant_missing", "deny_reason": "DENY_REASON_ASSISTANT_OWNER_MISMATCH",
     "call_id": "call_alice_missing_assistant", "call_owner_id": "1",
     "assistant_id": None, "assistant_owner_id": None},
    {"kind": "phone_number_owner_mismatch", "deny_reason": "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH",
     "call_id": "call_alice_bobs_phone", "call_owner_id": "1",
     "phone_number_id": "phone_bob", "phone_number_owner_id": "2"},
    {"kind": "phone_number_missing", "deny_reason": "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH",
     "call_id": "call_alice_missing_phone", "call_owner_id": "1",
     "phone_number_id": None, "phone_number_owner_id": None},
]
ZERO_COUNTS = {"assistant_owner_mismatch": 0, "assistant_missing": 0,
               "phone_number_owner_mismatch": 0, "phone_number_missing": 0}


def test_json_reports_every_inconsistent_row(inconsistent_db):
    r = run_cli("audit-db", f"--db={inconsistent_db}", "--format=json")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert report == {"clean": False, "findings": EXPECTED_FINDINGS,
                      "counts": {k: 1 for k in ZERO_COUNTS}}


def test_table_reports_every_inconsistent_row(inconsistent_db):
    r = run_cli("audit-db", f"--db={inconsistent_db}")  # table is the default
    assert r.returncode == 1, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["KIND", "CALL_ID", "CALL_OWNER", "ASSISTANT/PHONE_NUMBER",
                                "ITS_OWNER", "SERVICE_ANSWERS"]
    rows = [line.split() for line in lines[1:5]]
    assert rows == [
        ["assistant_owner_mismatch", "call_alice_bobs_assistant", "1", "asst_bob", "2",
         "DENY_REASON_ASSISTANT_OWNER_MISMATCH"],
        ["assistant_missing", "call_alice_missing_assistant", "1", "NULL", "NULL",
         "DENY_REASON_ASSISTANT_OWNER_MISMATCH"],
        ["phone_number_owner_mismatch", "call_alice_bobs_phone", "1", "phone_bob", "2",
         "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH"],
        ["phone_number_missing", "call_alice_missing_phone", "1", "NULL", "NULL",
         "DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH"],
    ]
    assert lines[-1] == ("4 finding(s): assistant_owner_mismatch 1, assistant_missing 1, "
                         "phone_number_owner_mismatch 1, phone_number_missing 1")


def test_clean_database_exits_0(clean_db):
    r = run_cli("audit-db", f"--db={clean_db}", "--format=json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"clean": True, "findings": [], "counts": ZERO_COUNTS}
    r = run_cli("audit-db", f"--db={clean_db}", "--format=table")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("clean:")


def test_db_defaults_to_the_environment_like_the_server(clean_db):
    r = run_cli("audit-db", env={"HOOKGUARD_DB": clean_db})
    assert r.returncode == 0, r.stderr


def test_custom_queries_from_the_config(inconsistent_db, tmp_path):
    # Only two calls are looked at; the consistent one is returned too and
    # must not be reported. The phone number query returns nothing.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"ownership": {
        "audit_assistant_query":
            "SELECT c.vapi_call_id, CAST(c.user_id AS TEXT), a.vapi_assistant_id, "
            "CAST(a.user_id AS TEXT) FROM api_interviewcall c "
            "JOIN api_assistant a ON a.id = c.assistant_id "
            "WHERE c.vapi_call_id IN ('call_alice_1', 'call_alice_bobs_assistant') "
            "ORDER BY c.vapi_call_id",
        "audit_phone_number_query":
            "SELECT vapi_call_id, 'x', 'y', 'z' FROM api_interviewcall WHERE 1 = 0",
    }}))
    r = run_cli("audit-db", f"--db={inconsistent_db}", f"--config={config}", "--format=json")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert report["findings"] == [EXPECTED_FINDINGS[0]]
    assert report["counts"] == {**ZERO_COUNTS, "assistant_owner_mismatch": 1}


def test_a_custom_query_that_fails_is_an_error_naming_the_key(clean_db, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"ownership": {
        "audit_phone_number_query": "SELECT a, b, c, d FROM no_such_table"}}))
    r = run_cli("audit-db", f"--db={clean_db}", f"--config={config}")
    assert r.returncode == 2
    assert b"ownership.audit_phone_number_query" in r.stderr
    assert r.stdout == b""


def test_unreachable_postgresql_is_exit_2_without_the_password():
    port = servers.free_port()  # nothing listens there
    r = run_cli("audit-db", f"--db=postgresql://host=127.0.0.1 port={port} dbname=app "
                            "user=audit password=Sup3r-s3cret-pw", "--format=json")
    assert r.returncode == 2
    assert b"cannot connect to PostgreSQL" in r.stderr
    assert b"Sup3r-s3cret-pw" not in r.stderr + r.stdout
    assert r.stdout == b""


def test_missing_sqlite_file_names_the_path(tmp_path):
    r = run_cli("audit-db", f"--db=sqlite3://db={tmp_path}/nope.db")
    assert r.returncode == 2
    assert f"{tmp_path}/nope.db".encode() in r.stderr


def test_usage_errors_are_exit_2(clean_db, tmp_path):
    assert run_cli("audit-db", f"--db={clean_db}", "--frmat=json").returncode == 2  # typo
    assert run_cli("audit-db", f"--db={clean_db}", "--format=yaml").returncode == 2
    assert run_cli("audit-db").returncode == 2  # no --db, no HOOKGUARD_DB
    assert run_cli("audit-db", "--db=mysql://db=x").returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"ownership": {"audit_query_typo": "SELECT 1"}}')
    r = run_cli("audit-db", f"--db={clean_db}", f"--config={bad}")
    assert r.returncode == 2
    assert b"audit_query_typo" in r.stderr


def test_sqlite_is_opened_read_only(sqlite_inconsistent, tmp_path):
    # A custom query cannot change the application's database.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"ownership": {
        "audit_assistant_query": "DELETE FROM api_interviewcall"}}))
    r = run_cli("audit-db", f"--db={sqlite_inconsistent}", f"--config={config}")
    assert r.returncode == 2
    r = run_cli("audit-db", f"--db={sqlite_inconsistent}", "--format=json")
    assert len(json.loads(r.stdout)["findings"]) == 4


def test_postgresql_session_is_read_only(postgres_inconsistent, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"ownership": {
        "audit_assistant_query": "DELETE FROM api_interviewcall RETURNING vapi_call_id, "
                                 "'1', 'a', '2'"}}))
    r = run_cli("audit-db", f"--db={postgres_inconsistent.soci}", f"--config={config}")
    assert r.returncode == 2
    assert b"read-only" in r.stderr
    count = postgres_inconsistent.psql("SELECT count(*) FROM api_interviewcall")
    assert "7" in count
