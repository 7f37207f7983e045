"""B2C on the ledger: the business's Utility Account pays the customer's wallet; the result
carries every parameter in the captured order (ledger reference 5.3)."""

from __future__ import annotations

from datetime import datetime

from emulator.daraja.initiator import parties
from emulator.daraja.initiator.models import Job, Settled, Subject
from emulator.daraja.initiator.wire import Item, money, whole_or_money
from emulator.kernel.clock import eat
from emulator.kernel.errors import BadRequest
from emulator.kernel.ids import IdSource
from emulator.kernel.texts import INTERNAL_QUEUE_URL
from emulator.ledger.book import InsufficientFunds, Ledger
from emulator.ledger.models import Account
from emulator.ledger.money import cents


class B2CApi:
    name = "b2c"

    def __init__(self, ledger: Ledger, ids: IdSource) -> None:
        self.ledger, self.ids = ledger, ids

    def subject(self, fields: dict[str, str]) -> Subject:
        """B2C outcomes follow the recipient's phone, as STK's follow the payer's."""
        return Subject(fields["PartyB"], cents(fields["Amount"]) // 100, fields["Occassion"])

    def check(self, fields: dict[str, str]) -> None:
        if self.ledger.business(fields["PartyA"]) is None:
            raise BadRequest("PartyA", why=f"no business {fields['PartyA']}; use 600000-600999 "
                             "or --shortcode")

    def settle(self, job: Job, now: datetime) -> Settled:
        f = job.fields
        amount, shortcode, phone = cents(f["Amount"]), f["PartyA"], f["PartyB"]
        receipt = self.ids.receipt(now)
        try:
            self.ledger.disburse(shortcode=shortcode, phone=phone, amount=amount,
                                 command=f["CommandID"], receipt=receipt, at=now,
                                 originator_id=job.originator_id,
                                 conversation_id=job.conversation_id)
        except InsufficientFunds as exc:
            return Settled(1, self.ids.placeholder_receipt(now), None, str(exc))
        business = self.ledger.business(shortcode)
        assert business is not None
        b = business.balances
        parameters: list[Item] = [
            ("TransactionAmount", whole_or_money(amount)),
            ("TransactionReceipt", receipt),
            ("ReceiverPartyPublicName", parties.person(self.ledger, phone)),
            ("TransactionCompletedDateTime", f"{eat(now):%d.%m.%Y %H:%M:%S}"),
            ("B2CUtilityAccountAvailableFunds", money(b[Account.UTILITY])),
            ("B2CWorkingAccountAvailableFunds", money(b[Account.WORKING])),
            ("B2CRecipientIsRegisteredCustomer", "Y"),
            ("B2CChargesPaidAccountAvailableFunds", money(b[Account.CHARGES_PAID])),
        ]
        return Settled(0, receipt, parameters, f"{shortcode} paid {phone} KES {f['Amount']}")

    def failure_parameters(self, job: Job, code: int | str, now: datetime) -> list[Item] | None:
        return None

    def reference(self, job: Job) -> list[Item]:
        return [("QueueTimeoutURL", INTERNAL_QUEUE_URL.format(api="b2c"))]
