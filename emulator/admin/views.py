"""Journal records as JSON for the admin API; the only place that shapes them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from emulator.daraja.stk.models import Transaction
from emulator.daraja.stk.rules import prompt_text
from emulator.kernel import texts
from emulator.kernel.delivery import Attempt
from emulator.scenario.model import Delay, Scenario


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def summary(txn: Transaction, due_in: float | None = None) -> dict[str, Any]:
    req = txn.request
    return {
        "checkout_request_id": txn.checkout_request_id,
        "merchant_request_id": txn.merchant_request_id,
        "created_at": _iso(txn.created_at),
        "phone": req.phone,
        "amount": req.amount,
        "account_reference": req.account_reference,
        "business_short_code": req.business_short_code,
        "scenario": txn.scenario.name,
        "state": txn.state.value,
        "result_code": txn.result_code,
        "result_desc": txn.result_desc,
        "due_in": None if due_in is None else round(due_in, 3),
        "planned_result_code": None if txn.is_final else txn.planned_code,
        "planned_result_desc": None if txn.is_final else txn.planned_desc,
        "callbacks": len(txn.attempts),
    }


def attempt(a: Attempt) -> dict[str, Any]:
    return {
        "at": _iso(a.at),
        "url": a.url,
        "status": a.status,
        "error": a.error,
        "latency_ms": a.latency_ms,
        "response_body": a.response_body,
        "payload": json.loads(a.sent) if a.sent else None,  # the JSON posted, parsed
        "sent": a.sent,  # the exact JSON text posted (the payload re-encoded loses "1.00")
    }


def detail(txn: Transaction, due_in: float | None = None) -> dict[str, Any]:
    req = txn.request
    request = {  # the push as received, Password withheld
        "BusinessShortCode": req.business_short_code,
        "Timestamp": req.timestamp,
        "TransactionType": req.transaction_type,
        "Amount": req.amount,
        "PartyA": req.party_a,
        "PartyB": req.party_b,
        "PhoneNumber": req.phone,
        "CallBackURL": req.callback_url,
        "AccountReference": req.account_reference,
        "TransactionDesc": req.transaction_desc,
    }
    return {
        **summary(txn, due_in),
        "reason": txn.reason,
        "prompt": prompt_text(req),
        "completed_at": _iso(txn.completed_at),
        "receipt": txn.receipt,
        "request": request,
        "timeline": [{"at": _iso(at), "event": note} for at, note in txn.timeline],
        "callback_attempts": [attempt(a) for a in txn.attempts],
    }


def _span(delay: Delay) -> list[float]:
    return [delay.low, delay.high]


def _does(s: Scenario) -> tuple[str, int | str | None, str | None, list[float] | None,
                                 str | None]:
    """(kind, result code, result text, delay, how the notice travels) in the terms of each
    kind: an STK outcome's callback, a C2B payment's confirmation, an initiator request's
    Result POST; a fault has none of them (its requests fail, nothing is scheduled)."""
    if s.fault is not None:
        return "fault", None, None, None, None
    if s.c2b is not None:
        return "c2b", None, None, _span(s.c2b.delay), s.c2b.confirmation.value
    if s.initiator is not None:
        i = s.initiator
        desc = i.result_desc or texts.describe_initiator(i.result_code)
        return "initiator", i.result_code, desc, _span(i.delay), i.result.value
    return "stk", s.result_code, s.result_desc, _span(s.delay), s.callback.value


def scenario(s: Scenario, default: bool) -> dict[str, Any]:
    m = s.match
    kind, code, desc, delay, callback = _does(s)
    return {
        "name": s.name,
        "kind": kind,
        "description": s.description,
        "result_code": code,
        "result_desc": desc,
        "delay": delay,
        "callback": callback,
        "manual": s.manual,
        "default": default,
        "match": {
            "phones": sorted(m.phones),
            "amount": [m.amount_min, m.amount_max],
            "account_references": list(m.account_references),
        },
        "source": s.source,
        "bundled": s.bundled,
        "fault": s.fault.kind.value if s.fault else None,
        "c2b": None if s.c2b is None else {
            "validation": s.c2b.validation.value, "confirmation": s.c2b.confirmation.value,
            "delay": _span(s.c2b.delay), "duplicate_gap": s.c2b.duplicate_gap},
        "initiator": None if s.initiator is None else {
            "result_code": s.initiator.result_code, "result_desc": desc,
            "result": s.initiator.result.value, "delay": _span(s.initiator.delay),
            "duplicate_gap": s.initiator.duplicate_gap, "apis": sorted(s.initiator.apis)},
    }
