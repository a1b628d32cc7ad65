"""Fault run: kill PostgreSQL under load (threat-table row 11).

Client threads send valid, allowed AuthorizeWebhook requests the whole time.
After a steady phase, PostgreSQL is stopped with `pg_ctl -m immediate` (every
backend gets SIGQUIT: a crash, no checkpoint) and stays down for
--outage_seconds, then starts again. Counts every answer by phase and checks:
  * no ALLOW for any request sent while the database was down (fail closed),
  * every answer in the outage is UNAVAILABLE or DEADLINE_EXCEEDED,
  * hookguard recovers by itself: the time from PostgreSQL accepting
    connections again to the first ALLOW (and to health SERVING) is printed
    and must be below --max_recovery_seconds.
Exit status 1 when a check fails. Bounded: about steady + outage + 10 s.
"""
from __future__ import annotations

import argparse
import collections
import threading
import time

import grpc
import loadlib


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--steady_seconds", type=float, default=3)
    ap.add_argument("--outage_seconds", type=float, default=5)
    ap.add_argument("--after_seconds", type=float, default=4)
    ap.add_argument("--max_recovery_seconds", type=float, default=5)
    ap.add_argument("--cache_ttl_ms", type=int, default=0,
                    help="run with the ownership cache (shows the stale window)")
    args = ap.parse_args()

    pb, pb_grpc = loadlib.proto_modules()
    body = loadlib.vapi_body("call_alice_1", 2048)
    request = pb.AuthorizeWebhookRequest(
        request=pb.HttpRequest(body=body, headers={"x-vapi-signature": loadlib.sign(body)}),
        expected_owner_id="1")

    pg = loadlib.start_postgres_with_fixtures()
    server = loadlib.hookguard(pg.soci, args=["--db_timeout_ms=250", "--health_interval_ms=100",
                                              f"--ownership_cache_ttl_ms={args.cache_ttl_ms}"])
    # (start, end, answer) for every request; answer: ALLOW, DENY:<reason> or a gRPC code name.
    log: list[tuple[float, float, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        with grpc.insecure_channel(server.target) as ch:
            stub = pb_grpc.WebhookAuthServiceStub(ch)
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    r = stub.AuthorizeWebhook(request, timeout=2)
                    answer = ("ALLOW" if r.decision == pb.DECISION_ALLOW
                              else "DENY:" + pb.DenyReason.Name(r.reason))
                except grpc.RpcError as e:
                    answer = e.code().name
                with lock:
                    log.append((t0, time.monotonic(), answer))

    try:
        with server:
            loadlib.wait_serving(server.target)
            threads = [threading.Thread(target=client) for _ in range(args.threads)]
            for t in threads:
                t.start()
            time.sleep(args.steady_seconds)
            t_kill0 = time.monotonic()
            pg.stop("immediate")
            t_down = time.monotonic()
            print(f"faults: PostgreSQL stopped (-m immediate) in {t_down - t_kill0:.2f}s", flush=True)
            time.sleep(args.outage_seconds)
            t_start0 = time.monotonic()
            pg.start()
            t_up = time.monotonic()
            print(f"faults: PostgreSQL accepting connections again after {t_up - t_start0:.2f}s",
                  flush=True)
            # Health: when does hookguard say SERVING again?
            t_serving = None
            try:
                loadlib.wait_serving(server.target, timeout=args.max_recovery_seconds + 5)
                t_serving = time.monotonic()
            except TimeoutError:
                pass
            time.sleep(args.after_seconds)
            stop.set()
            for t in threads:
                t.join()
            rss, hwm = loadlib.rss_kb(server.proc.pid)
    finally:
        stop.set()
        pg.__exit__(None, None, None)

    phases = {"before": collections.Counter(), "outage": collections.Counter(),
              "restarting": collections.Counter(), "after": collections.Counter()}
    allow_in_outage = 0
    for start, end, answer in log:
        if end < t_kill0:
            phase = "before"
        elif start >= t_down and end <= t_start0:
            phase = "outage"
            allow_in_outage += answer == "ALLOW"
        elif start < t_up:
            phase = "restarting"
        else:
            phase = "after"
        phases[phase][answer] += 1
    # The first ALLOW of a request sent after PostgreSQL was up.
    allows_after = sorted(end for start, end, a in log if a == "ALLOW" and start >= t_up)
    recovery = (allows_after[0] - t_up) if allows_after else None

    for phase, counts in phases.items():
        print(f"  {phase:10s} {sum(counts.values()):6d} answers: "
              + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print(f"faults: ALLOW answered to requests sent during the outage: {allow_in_outage}")
    stale = [end - t_kill0 for start, end, a in log if a == "ALLOW" and t_kill0 <= start < t_start0]
    if stale:
        print(f"faults: last ALLOW to a request sent after the kill began: "
              f"+{max(stale) * 1000:.0f} ms (stop took {(t_down - t_kill0) * 1000:.0f} ms)")
    print(f"faults: recovery (PostgreSQL up -> first ALLOW): "
          f"{'never' if recovery is None else f'{recovery * 1000:.0f} ms'}; "
          f"health SERVING after {'never' if t_serving is None else f'{(t_serving - t_up) * 1000:.0f} ms'}")
    print(f"faults: server RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)")

    failures = []
    if args.cache_ttl_ms == 0 and allow_in_outage:
        failures.append(f"{allow_in_outage} ALLOW during the outage")
    unexpected = {k: v for k, v in phases["outage"].items()
                  if k not in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "ALLOW")}
    if unexpected:
        failures.append(f"unexpected answers during the outage: {unexpected}")
    if not phases["outage"]:
        failures.append("no request was answered during the outage")
    if recovery is None or recovery > args.max_recovery_seconds:
        failures.append(f"no recovery within {args.max_recovery_seconds}s")
    bad_after = {k: v for k, v in phases["after"].items() if k != "ALLOW"}
    if recovery is not None and bad_after:
        print(f"faults: note: answers after restart that were not ALLOW: {bad_after}")
    if failures:
        raise SystemExit("faults: FAILED: " + "; ".join(failures))
    print("faults: ok")


if __name__ == "__main__":
    main()
