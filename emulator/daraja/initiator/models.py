"""An initiator request from acknowledgement to result (plain data, no I/O), and the protocol
each initiator family implements for the shared machinery."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from emulator.daraja.initiator.wire import Item
from emulator.kernel.delivery import Attempt
from emulator.scenario.model import InitiatorSpec


class State(str, enum.Enum):
    PENDING = "pending"  # acknowledged; the result is not yet decided
    COMPLETED = "completed"  # final: the result was decided (and posted, or withheld)


class Job(msgspec.Struct):
    """One acknowledged request of an initiator API and what became of it."""

    api: str  # "b2c", "b2b", "reversal", "txstatus", "balance"
    originator_id: str  # OriginatorConversationID of the ack (B2C v3: the client's own)
    conversation_id: str  # the ack's ConversationID: the journal's key
    initiator: str
    fields: dict[str, str]  # the request as the family parsed it (plain text, persisted as is)
    result_url: str
    queue_timeout_url: str
    created_at: datetime
    spec: InitiatorSpec  # the outcome the scenario (or the queue) chose
    scenario: str = ""  # its name ("" when none matched: success)
    credential: str = ""  # what the SecurityCredential check found
    credential_code: int | None = None  # 2001 or 8006 when the credential failed
    state: State = State.PENDING
    completed_at: datetime | None = None
    result_code: int | str | None = None
    result_text: str = ""  # the {"Result": ...} body exactly as posted ("" until decided)
    receipt: str = ""  # the TransactionID of a result that moved money
    # each POST to ResultURL / QueueTimeOutURL
    posts: list[Attempt] = msgspec.field(default_factory=list)
    timeline: list[tuple[datetime, str]] = msgspec.field(default_factory=list)

    @property
    def result(self) -> dict[str, Any] | None:
        return json.loads(self.result_text) if self.result_text else None

    @property
    def is_final(self) -> bool:
        return self.state is State.COMPLETED

    def complete(self, at: datetime, code: int | str, note: str) -> None:
        if self.state is State.COMPLETED:
            raise ValueError(f"{self.conversation_id} is already completed")
        self.state, self.completed_at, self.result_code = State.COMPLETED, at, code
        self.timeline.append((at, note))


class Settled(msgspec.Struct, frozen=True):
    """What a family decided when the result fell due."""

    code: int | str
    transaction_id: str  # a new receipt, or the XXX0000000 placeholder
    parameters: Sequence[Item] | None  # None: a failure without ResultParameters
    note: str  # for the journal


class Subject(msgspec.Struct, frozen=True):
    """What scenarios and fault scenarios match a request by."""

    phone: str = ""  # B2C: the recipient; else "" (B2B: the Requester when given)
    amount: int | None = None  # whole shillings, when the request moves money
    reference: str = ""  # B2B AccountReference; Reversal and TS the TransactionID; AB PartyA


class Api(Protocol):
    """What an initiator family hands the shared machinery."""

    name: str  # "b2c", ...

    def subject(self, fields: dict[str, str]) -> Subject: ...

    def check(self, fields: dict[str, str]) -> None:
        """Raise BadRequest for what Daraja refuses at the door (an unknown PartyA, say)."""

    def settle(self, job: Job, now: datetime) -> Settled:
        """The scenario says success: act on the ledger and say what the result carries."""

    def failure_parameters(self, job: Job, code: int | str, now: datetime) -> list[Item] | None:
        """The ResultParameters of a failure (most APIs send none)."""

    def reference(self, job: Job) -> list[Item]:
        """The ReferenceData items."""
