"""When initiator results go out: after the scenario's delay (times the time scale), one POST
to ResultURL, two, none, or (opt-in) one to QueueTimeOutURL instead, through the kernel's
scheduler and delivery; posts never raise into the request path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from emulator.daraja.initiator import wire
from emulator.daraja.initiator.models import Job
from emulator.daraja.initiator.service import InitiatorService
from emulator.kernel.clock import Clock
from emulator.kernel.delivery import Delivery
from emulator.kernel.events import EventBus
from emulator.kernel.scheduler import Key, Scheduler
from emulator.kernel.texts import QUEUE_TIMEOUT_DESC
from emulator.scenario.model import ResultMode

log = logging.getLogger("emulator.initiator")
AGAIN = "again"  # job key (AGAIN, ConversationID): the second post of a TWICE result


def queue_timeout_body(job: Job) -> dict[str, Any]:
    """Emulator-invented (no capture exists, ledger reference 11): the result envelope with
    ResultType 1, ResultCode 1 and the request's ids, posted to QueueTimeOutURL."""
    return {"Result": {"ResultType": 1, "ResultCode": 1, "ResultDesc": QUEUE_TIMEOUT_DESC,
                       "OriginatorConversationID": job.originator_id,
                       "ConversationID": job.conversation_id, "TransactionID": ""}}


class InitiatorLifecycle:
    def __init__(
        self,
        service: InitiatorService,
        delivery: Delivery,
        clock: Clock,
        events: EventBus,
        time_scale: Callable[[], float],
    ) -> None:
        self.service = service
        self.scheduler = Scheduler(clock, self._due)  # keys: ConversationID, or AGAIN pairs
        self._delivery = delivery
        self._clock = clock
        self.events = events
        self._scale = time_scale
        self._tasks: set[asyncio.Task[None]] = set()

    def accepted(self, job: Job) -> None:
        delay = job.spec.delay.pick(self.service.ids.rng) * self._scale()
        self.scheduler.after(job.conversation_id, delay)
        self.events.publish("initiator", job.conversation_id)

    def _due(self, key: Key) -> None:
        if isinstance(key, tuple):
            job = self.service.jobs.get(key[1])
            if job is not None and job.result_text:
                self._spawn(self._post(job, job.result_url, job.result_text.encode()))
            return
        job = self.service.jobs.get(str(key))
        if job is None or job.is_final:
            return
        now = self._clock.now()
        mode = job.spec.result
        if mode is ResultMode.QUEUE_TIMEOUT:
            job.complete(now, "queue-timeout", "queue timeout: posted to QueueTimeOutURL "
                         "(emulator-invented body), no result")
            self.service.jobs.finish(job)
            if job.queue_timeout_url:
                self._spawn(self._post(job, job.queue_timeout_url,
                                       wire.encode(queue_timeout_body(job))))
            return
        body = self.service.decide(job, now)
        if mode is ResultMode.NEVER:
            job.timeline.append((now, "result withheld: the scenario says it is lost"))
        else:
            self._spawn(self._post(job, job.result_url, body))
            if mode is ResultMode.TWICE:
                self.scheduler.after((AGAIN, job.conversation_id),
                                     job.spec.duplicate_gap * self._scale())
        self.service.jobs.save(job)
        self.events.publish("initiator", job.conversation_id)

    async def _post(self, job: Job, url: str, body: bytes) -> None:
        attempt = await self._delivery.post(url, body, job.conversation_id)
        job.posts.append(attempt)
        outcome = attempt.status if attempt.status is not None else attempt.error
        job.timeline.append((attempt.at, f"posted to {attempt.url}: {outcome}"))
        self.service.jobs.save(job)
        self.events.publish("initiator", job.conversation_id)

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def run_now(self, conversation_id: str) -> bool:
        """Fast-forward: the result now instead of after its delay."""
        return self.scheduler.run_now(conversation_id)

    def restore(self, jobs: list[Job]) -> None:
        """After a restart: results still owed are decided now."""
        for job in jobs:
            if not job.is_final:
                self.scheduler.after(job.conversation_id, 0.0)

    def reset(self) -> None:
        self.scheduler.cancel_all()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
