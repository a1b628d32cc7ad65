"""Where the CPU goes: hookguard, PostgreSQL and h2load, per request.

  .venv/bin/python tests/load/cpu_split.py [--rounds 3] [hookguard-server flags...]

Runs AuthorizeWebhook (2 KB, 4x16 streams, 5 s after 1 s of warm-up) against
PostgreSQL and reads the CPU time (utime + stime from /proc) of the server, of
every process of the postgres user, and of h2load over the measured window,
divided by the requests answered. The same figures as the CPU columns of
scripts/bench.sh, for one configuration.
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
    args, server_flags = ap.parse_known_args()
    pb, _ = loadlib.proto_modules()
    body = loadlib.vapi_body("call_alice_1", 2048)
    frame = Path(tempfile.mkdtemp(prefix="hookguard-cpu-")) / "aw.bin"
    frame.write_bytes(loadlib.grpc_frame(pb.AuthorizeWebhookRequest(
        request=pb.HttpRequest(body=body, headers={"x-vapi-signature": loadlib.sign(body)}),
        expected_owner_id="1")))
    rows = []
    pg = loadlib.start_postgres_with_fixtures()
    try:
        for _ in range(args.rounds):
            with loadlib.hookguard(pg.soci, args=server_flags) as server:
                loadlib.wait_serving(server.target)
                pid = server.proc.pid
                r = loadlib.h2load("cpu", server.port, "AuthorizeWebhook", frame, clients=4,
                                   streams=16, seconds=5,
                                   cpu={"hookguard": lambda: [pid],
                                        "postgres": loadlib.postgres_pids})
                cpu = r.extra["cpu_us"]
                rows.append((r.rps, cpu))
                print(f"{r.rps:.0f} req/s; CPU per request: hookguard {cpu['hookguard']:.1f} us, "
                      f"postgres {cpu['postgres']:.1f} us, h2load {cpu['h2load']:.1f} us", flush=True)
    finally:
        pg.__exit__(None, None, None)
    if len(rows) > 1:
        med = {k: statistics.median(c[k] for _, c in rows) for k in rows[0][1]}
        print(f"median of {len(rows)}: {statistics.median(r for r, _ in rows):.0f} req/s; "
              + ", ".join(f"{k} {v:.1f} us" for k, v in med.items()))


if __name__ == "__main__":
    main()
