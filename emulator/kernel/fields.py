"""Reading a Daraja JSON field as real clients send it, once for every family: numbers or
strings, a whole-number float as its integer, a URL checked the way Daraja refuses one."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

MAX_AMOUNT = 250_000  # KES per transaction
_AMOUNT = re.compile(r"[0-9]{1,9}(\.0{1,2})?")
_URL_FORBIDDEN = re.compile(r"[\s<>{}\"'`|\\^]")


def text(value: Any) -> str | None:
    """A JSON string or whole number as text; null, booleans, lists and 4.5 are None."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if kind is float and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return None


def url(value: str) -> bool:
    """An http(s) URL with a host; placeholders, spaces, quotes and control characters fail
    (they would reach the logs and the receiver's request line)."""
    if not value or len(value) > 2048 or not value.isprintable() or _URL_FORBIDDEN.search(value):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and (
        port is None or 0 < port < 65536)


def amount(value: str) -> bool:
    """Whole shillings from 1 to MAX_AMOUNT, `.0` or `.00` allowed."""
    return bool(_AMOUNT.fullmatch(value)) and 1 <= int(value.split(".")[0]) <= MAX_AMOUNT
