"""Reversal on the ledger: the account the payment went into pays the customer back.
Already reversed: `R000001`; unknown (or not a payment into this shortcode): `R000002`."""

from __future__ import annotations

from datetime import datetime

from emulator.daraja.initiator import parties
from emulator.daraja.initiator.models import Job, Settled, Subject
from emulator.daraja.initiator.wire import Item, money, stamp
from emulator.kernel.errors import BadRequest
from emulator.kernel.ids import IdSource
from emulator.kernel.texts import INTERNAL_QUEUE_URL
from emulator.ledger.book import AlreadyReversed, InsufficientFunds, Ledger, UnknownReceipt
from emulator.ledger.money import cents


class ReversalApi:
    name = "reversal"

    def __init__(self, ledger: Ledger, ids: IdSource) -> None:
        self.ledger, self.ids = ledger, ids

    def subject(self, fields: dict[str, str]) -> Subject:
        return Subject(amount=cents(fields["Amount"]) // 100, reference=fields["TransactionID"])

    def check(self, fields: dict[str, str]) -> None:
        if self.ledger.business(fields["ReceiverParty"]) is None:
            raise BadRequest("ReceiverParty", why=f"no business {fields['ReceiverParty']}")

    def settle(self, job: Job, now: datetime) -> Settled:
        f = job.fields
        placeholder = self.ids.placeholder_receipt(now)
        receipt = self.ids.receipt(now)
        try:
            e = self.ledger.reverse(original=f["TransactionID"], shortcode=f["ReceiverParty"],
                                    receipt=receipt, at=now, originator_id=job.originator_id,
                                    conversation_id=job.conversation_id)
        except AlreadyReversed as exc:
            return Settled("R000001", placeholder, None, str(exc))
        except UnknownReceipt as exc:
            return Settled("R000002", placeholder, None, str(exc))
        except InsufficientFunds as exc:
            return Settled(1, placeholder, None, str(exc))
        note = f"reversed {e.original}: KES {money(e.amount)} back to {e.phone}"
        if cents(f["Amount"]) != e.amount:
            note += f" (the request said {f['Amount']}; the whole payment is reversed)"
        parameters: list[Item] = [
            ("DebitAccountBalance", parties.pipe(e.account, e.business_balance)),
            ("Amount", money(e.amount)),
            ("TransCompletedTime", stamp(now)),
            ("OriginalTransactionID", e.original),
            ("Charge", money(0)),
            ("CreditPartyPublicName", parties.person(self.ledger, e.phone)),
            ("DebitPartyPublicName", parties.organisation(self.ledger, e.shortcode)),
        ]
        return Settled(0, receipt, parameters, note)

    def failure_parameters(self, job: Job, code: int | str, now: datetime) -> list[Item] | None:
        return None

    def reference(self, job: Job) -> list[Item]:
        return [("QueueTimeoutURL", INTERNAL_QUEUE_URL.format(api="reversal"))]
