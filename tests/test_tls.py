"""--tls: real clients verify the emulator's certificate against the CA it made, and only that."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.cli import main
from emulator.config import SANDBOX_PASSKEY
from emulator.healthcheck import main as healthcheck
from emulator.tls import SAFARICOM_HOSTS, TlsUnavailable, ensure_tls, server_names
from tests.helpers import CallbackReceiver, load_example_service


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def tls_server(tls_dir: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, tls=True, tls_dir=tls_dir)) as server:
        yield server


def handshake(port: int, hostname: str, cafile: Path) -> dict:
    """A TLS handshake with 127.0.0.1 that verifies the certificate for `hostname`, as a client
    does after a hosts-file alias sends that name to this machine."""
    context = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=hostname) as tls:
            return tls.getpeercert()


def test_httpx_verifies_the_certificate_with_the_ca(tls_server: EmulatorServer) -> None:
    assert tls_server.url.startswith("https://") and tls_server.tls is not None
    trust = ssl.create_default_context(cafile=str(tls_server.tls.ca))
    for host in ("127.0.0.1", "localhost"):
        r = httpx.get(f"https://{host}:{tls_server.port}/_emulator/health", verify=trust)
        assert r.status_code == 200 and r.json()["status"] == "ok"


def test_without_the_ca_the_certificate_is_refused(tls_server: EmulatorServer) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_server.url}/_emulator/health", verify=ssl.create_default_context())


@pytest.mark.parametrize("hostname", [*SAFARICOM_HOSTS, socket.gethostname().lower()])
def test_certificate_covers_safaricom_hosts_and_this_machine(
    tls_server: EmulatorServer, hostname: str
) -> None:
    assert tls_server.tls is not None
    cert = handshake(tls_server.port, hostname, tls_server.tls.ca)
    assert ("DNS", hostname) in cert["subjectAltName"]


def test_certificate_does_not_cover_other_hosts(tls_server: EmulatorServer) -> None:
    assert tls_server.tls is not None
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_server.port, "api.example.com", tls_server.tls.ca)


def test_ca_and_certificate_are_kept_across_restarts(tls_dir: Path) -> None:
    first = ensure_tls(tls_dir)
    ca, cert = first.ca.read_bytes(), first.cert.read_bytes()
    again = ensure_tls(tls_dir)
    assert again.ca.read_bytes() == ca and again.cert.read_bytes() == cert
    # a new name the CA may vouch for (under localhost): new cert, same CA
    wider = ensure_tls(tls_dir, [*server_names(), "shop.localhost"])
    assert wider.ca.read_bytes() == ca and wider.cert.read_bytes() != cert
    wider_cert = wider.cert.read_bytes()
    # a name outside the CA's name constraints: a new CA (said in the log) and a new cert
    other = ensure_tls(tls_dir, [*server_names(), "shop.test"])
    assert other.ca.read_bytes() != ca and other.cert.read_bytes() != wider_cert
    ca = other.ca.read_bytes()
    assert (first.key.stat().st_mode & 0o777) == 0o600
    assert (tls_dir / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    bundle = first.bundle.read_bytes()
    assert bundle.startswith(ca) and bundle.count(b"BEGIN CERTIFICATE") > 10


def test_a_missing_cryptography_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(TlsUnavailable, match=r"pip install 'daraja-emulator\[tls\]'"):
        ensure_tls(tmp_path)


def test_tls_without_cryptography_stops_start_up_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    assert main(["--tls", "--tls-dir", str(tmp_path), "--port", "0"], env={}) == 2
    assert "pip install 'daraja-emulator[tls]'" in capsys.readouterr().err


def test_health_check_speaks_tls(tls_server: EmulatorServer) -> None:
    env = {"DARAJA_PORT": str(tls_server.port), "DARAJA_TLS": "1"}
    assert healthcheck([], env) == 0
    assert healthcheck([], {**env, "DARAJA_TLS": "0"}) == 1  # plain http to a TLS port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_tls_serves_the_seed_client_trusting_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: CallbackReceiver
) -> None:
    """`daraja-emulator --tls` prints its CA; the guide's MPesaService, unchanged, completes a
    payment over HTTPS once SSL_CERT_FILE points at that CA."""
    port = _free_port()
    log = tmp_path / "emulator.log"
    env = {**os.environ, "DARAJA_TIME_SCALE": "0"}
    cmd = [sys.executable, "-m", "emulator", "--tls", "--tls-dir", str(tmp_path / "tls"),
           "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while "Uvicorn running" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        printed = re.search(r"trust the CA (\S+)", log.read_text())
        assert printed, log.read_text()
        ca = Path(printed[1])
        assert ca == tmp_path / "tls" / "ca.pem" and ca.exists()
        assert f"on https://127.0.0.1:{port}" in log.read_text()

        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        monkeypatch.setenv("MPESA_BASE_URL", f"https://localhost:{port}")
        monkeypatch.setenv("MPESA_CONSUMER_KEY", "key")
        monkeypatch.setenv("MPESA_CONSUMER_SECRET", "secret")
        monkeypatch.setenv("MPESA_SHORTCODE", "174379")
        monkeypatch.setenv("MPESA_PASSKEY", SANDBOX_PASSKEY)
        monkeypatch.setenv("MPESA_CALLBACK_URL", receiver.url())
        service = load_example_service()()
        answer = asyncio.run(service.initiate_stk_push("254708374149", 10, "TLS-1", "x"))
        assert answer["ResponseCode"] == "0"
        [callback] = receiver.wait(answer["CheckoutRequestID"])
        assert callback["Body"]["stkCallback"]["ResultCode"] == 0
    finally:
        proc.terminate()
        proc.wait(10)
