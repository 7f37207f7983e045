"""Journal records as JSON for the admin API; the only place that shapes them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from emulator.daraja.stk.models import Transaction
from emulator.daraja.stk.rules import prompt_text
from emulator.kernel.delivery import Attempt
from emulator.scenario.model import Scenario


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


def scenario(s: Scenario, default: bool) -> dict[str, Any]:
    m = s.match
    return {
        "name": s.name,
        "description": s.description,
        "result_code": s.result_code,
        "result_desc": s.result_desc,
        "delay": [s.delay.low, s.delay.high],
        "callback": s.callback.value,
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
            "delay": [s.c2b.delay.low, s.c2b.delay.high], "duplicate_gap": s.c2b.duplicate_gap},
    }
