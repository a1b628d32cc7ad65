"""What operators live with: misconfiguration (row 15), logs without secrets
(row 13), rotation without restart (row 16), the database going away (row
11), draining on SIGTERM, and metrics."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

import grpc
import servers
from conftest import (BINARY, SECRET_NEW, SERVER_ENV, hmac_hex, start_fails, vapi_body,
                      wait_serving, write_config)


def test_row15_no_secret_refuses_to_start(sqlite_db):
    err = start_fails([f"--db={sqlite_db}"])
    assert "VAPI_WEBHOOK_SECRET" in err


def test_row15_typo_in_a_config_key_names_the_key(sqlite_db, tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"profiles": [{"name": "v", "kind": "hmac", "signature_heder": "x",
                                             "secrets": [{"key_id": "a", "env": "S"}]}]}))
    err = start_fails([f"--db={sqlite_db}", f"--config={cfg}"], env={"S": "x"})
    assert "signature_heder" in err


def test_row15_unreadable_secret_file_names_the_path(sqlite_db, tmp_path):
    cfg = tmp_path / "c.json"
    missing = tmp_path / "no-such-secret"
    cfg.write_text(json.dumps({"profiles": [{"name": "v", "kind": "hmac",
                                             "secrets": [{"key_id": "a", "file": str(missing)}]}]}))
    err = start_fails([f"--db={sqlite_db}", f"--config={cfg}"])
    assert str(missing) in err


def test_row15_missing_database_flag_and_missing_sqlite_file(tmp_path):
    assert "HOOKGUARD_DB" in start_fails([], env={"VAPI_WEBHOOK_SECRET": "s"})
    missing = tmp_path / "absent.db"
    err = start_fails([f"--db=sqlite3://db={missing}"], env={"VAPI_WEBHOOK_SECRET": "s"})
    assert str(missing) in err
    assert not missing.exists(), "the service must never create the database"


def test_row15_unknown_flag_refuses_to_start(sqlite_db):
    p = subprocess.run([str(BINARY), f"--db={sqlite_db}", "--listne=1"], capture_output=True,
                       text=True, env={"VAPI_WEBHOOK_SECRET": "s"}, timeout=20)
    assert p.returncode != 0 and "listne" in p.stderr


def _webhook(pb, body, secret=SECRET_NEW):
    return pb.m.AuthorizeWebhookRequest(request=pb.m.HttpRequest(
        body=body, headers={"x-vapi-signature": hmac_hex(secret, body)}))


def test_row13_logs_hold_ids_and_reasons_never_secrets(pb, sqlite_db, secrets_dir, tmp_path):
    cfg = write_config(tmp_path / "config.json", secrets_dir)
    token = "twilio-auth-token-SHOULD-NOT-LEAK"
    body = vapi_body({"id": "call_alice_1", "assistantId": "asst_alice"},
                     phoneNumber={"id": "phone_alice", "twilioAuthToken": token},
                     transcript="my card number is 4111 1111 1111 1111")
    forged = vapi_body({"id": "call_bob_1", "assistantId": "asst_alice"})
    with servers.HookguardServer(sqlite_db, config=cfg, env=SERVER_ENV) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            allowed = stub.AuthorizeWebhook(_webhook(pb, body), timeout=5)
            denied = stub.AuthorizeWebhook(_webhook(pb, forged), timeout=5)
            bad_sig = stub.AuthorizeWebhook(_webhook(pb, body, secret="attacker"), timeout=5)
        time.sleep(0.2)
        log = s.output()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    decisions = {l["decision_id"]: l for l in lines if l.get("kind") == "decision"}
    assert allowed.decision_id in decisions and denied.decision_id in decisions
    assert decisions[allowed.decision_id]["owner_id"] == "1"
    assert decisions[denied.decision_id]["reason"] == "DENY_REASON_ASSISTANT_MISMATCH"
    events = [l for l in lines if l.get("kind") == "security_event"]
    assert {denied.decision_id, bad_sig.decision_id} <= {e["decision_id"] for e in events}
    assert all(e["level"] == "warning" for e in events)
    for secret in (SECRET_NEW, token, "4111", hmac_hex(SECRET_NEW, body),
                   hmac_hex("attacker", body), "transcript"):
        assert secret not in log, f"{secret!r} leaked into the log"


def test_row16_rewritten_secret_file_is_used_without_restart(pb, sqlite_db, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("first-secret")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"profiles": [{"name": "vapi", "kind": "hmac", "secrets": [
        {"key_id": "k", "file": str(secret_file)}]}]}))
    body = vapi_body({"id": "call_alice_1"})
    with servers.HookguardServer(sqlite_db, config=cfg,
                                 args=["--reload_interval_seconds=1"]) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            assert stub.AuthorizeWebhook(_webhook(pb, body, "first-secret"), timeout=5).decision == 1
            secret_file.write_text("second-secret")
            deadline = time.monotonic() + 10
            while stub.AuthorizeWebhook(_webhook(pb, body, "second-secret"), timeout=5).decision != 1:
                assert time.monotonic() < deadline, "new secret not picked up"
                time.sleep(0.2)
            r = stub.AuthorizeWebhook(_webhook(pb, body, "first-secret"), timeout=5)
            assert r.reason == pb.m.DENY_REASON_SIGNATURE_INVALID
            # A broken config keeps the working one and says why.
            cfg.write_text('{"profiles": [{"name": "vapi", "kind": "hmac", "secretz": []}]}')
            time.sleep(2.5)
            assert stub.AuthorizeWebhook(_webhook(pb, body, "second-secret"), timeout=5).decision == 1
        assert "secretz" in s.output()
        assert s.proc.poll() is None


def _scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_reload_applies_resolve_and_refuses_a_new_lookup_query(pb, sqlite_db, tmp_path):
    """ownership.resolve is applied without a restart; a changed call_query
    cannot be (its statement is prepared per connection): the reload is
    refused loudly, naming the key, and nothing of that file is applied."""
    cfg = tmp_path / "config.json"
    base = {"profiles": [{"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "env",
                                                                       "env": "S"}]}]}
    cfg.write_text(json.dumps(base))
    chat = pb.m.AuthorizeCallEventRequest(event=pb.m.CallEvent(type="chat.created",
                                                               assistant_id="asst_alice"))
    call = pb.m.AuthorizeCallEventRequest(event=pb.m.CallEvent(call_id="call_alice_1",
                                                               assistant_id="asst_alice"))
    port = servers.free_port()
    with servers.HookguardServer(sqlite_db, config=cfg, env={"S": SECRET_NEW}, args=[
            "--reload_interval_seconds=1", f"--metrics_listen=127.0.0.1:{port}"]) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            # The default chain has no rule for chats: no call id, malformed.
            assert stub.AuthorizeCallEvent(chat, timeout=5).reason == \
                pb.m.DENY_REASON_MALFORMED_EVENT
            cfg.write_text(json.dumps({**base, "ownership": {"resolve": [
                {"types": ["chat.*"], "by": ["assistant"]}, {"types": ["*"], "by": ["call"]}]}}))
            deadline = time.monotonic() + 15
            while stub.AuthorizeCallEvent(chat, timeout=5).decision != pb.m.DECISION_ALLOW:
                assert time.monotonic() < deadline, "the new ownership.resolve was not applied"
                time.sleep(0.2)
            r = stub.AuthorizeCallEvent(chat, timeout=5)
            assert (r.owner_id, r.resolved_by) == ("1", pb.m.OWNER_SOURCE_ASSISTANT)
            assert 'hookguard_config_reloads_total{result="ok"} 1' in _scrape(port)

            # A call query that would make every call Bob's (owner 2) and drop
            # the chat rule: refused, so neither changes.
            cfg.write_text(json.dumps({**base, "ownership": {
                "call_query": "SELECT '2', 'asst_alice', '2', NULL, NULL WHERE :call_id <> ''"}}))
            deadline = time.monotonic() + 15
            while 'hookguard_config_reloads_total{result="error"} 1' not in _scrape(port):
                assert time.monotonic() < deadline, "the refused reload was not counted"
                time.sleep(0.2)
            assert "hookguard_config_last_reload_success 0" in _scrape(port)
            time.sleep(1.5)  # more reload ticks: still refused, reported once
            r = stub.AuthorizeCallEvent(call, timeout=5)
            assert (r.decision, r.owner_id) == (pb.m.DECISION_ALLOW, "1")
            assert stub.AuthorizeCallEvent(chat, timeout=5).decision == pb.m.DECISION_ALLOW
        lines = [json.loads(line) for line in s.output().splitlines() if line.startswith("{")]
        refused = [l for l in lines if l.get("kind") == "server" and l["level"] == "error"
                   and "ownership.call_query changed" in l["detail"]]
        assert len(refused) == 1, refused
        assert "restart" in refused[0]["detail"]
        assert [l["detail"] for l in lines if l.get("kind") == "server"
                and "reloaded" in l.get("detail", "")] == ["configuration and secrets reloaded"]
        assert s.proc.poll() is None


def _health(target, service=""):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as ch:
        try:
            return health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2).status
        except grpc.RpcError as e:
            return e.code()


def _until_allowed(stub, pb, body, failure: str) -> float:
    """Sends `body` until it is allowed (20 s at most); returns the seconds it took."""
    back = time.monotonic()
    while True:
        try:
            if stub.AuthorizeWebhook(_webhook(pb, body), timeout=5).decision == 1:
                return time.monotonic() - back
        except grpc.RpcError:
            pass
        assert time.monotonic() - back < 20, failure
        time.sleep(0.1)


def test_row11_database_down_fails_closed_and_recovers(pb):
    from grpc_health.v1 import health_pb2

    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        with servers.HookguardServer(pg.soci, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                     args=["--db_timeout_ms=500", "--health_interval_ms=200",
                                           "--pool_size=2"]) as s:
            wait_serving(s.target)
            body = vapi_body({"id": "call_alice_1"})
            with grpc.insecure_channel(s.target) as ch:
                stub = pb.grpc.WebhookAuthServiceStub(ch)
                assert stub.AuthorizeWebhook(_webhook(pb, body), timeout=5).decision == 1
                pg.stop("immediate")
                outcomes = set()
                for _ in range(20):
                    try:
                        r = stub.AuthorizeWebhook(_webhook(pb, body), timeout=5)
                        outcomes.add(("OK", r.decision))
                    except grpc.RpcError as e:
                        outcomes.add((e.code().name, None))
                assert ("OK", 1) not in outcomes, "ALLOW while the database was down"
                assert outcomes <= {("UNAVAILABLE", None), ("DEADLINE_EXCEEDED", None)}, outcomes
                deadline = time.monotonic() + 10
                while _health(s.target) != health_pb2.HealthCheckResponse.NOT_SERVING:
                    assert time.monotonic() < deadline, "health still SERVING with the DB down"
                    time.sleep(0.1)
                # Liveness does not depend on the database: no restart storm.
                assert _health(s.target, "hookguard.liveness") == \
                    health_pb2.HealthCheckResponse.SERVING
                pg.start()
                took = _until_allowed(stub, pb, body, "did not recover without a restart")
                print(f"recovered {took:.2f}s after PostgreSQL came back")
                wait_serving(s.target)


def _cluster_pids(pg) -> list[int]:
    """The postmaster of `pg` and every process it started (backends, workers)."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
    return [postmaster] + [int(p) for p in children.stdout.split()]


def test_row11_hung_database_answers_queued_requests_at_their_deadline(pb):
    """A database that stops answering (SIGSTOP: no error, no statement_timeout)
    holds at most one request per connection; every request queued behind them
    is answered at its lookup deadline, never ALLOW, and the server serves again
    once the database resumes."""
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        with servers.HookguardServer(pg.soci, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                     args=["--db_timeout_ms=300", "--pool_size=2"]) as s:
            wait_serving(s.target)
            body = vapi_body({"id": "call_alice_1"})
            with grpc.insecure_channel(s.target) as ch:
                stub = pb.grpc.WebhookAuthServiceStub(ch)
                assert stub.AuthorizeWebhook(_webhook(pb, body), timeout=5).decision == 1
                pids = _cluster_pids(pg)
                for pid in pids:
                    os.kill(pid, signal.SIGSTOP)
                try:
                    results = []
                    lock = threading.Lock()

                    def call():
                        start = time.monotonic()
                        try:
                            r = stub.AuthorizeWebhook(_webhook(pb, body), timeout=4)
                            outcome = ("OK", r.decision)
                        except grpc.RpcError as e:
                            outcome = (e.code().name, None)
                        with lock:
                            results.append((outcome, time.monotonic() - start))

                    threads = [threading.Thread(target=call) for _ in range(24)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                finally:
                    for pid in pids:
                        os.kill(pid, signal.SIGCONT)
                outcomes = {o for o, _ in results}
                assert ("OK", 1) not in outcomes, "ALLOW while the database hung"
                assert outcomes <= {("UNAVAILABLE", None), ("DEADLINE_EXCEEDED", None)}, outcomes
                # At most one request per connection waits on the hung database
                # (until the client's own deadline); the rest are answered at
                # the 300 ms lookup deadline.
                prompt = [took for _, took in results if took < 2.0]
                assert len(prompt) >= len(results) - 2, sorted(t for _, t in results)
                assert max(prompt) < 1.5, sorted(prompt)
                _until_allowed(stub, pb, body, "did not serve again after the hang")


def test_old_connections_are_closed_so_clients_reach_new_replicas(pb, sqlite_db):
    """--max_connection_age_seconds: the server closes a client's connection
    gracefully once it is that old; the client reconnects by itself (a new
    source port in the audit lines) and no call fails. Without the flag, one
    connection carries everything."""
    body = vapi_body({"id": "call_alice_1"})

    def ports_over(seconds: float, args: list[str]) -> tuple[set[str], int]:
        with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                     args=args) as s:
            wait_serving(s.target)
            allowed = 0
            with grpc.insecure_channel(s.target) as ch:
                stub = pb.grpc.WebhookAuthServiceStub(ch)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    allowed += stub.AuthorizeWebhook(_webhook(pb, body), timeout=5).decision == 1
                    time.sleep(0.01)
            callers = set()
            for line in s.output().splitlines():
                if line.startswith("{") and '"rpc":"AuthorizeWebhook"' in line:
                    callers.add(json.loads(line)["caller"])
            return callers, allowed

    callers, allowed = ports_over(3.5, ["--max_connection_age_seconds=1"])
    assert allowed > 50
    assert len(callers) >= 2, callers
    callers, _ = ports_over(1.5, [])
    assert len(callers) == 1, callers


def test_sigterm_under_load_loses_no_accepted_call(pb, sqlite_db):
    body = vapi_body({"id": "call_alice_1"})
    results, stop = [], threading.Event()
    with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                 args=["--drain_seconds=10"]) as s:
        wait_serving(s.target)

        def load():
            with grpc.insecure_channel(s.target) as ch:
                stub = pb.grpc.WebhookAuthServiceStub(ch)
                while not stop.is_set():
                    try:
                        r = stub.AuthorizeWebhook(_webhook(pb, body), timeout=5)
                        results.append(("OK", r.decision))
                    except grpc.RpcError as e:
                        results.append((e.code().name, None))
                        if e.code() == grpc.StatusCode.UNAVAILABLE:
                            return

        threads = [threading.Thread(target=load) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        started = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        rc = s.proc.wait(timeout=15)
        took = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join()
        log = s.output()
    assert rc == 0
    assert took < 12
    ok = [r for r in results if r[0] == "OK"]
    assert len(ok) > 50, "the load did not run"
    assert all(d == 1 for _, d in ok)
    # Every call the service accepted (it wrote a decision line for it) got
    # its answer back: none was dropped by the shutdown.
    decided = sum(1 for line in log.splitlines()
                  if '"kind":"decision"' in line and '"rpc":"AuthorizeWebhook"' in line)
    assert decided == len(ok), f"{decided} decisions made, {len(ok)} answers received"
    # Calls that arrived during the shutdown were refused before any work
    # (UNAVAILABLE, or CANCELLED for a stream gRPC had read but not started):
    # both mean "not processed", and clients answer 503 so the platform retries.
    assert {code for code, _ in results} <= {"OK", "UNAVAILABLE", "CANCELLED"}, set(results)


def test_metrics_move_after_calls(pb, sqlite_db):
    port = servers.free_port()
    with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                 args=[f"--metrics_listen=127.0.0.1:{port}"]) as s:
        wait_serving(s.target)

        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()

        def value(text, prefix):
            for line in text.splitlines():
                if line.startswith(prefix):
                    return float(line.rsplit(" ", 1)[1])
            return 0.0

        allow = 'hookguard_requests_total{rpc="AuthorizeWebhook",decision="DECISION_ALLOW"'
        before = value(scrape(), allow)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            for _ in range(3):
                stub.AuthorizeWebhook(_webhook(pb, vapi_body({"id": "call_alice_1"})), timeout=5)
        text = scrape()
        assert value(text, allow) == before + 3
        assert 'key_id="env",result="SIGNATURE_RESULT_VALID"' in text
        assert value(text, "hookguard_db_query_duration_seconds_count") >= 3
        assert value(text, "hookguard_db_up") == 1
        assert "hookguard_build_info" in text


def test_ownership_cache_answers_without_the_database_but_keeps_every_rule(pb, sqlite_db):
    port = servers.free_port()
    with servers.HookguardServer(sqlite_db, env={"VAPI_WEBHOOK_SECRET": SECRET_NEW},
                                 args=["--ownership_cache_ttl_ms=60000",
                                       f"--metrics_listen=127.0.0.1:{port}"]) as s:
        wait_serving(s.target)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            legit = vapi_body({"id": "call_alice_1", "assistantId": "asst_alice"})
            cross = vapi_body({"id": "call_alice_1", "assistantId": "asst_bob"})
            answers = [stub.AuthorizeWebhook(_webhook(pb, legit), timeout=5) for _ in range(3)]
            attack = stub.AuthorizeWebhook(_webhook(pb, cross), timeout=5)
            wrong_tenant = stub.AuthorizeWebhook(pb.m.AuthorizeWebhookRequest(
                expected_owner_id="2", request=_webhook(pb, legit).request), timeout=5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
    assert [(a.decision, a.owner_id) for a in answers] == [(1, "1")] * 3
    assert (attack.reason, attack.http_status) == (pb.m.DENY_REASON_ASSISTANT_MISMATCH, 403)
    assert wrong_tenant.reason == pb.m.DENY_REASON_OWNER_MISMATCH
    queries = [l for l in metrics.splitlines()
               if l.startswith("hookguard_db_query_duration_seconds_count")]
    assert queries == ["hookguard_db_query_duration_seconds_count 1"], queries
