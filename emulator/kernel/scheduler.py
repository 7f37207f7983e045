"""Keyed due-time jobs on the running event loop, all behind one loop timer.

A job is a key and a due time: an entry in a heap of (due, seq, key) tuples plus a dict
key -> (due, seq). Tuples of floats and strings are invisible to the cyclic garbage collector, so
a hundred thousand pending transactions add nothing to its full collections (one asyncio
TimerHandle per job would bring a handle, a Context, a bound method and a closure each, and the
GC pauses that grow with them). Keys let a job be cancelled (reset) or run early (fast-forward);
a cancelled job's heap entry is skipped when it surfaces.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable

log = logging.getLogger("emulator.kernel.scheduler")
_RESOLUTION = time.get_clock_info("monotonic").resolution
_COMPACT_MIN = 1024  # stale heap entries tolerated before the heap is rebuilt from live jobs


class Scheduler:
    def __init__(self, fire: Callable[[str], None]) -> None:
        self._fire = fire  # called with the key when its job falls due
        self._jobs: dict[str, tuple[float, int]] = {}  # maps key -> (due loop time, seq)
        self._heap: list[tuple[float, int, str]] = []  # (due, seq, key); stale ones skipped
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = float("inf")

    def __len__(self) -> int:
        return len(self._jobs)

    def at(self, key: str, delay: float) -> None:
        """Fire `key` after `delay` seconds; a job with the same key is replaced."""
        loop = asyncio.get_running_loop()
        due = loop.time() + max(delay, 0.0)
        self._seq += 1
        self._jobs[key] = (due, self._seq)
        heapq.heappush(self._heap, (due, self._seq, key))
        if len(self._heap) > 2 * len(self._jobs) + _COMPACT_MIN:
            self._compact()
        if due < self._timer_due:
            self._arm(loop, due)

    def cancel(self, key: str) -> bool:
        return self._jobs.pop(key, None) is not None

    def cancel_all(self) -> None:
        self._jobs.clear()
        self._heap.clear()
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = None, float("inf")

    def run_now(self, key: str) -> bool:
        """Bring a job forward to now (fast-forward); False when no such job is waiting."""
        if key not in self._jobs:
            return False
        self.at(key, 0.0)
        return True

    def due_in(self, key: str) -> float | None:
        """Seconds until the job runs, or None when there is no such job."""
        job = self._jobs.get(key)
        if job is None:
            return None
        return max(job[0] - asyncio.get_running_loop().time(), 0.0)

    def keys(self) -> list[str]:
        return list(self._jobs)

    def _arm(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = loop.call_at(due, self._run), due

    def _run(self) -> None:
        """The loop timer went off: fire every job now due, in due order, then re-arm."""
        self._timer, self._timer_due = None, float("inf")
        loop = asyncio.get_running_loop()
        now = loop.time() + _RESOLUTION  # as asyncio does: a timer may fire a tick early
        heap, jobs, due_keys = self._heap, self._jobs, []
        while heap and heap[0][0] <= now:
            _, seq, key = heapq.heappop(heap)
            job = jobs.get(key)
            if job is not None and job[1] == seq:  # else cancelled or rescheduled
                del jobs[key]
                due_keys.append(key)
        for key in due_keys:  # jobs these add wait for the next timer, never this batch
            try:
                self._fire(key)
            except Exception:  # one broken job must not hold back the others
                log.exception("scheduled job %s failed", key)
        heap = self._heap  # a job may have compacted it into a new list
        if heap and heap[0][0] < self._timer_due:
            self._arm(loop, heap[0][0])

    def _compact(self) -> None:
        """Drop stale entries (many cancels: decisions, resets of single jobs)."""
        self._heap = [(due, seq, key) for key, (due, seq) in self._jobs.items()]
        heapq.heapify(self._heap)
