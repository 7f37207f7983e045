"""Checking a Daraja request for faults: once on arrival (admin rules, rate limit) and once its
body is known (fault scenarios matched by phone). Raises FaultTriggered; app.py renders it."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from starlette.requests import Request

from emulator.faults.model import DEFAULT_SLOW_SECONDS, Endpoint, FaultKind


class FaultTriggered(Exception):
    def __init__(self, kind: FaultKind, why: str) -> None:
        self.kind, self.why = kind, why
        super().__init__(f"{kind.value} ({why})")


def _consumer_key(request: Request, emu: Any) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        token = emu.store.tokens.get(value.strip())
        return token.consumer_key if token else None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
    return None


async def on_arrival(request: Request, endpoint: Endpoint) -> None:
    """Admin-set faults and the rate limit, before the request is even authenticated."""
    emu = request.app.state.emulator
    book = emu.faults
    if not book.rules and book.rate_limit is None:
        return
    now = emu.clock.now()
    if book.over_limit(_consumer_key(request, emu), now):
        raise FaultTriggered(FaultKind.SPIKE_ARREST, f"over --rate-limit {book.rate_limit}/s")
    rule = book.take(endpoint, now)
    if rule is not None:
        emu.runtime.events.publish("faults")  # watchers see the count go down
        await _apply(rule.kind, rule.seconds, f"admin fault #{rule.id}")


async def on_body(request: Request, endpoint: Endpoint, body: Any) -> None:
    """Fault scenarios, matched by the phone (and amount, account reference) of the request."""
    emu = request.app.state.emulator
    phone, amount, reference = _subject(emu, endpoint, body)
    if phone is None:
        return
    scenario = emu.stk.scenarios.fault_for(endpoint, phone, amount, reference)
    kind = emu.faults.for_phone(scenario, phone)
    if kind is not None and scenario is not None and scenario.fault is not None:
        await _apply(kind, scenario.fault.seconds, f"scenario '{scenario.name}'")


def _subject(emu: Any, endpoint: Endpoint, body: Any) -> tuple[str | None, int | None, str]:
    """Phone, amount and account reference a fault scenario may match on, read leniently."""
    if not isinstance(body, dict):
        return None, None, ""
    if endpoint is Endpoint.QUERY:
        txn = emu.store.transactions.get(str(body.get("CheckoutRequestID")))
        if txn is None:
            return None, None, ""
        return txn.phone, txn.request.amount, txn.request.account_reference
    return str(body.get("PhoneNumber")), _amount(body.get("Amount")), str(
        body.get("AccountReference", ""))


def _amount(value: Any) -> int | None:
    """A plausible whole amount, or None (never an exception: the body is not validated yet)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


async def _apply(kind: FaultKind, seconds: float, why: str) -> None:
    if kind is FaultKind.SLOW:
        await asyncio.sleep(seconds or DEFAULT_SLOW_SECONDS)
        return
    raise FaultTriggered(kind, why)
