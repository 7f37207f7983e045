"""STK rules: credentials, the subscriber lock, scenario choice, completion, query.

Pure domain: `now` is passed in, nothing here does I/O or knows HTTP. Scheduling the outcome
and posting callbacks belong to the runtime above it.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime

from emulator.daraja.stk.models import (
    Payment,
    PushRequest,
    QueryRequest,
    Settlement,
    State,
    Transaction,
)
from emulator.kernel.errors import (
    BEING_PROCESSED,
    MERCHANT_UNKNOWN,
    SUBSCRIBER_LOCKED,
    WRONG_CREDENTIALS,
    BadRequest,
    ProcessingError,
)
from emulator.kernel.formats import is_timestamp
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records
from emulator.kernel.texts import INSUFFICIENT, PUSH_ERROR, TIMEOUT, describe, normalise
from emulator.scenario.engine import Choice, ScenarioSet

log = logging.getLogger("emulator.stk")
SANDBOX_SHORTCODE = "174379"  # the sandbox's Lipa Na M-Pesa shortcode, whose passkey is public
MAX_PROMPT = 182  # characters a handset prompt may take; longer ends as 1025 (reference 2.1)
BUSINESS_NAME = "DARAJA EMULATOR"
QUEUED_REASON = "queued outcome"  # how a transaction's reason starts when a queue chose it


def prompt_text(req: PushRequest) -> str:
    """The USSD prompt the customer's phone would show."""
    return (
        f"Do you want to pay KES {req.amount} to {BUSINESS_NAME} "
        f"Account no. {req.account_reference}? Enter M-PESA PIN:"
    )


_PROMPT_FIXED = len(prompt_text(PushRequest(*[""] * 4, 0, *[""] * 6))) - 1  # less "0", reference


def prompt_length(req: PushRequest) -> int:
    """len(prompt_text(req)), without writing the prompt out on every push."""
    return _PROMPT_FIXED + len(str(req.amount)) + len(req.account_reference)


def password_problem(shortcode: str, passkey: str, password: str, timestamp: str) -> str | None:
    """Why Password is not base64(shortcode + passkey + timestamp); never reveals the passkey."""
    try:
        decoded = base64.b64decode(password, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "Password is not valid base64"
    if decoded == shortcode + passkey + timestamp:
        return None
    if not decoded.startswith(shortcode):
        return f"Password does not start with BusinessShortCode {shortcode}"
    if not decoded.endswith(timestamp):
        inside = decoded[-14:]  # shown only when it is a timestamp, never part of a passkey
        shown = f" ({inside})" if is_timestamp(inside) else ""
        return f"the timestamp inside Password{shown} differs from Timestamp {timestamp}"
    inner = len(decoded) - len(shortcode) - len(timestamp)
    return (
        f"the passkey inside Password differs from the passkey registered for shortcode "
        f"{shortcode} ({inner} characters, expected {len(passkey)})"
    )


class StkBackend:
    def __init__(
        self,
        records: Records[Transaction],
        ids: IdSource,
        scenarios: Callable[[], ScenarioSet],
        merchants: Mapping[str, str],
        *,
        legacy_pending: bool = False,
        settlement: Settlement | None = None,
    ) -> None:
        self.records = records  # maps CheckoutRequestID -> transaction (the journal)
        self.ids = ids
        self._scenarios = scenarios  # the set in force (replaced whole on reload)
        self.locks: dict[str, str] = {}  # maps MSISDN -> CheckoutRequestID pending on that phone
        self.queued: dict[str | None, deque[str]] = {}  # maps MSISDN (None: any) -> scenarios
        self._merchants = merchants  # shortcode -> passkey
        self._legacy_pending = legacy_pending
        self._good_credentials: set[tuple[str, str, str]] = set()  # checked and right
        self._accepted_notes: dict[str, str] = {}  # reason -> its timeline note, shared
        self.settlement = settlement  # the ledger behind a success; None: money is not kept
        # the queued outcome the latest push used: (CheckoutRequestID, queue key, scenario), so
        # a push withdrawn before its answer gives it back
        self._last_queued: tuple[str, str | None, str] | None = None

    def check_credentials(self, shortcode: str, password: str, timestamp: str) -> None:
        if (shortcode, password, timestamp) in self._good_credentials:
            return  # a shop sends the same Password with every push in a second
        passkey = self._merchants.get(shortcode)
        if passkey is None:
            why = (f"shortcode {shortcode} is not registered for STK (no passkey); start with "
                   f"--shortcode {shortcode}:PASSKEY (DARAJA_SHORTCODE); only {SANDBOX_SHORTCODE} "
                   "has one by default, as in the sandbox")
            log.warning("refused: %s", why)
            raise ProcessingError(MERCHANT_UNKNOWN, why=why)
        problem = password_problem(shortcode, passkey, password, timestamp)
        if problem:
            log.warning("refused: Wrong credentials: %s", problem)
            raise ProcessingError(WRONG_CREDENTIALS)
        if len(self._good_credentials) >= 4096:
            self._good_credentials.clear()
        self._good_credentials.add((shortcode, password, timestamp))

    def push(self, req: PushRequest, now: datetime) -> Transaction:
        """Accept a push, or raise the DarajaError live Daraja would answer."""
        self.check_credentials(req.business_short_code, req.password, req.timestamp)
        if req.phone in self.locks:
            log.info("refused: phone %s already has a pending push", req.phone)
            raise ProcessingError(SUBSCRIBER_LOCKED)
        popped = self._pop_queued(req.phone)
        try:
            txn = self._new_transaction(req, self._choose(req, popped), now)
        except BaseException:
            if popped is not None:
                self.queued.setdefault(popped[0], deque()).appendleft(popped[1])
            raise
        self._last_queued = None if popped is None else (txn.checkout_request_id, *popped)
        self.locks[req.phone] = txn.checkout_request_id
        try:
            self.records.add(txn)
        except BaseException:
            self.withdraw(txn)
            raise
        return txn

    def withdraw(self, txn: Transaction) -> None:
        """Undo an acceptance that failed before its answer: the phone's lock, the transaction
        and the queued outcome it used go back to how they were, so the client may retry."""
        checkout_id = txn.checkout_request_id
        if self.locks.get(txn.phone) == checkout_id:
            del self.locks[txn.phone]
        self.records.discard(checkout_id)
        last = self._last_queued
        if last is not None and last[0] == checkout_id:
            self.queued.setdefault(last[1], deque()).appendleft(last[2])
            self._last_queued = None

    def _choose(self, req: PushRequest, popped: tuple[str | None, str] | None) -> Choice:
        if popped is not None:
            queued = popped[1]
            return Choice(self._scenarios().get(queued), f"{QUEUED_REASON} '{queued}'", True)
        return self._scenarios().choose(req.phone, req.amount, req.account_reference)

    def _pop_queued(self, phone: str) -> tuple[str | None, str] | None:
        """(the queue's key, the scenario) of the next queued outcome for this phone, if any."""
        for key in (phone, None):
            queue = self.queued.get(key)
            if queue:
                return key, queue.popleft()
        return None

    def _new_transaction(self, req: PushRequest, choice: Choice, now: datetime) -> Transaction:
        s = choice.scenario
        code, desc, reason = s.result_code, s.result_desc, choice.reason
        delay = s.delay.pick(self.ids.rng)
        state = State.PENDING
        if prompt_length(req) > MAX_PROMPT:
            code, desc, delay = PUSH_ERROR, str(describe(PUSH_ERROR)), min(delay, 3.0)
            reason += f"; prompt longer than {MAX_PROMPT} characters, so it ends as 1025"
        elif s.manual:
            code, desc, delay, state = (
                TIMEOUT,
                str(describe(TIMEOUT)),
                s.manual_timeout,
                State.WAITING,
            )
        txn = Transaction(
            merchant_request_id=self.ids.merchant_request_id(),
            checkout_request_id=self.ids.checkout_request_id(now, req.phone),
            request=req,
            scenario=s,
            reason=reason,
            created_at=now,
            delay=delay,
            planned_code=code,
            planned_desc=desc,
            state=state,
            queued=choice.queued,
            timeline=[(now, self._accepted_note(reason))],
        )
        return txn

    def _accepted_note(self, reason: str) -> str:
        """The timeline's first note; one string per reason (most pushes share a few), not one
        per pending push."""
        note = self._accepted_notes.get(reason)
        if note is None:
            note = f"push accepted; {reason}"
            if len(self._accepted_notes) < 1024:
                self._accepted_notes[reason] = note
        return note

    def complete(
        self,
        checkout_id: str,
        now: datetime,
        outcome: tuple[int | str, str] | None = None,
        note: str = "outcome due",
    ) -> Transaction | None:
        """End a transaction exactly once; None when it is unknown or already final."""
        txn = self.records.get(checkout_id)
        if txn is None or txn.is_final:
            return None
        code, desc = outcome or (txn.planned_code, txn.planned_desc)
        code = normalise(code)
        receipt = self.ids.receipt(now) if code == 0 else None
        if receipt is not None and not self._settled(txn, receipt, now):
            code, desc, receipt = INSUFFICIENT, str(describe(INSUFFICIENT)), None
            note += "; the customer's balance is too small"
        txn.move(State.COMPLETED, now, f"{note}: ResultCode {code}")
        txn.result_code, txn.result_desc, txn.completed_at = code, desc, now
        txn.receipt = receipt
        if self.locks.get(txn.phone) == checkout_id:
            del self.locks[txn.phone]
        self.records.finish(txn)
        return txn

    def _settled(self, txn: Transaction, receipt: str, now: datetime) -> bool:
        """Move the money of a success through the ledger; False when the wallet is short."""
        if self.settlement is None:
            return True
        req = txn.request
        buy_goods = req.transaction_type == "CustomerBuyGoodsOnline"
        shortcode = req.party_b if buy_goods else req.business_short_code
        payment = Payment(receipt, req.phone, shortcode, buy_goods, req.amount,
                          req.account_reference, now)
        return self.settlement.settle(payment)

    def query(self, req: QueryRequest, now: datetime) -> Transaction:
        self.check_credentials(req.business_short_code, req.password, req.timestamp)
        txn = self.records.get(req.checkout_request_id)
        if txn is None:
            raise BadRequest("CheckoutRequestID", why=f"no transaction "
                             f"{req.checkout_request_id[:40]!r} (unknown, reset, or past "
                             f"--journal-size)")
        if txn.request.business_short_code != req.business_short_code:
            raise BadRequest("CheckoutRequestID", why=f"the transaction belongs to shortcode "
                             f"{txn.request.business_short_code}, not "
                             f"{req.business_short_code}")
        if not txn.is_final and self._legacy_pending:
            raise ProcessingError(BEING_PROCESSED, request_id=txn.checkout_request_id)
        return txn

    def queue(self, scenario: str, phone: str | None = None, count: int = 1) -> None:
        """Queue outcomes for the next pushes (to one phone, or any), first in first out."""
        self._scenarios().outcome(scenario)  # unknown names fail now, not at push time
        self.queued.setdefault(phone, deque()).extend([scenario] * count)

    def restore(self, txns: list[Transaction]) -> None:
        """After a restart: the journal and the phones' locks as they were."""
        for txn in txns:
            self.records.put(txn, finished=txn.is_final)
            if not txn.is_final:
                self.locks[txn.phone] = txn.checkout_request_id
        if txns:
            self.ids.resume_after(txns[-1].merchant_request_id)

    def reset(self) -> None:
        """Transactions, locks and queued outcomes go."""
        self.records.reset()
        self.locks.clear()
        self.queued.clear()
