"""Keyed due-time jobs on the running event loop.

Each job is one entry in asyncio's own timer heap, so ten thousand pending transactions cost ten
thousand small handles, not threads or sleeping tasks. Keys let a job be cancelled (reset) or run
early (fast-forward).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Job:
    due: float  # loop time at which it runs
    handle: asyncio.TimerHandle
    fn: Callable[[], None]


class Scheduler:
    def __init__(self) -> None:
        self._jobs: dict[str, _Job] = {}  # maps job key -> its timer

    def __len__(self) -> int:
        return len(self._jobs)

    def at(self, key: str, delay: float, fn: Callable[[], None]) -> None:
        """Run `fn` after `delay` seconds; a job with the same key is replaced."""
        self.cancel(key)
        loop = asyncio.get_running_loop()
        due = loop.time() + max(delay, 0.0)
        self._jobs[key] = _Job(due, loop.call_at(due, self._fire, key), fn)

    def _fire(self, key: str) -> None:
        job = self._jobs.pop(key, None)
        if job is not None:
            job.fn()

    def cancel(self, key: str) -> bool:
        job = self._jobs.pop(key, None)
        if job is not None:
            job.handle.cancel()
        return job is not None

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            job.handle.cancel()
        self._jobs.clear()

    def run_now(self, key: str) -> bool:
        """Bring a job forward to now (fast-forward); False when no such job is waiting."""
        job = self._jobs.get(key)
        if job is None:
            return False
        self.at(key, 0.0, job.fn)
        return True

    def due_in(self, key: str) -> float | None:
        """Seconds until the job runs, or None when there is no such job."""
        job = self._jobs.get(key)
        if job is None:
            return None
        return max(job.due - asyncio.get_running_loop().time(), 0.0)

    def keys(self) -> list[str]:
        return list(self._jobs)
