"""threat-table row 14: an unauthorised caller of the service. Mutual TLS
refuses a client without a certificate from the configured CA, and the
allowlist refuses a certified client that is not on it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest
import servers
from conftest import SECRET_NEW, hmac_hex, vapi_body, wait_serving


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path, name: str):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=d)


def make_cert(d: Path, ca: str, name: str, san: str):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
            f"{name}.key", "-out", f"{name}.csr", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "ca", "server", "IP:127.0.0.1,DNS:localhost")
    make_cert(d, "ca", "web-tier", "DNS:web-tier.apps.svc")
    make_cert(d, "ca", "other-team", "DNS:other-team.apps.svc")
    make_cert(d, "rogue-ca", "rogue", "DNS:web-tier.apps.svc")
    return d


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory):
    return servers.sqlite_db(tmp_path_factory.mktemp("db") / "app.db",
                             *servers.django_fixtures(inconsistent=False))


def call(pb, target, pki, client=None):
    creds = grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.pem").read_bytes(),
        private_key=(pki / f"{client}.key").read_bytes() if client else None,
        certificate_chain=(pki / f"{client}.pem").read_bytes() if client else None)
    body = vapi_body({"id": "call_alice_1"})
    req = pb.m.AuthorizeWebhookRequest(request=pb.m.HttpRequest(
        body=body, headers={"x-vapi-signature": hmac_hex(SECRET_NEW, body)}))
    with grpc.secure_channel(target, creds) as ch:
        try:
            return pb.grpc.WebhookAuthServiceStub(ch).AuthorizeWebhook(req, timeout=5).decision
        except grpc.RpcError as e:
            return e.code()


def tls_server(sqlite_db, pki, *extra):
    return servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW}, args=[
        f"--tls_cert={pki / 'server.pem'}", f"--tls_key={pki / 'server.key'}",
        f"--client_ca={pki / 'ca.pem'}", "--health_interval_ms=200", *extra])


def test_row14_mtls_refuses_clients_without_a_trusted_certificate(pb, sqlite_db, pki):
    with tls_server(sqlite_db, pki) as s:
        assert call(pb, s.target, pki, "web-tier") == 1
        assert call(pb, s.target, pki, None) == grpc.StatusCode.UNAVAILABLE
        assert call(pb, s.target, pki, "rogue") == grpc.StatusCode.UNAVAILABLE
        with grpc.insecure_channel(s.target) as ch:  # plaintext against a TLS port
            with pytest.raises(grpc.RpcError):
                pb.grpc.WebhookAuthServiceStub(ch).VerifySignature(pb.m.VerifySignatureRequest(),
                                                                   timeout=3)


def test_row14_allowlist_refuses_a_certified_client_not_on_it(pb, sqlite_db, pki):
    with tls_server(sqlite_db, pki, "--allowed_clients=web-tier.apps.svc") as s:
        assert call(pb, s.target, pki, "web-tier") == 1
        assert call(pb, s.target, pki, "other-team") == grpc.StatusCode.PERMISSION_DENIED
        log = s.output()
    assert "PERMISSION_DENIED" in log


def test_plaintext_mode_says_so_loudly(sqlite_db):
    with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW}) as s:
        wait_serving(s.target)
        assert "PLAINTEXT" in s.output()
