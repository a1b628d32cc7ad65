"""A real PostgreSQL streaming replica of a `servers.PostgresServer`, for the
read-replica tests: made with `pg_basebackup -R` (so it streams from the
primary), started on a free port in its own temporary directory, with
`recovery_min_apply_delay` so that its replication lag is real and
controlled. A context manager; stops what it started."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import servers


class PostgresStandby:
    def __init__(self, primary: servers.PostgresServer, apply_delay_ms: int = 0):
        self.primary = primary
        self.apply_delay_ms = apply_delay_ms
        self.port = servers.free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hookguard-pg-standby-"))
        self.data = self.dir / "data"
        self.dbname = primary.dbname
        self.user = primary.user

    def _run(self, *args: str, check: bool = True):
        return self.primary._run(*args, check=check)

    def __enter__(self) -> "PostgresStandby":
        if self.primary._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(servers.PG_BIN / "pg_basebackup"), "-h", "127.0.0.1",
                  "-p", str(self.primary.port), "-U", self.user, "-D", str(self.data),
                  "-R", "-X", "stream", "--no-sync", "--checkpoint=fast")
        self.start()
        return self

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c recovery_min_apply_delay={self.apply_delay_ms}ms "
                f"-c wal_receiver_status_interval=1s")
        self._run(str(servers.PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.dir / "log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(servers.PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                  "stop", check=False)

    def promote(self) -> None:
        self._run(str(servers.PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "promote")

    def psql(self, sql: str) -> str:
        return self._run("psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
                         "-U", self.user, "-d", self.dbname, "-c", sql).stdout.strip()

    def wait_replayed(self, sql: str, expected: str, timeout: float = 30) -> None:
        """Waits until `sql` on the standby prints `expected` (a row replayed)."""
        deadline = time.monotonic() + timeout
        while self.psql(sql) != expected:
            if time.monotonic() > deadline:
                raise AssertionError(f"standby never replayed: {sql} -> {expected}")
            time.sleep(0.05)

    @property
    def soci(self) -> str:
        return (f"postgresql://host=127.0.0.1 port={self.port} dbname={self.dbname} "
                f"user={self.user} connect_timeout=2")

    def __exit__(self, *exc) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
