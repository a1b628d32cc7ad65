"""Soak: mixed traffic for a bounded time, with flat memory.

Client threads send a weighted mix of AuthorizeWebhook requests, each with the
answer the wire API documents:
  allowed (2 KB and 300 KB)   ALLOW
  cross-user assistant        DENY ASSISTANT_MISMATCH
  wrong tenant                DENY OWNER_MISMATCH
  unknown call                DENY CALL_NOT_FOUND
  not JSON / no call id       DENY MALFORMED_EVENT
  forged signature            DENY SIGNATURE_INVALID
  oversized body (> limit)    gRPC RESOURCE_EXHAUSTED
Every answer is checked; anything else counts as an error. The server's RSS
(/proc) is sampled every --sample_seconds and printed. Fails when an answer
was wrong, or when RSS after the warm-up grows by more than --max_growth_mib.
"""
from __future__ import annotations

import argparse
import collections
import random
import threading
import time

import grpc
import loadlib

MAX_BODY = 1 << 20


def cases(pb):
    def webhook(body: bytes, owner: str = "", signed: bool = True):
        sig = loadlib.sign(body) if signed else loadlib.sign(body, "attacker-secret")
        return pb.AuthorizeWebhookRequest(
            request=pb.HttpRequest(body=body, headers={"x-vapi-signature": sig}),
            expected_owner_id=owner)

    body = loadlib.vapi_body
    return [  # (name, weight, request, expected)
        ("allowed 2KB", 40, webhook(body("call_alice_1", 2048), "1"), "ALLOW"),
        ("allowed 300KB", 4, webhook(body("call_alice_1", 300 * 1024), "1"), "ALLOW"),
        ("allowed web call", 10, webhook(body("call_alice_web", 1024, phone=None)), "ALLOW"),
        ("cross-user assistant", 10, webhook(body("call_bob_1", 2048, phone="phone_bob")),
         "DENY_REASON_ASSISTANT_MISMATCH"),
        ("wrong tenant", 8, webhook(body("call_alice_1", 2048), "2"), "DENY_REASON_OWNER_MISMATCH"),
        ("unknown call", 8, webhook(body("call_nobody", 2048)), "DENY_REASON_CALL_NOT_FOUND"),
        ("not JSON", 6, webhook(b"\x00not json{{{" * 50), "DENY_REASON_MALFORMED_EVENT"),
        ("no call id", 4, webhook(b'{"message":{"type":"status-update","call":{}}}'),
         "DENY_REASON_MALFORMED_EVENT"),
        ("forged signature", 8, webhook(body("call_alice_1", 2048), "1", signed=False),
         "DENY_REASON_SIGNATURE_INVALID"),
        ("oversized", 2, webhook(b"x" * (MAX_BODY + 1)), "RESOURCE_EXHAUSTED"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--sample_seconds", type=float, default=5)
    ap.add_argument("--warmup_fraction", type=float, default=0.25)
    ap.add_argument("--max_growth_mib", type=float, default=16)
    ap.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = ap.parse_args()

    pb, pb_grpc = loadlib.proto_modules()
    mix = cases(pb)
    weights = [w for _, w, _, _ in mix]
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        options = [("grpc.max_send_message_length", 8 << 20)]
        with grpc.insecure_channel(server.target, options=options) as ch:
            stub = pb_grpc.WebhookAuthServiceStub(ch)
            while not stop.is_set():
                name, _, request, expected = rnd.choices(mix, weights)[0]
                try:
                    r = stub.AuthorizeWebhook(request, timeout=5)
                    answer = ("ALLOW" if r.decision == pb.DECISION_ALLOW
                              else pb.DenyReason.Name(r.reason))
                except grpc.RpcError as e:
                    answer = e.code().name
                with lock:
                    counts[name][answer] += 1
                    if answer != expected and len(errors) < 20:
                        errors.append(f"{name}: {answer}, expected {expected}")

    pg = None
    if args.sqlite:
        import tempfile
        from pathlib import Path
        db = loadlib.servers.sqlite_db(Path(tempfile.mkdtemp()) / "app.db",
                                       *loadlib.servers.django_fixtures(inconsistent=False))
    else:
        pg = loadlib.start_postgres_with_fixtures()
        db = pg.soci
    # 1 s rather than the default 250 ms for one lookup: on 2 shared cores a
    # compile next door can stall a lookup past 250 ms, and the soak is about
    # wrong answers and memory, not about that (faults.py covers deadlines).
    server = loadlib.hookguard(db, args=[f"--max_body_bytes={MAX_BODY}", "--db_timeout_ms=1000"])
    samples: list[tuple[float, int]] = []
    try:
        with server:
            loadlib.wait_serving(server.target)
            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.threads)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            while (elapsed := time.monotonic() - t0) < args.seconds:
                time.sleep(min(args.sample_seconds, max(0.0, args.seconds - elapsed)))
                rss, _ = loadlib.rss_kb(server.proc.pid)
                with lock:
                    done = sum(sum(c.values()) for c in counts.values())
                samples.append((time.monotonic() - t0, rss))
                print(f"  t={samples[-1][0]:5.1f}s  RSS {rss / 1024:7.1f} MiB  answers {done}",
                      flush=True)
            stop.set()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
            log_lines = len(server.output().splitlines())
    finally:
        stop.set()
        if pg is not None:
            pg.__exit__(None, None, None)

    total = sum(sum(c.values()) for c in counts.values())
    print(f"soak: {total} answers in {elapsed:.0f}s ({total / elapsed:.0f}/s), "
          f"{log_lines} audit/server log lines")
    for name, _, _, expected in mix:
        c = counts[name]
        print(f"  {name:22s} {sum(c.values()):7d}  " + ", ".join(f"{k} {v}" for k, v in c.items())
              + ("" if set(c) <= {expected} else f"   <-- expected {expected}"))
    after_warmup = [rss for t, rss in samples if t >= args.warmup_fraction * args.seconds]
    failures = []
    if errors:
        failures.append(f"{len(errors)}+ wrong answers, e.g. {errors[:3]}")
    if len(after_warmup) >= 2:
        growth = (max(after_warmup) - after_warmup[0]) / 1024
        print(f"soak: RSS after warm-up {after_warmup[0] / 1024:.1f} MiB, max "
              f"{max(after_warmup) / 1024:.1f} MiB, last {after_warmup[-1] / 1024:.1f} MiB "
              f"(growth {growth:.1f} MiB, limit {args.max_growth_mib:g})")
        if growth > args.max_growth_mib:
            failures.append(f"RSS grew {growth:.1f} MiB after warm-up")
    if failures:
        raise SystemExit("soak: FAILED: " + "; ".join(failures))
    print("soak: ok")


if __name__ == "__main__":
    main()
