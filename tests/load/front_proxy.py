"""What the chart's front proxy costs: AuthorizeWebhook straight to
hookguard-server vs through nginx (the nginx.conf the chart renders), rounds
alternated so that drift in the machine's load hits both alike.

  HOOKGUARD_BUILD_DIR=build .venv/bin/python tests/load/front_proxy.py [--rounds 5]

Two loads a round, each with h2load on one connection per client:
  - one call at a time (1 client, 1 stream): the latency a web tier's call
    sees; the difference of the p50s is the cost of the extra loopback hop;
  - saturating (4 clients x 16 streams): requests/s, and the CPU time per
    call of hookguard-server and of nginx (steadier than requests/s on a
    shared machine).
Prints each round and the medians. Needs Debian's nginx (scripts/setup.sh),
helm (.tools/bin/helm) and PostgreSQL 15, as the other load scripts.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

import loadlib
import servers

CHART = loadlib.REPO / "helm" / "hookguard"


def chart_nginx_conf(listen: int, upstream: int, work: Path) -> Path:
    """The front proxy's nginx.conf as the chart renders it (defaults), nginx
    on 127.0.0.1:`listen`, hookguard-server on 127.0.0.1:`upstream`, its /tmp
    paths moved into `work`."""
    helm = os.environ.get("HELM") or str(loadlib.REPO / ".tools" / "bin" / "helm")
    values = work / "values.yaml"
    values.write_text(yaml.safe_dump({"server": {"port": listen}, "frontProxy": {"upstreamPort": upstream},
                                      "database": {"existingSecret": "db"},
                                      "webhookSecrets": {"existingSecret": "webhook"}}))
    rendered = subprocess.run([helm, "template", "t", str(CHART), "-f", str(values),
                               "--show-only", "templates/front-proxy-configmap.yaml"],
                              check=True, capture_output=True, text=True).stdout
    conf = yaml.safe_load(rendered)["data"]["nginx.conf"]
    conf = conf.replace("/tmp/", f"{work}/").replace(f"listen {listen} ", f"listen 127.0.0.1:{listen} ")
    path = work / "nginx.conf"
    path.write_text(conf)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--body", type=int, default=2048)
    args = ap.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    pb, _ = loadlib.proto_modules()
    body = loadlib.vapi_body("call_alice_1", args.body)
    http = pb.HttpRequest(body=body, headers={"x-vapi-signature": loadlib.sign(body)})
    work = Path(tempfile.mkdtemp(prefix="hookguard-front-proxy-load-"))
    frame = work / "aw.bin"
    frame.write_bytes(loadlib.grpc_frame(pb.AuthorizeWebhookRequest(request=http, expected_owner_id="1")))
    loads = {"serial": (1, 1), "saturating": (4, 16)}
    rows: dict[tuple[str, str], list] = {}
    pg = loadlib.start_postgres_with_fixtures()
    try:
        server = loadlib.hookguard(pg.soci)
        with server:
            loadlib.wait_serving(server.target)
            listen = servers.free_port()
            conf = chart_nginx_conf(listen, server.port, work)
            proxy = subprocess.Popen([nginx, "-c", str(conf), "-e", "stderr"], stderr=subprocess.DEVNULL)
            try:
                servers.wait_for_port(listen, 10, proxy)
                worker = int(subprocess.run(["pgrep", "-P", str(proxy.pid)], capture_output=True, text=True,
                                            check=True).stdout.split()[0])
                for i in range(args.rounds):
                    for path, port in (("direct", server.port), ("nginx", listen)):
                        for load, (clients, streams) in loads.items():
                            r = loadlib.h2load(f"{path} {load}", port, "AuthorizeWebhook", frame,
                                               clients=clients, streams=streams, seconds=args.seconds,
                                               cpu={"server": lambda: [server.proc.pid],
                                                    "nginx": lambda: [worker]})
                            cpu = r.extra["cpu_us"]
                            rows.setdefault((path, load), []).append(
                                (r.p50_us, r.p99_us, r.rps, cpu["server"], cpu["nginx"], r.failed))
                            print(f"round {i + 1} {path:6s} {load:10s} p50 {r.p50_us:6.0f} us  "
                                  f"p99 {r.p99_us:6.0f} us  {r.rps:7.0f} req/s  CPU/call server "
                                  f"{cpu['server']:5.1f} us nginx {cpu['nginx']:5.1f} us  failed {r.failed}",
                                  flush=True)
            finally:
                proxy.terminate()
                proxy.wait(10)
    finally:
        pg.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    print(f"medians of {args.rounds} rounds (AuthorizeWebhook, PostgreSQL, {args.body}-byte body):")
    for load in loads:
        d = [loadlib.median([row[k] for row in rows[("direct", load)]]) for k in range(5)]
        n = [loadlib.median([row[k] for row in rows[("nginx", load)]]) for k in range(5)]
        print(f"  {load:10s} direct p50 {d[0]:6.0f} us p99 {d[1]:6.0f} us {d[2]:7.0f} req/s | "
              f"nginx p50 {n[0]:6.0f} us p99 {n[1]:6.0f} us {n[2]:7.0f} req/s | "
              f"p50 {n[0] - d[0]:+.0f} us, req/s {100 * (n[2] / d[2] - 1):+.0f}%, "
              f"CPU/call server {n[3]:.1f} + nginx {n[4]:.1f} us (direct: server {d[3]:.1f} us)")


if __name__ == "__main__":
    main()
