"""The C2B lifecycle on a FakeClock: validation and confirmations fall due when the clock says,
with no sleeping; delivery is a recorder whose answers the test chooses."""

from __future__ import annotations

import asyncio
from datetime import datetime

from emulator.daraja.c2b.codec import PaymentCodec, RegistrationCodec
from emulator.daraja.c2b.lifecycle import C2BLifecycle
from emulator.daraja.c2b.models import RegisterRequest, SimulateRequest, State
from emulator.daraja.c2b.rules import C2BBackend
from emulator.kernel.clock import FakeClock
from emulator.kernel.delivery import Attempt
from emulator.kernel.events import EventBus
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records
from emulator.ledger.book import Ledger
from emulator.ledger.codec import BusinessCodec, CustomerCodec, EntryCodec
from emulator.ledger.models import Account, Opening
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.loader import load_scenarios
from tests.test_ledger import NAMES

SCENARIOS = ScenarioSet(load_scenarios())


class Recorder:
    """Delivery's shape: answers with `answer` (status None: no answer in time)."""

    def __init__(self, clock: FakeClock, answer: tuple[int | None, str]) -> None:
        self.clock, self.answer = clock, answer
        self.posts: list[tuple[datetime, str]] = []  # (when, url)

    async def post(self, url: str, body: bytes, label: str = "") -> Attempt:
        self.posts.append((self.clock.now(), url))
        status, text = self.answer
        error = None if status is not None else "timeout: the receiver did not answer in time"
        return Attempt(self.clock.now(), url, status, error, 0.0, text, body.decode())


def make(answer: tuple[int | None, str] = (200, '{"ResultCode":"0"}'), scale: float = 1.0,
         response_type: str = "Completed"):  # noqa: ANN201
    clock = FakeClock()
    ledger = Ledger(Records(BusinessCodec(), 100), Records(CustomerCodec(), 100),
                    Records(EntryCodec(), 100), Opening(), {}, NAMES)
    backend = C2BBackend(Records(RegistrationCodec(), 100), Records(PaymentCodec(), 100),
                         ledger, IdSource(3), lambda: SCENARIOS)
    backend.register(RegisterRequest("600000", response_type, "http://m/c", "http://m/v"),
                     "v1", clock.now())
    posts = Recorder(clock, (200, "{}"))
    validations = Recorder(clock, answer)
    life = C2BLifecycle(backend, posts, validations, clock, EventBus(),  # type: ignore[arg-type]
                        lambda: scale)
    return clock, backend, life, posts, validations


def pay(backend: C2BBackend, life: C2BLifecycle, clock: FakeClock, phone: str = "254708374149"):  # noqa: ANN201
    p = backend.simulate(SimulateRequest("600000", "CustomerPayBillOnline", 5, phone, "A1"),
                         clock.now())
    life.started(p)
    return p


async def settle() -> None:
    for _ in range(6):
        await asyncio.sleep(0)


def test_validation_then_confirmation_fall_due_on_the_clock() -> None:
    async def main() -> None:
        clock, backend, life, posts, validations = make()
        p = pay(backend, life, clock)
        clock.advance(0.99)  # the default C2B delay is 1-3 s
        await settle()
        assert p.state is State.PENDING and validations.posts == []
        clock.advance(2.02)
        await settle()
        assert p.state is State.COMPLETED and len(validations.posts) == 1
        assert [url for _, url in posts.posts] == ["http://m/c"]
        assert backend.ledger.business("600000").balances[Account.UTILITY] == \
            1_000_000_00 + 500  # type: ignore[union-attr]

    asyncio.run(main())


def test_no_answer_in_time_lets_response_type_decide() -> None:
    async def main() -> None:
        for response_type, state, confirmations in [("Completed", State.COMPLETED, 1),
                                                    ("Cancelled", State.REJECTED, 0)]:
            clock, backend, life, posts, _ = make((None, ""), response_type=response_type)
            p = pay(backend, life, clock)
            clock.advance(3.01)
            await settle()
            assert p.state is state and len(posts.posts) == confirmations
            assert "no answer" in p.outcome

    asyncio.run(main())


def test_a_twice_confirmation_comes_after_its_gap_and_reset_cancels() -> None:
    async def main() -> None:
        clock, backend, life, posts, _ = make()
        p = pay(backend, life, clock, phone="254711000003")  # c2b-confirmation-twice: gap 2 s
        clock.advance(0.01)
        await settle()
        assert len(posts.posts) == 1
        clock.advance(1.98)
        await settle()
        assert len(posts.posts) == 1
        clock.advance(0.02)
        await settle()
        assert len(posts.posts) == 2 and len(p.confirmations) == 2
        later = pay(backend, life, clock)
        life.reset()
        backend.reset()
        clock.advance(60)
        await settle()
        assert later.state is State.PENDING and len(posts.posts) == 2

    asyncio.run(main())


def test_a_wallet_emptied_while_the_validation_is_out_fails_after_it() -> None:
    async def main() -> None:
        clock, backend, life, posts, validations = make()
        p = pay(backend, life, clock)
        answer = validations.post

        async def emptying(url: str, body: bytes, label: str = "") -> Attempt:
            backend.ledger.set_customer_balance(p.phone, 0)  # spent elsewhere meanwhile
            return await answer(url, body, label)

        validations.post = emptying  # type: ignore[method-assign]
        clock.advance(3.01)
        await settle()
        assert p.state is State.FAILED and len(validations.posts) == 1 and posts.posts == []
        assert p.outcome == ("the customer's balance is too small by the time the validation "
                             "was answered: the money cannot move, and nobody is told")

    asyncio.run(main())
