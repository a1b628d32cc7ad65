"""Real servers for tests that cross process boundaries.

`PostgresServer` runs a throw-away PostgreSQL (initdb in a temporary
directory, a free port on 127.0.0.1); `HookguardServer` runs the built
`hookguard-server` binary on a free port. Both are context managers and stop
what they started, even when the test fails.

Used by tests/integration, tests/contract and the demo. Standard library only,
so any Python 3 can import it.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PG_BIN = Path(os.environ.get("HOOKGUARD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def build_dir() -> Path:
    return Path(os.environ.get("HOOKGUARD_BUILD_DIR", REPO / "build"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_serving(target: str, timeout: float = 15.0, credentials=None) -> None:
    """Waits until the health service says SERVING (the database answers)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    last = None
    channel = (grpc.secure_channel(target, credentials) if credentials
               else grpc.insecure_channel(target))
    with channel as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            try:
                resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = resp.status
            except grpc.RpcError as err:
                last = err.code()
            time.sleep(0.05)
    raise TimeoutError(f"hookguard at {target} not SERVING after {timeout}s (last: {last})")


class PostgresServer:
    """A PostgreSQL 15 cluster in a temporary directory.

    initdb refuses to run as root, so as root the cluster belongs to the
    `postgres` system user (created by Debian's postgresql package).
    """

    def __init__(self, dbname: str = "app"):
        self.dbname = dbname
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hookguard-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0
        self.user = "postgres" if self._as_postgres else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)

    def __enter__(self) -> "PostgresServer":
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                  "--no-sync", "-E", "UTF8")
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", self.user, self.dbname)
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.dir / "log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)

    def psql(self, sql: str | None = None, file: Path | None = None) -> str:
        args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                str(self.port), "-U", self.user, "-d", self.dbname]
        args += ["-f", str(file)] if file else ["-c", sql or ""]
        if file and self._as_postgres:
            # The file may sit where postgres cannot read it: feed it on stdin.
            args = args[:-2] + ["-f", "-"]
            return self._run(*args, input=Path(file).read_text()).stdout
        return self._run(*args).stdout

    def load(self, *files: Path) -> None:
        for f in files:
            self.psql(file=f)

    @property
    def soci(self) -> str:
        return (f"postgresql://host=127.0.0.1 port={self.port} dbname={self.dbname} "
                f"user={self.user} connect_timeout=2")

    def __exit__(self, *exc) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def sqlite_db(path: Path, *sql_files: Path) -> str:
    """Creates a SQLite database from SQL files; returns its SOCI connection string."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        for f in sql_files:
            conn.executescript(Path(f).read_text())
    return f"sqlite3://db={path}"


def django_fixtures(inconsistent: bool = True) -> list[Path]:
    files = [FIXTURES / "django_schema.sql", FIXTURES / "consistent.sql"]
    if inconsistent:
        files.append(FIXTURES / "inconsistent.sql")
    return files


class HookguardServer:
    """The real hookguard-server on a free port; logs go to a file.

    `stdout`: a file descriptor for the server's stdout (the audit log)
    instead of the log file, e.g. a pipe nobody reads; stderr still goes to
    the log file.
    """

    def __init__(self, db: str, *, config: Path | None = None, env: dict | None = None,
                 args: list[str] | None = None, binary: Path | None = None,
                 stdout: int | None = None):
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.binary = binary or build_dir() / "server" / "service" / "hookguard-server"
        self.cmd = [str(self.binary), f"--listen=127.0.0.1:{self.port}", f"--db={db}"]
        if config:
            self.cmd.append(f"--config={config}")
        self.cmd += args or []
        self.env = {k: v for k, v in os.environ.items() if k not in ("HOOKGUARD_DB",)}
        self.env.update(env or {})
        self.log = Path(tempfile.mkstemp(prefix="hookguard-server-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None
        self._stdout = stdout

    def __enter__(self) -> "HookguardServer":
        self._log_file = open(self.log, "wb")
        self.proc = subprocess.Popen(
            self.cmd, env=self.env,
            stdout=self._log_file if self._stdout is None else self._stdout,
            stderr=subprocess.STDOUT if self._stdout is None else self._log_file)
        try:
            wait_for_port(self.port, 20, self.proc)
        except Exception:
            self.__exit__()
            raise RuntimeError(f"hookguard-server did not start:\n{self.output()}")
        return self

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()
