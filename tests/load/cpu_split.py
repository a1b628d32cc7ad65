"""Where the CPU goes: hookguard, PostgreSQL and h2load, per request.

  .venv/bin/python tests/load/cpu_split.py [--rounds 3] [--clients 8 --streams 16]
      [hookguard-server flags...]

Runs AuthorizeWebhook (2 KB, 8 connections x 16 streams, 5 s after 1 s of
warm-up) against PostgreSQL (the benchmark's database: the fixtures and 100k
calls) and reads the CPU time (utime + stime from /proc) of the server, of
the PostgreSQL cluster's processes, and of h2load over the measured window,
divided by the requests answered; and the sizes of the batches of lookups
the server sent (hookguard_db_batch_size). The same figures as the CPU
columns of scripts/bench.sh, for one configuration.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import loadlib


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5)
    args, server_flags = ap.parse_known_args()
    pb, _ = loadlib.proto_modules()
    body = loadlib.vapi_body("call_alice_1", 2048)
    frame = Path(tempfile.mkdtemp(prefix="hookguard-cpu-")) / "aw.bin"
    frame.write_bytes(loadlib.grpc_frame(pb.AuthorizeWebhookRequest(
        request=pb.HttpRequest(body=body, headers={"x-vapi-signature": loadlib.sign(body)}),
        expected_owner_id="1")))
    rows = []
    pg = loadlib.start_postgres_with_fixtures(loadlib.BULK_SQL)
    try:
        for _ in range(args.rounds):
            with loadlib.hookguard(pg.soci, args=server_flags) as server:
                loadlib.wait_serving(server.target)
                pid = server.proc.pid
                before = loadlib.metrics(server.metrics_port)
                r = loadlib.h2load("cpu", server.port, "AuthorizeWebhook", frame,
                                   clients=args.clients, streams=args.streams,
                                   seconds=args.seconds,
                                   cpu={"hookguard": lambda: [pid],
                                        "postgres": loadlib.postgres_pids(pg)})
                batches = loadlib.batch_summary(before, loadlib.metrics(server.metrics_port))
                cpu = r.extra["cpu_us"]
                rows.append((r.rps, cpu))
                print(f"{r.rps:.0f} req/s p50 {r.p50_us:.0f} us p99 {r.p99_us:.0f} us; CPU per "
                      f"request: hookguard {cpu['hookguard']:.1f} us, postgres "
                      f"{cpu['postgres']:.1f} us, h2load {cpu['h2load']:.1f} us; "
                      f"{batches['mean']:.1f} lookups per query", flush=True)
    finally:
        pg.__exit__(None, None, None)
    if len(rows) > 1:
        med = {k: statistics.median(c[k] for _, c in rows) for k in rows[0][1]}
        print(f"median of {len(rows)}: {statistics.median(r for r, _ in rows):.0f} req/s; "
              + ", ".join(f"{k} {v:.1f} us" for k, v in med.items()))


if __name__ == "__main__":
    main()
