"""--db_read on a real PostgreSQL streaming replica (pg_basebackup -R) whose
lag is real and controlled (recovery_min_apply_delay): a call stored on the
primary a moment before its webhook is allowed, every answer matches the
primary's truth under load, the primary sees only the replica's misses, and
faults of either database behave as docs/explanation/ownership.md says (threat row 33)."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import re
import sys
import threading
import time
import urllib.request
from pathlib import Path

import grpc
import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from replica import PostgresStandby  # noqa: E402
from conftest import wait_serving  # noqa: E402

APPLY_DELAY_MS = 1000  # the replica replays every commit this long after it
OWNERS = ("1", "2")    # the fixtures' users: alice 1 and bob 2 (assistants 1 and 2)
ids = itertools.count(1000)


@pytest.fixture(scope="module")
def cluster():
    with servers.PostgresServer() as primary:
        primary.load(*servers.django_fixtures(inconsistent=False))
        with PostgresStandby(primary, apply_delay_ms=APPLY_DELAY_MS) as standby:
            standby.wait_replayed("SELECT count(*) FROM api_interviewcall", "3")
            yield primary, standby


def start_hookguard(primary, standby, *args, config=None, env=None):
    metrics_port = servers.free_port()
    server = servers.HookguardServer(
        primary.soci, config=config, env={"VAPI_WEBHOOK_SECRET": "unused-here", **(env or {})},
        args=[f"--db_read={standby.soci}", f"--metrics_listen=127.0.0.1:{metrics_port}",
              "--health_interval_ms=100", "--db_timeout_ms=1000", *args])
    server.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    return server


@pytest.fixture(scope="module")
def hookguard(cluster):
    with start_hookguard(*cluster) as server:
        wait_serving(server.target)
        yield server


@pytest.fixture(scope="module")
def stub(hookguard, pb):
    channel = grpc.insecure_channel(hookguard.target)
    yield pb.grpc.WebhookAuthServiceStub(channel)
    channel.close()


def metric(server, name: str, labels: str = "") -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=5).read().decode()
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def wait_metric(server, name, value, labels="", timeout=20.0):
    deadline = time.monotonic() + timeout
    while metric(server, name, labels) != value:
        assert time.monotonic() < deadline, f"{name}{{{labels}}} never became {value}"
        time.sleep(0.05)


def lookups(server):
    return {t: metric(server, "hookguard_db_lookups_total", f'target="{t}"')
            for t in ("replica", "primary")}


def wait_all_replayed(primary, standby):
    with psycopg.connect(host="127.0.0.1", port=primary.port, dbname=primary.dbname,
                         user=primary.user) as conn:
        stored = conn.execute("SELECT count(*) FROM api_interviewcall").fetchone()[0]
    standby.wait_replayed("SELECT count(*) FROM api_interviewcall", str(stored))


class App:
    """The app's side: stores calls on the primary, as Django would."""

    def __init__(self, primary):
        self.conn = psycopg.connect(host="127.0.0.1", port=primary.port, dbname=primary.dbname,
                                    user=primary.user, autocommit=True)
        self.lock = threading.Lock()

    def store_call(self) -> tuple[str, str]:
        n = next(ids)
        owner = random.choice(OWNERS)
        call_id = f"call_new_{n}"
        with self.lock:
            self.conn.execute(
                "INSERT INTO api_interviewcall (id, vapi_call_id, user_id, assistant_id, "
                "phone_number_id) VALUES (%s, %s, %s, %s, NULL)", (n, call_id, int(owner), int(owner)))
        return call_id, owner

    def close(self):
        self.conn.close()


def ask(stub, pb, call_id, timeout=5.0):
    request = pb.m.AuthorizeCallEventRequest(
        event=pb.m.CallEvent(type="status-update", call_id=call_id))
    return stub.AuthorizeCallEvent(request, timeout=timeout)


def test_a_call_stored_a_moment_ago_is_allowed(cluster, hookguard, stub, pb):
    primary, standby = cluster
    wait_metric(hookguard, "hookguard_db_replica_in_use", 1)
    app = App(primary)
    try:
        call_id, owner = app.store_call()
        before = metric(hookguard, "hookguard_db_absence_confirmations_total",
                        'result="found_on_primary"')
        answer = ask(stub, pb, call_id)
        # The lag is real: the replica did not have the row when it was asked.
        assert standby.psql(f"SELECT count(*) FROM api_interviewcall "
                            f"WHERE vapi_call_id = '{call_id}'") == "0"
        assert (answer.decision, answer.owner_id, answer.http_status) == (
            pb.m.DECISION_ALLOW, owner, 200), answer
        assert metric(hookguard, "hookguard_db_absence_confirmations_total",
                      'result="found_on_primary"') == before + 1
    finally:
        app.close()


STRIPE_SECRET = "whsec_replica_test_secret"
STRIPE_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / \
    "connect_payment_intent_succeeded.json"


def stripe_webhook(pb, account: str):
    """A Stripe Connect delivery naming `account`, signed as Stripe signs it."""
    event = json.loads(STRIPE_FIXTURE.read_text())
    event["account"] = account
    body = json.dumps(event, separators=(",", ":")).encode()
    ts = str(int(time.time()))
    mac = hmac.new(STRIPE_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return pb.m.AuthorizeWebhookRequest(profile="stripe", request=pb.m.HttpRequest(
        body=body, headers={"Stripe-Signature": f"t={ts},v1={mac}"}))


def test_a_subject_stored_a_moment_ago_is_allowed(cluster, pb, tmp_path):
    """Subjects (issue #24) take the replica's path: an account the app
    connected a moment ago (on the primary only) is allowed, and an unknown
    one is SUBJECT_NOT_FOUND only once the primary confirmed it."""
    primary, standby = cluster
    primary.psql("CREATE TABLE IF NOT EXISTS payments_connectedaccount (id INTEGER PRIMARY KEY, "
                 "stripe_account_id VARCHAR(64) NOT NULL UNIQUE, user_id INTEGER NOT NULL)")
    # The replica prepares the subject query at start: it needs the table.
    standby.wait_replayed("SELECT count(*) FROM pg_class "
                          "WHERE relname = 'payments_connectedaccount'", "1")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"profiles": [
        {"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "v", "env": "VAPI_WEBHOOK_SECRET"}]},
        {"name": "stripe", "preset": "stripe", "secrets": [{"key_id": "s", "env": "HG_STRIPE"}],
         "ownership": {"subjects": [{
             "name": "account", "from": "/account",
             "query": "SELECT CAST(user_id AS TEXT) FROM payments_connectedaccount"
                      " WHERE stripe_account_id = :id"}]}}],
        "default_profile": "vapi"}))
    with start_hookguard(primary, standby, config=config, env={"HG_STRIPE": STRIPE_SECRET}) as hg:
        wait_serving(hg.target)
        wait_metric(hg, "hookguard_db_replica_in_use", 1)
        channel = grpc.insecure_channel(hg.target)
        stub = pb.grpc.WebhookAuthServiceStub(channel)
        try:
            n = next(ids)
            account = f"acct_replica_{n}"
            found_before = metric(hg, "hookguard_db_absence_confirmations_total",
                                  'result="found_on_primary"')
            with psycopg.connect(host="127.0.0.1", port=primary.port, dbname=primary.dbname,
                                 user=primary.user, autocommit=True) as conn:
                conn.execute("INSERT INTO payments_connectedaccount (id, stripe_account_id, "
                             "user_id) VALUES (%s, %s, 2)", (n, account))
            answer = stub.AuthorizeWebhook(stripe_webhook(pb, account), timeout=5)
            # The lag is real: the replica did not have the row when it was asked.
            assert standby.psql("SELECT count(*) FROM payments_connectedaccount "
                                f"WHERE stripe_account_id = '{account}'") == "0"
            assert (answer.decision, answer.owner_id, answer.resolved_subject,
                    answer.http_status) == (pb.m.DECISION_ALLOW, "2", "account", 200), answer
            assert metric(hg, "hookguard_db_absence_confirmations_total",
                          'result="found_on_primary"') == found_before + 1

            confirmed_before = metric(hg, "hookguard_db_absence_confirmations_total",
                                      'result="confirmed"')
            answer = stub.AuthorizeWebhook(stripe_webhook(pb, "acct_nobody"), timeout=5)
            assert (answer.decision, answer.reason, answer.http_status) == (
                pb.m.DECISION_DENY, pb.m.DENY_REASON_SUBJECT_NOT_FOUND, 404), answer
            assert metric(hg, "hookguard_db_absence_confirmations_total",
                          'result="confirmed"') == confirmed_before + 1
        finally:
            channel.close()


def run_load(stub, pb, app, seconds, known, *, insert=True, threads=4):
    """Inserts calls on the primary just before their webhooks, and asks for
    stored and unknown calls, comparing each answer with the primary's truth.
    Returns counts of right answers, wrong ones, and failures by code."""
    stop = time.monotonic() + seconds
    counts = {"right": 0, "wrong": 0, "failed": {}}
    lock = threading.Lock()

    def worker():
        rng = random.Random()
        while time.monotonic() < stop:
            roll = rng.random()
            if insert and roll < 0.3:
                call_id, owner = app.store_call()
                with lock:
                    known[call_id] = owner
            elif roll < 0.85 and known:
                with lock:
                    call_id, owner = rng.choice(list(known.items()))
            else:
                call_id, owner = f"call_unknown_{rng.randrange(10**9)}", None
            try:
                answer = ask(stub, pb, call_id)
            except grpc.RpcError as e:
                with lock:
                    key = (e.code().name, owner is None)
                    counts["failed"][key] = counts["failed"].get(key, 0) + 1
                continue
            if owner is None:
                right = (answer.decision, answer.reason) == (pb.m.DECISION_DENY,
                                                             pb.m.DENY_REASON_CALL_NOT_FOUND)
            else:
                right = (answer.decision, answer.owner_id) == (pb.m.DECISION_ALLOW, owner)
            with lock:
                counts["right" if right else "wrong"] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return counts


@pytest.fixture(scope="module")
def known():
    return {"call_alice_1": "1", "call_bob_1": "2", "call_alice_web": "1"}


def test_under_load_every_answer_matches_the_primary(cluster, hookguard, stub, pb, known):
    primary, _ = cluster
    app = App(primary)
    try:
        counts = run_load(stub, pb, app, 4, known)
    finally:
        app.close()
    print("load with inserts:", counts)
    assert counts["wrong"] == 0 and counts["failed"] == {}, counts
    assert counts["right"] > 100, counts


def test_the_primary_reads_only_the_replicas_misses(cluster, hookguard, stub, pb, known):
    primary, standby = cluster
    # Every stored call replayed: the replica now has every row.
    wait_all_replayed(primary, standby)
    wait_metric(hookguard, "hookguard_db_replica_in_use", 1)
    before = lookups(hookguard)
    stored = list(known)
    misses = 0
    for i in range(400):
        if i % 5 == 0:
            misses += 1
            answer = ask(stub, pb, f"call_absent_{i}")
            assert answer.reason == pb.m.DENY_REASON_CALL_NOT_FOUND
        else:
            call_id = stored[i % len(stored)]
            assert ask(stub, pb, call_id).owner_id == known[call_id]
    after = lookups(hookguard)
    print(f"400 lookups, {misses} misses: replica {after['replica'] - before['replica']:.0f}, "
          f"primary {after['primary'] - before['primary']:.0f}")
    assert after["replica"] - before["replica"] == 400
    assert after["primary"] - before["primary"] == misses


def test_the_replica_dying_and_returning_mid_load(cluster, hookguard, stub, pb, known):
    primary, standby = cluster
    app = App(primary)
    result = {}
    try:
        loader = threading.Thread(
            target=lambda: result.update(run_load(stub, pb, app, 6, known)))
        loader.start()
        time.sleep(1.5)
        standby.stop("immediate")
        time.sleep(2)
        assert metric(hookguard, "hookguard_db_replica_in_use") == 0
        standby.start()
        loader.join()
    finally:
        app.close()
    print("replica killed and restarted:", result)
    # The primary answered everything while the replica was gone.
    assert result["wrong"] == 0 and result["failed"] == {}, result
    wait_metric(hookguard, "hookguard_db_replica_in_use", 1)
    wait_serving(hookguard.target)


def test_a_replica_lagging_beyond_the_bound_is_not_read(cluster, pb):
    primary, standby = cluster
    app = App(primary)
    with start_hookguard(primary, standby, "--db_read_max_lag_ms=200") as tight:
        wait_serving(tight.target)
        channel = grpc.insecure_channel(tight.target)
        stub = pb.grpc.WebhookAuthServiceStub(channel)
        try:
            # Writes keep the replica a second behind (its apply delay).
            for _ in range(30):
                app.store_call()
                time.sleep(0.05)
            wait_metric(tight, "hookguard_db_replica_in_use", 0)
            assert metric(tight, "hookguard_db_replica_lag_seconds") > 0.2
            before = lookups(tight)
            for _ in range(20):
                call_id, owner = app.store_call()
                assert ask(stub, pb, call_id).owner_id == owner
            after = lookups(tight)
            assert after["replica"] == before["replica"]
            assert after["primary"] - before["primary"] == 20
        finally:
            channel.close()
            app.close()


def test_libpq_multi_host_form_reaches_the_standby(cluster, pb, known):
    """--db_read in libpq's multi-host form (the primary and the standby,
    target_session_attrs=prefer-standby): libpq picks the standby, so the
    replica is in use and stored calls are read there, not on the primary."""
    primary, standby = cluster
    wait_all_replayed(primary, standby)
    multi = (f"postgresql://host=127.0.0.1,127.0.0.1 port={primary.port},{standby.port} "
             f"dbname={primary.dbname} user={primary.user} target_session_attrs=prefer-standby "
             f"connect_timeout=2")
    metrics_port = servers.free_port()
    with servers.HookguardServer(
            primary.soci, env={"VAPI_WEBHOOK_SECRET": "unused-here"},
            args=[f"--db_read={multi}", f"--metrics_listen=127.0.0.1:{metrics_port}",
                  "--health_interval_ms=100", "--db_timeout_ms=1000"]) as server:
        server.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        wait_serving(server.target)
        wait_metric(server, "hookguard_db_replica_in_use", 1)
        channel = grpc.insecure_channel(server.target)
        try:
            stub = pb.grpc.WebhookAuthServiceStub(channel)
            for call_id, owner in list(known.items())[:20]:
                assert ask(stub, pb, call_id).owner_id == owner
        finally:
            channel.close()
        assert lookups(server) == {"replica": min(20, len(known)), "primary": 0}


def test_the_primary_down_fails_closed_on_absences_only(cluster, hookguard, stub, pb, known):
    primary, standby = cluster
    wait_all_replayed(primary, standby)
    wait_metric(hookguard, "hookguard_db_replica_in_use", 1)
    primary.stop("immediate")
    try:
        # Stored calls: the replica has them; unknown ones cannot be
        # confirmed absent: UNAVAILABLE, never a 404 the primary did not give.
        counts = run_load(stub, pb, None, 3, known, insert=False)
        print("primary down:", counts)
        assert counts["wrong"] == 0, counts
        assert counts["right"] > 50, counts
        assert set(counts["failed"]) <= {("UNAVAILABLE", True), ("DEADLINE_EXCEEDED", True)}, counts
        assert counts["failed"], "unknown ids must fail closed while the primary is down"
        answer = ask(stub, pb, "call_bob_1")
        assert (answer.decision, answer.owner_id) == (pb.m.DECISION_ALLOW, "2")
    finally:
        primary.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            if ask(stub, pb, "call_absent_after").reason == pb.m.DENY_REASON_CALL_NOT_FOUND:
                break
        except grpc.RpcError:
            pass
        assert time.monotonic() < deadline, "no recovery after the primary came back"
        time.sleep(0.2)


def test_a_promoted_replica_is_no_longer_read(cluster, hookguard, stub, pb, known):
    primary, standby = cluster
    wait_metric(hookguard, "hookguard_db_replica_in_use", 1)
    standby.promote()
    # It no longer follows the primary: how stale its rows are cannot be told.
    wait_metric(hookguard, "hookguard_db_replica_in_use", 0)
    app = App(primary)
    try:
        call_id, owner = app.store_call()
        assert ask(stub, pb, call_id).owner_id == owner
    finally:
        app.close()
    assert "not a standby" in hookguard.output()
