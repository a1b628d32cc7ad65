"""The measurements behind docs/capacity.md.

  .venv/bin/python tests/load/capacity.py [--seconds 5] [--json out.json]

On this machine, with AuthorizeWebhook (2 KB body, signed, the benchmark's
database: the fixtures plus 100k calls), under h2load at saturation (8
connections x 16 streams) it measures, per answered request, the CPU time
(utime + stime from /proc) of hookguard, of the primary PostgreSQL cluster,
of the replica cluster (a real streaming replica made with pg_basebackup -R)
and of h2load, for:

  uncached      every request reads PostgreSQL, lookups coalesced (defaults)
  alone         --db_batch_size=1: one query per lookup
  cached        --ownership_cache_ttl_ms=60000: every request a cache hit
  replica       --db_read on the replica: lookups read the replica
  2 servers     two hookguard processes on the primary, loaded at once
  2 servers + replica

and checks the model of docs/capacity.md against each measured throughput:
on a machine whose cores are all busy, requests/s = cores / (CPU per request
of every process on it). Then it prints the model's table for 1k, 10k and
100k webhooks a second. Bounded: every load runs --seconds (default 5).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

import loadlib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from replica import PostgresStandby  # noqa: E402


def frame_file(pb) -> Path:
    body = loadlib.vapi_body("call_alice_1", 2048)
    frame = Path(tempfile.mkdtemp(prefix="hookguard-capacity-")) / "aw.bin"
    frame.write_bytes(loadlib.grpc_frame(pb.AuthorizeWebhookRequest(
        request=pb.HttpRequest(body=body, headers={"x-vapi-signature": loadlib.sign(body)}),
        expected_owner_id="1")))
    return frame


def run(name, servers_, frame, seconds, cpu_groups, clients=8, streams=16):
    """h2load against each server at once (clients split between them);
    returns the summed throughput and CPU per request of each group."""
    results = [None] * len(servers_)

    def one(i, server):
        groups = cpu_groups if i == 0 else None  # one sampler: the same window
        results[i] = loadlib.h2load(name, server.port, "AuthorizeWebhook", frame,
                                    clients=max(1, clients // len(servers_)), streams=streams,
                                    seconds=seconds, cpu=groups)

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(servers_)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(r.requests for r in results)
    cpu = {}
    if results[0].extra.get("cpu_us"):
        # The sampler divided by the first server's requests: rescale to all
        # (h2load's own time is that of every h2load this process ran).
        share = results[0].requests / total
        cpu = {k: v * share for k, v in results[0].extra["cpu_us"].items()}
    return {"name": name, "rps": total / seconds, "p50_us": results[0].p50_us,
            "p99_us": results[0].p99_us, "failed": sum(r.failed for r in results),
            "cpu_us": cpu}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each configuration this many times; the median is kept")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    pb, _ = loadlib.proto_modules()
    frame = frame_file(pb)
    rows = []
    pg = loadlib.start_postgres_with_fixtures(loadlib.BULK_SQL)
    try:
        with PostgresStandby(pg) as standby:
            standby.wait_replayed("SELECT count(*) FROM api_interviewcall", "100003")
            configs = [
                ("uncached", 1, []),
                ("alone", 1, ["--db_batch_size=1", "--pool_size=8"]),
                ("cached", 1, ["--ownership_cache_ttl_ms=60000"]),
                ("replica", 1, [f"--db_read={standby.soci}"]),
                ("2 servers", 2, []),
                ("2 servers + replica", 2, [f"--db_read={standby.soci}"]),
            ]
            for name, count, flags in [c for c in configs for _ in range(args.rounds)]:
                started = [loadlib.hookguard(pg.soci, args=flags).__enter__() for _ in range(count)]
                try:
                    for s in started:
                        loadlib.wait_serving(s.target)
                    if any("--db_read" in f for f in flags):
                        # The replica is used once its lag has been measured.
                        for s in started:
                            wait_replica_in_use(s.metrics_port)
                    pids = [s.proc.pid for s in started]
                    groups = {"hookguard": lambda pids=pids: pids,
                              "primary": loadlib.postgres_pids(pg),
                              "replica": standby_pids(standby)}
                    row = run(name, started, frame, args.seconds, groups)
                finally:
                    for s in started:
                        s.__exit__(None, None, None)
                total = sum(row["cpu_us"].values())
                row["model_rps"] = cores * 1e6 / total if total else float("nan")
                rows.append(row)
                cpu = row["cpu_us"]
                print(f"{name:22} {row['rps']:8.0f} req/s (model {row['model_rps']:6.0f}, "
                      f"{row['rps'] / row['model_rps'] - 1:+.0%})  p50 {row['p50_us']:5.0f} us "
                      f"p99 {row['p99_us']:6.0f} us  CPU/request: hookguard "
                      f"{cpu.get('hookguard', 0):5.1f} us, primary {cpu.get('primary', 0):5.1f} "
                      f"us, replica {cpu.get('replica', 0):5.1f} us, h2load "
                      f"{cpu.get('h2load', 0):5.1f} us; failed {row['failed']}", flush=True)
            medians = median_rows(rows)
            saturation = medians["uncached"]["rps"]
            latency = [paced_latency(pg, frame, args.seconds, saturation, share)
                       for share in (0.25, 0.5)]
    finally:
        pg.__exit__(None, None, None)
    print()
    for name, row in medians.items():
        print(f"median of {args.rounds}: {name:22} {row['rps']:8.0f} req/s (model "
              f"{row['model_rps']:6.0f}, {row['rps'] / row['model_rps'] - 1:+.0%}); CPU/request "
              + ", ".join(f"{k} {v:.1f} us" for k, v in row["cpu_us"].items()))
    for point in latency:
        print(f"uncached at a fixed {point['rps']:.0f} req/s ({point['share']:.0%} of saturation): "
              f"p50 {point['p50_us']:.0f} us, p99 {point['p99_us']:.0f} us, p99.9 "
              f"{point['p999_us']:.0f} us")
    table = model_table(medians, latency[-1])
    if args.json:
        args.json.write_text(json.dumps({"cores": cores, "rows": rows, "light_load": latency,
                                         "table": table}, indent=2))


def wait_replica_in_use(metrics_port, timeout=30.0):
    import time
    deadline = time.monotonic() + timeout
    while loadlib.counter(loadlib.metrics(metrics_port), "hookguard_db_replica_in_use") != 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the read replica was never put in use")
        time.sleep(0.1)


def standby_pids(standby):
    # loadlib.postgres_pids reads only the cluster's data directory.
    return loadlib.postgres_pids(standby)


def median_rows(rows):
    """Per configuration name, the median of each figure over its rounds."""
    by_name = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    out = {}
    for name, runs in by_name.items():
        keys = runs[0]["cpu_us"].keys()
        out[name] = {"name": name, "rounds": len(runs),
                     "rps": statistics.median(r["rps"] for r in runs),
                     "model_rps": statistics.median(r["model_rps"] for r in runs),
                     "p99_us": statistics.median(r["p99_us"] for r in runs),
                     "cpu_us": {k: statistics.median(r["cpu_us"][k] for r in runs) for k in keys}}
    return out


def paced_latency(pg, frame, seconds, saturation, share):
    """Latency of the uncached configuration at `share` of its saturating
    throughput: 16 connections with one call at a time each, each paced by
    h2load --rps (as web tiers' workers call: one request per worker)."""
    clients = 16
    with loadlib.hookguard(pg.soci) as server:
        loadlib.wait_serving(server.target)
        r = loadlib.h2load("paced", server.port, "AuthorizeWebhook", frame, clients=clients,
                           streams=1, seconds=seconds,
                           rps_per_client=max(1, int(saturation * share / clients)))
    return {"rps": r.rps, "share": r.rps / saturation, "p50_us": r.p50_us, "p99_us": r.p99_us,
            "p999_us": r.p999_us}


# Planning assumptions of the table (docs/capacity.md says why).
POD_CORES = 2          # cores per hookguard pod (the chart's production limit)
UTILISATION = 0.6      # plan every pool of cores to this share: headroom for bursts
MISS_SHARE = 0.05      # share of lookups that miss the replica (new calls) at steady state
REPLICA_CORES = 4      # cores per PostgreSQL replica
# A pod's CPU per webhook through the chart's nginx front proxy, over hookguard
# alone: tests/load/front_proxy.py (51 + 25 us against 32 us).
FRONT_PROXY_FACTOR = 2.4


def model_table(rows, latency):
    hg = rows["uncached"]["cpu_us"]["hookguard"]
    hg_cached = rows["cached"]["cpu_us"]["hookguard"]
    pg_batched = rows["uncached"]["cpu_us"]["primary"]
    pg_alone = rows["alone"]["cpu_us"]["primary"]
    pg_replica = rows["replica"]["cpu_us"]["replica"]
    out = []
    print()
    print(f"model inputs (measured): hookguard {hg:.1f} us/request uncached, {hg_cached:.1f} "
          f"cached; PostgreSQL {pg_batched:.1f} us/lookup batched on the primary, "
          f"{pg_replica:.1f} us on the replica, {pg_alone:.1f} us sent alone (the table's "
          f"database figures use this one: batches form only under load)")
    print("| webhooks/s | pods, direct (cores) | pods, front proxy (cores) | replicas (4 cores) | "
          "primary cores for lookups | expected p99 |")
    print("|---|---|---|---|---|---|")
    for rate in (1_000, 10_000, 100_000):
        hg_cores = rate * hg / 1e6 / UTILISATION
        pods = max(2, math.ceil(hg_cores / POD_CORES))
        proxied_cores = hg_cores * FRONT_PROXY_FACTOR
        proxied_pods = max(2, math.ceil(proxied_cores / POD_CORES))
        # Lookups priced as if each were sent alone (an upper bound): batches
        # of 16 cost the database about half as much per lookup.
        lookup_cores = rate * pg_alone / 1e6 / UTILISATION
        replicas = math.ceil(lookup_cores / REPLICA_CORES) if lookup_cores > 1 else 0
        primary_cores = lookup_cores * (MISS_SHARE if replicas else 1)
        row = {"rate": rate, "pods": pods, "hookguard_cores": round(hg_cores, 1),
               "pods_front_proxy": proxied_pods, "cores_front_proxy": round(proxied_cores, 1),
               "replicas": replicas, "primary_cores": round(primary_cores, 2),
               "p99_us": latency["p99_us"]}
        out.append(row)
        print(f"| {rate:,} | {pods} ({hg_cores:.1f}) | {proxied_pods} ({proxied_cores:.1f}) | "
              f"{replicas} | {primary_cores:.2f} | ~{latency['p99_us'] / 1000:.1f} ms + network |")
    return out


if __name__ == "__main__":
    main()
