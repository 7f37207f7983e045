"""--tls: a local certificate authority and a server certificate, kept in a folder across restarts.

The folder holds ca.pem (what clients trust: point SSL_CERT_FILE or REQUESTS_CA_BUNDLE at it),
ca-bundle.pem (that CA plus the public ones, for a process that also talks to real HTTPS hosts),
and the server's cert.pem and key.pem. The CA is made once and reused; the server certificate is
made again only when it no longer covers the names asked for or is close to expiry, so a client
that trusts ca.pem keeps trusting every later start.

The CA carries critical X.509 Name Constraints: it can vouch only for localhost, loopback
addresses, Safaricom's hosts and the names it was made for, so a ca.pem added to a trust store
cannot be used to impersonate any other site. Asking for a name outside them (or finding a CA
made before the constraints) makes a new CA, said in the log: clients must then trust the new
ca.pem.

Needs the `cryptography` package: pip install 'daraja-emulator[tls]'.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import logging
import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

DEFAULT_TLS_DIR = Path("~/.daraja-emulator/tls")
# Hosts that client libraries hard-code: with a hosts-file alias they reach the emulator.
SAFARICOM_HOSTS = ("sandbox.safaricom.co.ke", "api.safaricom.co.ke")
CA_DAYS = 3650
CERT_DAYS = 825  # the longest server certificate lifetime Apple's TLS stack accepts
RENEW_BEFORE = dt.timedelta(days=30)
LOOPBACK_NETS = ("127.0.0.0/8", "::1/128")  # always permitted by the CA's name constraints
log = logging.getLogger("emulator.tls")


class TlsUnavailable(RuntimeError):
    """The optional `cryptography` dependency is missing."""


@dataclass(frozen=True)
class TlsFiles:
    """Where the certificate files are; `ca` is the one clients trust."""

    directory: Path
    ca: Path  # the local CA certificate (PEM)
    bundle: Path  # the local CA followed by the public CAs (certifi), for SSL_CERT_FILE
    cert: Path  # the server certificate (PEM), signed by the CA
    key: Path  # the server's private key (PEM, mode 0600)


def server_names(host: str | None = None, extra: Iterable[str] = ()) -> list[str]:
    """localhost, loopback addresses, this machine's names, Safaricom's hosts, then `extra`."""
    names = ["localhost", "127.0.0.1", "::1", socket.gethostname(), *SAFARICOM_HOSTS]
    if host and host not in ("0.0.0.0", "::", ""):
        names.append(host)
    names.extend(extra)
    return list(dict.fromkeys(n.strip().lower() for n in names if n and n.strip()))


def ensure_tls(directory: Path | None = None, names: Sequence[str] | None = None) -> TlsFiles:
    """The CA and a server certificate covering `names`, made only when missing or stale."""
    _require_cryptography()
    folder = Path(directory or DEFAULT_TLS_DIR).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = TlsFiles(
        folder, folder / "ca.pem", folder / "ca-bundle.pem", folder / "cert.pem", folder / "key.pem"
    )
    wanted = names or server_names()
    with _locked(folder / ".lock"):
        ca_cert, ca_key = _load_or_make_ca(folder, wanted)
        if not _cert_fits(files.cert, ca_cert, wanted):
            _make_server_cert(files, ca_cert, ca_key, wanted)
        ca_pem = files.ca.read_bytes()
        if not files.bundle.exists() or not files.bundle.read_bytes().startswith(ca_pem):
            _write(files.bundle, ca_pem + _public_cas())
    return files


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError as exc:
        raise TlsUnavailable(
            "--tls needs the 'cryptography' package: pip install 'daraja-emulator[tls]'"
        ) from exc


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Two emulators starting at once must not write different CAs into one folder."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; concurrent first starts are unlikely
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Atomically, so a reader never sees half a file; private keys readable by the owner only."""
    tmp = path.with_name(path.name + ".tmp")
    mode = 0o600 if private else 0o644
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        if hasattr(os, "fchmod"):  # also when a crash left the .tmp file behind (not Windows)
            os.fchmod(handle.fileno(), mode)
        handle.write(data)
    os.replace(tmp, path)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _new_key() -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: RSAPrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _load_or_make_ca(
    folder: Path, names: Sequence[str]
) -> tuple[x509.Certificate, RSAPrivateKey]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding

    cert_path, key_path = folder / "ca.pem", folder / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, RSAPrivateKey) and cert.not_valid_after_utc > _now() + RENEW_BEFORE:
            outside = _not_permitted(cert, names)
            if not outside:
                return cert, key
            log.warning(
                "TLS: making a new local CA in %s: the old one %s; clients must trust the new "
                "%s", folder, outside, cert_path,
            )
    cert, key = _make_ca(names)
    _write(key_path, _pem_key(key), private=True)
    _write(cert_path, cert.public_bytes(Encoding.PEM))
    return cert, key


def _permitted_subtrees(names: Sequence[str]) -> list[x509.GeneralName]:
    """Loopback networks, localhost, Safaricom's hosts and `names`: all the CA may vouch for."""
    from cryptography import x509

    nets = dict.fromkeys(ipaddress.ip_network(n) for n in LOOPBACK_NETS)
    hosts = dict.fromkeys(["localhost", *SAFARICOM_HOSTS])
    for name in names:
        if _is_ip(name):
            address = ipaddress.ip_address(name)
            if not any(address in net for net in nets):
                nets[ipaddress.ip_network(address)] = None
        else:
            hosts[name.lower().rstrip(".")] = None
    return [*(x509.IPAddress(net) for net in nets), *(x509.DNSName(h) for h in hosts)]


def _not_permitted(cert: x509.Certificate, names: Sequence[str]) -> str:
    """Why the CA cannot vouch for every name (no name constraints, or a name outside them);
    empty when it can."""
    from cryptography import x509

    try:
        constraints = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return "has no name constraints (made by an earlier version)"
    subtrees = constraints.permitted_subtrees or []
    nets = [g.value for g in subtrees if isinstance(g, x509.IPAddress)]
    hosts = [str(g.value).lower() for g in subtrees if isinstance(g, x509.DNSName)]
    for name in names:
        if _is_ip(name):
            address = ipaddress.ip_address(name)
            if not any(address in net for net in nets):
                return f"may not vouch for {name}"
        else:
            host = name.lower().rstrip(".")
            if not any(host == h or host.endswith("." + h) for h in hosts):
                return f"may not vouch for {name}"
    return ""


def _make_ca(names: Sequence[str] = ()) -> tuple[x509.Certificate, RSAPrivateKey]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = _new_key()
    label = f"Daraja Emulator local CA ({socket.gethostname()}, {_now():%Y-%m-%d})"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Daraja Emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, label[:64]),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(hours=1))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(  # vouches for these names only, even once in a system trust store
            x509.NameConstraints(permitted_subtrees=_permitted_subtrees(names),
                                 excluded_subtrees=None),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _alt_name(name: str) -> x509.GeneralName:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _cert_fits(path: Path, ca_cert: x509.Certificate, names: Sequence[str]) -> bool:
    """The server certificate exists, was signed by this CA, covers every name, is not stale."""
    from cryptography import x509

    if not path.exists() or not path.with_name("key.pem").exists():
        return False
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except Exception:  # unreadable, signed by another CA, no SANs: make a new one
        return False
    covered = {str(v).lower() for v in sans.get_values_for_type(x509.DNSName)}
    covered |= {str(v) for v in sans.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n.lower() for n in names}
    return wanted <= covered and cert.not_valid_after_utc > _now() + RENEW_BEFORE


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _make_server_cert(
    files: TlsFiles, ca_cert: x509.Certificate, ca_key: RSAPrivateKey, names: Sequence[str]
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = _new_key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(hours=1))
        .not_valid_after(_now() + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([_alt_name(n) for n in names]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.key, _pem_key(key), private=True)
    _write(files.cert, cert.public_bytes(Encoding.PEM))


def _public_cas() -> bytes:
    """The public CAs (certifi's bundle, which httpx already depends on), or none."""
    try:
        import certifi
    except ImportError:
        return b""
    return b"\n" + Path(certifi.where()).read_bytes()
