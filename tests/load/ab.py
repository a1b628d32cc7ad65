"""A/B: two hookguard-server binaries, alternated, same load (h2load).

  .venv/bin/python tests/load/ab.py OLD_BINARY NEW_BINARY [--rounds 3] [--server_arg=--flag=v]

Measures VerifySignature and AuthorizeWebhook (PostgreSQL) with a 2 KB body at
saturating concurrency, alternating the binaries round by round so that drift
in the machine's load hits both alike, and prints each round and the medians:
throughput, and the server's CPU time per request (steadier on a shared
machine).
Used to measure each hot-path change (docs/dev/benchmark-history.md).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import loadlib


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--body", type=int, default=2048)
    ap.add_argument("--server_arg", dest="server_args", action="append", default=[],
                    help="an extra hookguard-server flag for both binaries (repeatable)")
    args = ap.parse_args()
    pb, _ = loadlib.proto_modules()
    body = loadlib.vapi_body("call_alice_1", args.body)
    http = pb.HttpRequest(body=body, headers={"x-vapi-signature": loadlib.sign(body)})
    out = Path(tempfile.mkdtemp(prefix="hookguard-ab-"))
    frames = {"VerifySignature": out / "vs.bin", "AuthorizeWebhook": out / "aw.bin"}
    frames["VerifySignature"].write_bytes(loadlib.grpc_frame(pb.VerifySignatureRequest(request=http)))
    frames["AuthorizeWebhook"].write_bytes(
        loadlib.grpc_frame(pb.AuthorizeWebhookRequest(request=http, expected_owner_id="1")))
    results: dict[tuple[str, str], list[float]] = {}
    cpu_results: dict[tuple[str, str], list[float]] = {}
    pg = loadlib.start_postgres_with_fixtures()
    try:
        for i in range(args.rounds):
            for label, binary in (("old", args.old), ("new", args.new)):
                server = loadlib.hookguard(pg.soci)
                server.binary = binary
                server.cmd[0] = str(binary)
                server.cmd += args.server_args
                with server:
                    loadlib.wait_serving(server.target)
                    pid = server.proc.pid
                    for kind, frame in frames.items():
                        r = loadlib.h2load(kind, server.port, kind, frame, clients=4, streams=16,
                                           seconds=args.seconds, cpu={"server": lambda: [pid]})
                        cpu = r.extra["cpu_us"]["server"]
                        results.setdefault((kind, label), []).append(r.rps)
                        cpu_results.setdefault((kind, label), []).append(cpu)
                        print(f"round {i + 1} {label} {kind:17s} {r.rps:8.0f} req/s "
                              f"p99 {r.p99_us:6.0f} us  server CPU {cpu:5.1f} us/req", flush=True)
    finally:
        pg.__exit__(None, None, None)
    for kind in frames:
        old = statistics.median(results[(kind, "old")])
        new = statistics.median(results[(kind, "new")])
        old_cpu = statistics.median(cpu_results[(kind, "old")])
        new_cpu = statistics.median(cpu_results[(kind, "new")])
        print(f"{kind:17s} old {old:8.0f}  new {new:8.0f} req/s  ({100 * (new / old - 1):+.0f}%); "
              f"server CPU old {old_cpu:5.1f}  new {new_cpu:5.1f} us/req "
              f"({100 * (new_cpu / old_cpu - 1):+.0f}%)")


if __name__ == "__main__":
    main()
