"""Keyed due-time jobs on the injected clock, all behind one wake-up.

A job is a key and a due time: an entry in a heap of (due, seq, key) tuples plus a dict
key -> that same tuple. Tuples of floats and strings are invisible to the cyclic garbage
collector, so a hundred thousand pending transactions add nothing to its full collections (one
timer per job would bring a handle, a Context, a bound method and a closure each, and the GC
pauses that grow with them). Keys let a job be cancelled (reset) or run early (fast-forward); a
cancelled job's heap entry is skipped when it surfaces. Time comes from the clock: with a
FakeClock, `advance` fires what falls due, so tests never sleep.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Hashable

from emulator.kernel.clock import Clock, Wake

log = logging.getLogger("emulator.scheduler")
_COMPACT_MIN = 1024  # stale heap entries tolerated before the heap is rebuilt from live jobs
Key = Hashable  # a family's job key: an id, or a (purpose, id) tuple


class Scheduler:
    def __init__(self, clock: Clock, fire: Callable[[Key], None]) -> None:
        self._clock = clock
        self._fire = fire  # called with the key when its job falls due
        # maps key -> its live heap entry (due monotonic time, seq, key): one tuple per job
        self._jobs: dict[Key, tuple[float, int, Key]] = {}
        self._heap: list[tuple[float, int, Key]] = []  # (due, seq, key); stale ones skipped
        self._seq = 0
        self._wake: Wake | None = None
        self._wake_due = float("inf")

    def __len__(self) -> int:
        return len(self._jobs)

    def after(self, key: Key, seconds: float) -> None:
        """Fire `key` in `seconds` (clock seconds); a job with the same key is replaced."""
        due = self._clock.monotonic() + max(seconds, 0.0)
        self._seq += 1
        self._jobs[key] = entry = (due, self._seq, key)
        heapq.heappush(self._heap, entry)
        if len(self._heap) > 2 * len(self._jobs) + _COMPACT_MIN:
            self._compact()
        if due < self._wake_due:
            self._arm(due)

    def cancel(self, key: Key) -> bool:
        return self._jobs.pop(key, None) is not None

    def cancel_all(self) -> None:
        self._jobs.clear()
        self._heap.clear()
        if self._wake is not None:
            self._wake.cancel()
        self._wake, self._wake_due = None, float("inf")

    def run_now(self, key: Key) -> bool:
        """Bring a job forward to now (fast-forward); False when no such job is waiting."""
        if key not in self._jobs:
            return False
        self.after(key, 0.0)
        return True

    def due_in(self, key: Key) -> float | None:
        """Seconds until the job runs, or None when there is no such job."""
        job = self._jobs.get(key)
        if job is None:
            return None
        return max(job[0] - self._clock.monotonic(), 0.0)

    def keys(self) -> list[Key]:
        return list(self._jobs)

    def _arm(self, due: float) -> None:
        if self._wake is not None:
            self._wake.cancel()
        self._wake, self._wake_due = self._clock.call_at(due, self._run), due

    def _run(self) -> None:
        """The wake-up came: fire every job now due, in due order, then wait for the next."""
        self._wake, self._wake_due = None, float("inf")
        now = self._clock.monotonic() + self._clock.tolerance
        heap, jobs, due_keys = self._heap, self._jobs, []
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            key = entry[2]
            if jobs.get(key) is entry:  # else cancelled or rescheduled
                del jobs[key]
                due_keys.append(key)
        for key in due_keys:  # jobs these add wait for the next wake-up, never this batch
            try:
                self._fire(key)
            except Exception:  # one broken job must not hold back the others
                log.exception("scheduled job %s failed", key)
        heap = self._heap  # a job may have compacted it into a new list
        if heap and heap[0][0] < self._wake_due:
            self._arm(heap[0][0])

    def _compact(self) -> None:
        """Drop stale entries (many cancels: decisions, resets of single jobs)."""
        self._heap = list(self._jobs.values())
        heapq.heapify(self._heap)
