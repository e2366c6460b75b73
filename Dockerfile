# syntax=docker/dockerfile:1
# The `bourse` node as a container image (deploy/k8s runs it; see docs/operations.md). From the repository root:
#   docker build -t bourse:dev .
#   docker run --rm -p 8080:8080 bourse:dev start --listen 0.0.0.0:8080     # one node on its embedded store
# The image's entrypoint is `bourse`; its default command `start` listens on 127.0.0.1 unless told otherwise
# (--listen, cluster.yaml or BOURSE_LISTEN), as on a workstation.
ARG SWIFT_VERSION=6.3
ARG UBUNTU_RELEASE=noble

# ---- build: the release binary, with the Swift runtime and Foundation linked in statically
FROM swift:${SWIFT_VERSION}-${UBUNTU_RELEASE} AS build
WORKDIR /build
# Resolve the dependencies first, so that a change to the sources reuses this layer.
COPY Package.* ./
RUN swift package resolve
COPY . .
RUN swift build -c release --product bourse --static-swift-stdlib \
    && mkdir /staging \
    && cp "$(swift build -c release --show-bin-path)/bourse" /staging/bourse

# ---- runtime: Ubuntu with the few libraries a statically linked Swift binary still loads
FROM ubuntu:${UBUNTU_RELEASE}
# ca-certificates: TLS to PostgreSQL (sslmode=verify-full) and to the Binance/Coinbase feeds;
# tzdata: time zones for Foundation; libjemalloc2: the allocator the node runs with (LD_PRELOAD below), linked
# at a path that does not depend on the architecture. libc and libstdc++ are in the base image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata libjemalloc2 \
    && ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" /usr/local/lib/libjemalloc.so.2 \
    && test -e /usr/local/lib/libjemalloc.so.2 \
    && rm -rf /var/lib/apt/lists/*
# An unprivileged user (uid/gid 10001, as the StatefulSet's securityContext expects); its home is the working
# directory, where a node without a database keeps ./bourse-data.
RUN groupadd --system --gid 10001 bourse \
    && useradd --system --uid 10001 --gid bourse --home-dir /var/lib/bourse --create-home --shell /usr/sbin/nologin bourse
COPY --from=build /staging/bourse /usr/local/bin/bourse
USER bourse:bourse
WORKDIR /var/lib/bourse
# 8080: client API (HTTP/1.1 and h2c); 9090: the peer transport between nodes.
EXPOSE 8080 9090
# jemalloc instead of glibc's allocator: on the order path it took 15 % less CPU per order and placed 16 % more
# orders/s at saturation (BENCHMARKS.md, "Durable order placement"). An empty LD_PRELOAD turns it off.
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
ENTRYPOINT ["bourse"]
CMD ["start"]
