"""Formats Daraja checks, defined once: a Kenyan MSISDN and the yyyyMMddHHmmss timestamp."""

from __future__ import annotations

import functools
import re
from datetime import datetime

MSISDN = re.compile(r"254[71][0-9]{8}")  # ASCII digits only: re's \d would take any script's
LOCAL_MSISDN = re.compile(r"0[71][0-9]{8}")  # 07XXXXXXXX as people write it, for hints
_TIMESTAMP = re.compile(r"[0-9]{14}")


def msisdn_hint(text: str) -> str:
    """How a phone that is not an MSISDN was probably meant, for an error's end: 07.../01...
    written locally, or +254...; "" when nothing suggests itself."""
    if LOCAL_MSISDN.fullmatch(text):
        return f" (write it as 254{text[1:]})"
    if text.startswith("+254"):
        return " (without the +)"
    return ""


def msisdn_why(field: str, text: str) -> str:
    """Why `text` is not a valid `field` MSISDN, in the words STK's request log uses."""
    shown = repr(text)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    hint = msisdn_hint(text)
    return f"{field} must be 2547XXXXXXXX or 2541XXXXXXXX (12 digits), got {shown}{hint}"


@functools.lru_cache(maxsize=1024)  # a shop sends the same few timestamps to push and query
def is_timestamp(text: str) -> bool:
    """Fourteen ASCII digits that make a real date and time (yyyyMMddHHmmss)."""
    if not _TIMESTAMP.fullmatch(text):
        return False
    try:  # what strptime(text, "%Y%m%d%H%M%S") accepts on 14 digits, at a third of the cost
        datetime(int(text[:4]), *(int(text[i : i + 2]) for i in range(4, 14, 2)))
    except ValueError:
        return False
    return True
