"""Rows 18-22 of the threat table and the smaller findings of the attack
round: profiles that sign too little, revoking a secret by deleting its file,
echo and log flooding, internals in statuses, the app's own SQLite writes,
unparseable requests; and `hookguard-server --check_config`."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import grpc
import pytest
import servers
from conftest import BINARY, SECRET_NEW, hmac_hex, start_fails, vapi_body, wait_serving


def _profile_config(path, *profiles, default=None):
    config = {"profiles": list(profiles)}
    if default:
        config["default_profile"] = default
    path.write_text(json.dumps(config))
    return path


def _webhook(pb, body, secret=SECRET_NEW, profile=""):
    return pb.m.AuthorizeWebhookRequest(profile=profile, request=pb.m.HttpRequest(
        body=body, headers={"x-vapi-signature": hmac_hex(secret, body)}))


def _check_config(*args, env=None):
    return subprocess.run([str(BINARY), "--check_config", *args],
                          env={"PATH": "/usr/bin:/bin", **(env or {})},
                          capture_output=True, text=True, timeout=20)


# Row 18: a profile that signs too little never starts.
SIGNS_TOO_LITTLE = [
    ({"name": "ts", "kind": "hmac", "timestamp_header": "x-ts", "payload_format": "{body}"},
     ['profile "ts"', 'timestamp_header "x-ts"', "does not sign it",
      "add {timestamp} to payload_format"]),
    ({"name": "nobody", "kind": "hmac", "timestamp_header": "x-ts",
      "payload_format": "{timestamp}"},
     ['profile "nobody"', "does not sign the body", "add {body}"]),
    ({"name": "stripe", "preset": "stripe", "payload_format": "{body}"},
     ['profile "stripe"', 'signature_timestamp_key "t"', "add {timestamp}"]),
]


def test_row18_a_profile_that_signs_too_little_refuses_to_start(sqlite_db, tmp_path):
    for profile, says in SIGNS_TOO_LITTLE:
        cfg = _profile_config(tmp_path / "c.json",
                              {**profile, "secrets": [{"key_id": "k", "env": "S"}]})
        err = start_fails([f"--db={sqlite_db}", f"--config={cfg}"], env={"S": "x"})
        for part in [str(cfg), *says]:
            assert part in err, f"{part!r} not in: {err}"
        checked = _check_config(f"--config={cfg}", env={"S": "x"})
        assert checked.returncode == 1 and says[1] in checked.stderr, checked


def test_row18_start_warns_about_what_a_profile_leaves_unprotected(sqlite_db, tmp_path):
    secret = tmp_path / "gh"
    secret.write_text("github-secret")
    cfg = _profile_config(
        tmp_path / "c.json",
        {"name": "github", "preset": "github", "secrets": [{"key_id": "g", "file": str(secret)}]},
        {"name": "old", "kind": "hmac", "algorithm": "sha1", "timestamp_header": "x-ts",
         "payload_format": "{timestamp}.{body}", "secrets": [{"key_id": "o", "env": "S"}]},
        {"name": "sw", "kind": "standard_webhooks",
         "secrets": [{"key_id": "w", "env": "SW"}]},
        default="github")
    with servers.HookguardServer(sqlite_db, config=cfg,
                                 env={"S": "x", "SW": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}) as s:
        wait_serving(s.target)
        lines = [json.loads(line) for line in s.output().splitlines() if line.startswith("{")]
    warnings = [l["detail"] for l in lines if l.get("kind") == "server" and l["level"] == "warning"]
    assert any('profile "github": no signed timestamp' in w for w in warnings), warnings
    assert any('profile "github": message id header x-github-delivery is not signed' in w
               for w in warnings), warnings
    assert any('profile "old": algorithm sha1' in w for w in warnings), warnings
    assert not any('profile "sw"' in w for w in warnings), warnings


# Row 19: deleting a leaked secret's file revokes that secret.
def test_row19_deleted_secret_file_stops_verifying_and_the_others_keep_working(
        pb, sqlite_db, tmp_path):
    leaked, current = tmp_path / "leaked", tmp_path / "current"
    leaked.write_text("leaked-secret-VALUE")
    current.write_text("current-secret-VALUE")
    cfg = _profile_config(tmp_path / "c.json", {"name": "vapi", "kind": "hmac", "secrets": [
        {"key_id": "leaked", "file": str(leaked)}, {"key_id": "current", "file": str(current)}]})
    body = vapi_body({"id": "call_alice_1"})
    port = servers.free_port()
    with servers.HookguardServer(sqlite_db, config=cfg,
                                 args=["--reload_interval_seconds=1",
                                       f"--metrics_listen=127.0.0.1:{port}"]) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            assert stub.AuthorizeWebhook(_webhook(pb, body, "leaked-secret-VALUE"),
                                         timeout=5).key_id == "leaked"
            leaked.unlink()
            deadline = time.monotonic() + 10
            while stub.AuthorizeWebhook(_webhook(pb, body, "leaked-secret-VALUE"),
                                        timeout=5).decision == 1:
                assert time.monotonic() < deadline, "the deleted secret still verifies"
                time.sleep(0.2)
            r = stub.AuthorizeWebhook(_webhook(pb, body, "current-secret-VALUE"), timeout=5)
            assert (r.decision, r.key_id) == (1, "current")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as m:
                assert 'hookguard_secrets_missing{profile="vapi"} 1' in m.read().decode()
            # Blanking the last file (row 29: blank lines count as empty)
            # leaves a profile that verifies nothing, the blank MAC included.
            current.write_text("\n  \n")
            deadline = time.monotonic() + 10
            while stub.AuthorizeWebhook(_webhook(pb, body, "current-secret-VALUE"),
                                        timeout=5).decision == 1:
                assert time.monotonic() < deadline, "the blanked secret still verifies"
                time.sleep(0.2)
            for secret in ("current-secret-VALUE", "\n  "):
                r = stub.AuthorizeWebhook(_webhook(pb, body, secret), timeout=5)
                assert (r.signature, r.http_status) == (pb.m.SIGNATURE_RESULT_MISMATCH, 401)
        log = s.output()
        assert s.proc.poll() is None
    assert 'secret \\"leaked\\" removed' in log and str(leaked) in log
    assert 'profile \\"vapi\\" has no secret left' in log
    assert "secret-VALUE" not in log


# hookguard-server --check_config
def test_check_config_says_whether_the_server_would_start(tmp_path):
    secret = tmp_path / "s"
    secret.write_text("a-secret")
    good = _profile_config(tmp_path / "good.json", {
        "name": "slack", "preset": "slack", "secrets": [{"key_id": "k", "file": str(secret)}]})
    ok = _check_config(f"--config={good}")
    assert ok.returncode == 0, ok
    assert "OK" in ok.stdout and "slack" in ok.stdout

    missing = _profile_config(tmp_path / "missing.json", {
        "name": "v", "kind": "hmac", "secrets": [{"key_id": "k", "file": str(tmp_path / "none")}]})
    bad_query = tmp_path / "query.json"
    bad_query.write_text(json.dumps({
        "profiles": [{"name": "v", "kind": "hmac", "secrets": [{"key_id": "k", "env": "S"}]}],
        "ownership": {"call_query": "SELECT a, b, c, d, e FROM calls WHERE id = 'x'"}}))
    typo = tmp_path / "typo.json"
    typo.write_text('{"profiles": [{"name": "v", "kind": "hmac", "secretz": []}]}')
    for cfg, says in ((missing, str(tmp_path / "none")), (bad_query, ":call_id"),
                      (typo, "secretz")):
        r = _check_config(f"--config={cfg}", env={"S": "x"})
        assert r.returncode == 1, r
        assert str(cfg) in r.stderr or cfg is missing, r.stderr
        assert says in r.stderr, r.stderr
    # Without --config: the default profile and its environment variable.
    assert _check_config().returncode == 1
    default = _check_config(env={"VAPI_WEBHOOK_SECRET": "x"})
    assert default.returncode == 0 and "no signed timestamp" in default.stdout, default


# Row 29: a secret of whitespace only is refused as an empty one is.
@pytest.mark.parametrize("source", ["file of blank lines", "variable of spaces"])
def test_row29_whitespace_only_secret_is_refused_at_start_and_by_check_config(
        tmp_path, sqlite_db, source):
    blank = tmp_path / "blank"
    blank.write_text("\n\n  \n")
    secret = ({"key_id": "k", "file": str(blank)} if source.startswith("file")
              else {"key_id": "k", "env": "HG_BLANK_SECRET"})
    cfg = _profile_config(tmp_path / "c.json", {"name": "v", "kind": "hmac", "secrets": [secret]})
    env = {"HG_BLANK_SECRET": "    "}
    checked = _check_config(f"--config={cfg}", env=env)
    assert checked.returncode == 1, checked
    assert "only whitespace" in checked.stderr, checked.stderr
    stderr = start_fails([f"--db={sqlite_db}", f"--config={cfg}"], env=env)
    assert "only whitespace" in stderr and "profile \"v\"" in stderr, stderr


# Row 21: a database error's text (SQL, bound ids) stays in the server log.
def test_row21_database_errors_reach_callers_without_sql_or_ids(pb, tmp_path):
    import sqlite3

    path = tmp_path / "app.db"
    db = servers.sqlite_db(path, *servers.django_fixtures(inconsistent=False))
    with servers.HookguardServer(db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW}) as s:
        wait_serving(s.target)
        with sqlite3.connect(path) as conn:  # the app migrates under the server's feet
            conn.execute("ALTER TABLE api_assistant RENAME TO api_assistant_old")
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            try:
                stub.AuthorizeWebhook(_webhook(pb, vapi_body({"id": "call_alice_1"})), timeout=5)
                raise AssertionError("a lookup on a broken schema answered")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.UNAVAILABLE, e
                message = e.details()
        time.sleep(0.2)
        log = s.output()
    for internal in ("SELECT", "call_alice_1", "api_assistant", "while executing"):
        assert internal not in message, f"{internal!r} in the caller's message: {message}"
    assert "no such table: api_assistant" in log, "the full error must reach the server log"


# Row 22: the app's own write transaction on the SQLite file (Django).
def test_row22_a_lookup_waits_for_the_apps_sqlite_write_lock(pb, tmp_path):
    import sqlite3
    import threading

    path = tmp_path / "app.db"
    db = servers.sqlite_db(path, *servers.django_fixtures(inconsistent=False))
    with servers.HookguardServer(db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                 args=["--db_timeout_ms=2000"]) as s:
        wait_serving(s.target)
        locked, done = threading.Event(), threading.Event()

        def app_writes():
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("UPDATE api_assistant SET user_id = user_id")
            locked.set()
            time.sleep(0.4)
            conn.execute("COMMIT")
            conn.close()
            done.set()

        writer = threading.Thread(target=app_writes)
        writer.start()
        assert locked.wait(5)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            started = time.monotonic()
            r = stub.AuthorizeWebhook(_webhook(pb, vapi_body({"id": "call_alice_1"})), timeout=5)
            waited = time.monotonic() - started
        writer.join()
    assert (r.decision, r.owner_id, r.http_status) == (1, "1", 200)
    assert waited >= 0.3, f"answered in {waited:.3f}s: the lock was not in the way"


# Row 20: request-supplied strings are capped wherever they are repeated.
def test_row20_hundred_kilobyte_strings_are_capped_in_statuses_and_log_lines(pb, sqlite_db):
    huge = "p" * (100 * 1024)
    with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW}) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            try:
                stub.AuthorizeWebhook(_webhook(pb, vapi_body({"id": "call_alice_1"}),
                                               profile=huge), timeout=5)
                raise AssertionError("an unknown profile was answered")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert len(e.details()) < 400 and "102400 bytes" in e.details(), e.details()
            r = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(
                expected_owner_id=huge,
                request=_webhook(pb, vapi_body({"id": "call_alice_1"})).request), timeout=5)
            assert r.reason == pb.m.DENY_REASON_OWNER_MISMATCH and len(r.detail) < 400
            r = stub.AuthorizeCallEvent(pb.m.AuthorizeCallEventRequest(
                event=pb.m.CallEvent(call_id=huge, assistant_id=huge), expected_owner_id=huge),
                timeout=5)
            assert r.reason == pb.m.DENY_REASON_MALFORMED_EVENT and len(r.detail) < 400
        time.sleep(0.2)
        lines = s.output().splitlines()
    assert len(lines) > 5
    longest = max(len(line) for line in lines)
    assert longest < 2048, f"a log line of {longest} bytes"


def _health(target, service=""):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as ch:
        try:
            return health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2).status
        except grpc.RpcError as e:
            return e.code()


def test_row20_health_reports_an_audit_log_nobody_reads(pb, sqlite_db):
    import fcntl
    import os
    import threading

    from grpc_health.v1 import health_pb2

    serving, not_serving = (health_pb2.HealthCheckResponse.SERVING,
                            health_pb2.HealthCheckResponse.NOT_SERVING)
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # full after a few lines
    drained = []
    try:
        with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                     stdout=write_end,
                                     args=["--log_stall_ms=500", "--health_interval_ms=100"]) as s:
            wait_serving(s.target)
            with grpc.insecure_channel(s.target) as ch:
                stub = pb.grpc.WebhookAuthServiceStub(ch)
                forged = _webhook(pb, vapi_body({"id": "call_bob_1"}), secret="attacker")
                # Denies, two lines each: far more than 4 KiB. The call whose
                # thread is writing when the pipe fills waits with the log.
                calls = [stub.AuthorizeWebhook.future(forged, timeout=3) for _ in range(40)]
                for call in calls:
                    try:
                        call.result()
                    except grpc.RpcError as e:
                        assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e
            deadline = time.monotonic() + 10
            while _health(s.target) != not_serving:
                assert time.monotonic() < deadline, "health SERVING with the log stuck"
                time.sleep(0.1)
            assert _health(s.target, "hookguard.liveness") == serving
            reader = threading.Thread(target=lambda: drained.append(_read_all(read_end)),
                                      daemon=True)
            reader.start()
            deadline = time.monotonic() + 10
            while _health(s.target) != serving:
                assert time.monotonic() < deadline, "health stayed NOT_SERVING once read"
                time.sleep(0.1)
            s.terminate()
            os.close(write_end)
            write_end = -1
            reader.join(10)
    finally:
        if write_end >= 0:
            os.close(write_end)
    log = drained[0].decode(errors="replace")
    assert "audit log write blocked" in log and "audit log writes again" in log


def _gauge(port, name) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as m:
        for line in m.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# Row 20 with lookups on one connection (issue 26 item 13): answers that
# block in the audit write hold no connection and no timer, so the health
# loop keeps running: its database ping still succeeds (the database is fine),
# the stuck-log detector turns readiness NOT_SERVING, and liveness answers.
def test_row20_audit_back_pressure_on_one_connection_never_wedges_health(pb, tmp_path):
    import fcntl
    import os
    import sqlite3
    import threading

    from grpc_health.v1 import health_pb2

    serving, not_serving = (health_pb2.HealthCheckResponse.SERVING,
                            health_pb2.HealthCheckResponse.NOT_SERVING)
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    reader = None
    port = servers.free_port()
    path = tmp_path / "app.db"
    db = servers.sqlite_db(path, *servers.django_fixtures(inconsistent=False))
    loading = threading.Event()

    def app_writes():
        # Short write locks, as the app takes them: lookups queue up behind
        # each, so that answers are delivered while more lookups wait.
        conn = sqlite3.connect(path, isolation_level=None)
        while loading.is_set():
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("UPDATE api_assistant SET user_id = user_id")
            time.sleep(0.1)
            conn.execute("COMMIT")
            time.sleep(0.05)
        conn.close()

    writer = threading.Thread(target=app_writes)
    try:
        with servers.HookguardServer(
                db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW}, stdout=write_end,
                args=["--pool_size=1", "--db_batch_size=1", "--worker_threads=8",
                      "--log_stall_ms=3000", "--health_interval_ms=100", "--db_timeout_ms=500",
                      f"--metrics_listen=127.0.0.1:{port}"]) as s:
            wait_serving(s.target)
            with grpc.insecure_channel(s.target) as ch:
                stub = pb.grpc.WebhookAuthServiceStub(ch)

                # Each call looks its call up and is denied with its ids
                # echoed twice: the log's 1 MiB queue and the 4 KiB pipe fill
                # within a few thousand calls, while lookups keep queuing.
                def event(i):
                    return pb.m.AuthorizeCallEventRequest(
                        event=pb.m.CallEvent(call_id=f"call_missing_{i}_" + "x" * 200,
                                             assistant_id="a" * 200),
                        expected_owner_id="o" * 200)

                calls = []
                loading.set()
                writer.start()
                stop = time.monotonic() + 4
                i = 0
                while time.monotonic() < stop:
                    calls += [stub.AuthorizeCallEvent.future(event(i + k), timeout=3)
                              for k in range(200)]
                    i += 200
                    time.sleep(0.05)
                loading.clear()
                writer.join()
                # The health loop still runs: it sees the stuck log, turns
                # readiness NOT_SERVING, and its ping still reaches the
                # database; liveness answers all along.
                deadline = time.monotonic() + 15
                while not (_health(s.target) == not_serving
                           and _gauge(port, "hookguard_audit_log_stalled_seconds") >= 3):
                    assert time.monotonic() < deadline, (
                        "health loop wedged: readiness "
                        f"{_health(s.target)}, log stalled for "
                        f"{_gauge(port, 'hookguard_audit_log_stalled_seconds')} s")
                    assert _health(s.target, "hookguard.liveness") == serving
                    time.sleep(0.1)
                assert _health(s.target, "hookguard.liveness") == serving
                assert _gauge(port, "hookguard_db_up") == 1, "the ping waited behind the log"
                for call in calls:
                    try:
                        call.result()
                    except grpc.RpcError as e:
                        assert e.code() in (grpc.StatusCode.DEADLINE_EXCEEDED,
                                            grpc.StatusCode.UNAVAILABLE), e
            reader = threading.Thread(target=lambda: _read_all(read_end), daemon=True)
            reader.start()
            deadline = time.monotonic() + 15
            while _health(s.target) != serving:
                assert time.monotonic() < deadline, "readiness stayed NOT_SERVING once read"
                time.sleep(0.1)
            s.terminate()
            os.close(write_end)
            write_end = -1
    finally:
        loading.clear()
        if writer.is_alive():
            writer.join()
        if write_end >= 0:
            os.close(write_end)
        if reader is not None:
            reader.join(10)


def _read_all(fd) -> bytes:
    import os

    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


# Unparseable requests: answered INVALID_ARGUMENT, logged and counted.
def test_unparseable_request_is_invalid_argument_and_logged(sqlite_db):
    port = servers.free_port()
    with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                 args=[f"--metrics_listen=127.0.0.1:{port}"]) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            raw = ch.unary_unary("/hookguard.v1.WebhookAuthService/AuthorizeWebhook")
            try:
                # Field 1 (profile, a proto3 string) holding invalid UTF-8.
                raw(b"\x0a\x02\xff\xfe", timeout=5)
                raise AssertionError("an unparseable request was answered OK")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
                assert "not a valid AuthorizeWebhook request" in e.details()
        time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as m:
            metrics = m.read().decode()
        log = s.output()
    assert 'rpc="AuthorizeWebhook",decision="",reason="",code="INVALID_ARGUMENT"} 1' in metrics
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e.get("kind") == "security_event" and e.get("rpc") == "AuthorizeWebhook"
               and e.get("grpc_code") == "INVALID_ARGUMENT" for e in events), log


# Deny details: written by us; the only request text they repeat is the
# event's (validated) ids, as docs/security.md says.
def test_deny_details_repeat_nothing_of_the_request_but_the_event_ids(stub, pb):
    def body(call):
        return vapi_body(call, phoneNumber={"id": call.get("phoneNumberId", "phone_alice"),
                                            "twilioAuthToken": "MARK-token"},
                         transcript="MARK-transcript")

    cases = [
        (body({"id": "call_bob_1", "assistantId": "asst_alice"}), "", ["asst_alice"]),
        (body({"id": "call_alice_1", "assistantId": "asst_alice", "phoneNumberId": "phone_bob"}),
         "", ["phone_bob"]),
        (body({"id": "call_nobody_MARKLESS"}), "", ["call_nobody_MARKLESS"]),
        (body({"id": "call_alice_1"}), "owner-MARK-expected", []),
        (b'{"call":{"id":"call_alice_1"},"call":{"id":"MARK-dup"}}', "", []),
    ]
    for raw, expected_owner, quoted in cases:
        req = pb.m.AuthorizeWebhookRequest(expected_owner_id=expected_owner, request=pb.m.HttpRequest(
            body=raw, headers={"x-vapi-signature": hmac_hex(SECRET_NEW, raw),
                               "x-junk": "MARK-header"}))
        r = stub.AuthorizeWebhook(req, timeout=5)
        assert r.decision == 2, r
        assert "MARK" not in r.detail.replace("MARKLESS", ""), r.detail
        for q in quoted:
            assert q in r.detail, r.detail
    forged = pb.m.AuthorizeWebhookRequest(request=pb.m.HttpRequest(
        body=body({"id": "call_alice_1"}), headers={"x-vapi-signature": "ab" * 32}))
    r = stub.AuthorizeWebhook(forged, timeout=5)
    assert r.reason == pb.m.DENY_REASON_SIGNATURE_INVALID and "ab" * 8 not in r.detail
