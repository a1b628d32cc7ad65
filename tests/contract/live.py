"""A live hookguard for the contract and middleware tests: a throw-away
PostgreSQL with the Django fixtures (consistent + inconsistent rows) and the
subject profiles' tenant tables (subjects.sql), and the real hookguard-server
with tests/contract/config.json and the vectors' secrets. Used by run.py and
by tests/middleware when HOOKGUARD_TARGET is unset.
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from servers import (HookguardServer, PostgresServer, build_dir, django_fixtures,  # noqa: E402
                     sqlite_db, wait_serving)

CONFIG = HERE / "config.json"
# The tenant tables of the subject profiles (stripe-connect, github-app).
SUBJECTS_SQL = REPO / "tests" / "fixtures" / "subjects.sql"
VECTORS_FILE = HERE / "vectors.json"


def vectors() -> dict:
    return json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def server_binary() -> Path:
    return build_dir() / "server" / "service" / "hookguard-server"


@contextlib.contextmanager
def live_hookguard() -> Iterator[str]:
    """Yields the target ("127.0.0.1:PORT") of a running server; stops both."""
    binary = server_binary()
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is not built (cmake --build build); "
                                "set HOOKGUARD_BUILD_DIR for another build directory")
    with PostgresServer() as pg:
        pg.load(*django_fixtures(inconsistent=True), SUBJECTS_SQL)
        with HookguardServer(pg.soci, config=CONFIG, env=vectors()["secrets_env"]) as hg:
            try:
                wait_serving(hg.target)
            except Exception:
                print(hg.output(), file=sys.stderr)
                raise
            yield hg.target


def make_certs(d: Path) -> dict:
    """A test CA, a server certificate for 127.0.0.1/localhost and a client
    certificate (openssl CLI, EC P-256, valid 2 days). Returns PEM paths."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=hookguard-contract-ca")
    for name, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                 "extendedKeyUsage=serverAuth\n"),
                      ("client", "subjectAltName=DNS:contract-client\n"
                                 "extendedKeyUsage=clientAuth\n")):
        (d / f"{name}.ext").write_text(ext)
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={'localhost' if name == 'server' else 'contract-client'}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return {k: d / f"{k}" for k in ("ca.pem", "server.pem", "server.key", "client.pem",
                                    "client.key")}


@contextlib.contextmanager
def live_tls_hookguard() -> Iterator[dict]:
    """A second server with mutual TLS (SQLite with the same fixtures). Yields
    the environment a runner needs: HOOKGUARD_TLS_TARGET and the PEM paths
    HOOKGUARD_TLS_CA, HOOKGUARD_TLS_CERT, HOOKGUARD_TLS_KEY."""
    import grpc

    binary = server_binary()
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is not built")
    with tempfile.TemporaryDirectory(prefix="hookguard-tls-") as tmp:
        d = Path(tmp)
        certs = make_certs(d)
        db = sqlite_db(d / "app.db", *django_fixtures(inconsistent=True), SUBJECTS_SQL)
        args = [f"--tls_cert={certs['server.pem']}", f"--tls_key={certs['server.key']}",
                f"--client_ca={certs['ca.pem']}"]
        with HookguardServer(db, config=CONFIG, env=vectors()["secrets_env"], args=args) as hg:
            creds = grpc.ssl_channel_credentials(certs["ca.pem"].read_bytes(),
                                                 certs["client.key"].read_bytes(),
                                                 certs["client.pem"].read_bytes())
            try:
                wait_serving(hg.target, credentials=creds)
            except Exception:
                print(hg.output(), file=sys.stderr)
                raise
            yield {"HOOKGUARD_TLS_TARGET": hg.target, "HOOKGUARD_TLS_CA": str(certs["ca.pem"]),
                   "HOOKGUARD_TLS_CERT": str(certs["client.pem"]),
                   "HOOKGUARD_TLS_KEY": str(certs["client.key"])}
