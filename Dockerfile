# Daraja Emulator: a local stand-in for Safaricom's M-Pesa Daraja API (OAuth, STK Push, STK Query).
#
#   docker build -t daraja-emulator .
#   docker run --rm -p 127.0.0.1:8765:8765 -e DARAJA_TIME_SCALE=0.1 daraja-emulator
#
# Configure it with DARAJA_* variables (every flag of `daraja-emulator --help` has one). Your own
# scenario files: mount a folder on /scenarios (read-only is fine); they join the bundled ones.
# --tls keeps its CA in /var/lib/daraja-emulator/tls: mount a volume there to reuse and trust it.
#
# BASE: any Debian-like image with python3 (3.10+) and its venv module. CI builds this file on a
# base made locally with debootstrap (scripts/image-check): --build-arg BASE=localhost/daraja-base
ARG BASE=python:3.12-slim-bookworm

FROM ${BASE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY scenarios ./scenarios
# the wheel and its dependencies (with cryptography, for --tls) into a venv copied out whole
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check ".[tls]" \
    && /opt/venv/bin/pip uninstall --yes --disable-pip-version-check pip setuptools

FROM ${BASE}
LABEL org.opencontainers.image.title="daraja-emulator" \
      org.opencontainers.image.description="Local stand-in for Safaricom's M-Pesa Daraja API" \
      org.opencontainers.image.licenses="MIT"
RUN useradd --no-log-init --uid 10001 --user-group \
        --home-dir /var/lib/daraja-emulator --create-home --shell /usr/sbin/nologin daraja \
    && mkdir -p /scenarios
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DARAJA_HOST=0.0.0.0 \
    DARAJA_PORT=8765 \
    DARAJA_SCENARIOS=/scenarios \
    DARAJA_TLS_DIR=/var/lib/daraja-emulator/tls
USER 10001:10001
WORKDIR /var/lib/daraja-emulator
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/opt/venv/bin/python", "-m", "emulator.healthcheck"]
ENTRYPOINT ["/opt/venv/bin/daraja-emulator"]
