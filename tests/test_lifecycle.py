"""The STK lifecycle driven by a FakeClock: outcomes and callbacks fall due when the clock says,
with no sleeping. Delivery is a recorder here (the real client is tested over sockets in
test_httppost.py and end to end elsewhere)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from emulator.daraja.stk.codec import TransactionCodec
from emulator.daraja.stk.lifecycle import StkLifecycle
from emulator.daraja.stk.models import State
from emulator.daraja.stk.rules import StkBackend
from emulator.kernel.clock import FakeClock
from emulator.kernel.delivery import Attempt
from emulator.kernel.events import EventBus
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.loader import load_scenarios
from tests.test_stateful import push_request

SCENARIOS = ScenarioSet(load_scenarios())
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


class Recorder:
    """Delivery's shape; every post answers 200 at once."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.posts: list[tuple[datetime, str]] = []  # (when, CheckoutRequestID)

    async def post(self, url: str, body: bytes, label: str = "") -> Attempt:
        self.posts.append((self.clock.now(), label))
        return Attempt(self.clock.now(), url, 200, None, 0.0, "{}", body.decode())


def make(time_scale: float = 1.0) -> tuple[FakeClock, StkBackend, StkLifecycle, Recorder]:
    clock = FakeClock()
    backend = StkBackend(Records(TransactionCodec(), 100), IdSource(7), lambda: SCENARIOS,
                         {"174379": PASSKEY})
    recorder = Recorder(clock)
    life = StkLifecycle(backend, recorder, clock, EventBus(), time_scale)  # type: ignore[arg-type]
    return clock, backend, life, recorder


def push(backend: StkBackend, life: StkLifecycle, clock: FakeClock, phone: str,
         scenario: str | None = None):  # noqa: ANN201
    if scenario:
        backend.queue(scenario, phone)
    txn = backend.push(push_request(phone, 10, "REF", "20260115103000", PASSKEY), clock.now())
    life.accepted(txn)
    return txn


async def settle() -> None:
    for _ in range(5):  # the posts are tasks: let them run
        await asyncio.sleep(0)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.0])
def test_the_outcome_falls_due_on_the_clock(scale: float) -> None:
    async def main() -> None:
        clock, backend, life, recorder = make(scale)
        txn = push(backend, life, clock, "254708374149", "success")
        due = txn.delay * scale
        if due > 0.01:
            clock.advance(due - 0.01)
            await settle()
            assert txn.state is State.PENDING and recorder.posts == []
            assert backend.locks == {"254708374149": txn.checkout_request_id}
        clock.advance(0.02)
        await settle()
        assert txn.state is State.COMPLETED and txn.result_code == 0 and txn.receipt
        assert [label for _, label in recorder.posts] == [txn.checkout_request_id]
        assert backend.locks == {}

    asyncio.run(main())


def test_a_duplicate_callback_comes_after_its_gap() -> None:
    async def main() -> None:
        clock, backend, life, recorder = make()
        txn = push(backend, life, clock, "254708374149", "duplicate-callback")
        clock.advance(txn.delay)
        await settle()
        assert len(recorder.posts) == 1
        clock.advance(txn.scenario.duplicate_gap - 0.01)
        await settle()
        assert len(recorder.posts) == 1
        clock.advance(0.02)
        await settle()
        assert len(recorder.posts) == 2 and len(txn.attempts) == 2
        gap = recorder.posts[1][0] - recorder.posts[0][0]
        assert abs(gap.total_seconds() - txn.scenario.duplicate_gap) < 0.05

    asyncio.run(main())


def test_a_lost_callback_is_never_posted_and_reset_cancels_what_is_due() -> None:
    async def main() -> None:
        clock, backend, life, recorder = make()
        lost = push(backend, life, clock, "254708374149", "lost-callback")
        later = push(backend, life, clock, "254708374150", "success")
        clock.advance(lost.delay)
        await settle()
        assert lost.state is State.COMPLETED and recorder.posts == []
        life.reset()
        backend.reset()
        clock.advance(3600)
        await settle()
        assert later.state is State.PENDING and recorder.posts == []

    asyncio.run(main())


def test_fast_forward_brings_every_pending_outcome_to_now() -> None:
    async def main() -> None:
        clock, backend, life, recorder = make()
        txns = [push(backend, life, clock, f"25470837415{i}", "success") for i in range(3)]
        assert life.fast_forward() == 3
        clock.advance(0)
        await settle()
        assert all(t.state is State.COMPLETED for t in txns)
        assert len(recorder.posts) == 3

    asyncio.run(main())
