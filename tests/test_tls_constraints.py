"""The local CA carries critical Name Constraints (issue 12): trusted once, it still cannot
vouch for any site but localhost, loopback addresses, Safaricom's hosts and its own names."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from emulator import EmulatorServer, Settings
from emulator.tls import SAFARICOM_HOSTS, ensure_tls, server_names


def _ca(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_ca_has_critical_name_constraints(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path, server_names("127.0.0.1", ["shop.test"]))
    ext = _ca(files.ca).extensions.get_extension_for_class(x509.NameConstraints)
    assert ext.critical
    permitted = ext.value.permitted_subtrees or []
    dns = {g.value for g in permitted if isinstance(g, x509.DNSName)}
    ips = {g.value for g in permitted if isinstance(g, x509.IPAddress)}
    assert {"localhost", "shop.test", socket.gethostname().lower(), *SAFARICOM_HOSTS} <= dns
    assert ips == {ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")}
    assert ext.value.excluded_subtrees is None


def test_server_certificate_still_verifies_with_httpx(tmp_path: Path) -> None:
    with EmulatorServer(Settings(time_scale=0, tls=True, tls_dir=tmp_path)) as server:
        assert server.tls is not None
        trust = ssl.create_default_context(cafile=str(server.tls.ca))
        for host in ("127.0.0.1", "localhost"):
            r = httpx.get(f"https://{host}:{server.port}/_emulator/health", verify=trust)
            assert r.status_code == 200


def _leaf(ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def test_a_stolen_ca_key_cannot_vouch_for_another_site(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)
    ca_cert = _ca(files.ca)
    ca_key = serialization.load_pem_private_key((tmp_path / "ca-key.pem").read_bytes(), None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    verifier = PolicyBuilder().store(Store([ca_cert]))
    ok = _leaf(ca_cert, ca_key, "api.safaricom.co.ke")
    verifier.build_server_verifier(x509.DNSName("api.safaricom.co.ke")).verify(ok, [])
    evil = _leaf(ca_cert, ca_key, "bank.example.com")
    with pytest.raises(VerificationError):
        verifier.build_server_verifier(x509.DNSName("bank.example.com")).verify(evil, [])


def test_a_ca_without_constraints_is_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A --tls-dir from an earlier version: its CA lacks the constraint, so a new one is made."""
    from emulator import tls

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old emulator CA")])
    now = dt.datetime.now(dt.timezone.utc)
    old = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "ca.pem").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ca-key.pem").write_bytes(tls._pem_key(key))
    caplog.set_level(logging.WARNING, logger="emulator.tls")
    files = ensure_tls(tmp_path)
    fresh = _ca(files.ca)
    assert fresh != old
    assert fresh.extensions.get_extension_for_class(x509.NameConstraints).critical
    assert any("no name constraints" in r.getMessage() and "new" in r.getMessage()
               for r in caplog.records)
    again = ensure_tls(tmp_path)  # kept from now on
    assert again.ca.read_bytes() == files.ca.read_bytes()
