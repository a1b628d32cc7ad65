#!/usr/bin/env python3
"""Builds the real Dockerfile with podman and runs the image as the chart does.

1. Base image: no registry can be pulled from, so Debian 12 is built with
   mmdebstrap (minbase with the dpkg path excludes of debian:12-slim, the
   mirror, updates and security suites of the official image) and imported
   with `podman import`. Tarball and image are cached, keyed by a hash of the
   mmdebstrap command line.
2. `podman build --isolation chroot --network host --pull=never` of the
   Dockerfile, both stages (the build stage compiles hookguard-server and the
   CLI from source), with BUILD_IMAGE/RUNTIME_IMAGE set to the imported base.
   podman's layer cache and the Dockerfile's cache mounts (apt downloads,
   ccache) make a rebuild fast; the previous image of this test is removed.
3. The image: its size, its Debian packages (every runtime package, no -dev
   package, no compiler or build tool), its config (numeric USER 10001,
   ENTRYPOINT, EXPOSE).
4. Runs, each with the chart's rendered Deployment (args, config file, secret
   files, env; with frontProxy.enabled, the default, the nginx sidecar as a
   second container from the same image with its rendered nginx.conf) under
   `podman run --runtime runc --network host --read-only --user 10001
   --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp`:
     - ci/minimal-values.yaml on SQLite and on PostgreSQL (a throw-away
       initdb cluster on a free port): the readiness probe, a signed webhook
       ALLOWed (200), a forged one denied 401 (both sent by the image's CLI
       with `podman exec`, through nginx), /metrics, the sidecar's preStop
       (graceful nginx stop) and SIGTERM exit 0; on SQLite, threat row 25:
       the CONTINUATION flood of tests/integration/h2_frames.py sent at the
       pod's port is cut off by nginx within seconds, hookguard-server's RSS
       unmoved, a call alongside answered;
     - ci/production-values.yaml on PostgreSQL (primary and read replica):
       the flags and config it renders start the server, readiness SERVING;
     - ci/tls-values.yaml: the exec readiness probe under mTLS (test CA), a
       signed ALLOW over mTLS, and a plaintext client and a client without a
       certificate refused (front proxy off: mTLS is hookguard's own);
     - ci/front-proxy-tls-values.yaml: TLS ended by nginx with the chart's
       certificate, a signed ALLOW over TLS, a plaintext client refused.
   The pod's ports (gRPC, metrics, frontProxy.upstreamPort) are moved to free
   ports (values), bound to 127.0.0.1.

Prints one PASS/FAIL line per check, the times of each phase, and
`N passed, M failed`; exit 1 on any failure.
Env: HOOKGUARD_IMAGE_CACHE (default ~/.cache/hookguard): base tarball and logs.
     HOOKGUARD_SKIP_IMAGE_TEST=1: the only way to skip (says so).
Needs root, podman, runc, mmdebstrap (scripts/setup.sh), Debian's mirror.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "support"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
import servers  # noqa: E402
# The row-25 attack of tests/integration/test_transport_limits.py (standard library only).
from h2_frames import RssSampler, continuation_flood, rss_kib  # noqa: E402

CHART = REPO / "helm" / "hookguard"
CACHE = Path(os.environ.get("HOOKGUARD_IMAGE_CACHE", Path.home() / ".cache" / "hookguard"))
IMAGE = "localhost/hookguard:image-test"
BUILD_STAGE = "localhost/hookguard-build:image-test"
UID = 10001
SERVICE = "hookguard.v1.WebhookAuthService"
# The runtime image's size (podman's uncompressed size) may not grow past this
# without someone looking: about 78 MB of Debian base, the runtime libraries
# and the two stripped binaries.
MAX_IMAGE_MB = 160
# Anything that compiles or links, and every -dev package: none in the runtime image.
BUILD_TOOLS = {"gcc", "g++", "cpp", "clang", "binutils", "make", "cmake", "ninja-build", "ccache",
               "pkg-config", "pkgconf", "protobuf-compiler", "protobuf-compiler-grpc", "libc6-dev"}
BUILD_TOOL_PREFIXES = ("gcc-", "g++-", "cpp-", "clang-", "llvm-", "binutils-")
COMPILER_COMMANDS = "cc c++ gcc g++ cpp clang clang++ as ld ld.bfd ld.gold protoc make cmake"

# Debian 12 as the official debian:12-slim image is made: minbase, merged
# /usr without the usrmerge package, slim's dpkg path excludes, and the three
# suites of the official image's sources (so security updates install).
MIRROR = "http://deb.debian.org"
MMDEBSTRAP = [
    "--variant=minbase", "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    *(f"--dpkgopt=path-{kind}={path}" for kind, path in (
        ("exclude", "/usr/share/doc/*"), ("include", "/usr/share/doc/*/copyright"),
        ("exclude", "/usr/share/man/*"), ("exclude", "/usr/share/info/*"),
        ("exclude", "/usr/share/groff/*"), ("exclude", "/usr/share/lintian/*"),
        ("exclude", "/usr/share/locale/*"), ("include", "/usr/share/locale/locale.alias"))),
    "bookworm", "-",  # "-": the tarball goes to stdout
    f"deb {MIRROR}/debian bookworm main", f"deb {MIRROR}/debian bookworm-updates main",
    f"deb {MIRROR}/debian-security bookworm-security main",
]
# What the official image's config sets besides its files.
BASE_CHANGES = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                'CMD ["bash"]']

passed = 0
failed = 0


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def step(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def finish() -> None:
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


TMP = Path(tempfile.mkdtemp(prefix="hookguard-image-test-"))
# The machine refuses podman's default ulimits: a containers.conf without them.
(TMP / "containers.conf").write_text("[containers]\ndefault_ulimits = []\n")
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(TMP / "containers.conf")}


def podman(*args: str, check_rc: bool = True, input_: bytes | None = None, timeout: float = 120,
           env: dict | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run(["podman", *args], input=input_, capture_output=True, timeout=timeout,
                       env={**PODMAN_ENV, **(env or {})})
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])}... exited {p.returncode}: "
                           f"{p.stderr.decode(errors='replace')[-800:]}")
    return p


def out(p: subprocess.CompletedProcess) -> str:
    return p.stdout.decode(errors="replace")


# ------------------------------------------------------------------ 1. base image
def base_image() -> str:
    key = hashlib.sha256(json.dumps([MMDEBSTRAP, BASE_CHANGES]).encode()).hexdigest()[:16]
    tag = f"localhost/hookguard-base:bookworm-{key}"
    if podman("image", "exists", tag, check_rc=False).returncode == 0:
        step(f"base image {tag} already imported (mmdebstrap key {key})")
        return tag
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"base-bookworm-{key}.tar"
    if not tarball.is_file():
        step(f"building the base with mmdebstrap {' '.join(MMDEBSTRAP)}")
        t0 = time.monotonic()
        partial = tarball.with_suffix(".partial")
        with open(partial, "wb") as f:
            p = subprocess.run(["mmdebstrap", "--quiet", "--format=tar", *MMDEBSTRAP], stdout=f,
                               stderr=subprocess.PIPE)
        if p.returncode != 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"mmdebstrap failed: {p.stderr.decode(errors='replace')[-800:]}")
        partial.rename(tarball)
        for stale in CACHE.glob("base-*.tar"):  # bases of an older command line
            if stale != tarball:
                stale.unlink()
        step(f"base tarball built in {time.monotonic() - t0:.0f} s: {tarball}")
    # Older base images of this test (another key) are of no use any more.
    for old in out(podman("images", "--format", "{{.Repository}}:{{.Tag}}",
                          "localhost/hookguard-base")).split():
        podman("rmi", old, check_rc=False)
    changes = [a for c in BASE_CHANGES for a in ("--change", c)]
    podman("import", *changes, str(tarball), tag, timeout=300)
    step(f"imported {tarball.name} as {tag}")
    return tag


# ------------------------------------------------------------------ 2. build
def image_id(name: str) -> str:
    p = podman("image", "inspect", "--format", "{{.Id}}", name, check_rc=False)
    return out(p).strip() if p.returncode == 0 else ""


def build(base: str) -> bool:
    old_ids = {name: image_id(name) for name in (IMAGE, BUILD_STAGE)}
    CACHE.mkdir(parents=True, exist_ok=True)  # the base may come from podman's store
    log = CACHE / "image-build.log"
    cmd = ["podman", "build", "--isolation", "chroot", "--network", "host", "--pull=never",
           "--layers", "--build-arg", f"BUILD_IMAGE={base}", "--build-arg", f"RUNTIME_IMAGE={base}"]
    step(" ".join(cmd + ["-t", IMAGE, "<repo>"]) + f"  (log: {log})")
    t0 = time.monotonic()
    with open(log, "wb") as f:
        rc = subprocess.run(cmd + ["-t", IMAGE, str(REPO)], stdout=f, stderr=subprocess.STDOUT,
                            env=PODMAN_ENV, timeout=1500).returncode
    took = time.monotonic() - t0
    lines = log.read_text(errors="replace").splitlines()
    cached = sum("Using cache" in line for line in lines)
    step(f"podman build took {took:.0f} s ({cached} steps from the layer cache)")
    if not check("podman build of the Dockerfile (both stages, compiled from source)", rc == 0,
                 "\n" + "\n".join(lines[-40:])):
        return False
    # The build stage tagged too (every step cached: a second), so that the
    # previous build's layers of both stages can be removed by name below.
    podman("build", *cmd[2:], "--target", "build", "-t", BUILD_STAGE, str(REPO), timeout=300)
    for name, old_id in old_ids.items():
        if old_id and old_id != image_id(name):
            podman("rmi", old_id, check_rc=False)  # with its parent layers no other image uses
    return True


# ------------------------------------------------------------------ 3. the image
def inspect_image(base: str) -> None:
    cfg = json.loads(out(podman("image", "inspect", IMAGE)))[0]
    size_mb = cfg["Size"] / 1e6
    check(f"image size {size_mb:.0f} MB <= {MAX_IMAGE_MB} MB", size_mb <= MAX_IMAGE_MB)
    c = cfg["Config"]
    check("image USER is numeric 10001:10001", c.get("User") == f"{UID}:{UID}", str(c.get("User")))
    check("image ENTRYPOINT hookguard-server", c.get("Entrypoint") == ["hookguard-server"],
          str(c.get("Entrypoint")))
    check("image EXPOSE 50051 and 9090",
          {"50051/tcp", "9090/tcp"} <= set(c.get("ExposedPorts") or {}), str(c.get("ExposedPorts")))

    def packages(image: str) -> set[str]:
        return set(out(podman("run", "--rm", "--runtime", "runc", "--network", "none",
                              "--entrypoint", "dpkg-query", image, "-W", "-f", "${Package}\\n"))
                   .split())

    pkgs, base_pkgs = packages(IMAGE), packages(base)
    listed = [line.split("#")[0].strip() for line in
              (REPO / "scripts" / "image-runtime-packages.txt").read_text().splitlines()]
    listed = [p for p in listed if p]
    missing = [p for p in listed if p not in pkgs]
    check(f"every package of scripts/image-runtime-packages.txt is installed ({len(listed)})",
          not missing, f"missing: {missing}")
    added = sorted(pkgs - base_pkgs)
    step(f"image packages: {len(pkgs)} ({len(base_pkgs)} of the base, {len(added)} added: "
         f"{' '.join(added)})")
    # (gcc-12-base, in every Debian base, holds only gcc's copyright file.)
    tools = sorted(p for p in pkgs if p in BUILD_TOOLS or p.endswith("-dev")
                   or (p.startswith(BUILD_TOOL_PREFIXES) and not p.endswith("-base")))
    check("no compiler, build tool or -dev package in the image", not tools, f"found: {tools}")
    found = out(podman("run", "--rm", "--runtime", "runc", "--network", "none", "--entrypoint",
                       "/bin/sh", IMAGE, "-c",
                       f"for c in {COMPILER_COMMANDS}; do command -v $c; done; true")).split()
    check("no compiler, assembler or linker on the image's PATH", not found, f"found: {found}")


# ------------------------------------------------------------------ 4. runs
def render(*values: Path) -> dict:
    """The containers of the chart's Deployment (server, and the nginx
    sidecar when frontProxy.enabled), rendered with `values`, the files of
    its ConfigMaps, and the `helm test` Pod's arguments."""
    helm = os.environ.get("HELM") or str(REPO / ".tools" / "bin" / "helm")
    rendered = subprocess.run([helm, "template", "hookguard", str(CHART), "-n", "hookguard",
                               *(a for v in values for a in ("-f", str(v)))],
                              check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    dep = next(d for d in docs if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]["spec"]
    files = {k: v for d in docs if d["kind"] == "ConfigMap" for k, v in d["data"].items()}
    test_pod = next(d for d in docs if d["kind"] == "Pod")
    return {"containers": {c["name"]: c for c in pod["containers"]}, "volumes": pod["volumes"],
            "config": files.get("config.json"), "nginx_conf": files.get("nginx.conf"),
            "test_args": test_pod["spec"]["containers"][0]["args"]}


def make_tls(d: Path, name: str, cert: str, key: str, ca: str) -> None:
    """A CA, and a server certificate for `name` that also serves as client certificate."""
    work = TMP / "pki"
    work.mkdir(exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ssl("req", "-x509", *ec, "-days", "1", "-subj", "/CN=hookguard-test-ca",
        "-keyout", str(work / "ca.key"), "-out", str(d / ca))
    ssl("req", *ec, "-subj", f"/CN={name}", "-keyout", str(d / key), "-out", str(work / "s.csr"))
    (work / "ext").write_text(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth,clientAuth\n"
                              "basicConstraints=CA:FALSE\n")
    ssl("x509", "-req", "-in", str(work / "s.csr"), "-CA", str(d / ca), "-CAkey", str(work / "ca.key"),
        "-CAcreateserial", "-days", "1", "-extfile", str(work / "ext"), "-out", str(d / cert))


def secret_dir(path: Path) -> Path:
    """A Secret volume: files readable by group 10001 only (defaultMode 0440 + fsGroup)."""
    for f in path.iterdir():
        os.chown(f, 0, UID)
        f.chmod(0o440)
    path.chmod(0o755)
    return path


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port` (the
    front proxy's tcpSocket readiness probe)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Pod:
    """The chart's pod: the server container and, with frontProxy.enabled,
    the nginx sidecar, each a podman container from the image."""

    def __init__(self, case: str, values: Path, db: str, data_dir: Path | None = None):
        self.case = case
        # The pod's ports, moved to free ones (values, so that every flag,
        # probe and nginx.conf line agrees); bound to 127.0.0.1 below.
        self.port, self.metrics_port, upstream = (servers.free_port() for _ in range(3))
        ports = TMP / f"{case}-ports.yaml"
        ports.write_text(yaml.safe_dump({"server": {"port": self.port},
                                         "metrics": {"port": self.metrics_port},
                                         "frontProxy": {"upstreamPort": upstream}}))
        r = render(values, ports)
        c = r["containers"]["hookguard"]
        fp = r["containers"].get("front-proxy")
        self.name = f"hookguard-image-test-{os.getpid()}-{case}"
        self.proxy_name = f"{self.name}-front-proxy" if fp else None
        self.args = [a.replace("=0.0.0.0:", "=127.0.0.1:") if a.startswith(("--listen=", "--metrics_listen="))
                     else a for a in c["args"]]
        self.drain = int(next((a.split("=", 1)[1] for a in c["args"]
                               if a.startswith("--drain_seconds=")), "30"))
        # The `helm test` Pod's TLS flags: what a client of the Service needs.
        self.client_tls = [a for a in r["test_args"] if a.startswith("--tls_")]
        root = TMP / case
        root.mkdir()
        # Volumes as the kubelet mounts them, one host directory each, shared
        # by the containers that mount it: ConfigMaps, Secrets (random
        # values), the TLS Secret (a test CA), emptyDir /tmp (a tmpfs each).
        hosts: dict[str, Path] = {}
        self.secret = ""

        def volume(m: dict) -> list[str]:
            name = m["name"]
            if name == "tmp":
                return []  # --tmpfs /tmp below
            if name not in hosts:
                host = hosts[name] = root / name
                host.mkdir()
                if name == "config" and r["config"]:
                    (host / "config.json").write_text(r["config"])
                    host.chmod(0o755)
                    (host / "config.json").chmod(0o444)
                elif name == "front-proxy":
                    # The Service's port on 127.0.0.1 only, as the server's.
                    (host / "nginx.conf").write_text(r["nginx_conf"].replace(
                        f"listen {self.port} ", f"listen 127.0.0.1:{self.port} "))
                    host.chmod(0o755)
                    (host / "nginx.conf").chmod(0o444)
                elif name == "webhook-secrets":
                    cfg = json.loads(r["config"] or '{"profiles": []}')
                    for p in cfg["profiles"]:
                        for s in p.get("secrets", []):
                            if "file" in s and s["file"].startswith(m["mountPath"] + "/"):
                                value = secrets.token_hex(16)
                                (host / Path(s["file"]).name).write_text(value)
                                if p["name"] == cfg.get("default_profile") and not self.secret:
                                    self.secret = value
                    secret_dir(host)
                elif name == "tls":
                    flags = dict(a.split("=", 1) for a in self.args + self.client_tls if "=" in a)
                    self.tls_name = flags["--tls_server_name"]
                    # The server's certificate, where TLS ends: hookguard-server's flags, or nginx's.
                    served = [line.split()[1].split("$")[0] for line in (r["nginx_conf"] or "").splitlines()
                              if line.strip().startswith(("ssl_certificate ", "ssl_certificate_key "))]
                    cert, key = ((flags["--tls_cert"], flags["--tls_key"]) if "--tls_key" in flags
                                 else served)
                    make_tls(host, self.tls_name, Path(cert).name, Path(key).name,
                             Path(flags["--tls_ca"]).name)
                    secret_dir(host)
                else:
                    raise RuntimeError(f"{case}: the test does not know the volume {name}")
            return ["-v", f"{hosts[name]}:{m['mountPath']}:ro"]

        mounts = [a for m in c["volumeMounts"] for a in volume(m)]
        if data_dir is not None:
            mounts += ["-v", f"{data_dir}:/data"]
        # Secret env values travel in podman's environment (-e NAME), never in argv.
        # The read replica (database.readExistingSecret) is the same database here.
        self.env = {"HOOKGUARD_DB": db, **({"HOOKGUARD_DB_READ": db} if any(
            e["name"] == "HOOKGUARD_DB_READ" for e in c.get("env", [])) else {})}
        for e in c.get("env", []):
            if e["name"] not in self.env and "secretKeyRef" in e.get("valueFrom", {}):
                self.env[e["name"]] = secrets.token_hex(16)
        env_flags = [a for name in self.env for a in ("-e", name)]
        # The chart's securityContext: UID 10001, read-only root, no capabilities.
        hardened = ["--runtime", "runc", "--network", "host", "--read-only", "--user", str(UID),
                    "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                    "--tmpfs", "/tmp:rw,size=16m"]
        self.run_cmd = ["run", "-d", "--name", self.name, *hardened, *mounts, *env_flags, IMAGE,
                        *self.args]
        self.proxy_cmd = None
        if fp:
            self.proxy_args = fp["args"]
            self.proxy_stop = fp["lifecycle"]["preStop"]["exec"]["command"]
            self.proxy_cmd = ["run", "-d", "--name", self.proxy_name, *hardened,
                              *(a for m in fp["volumeMounts"] for a in volume(m)),
                              "--entrypoint", fp["command"][0], IMAGE, *fp["args"]]
        probe = c["readinessProbe"]
        if "exec" in probe:
            self.probe = probe["exec"]["command"]
        else:  # native gRPC probe: the kubelet's Check, sent here by the image's CLI
            self.probe = ["hookguard", "health", f"--target=127.0.0.1:{probe['grpc']['port']}",
                          f"--service={probe['grpc'].get('service', '')}"]

    def __enter__(self) -> "Pod":
        step(f"{self.case}: podman {' '.join(self.run_cmd[:-len(self.args) - 1])} {IMAGE} "
             f"{' '.join(self.args)}  (env: {', '.join(self.env)})")
        podman(*self.run_cmd, env=self.env)
        if self.proxy_cmd:
            step(f"{self.case}: front proxy: podman {' '.join(self.proxy_cmd[1:])}")
            podman(*self.proxy_cmd)
        return self

    def pid(self, name: str) -> int:
        """The host PID of a container's first process."""
        return int(out(podman("inspect", "--format", "{{.State.Pid}}", name)).strip())

    def exec(self, *cmd: str, stdin: bytes | None = None, container: str | None = None
             ) -> subprocess.CompletedProcess:
        return podman("exec", *(["-i"] if stdin is not None else []), container or self.name, *cmd,
                      input_=stdin, check_rc=False, timeout=30)

    def ready(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = out(podman("inspect", "--format", "{{.State.Status}}", self.name,
                               check_rc=False)).strip()
            if state != "running":
                return False
            if self.proxy_name and out(podman("inspect", "--format", "{{.State.Status}}",
                                              self.proxy_name, check_rc=False)).strip() != "running":
                return False
            # The server's probe, and the sidecar's: nginx accepts on the port.
            if self.exec(*self.probe).returncode == 0 and (
                    not self.proxy_name or accepts(self.port)):
                return True
            time.sleep(0.5)
        return False

    def webhook(self, body: bytes, signature: str, *tls: str, container: str | None = None
                ) -> tuple[str, int]:
        """A signed call to the pod's gRPC port (the Service's target: nginx
        when the front proxy is on), sent by the image's CLI from `container`
        (default: the server's)."""
        p = self.exec("hookguard", "webhook", f"--target=127.0.0.1:{self.port}", *tls,
                      "--format=json", "--body=-", f"--header=x-vapi-signature: {signature}",
                      stdin=body, container=container)
        try:
            r = json.loads(out(p))
            return r.get("decision", ""), int(r.get("http_status", 0))
        except ValueError:
            return f"rc={p.returncode} {p.stderr.decode(errors='replace').strip()[-200:]}", 0

    def logs(self) -> str:
        text = ""
        for name in filter(None, (self.name, self.proxy_name)):
            p = podman("logs", name, check_rc=False)
            text += f"--- {name}\n" + out(p) + p.stderr.decode(errors="replace")
        return text

    def stop_proxy(self) -> tuple[int, float]:
        """The sidecar's preStop hook as the chart renders it, without its
        sleep: SIGQUIT, nginx's graceful stop. Returns (exit code, seconds)."""
        t0 = time.monotonic()
        hook = [a.replace(a.split(";")[0] + ";", "", 1) if a.startswith("sleep ") else a
                for a in self.proxy_stop]
        podman("exec", self.proxy_name, *hook, check_rc=False, timeout=self.drain + 30)
        podman("wait", self.proxy_name, check_rc=False, timeout=self.drain + 30)
        took = time.monotonic() - t0
        rc = out(podman("inspect", "--format", "{{.State.ExitCode}}", self.proxy_name)).strip()
        return int(rc or -1), took

    def stop(self) -> tuple[int, float]:
        """SIGTERM (podman stop, SIGKILL after drain + 10 s); returns (exit code, seconds)."""
        t0 = time.monotonic()
        podman("stop", "-t", str(self.drain + 10), self.name, check_rc=False, timeout=self.drain + 30)
        took = time.monotonic() - t0
        rc = out(podman("inspect", "--format", "{{.State.ExitCode}}", self.name)).strip()
        return int(rc or -1), took

    def __exit__(self, *exc) -> None:
        for name in filter(None, (self.proxy_name, self.name)):
            podman("rm", "-f", name, check_rc=False)


BODY = json.dumps({"message": {"type": "status-update", "call": {
    "id": "call_alice_1", "assistantId": "asst_alice", "phoneNumberId": "phone_alice"}}}).encode()


def requests(pod: Pod, tag: str, *tls: str, container: str | None = None) -> None:
    got = pod.webhook(BODY, sign(pod.secret, BODY), *tls, container=container)
    check(f"{tag}: a signed webhook for call_alice_1 is ALLOWed (200)", got == ("DECISION_ALLOW", 200),
          str(got))
    got = pod.webhook(BODY, sign("not-the-secret", BODY), *tls, container=container)
    check(f"{tag}: a forged signature is denied 401", got == ("DECISION_DENY", 401), str(got))


def sigterm(pod: Pod, tag: str) -> None:
    if pod.proxy_name:
        rc, took = pod.stop_proxy()
        check(f"{tag}: front proxy: the chart's preStop (SIGQUIT) stops nginx gracefully, exit 0 "
              f"({took:.1f} s)", rc == 0 and took <= pod.drain + 5, f"exit {rc}\n{pod.logs()[-1500:]}")
    rc, took = pod.stop()
    check(f"{tag}: SIGTERM: exit 0 within the drain bound ({took:.1f} s, drain {pod.drain} s)",
          rc == 0 and took <= pod.drain + 5, f"exit {rc}\n{pod.logs()[-1500:]}")


def uids(pid: int) -> set[int]:
    """The real, effective, saved and filesystem UIDs of a process."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("Uid:"))
    return {int(u) for u in line.split()[1:]}


def flood_through_front_proxy(pod: Pod, tag: str) -> None:
    """Threat row 25 through the running pair: the CONTINUATION flood of
    tests/integration/test_transport_limits.py (4 connections, each one
    header field that never ends) at the pod's gRPC port. nginx must close
    every connection within seconds (hookguard-server alone would hold them
    for server.maxConnectionIdleSeconds, 120 s, its buffer growing), the
    server's RSS must not move (bound: 8 MiB over its start), nginx's worker
    must stay small (bound: 32 MiB), and a call made alongside is answered."""
    server = pod.pid(pod.name)
    workers = subprocess.run(["pgrep", "-P", str(pod.pid(pod.proxy_name))], capture_output=True,
                             text=True).stdout.split()
    if not check(f"{tag}: front proxy: nginx runs a worker as UID {UID}",
                 len(workers) == 1 and uids(int(workers[0])) == {UID}, f"workers {workers}"):
        return
    base, got = rss_kib(server), {}
    t0 = time.monotonic()
    with RssSampler(server) as rss, RssSampler(int(workers[0])) as proxy:
        attack = threading.Thread(target=lambda: got.update(zip(
            ("sent", "closed"), continuation_flood(pod.port, connections=4, seconds=10,
                                                   max_bytes=1 << 30))))
        attack.start()
        alongside = pod.webhook(BODY, sign(pod.secret, BODY))
        attack.join()
    lasted = time.monotonic() - t0
    step(f"{tag}: row 25 via the front proxy: sent {got.get('sent', 0) >> 10} KiB in {lasted:.1f} s, "
         f"{got.get('closed')} of 4 connections closed; hookguard-server RSS {base >> 10} -> peak "
         f"{rss.peak >> 10} MiB, nginx worker peak {proxy.peak >> 10} MiB")
    check(f"{tag}: row 25: nginx closes all 4 CONTINUATION-flood connections within 5 s "
          f"({lasted:.1f} s)", got.get("closed") == 4 and lasted < 5, str(got))
    check(f"{tag}: row 25: hookguard-server's RSS stays within 8 MiB of its start "
          f"({base >> 10} -> {rss.peak >> 10} MiB), nginx's worker under 32 MiB ({proxy.peak >> 10} MiB)",
          rss.peak < base + 8 * 1024 and proxy.peak < 32 * 1024)
    check(f"{tag}: row 25: a signed call made alongside the flood is ALLOWed through nginx",
          alongside == ("DECISION_ALLOW", 200), str(alongside))


def run_minimal(db_name: str, db: str, data_dir: Path | None = None) -> None:
    tag = f"minimal on {db_name}"
    with Pod(f"minimal-{db_name.lower()}", CHART / "ci" / "minimal-values.yaml", db, data_dir) as pod:
        if not check(f"{tag}: the chart's readiness probe reports SERVING (read-only, UID {UID}, "
                     "no capabilities)", pod.ready(), pod.logs()[-1500:]):
            return
        who = out(pod.exec("id", "-u"))
        check(f"{tag}: the server runs as UID {UID}", who.strip() == str(UID), who)
        check(f"{tag}: the root filesystem is read-only",
              pod.exec("sh", "-c", "touch /usr/local/bin/x").returncode != 0)
        check(f"{tag}: the chart's default front proxy runs (nginx sidecar, same image)",
              pod.proxy_name is not None)
        requests(pod, f"{tag}{' (through nginx)' if pod.proxy_name else ''}")
        if pod.proxy_name and db_name == "SQLite":
            flood_through_front_proxy(pod, tag)
        try:
            import urllib.request
            with urllib.request.urlopen(f"http://127.0.0.1:{pod.metrics_port}/metrics", timeout=5) as r:
                text = r.read().decode()
            counted = [line for line in text.splitlines()
                       if line.startswith("hookguard_requests_total{") and not line.endswith(" 0")]
            check(f"{tag}: /metrics answers and counts the ALLOW and the DENY",
                  any("DECISION_ALLOW" in line for line in counted)
                  and any("DECISION_DENY" in line for line in counted), "\n".join(counted))
        except OSError as e:
            check(f"{tag}: /metrics answers", False, str(e))
        sigterm(pod, tag)


def run_production(db: str) -> None:
    """ci/production-values.yaml names a read replica (PostgreSQL only): the
    same PostgreSQL serves as primary and replica here."""
    tag = "production"
    with Pod(tag, CHART / "ci" / "production-values.yaml", db) as pod:
        if check(f"{tag}: the server accepts the chart's flags and config; readiness SERVING",
                 pod.ready(), pod.logs()[-1500:]):
            sigterm(pod, tag)


def run_tls() -> None:
    tag = "tls"
    with Pod(tag, CHART / "ci" / "tls-values.yaml", "sqlite3://db=/data/app.db",
             sqlite_data()) as pod:
        if not check(f"{tag}: the exec readiness probe (hookguard health over mTLS) reports SERVING",
                     pod.ready(), pod.logs()[-1500:]):
            return
        tls = [a for a in pod.probe if a.startswith(("--tls_",))]
        requests(pod, f"{tag} (mTLS)", *tls)
        target = f"--target=127.0.0.1:{pod.port}"
        check(f"{tag}: a plaintext client is refused",
              pod.exec("hookguard", "health", target).returncode != 0)
        no_cert = [a for a in tls if a.startswith(("--tls_ca=", "--tls_server_name="))]
        check(f"{tag}: a client without a certificate is refused (mTLS)",
              pod.exec("hookguard", "health", target, *no_cert).returncode != 0)
        sigterm(pod, tag)


def run_front_proxy_tls() -> None:
    tag = "front-proxy-tls"
    with Pod(tag, CHART / "ci" / "front-proxy-tls-values.yaml", "sqlite3://db=/data/app.db",
             sqlite_data()) as pod:
        if not check(f"{tag}: nginx (TLS) and hookguard-server (loopback, plaintext) ready",
                     pod.proxy_name is not None and pod.ready(), pod.logs()[-1500:]):
            return
        # The client: the image's CLI with the TLS Secret's CA, as the `helm
        # test` Pod runs it; here in the sidecar, the container that mounts it.
        requests(pod, f"{tag} (TLS ended by nginx, the chart's certificate)", *pod.client_tls,
                 container=pod.proxy_name)
        check(f"{tag}: a plaintext client of the gRPC port is refused",
              pod.exec("hookguard", "health", f"--target=127.0.0.1:{pod.port}").returncode != 0)
        sigterm(pod, tag)


def sqlite_data() -> Path:
    d = Path(tempfile.mkdtemp(prefix="sqlite-", dir=TMP))
    servers.sqlite_db(d / "app.db", *servers.django_fixtures(inconsistent=False))
    for f in (d, d / "app.db"):
        os.chown(f, UID, UID)
    return d


def main() -> None:
    if os.environ.get("HOOKGUARD_SKIP_IMAGE_TEST") == "1":
        print("image test: SKIPPED because HOOKGUARD_SKIP_IMAGE_TEST=1: nothing built or checked")
        print("0 passed, 0 failed (skipped)")
        sys.exit(0)
    missing = [t for t in ("podman", "runc", "mmdebstrap", "openssl") if not shutil.which(t)]
    check("prerequisites: root; podman, runc, mmdebstrap, openssl (scripts/setup.sh)",
          os.geteuid() == 0 and not missing, f"uid {os.geteuid()}, missing {missing}")
    if failed:
        finish()
    t_all = time.monotonic()
    try:
        t0 = time.monotonic()
        base = base_image()
        step(f"base image ready in {time.monotonic() - t0:.0f} s")
        if build(base):
            inspect_image(base)
            run_minimal("SQLite", "sqlite3://db=/data/app.db", sqlite_data())
            with servers.PostgresServer() as pg:
                pg.load(*servers.django_fixtures(inconsistent=False))
                run_minimal("PostgreSQL", pg.soci)
                run_production(pg.soci)
            run_tls()
            run_front_proxy_tls()
    except Exception as e:  # noqa: BLE001 -- a crash is a failure, with the summary printed
        import traceback
        traceback.print_exc()
        check("image test ran to the end", False, repr(e))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    step(f"image test took {time.monotonic() - t_all:.0f} s")
    finish()


if __name__ == "__main__":
    main()
