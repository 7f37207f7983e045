"""Garbage-collector settings for the emulator's own server process.

Why: an emulator under load keeps tens of thousands of pending transactions alive for minutes.
With CPython's default thresholds (700, 10, 10) the objects of requests still in flight are
promoted to the oldest generation on almost every young collection, so full collections, which
walk every live object, come every few thousand pushes and cost more as the backlog grows
(measured: 15-20 µs of every push at 50,000 pending, single pauses over 100 ms). Freezing what
start-up built and collecting the youngest generation every 10,000 allocations brings that to
about 2 µs a push, with young collections of a few milliseconds.

Start-up itself runs without collections (`paused`): imports, scenarios and the app are kept for
the life of the process, so the 60-odd young collections they triggered in `serve` (17-21 ms)
found almost nothing to free, and `apply` freezes without collecting first: a full collection
there took 17-20 ms to free 200-800 objects (under 200 KiB: argparse's parser, the help
formatter, closures of the loaders), which now stay in the frozen generation for ever.

Only `daraja-emulator` itself calls these: an emulator started inside another process (the
pytest plugin, `EmulatorServer`) leaves that process's collector alone.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

THRESHOLDS = (10_000, 20, 10)  # young collection every 10,000 net allocations


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collections inside; the collector is as it was after (an error included)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def apply() -> None:
    """Freeze what start-up built (modules, app, scenarios) and raise the thresholds."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
