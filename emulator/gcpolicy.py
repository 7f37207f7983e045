"""Garbage-collector settings for the emulator's own server process.

Why: an emulator under load keeps tens of thousands of pending transactions alive for minutes.
With CPython's default thresholds (700, 10, 10) the objects of requests still in flight are
promoted to the oldest generation on almost every young collection, so full collections, which
walk every live object, come every few thousand pushes and cost more as the backlog grows
(measured: 15-20 µs of every push at 50,000 pending, single pauses over 100 ms). Freezing what
start-up built and collecting the youngest generation every 10,000 allocations brings that to
about 2 µs a push, with young collections of a few milliseconds.

Only `daraja-emulator` itself calls `apply()`: an emulator started inside another process (the
pytest plugin, `EmulatorServer`) leaves that process's collector alone.
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 10)  # young collection every 10,000 net allocations


def apply() -> None:
    """Collect once, freeze the survivors (modules, app, scenarios) and raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
