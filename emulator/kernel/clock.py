"""Clocks: the domain never reads time itself; it is handed `now` from one of these.

A clock also wakes the scheduler: the system clock through the running event loop, the fake
clock when a test moves it, so outcomes and callbacks fall due with no sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol

EAT = timezone(timedelta(hours=3), "EAT")  # every Safaricom timestamp is East Africa Time


class Wake(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    tolerance: float  # how early a wake-up may come; due times within it count as due

    def now(self) -> datetime:
        """Aware wall-clock time (UTC); used for ids, receipts and token expiry."""
        ...

    def monotonic(self) -> float:
        """Seconds that only go forward, for due times."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Wake:
        """Run `callback` once monotonic() reaches `when` (a little early is allowed)."""
        ...


class SystemClock:
    """The real clock; wakes through the running event loop."""

    tolerance = 0.001  # a loop timer may fire up to a tick early (uvloop counts milliseconds)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def call_at(self, when: float, callback: Callable[[], None]) -> Wake:
        loop = asyncio.get_running_loop()
        return loop.call_later(max(when - time.monotonic(), 0.0), callback)


class _FakeWake:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock tests move by hand: `advance` runs whatever falls due, in order, at once."""

    tolerance = 0.0

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
        self._mono = 0.0
        self._wakes: list[tuple[float, int, Callable[[], None], _FakeWake]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def call_at(self, when: float, callback: Callable[[], None]) -> Wake:
        wake = _FakeWake()
        heapq.heappush(self._wakes, (when, next(self._seq), callback, wake))
        return wake

    def advance(self, seconds: float) -> None:
        """Move both clocks forward and run every wake now due (including ones they add)."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
        while self._wakes and self._wakes[0][0] <= self._mono:
            _, _, callback, wake = heapq.heappop(self._wakes)
            if not wake.cancelled:
                callback()


def monotonic() -> float:
    """Monotonic seconds, for latencies."""
    return time.monotonic()


def eat(moment: datetime) -> datetime:
    """The same instant in East Africa Time."""
    return moment.astimezone(EAT)
