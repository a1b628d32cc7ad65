"""A live hookguard for the contract and middleware tests: a throw-away
PostgreSQL with the Django fixtures (consistent + inconsistent rows) and the
real hookguard-server with tests/contract/config.json and the vectors'
secrets. Used by run.py and by tests/middleware when HOOKGUARD_TARGET is unset.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from servers import HookguardServer, PostgresServer, build_dir, django_fixtures  # noqa: E402

CONFIG = HERE / "config.json"
VECTORS_FILE = HERE / "vectors.json"


def vectors() -> dict:
    return json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def server_binary() -> Path:
    return build_dir() / "server" / "service" / "hookguard-server"


def wait_serving(target: str, timeout: float = 15.0) -> None:
    """Waits until the health service says SERVING (the database answers)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    last = None
    with grpc.insecure_channel(target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            try:
                resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = resp.status
            except grpc.RpcError as err:
                last = err.code()
            time.sleep(0.1)
    raise TimeoutError(f"hookguard at {target} not SERVING after {timeout}s (last: {last})")


@contextlib.contextmanager
def live_hookguard() -> Iterator[str]:
    """Yields the target ("127.0.0.1:PORT") of a running server; stops both."""
    binary = server_binary()
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is not built (cmake --build build); "
                                "set HOOKGUARD_BUILD_DIR for another build directory")
    with PostgresServer() as pg:
        pg.load(*django_fixtures(inconsistent=True))
        with HookguardServer(pg.soci, config=CONFIG, env=vectors()["secrets_env"]) as hg:
            try:
                wait_serving(hg.target)
            except Exception:
                print(hg.output(), file=sys.stderr)
                raise
            yield hg.target
