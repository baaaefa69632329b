# syntax=docker/dockerfile:1
#
# One image for every alertflow role: the role is the first argument.
#   docker run IMAGE listen --host 0.0.0.0     (HTTP ingest, port 8080)
#   docker run IMAGE process --host 0.0.0.0    (health/metrics, port 8081)
#   docker run IMAGE notify --host 0.0.0.0     (Socket.IO + dashboard, port 8000)
#
# Build with BuildKit (the default builder of current Docker/Podman/buildah):
#   docker build -t ghcr.io/alertflow/alertflow:0.1.0 .
# The base image is pinned by tag (Python minor version + Debian release). For
# fully reproducible builds, pin it by digest too: python:3.11-slim-bookworm@sha256:…

########## builder: turn the source tree into wheels (ours and every dependency) ##########
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# The runtime lock first (its layer is reused until a pin changes): wheels of every
# dependency at the locked version, hash-checked, so the final stage installs offline
# (--no-index), never needs a compiler or the network, and gets exactly what CI tested.
COPY alertflow/data/runtime.lock ./
RUN pip wheel --require-hashes --wheel-dir /wheels -r runtime.lock
# Then the package itself: the wheels are all the final stage receives.
COPY pyproject.toml README.md ./
COPY alertflow ./alertflow
RUN pip wheel --no-deps --wheel-dir /wheels .

########## runtime: the wheels only, no build tools, non-root ##########
FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="alertflow" \
      org.opencontainers.image.description="National emergency alerts: HTTP ingest, RabbitMQ, Redis, Socket.IO" \
      org.opencontainers.image.licenses="MIT"

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The wheels are bind-mounted from the builder, so they do not stay in a layer.
# pip byte-compiles at install time: the container runs with a read-only root
# filesystem and never needs to write .pyc files.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/alertflow-*.whl \
    && groupadd --system --gid 10001 alertflow \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin alertflow

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /tmp
# Numeric UID:GID so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001

# 8080 listener (ingest), 8081 processor (health/metrics), 8000 notifier (Socket.IO).
EXPOSE 8000 8080 8081

ENTRYPOINT ["alertflow"]
CMD ["--help"]
