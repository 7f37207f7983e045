"""Live journal events for watchers (the dashboard's event stream); publishing never blocks.

An event is a kind ("transaction", "reset", "scenarios", "queue") and, for transactions, the
CheckoutRequestID; watchers read the record itself from the journal.
"""

from __future__ import annotations

import asyncio

import msgspec

QUEUE_SIZE = 1000  # events a slow watcher may lag behind before it misses some


class Event(msgspec.Struct, frozen=True):
    kind: str
    checkout_id: str | None = None


class EventBus:
    def __init__(self) -> None:
        self._watchers: set[asyncio.Queue[Event]] = set()  # one queue per live watcher

    def publish(self, kind: str, checkout_id: str | None = None) -> None:
        if not self._watchers:
            return
        event = Event(kind, checkout_id)
        for queue in self._watchers:
            if queue.full():  # a stalled watcher loses events rather than holding memory
                continue
            queue.put_nowait(event)

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._watchers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._watchers.discard(queue)

    @property
    def watchers(self) -> int:
        return len(self._watchers)
