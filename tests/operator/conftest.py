"""Fixtures for the operator tools' tests (`hookguard audit-db`,
`hookguard explain`): the built CLI, real PostgreSQL and SQLite databases
seeded from tests/fixtures, and the real hookguard-server to compare with."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402

SECRET = "operator-test-secret-2026-11"
OLD_SECRET = "operator-test-secret-2026-10"
SECRET_ENV = "HG_OPERATOR_TEST_SECRET"


def cli() -> Path:
    return servers.build_dir() / "tools" / "hookguard" / "hookguard"


def run_cli(*args: str, env: dict | None = None, stdin: bytes | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs the hookguard CLI; never lets HOOKGUARD_DB leak in from outside."""
    full_env = {k: v for k, v in os.environ.items() if k != "HOOKGUARD_DB"}
    full_env.update(env or {})
    return subprocess.run([str(cli()), *args], env=full_env, input=stdin, capture_output=True,
                          timeout=timeout)


def hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


@pytest.fixture(scope="session")
def secret_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "old"
    path.write_text(OLD_SECRET + "\n")
    return path


@pytest.fixture(scope="session")
def config_file(tmp_path_factory, secret_file) -> Path:
    """The configuration both the server and `explain` read: one hmac profile
    with a new secret (env) and an old one (file), as during a rotation."""
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(json.dumps({
        "profiles": [{"name": "vapi", "kind": "hmac",
                      "secrets": [{"key_id": "2026-11", "env": SECRET_ENV},
                                  {"key_id": "2026-10", "file": str(secret_file)}]}],
        "default_profile": "vapi",
    }))
    return path


ENV = {SECRET_ENV: SECRET}


@pytest.fixture(scope="session")
def postgres_inconsistent():
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=True))
        yield pg


@pytest.fixture(scope="session")
def postgres_clean():
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        yield pg


@pytest.fixture(scope="session")
def sqlite_inconsistent(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "inconsistent.db"
    return servers.sqlite_db(path, *servers.django_fixtures(inconsistent=True))


@pytest.fixture(scope="session")
def sqlite_clean(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "clean.db"
    return servers.sqlite_db(path, *servers.django_fixtures(inconsistent=False))


@pytest.fixture(scope="session", params=["postgresql", "sqlite3"])
def inconsistent_db(request) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_inconsistent").soci
    return request.getfixturevalue("sqlite_inconsistent")


@pytest.fixture(scope="session", params=["postgresql", "sqlite3"])
def clean_db(request) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_clean").soci
    return request.getfixturevalue("sqlite_clean")


@pytest.fixture(scope="session")
def server(inconsistent_db, config_file):
    """The real server on the same database and configuration as explain."""
    with servers.HookguardServer(inconsistent_db, config=config_file, env=ENV) as s:
        # Health turns SERVING once the database has answered.
        for _ in range(300):
            if run_cli("health", f"--target={s.target}").returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"server not SERVING:\n{s.output()}")
        yield s
