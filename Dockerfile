# syntax=docker/dockerfile:1
# hookguard image: hookguard-server (ENTRYPOINT) and the hookguard CLI (used by
# the chart's TLS probes, `helm test` and the audit CronJob).
#
#   docker build -t hookguard:0.1.0 .
#
# Both stages install Debian packages from a list file: the build stage
# scripts/build-packages.txt (compiler, CMake, -dev libraries; scripts/setup.sh
# reads the same file), the runtime stage scripts/image-runtime-packages.txt
# (the shared libraries only). RUN --mount=type=cache keeps apt's downloads
# and ccache's objects between builds (BuildKit and podman/buildah).
# tests/image/test_image.py builds this file with podman and runs the image
# as the chart does.

# The base images. Build arguments so that a machine that cannot pull can
# build from a base it imported (docs/dev/image.md).
ARG BUILD_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim

############################ build ############################
FROM ${BUILD_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/build-packages.txt /tmp/build-packages.txt
# docker-clean (in Debian's official images) deletes downloaded packages;
# without it they stay in the cache mount for the next build.
RUN --mount=type=cache,target=/var/cache/apt \
    --mount=type=cache,target=/var/lib/apt/lists \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends $(sed -e 's/#.*//' /tmp/build-packages.txt)
COPY . /src
WORKDIR /src
# Only the two binaries of the image (tests off); ccache's cache survives
# between builds in a cache mount.
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DHOOKGUARD_BUILD_TESTS=OFF \
 && cmake --build /build --target hookguard-server hookguard \
 && install -D -s -m 0755 -t /opt/hookguard/bin \
      /build/server/service/hookguard-server /build/tools/hookguard/hookguard

############################ runtime ############################
FROM ${RUNTIME_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/image-runtime-packages.txt /tmp/runtime-packages.txt
# Only the runtime libraries, and the `hookguard` user with the UID/GID of the
# chart's securityContext (10001).
RUN --mount=type=cache,target=/var/cache/apt \
    --mount=type=cache,target=/var/lib/apt/lists \
    apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends $(sed -e 's/#.*//' /tmp/runtime-packages.txt) \
 && rm /tmp/runtime-packages.txt \
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
