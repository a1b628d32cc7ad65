"""Parser differential: hookguard must not allow a body that a web tier's JSON
reader reads as another call, assistant or phone number than hookguard did.

Each body of bodies.py is signed and sent through AuthorizeWebhook to the real
hookguard-server on a SQLite copy of tests/fixtures (alice and bob); the same
bytes are read by Python's json, Go's encoding/json, Node's JSON.parse and
Jackson (POJO and tree) the way a web tier reads a VAPI event (readers/).
For every body hookguard allows, each reader must read the ids of hookguard's
`event`; the cases with an exact expectation (bodies.py) must get it.

Run alone: .venv/bin/python -m pytest -q -s tests/differential
(HOOKGUARD_BUILD_DIR selects the build; default build/).
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

import bodies
from integration.conftest import SECRET_NEW, SERVER_ENV, hmac_hex, servers, write_config

READERS = Path(__file__).resolve().parent / "readers"

# Chat and session events have no call: they are resolved by their assistant.
# Every other rule is the server's default.
RESOLVE = [{"types": ["chat.*", "session.*"], "by": ["assistant"]},
           {"types": ["assistant-request"], "by": ["call", "phone_number"]},
           {"types": ["*"], "by": ["call"]}]


def jackson_classpath(tmp: Path) -> str:
    """Jackson's jars, as scripts/setup.sh resolved them (offline)."""
    out = tmp / "classpath.txt"
    run = subprocess.run(["mvn", "-o", "-q", "-B", "-f", str(READERS / "java" / "pom.xml"),
                          "dependency:build-classpath", f"-Dmdep.outputFile={out}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"Jackson is not resolved (run scripts/setup.sh):\n{run.stdout}"
    return out.read_text().strip()


def start_readers(bodies_file: Path, tmp: Path) -> list[subprocess.Popen]:
    env = dict(os.environ, GOTOOLCHAIN="local")
    commands = [
        ([sys.executable, str(READERS / "read_python.py"), str(bodies_file)], None),
        (["node", str(READERS / "read_node.js"), str(bodies_file)], None),
        (["go", "run", ".", str(bodies_file)], READERS / "go"),
        (["java", "-cp", jackson_classpath(tmp), str(READERS / "java" / "Reader.java"),
          str(bodies_file)], None),
    ]
    return [subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, encoding="utf-8")
            for cmd, cwd in commands]


def collect(procs: list[subprocess.Popen], count: int) -> dict[str, list[dict]]:
    """Each reader's reads, by reader name, one a body in case order."""
    reads: dict[str, list[dict]] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{proc.args[:2]} failed ({proc.returncode}):\n{err}"
        for line in out.splitlines():
            read = json.loads(line)
            reads.setdefault(read["reader"], []).append(read)
    for name, rows in reads.items():
        assert [r["i"] for r in rows] == list(range(count)), f"{name} skipped bodies"
    assert len(reads) == 5, f"expected 5 readers, got {sorted(reads)}"
    return reads


@pytest.fixture(scope="module")
def server(tmp_path_factory, secrets_dir):
    tmp = tmp_path_factory.mktemp("differential")
    config_path = write_config(tmp / "config.json", secrets_dir)
    config = json.loads(config_path.read_text())
    config["ownership"] = {"resolve": RESOLVE}
    config_path.write_text(json.dumps(config))
    db = servers.sqlite_db(tmp / "app.db", *servers.django_fixtures(inconsistent=False))
    with servers.HookguardServer(db, config=config_path, env=SERVER_ENV) as s:
        servers.wait_serving(s.target)
        yield s


def ids_of(event) -> tuple[str, str, str]:
    return (event.call_id, event.assistant_id, event.phone_number_id)


def letters(ids: tuple[str, str, str]) -> str:
    """A/B for alice's or bob's id, - for none, ? for anything else."""
    def one(value: str, a: str, b: str) -> str:
        return {a: "A", b: "B", "": "-"}.get(value, "?")
    tenants = zip(ids, (bodies.ALICE.call, bodies.ALICE.assistant, bodies.ALICE.phone),
                  (bodies.BOB.call, bodies.BOB.assistant, bodies.BOB.phone))
    return "/".join(one(*t) for t in tenants)


@pytest.fixture(scope="module")
def results(server, pb, tmp_path_factory):
    """Every case with hookguard's answer and each reader's read; prints the table."""
    tmp = tmp_path_factory.mktemp("bodies")
    cases = bodies.cases()
    bodies_file = tmp / "bodies.b64"
    bodies_file.write_text("".join(base64.b64encode(c.body.encode()).decode() + "\n"
                                   for c in cases))
    procs = start_readers(bodies_file, tmp)
    answers = []
    with grpc.insecure_channel(server.target) as channel:
        stub = pb.grpc.WebhookAuthServiceStub(channel)
        for case in cases:
            raw = case.body.encode()
            request = pb.m.AuthorizeWebhookRequest(request=pb.m.HttpRequest(
                body=raw, headers={"X-Vapi-Signature": hmac_hex(SECRET_NEW, raw)}))
            answers.append(stub.AuthorizeWebhook(request, timeout=5))
    reads = collect(procs, len(cases))

    rows = []
    for i, (case, answer) in enumerate(zip(cases, answers)):
        allowed = answer.decision == pb.m.DECISION_ALLOW
        verdict = ("ALLOW " + bodies.OWNER_IDS.get(answer.owner_id, answer.owner_id) if allowed
                   else pb.m.DenyReason.Name(answer.reason).removeprefix("DENY_REASON_"))
        disagree = {}
        cells = []
        for name, rows_of_reader in reads.items():
            read = rows_of_reader[i]
            if "call" not in read:
                cells.append("err")
                continue
            got = (read["call"], read["assistant"], read["phone"])
            cells.append(letters(got))
            if allowed and got != ids_of(answer.event):
                disagree[name] = got
                cells[-1] += "!"
        rows.append({"case": case, "verdict": verdict, "allowed": allowed,
                     "event": ids_of(answer.event), "cells": cells, "disagree": disagree,
                     "expect_met": case.expect is None or case.expect == verdict})

    width = max(len(c.name) for c in cases)
    names = list(reads)
    print(f"\n{'case':<{width}}  {'hookguard':<22} " + " ".join(f"{n[:12]:<12}" for n in names)
          + "  expectation")
    for r in rows:
        hg = r["verdict"] + (" " + letters(r["event"]) if r["allowed"] else "")
        exp = "" if r["case"].expect is None else ("ok" if r["expect_met"]
                                                   else "WANT " + r["case"].expect)
        print(f"{r['case'].name:<{width}}  {hg:<22} " + " ".join(f"{c:<12}" for c in r["cells"])
              + f"  {exp}")
    allowed = sum(r["allowed"] for r in rows)
    print(f"{len(rows)} bodies: {allowed} ALLOW, {len(rows) - allowed} DENY; "
          f"{sum(bool(r['disagree']) for r in rows)} allowed bodies read otherwise by a reader; "
          f"{sum(not r['expect_met'] for r in rows)} expectations unmet. "
          "Cells: call/assistant/phone read, A alice's, B bob's, - none, ! differs from an ALLOW.")
    return rows


def test_no_reader_reads_another_id_than_hookguard_allowed(results):
    failures = [f"{r['case'].name}: hookguard {r['verdict']} {r['event']}, but "
                + "; ".join(f"{n} read {got}" for n, got in r["disagree"].items())
                + f"\n    body: {r['case'].body}"
                for r in results if r["disagree"]]
    assert not failures, "\n".join(failures)


def test_exact_expectations(results):
    failures = [f"{r['case'].name}: got {r['verdict']}, want {r['case'].expect}"
                f"\n    body: {r['case'].body}" for r in results if not r["expect_met"]]
    assert not failures, "\n".join(failures)
