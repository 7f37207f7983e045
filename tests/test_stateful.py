"""A stateful model of the STK domain: pushes, time, completions and queries, no HTTP, no loop.

Hypothesis drives `StkBackend` through random sequences of operations and checks, after every
step, that the subscriber lock, the exactly-once completion and the wire bodies (query answer
and callback) agree with each other and with Daraja (reference 2.3, 3.1, 3.2, 4, 8).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from emulator.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from emulator.daraja.stk import wire
from emulator.daraja.stk.codec import TransactionCodec
from emulator.daraja.stk.models import PushRequest, QueryRequest, State, Transaction
from emulator.daraja.stk.rules import StkBackend
from emulator.kernel.clock import FakeClock
from emulator.kernel.errors import SUBSCRIBER_LOCKED, WRONG_CREDENTIALS, BadRequest, ProcessingError
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records
from emulator.kernel.texts import PENDING_QUERY_CODE, PENDING_QUERY_DESC, describe
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.loader import load_scenarios

SCENARIOS = ScenarioSet(load_scenarios())  # loaded once: the set is immutable
MANUAL_PHONE = "254710000003"
# phone -> the ResultCode its bundled scenario ends with when nobody decides
PLANNED = {
    "254708374149": 0,  # the sandbox test number: success
    "254700001032": 1032,
    "254700001037": 1037,
    "254700000001": 1,
    "254700001025": 1025,
    "254710000001": 0,  # lost callback: still a success
    MANUAL_PHONE: 1037,  # manual: no decision within the wait ends as 1037
    "254711222333": 0,  # ordinary numbers: the default scenario
    "254722000444": 0,
    "254110000555": 0,  # a 2541 number
}
PHONES = sorted(PLANNED)
LONG_REFERENCE = "R" * 150  # the prompt would exceed 182 characters: ends as 1025
DECISIONS: list[tuple[int | str, str]] = [
    (0, str(describe(0))),
    (1032, str(describe(1032))),
    (2001, str(describe(2001))),
    (1, str(describe(1))),
    (1037, str(describe(1037))),
    ("SFC_IC0003", str(describe("SFC_IC0003"))),
    ("0", str(describe(0))),  # numeric strings, as the admin API may pass them: numbers on the wire
    ("1032", str(describe(1032))),
]
JOURNAL_SIZE = 6  # small, so old completed transactions are evicted during a run


def push_request(phone: str, amount: int, reference: str, ts: str, passkey: str) -> PushRequest:
    raw = f"{SANDBOX_SHORTCODE}{passkey}{ts}".encode()
    return PushRequest(
        business_short_code=SANDBOX_SHORTCODE,
        password=base64.b64encode(raw).decode(),
        timestamp=ts,
        transaction_type="CustomerPayBillOnline",
        amount=amount,
        party_a=phone,
        party_b=SANDBOX_SHORTCODE,
        phone=phone,
        callback_url="http://127.0.0.1:9/cb",
        account_reference=reference,
        transaction_desc="Payment",
    )


def query_request(checkout_id: str, ts: str = "20260115103000") -> QueryRequest:
    raw = f"{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}{ts}".encode()
    return QueryRequest(SANDBOX_SHORTCODE, base64.b64encode(raw).decode(), ts, checkout_id)


@dataclass
class Final:
    """What a transaction looked like when it completed; it must never change afterwards."""

    result_code: int | str
    result_desc: str
    completed_at: datetime
    receipt: str | None
    timeline_len: int


class _StoreView:
    """The backend's locks and journal under the names these checks use."""

    def __init__(self, backend: StkBackend) -> None:
        self._backend = backend

    @property
    def locks(self) -> dict[str, str]:
        return self._backend.locks

    @property
    def transactions(self) -> dict[str, Transaction]:
        return self._backend.records.by_key


class StkMachine(RuleBasedStateMachine):
    pending = Bundle("pending")  # CheckoutRequestIDs pushed and not yet seen final
    finished = Bundle("finished")  # CheckoutRequestIDs the model knows are final

    @initialize(seed=st.integers(0, 2**16))
    def setup(self, seed: int) -> None:
        self.clock = FakeClock()
        self.backend = StkBackend(
            Records(TransactionCodec(), JOURNAL_SIZE), IdSource(seed), lambda: SCENARIOS,
            {SANDBOX_SHORTCODE: SANDBOX_PASSKEY},
        )
        self.store = _StoreView(self.backend)
        self.txns: dict[str, Transaction] = {}  # every transaction ever accepted
        self.expected: dict[str, tuple[int | str, str]] = {}  # planned outcome per id
        self.completions: dict[str, int] = {}
        self.finals: dict[str, Final] = {}

    # ------------------------------------------------------------------ helpers

    def _open(self, phone: str) -> list[Transaction]:
        return [t for t in self.txns.values() if t.phone == phone and not t.is_final]

    def _completed(self, txn: Transaction | None, checkout_id: str) -> None:
        assert txn is not None and txn.checkout_request_id == checkout_id
        assert txn.is_final and txn.state is State.COMPLETED
        assert txn.completed_at == self.clock.now()
        self.completions[checkout_id] = self.completions.get(checkout_id, 0) + 1
        self.finals[checkout_id] = Final(
            txn.result_code,  # type: ignore[arg-type]
            txn.result_desc,  # type: ignore[arg-type]
            txn.completed_at,
            txn.receipt,
            len(txn.timeline),
        )

    # ------------------------------------------------------------------ rules

    @rule(
        target=pending,
        phone=st.sampled_from(PHONES),
        amount=st.integers(1, 250_000),
        long_reference=st.booleans(),
    )
    def push(self, phone: str, amount: int, long_reference: bool) -> Any:
        reference = LONG_REFERENCE if long_reference else "REF-1"
        ts = self.clock.now().strftime("%Y%m%d%H%M%S")
        req = push_request(phone, amount, reference, ts, SANDBOX_PASSKEY)
        locked = bool(self._open(phone))
        locks_before = dict(self.store.locks)
        try:
            txn = self.backend.push(req, self.clock.now())
        except ProcessingError as exc:
            event("push refused: phone locked")
            assert locked, f"{phone} refused without a pending transaction"
            assert (exc.code, exc.message, exc.status) == ("500.001.1001", SUBSCRIBER_LOCKED, 500)
            assert self.store.locks == locks_before
            return multiple()
        assert not locked, f"{phone} accepted a second push while one is pending"
        assert txn.checkout_request_id not in self.txns, "CheckoutRequestID reused"
        assert txn.checkout_request_id.endswith(phone[-9:])
        assert self.store.locks[phone] == txn.checkout_request_id
        if phone == MANUAL_PHONE and not long_reference:
            assert txn.state is State.WAITING
        else:
            assert txn.state is State.PENDING
        code = 1025 if long_reference else PLANNED[phone]
        self.expected[txn.checkout_request_id] = (code, str(describe(code)))
        self.txns[txn.checkout_request_id] = txn
        return txn.checkout_request_id

    @rule(phone=st.sampled_from(PHONES), passkey=st.sampled_from(["0" * 64, "", "x"]))
    def push_wrong_credentials(self, phone: str, passkey: str) -> None:
        """Credentials are checked before the lock; a refusal changes nothing."""
        ts = self.clock.now().strftime("%Y%m%d%H%M%S")
        locks_before, count = dict(self.store.locks), len(self.store.transactions)
        with pytest.raises(ProcessingError) as caught:
            self.backend.push(push_request(phone, 1, "REF", ts, passkey), self.clock.now())
        assert caught.value.message == WRONG_CREDENTIALS
        assert self.store.locks == locks_before and len(self.store.transactions) == count

    @rule(seconds=st.floats(0, 120, allow_nan=False))
    def advance(self, seconds: float) -> None:
        before = self.clock.now()
        self.clock.advance(seconds)
        assert self.clock.now() >= before

    @rule()
    def outcomes_due(self) -> None:
        """What the runtime does as time passes: complete every transaction whose delay ran out."""
        now = self.clock.now()
        for checkout_id, txn in list(self.txns.items()):
            if txn.is_final or (now - txn.created_at).total_seconds() < txn.delay:
                continue
            done = self.backend.complete(checkout_id, now)
            self._completed(done, checkout_id)
            assert (done.result_code, done.result_desc) == self.expected[checkout_id]

    @rule(target=finished, checkout_id=consumes(pending))
    def complete(self, checkout_id: str) -> str:
        txn = self.txns[checkout_id]
        was_final = txn.is_final
        done = self.backend.complete(checkout_id, self.clock.now())
        if was_final:
            assert done is None
        else:
            self._completed(done, checkout_id)
            assert (done.result_code, done.result_desc) == self.expected[checkout_id]
        return checkout_id

    @rule(
        target=finished,
        checkout_id=consumes(pending),
        decision=st.sampled_from(DECISIONS),
    )
    def decide(self, checkout_id: str, decision: tuple[int | str, str]) -> str:
        txn = self.txns[checkout_id]
        was_final = txn.is_final
        done = self.backend.complete(checkout_id, self.clock.now(), decision, "decided")
        if was_final:
            event("decision on a final transaction")
            assert done is None
        else:
            self._completed(done, checkout_id)
            assert (str(done.result_code), done.result_desc) == (str(decision[0]), decision[1])
        return checkout_id

    @rule(checkout_id=finished, decision=st.one_of(st.none(), st.sampled_from(DECISIONS)))
    def complete_again(self, checkout_id: str, decision: tuple[int | str, str] | None) -> None:
        assert self.txns[checkout_id].is_final
        assert self.backend.complete(checkout_id, self.clock.now(), decision) is None

    @rule(checkout_id=st.sampled_from(["", "ws_CO_unknown", "ws_CO_260120261030000708374149"]))
    def complete_unknown(self, checkout_id: str) -> None:
        assert self.backend.complete(checkout_id, self.clock.now()) is None

    @precondition(lambda self: bool(self.txns))
    @rule(data=st.data())
    def query(self, data: st.DataObject) -> None:
        checkout_id = data.draw(st.sampled_from(sorted(self.txns)))
        txn = self.txns[checkout_id]
        try:
            answered = self.backend.query(query_request(checkout_id), self.clock.now())
        except BadRequest as exc:
            # only a transaction evicted from the bounded journal is forgotten
            assert exc.message == "Bad Request - Invalid CheckoutRequestID"
            assert txn.is_final and checkout_id not in self.store.transactions
            event("query of an evicted transaction")
            return
        assert answered is txn

    @rule()
    def query_unknown(self) -> None:
        with pytest.raises(BadRequest) as caught:
            self.backend.query(query_request("ws_CO_nope"), self.clock.now())
        assert caught.value.message == "Bad Request - Invalid CheckoutRequestID"

    # ------------------------------------------------------------------ invariants

    @invariant()
    def lock_iff_open_transaction(self) -> None:
        if not hasattr(self, "store"):
            return
        for phone in PHONES:
            open_txns = self._open(phone)
            assert len(open_txns) <= 1, f"{phone} has {len(open_txns)} open transactions"
            if open_txns:
                assert self.store.locks.get(phone) == open_txns[0].checkout_request_id
            else:
                assert phone not in self.store.locks
        assert set(self.store.locks) <= set(PHONES)

    @invariant()
    def completes_exactly_once_and_stays_final(self) -> None:
        if not hasattr(self, "store"):
            return
        for checkout_id, txn in self.txns.items():
            count = self.completions.get(checkout_id, 0)
            assert count == (1 if txn.is_final else 0), (checkout_id, count, txn.state)
            if not txn.is_final:
                assert txn.result_code is None and txn.completed_at is None
                assert self.store.transactions.get(checkout_id) is txn
                continue
            frozen = self.finals[checkout_id]
            assert (txn.result_code, txn.result_desc, txn.completed_at, txn.receipt) == (
                frozen.result_code,
                frozen.result_desc,
                frozen.completed_at,
                frozen.receipt,
            )
            assert len(txn.timeline) == frozen.timeline_len
            assert txn.state is State.COMPLETED

    @invariant()
    def journal_is_bounded(self) -> None:
        if not hasattr(self, "store"):
            return
        open_ids = {i for i, t in self.txns.items() if not t.is_final}
        assert open_ids <= set(self.store.transactions)  # open ones are never evicted
        assert len(self.store.transactions) <= len(open_ids) + JOURNAL_SIZE

    @invariant()
    def wire_bodies_agree(self) -> None:
        if not hasattr(self, "store"):
            return
        for txn in self.txns.values():
            q = wire.query_response(txn)
            assert set(q) == {
                "ResponseCode",
                "ResponseDescription",
                "MerchantRequestID",
                "CheckoutRequestID",
                "ResultCode",
                "ResultDesc",
            }
            assert q["ResponseCode"] == "0" and isinstance(q["ResultCode"], str)
            assert q["CheckoutRequestID"] == txn.checkout_request_id
            if not txn.is_final:
                assert (q["ResultCode"], q["ResultDesc"]) == (
                    PENDING_QUERY_CODE,
                    PENDING_QUERY_DESC,
                )
                continue
            assert q["ResultCode"] == str(txn.result_code)
            assert q["ResultDesc"] == txn.result_desc
            payload = wire.callback_payload(txn)
            cb = payload["Body"]["stkCallback"]
            code = cb["ResultCode"]
            if q["ResultCode"].isdigit():
                assert isinstance(code, int) and not isinstance(code, bool)
                assert code == int(q["ResultCode"])
            else:
                assert code == q["ResultCode"]
            assert cb["ResultDesc"] == q["ResultDesc"]
            assert cb["MerchantRequestID"] == q["MerchantRequestID"]
            assert cb["CheckoutRequestID"] == txn.checkout_request_id
            success = q["ResultCode"] == "0"
            assert ("CallbackMetadata" in cb) == success
            assert (txn.receipt is not None) == success
            if success:
                items = {i["Name"]: i.get("Value") for i in cb["CallbackMetadata"]["Item"]}
                assert items["Amount"] == txn.request.amount
                assert items["MpesaReceiptNumber"] == txn.receipt
                assert items["PhoneNumber"] == int(txn.phone)
            # the bytes on the wire say the same as the payload
            assert json.loads(wire.encode_callback(payload)) == payload


StkMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStkMachine = StkMachine.TestCase


def test_numeric_string_decision_behaves_like_its_number() -> None:
    clock = FakeClock()
    backend = StkBackend(Records(TransactionCodec(), 10_000), IdSource(1), lambda: SCENARIOS,
                         {SANDBOX_SHORTCODE: SANDBOX_PASSKEY})
    req = push_request(MANUAL_PHONE, 10, "REF", "20260115103000", SANDBOX_PASSKEY)
    txn = backend.push(req, clock.now())
    backend.complete(txn.checkout_request_id, clock.now(), ("0", str(describe(0))))
    cb = wire.callback_payload(txn)["Body"]["stkCallback"]
    assert wire.query_response(txn)["ResultCode"] == "0"
    assert cb["ResultCode"] == 0 and isinstance(cb["ResultCode"], int)
    assert "CallbackMetadata" in cb and txn.receipt is not None
