"""The STK lifecycle: an accepted push's outcome when due, then its callback(s).

Time comes from the kernel's scheduler (on the injected clock); posts go through the kernel's
delivery as tasks that never raise into the request path, so a slow or dead receiver delays
nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from emulator.daraja.stk.models import State, Transaction
from emulator.daraja.stk.rules import StkBackend
from emulator.daraja.stk.wire import callback_payload, encode_callback
from emulator.kernel.clock import Clock
from emulator.kernel.delivery import Delivery
from emulator.kernel.events import EventBus
from emulator.kernel.scheduler import Key, Scheduler
from emulator.scenario.model import Delivery as Posts

log = logging.getLogger("emulator.runtime")
_POSTS = {Posts.ONCE: 1, Posts.TWICE: 2, Posts.NEVER: 0}  # posts each delivery makes
DUPLICATE = "duplicate"  # job key (DUPLICATE, CheckoutRequestID): a duplicate's second post


class StkLifecycle:
    def __init__(
        self,
        backend: StkBackend,
        delivery: Delivery,
        clock: Clock,
        events: EventBus,
        time_scale: float,
    ) -> None:
        self.backend = backend
        self.scheduler = Scheduler(clock, self._due)  # keys: CheckoutRequestID, or DUPLICATE pairs
        self._delivery = delivery
        self._clock = clock
        self.events = events
        self.time_scale = time_scale
        self._tasks: set[asyncio.Task[None]] = set()  # callback posts in flight

    def accepted(self, txn: Transaction) -> None:
        """Schedule the outcome: scaled scenario delay, or real seconds for a manual wait."""
        delay = txn.delay if txn.state is State.WAITING else txn.delay * self.time_scale
        txn.due_at = txn.created_at + timedelta(seconds=delay)
        self.backend.records.save(txn)
        self.scheduler.after(txn.checkout_request_id, delay)
        self.events.publish("transaction", txn.checkout_request_id)
        if txn.queued:
            self.events.publish("queue")  # a queued outcome was used up

    def withdraw(self, txn: Transaction) -> None:
        """Take back an acceptance whose answer was never sent: no outcome, no lock, no record."""
        self.scheduler.cancel(txn.checkout_request_id)
        self.backend.withdraw(txn)
        with contextlib.suppress(Exception):  # the failure being undone may be the event bus
            self.events.publish("transaction", txn.checkout_request_id)

    def _due(self, key: Key) -> None:
        """A scheduled job fell due: an outcome, or the second post of a duplicate callback."""
        if isinstance(key, tuple):
            txn = self.backend.records.get(key[1])
            if txn is not None:  # None: reset, or evicted from the journal since
                self._spawn(txn)
        else:
            self.finish(str(key))

    def restore(self, txns: list[Transaction]) -> None:
        """After a restart: pending outcomes resume on time (now, if overdue) and callbacks that
        never went out are sent."""
        now = self._clock.now()
        for txn in txns:
            if not txn.is_final:
                due = txn.due_at or now
                self.scheduler.after(txn.checkout_request_id, (due - now).total_seconds())
            else:
                for _ in range(_POSTS[txn.scenario.callback] - len(txn.attempts)):
                    txn.timeline.append((now, "callback sent after a restart"))
                    self._spawn(txn)

    def finish(
        self,
        checkout_id: str,
        outcome: tuple[int | str, str] | None = None,
        note: str = "outcome due",
    ) -> Transaction | None:
        """Complete the transaction now and start its delivery; None if it was already final."""
        self.scheduler.cancel(checkout_id)
        txn = self.backend.complete(checkout_id, self._clock.now(), outcome, note)
        if txn is not None:
            self._deliver(txn)
            self.events.publish("transaction", checkout_id)
        return txn

    def decide(self, checkout_id: str, code: int | str, desc: str) -> Transaction | None:
        """The customer's phone decides now; the callback follows as usual."""
        return self.finish(checkout_id, (code, desc), note="decided on the customer's phone")

    def fast_forward(self, checkout_id: str | None = None) -> int:
        """Bring the outcome of one pending transaction, or all, forward to now."""
        keys = [checkout_id] if checkout_id else self.scheduler.keys()
        return sum(self.scheduler.run_now(k) for k in keys if not isinstance(k, tuple))

    def due_in(self, checkout_id: str) -> float | None:
        return self.scheduler.due_in(checkout_id)

    def _deliver(self, txn: Transaction) -> None:
        mode = txn.scenario.callback
        if mode is Posts.NEVER:
            txn.timeline.append((self._clock.now(), "callback withheld: scenario says never"))
            return
        self._spawn(txn)
        if mode is Posts.TWICE:
            gap = txn.scenario.duplicate_gap * self.time_scale
            self.scheduler.after((DUPLICATE, txn.checkout_request_id), gap)

    def _spawn(self, txn: Transaction) -> None:
        task = asyncio.get_running_loop().create_task(self._post(txn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, txn: Transaction) -> None:
        body = encode_callback(callback_payload(txn))
        attempt = await self._delivery.post(txn.request.callback_url, body, txn.checkout_request_id)
        txn.attempts += (attempt,)
        if attempt.status is not None:
            note = f"callback posted to {attempt.url}: {attempt.status}"
        else:
            note = f"callback to {attempt.url} not delivered: {attempt.error}"
        txn.timeline.append((attempt.at, note))
        self.backend.records.save(txn)
        self.events.publish("transaction", txn.checkout_request_id)

    def reset(self) -> None:
        """Forget every scheduled outcome and in-flight callback: none arrives later."""
        self.scheduler.cancel_all()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for callbacks in flight (graceful shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
