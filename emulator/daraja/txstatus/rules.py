"""Transaction Status on the ledger: the 13 captured parameters read from the entry, for every
kind of entry; the payer in full even where a C2B confirmation masked them (reference 6)."""

from __future__ import annotations

from datetime import datetime

from emulator.daraja.initiator import parties
from emulator.daraja.initiator.models import Job, Settled, Subject
from emulator.daraja.initiator.wire import Item, money, stamp
from emulator.kernel.ids import IdSource
from emulator.kernel.texts import TS_CUSTOMER_ACCOUNT, TS_REASON_TYPES
from emulator.ledger.book import Ledger
from emulator.ledger.models import Account, Entry, Kind


class TxStatusApi:
    name = "txstatus"

    def __init__(self, ledger: Ledger, ids: IdSource) -> None:
        self.ledger, self.ids = ledger, ids

    def subject(self, fields: dict[str, str]) -> Subject:
        return Subject(reference=fields["TransactionID"] or fields["OriginalConversationID"])

    def check(self, fields: dict[str, str]) -> None:
        """Daraja acknowledges any receipt; an unknown one ends as 2032."""

    def find(self, fields: dict[str, str]) -> Entry | None:
        receipt = fields["TransactionID"]
        if receipt:
            return self.ledger.entries.get(receipt.upper())
        return self.ledger.by_originator(fields["OriginalConversationID"])

    def settle(self, job: Job, now: datetime) -> Settled:
        placeholder = self.ids.placeholder_receipt(now)
        entry = self.find(job.fields)
        if entry is None:
            return Settled(2032, placeholder, None, "no such receipt in the ledger")
        return Settled(0, placeholder, self.parameters(entry), f"{entry.kind} {entry.receipt}")

    def parameters(self, e: Entry) -> list[Item]:
        debit, credit, account, reason = self._sides(e)
        originator, conversation = parties.conversation_ids(e)
        charges_key = "DebitPartyCharges" if e.kind == "b2c" else "CreditPartyCharges"
        return [
            ("DebitPartyName", debit),
            ("CreditPartyName", credit),
            ("OriginatorConversationID", originator),
            ("InitiatedTime", stamp(e.at)),
            (charges_key, None),
            ("DebitAccountType", account),
            ("TransactionReason", None),
            ("ReasonType", reason),
            ("TransactionStatus", "Completed"),
            ("FinalisedTime", stamp(e.at)),
            ("Amount", money(e.amount)),
            ("ConversationID", conversation),
            ("ReceiptNo", e.receipt),
        ]

    def _sides(self, e: Entry) -> tuple[str, str, str, str]:
        """(DebitPartyName, CreditPartyName, DebitAccountType, ReasonType) by the entry's kind."""
        org = parties.organisation(self.ledger, e.shortcode)
        if e.kind == "b2b":
            payee = parties.organisation(self.ledger, e.payee)
            return org, payee, Account.WORKING.value, TS_REASON_TYPES[e.command]
        if e.pays_customer:
            reason = TS_REASON_TYPES["reversal" if e.kind == "reversal" else e.command]
            return org, parties.person(self.ledger, e.phone), e.account.value, reason
        business = self.ledger.business(e.shortcode)
        till = business is not None and business.kind is Kind.TILL
        reason = TS_REASON_TYPES[f"{e.kind}-till" if till else e.kind]
        return parties.person(self.ledger, e.phone), org, TS_CUSTOMER_ACCOUNT, reason

    def failure_parameters(self, job: Job, code: int | str, now: datetime) -> list[Item] | None:
        return None

    def reference(self, job: Job) -> list[Item]:
        return [("Occasion", job.fields.get("Occasion") or None)]
