"""Helpers shared by the load scripts (bench.py, faults.py, soak.py).

Everything runs on 127.0.0.1 and is bounded in count and time. The servers
come from tests/support/servers.py; the build directory is
HOOKGUARD_BUILD_DIR (default build-perf, the Release build of scripts/bench.sh).
"""
from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
os.environ.setdefault("HOOKGUARD_BUILD_DIR", str(REPO / "build-perf"))
import servers  # noqa: E402

SECRET = "bench-secret"
SERVICE = "hookguard.v1.WebhookAuthService"


def proto_modules():
    """hookguard.v1 messages and stubs, generated with grpcio-tools."""
    from grpc_tools import protoc

    out = Path(tempfile.mkdtemp(prefix="hookguard-load-pb-"))
    protos = REPO / "protos"
    rc = protoc.main(["protoc", f"-I{protos}", f"--python_out={out}", f"--grpc_python_out={out}",
                      str(protos / "hookguard" / "v1" / "hookguard.proto")])
    if rc != 0:
        raise RuntimeError("protoc failed")
    sys.path.insert(0, str(out))
    return (importlib.import_module("hookguard.v1.hookguard_pb2"),
            importlib.import_module("hookguard.v1.hookguard_pb2_grpc"))


def vapi_body(call_id: str, size: int, *, assistant: str = "asst_alice",
              phone: str = "phone_alice") -> bytes:
    """A VAPI end-of-call-report of about `size` bytes (the transcript pads it)."""
    msg = {"message": {"type": "end-of-call-report",
                       "call": {"id": call_id, "assistantId": assistant, "phoneNumberId": phone,
                                "orgId": "org_1"},
                       "phoneNumber": {"id": phone, "twilioAuthToken": "not-a-real-token"},
                       "artifact": {"messages": []}, "transcript": ""}}
    base = len(json.dumps(msg))
    line = "AI: Thanks for calling, how can I help you today?\\nUser: I'd like to book. "
    msg["message"]["transcript"] = (line * (max(0, size - base) // len(line) + 1))[:max(0, size - base)]
    return json.dumps(msg, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def grpc_frame(message) -> bytes:
    """The gRPC length-prefixed message h2load sends as the request body."""
    payload = message.SerializeToString()
    return struct.pack(">BI", 0, len(payload)) + payload


def rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB, from /proc."""
    rss = hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def counter(text: str, name: str, **labels: str) -> float:
    """Sum of the series of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not (line.startswith(name + "{") or line.startswith(name + " ")):
            continue
        series, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += float(value)
    return total


@dataclass
class LoadResult:
    name: str
    clients: int
    streams: int
    requests: int
    failed: int
    seconds: float
    rps: float
    p50_us: float
    p99_us: float
    p999_us: float
    rss_kb: int = 0
    hwm_kb: int = 0
    extra: dict = field(default_factory=dict)


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return float(sorted_values[k])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes so far, and of their children that
    exited (and were waited for), from /proc (gone ones count 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids(pg: servers.PostgresServer) -> Callable[[], list[int]]:
    """The processes of one PostgreSQL cluster: its postmaster (whose children's
    time, once they exit, counts in its own) and every live child (backends,
    background workers). Other clusters on the machine are left out."""
    def pids() -> list[int]:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        out = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True,
                             text=True).stdout
        return [postmaster] + [int(p) for p in out.split()]
    return pids


def h2load(name: str, port: int, method: str, frame_file: Path, *, clients: int, streams: int,
           seconds: float, warmup: float = 1.0, timeout: float = 120,
           cpu: dict[str, Callable[[], list[int]]] | None = None,
           rps_per_client: int = 0) -> LoadResult:
    """Runs h2load for `seconds` (after `warmup`) and reads its per-request log.

    `rps_per_client` > 0 paces each connection to that many requests a second
    (h2load --rps): latency at a fixed load instead of at saturation.

    h2load counts HTTP statuses only (gRPC answers 200 even for an error), so
    the callers check answers with a real client and the server's metrics.

    With `cpu` ({label: function giving pids}), also measures the CPU time
    those processes spend per answered request over the measured window
    (after the warm-up), and h2load's own, into extra["cpu_us"]: on a
    shared machine, CPU per request moves much less than requests/s.
    """
    log = Path(tempfile.mkstemp(prefix="h2load-", suffix=".log")[1])
    cmd = ["h2load", "-c", str(clients), "-m", str(streams), "-t", "1",
           "-D", f"{round(seconds * 1000)}ms", "--warm-up-time", f"{max(1, round(warmup * 1000))}ms",
           "-d", str(frame_file), "-H", "content-type: application/grpc", "-H", "te: trailers",
           "--log-file", str(log), f"http://127.0.0.1:{port}/{SERVICE}/{method}"]
    if rps_per_client > 0:
        cmd[1:1] = ["--rps", str(rps_per_client)]
    groups: dict[str, list[int]] = {}
    start_cpu: dict[str, float] = {}

    def sample_start() -> None:
        # The pids are read after the warm-up: the server opens database
        # connections (new PostgreSQL backends) on first use.
        for label, pids in (cpu or {}).items():
            groups[label] = pids()
            start_cpu[label] = cpu_seconds(groups[label])

    timer = threading.Timer(max(1, round(warmup * 1000)) / 1000, sample_start)
    children_before = os.times()
    if cpu:
        timer.start()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + seconds + warmup)
    finally:
        timer.cancel()
        if cpu:
            timer.join()
    end_cpu = {label: cpu_seconds(pids) for label, pids in groups.items()}
    children_after = os.times()
    if out.returncode != 0:
        raise RuntimeError(f"h2load failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored", out.stdout)
    if not m:
        raise RuntimeError(f"cannot read h2load output:\n{out.stdout}")
    succeeded, failed, errored = int(m.group(4)), int(m.group(5)), int(m.group(6))
    latencies = []
    for line in log.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1] == "200":
            latencies.append(int(parts[2]))
    log.unlink()
    latencies.sort()
    result = LoadResult(name=name, clients=clients, streams=streams, requests=succeeded,
                        failed=failed + errored, seconds=seconds,
                        rps=succeeded / seconds, p50_us=percentile(latencies, 0.50),
                        p99_us=percentile(latencies, 0.99), p999_us=percentile(latencies, 0.999))
    if cpu and succeeded and len(start_cpu) == len(cpu):
        cpu_us = {label: 1e6 * (end_cpu[label] - start_cpu[label]) / succeeded for label in groups}
        own = (children_after.children_user + children_after.children_system
               - children_before.children_user - children_before.children_system)
        # h2load's CPU covers the warm-up too: spread over its requests at the same rate.
        cpu_us["h2load"] = 1e6 * own / (result.rps * (seconds + warmup))
        result.extra["cpu_us"] = cpu_us
    return result


# The benchmark's database: the fixtures plus 100,000 calls of 1,000 users,
# each with an assistant and a phone number, so that PostgreSQL plans the
# lookups as it would on a real table (index scans), not on three rows.
BULK_SQL = """
INSERT INTO api_assistant SELECT g, 'asst_' || g, g FROM generate_series(10, 1009) g;
INSERT INTO api_phonenumber SELECT g, 'phone_' || g, g FROM generate_series(10, 1009) g;
INSERT INTO api_interviewcall SELECT g, 'call_' || g, 10 + g % 1000, 10 + g % 1000,
  CASE WHEN g % 3 = 0 THEN NULL ELSE 10 + g % 1000 END FROM generate_series(10, 100009) g;
ANALYZE;
"""


def batch_sizes(metrics_text: str) -> dict[str, float]:
    """hookguard_db_batch_size from a /metrics text: {le: cumulative count}."""
    out = {}
    for line in metrics_text.splitlines():
        m = re.match(r'hookguard_db_batch_size_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def batch_summary(before: str, after: str) -> dict:
    """The batches sent between two /metrics texts: their count, the lookups
    they carried, the mean size, and the share of batches per size bucket."""
    b, a = batch_sizes(before), batch_sizes(after)
    diff = {le: a.get(le, 0) - b.get(le, 0) for le in a}
    total = diff.get("+Inf", 0)
    lookups = (counter(after, "hookguard_db_batch_size_sum")
               - counter(before, "hookguard_db_batch_size_sum"))
    shares, previous = {}, 0.0
    for le, cumulative in diff.items():
        shares[le] = (cumulative - previous) / total if total else 0.0
        previous = cumulative
    return {"batches": total, "lookups": lookups, "mean": lookups / total if total else 0.0,
            "share_by_le": shares}


def start_postgres_with_fixtures(extra_sql: str = "") -> servers.PostgresServer:
    pg = servers.PostgresServer().__enter__()
    pg.load(*servers.django_fixtures(inconsistent=False))
    if extra_sql:
        pg.psql(extra_sql)
    return pg


def hookguard(db: str, *, args: list[str] | None = None) -> servers.HookguardServer:
    """hookguard-server with the default profile (secret SECRET) and /metrics on."""
    metrics_port = servers.free_port()
    s = servers.HookguardServer(db, env={"VAPI_WEBHOOK_SECRET": SECRET},
                                args=[f"--metrics_listen=127.0.0.1:{metrics_port}"] + (args or []))
    s.metrics_port = metrics_port
    return s


def wait_serving(target: str, timeout: float = 20) -> None:
    servers.wait_serving(target, timeout)


def floor_server() -> tuple[subprocess.Popen, int]:
    port = servers.free_port()
    binary = servers.build_dir() / "tests" / "load" / "hookguard-floor-server"
    proc = subprocess.Popen([str(binary), f"--listen=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    servers.wait_for_port(port, 20, proc)
    return proc, port


def python_peer(pg: servers.PostgresServer) -> tuple[subprocess.Popen, int]:
    """tests/load/python_peer.py on a free port, on `pg`, with SECRET."""
    port = servers.free_port()
    db = f"host=127.0.0.1 port={pg.port} dbname={pg.dbname} user={pg.user}"
    proc = subprocess.Popen([sys.executable, str(HERE / "python_peer.py"),
                             f"--listen=127.0.0.1:{port}", f"--db={db}"],
                            env={**os.environ, "VAPI_WEBHOOK_SECRET": SECRET},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    servers.wait_for_port(port, 30, proc)
    return proc, port


def median(values):
    return statistics.median(values) if values else float("nan")
