"""`hookguard explain` of a profile that authorizes by subjects: the subjects
read from the body, each subject's lookup, the owner check, as steps, and the
answer a real server gives (SQLite with tests/fixtures/subjects.sql)."""
from __future__ import annotations

import json

import pytest
import servers
from conftest import SECRET, hmac_hex, run_cli

FIXTURES = servers.REPO / "tests" / "fixtures"
QUERY = ("SELECT CAST(user_id AS TEXT) FROM integrations_githubinstallation"
         " WHERE CAST(installation_id AS TEXT) = :id")


@pytest.fixture(scope="module")
def subject_setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("explain-subjects")
    db = servers.sqlite_db(d / "app.db", *servers.django_fixtures(inconsistent=False),
                           FIXTURES / "subjects.sql")
    config = d / "config.json"
    config.write_text(json.dumps({"profiles": [
        {"name": "github", "preset": "github", "secrets": [{"key_id": "g", "env": "HG_GH"}],
         "ownership": {"subjects": [{"name": "installation", "from": "/installation/id",
                                     "query": QUERY}]}}]}))
    with servers.HookguardServer(db, config=config, env={"HG_GH": SECRET}) as hg:
        servers.wait_serving(hg.target)
        yield db, config, hg


def github_body(installation_id) -> bytes:
    doc = json.loads((FIXTURES / "github" / "issues_opened.json").read_text())
    doc["installation"]["id"] = installation_id
    return json.dumps(doc).encode()


# (name, installation id, expected owner, reason, http, failing step)
CASES = [
    ("allow", 41000001, "", "DENY_REASON_UNSPECIFIED", 200, None),
    ("unknown installation", 999, "", "DENY_REASON_SUBJECT_NOT_FOUND", 404,
     "subject:installation"),
    ("another tenant's installation", 41000002, "1", "DENY_REASON_OWNER_MISMATCH", 403,
     "expected_owner"),
    ("wrong type", 1.5, "", "DENY_REASON_MALFORMED_EVENT", 400, "read_subjects"),
]


@pytest.mark.parametrize("name,installation,owner,reason,http,failing", CASES,
                         ids=[c[0] for c in CASES])
def test_explain_subjects_matches_the_server(subject_setup, tmp_path, name, installation, owner,
                                             reason, http, failing):
    db, config, hg = subject_setup
    body = github_body(installation)
    path = tmp_path / "body.json"
    path.write_bytes(body)
    args = [f"--body={path}", f"--header=X-Hub-Signature-256: sha256={hmac_hex(SECRET, body)}"]
    if owner:
        args.append(f"--expected_owner={owner}")
    explained = run_cli("explain", *args, f"--db={db}", f"--config={config}", "--format=json",
                        env={"HG_GH": SECRET})
    e = json.loads(explained.stdout)
    served = json.loads(run_cli("webhook", *args, f"--target={hg.target}",
                                "--format=json").stdout)
    assert (e["reason"], e["http_status"]) == (reason, http), e
    assert e["failed_step"] == failing, e
    steps = [s["step"] for s in e["steps"]]
    assert steps[:2] == ["signature", "read_subjects"], steps
    if failing != "read_subjects":
        assert steps[2:] == ["subject:installation", "owner_consistency", "expected_owner"]
        assert str(installation) in e["steps"][1]["detail"]
    if http == 200:
        assert (e["owner_id"], e["resolved_by"], e["resolved_subject"]) == (
            "1", "OWNER_SOURCE_SUBJECT", "installation")
    for key in ("decision", "reason", "http_status", "owner_id", "resolved_by"):
        assert served[key] == e[key], (key, served, e)
