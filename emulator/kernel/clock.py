"""Clocks: the domain never reads time itself; it is handed `now` from one of these."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

EAT = timezone(timedelta(hours=3), "EAT")  # every Safaricom timestamp is East Africa Time


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware wall-clock time (UTC); used for ids, receipts and token expiry."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FakeClock:
    """A clock tests move by hand, so nothing has to sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


def monotonic() -> float:
    """Monotonic seconds, for latencies."""
    return time.monotonic()


def eat(moment: datetime) -> datetime:
    """The same instant in East Africa Time."""
    return moment.astimezone(EAT)
