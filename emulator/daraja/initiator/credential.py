"""The SecurityCredential: its form at the door, and (strict mode) what it decrypts to.

A credential is the initiator's password encrypted with the public key of Safaricom's
certificate (RSA, PKCS#1 v1.5) and base64-encoded: 256 bytes, 344 characters (ledger reference
1). By default any well-formed credential is accepted, since only Safaricom can decrypt one made
with its certificate. In strict mode the emulator has its own key pair, serves its certificate,
decrypts and compares; wrong passwords end as result 2001 and repeated ones lock the initiator
(8006) until a reset or an unlock. cryptography (the `tls` extra) is imported only then.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

import msgspec

SANDBOX_INITIATOR = "testapi"
SANDBOX_PASSWORD = "Safaricom999!*!"  # the Daraja 2.0/3.0 sandbox's (ledger reference 13)
BLOCK = 256  # bytes of an RSA-2048 ciphertext
LOCK_AFTER = 3  # wrong passwords in a row before the initiator is locked
_TIMESTAMPED = re.compile(r"(.*?)(\d{14})")


class NeedsCryptography(RuntimeError):
    """Strict credentials need the `cryptography` package (pip install 'daraja-emulator[tls]')."""


def well_formed(credential: str) -> bool:
    """Base64 of one RSA-2048 block: what every client library produces."""
    try:
        raw = base64.b64decode(credential.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == BLOCK


class Verdict(msgspec.Struct, frozen=True):
    """What the credential check found: code None passes, else 2001 or 8006, and why."""

    code: int | None
    why: str


PASSED = Verdict(None, "any well-formed SecurityCredential is accepted (lenient mode)")


class Credentials:
    """Initiators and their passwords, failures and locks; lenient unless `strict`."""

    def __init__(self, strict: bool, initiators: Mapping[str, str]) -> None:
        self.strict = strict
        self.passwords = {SANDBOX_INITIATOR: SANDBOX_PASSWORD, **initiators}  # name -> password
        self.failures: dict[str, int] = {}  # maps initiator -> wrong passwords in a row
        self.locked: set[str] = set()
        self._key: Any = None
        self._certificate = b""
        if strict:
            self._key, self._certificate = _key_pair()

    @property
    def certificate(self) -> bytes:
        """The PEM certificate clients encrypt passwords with (strict mode), else b""."""
        return self._certificate

    def check(self, initiator: str, credential: str) -> Verdict:
        if not self.strict:
            return PASSED
        if initiator not in self.passwords:
            return Verdict(2001, f"unknown initiator {initiator!r}; register it with "
                           "--initiator NAME:PASSWORD")
        if initiator in self.locked:
            return Verdict(8006, f"{initiator} is locked after {LOCK_AFTER} wrong passwords; "
                           "reset the emulator or unlock it through the admin API")
        why = self._mismatch(self._decrypt(credential), self.passwords[initiator])
        if why is None:
            self.failures.pop(initiator, None)
            return Verdict(None, "the credential decrypts to the initiator's password")
        count = self.failures[initiator] = self.failures.get(initiator, 0) + 1
        if count >= LOCK_AFTER:
            self.locked.add(initiator)
            why += f"; {initiator} is now locked (8006 until unlocked)"
        return Verdict(2001, why)

    def _decrypt(self, credential: str) -> bytes | None:
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            raw = base64.b64decode(credential.strip(), validate=True)
            return self._key.decrypt(raw, padding.PKCS1v15())  # type: ignore[no-any-return]
        except ValueError:
            return None

    @staticmethod
    def _mismatch(plain: bytes | None, password: str) -> str | None:
        """None when `plain` is the password; else what it is instead, to help the client."""
        if plain is None:
            return ("the credential does not decrypt with the emulator's key: encrypted with "
                    "Safaricom's certificate, or with OAEP instead of PKCS#1 v1.5?")
        text = plain.decode("utf-8", "replace")
        if text == password:
            return None
        stamped = _TIMESTAMPED.fullmatch(text)
        if stamped and stamped.group(1) == password:
            return ("the decrypted text is the password with a timestamp appended "
                    f"({stamped.group(2)}), as mpesakit does; Daraja wants the password alone")
        if text.strip() == password:
            return "the decrypted text is the password with stray whitespace"
        try:
            if base64.b64decode(text, validate=True).decode() == password:
                return "the decrypted text is base64 of the password; encrypt the password itself"
        except (binascii.Error, ValueError):
            pass
        return "the decrypted text is not the initiator's password"

    def unlock(self, initiator: str) -> bool:
        self.failures.pop(initiator, None)
        if initiator in self.locked:
            self.locked.discard(initiator)
            return True
        return False

    def reset(self) -> None:
        self.failures.clear()
        self.locked.clear()


def _key_pair() -> tuple[Any, bytes]:
    """A fresh RSA-2048 key and a self-signed certificate for it (PEM)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
    except ImportError:
        raise NeedsCryptography(
            "--strict-credentials needs the cryptography package: "
            "pip install 'daraja-emulator[tls]'") from None
    import datetime as dt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apicrypt.daraja-emulator.local")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def encrypt(certificate_pem: bytes, password: str) -> str:
    """A SecurityCredential for `password`, as client libraries make one (tests, QA CLI)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import padding

    public = x509.load_pem_x509_certificate(certificate_pem).public_key()
    return base64.b64encode(public.encrypt(password.encode(), padding.PKCS1v15())).decode()
