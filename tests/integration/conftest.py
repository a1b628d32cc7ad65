"""Fixtures for the integration tests: real PostgreSQL, real SQLite, the
real hookguard-server binary, and Python stubs generated from our protos."""
from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from servers import wait_serving  # noqa: E402,F401  (test modules import it from here)

SECRET_NEW = "whk-new-2026-11"
SECRET_OLD = "whk-old-2026-10"
LEGACY_SECRET = "legacy-shared-secret"
TS_SECRET = "timestamped-secret"


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """hookguard.v1 messages and stubs, generated with grpcio-tools."""
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("pb")
    protos = servers.REPO / "protos"
    rc = protoc.main(["protoc", f"-I{protos}", f"--python_out={out}", f"--grpc_python_out={out}",
                      str(protos / "hookguard" / "v1" / "hookguard.proto")])
    assert rc == 0
    sys.path.insert(0, str(out))
    pb2 = importlib.import_module("hookguard.v1.hookguard_pb2")
    pb2_grpc = importlib.import_module("hookguard.v1.hookguard_pb2_grpc")

    class PB:
        m = pb2
        grpc = pb2_grpc

    return PB


def hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def vapi_body(call: dict, type_: str = "status-update", **extra) -> bytes:
    return json.dumps({"message": {"type": type_, "call": call, **extra}}).encode()


def signed_webhook(pb, body: bytes, secret: str = SECRET_NEW, expected_owner: str = "",
                   profile: str = "", headers: dict | None = None):
    """An AuthorizeWebhookRequest signed as the default `vapi` profile expects."""
    h = {"X-Vapi-Signature": hmac_hex(secret, body)} if headers is None else headers
    return pb.m.AuthorizeWebhookRequest(profile=profile, expected_owner_id=expected_owner,
                                        request=pb.m.HttpRequest(body=body, headers=h))


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("secrets")
    (d / "new").write_text(SECRET_NEW + "\n")
    (d / "old").write_text(SECRET_OLD)
    return d


def write_config(path: Path, secrets_dir: Path) -> Path:
    config = {
        "profiles": [
            {"name": "vapi", "kind": "hmac",
             "secrets": [{"key_id": "2026-11", "file": str(secrets_dir / "new")},
                         {"key_id": "2026-10", "file": str(secrets_dir / "old")}]},
            {"name": "vapi_ts", "kind": "hmac", "signature_header": "x-signature",
             "timestamp_header": "x-timestamp", "payload_format": "{timestamp}.{body}",
             "tolerance_seconds": 300, "secrets": [{"key_id": "ts", "env": "HG_TEST_TS_SECRET"}]},
            {"name": "legacy", "kind": "shared_secret", "header": "x-vapi-secret",
             "secrets": [{"key_id": "legacy", "env": "HG_TEST_LEGACY_SECRET"}]},
        ],
        "default_profile": "vapi",
    }
    path.write_text(json.dumps(config, indent=2))
    return path


SERVER_ENV = {"HG_TEST_TS_SECRET": TS_SECRET, "HG_TEST_LEGACY_SECRET": LEGACY_SECRET}
BINARY = servers.build_dir() / "server" / "service" / "hookguard-server"


def start_fails(args, env=None, timeout=20):
    """Runs the server expecting it to refuse to start; returns its stderr."""
    full_env = {"PATH": "/usr/bin:/bin", **(env or {})}
    p = subprocess.run([str(BINARY), "--listen=127.0.0.1:0", *args], env=full_env,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 2, f"expected exit 2, got {p.returncode}: {p.stderr}{p.stdout}"
    return p.stderr


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory):
    """A read-only-for-the-server SQLite database with the consistent fixtures."""
    return servers.sqlite_db(tmp_path_factory.mktemp("db") / "app.db",
                             *servers.django_fixtures(inconsistent=False))


@pytest.fixture(scope="session")
def postgres():
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=True))
        yield pg


@pytest.fixture(scope="session", params=["postgresql", "sqlite3"])
def db(request, tmp_path_factory) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").soci
    path = tmp_path_factory.mktemp("sqlite") / "app.db"
    return servers.sqlite_db(path, *servers.django_fixtures(inconsistent=True))


@pytest.fixture(scope="session")
def server(db, secrets_dir, tmp_path_factory):
    config = write_config(tmp_path_factory.mktemp("cfg") / "config.json", secrets_dir)
    with servers.HookguardServer(db, config=config, env=SERVER_ENV,
                                 args=["--max_body_bytes=1048576"]) as s:
        wait_serving(s.target)
        yield s


@pytest.fixture(scope="session")
def stub(server, pb):
    channel = grpc.insecure_channel(server.target,
                                    options=[("grpc.max_send_message_length", 200 << 20)])
    yield pb.grpc.WebhookAuthServiceStub(channel)
    channel.close()
