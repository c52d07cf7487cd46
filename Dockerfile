# syntax=docker/dockerfile:1
# Multi-stage build: wheels are built in a throw-away stage, and the runtime stage only
# installs them into a virtual environment, so no compiler, build backend or pip cache
# reaches the final image.

# Both stages use the interpreter CI tests with (Python 3.11), so the wheels built in the
# first stage fit the second.
FROM python:3.11-slim-bookworm AS builder
# msgpack (a dependency of pysignalr) has no wheel for 32-bit ARM (linux/arm/v7), and this
# stage has no compiler: there it builds its pure-Python fallback. The stream speaks JSON, so
# nothing runs msgpack; on other platforms pip takes its binary wheel and ignores the switch.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    MSGPACK_PUREPYTHON=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
# The project's wheel and the wheels of all its dependencies, resolved here once, so the
# runtime stage installs offline (--no-index) from exactly this set.
RUN python -m pip wheel --wheel-dir /wheels .

FROM python:3.11-slim-bookworm AS runtime
# Keep equal to the version in pyproject.toml (tests/deploy checks it).
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="easee-exporter" \
      org.opencontainers.image.description="Prometheus exporter and authenticated webhook controller for Easee EV chargers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

# A fixed, unprivileged UID/GID, so volume permissions and Kubernetes runAsUser can name it.
RUN groupadd --system --gid 10001 easee \
    && useradd --system --uid 10001 --gid easee --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin easee

# The venv gets no pip of its own (the base image's pip installs into it via --python),
# and the wheels are bind-mounted from the builder, so they never become an image layer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install \
       --no-cache-dir --no-index --find-links=/wheels /wheels/easee_exporter-*.whl

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001
EXPOSE 34739

# Marks the container unhealthy after 15 minutes without data (the liveness endpoint turns
# 503). Plain Docker never restarts an unhealthy container: the service itself exits once
# the data is too old, and a restart policy (restart: unless-stopped) brings it back.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/opt/venv/bin/easee-exporter", "healthcheck"]

ENTRYPOINT ["/opt/venv/bin/easee-exporter"]
