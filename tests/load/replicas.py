#!/usr/bin/env python3
"""Many replicas, one dies: does the web tier keep getting correct answers?

Three hookguard-server replicas listen on 127.0.0.2, 127.0.0.3 and 127.0.0.4
(one port), all on one throw-away PostgreSQL seeded with the Django fixtures
(tests/support/servers.py). The web tier is the Python client
(hookguard_client.HookguardClient) and the Go client (client/go, driven by
tests/load/replicas_go), both with their DEFAULT channel settings (round_robin
over every address, UNAVAILABLE retried within the deadline) and one target
naming the three replicas: ipv4:127.0.0.2:P,127.0.0.3:P,127.0.0.4:P.

Both send a steady stream of four webhooks with known answers:
  allowed       alice's call, expected owner alice        ALLOW 200
  cross-user    bob's call, expected owner alice           DENY 403 OWNER_MISMATCH
  forged        alice's call, signed with another secret   DENY 401 SIGNATURE_INVALID
  unknown call  a call id no row has                       DENY 404 CALL_NOT_FOUND
Timeline: steady; SIGKILL the replica on 127.0.0.3; it stays dead, is
restarted (same address and port) and must get traffic again; steady; then
PostgreSQL is restarted (pg_ctl stop -m fast, start) and the run ends once
every replica is SERVING again and a last steady phase has passed.

Every request is counted, by client and phase: correct, fail-closed (no
decision: 503 with a gRPC error), wrong ALLOW, other wrong answer; and how
many needed a retry (Go: attempts per request, from a gRPC stats handler;
Python: attempts on the replicas minus calls, from the channel's channelz).
Fails unless: no wrong ALLOW and no other wrong answer at all; no failed
request while at least one replica could answer (every phase but the
PostgreSQL restart, where fail-closed UNAVAILABLE is allowed and counted
separately); every phase saw requests; the killed replica served requests
before the kill and after its restart. Bounded: about 30 s plus start-up.
"""
from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import hmac
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
from grpc_channelz.v1 import channelz, channelz_pb2, channelz_pb2_grpc
from hookguard_client import HookguardClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
import servers  # noqa: E402

SECRET = "replicas-test-secret"
HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
VICTIM = 1  # the replica on 127.0.0.3


def body(call_id: str, assistant: str = "asst_alice", phone: str = "phone_alice") -> bytes:
    return json.dumps({"message": {"type": "end-of-call-report", "call": {
        "id": call_id, "assistantId": assistant, "phoneNumberId": phone}}}).encode()


def sign(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


# (name, body, signing secret, expected owner, expected (decision, reason, http status))
CASES = [
    ("allowed", body("call_alice_1"), SECRET, "1",
     ("DECISION_ALLOW", "DENY_REASON_UNSPECIFIED", 200)),
    ("cross-user", body("call_bob_1", "asst_bob", "phone_bob"), SECRET, "1",
     ("DECISION_DENY", "DENY_REASON_OWNER_MISMATCH", 403)),
    ("forged", body("call_alice_1"), "not-the-secret", "1",
     ("DECISION_DENY", "DENY_REASON_SIGNATURE_INVALID", 401)),
    ("unknown call", body("call_nobody"), SECRET, "1",
     ("DECISION_DENY", "DENY_REASON_CALL_NOT_FOUND", 404)),
]


class Replica(servers.HookguardServer):
    """hookguard-server on HOST:PORT instead of 127.0.0.1 (free port), restartable."""

    def __init__(self, host: str, port: int, db: str):
        super().__init__(db, env={"VAPI_WEBHOOK_SECRET": SECRET},
                         args=["--pool_size=4", "--db_timeout_ms=250", "--health_interval_ms=100",
                               "--drain_seconds=1"])
        self.port = port
        self.target = f"{host}:{port}"
        self.cmd[1] = f"--listen={self.target}"
        self._log_file = open(self.log, "ab")

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT)
        servers.wait_serving(self.target, timeout=20)

    def decisions(self) -> int:
        """AuthorizeWebhook answers this replica's processes logged so far."""
        return self.output().count('"kind":"decision"')


def shared_free_port() -> int:
    """A port free on all three addresses."""
    for _ in range(50):
        port = servers.free_port()
        try:
            for host in HOSTS:
                with socket.socket() as s:
                    s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on every replica address")


class Answer(collections.namedtuple("Answer", "client case t0 t1 allowed decision reason http "
                                              "error owner attempts")):
    """One request as the web tier saw it (times: time.time())."""

    def verdict(self) -> str:
        decision, reason, http = CASES[self.case][4]
        if self.allowed and (decision != "DECISION_ALLOW" or self.owner != CASES[self.case][3]):
            return "wrong ALLOW"
        if self.error:
            return "fail-closed" if not self.allowed and self.http == 503 else "wrong other"
        return "correct" if (self.decision, self.reason, self.http) == (decision, reason, http) \
            else "wrong other"


def python_web_tier(target: str, workers: int, pause: float, stop: threading.Event,
                    answers: list, lock: threading.Lock) -> tuple[list, HookguardClient]:
    client = HookguardClient(target)  # default channel settings and deadline

    def worker(w: int) -> None:
        i = w
        while not stop.is_set():
            name, data, secret, owner, _ = CASES[i % len(CASES)]
            t0 = time.time()
            v = client.authorize_webhook(data, {"x-vapi-signature": sign(secret, data)},
                                         expected_owner_id=owner)
            a = Answer("python", i % len(CASES), t0, time.time(), v.allowed, v.decision, v.reason,
                       v.http_status, v.error, v.owner_id, None)
            with lock:
                answers.append(a)
            i += 1
            time.sleep(pause)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    return threads, client


def go_web_tier(target: str, workers: int, pause: float) -> subprocess.Popen:
    tmp = Path(tempfile.mkdtemp(prefix="hookguard-replicas-"))
    subprocess.run(["go", "build", "-o", str(tmp / "replicas_go"), "."], cwd=HERE / "replicas_go",
                   check=True)
    proc = subprocess.Popen([str(tmp / "replicas_go"), f"-target={target}", f"-workers={workers}",
                             f"-pause={int(pause * 1000)}ms"],
                            stdin=subprocess.PIPE, stdout=open(tmp / "answers.jsonl", "w"), text=True)
    proc.answers = tmp / "answers.jsonl"
    cases = [{"body": base64.b64encode(data).decode(),
              "headers": {"x-vapi-signature": sign(secret, data)}, "expected_owner": owner}
             for _, data, secret, owner, _ in CASES]
    proc.stdin.write(json.dumps(cases) + "\n")
    proc.stdin.flush()
    return proc


def go_answers(proc: subprocess.Popen) -> list:
    proc.stdin.close()  # stop
    if proc.wait(timeout=30) != 0:
        raise RuntimeError(f"replicas_go exited {proc.returncode}")
    lines = proc.answers.read_text().splitlines()
    shutil.rmtree(proc.answers.parent, ignore_errors=True)
    answers = []
    for line in lines:
        r = json.loads(line)
        answers.append(Answer("go", r["case"], r["t0"] / 1e9, r["t1"] / 1e9, r["allowed"],
                              r["decision"], r["reason"], r["http"], r["code"] or None,
                              r["owner"], r["attempts"]))
    return answers


class Channelz:
    """Reads the Python client's channel counters through a channelz service
    in this process: calls (one per request) and attempts on the replicas
    (subchannel calls); attempts - calls = retries."""

    def __init__(self, target: str):
        self.target = target
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        channelz.add_channelz_servicer(self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = channelz_pb2_grpc.ChannelzStub(self.channel)

    def snapshot(self) -> tuple[int, int]:
        tops = self.stub.GetTopChannels(channelz_pb2.GetTopChannelsRequest(start_channel_id=0))
        for c in tops.channel:
            if c.data.target == self.target:
                return c.data.calls_started, sum(
                    self.stub.GetSubchannel(channelz_pb2.GetSubchannelRequest(
                        subchannel_id=ref.subchannel_id)).subchannel.data.calls_started
                    for ref in c.subchannel_ref)
        raise RuntimeError(f"channelz shows no channel to {self.target}")

    def close(self) -> None:
        self.channel.close()
        self.server.stop(None)


PHASES = ["steady", "one replica killed", "replica restarted", "PostgreSQL restart",
          "after PostgreSQL"]
OUTAGE = "PostgreSQL restart"  # the only phase where no replica can answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steady_seconds", type=float, default=4)
    ap.add_argument("--down_seconds", type=float, default=3, help="the killed replica stays dead")
    ap.add_argument("--pg_down_seconds", type=float, default=2)
    ap.add_argument("--workers", type=int, default=4, help="senders per client")
    ap.add_argument("--pause_ms", type=float, default=5, help="pause after each request")
    args = ap.parse_args()
    pause = args.pause_ms / 1000
    port = shared_free_port()
    target = "ipv4:" + ",".join(f"{h}:{port}" for h in HOSTS)
    starts: dict[str, float] = {}  # phase (and "end") -> time.time() it began
    py_counters: dict[str, tuple[int, int]] = {}  # phase -> Python channel (calls, attempts)
    t_start = time.time()

    def note(what: str) -> None:
        print(f"replicas: +{time.time() - t_start:5.1f} s  {what}", flush=True)

    answers: list = []
    lock = threading.Lock()
    stop = threading.Event()
    with servers.PostgresServer() as pg:
        pg.load(*servers.django_fixtures(inconsistent=False))
        replicas = [Replica(h, port, pg.soci) for h in HOSTS]
        victim = replicas[VICTIM]
        go = channelz_reader = None
        threads: list = []
        try:
            for r in replicas:
                r.start()
            note(f"3 replicas SERVING; web tier target {target}")
            go = go_web_tier(target, args.workers, pause)
            threads, py_client = python_web_tier(target, args.workers, pause, stop, answers, lock)
            channelz_reader = Channelz(target)

            def phase(name: str) -> None:
                starts[name] = time.time()
                if name != PHASES[0]:
                    py_counters[name] = channelz_reader.snapshot()
                note(f"phase: {name}")

            t_start = time.time()
            phase("steady")
            time.sleep(args.steady_seconds)
            served_before_kill = victim.decisions()
            phase("one replica killed")
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait()
            note(f"{victim.target} SIGKILLed")
            time.sleep(args.down_seconds)
            note(f"restarting {victim.target}")
            victim.start()
            phase("replica restarted")
            served_at_restart = victim.decisions()
            deadline = time.time() + 15  # the clients' reconnect backoff (1 s, x1.6)
            while victim.decisions() == served_at_restart and time.time() < deadline:
                time.sleep(0.1)
            back_after = time.time() - starts["replica restarted"]
            served_after_restart = victim.decisions() - served_at_restart
            note(f"{victim.target} answers the web tier again")
            time.sleep(args.steady_seconds)
            phase(OUTAGE)
            pg.stop("fast")
            note("PostgreSQL stopped (-m fast)")
            time.sleep(args.pg_down_seconds)
            pg.start()
            note("PostgreSQL accepting connections")
            for r in replicas:
                servers.wait_serving(r.target, timeout=20)
            phase("after PostgreSQL")
            time.sleep(args.steady_seconds)
            phase("end")
            stop.set()
            for t in threads:
                t.join()
            answers += go_answers(go)
            go = None
            py_client.close()
        finally:
            stop.set()
            for t in threads:
                t.join()
            if go is not None:
                go.kill()
            if channelz_reader is not None:
                channelz_reader.close()
            for r in replicas:
                r.__exit__()

    def phase_of(a: Answer) -> str:
        name = max((p for p in PHASES if starts[p] <= a.t0), key=lambda p: starts[p],
                   default=PHASES[0])  # sent while the phase's clock was being started
        # Sent just before PostgreSQL stopped but answered during the outage: outage.
        if starts[OUTAGE] <= a.t1 < starts["after PostgreSQL"]:
            name = OUTAGE
        return name

    table = collections.defaultdict(collections.Counter)
    for a in answers:
        if a.t0 >= starts["end"]:
            continue
        row = table[(a.client, phase_of(a))]
        row[a.verdict()] += 1
        row["requests"] += 1
        if a.attempts is not None:
            row["retried"] += a.attempts > 1
            row["extra attempts"] += a.attempts - 1
    # Python: the channel's counters between phase starts (channelz).
    bounds = PHASES[1:] + ["end"]
    for name, nxt in zip(PHASES, bounds):
        calls0, attempts0 = py_counters.get(name, (0, 0))
        calls1, attempts1 = py_counters[nxt]
        table[("python", name)]["extra attempts"] = (attempts1 - attempts0) - (calls1 - calls0)

    cols = ["requests", "correct", "fail-closed", "wrong ALLOW", "wrong other", "retried",
            "extra attempts"]
    width = {c: max(12, len(c) + 2) for c in cols}
    print(f"\n{'client':7s} {'phase':19s}" + "".join(f"{c:>{width[c]}s}" for c in cols))
    total = collections.Counter()
    for client in ("python", "go"):
        for name in PHASES:
            row = table[(client, name)]
            total.update(row)
            print(f"{client:7s} {name:19s}" + "".join(
                f"{'-':>{width[c]}s}" if client == "python" and c == "retried"
                else f"{row[c]:{width[c]}d}" for c in cols))
    print(f"{'all':27s}" + "".join(f"{total[c]:{width[c]}d}" for c in cols[:5]))
    print("retried: Go requests that took more than one attempt (a gRPC stats handler counts "
          "them). extra attempts: attempts beyond the first; for Python, the channel's channelz "
          "counters read at each phase start, so +-1 per sender in flight at a boundary")
    print(f"killed replica {victim.target}: {served_before_kill} answers before the SIGKILL; "
          f"answering again {back_after:.1f} s after its restart")

    failures = []
    if total["wrong ALLOW"]:
        failures.append(f"{total['wrong ALLOW']} wrong ALLOW")
    if total["wrong other"]:
        failures.append(f"{total['wrong other']} wrong answers")
    for client in ("python", "go"):
        for name in PHASES:
            row = table[(client, name)]
            if not row["requests"]:
                failures.append(f"{client}: no request in phase '{name}'")
            if name != OUTAGE and row["fail-closed"]:
                failures.append(f"{client}: {row['fail-closed']} failed requests in '{name}', "
                                "while at least one replica was healthy")
    if not served_before_kill or not served_after_restart:
        failures.append("the killed replica answered nothing before the kill or after its restart "
                        "(the web tier did not spread over all three)")
    if failures:
        raise SystemExit("replicas: FAILED: " + "; ".join(failures))
    print("replicas: ok")


if __name__ == "__main__":
    main()
