"""STK transactions as JSON rows for the --state file, and back.

Plain values only. The Password is not stored: it was checked when the push arrived and nothing
needs it after. The scenario is stored whole, so a restart after a scenario file changed still
finishes a pending push as it was planned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulator.daraja.stk.models import PushRequest, State, Transaction
from emulator.kernel.delivery import Attempt
from emulator.scenario.model import BalanceItem, Delay, Delivery, Scenario

Row = dict[str, Any]
_REQUEST = ("business_short_code", "timestamp", "transaction_type", "amount", "party_a",
            "party_b", "phone", "callback_url", "account_reference", "transaction_desc")
_ATTEMPT = ("url", "status", "error", "latency_ms", "response_body", "sent")


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _scenario_row(s: Scenario) -> Row:
    return {"name": s.name, "result_code": s.result_code, "result_desc": s.result_desc,
            "delay": [s.delay.low, s.delay.high], "description": s.description,
            "callback": s.callback.value, "duplicate_gap": s.duplicate_gap,
            "balance": s.balance.value, "manual": s.manual, "manual_timeout": s.manual_timeout,
            "source": s.source, "bundled": s.bundled}


def _scenario(row: Row) -> Scenario:
    low, high = row["delay"]
    return Scenario(
        name=row["name"], result_code=row["result_code"], result_desc=row["result_desc"],
        delay=Delay(low, high), description=row["description"],
        callback=Delivery(row["callback"]), duplicate_gap=row["duplicate_gap"],
        balance=BalanceItem(row["balance"]), manual=row["manual"],
        manual_timeout=row["manual_timeout"], source=row["source"], bundled=row["bundled"])


class TransactionCodec:
    kind = "stk"

    def key(self, txn: Transaction) -> str:
        return txn.checkout_request_id

    def to_row(self, txn: Transaction) -> Row:
        return {
            "merchant_request_id": txn.merchant_request_id,
            "checkout_request_id": txn.checkout_request_id,
            "request": {name: getattr(txn.request, name) for name in _REQUEST},
            "scenario": _scenario_row(txn.scenario),
            "reason": txn.reason,
            "created_at": _time(txn.created_at),
            "delay": txn.delay,
            "planned_code": txn.planned_code,
            "planned_desc": txn.planned_desc,
            "state": txn.state.value,
            "due_at": _time(txn.due_at),
            "result_code": txn.result_code,
            "result_desc": txn.result_desc,
            "completed_at": _time(txn.completed_at),
            "receipt": txn.receipt,
            "queued": txn.queued,
            "attempts": [{"at": _time(a.at), **{n: getattr(a, n) for n in _ATTEMPT}}
                         for a in txn.attempts],
            "timeline": [[_time(at), note] for at, note in txn.timeline],
        }

    def from_row(self, row: Row) -> Transaction:
        request = PushRequest(password="", **row["request"])
        return Transaction(
            merchant_request_id=row["merchant_request_id"],
            checkout_request_id=row["checkout_request_id"],
            request=request,
            scenario=_scenario(row["scenario"]),
            reason=row["reason"],
            created_at=_parse_time(row["created_at"]),  # type: ignore[arg-type]
            delay=row["delay"],
            planned_code=row["planned_code"],
            planned_desc=row["planned_desc"],
            state=State(row["state"]),
            due_at=_parse_time(row["due_at"]),
            result_code=row["result_code"],
            result_desc=row["result_desc"],
            completed_at=_parse_time(row["completed_at"]),
            receipt=row["receipt"],
            queued=row["queued"],
            attempts=tuple(Attempt(at=_parse_time(a["at"]), **{n: a[n] for n in _ATTEMPT})  # type: ignore[arg-type]
                           for a in row["attempts"]),
            timeline=[(_parse_time(at), note) for at, note in row["timeline"]],  # type: ignore[misc]
        )
