"""The C2B lifecycle: after the customer pays, the validation POST (when the shortcode has
external validation on) and its answer, then the confirmation POST(s).

Due times come from the kernel's scheduler on the injected clock (scenario delays times the
time scale); posts go through the kernel's delivery as tasks that never raise into the request
path. The validation POST has its own delivery, whose timeout is Daraja's ~8 s wait in real
seconds: an answer later than that counts as none, and ResponseType decides.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from emulator.daraja.c2b import wire
from emulator.daraja.c2b.models import Payment, State
from emulator.daraja.c2b.rules import C2BBackend
from emulator.kernel.clock import Clock
from emulator.kernel.delivery import Delivery
from emulator.kernel.events import EventBus
from emulator.kernel.scheduler import Key, Scheduler
from emulator.ledger.models import Entry
from emulator.scenario.model import Delivery as Posts

log = logging.getLogger("emulator.c2b")
_POSTS = {Posts.ONCE: 1, Posts.TWICE: 2, Posts.NEVER: 0}  # confirmations each mode sends
DUPLICATE = "duplicate"  # job key (DUPLICATE, TransID): a duplicate's second confirmation


def encode(body: dict[str, str]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class C2BLifecycle:
    def __init__(
        self,
        backend: C2BBackend,
        delivery: Delivery,
        validation_delivery: Delivery,
        clock: Clock,
        events: EventBus,
        time_scale: Callable[[], float],
        name_fields: str = "auto",
    ) -> None:
        self.backend = backend
        self.scheduler = Scheduler(clock, self._due)  # keys: TransID, or DUPLICATE pairs
        self._delivery = delivery
        self._validation_delivery = validation_delivery
        self._clock = clock
        self.events = events
        self._scale = time_scale  # the emulator's time scale, read when a delay starts
        self._name_fields = name_fields
        self._tasks: set[asyncio.Task[None]] = set()

    def started(self, p: Payment) -> None:
        """The customer paid: the next step after the scenario's (scaled) delay."""
        delay = p.spec.delay.pick(self.backend.ids.rng) * self._scale()
        self.scheduler.after(p.trans_id, delay)
        self.events.publish("c2b", p.trans_id)

    def stk_paid(self, entry: Entry, till: bool) -> None:
        """STK moved money into a shortcode; if it registered URLs, confirm it there too."""
        p = self.backend.stk_paid(entry, till, self._clock.now())
        if p is not None:
            self._confirm_later(p)

    def business_paid(self, entry: Entry, till: bool) -> None:
        """B2B moved money into a shortcode; if it registered URLs, confirm it there."""
        p = self.backend.business_paid(entry, till, self._clock.now())
        if p is not None:
            self._confirm_later(p)

    def _names(self, p: Payment) -> tuple[str, str, str]:
        if p.payer:
            business = self.backend.ledger.business(p.payer)
            return (business.name if business else p.payer), "", ""
        return self.backend.ledger.names.name(p.phone)

    def _confirm_later(self, p: Payment) -> None:
        self.scheduler.after(("confirm", p.trans_id), p.spec.delay.pick(self.backend.ids.rng)
                             * self._scale())

    def _due(self, key: Key) -> None:
        if isinstance(key, tuple):
            p = self.backend.payments.get(key[1])
            if p is None:  # reset since, or evicted
                return
            if key[0] == "confirm":
                self._deliver(p)
            else:
                self._spawn(self._confirm(p))
            return
        self._step(str(key))

    def _step(self, trans_id: str) -> None:
        """The delay ran out: ask the merchant first, or complete at once."""
        p = self.backend.payments.get(trans_id)
        if p is None or p.state is not State.PENDING:
            return
        now = self._clock.now()
        if not self.backend.funded(p, now):
            pass  # failed: the customer's wallet is too small, nobody is asked or told
        elif p.validates:
            self.backend.validating(p, now)
            self._spawn(self._validate(p))
        elif self.backend.complete(p, now, "no validation"):
            self._deliver(p)
        self.events.publish("c2b", trans_id)

    async def _validate(self, p: Payment) -> None:
        assert p.registration is not None
        names = self.backend.ledger.names.name(p.phone)
        body = encode(wire.notification(p, names, confirmation=False,
                                        name_fields=self._name_fields))
        attempt = await self._validation_delivery.post(p.registration.validation_url, body,
                                                       p.trans_id)
        p.validations.append(attempt)
        outcome = attempt.status if attempt.status is not None else attempt.error
        p.timeline.append((attempt.at, f"validation posted to {attempt.url}: {outcome}"))
        if self.backend.answered(p, attempt, self._clock.now()):
            self._deliver(p)
        self.backend.payments.save(p)
        self.events.publish("c2b", p.trans_id)

    def _deliver(self, p: Payment) -> None:
        mode = p.spec.confirmation
        if p.registration is None:
            p.timeline.append((self._clock.now(), "no URLs registered: nobody is told"))
        elif mode is Posts.NEVER:
            p.timeline.append((self._clock.now(), "confirmation withheld: scenario says never"))
        else:
            self._spawn(self._confirm(p))
            if mode is Posts.TWICE:
                self.scheduler.after((DUPLICATE, p.trans_id), p.spec.duplicate_gap * self._scale())
        self.backend.payments.save(p)

    async def _confirm(self, p: Payment) -> None:
        assert p.registration is not None
        names = self._names(p)
        body = encode(wire.notification(p, names, confirmation=True,
                                        name_fields=self._name_fields))
        attempt = await self._delivery.post(p.registration.confirmation_url, body, p.trans_id)
        p.confirmations.append(attempt)
        outcome = attempt.status if attempt.status is not None else attempt.error
        p.timeline.append((attempt.at, f"confirmation posted to {attempt.url}: {outcome}"))
        self.backend.payments.save(p)
        self.events.publish("c2b", p.trans_id)

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def restore(self, payments: list[Payment]) -> None:
        """After a restart: waiting payments go on now; a validation in flight is asked again;
        confirmations owed are sent."""
        for p in payments:
            if p.state is State.PENDING:
                self.scheduler.after(p.trans_id, 0.0)
            elif p.state is State.VALIDATING:
                self._spawn(self._validate(p))
            elif p.state is State.COMPLETED and p.registration is not None:
                for _ in range(_POSTS[p.spec.confirmation] - len(p.confirmations)):
                    self._spawn(self._confirm(p))

    def reset(self) -> None:
        self.scheduler.cancel_all()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
