# syntax=docker/dockerfile:1
# hookguard image: hookguard-server (ENTRYPOINT) and the hookguard CLI (used by
# the chart's TLS probes, `helm test` and the audit CronJob).
#
#   docker build -t hookguard:0.1.0 .
#
# The runtime package list lives in scripts/image-runtime-packages.txt; the
# same list is checked by tests/image/test_runtime_rootfs.sh without Docker.

############################ build ############################
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
# The same Debian packages as scripts/setup.sh (its APT_PACKAGES array is the
# single source; the rest of that script sets up test tooling not needed here).
COPY scripts/setup.sh /src/scripts/setup.sh
RUN bash -euo pipefail -c ' \
      eval "$(sed -n "/^APT_PACKAGES=(/,/^)/p" /src/scripts/setup.sh)"; \
      apt-get update -qq; \
      apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"; \
      rm -rf /var/lib/apt/lists/*'
COPY . /src
WORKDIR /src
RUN cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DHOOKGUARD_BUILD_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/opt/hookguard \
 && cmake --build /build \
 && cmake --install /build \
 && strip --strip-unneeded /opt/hookguard/bin/hookguard-server /opt/hookguard/bin/hookguard

############################ runtime ############################
FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/image-runtime-packages.txt /tmp/runtime-packages.txt
# Only the runtime libraries, and the `hookguard` user with the UID/GID of the
# chart's securityContext (10001).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends $(sed -e 's/#.*//' /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 hookguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin hookguard
COPY --from=build /opt/hookguard/bin/hookguard-server /opt/hookguard/bin/hookguard /usr/local/bin/
# Fails the build when a runtime library is missing from the package list.
RUN ! ldd /usr/local/bin/hookguard-server /usr/local/bin/hookguard | grep 'not found'
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# gRPC (service, health, reflection) and Prometheus metrics.
EXPOSE 50051 9090
ENTRYPOINT ["hookguard-server"]
