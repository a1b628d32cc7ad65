"""Runs the README's "Run it against your own database" commands as written,
on a SQLite copy of the Django fixtures: the server command, then the signed
request (openssl HMAC, the CLI). Only the database path, the port, the call id
and the build directory are substituted."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "support"))
from servers import build_dir, django_fixtures, free_port, sqlite_db, wait_for_port  # noqa: E402


def block(name: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- quickstart: {name}\b.*?-->\s*```sh\n(.*?)```", readme, re.S)
    assert m, f"README.md has no quickstart block {name!r}"
    return m.group(1)


def test_readme_quickstart(tmp_path):
    port = free_port()
    db = sqlite_db(tmp_path / "app.db", *django_fixtures(inconsistent=False))

    def substitute(sh: str) -> str:
        return (sh.replace("sqlite3://db=/path/to/app.db", db)
                .replace("127.0.0.1:50051", f"127.0.0.1:{port}")
                .replace("CALL_ID_FROM_YOUR_DB", "call_alice_1")
                .replace("build/", f"{build_dir()}/"))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKGUARD_", "VAPI_"))}
    env["HOOKGUARD_TARGET"] = f"127.0.0.1:{port}"
    # One simple command: bash execs it, so terminate() reaches the server.
    server = subprocess.Popen(["bash", "-c", substitute(block("server"))], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, 20, server)
        request = substitute(block("request"))

        def ask(sh: str) -> subprocess.CompletedProcess:
            return subprocess.run(["bash", "-c", sh], cwd=REPO, env=env, text=True,
                                  capture_output=True, timeout=60)

        ok = ask(request)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "DECISION_ALLOW (http 200)" in ok.stdout, ok.stdout
        assert re.search(r"owner_id\s+1$", ok.stdout, re.M), ok.stdout
        for change, status, reason in (
                (("-hmac my-secret", "-hmac another-secret"), 401, "DENY_REASON_SIGNATURE_INVALID"),
                (("call_alice_1", "call_nobody"), 404, "DENY_REASON_CALL_NOT_FOUND")):
            denied = ask(request.replace(*change))
            assert denied.returncode == 1, denied.stdout + denied.stderr
            assert f"DECISION_DENY (http {status})" in denied.stdout, denied.stdout
            assert re.search(rf"reason\s+{reason}$", denied.stdout, re.M), denied.stdout
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert '"decision":"DECISION_ALLOW"' in out, out
