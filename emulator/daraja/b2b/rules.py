"""B2B on the ledger: PartyA's Working Account pays PartyB's Utility (paybill) or Merchant
(till) Account; a payee with registered C2B URLs is told through the `PayeeNotice` wiring
hands in (B2B never imports C2B)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from emulator.daraja.initiator import parties
from emulator.daraja.initiator.models import Job, Settled, Subject
from emulator.daraja.initiator.wire import Item, numeric, stamp, whole_or_money
from emulator.kernel.errors import BadRequest
from emulator.kernel.ids import IdSource
from emulator.kernel.texts import INTERNAL_QUEUE_URL
from emulator.ledger.book import InsufficientFunds, Ledger
from emulator.ledger.models import Account, Entry, Kind
from emulator.ledger.money import cents


class PayeeNotice(Protocol):
    """What B2B needs of C2B: send the payee its confirmation if it registered URLs."""

    def business_paid(self, entry: Entry, till: bool) -> None: ...


class B2BApi:
    name = "b2b"

    def __init__(self, ledger: Ledger, ids: IdSource, notice: PayeeNotice | None) -> None:
        self.ledger, self.ids, self.notice = ledger, ids, notice

    def subject(self, fields: dict[str, str]) -> Subject:
        return Subject(fields["Requester"], cents(fields["Amount"]) // 100,
                       fields["AccountReference"])

    def check(self, fields: dict[str, str]) -> None:
        if self.ledger.business(fields["PartyA"]) is None:
            raise BadRequest("PartyA", why=f"no business {fields['PartyA']}")
        payee = self.ledger.business(fields["PartyB"])
        if fields["CommandID"] == "BusinessPayBill" and (payee is None
                                                         or payee.kind is not Kind.PAYBILL):
            raise BadRequest("PartyB", why=f"{fields['PartyB']} is no paybill")

    def settle(self, job: Job, now: datetime) -> Settled:
        f = job.fields
        amount, till = cents(f["Amount"]), f["CommandID"] == "BusinessBuyGoods"
        receipt = self.ids.receipt(now)
        try:
            e = self.ledger.transfer(payer=f["PartyA"], payee=f["PartyB"], amount=amount,
                                     command=f["CommandID"], receipt=receipt, at=now,
                                     reference=f["AccountReference"], till=till,
                                     requester=f["Requester"], originator_id=job.originator_id,
                                     conversation_id=job.conversation_id)
        except InsufficientFunds as exc:
            return Settled(1, self.ids.placeholder_receipt(now), None, str(exc))
        if self.notice is not None:
            self.notice.business_paid(e, till)
        working = parties.amount_map(e.business_balance)
        parameters: list[Item] = [
            ("Currency", "KES"),
            ("ReceiverPartyPublicName", parties.organisation(self.ledger, e.payee)),
            ("DebitPartyCharges", None),
            ("TransCompletedTime", stamp(now)),
            ("DebitPartyAffectedAccountBalance", parties.pipe(Account.WORKING, e.business_balance)),
            ("Amount", whole_or_money(amount)),
            ("DebitAccountCurrentBalance", working),
            ("InitiatorAccountCurrentBalance", working),
        ]
        return Settled(0, receipt, parameters, f"{e.shortcode} paid {e.payee} KES {f['Amount']}")

    def failure_parameters(self, job: Job, code: int | str, now: datetime) -> list[Item] | None:
        return None

    def reference(self, job: Job) -> list[Item]:
        """An array, as captured: BillReferenceNumber (PayBill), QueueTimeoutURL, Occassion."""
        f = job.fields
        bill = ([("BillReferenceNumber", numeric(f["AccountReference"]))]
                if f["CommandID"] == "BusinessPayBill" else [])
        return [*bill, ("QueueTimeoutURL", INTERNAL_QUEUE_URL.format(api="b2b")),
                ("Occassion", f["Occassion"] or None)]
