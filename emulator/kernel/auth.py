"""Reading an Authorization header, in one place: OAuth, the fault gate's rate limit and the
admin guard all ask the same questions of it."""

from __future__ import annotations

import base64
import binascii


def split(authorization: str | None) -> tuple[str, str]:
    """(scheme, credentials) of an Authorization header, the scheme lower-cased; ("", "") when
    there is none."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    return scheme.lower(), value.strip()


def bearer(authorization: str | None) -> str | None:
    """The token of `Bearer <token>` ("" when the token is missing), None for another scheme."""
    scheme, value = split(authorization)
    return value if scheme == "bearer" else None


def basic(authorization: str | None) -> tuple[str, str] | None:
    """(key, secret) of `Basic base64(key:secret)`, either possibly empty; None when the header
    is not Basic or its credentials do not decode."""
    scheme, value = split(authorization)
    if scheme != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    key, _, secret = decoded.partition(":")
    return key, secret
