"""C2B records: URL registrations and payments with their explicit state machine (no I/O)."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from emulator.kernel.delivery import Attempt
from emulator.scenario.model import C2BSpec

Version = str  # "v1" or "v2": the product the shortcode registered with


class RegisterRequest(msgspec.Struct, frozen=True):
    shortcode: str
    response_type: str  # "Completed" or "Cancelled": what a validation timeout means
    confirmation_url: str
    validation_url: str  # "" when none was given


class Registration(msgspec.Struct):
    """A shortcode's C2B URLs, as last registered."""

    shortcode: str
    version: Version
    response_type: str
    confirmation_url: str
    validation_url: str
    registered_at: datetime
    external_validation: bool  # Daraja calls ValidationURL only when this is on


class SimulateRequest(msgspec.Struct, frozen=True):
    shortcode: str
    command_id: str  # CustomerPayBillOnline or CustomerBuyGoodsOnline
    amount: int  # whole shillings
    msisdn: str
    bill_ref: str  # "" for Buy Goods or when none was given


class State(str, enum.Enum):
    PENDING = "pending"  # the customer paid; Daraja has not yet asked or told the merchant
    VALIDATING = "validating"  # the validation POST is out, its answer awaited
    COMPLETED = "completed"  # final: money moved; the confirmation follows (or not)
    REJECTED = "rejected"  # final: the merchant refused, or a timeout with ResponseType Cancelled
    FAILED = "failed"  # final: the customer's balance was too small


# maps state -> states it may move to
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.VALIDATING, State.COMPLETED, State.FAILED}),
    State.VALIDATING: frozenset({State.COMPLETED, State.REJECTED, State.FAILED}),
    State.COMPLETED: frozenset(),
    State.REJECTED: frozenset(),
    State.FAILED: frozenset(),
}


class InvalidTransition(Exception):
    """A move the state machine forbids, such as completing a payment twice."""


class Payment(msgspec.Struct):
    """One customer-to-business payment, from the customer's PIN to the confirmation."""

    trans_id: str  # the M-Pesa receipt: TransID in validation and confirmation
    originator_id: str  # the OriginatorCoversationID the simulate ack carried ("" for STK)
    origin: str  # "simulate", "admin", "stk" or "b2b"
    shortcode: str
    till: bool  # Buy Goods: TransactionType "Buy Goods", money into the Merchant Account
    phone: str
    amount: int  # whole shillings
    bill_ref: str
    created_at: datetime
    scenario: str  # the C2B scenario's name ("" when none matched)
    spec: C2BSpec
    registration: Registration | None  # the URLs as they were when the customer paid
    state: State = State.PENDING
    completed_at: datetime | None = None
    outcome: str = ""  # why it ended as it did
    third_party_trans_id: str = ""  # from an accepting validation answer
    org_balance: int | None = None  # cents in the credited account after the payment
    validations: list[Attempt] = msgspec.field(default_factory=list)  # each validation POST
    confirmations: list[Attempt] = msgspec.field(default_factory=list)  # each confirmation POST
    timeline: list[tuple[datetime, str]] = msgspec.field(default_factory=list)
    payer: str = ""  # B2B: the paying shortcode (the customer fields then name the business)

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self.state]

    @property
    def validates(self) -> bool:
        """Whether Daraja asks the merchant first (never for an STK-originated payment)."""
        r = self.registration
        return (self.origin not in ("stk", "b2b") and r is not None and r.external_validation
                and bool(r.validation_url))

    def move(self, to: State, at: datetime, note: str) -> None:
        if to not in TRANSITIONS[self.state]:
            raise InvalidTransition(f"{self.trans_id}: {self.state.value} -> {to.value}")
        self.state = to
        self.timeline.append((at, note))


class Refused(Exception):
    """Registering a shortcode that holds no C2B product (the STK-only 174379): the gateway's
    SOAP fault, not Daraja's envelope."""
