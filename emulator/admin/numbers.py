"""Admin numbers checked before anything changes: finite, of the right kind, within bounds.

Why: JSON bodies may carry NaN, Infinity, 1e308 or integers of thousands of digits, and query
strings '²' (a digit to str.isdigit) or 5000 digits (too many for int()); unchecked they became
500s, a NaN time scale or a timedelta overflow. Each bound is one a test could want, no more.
"""

from __future__ import annotations

import math
import re
from typing import Any

from emulator.admin.auth import AdminError

MAX_LIMIT = 1_000_000  # rows one listing may ask for (?limit=); the journal bounds the answer
DEFAULT_LIMIT = 200
MAX_FAULT_SECONDS = 86_400.0  # a fault window of up to one day
MAX_FAULT_COUNT = 10_000  # requests a fault may fail
MAX_SLOW_DELAY = 300.0  # seconds a `slow` fault may hold an answer
MAX_RATE_LIMIT = 1_000_000  # requests per second
_ASCII_DIGITS = re.compile(r"[0-9]{1,7}")  # no more digits than MAX_LIMIT has


def number(
    value: object, name: str, high: float, *, low: float = 0.0, above_low: bool = False,
    whole: bool = False,
) -> float:
    """`value` as a float when it is a JSON number within [low, high] (or (low, high] with
    `above_low`), whole if asked; else AdminError 400 naming the bounds."""
    kind = "a whole number" if whole else "a number"
    span = f"over {low:g} and at most {high:g}" if above_low else f"from {low:g} to {high:g}"
    message = f"{name} must be {kind} {span}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdminError(400, message)
    if isinstance(value, float) and not math.isfinite(value):
        raise AdminError(400, message)
    if whole and isinstance(value, float) and not value.is_integer():
        raise AdminError(400, message)
    if value > high or value < low or (above_low and value == low):
        raise AdminError(400, message)
    return float(value)


def query_limit(text: str | None) -> int:
    """?limit=N: ASCII digits from 1 to MAX_LIMIT; absent or empty means DEFAULT_LIMIT."""
    if not text:
        return DEFAULT_LIMIT
    if not _ASCII_DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise AdminError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def queue_request(data: dict[str, Any]) -> tuple[str, str | None, int]:
    """(scenario, phone or None for any, count) of a queue POST, checked for every family."""
    phone, count = data.get("phone"), data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10_000:
        raise AdminError(400, "count must be a whole number from 1 to 10000")
    if phone is not None and not isinstance(phone, str):
        raise AdminError(400, "phone must be a string such as 254708374149")
    return str(data.get("scenario")), phone, count
