"""Scenario data: plain frozen records (msgspec Structs), no I/O, no YAML."""

from __future__ import annotations

import enum
import fnmatch
import random

import msgspec

from emulator.faults.model import FaultSpec


class Delivery(str, enum.Enum):
    """How the result callback is delivered; Safaricom itself never retries."""

    ONCE = "once"
    NEVER = "never"  # a lost callback: the shop must recover by querying
    TWICE = "twice"  # a duplicate callback: the shop must apply it once


class BalanceItem(str, enum.Enum):
    """How the success callback carries the irregular Balance item (reference 4.1)."""

    EMPTY = "empty"  # {"Name": "Balance"} with no Value, as in 2020-2022 captures
    OMIT = "omit"  # absent, as in the official sample


class Delay(msgspec.Struct, frozen=True):
    """Seconds of scenario time before the outcome; a fixed value when low == high."""

    low: float
    high: float

    def pick(self, rng: random.Random) -> float:
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)


class Validation(str, enum.Enum):
    """How Daraja treats the merchant's answer to a C2B validation POST."""

    ANSWER = "answer"  # the merchant's answer decides (ResponseType when none comes in time)
    TIMEOUT = "timeout"  # as if no answer came within Daraja's wait: ResponseType decides


class C2BSpec(msgspec.Struct, frozen=True):
    """How a C2B payment plays out: its validation, its confirmation, its timing."""

    validation: Validation = Validation.ANSWER
    confirmation: Delivery = Delivery.ONCE
    delay: Delay = Delay(1.0, 3.0)  # scenario seconds before the validation (or confirmation)
    duplicate_gap: float = 1.0  # scenario seconds between the two posts of a TWICE confirmation


class ResultMode(str, enum.Enum):
    """How an initiator API's result (B2C, B2B, Reversal, Transaction Status, Account Balance)
    reaches the client; Safaricom never retries."""

    ONCE = "once"
    NEVER = "never"  # the result is lost: the client must reconcile (Transaction Status)
    TWICE = "twice"  # the same result twice: the client must apply it once
    QUEUE_TIMEOUT = "queue-timeout"  # a POST to QueueTimeOutURL instead (its body is invented)


INITIATOR_APIS = ("b2c", "b2b", "reversal", "txstatus", "balance")  # what `apis` may name


class InitiatorSpec(msgspec.Struct, frozen=True):
    """How an initiator API request ends: its result code, how the result travels, when."""

    result_code: int | str = 0
    result_desc: str = ""  # "" on a success: the family's catalogue text
    result: ResultMode = ResultMode.ONCE
    delay: Delay = Delay(1.0, 3.0)  # scenario seconds before the result
    duplicate_gap: float = 1.0  # scenario seconds between the two posts of TWICE
    apis: frozenset[str] = frozenset(INITIATOR_APIS)  # which APIs it applies to

    @property
    def succeeds(self) -> bool:
        return self.result_code == 0


class Match(msgspec.Struct, frozen=True):
    """Which pushes a scenario applies to; every condition given must hold."""

    phones: frozenset[str] = frozenset()
    amount_min: int | None = None
    amount_max: int | None = None
    account_references: tuple[str, ...] = ()  # glob patterns, case-sensitive

    @property
    def is_empty(self) -> bool:
        return not (self.phones or self.has_amount or self.account_references)

    @property
    def has_amount(self) -> bool:
        return self.amount_min is not None or self.amount_max is not None

    def matches(self, phone: str, amount: int | None, account_reference: str) -> bool:
        """Whether a push fits; an unknown amount (None) fails any amount condition."""
        if self.is_empty:
            return False
        if self.phones and phone not in self.phones:
            return False
        if self.has_amount and amount is None:
            return False
        if self.amount_min is not None and amount is not None and amount < self.amount_min:
            return False
        if self.amount_max is not None and amount is not None and amount > self.amount_max:
            return False
        if self.account_references and not any(
            fnmatch.fnmatchcase(account_reference, p) for p in self.account_references
        ):
            return False
        return True


class Scenario(msgspec.Struct, frozen=True):
    """One way a transaction can end, and which pushes it applies to."""

    name: str
    result_code: int | str
    result_desc: str
    delay: Delay
    description: str = ""
    callback: Delivery = Delivery.ONCE
    duplicate_gap: float = 1.0  # scenario seconds between the two posts of a TWICE delivery
    balance: BalanceItem = BalanceItem.EMPTY
    match: Match = msgspec.field(default_factory=Match)
    default: bool = False
    manual: bool = False  # wait for a decision from the customer's phone (admin API)
    manual_timeout: float = 60.0  # real seconds a manual transaction waits before ending as 1037
    source: str = "<memory>"  # file the scenario came from, for messages
    bundled: bool = False
    fault: FaultSpec | None = None  # set: the request fails this way and no transaction starts
    c2b: C2BSpec | None = None  # set: a C2B scenario (payer's phone), never an STK outcome
    initiator: InitiatorSpec | None = None  # set: a B2C/B2B/... outcome, never an STK one

    @property
    def succeeds(self) -> bool:
        return self.result_code == 0


class Loaded(msgspec.Struct, frozen=True):
    """A scenario plus the lines the tier checks need to point at."""

    scenario: Scenario
    name_line: int | None
    default_line: int | None
    phones: dict[str, tuple[int | None, str]]
    path: str = ""  # the file's full path, for errors (scenario.source is the short name)
