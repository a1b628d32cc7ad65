"""The database side of the lookup path (issue 26): threat rows 22 (the app's
SQLite write lock, waited for within the call's deadline), 27 (a poisoned
batch), 30 (a database that hangs after a query was sent) and the runtime
fallback of a configured query when the database was down at start."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time

import grpc
import servers
from conftest import SECRET_NEW, hmac_hex, vapi_body, wait_serving

ENV = {"VAPI_WEBHOOK_SECRET": SECRET_NEW}


def _webhook(pb, body):
    return pb.m.AuthorizeWebhookRequest(request=pb.m.HttpRequest(
        body=body, headers={"x-vapi-signature": hmac_hex(SECRET_NEW, body)}))


def _event(pb, call_id):
    return pb.m.AuthorizeCallEventRequest(event=pb.m.CallEvent(type="status-update",
                                                               call_id=call_id))


def _config(path, call_query):
    path.write_text(json.dumps({"ownership": {"call_query": call_query}}))
    return path


def _cluster_pids(pg) -> list[int]:
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
    return [postmaster] + [int(p) for p in children.stdout.split()]


# Row 22: the app holds a real write lock in another sqlite3 connection for
# 400 ms; with the default --db_timeout_ms (250) a call with a 3 s deadline
# waits for it and is answered right. (BEGIN EXCLUSIVE: in rollback-journal
# mode a BEGIN IMMEDIATE transaction's RESERVED lock does not block readers;
# its commit's EXCLUSIVE lock does, as this one.)
def test_row22_a_lookup_waits_for_the_apps_write_lock_within_the_calls_deadline(pb, tmp_path):
    path = tmp_path / "app.db"
    db = servers.sqlite_db(path, *servers.django_fixtures(inconsistent=False))
    with servers.HookguardServer(db, env=ENV) as s:
        wait_serving(s.target)
        locked = threading.Event()

        def app_writes():
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("UPDATE api_assistant SET user_id = user_id")
            locked.set()
            time.sleep(0.4)
            conn.execute("COMMIT")
            conn.close()

        writer = threading.Thread(target=app_writes)
        writer.start()
        assert locked.wait(5)
        with grpc.insecure_channel(s.target) as ch:
            stub = pb.grpc.WebhookAuthServiceStub(ch)
            started = time.monotonic()
            r = stub.AuthorizeWebhook(_webhook(pb, vapi_body({"id": "call_alice_1"})), timeout=3)
            waited = time.monotonic() - started
        writer.join()
    assert (r.decision, r.owner_id, r.http_status) == (1, "1", 200)
    assert waited >= 0.3, f"answered in {waited:.3f}s: the lock was not in the way"


# Row 27: call_query on a uuid column; concurrent callers, 1 in 4 sending an
# id that is not a UUID. Every other caller gets its own owner; each poison
# id is CALL_NOT_FOUND (404), never an error.
def test_row27_a_poisoned_batch_fails_no_other_tenant(pb):
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        pg.psql("CREATE TABLE uuid_calls (id uuid PRIMARY KEY, user_id int);"
                "INSERT INTO uuid_calls SELECT md5(g::text)::uuid, g FROM generate_series(1, 40) g;")
        ids = [line.split("|") for line in pg.psql(
            "SELECT id, user_id FROM uuid_calls").split("\n") if "|" in line]
        ids = [(i.strip(), o.strip()) for i, o in ids if i.strip() != "id"]
        assert len(ids) == 40, ids
        cfg = _config(pg.dir / "c.json",
                      "SELECT CAST(user_id AS TEXT), NULL, CAST(user_id AS TEXT), NULL, NULL"
                      " FROM uuid_calls WHERE id = :call_id")
        with servers.HookguardServer(pg.soci, config=cfg, env=ENV,
                                     args=["--pool_size=2", "--db_timeout_ms=2000"]) as s:
            wait_serving(s.target)
            results, lock = [], threading.Lock()

            def caller(n):
                with grpc.insecure_channel(s.target) as ch:
                    stub = pb.grpc.WebhookAuthServiceStub(ch)
                    for i in range(40):
                        poison = (n + i) % 4 == 0
                        call_id, owner = (f"not-a-uuid-{n}-{i}", None) if poison \
                            else ids[(n * 7 + i) % len(ids)]
                        try:
                            r = stub.AuthorizeCallEvent(_event(pb, call_id), timeout=5)
                            got = (r.decision, r.owner_id, r.http_status)
                        except grpc.RpcError as e:
                            got = (e.code().name,)
                        with lock:
                            results.append((poison, owner, got))

            threads = [threading.Thread(target=caller, args=(n,)) for n in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    good = [(o, g) for p, o, g in results if not p]
    poison = [g for p, _, g in results if p]
    wrong = [(o, g) for o, g in good if g != (1, o, 200)]
    assert not wrong, f"{len(wrong)} of {len(good)} other tenants' lookups failed: {wrong[:5]}"
    assert set(poison) == {(2, "", 404)}, set(poison)


# Row 30: every PostgreSQL process stopped in the middle of a steady load
# (32 callers on 2 connections, so batches of several lookups are in flight
# on each connection when it stops): each request is answered by its lookup
# deadline (DEADLINE_EXCEEDED or UNAVAILABLE, never ALLOW once stopped), and
# draining ends.
def test_row30_a_hung_database_answers_every_request_by_its_deadline(pb):
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        with servers.HookguardServer(pg.soci, env=ENV,
                                     args=["--db_timeout_ms=400", "--pool_size=2",
                                           "--drain_seconds=30"]) as s:
            wait_serving(s.target)
            body = vapi_body({"id": "call_alice_1"})
            results, lock = [], threading.Lock()
            stop_load, stopped_at, pids = threading.Event(), [], []

            def caller():
                with grpc.insecure_channel(s.target) as ch:
                    stub = pb.grpc.WebhookAuthServiceStub(ch)
                    while not stop_load.is_set():
                        start = time.monotonic()
                        try:
                            r = stub.AuthorizeWebhook(_webhook(pb, body), timeout=20)
                            outcome = ("OK", r.decision)
                        except grpc.RpcError as e:
                            outcome = (e.code().name, None)
                        with lock:
                            results.append((outcome, start, time.monotonic() - start))

            threads = [threading.Thread(target=caller) for _ in range(32)]
            for t in threads:
                t.start()
            try:
                time.sleep(1.0)
                pids += _cluster_pids(pg)  # both connections' backends are up by now
                for pid in pids:
                    os.kill(pid, signal.SIGSTOP)
                stopped_at.append(time.monotonic())
                time.sleep(2.0)
                stop_load.set()
                for t in threads:
                    t.join(30)
                assert not any(t.is_alive() for t in threads), "a request was never answered"
                drain_start = time.monotonic()
                code = s.terminate(timeout=15)
                drained = time.monotonic() - drain_start
            finally:
                for pid in pids:
                    os.kill(pid, signal.SIGCONT)
    before = [r for r in results if r[1] < stopped_at[0]]
    after = [r for r in results if r[1] >= stopped_at[0]]
    assert sum(o == ("OK", 1) for o, _, _ in before) > 100, "no steady load before the stop"
    assert after, "no request while the database hung"
    outcomes = {o for o, _, _ in after}
    assert ("OK", 1) not in outcomes, "ALLOW while the database hung"
    assert outcomes <= {("UNAVAILABLE", None), ("DEADLINE_EXCEEDED", None)}, outcomes
    # The lookup deadline is 400 ms: nobody waits for the client's 20 s,
    # including the requests whose batch was in flight when it stopped.
    took = sorted(t for _, _, t in results)
    print(f"{len(before)} before, {len(after)} after the stop; slowest {took[-1]:.2f}s; "
          f"drained in {drained:.2f}s")
    assert took[-1] < 1.5, took[-10:]
    assert code == 0 and drained < 10, (code, drained)


# Item 9: a configured query with a commented apostrophe, the database down
# when the server starts and up a moment later: the server ends SERVING with
# the right answers (the batched form is tried first, at runtime).
def test_database_down_at_start_then_up_ends_serving_with_right_answers(pb):
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        cfg = _config(pg.dir / "c.json",
                      "SELECT CAST(c.user_id AS TEXT), a.vapi_assistant_id,"
                      " CAST(a.user_id AS TEXT), NULL, NULL FROM api_interviewcall c"
                      " LEFT JOIN api_assistant a ON a.id = c.assistant_id"
                      " WHERE c.vapi_call_id = :call_id -- the provider's id")
        pg.stop("fast")
        with servers.HookguardServer(pg.soci, config=cfg, env=ENV,
                                     args=["--health_interval_ms=200", "--pool_size=1"]) as s:
            time.sleep(0.5)
            pg.start()
            wait_serving(s.target, timeout=20)
            results, lock = [], threading.Lock()

            def caller(call_id, owner):
                with grpc.insecure_channel(s.target) as ch:
                    stub = pb.grpc.WebhookAuthServiceStub(ch)
                    for _ in range(20):
                        r = stub.AuthorizeCallEvent(_event(pb, call_id), timeout=5)
                        with lock:
                            results.append((call_id, r.owner_id == owner and
                                            (r.decision == 1) == bool(owner)))

            threads = [threading.Thread(target=caller, args=a) for a in
                       [("call_alice_1", "1"), ("call_bob_1", "2"), ("call_nobody", "")] * 3]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert results and all(ok for _, ok in results), [r for r in results if not r[1]][:5]
