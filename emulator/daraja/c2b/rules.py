"""C2B rules: who may register, which payments start, what a validation answer means, and the
ledger moving the money. Pure domain: `now` is passed in, no I/O, no HTTP."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from emulator.daraja.c2b import wire
from emulator.daraja.c2b.models import (
    Payment,
    Refused,
    RegisterRequest,
    Registration,
    SimulateRequest,
    State,
    Version,
)
from emulator.kernel.delivery import Attempt
from emulator.kernel.errors import BadRequest, InternalError
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records
from emulator.kernel.texts import C2B_ALREADY_REGISTERED
from emulator.ledger.book import InsufficientFunds, Ledger
from emulator.ledger.models import Entry, Kind
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.model import C2BSpec

log = logging.getLogger("emulator.c2b")
DEFAULT_SPEC = C2BSpec()  # no C2B scenario matched: validate if on, confirm once


class C2BBackend:
    def __init__(
        self,
        registrations: Records[Registration],
        payments: Records[Payment],
        ledger: Ledger,
        ids: IdSource,
        scenarios: Callable[[], ScenarioSet],
        *,
        stk_only: frozenset[str] = frozenset(),
        register_once: bool = False,
    ) -> None:
        self.registrations = registrations  # maps shortcode -> its URLs, as last registered
        self.payments = payments  # maps TransID -> payment (the journal)
        self.ledger = ledger
        self.ids = ids
        self._scenarios = scenarios
        self._stk_only = stk_only  # shortcodes without a C2B product (174379)
        self._register_once = register_once  # production: a second registration is refused
        self.queued: dict[str | None, deque[str]] = {}  # maps MSISDN (None: any) -> scenarios

    # --- registration --------------------------------------------------------------------

    def register(self, req: RegisterRequest, version: Version, now: datetime) -> Registration:
        if req.shortcode in self._stk_only:
            raise Refused(req.shortcode)
        if self.ledger.business(req.shortcode) is None:
            log.warning("refused: shortcode %s is not a business; use a sandbox code 600000-600999"
                        " or register it with --shortcode/--till", req.shortcode)
            raise BadRequest("ShortCode")
        old = self.registrations.get(req.shortcode)
        if old is not None and self._register_once:
            raise InternalError(C2B_ALREADY_REGISTERED)
        registration = Registration(req.shortcode, version, req.response_type,
                                    req.confirmation_url, req.validation_url, now,
                                    bool(req.validation_url))
        self.registrations.add(registration)
        return registration

    def set_validation(self, shortcode: str, enabled: bool) -> Registration | None:
        """Turn external validation on or off for a registered shortcode."""
        registration = self.registrations.get(shortcode)
        if registration is not None:
            registration.external_validation = enabled
            self.registrations.save(registration)
        return registration

    # --- payments ------------------------------------------------------------------------

    def simulate(self, req: SimulateRequest, now: datetime, origin: str = "simulate") -> Payment:
        """A customer pays a shortcode; raises BadRequest when Daraja would refuse it."""
        business = self.ledger.business(req.shortcode)
        if business is None:
            raise BadRequest("ShortCode")
        till = req.command_id == "CustomerBuyGoodsOnline"
        if till != (business.kind is Kind.TILL):
            log.warning("refused: %s is a %s; CommandID %s does not fit it", req.shortcode,
                        business.kind.value, req.command_id)
            raise BadRequest("CommandID")
        name, spec, why = self._choose(req.msisdn, req.amount, req.bill_ref)
        payment = Payment(
            trans_id=self.ids.receipt(now), originator_id=self.ids.request_id(), origin=origin,
            shortcode=req.shortcode, till=till, phone=req.msisdn, amount=req.amount,
            bill_ref=req.bill_ref, created_at=now, scenario=name, spec=spec,
            registration=self.registrations.get(req.shortcode))
        payment.timeline.append((now, f"paid by {req.msisdn} ({origin}); {why}"))
        self.payments.add(payment)
        return payment

    def _choose(self, phone: str, amount: int, reference: str) -> tuple[str, C2BSpec, str]:
        for key in (phone, None):
            queue = self.queued.get(key)
            if queue:
                name = queue.popleft()
                return name, self._scenarios().c2b_outcome(name).c2b or DEFAULT_SPEC, \
                    f"queued C2B scenario '{name}'"
        found = self._scenarios().c2b_for(phone, amount, reference)
        if found is not None and found.c2b is not None:
            return found.name, found.c2b, f"matched C2B scenario '{found.name}'"
        return "", DEFAULT_SPEC, "no C2B scenario matched"

    def queue(self, scenario: str, phone: str | None = None, count: int = 1) -> None:
        self._scenarios().c2b_outcome(scenario)  # unknown names fail now
        self.queued.setdefault(phone, deque()).extend([scenario] * count)

    def funded(self, p: Payment, now: datetime) -> bool:
        """Before Daraja asks anyone: a wallet too small fails the payment. The docs' order
        (CustomerToBusiness, "How it works"): M-PESA checks the request itself, then asks the
        merchant if external validation is on; no capture shows a short wallet either way."""
        if self.ledger.can_pay(p.phone, p.amount * 100):
            return True
        self._end(p, State.FAILED, now, "the customer's balance is too small: M-PESA refuses "
                  "the payment itself, before any validation POST, and nobody is told")
        return False

    def validating(self, p: Payment, now: datetime) -> None:
        p.move(State.VALIDATING, now, "validation POST sent")
        self.payments.save(p)

    def answered(self, p: Payment, attempt: Attempt, now: datetime) -> bool:
        """The validation answer (or its absence) decides; True when the payment completed."""
        accepted, third, why = wire.read_answer(attempt.status, attempt.response_body)
        if p.spec.validation.value == "timeout":
            accepted, third, why = None, "", "treated as unanswered (scenario)"
        if accepted is None:
            response_type = p.registration.response_type if p.registration else "Completed"
            accepted = response_type == "Completed"
            why += f"; ResponseType {response_type} decides"
        if not accepted:
            self._end(p, State.REJECTED, now, why)
            return False
        p.third_party_trans_id = third
        return self.complete(p, now, why)

    def complete(self, p: Payment, now: datetime, why: str) -> bool:
        """Move the money; False (the payment failed) when the wallet is short by now."""
        try:
            entry = self.ledger.pay(phone=p.phone, shortcode=p.shortcode, amount=p.amount * 100,
                                    kind="c2b", receipt=p.trans_id, at=now,
                                    reference=p.bill_ref, till=p.till,
                                    originator_id=p.originator_id)
        except InsufficientFunds:
            when = " by the time the validation was answered" if p.validations else ""
            self._end(p, State.FAILED, now, f"the customer's balance is too small{when}: the "
                      "money cannot move, and nobody is told")
            return False
        p.org_balance = entry.business_balance
        self._end(p, State.COMPLETED, now, f"completed: {why}")
        return True

    def _end(self, p: Payment, state: State, now: datetime, why: str) -> None:
        p.move(state, now, why)
        p.outcome, p.completed_at = why, now
        self.payments.finish(p)

    def stk_paid(self, entry: Entry, till: bool, now: datetime) -> Payment | None:
        """An STK push paid a shortcode with registered URLs: its confirmation is owed (the same
        receipt, reference 4.1); None when the shortcode registered none."""
        registration = self.registrations.get(entry.shortcode)
        if registration is None:
            return None
        name, spec, why = self._choose(entry.phone, entry.amount // 100, entry.reference)
        p = Payment(entry.receipt, "", "stk", entry.shortcode, till, entry.phone,
                    entry.amount // 100, entry.reference, entry.at, name, spec, registration,
                    org_balance=entry.business_balance)
        p.timeline.append((now, f"paid by {entry.phone} through STK Push; {why}"))
        self.payments.add(p)
        self._end(p, State.COMPLETED, now, "completed: STK Push to a registered shortcode")
        return p

    def business_paid(self, entry: Entry, till: bool, now: datetime) -> Payment | None:
        """A B2B payment paid a shortcode with registered URLs: its confirmation is owed, with
        the paying business in the customer fields (inferred: no capture of one exists)."""
        registration = self.registrations.get(entry.payee)
        if registration is None:
            return None
        name, spec, why = self._choose(entry.phone, entry.amount // 100, entry.reference)
        p = Payment(entry.receipt, "", "b2b", entry.payee, till, entry.phone,
                    entry.amount // 100, entry.reference, entry.at, name, spec, registration,
                    org_balance=entry.payee_balance, payer=entry.shortcode)
        p.timeline.append((now, f"paid by {entry.shortcode} through B2B; {why}"))
        self.payments.add(p)
        self._end(p, State.COMPLETED, now, "completed: B2B to a registered shortcode")
        return p

    # --- lifetime ------------------------------------------------------------------------

    def restore(self, registrations: list[Registration], payments: list[Payment]) -> None:
        for registration in registrations:
            self.registrations.put(registration, finished=False)
        for p in payments:
            self.payments.put(p, finished=p.is_final)

    def reset(self) -> None:
        """Payments and queued scenarios go; registrations stay, as tokens do."""
        self.payments.reset()
        self.queued.clear()
