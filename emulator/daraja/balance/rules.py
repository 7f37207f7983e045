"""Account Balance on the ledger: the accounts the shortcode's type has, in the captured order
(a paybill as in the 2018 capture, a till as in the 2026 one)."""

from __future__ import annotations

from datetime import datetime

from emulator.daraja.initiator import parties
from emulator.daraja.initiator.models import Job, Settled, Subject
from emulator.daraja.initiator.wire import Item, stamp
from emulator.kernel.errors import BadRequest
from emulator.kernel.ids import IdSource
from emulator.kernel.texts import INITIATOR_LOCKED_ERROR, INTERNAL_QUEUE_URL
from emulator.ledger.book import Ledger
from emulator.ledger.models import Account, Business, Kind

A = Account
ACCOUNTS = {  # maps shortcode type -> the accounts Account Balance lists, in order
    Kind.PAYBILL: (A.WORKING, A.FLOAT, A.UTILITY, A.CHARGES_PAID, A.SETTLEMENT),
    Kind.TILL: (A.WORKING, A.UTILITY, A.CHARGES_PAID, A.MERCHANT, A.SETTLEMENT),
}


def account_balance(business: Business) -> str:
    """The `AccountBalance` value a result carries for this business now: its kind's accounts,
    pipe strings joined by `&`."""
    return parties.balances(business, ACCOUNTS[business.kind])


class BalanceApi:
    name = "balance"

    def __init__(self, ledger: Ledger, ids: IdSource) -> None:
        self.ledger, self.ids = ledger, ids

    def subject(self, fields: dict[str, str]) -> Subject:
        return Subject(reference=fields["PartyA"])

    def check(self, fields: dict[str, str]) -> None:
        if self.ledger.business(fields["PartyA"]) is None:
            raise BadRequest("PartyA", why=f"no business {fields['PartyA']}")

    def settle(self, job: Job, now: datetime) -> Settled:
        business = self.ledger.business(job.fields["PartyA"])
        assert business is not None
        parameters: list[Item] = [("ActionType", "AccountBalance"),
                                  ("AccountBalance", account_balance(business)),
                                  ("BOCompletedTime", stamp(now))]
        return Settled(0, self.ids.placeholder_receipt(now), parameters,
                       f"balances of {business.shortcode}")

    def failure_parameters(self, job: Job, code: int | str, now: datetime) -> list[Item] | None:
        """8006 as captured in 2026 (ActionType, ErrorMsg, BOCompletedTime); other failures
        the 2020 single BOCompletedTime."""
        if code == 8006:
            return [("ActionType", "AccountBalance"), ("ErrorMsg", INITIATOR_LOCKED_ERROR),
                    ("BOCompletedTime", stamp(now))]
        return [("BOCompletedTime", stamp(now))]

    def reference(self, job: Job) -> list[Item]:
        return [("QueueTimeoutURL", INTERNAL_QUEUE_URL.format(api="ab"))]
