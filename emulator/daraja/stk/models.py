"""STK transactions and their explicit state machine (no HTTP, no clock reads)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple, Protocol

import msgspec

from emulator.kernel.delivery import Attempt
from emulator.scenario.model import Scenario


class State(str, enum.Enum):
    PENDING = "pending"  # prompt on the phone; ends when the scenario's delay runs out
    WAITING = "waiting"  # manual scenario: waits for a decision from the customer's phone
    COMPLETED = "completed"  # final: result fixed, lock released, query answers it


# maps state -> states it may move to; COMPLETED is terminal
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.COMPLETED}),
    State.WAITING: frozenset({State.COMPLETED}),
    State.COMPLETED: frozenset(),
}


class InvalidTransition(Exception):
    """A move the state machine forbids, such as completing a transaction twice."""


class PushRequest(NamedTuple):
    """A validated STK push; numbers that arrive as JSON numbers are kept as text.

    A tuple of plain values: a tenth of a frozen dataclass's time to build, smaller, and left
    alone by the cyclic garbage collector once it has seen it (a pending push keeps it alive).
    """

    business_short_code: str
    password: str
    timestamp: str
    transaction_type: str
    amount: int
    party_a: str
    party_b: str
    phone: str
    callback_url: str
    account_reference: str
    transaction_desc: str


class QueryRequest(NamedTuple):
    business_short_code: str
    password: str
    timestamp: str
    checkout_request_id: str


class Payment(msgspec.Struct, frozen=True):
    """The money of a successful push, as STK hands it to whatever keeps the books."""

    receipt: str
    phone: str
    shortcode: str  # the business credited: PartyB for Buy Goods, else BusinessShortCode
    buy_goods: bool  # CustomerBuyGoodsOnline: the shortcode is a till
    amount: int  # whole shillings
    reference: str  # AccountReference
    at: datetime


class Settlement(Protocol):
    """What STK needs of a ledger (handed in by wiring, so STK imports none): move the money of
    a successful push, or answer False when the customer's balance is too small."""

    def settle(self, payment: Payment) -> bool: ...


class Transaction(msgspec.Struct):
    """One accepted push, from prompt to result. Slots, no __dict__: a hundred thousand may be
    pending at once."""

    merchant_request_id: str
    checkout_request_id: str
    request: PushRequest
    scenario: Scenario
    reason: str  # why this scenario was chosen
    created_at: datetime
    delay: float  # seconds until the outcome: scenario seconds, or real seconds when WAITING
    planned_code: int | str  # the outcome the scenario holds for it (a decision may change it)
    planned_desc: str
    state: State = State.PENDING
    due_at: datetime | None = None  # wall-clock time the outcome is scheduled for
    result_code: int | str | None = None
    result_desc: str | None = None
    completed_at: datetime | None = None
    receipt: str | None = None
    queued: bool = False  # an outcome queued through the admin API chose the scenario
    attempts: tuple[Attempt, ...] = ()  # each callback POST, as it went (most pushes: none yet)
    timeline: list[tuple[datetime, str]] = msgspec.field(default_factory=list)

    @property
    def phone(self) -> str:
        return self.request.phone

    @property
    def is_final(self) -> bool:
        return self.state is State.COMPLETED

    def move(self, to: State, at: datetime, note: str) -> None:
        """Change state through the transition table, recording why."""
        if to not in TRANSITIONS[self.state]:
            raise InvalidTransition(f"{self.checkout_request_id}: {self.state.value} -> {to.value}")
        self.state = to
        self.timeline.append((at, note))
