"""The client packages installed as users install them, outside this
repository, in fresh apps against a real hookguard-server.

- Builds the Python wheel and sdist (`python -m build`) and the npm tarball
  (`npm pack`), and checks that building wrote nothing into the source tree.
- A fresh Django project (`django-admin startproject`, default settings,
  CsrfViewMiddleware included) in a new venv with the wheel: a sync and an
  async view with @hookguard_webhook and a plain view behind
  HookguardMiddleware, served by runserver (WSGI) and uvicorn (ASGI). Its own
  tests (`manage.py test`) use the test double.
- A fresh Express app (`npm init`) with the tarball: its own tests (`npm
  test`, test double), then served against the live server.
- The Python client's unit tests against the installed package, on exactly
  the declared floors (installed from the sdist) and on the newest releases.
- A fresh Go module built on the client module's floors (minimal version
  selection) serving net/http, and a fresh Maven project on the installed jar
  (`mvn install`), both against the live server.
- The Node client (the npm tarball's code) on its lowest and on its newest
  dependencies (.tools/node-deps), and the Java client on its floors
  (`mvn -Plowest`): their unit tests, and their contract runners with every
  vector of tests/contract/vectors.json against the live server and a second
  one with mutual TLS. (Their newest, the Java client's declared runtime, run
  in clients_unit and contract.)

Live: a signed allowed webhook is 200 for owner 1, a cross-user one 403 (with
its decision id), a forged one 401. hookguard-server runs on a SQLite copy of
the Django fixtures. Python packages come from .tools/wheelhouse and npm
packages from npm's cache, both filled by scripts/setup.sh: nothing is
downloaded here once setup has run.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
sys.path.insert(0, str(REPO / "tests" / "contract"))
import live  # noqa: E402
import node_deps  # noqa: E402
from servers import (HookguardServer, django_fixtures, free_port, sqlite_db,  # noqa: E402
                     wait_for_port, wait_serving)

WHEELHOUSE = REPO / ".tools" / "wheelhouse"
CONTRACT = REPO / "tests" / "contract"
VECTORS = json.loads((CONTRACT / "vectors.json").read_text(encoding="utf-8"))
# (vector, HTTP status): allowed for owner 1, cross-user, forged signature.
CASES = [("allow_message_shape", 200), ("threat1_cross_user_assistant", 403),
         ("threat5_other_secret", 401)]
# The environment of the apps: none of the repository's HOOKGUARD_* settings.
APP_ENV = {k: v for k, v in os.environ.items() if not k.startswith("HOOKGUARD_")}


def run(cmd: list, cwd: Path | None = None, env: dict | None = None) -> str:
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or APP_ENV, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout}"
    return p.stdout


def source_state() -> str:
    """Every file git sees under the package sources, ignored ones included."""
    return run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all",
                "client/python", "client/node"], cwd=REPO)


def new_venv(path: Path, *requirements) -> Path:
    """A venv with `requirements` installed from the wheelhouse only."""
    if not WHEELHOUSE.is_dir():
        pytest.fail(f"{WHEELHOUSE} is missing: run scripts/setup.sh")
    run([sys.executable, "-m", "venv", path])
    py = path / "bin" / "python"
    run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
         "--find-links", WHEELHOUSE, *requirements])
    return py


def post(url: str, vector: str) -> tuple[int, bytes, dict]:
    v = next(v for v in VECTORS["vectors"] if v["name"] == vector)
    req = urllib.request.Request(url, data=v["body"].encode(), headers=v["headers"], method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def check_live(base: str, routes: list[str]) -> None:
    for route in routes:
        for vector, want in CASES:
            status, body, headers = post(base + route, vector)
            assert status == want, (route, vector, status, body[:300])
            if want == 200:
                assert json.loads(body) == {"owner": "1", "type": "status-update"}, body
            else:
                assert headers.get("Hookguard-Decision-Id"), (route, vector, headers)


@contextlib.contextmanager
def serving(cmd: list, cwd: Path, port: int, env: dict | None = None):
    """Runs an app server until the block ends; shows its output on failure."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env or APP_ENV, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30, proc)
        yield f"http://127.0.0.1:{port}"
    except BaseException:
        log.seek(0)
        print(log.read().decode(errors="replace"), file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def work():
    d = Path(tempfile.mkdtemp(prefix="hookguard-packaging-"))
    assert REPO not in d.parents
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def dist(work):
    before = source_state()
    out = work / "dist"
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out,
         REPO / "client" / "python"])
    run(["npm", "pack", "--silent", "--pack-destination", out], cwd=REPO / "client" / "node")
    assert source_state() == before, "building wrote into the source tree"
    [wheel], [sdist], [tarball] = (list(out.glob(p)) for p in ("*.whl", "*.tar.gz", "*.tgz"))
    return {"wheel": wheel, "sdist": sdist, "npm": tarball}


@pytest.fixture(scope="session")
def hookguard(work):
    # The contract config's subject profiles read the tenant tables of subjects.sql.
    db = sqlite_db(work / "app.db", *django_fixtures(inconsistent=True), live.SUBJECTS_SQL)
    with HookguardServer(db, config=CONTRACT / "config.json", env=VECTORS["secrets_env"]) as hg:
        try:
            wait_serving(hg.target)
        except Exception:
            print(hg.output(), file=sys.stderr)
            raise
        yield hg.target


@pytest.fixture(scope="session")
def django_project(work, dist):
    py = new_venv(work / "django-venv", f"{dist['wheel']}[django]", "uvicorn")
    site = work / "site"
    site.mkdir()
    run([py.parent / "django-admin", "startproject", "webhooksite", site])
    run([py, "manage.py", "startapp", "hooks"], cwd=site)
    template = HERE / "django_app"
    shutil.copy(template / "urls.py", site / "webhooksite" / "urls.py")
    for name in ("views.py", "tests.py"):
        shutil.copy(template / "hooks" / name, site / "hooks" / name)
    with open(site / "webhooksite" / "settings.py", "a", encoding="utf-8") as f:
        f.write("\n" + (template / "settings_hookguard.py").read_text(encoding="utf-8"))
    return py, site


DJANGO_ROUTES = ["/hooks/sync", "/hooks/async", "/mw/vapi"]


def test_django_apps_own_tests_use_the_test_double(django_project):
    py, site = django_project
    out = run([py, "manage.py", "test", "--noinput"], cwd=site)
    assert re.search(r"Ran 3 tests", out) and "OK" in out, out


@pytest.mark.parametrize("server", ["runserver", "uvicorn"])
def test_django_against_the_live_server(django_project, hookguard, server):
    py, site = django_project
    port = free_port()
    cmd = {"runserver": [py, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
           "uvicorn": [py, "-m", "uvicorn", "webhooksite.asgi:application", "--port", str(port)],
           }[server]
    with serving(cmd, site, port, dict(APP_ENV, HOOKGUARD_TARGET=hookguard)) as base:
        check_live(base, DJANGO_ROUTES)


@pytest.fixture(scope="session")
def express_app(work, dist):
    app = work / "express-app"
    app.mkdir()
    run(["npm", "init", "-y"], cwd=app)
    run(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "--silent", dist["npm"],
         "express@5"], cwd=app)
    assert (app / "node_modules" / "@grpc" / "grpc-js").is_dir(), "the tarball's dependencies"
    run(["npm", "pkg", "set", "scripts.test=node --test test/"], cwd=app)
    shutil.copytree(HERE / "express_app", app, dirs_exist_ok=True)
    return app


def test_express_apps_own_tests_use_the_test_double(express_app):
    out = run(["npm", "test"], cwd=express_app)
    assert re.search(r"^# pass 3$", out, re.M) and re.search(r"^# fail 0$", out, re.M), out


def test_express_against_the_live_server(express_app, hookguard):
    port = free_port()
    env = dict(APP_ENV, HOOKGUARD_TARGET=hookguard, PORT=str(port))
    with serving(["node", "server.js"], express_app, port, env) as base:
        check_live(base, ["/webhooks/vapi"])


@pytest.fixture(scope="session")
def go_app(work):
    """A fresh module using a copy of client/go (as `go get` would fetch it;
    a replace line until the module path is published), built offline."""
    shutil.copytree(REPO / "client" / "go", work / "go-module")
    app = work / "go-app"
    app.mkdir()
    shutil.copy(HERE / "go_app" / "main.go", app)
    # Offline: the modules come from the cache that scripts/setup.sh filled.
    env = dict(APP_ENV, GOPROXY="off", GOSUMDB="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    run(["go", "mod", "init", "example.com/webhookapp"], cwd=app, env=env)
    run(["go", "mod", "edit", "-require=github.com/hookguard/hookguard/client/go@v0.1.0",
         "-replace=github.com/hookguard/hookguard/client/go=../go-module"], cwd=app, env=env)
    run(["go", "mod", "tidy"], cwd=app, env=env)
    run(["go", "build", "-o", "webhookapp", "."], cwd=app, env=env)
    return app, env


def test_go_module_in_a_fresh_module_on_its_floors(go_app, hookguard):
    app, env = go_app
    # Minimal version selection: a fresh module builds on the client's floors.
    floors = run(["go", "list", "-m", "google.golang.org/grpc", "google.golang.org/protobuf"],
                 cwd=app, env=env).split()
    declared = json.loads(run(["go", "mod", "edit", "-json"], cwd=REPO / "client" / "go", env=env))
    declared = {r["Path"]: r["Version"] for r in declared["Require"]}
    for module in ("google.golang.org/grpc", "google.golang.org/protobuf"):
        assert floors[floors.index(module) + 1] == declared[module], (floors, declared)
    port = free_port()
    with serving([app / "webhookapp"], app, port,
                 dict(APP_ENV, HOOKGUARD_TARGET=hookguard, PORT=str(port))) as base:
        check_live(base, ["/webhooks/vapi"])


def test_maven_jar_in_a_fresh_project(work, hookguard):
    run(["mvn", "-q", "-o", "-B", "install", "-DskipTests"], cwd=REPO / "client" / "java")
    app = work / "java-app"
    shutil.copytree(HERE / "java_app", app)
    run(["mvn", "-q", "-o", "-B", "compile"], cwd=app)
    run(["mvn", "-q", "-o", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:"
         "build-classpath", "-Dmdep.outputFile=cp.txt"], cwd=app)
    args = []
    for vector, _ in CASES:
        v = next(v for v in VECTORS["vectors"] if v["name"] == vector)
        args += [v["body"], v["headers"]["x-vapi-signature"]]
    out = run(["java", "-cp", f"target/classes:{(app / 'cp.txt').read_text().strip()}",
               "example.Main", hookguard, *args], cwd=app)
    assert out.split("\n")[:3] == ["200 owner=1 decision_id=true", "403 owner= decision_id=true",
                                   "401 owner= decision_id=true"], out


# The declared floors (client/python/pyproject.toml), exactly.
LOWEST = {"grpc": "1.49.1", "google.protobuf": "4.21.6", "django": "4.2", "fastapi": "0.110.0"}


@pytest.mark.parametrize("which", ["lowest", "newest"])
def test_client_unit_tests_on_the_installed_package(work, dist, which):
    # The lowest from the sdist (pip builds it, as for a platform without the wheel).
    package = dist["sdist"] if which == "lowest" else dist["wheel"]
    py = new_venv(work / f"{which}-venv", "-r", HERE / f"requirements-{which}.txt",
                  f"{package}[django,fastapi]")
    modules = [*LOWEST, "hookguard_client"]
    versions = json.loads(run([py, "-c", "import importlib, json, sys; print(json.dumps({m: "
                               "importlib.import_module(m).__version__ for m in sys.argv[1:]}))",
                               *modules], cwd=work))
    if which == "lowest":
        assert {m: versions[m] for m in LOWEST} == LOWEST
    print(which, versions)
    run([py, "-c", "import hookguard_client, sys; "
         "assert hookguard_client.__file__.startswith(sys.prefix), hookguard_client.__file__"],
        cwd=work)
    # From outside the source tree, so the installed package is the one tested;
    # the stubs' drift check needs the source tree (clients_unit runs it).
    run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not checked_in_stubs",
         REPO / "client" / "python" / "tests"], cwd=work)


@pytest.fixture(scope="session")
def tls_hookguard():
    """HOOKGUARD_TLS_* of a second server with mutual TLS (the contract's)."""
    with live.live_tls_hookguard() as env:
        yield env


def node_test_counts(out: str) -> tuple[int, int]:
    """(passed, failed) from `node --test`'s summary."""
    return tuple(int(re.findall(rf"^# {k} (\d+)$", out, re.M)[-1]) for k in ("pass", "fail"))


@pytest.mark.parametrize("which", ["lowest", "newest"])
def test_node_client_on_its_lowest_and_newest_dependencies(work, dist, hookguard, tls_hookguard,
                                                           which):
    """The tarball's code on the dependencies scripts/setup.sh installed into
    .tools/node-deps: exactly the floors of package.json, or the newest
    releases its ranges allowed then."""
    modules = REPO / ".tools" / "node-deps" / which / "node_modules"
    if not modules.is_dir():
        pytest.fail(f"{modules} is missing: run scripts/setup.sh")
    installed = [f"{name}@{json.loads((modules / name / 'package.json').read_text())['version']}"
                 for name in node_deps.ranges()]
    print(which, installed)
    if which == "lowest":
        assert installed == node_deps.specs("lowest")
    # The repository's layout (the tests read ../../../protos and
    # ../vectors.json), with the tarball's files as the package.
    root = work / f"node-{which}"
    with tarfile.open(dist["npm"]) as tar:
        # filter= exists from Python 3.11.4 (Debian 12's python3 is 3.11.2).
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root / "unpacked", filter="data")
        else:
            tar.extractall(root / "unpacked")
    package = root / "client" / "node"
    package.parent.mkdir(parents=True)
    (root / "unpacked" / "package").rename(package)
    shutil.copytree(REPO / "client" / "node" / "test", package / "test")
    (package / "node_modules").symlink_to(modules)
    (root / "protos").symlink_to(REPO / "protos")
    shutil.copytree(CONTRACT / "node", root / "tests" / "contract" / "node")
    shutil.copy(CONTRACT / "vectors.json", root / "tests" / "contract")

    passed, failed = node_test_counts(run(["node", "--test", "test/"], cwd=package))
    assert failed == 0 and passed >= 20, (passed, failed)
    env = dict(APP_ENV, HOOKGUARD_TARGET=hookguard, **tls_hookguard)
    out = run(["node", "--test", "tests/contract/node/contract.test.js"], cwd=root, env=env)
    # Every vector, both "is set" checks and the two TLS cases.
    assert node_test_counts(out) == (len(VECTORS["vectors"]) + 4, 0), out[-2000:]


def test_java_client_on_its_floors(hookguard, tls_hookguard):
    """`mvn -Plowest`: compiled and run on the runtimes of its code
    generators (the floors the pom declares), in target/lowest."""
    java = REPO / "client" / "java"
    classpath = run(["mvn", "-q", "-o", "-B", "-Plowest", "org.apache.maven.plugins:"
                     "maven-dependency-plugin:3.8.1:build-classpath", "-Dmdep.outputFile=/dev/stdout"],
                    cwd=java)
    floors = {name: re.search(rf"<{name}>([\d.]+)</{name}>",
                              (java / "pom.xml").read_text()).group(1)
              for name in ("grpc.plugin.version", "protoc.version")}
    for jar in (f"grpc-api-{floors['grpc.plugin.version']}.jar",
                f"grpc-netty-shaded-{floors['grpc.plugin.version']}.jar",
                f"protobuf-java-{floors['protoc.version']}.jar"):
        assert f"/{jar}" in classpath, (jar, classpath)
    reports = java / "target" / "lowest" / "surefire-reports"
    shutil.rmtree(reports, ignore_errors=True)
    run(["mvn", "-q", "-o", "-B", "-Plowest", "test"], cwd=java)
    run(["mvn", "-q", "-o", "-B", "-Plowest,contract", "test"], cwd=java,
        env=dict(APP_ENV, HOOKGUARD_TARGET=hookguard, **tls_hookguard))
    counts = {}
    for xml in reports.glob("TEST-*.xml"):
        suite = ET.parse(xml).getroot()
        counts[suite.get("name").rsplit(".", 1)[-1]] = tuple(
            int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped"))
    # The first run wrote the unit tests' report, the second ContractTest's:
    # every vector and the two TLS cases.
    assert counts["ContractTest"] == (len(VECTORS["vectors"]) + 2, 0, 0, 0), counts
    assert counts["WebhookGuardTest"][0] >= 10 and counts["WebhookGuardTest"][1:] == (0, 0, 0), counts
