"""Admin endpoints for the ledger: balances of businesses and customers, setting them, and the
entries. /_emulator/ledger/..."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.admin.auth import AdminError, guard, read_body
from emulator.admin.numbers import query_limit
from emulator.config import MAX_BALANCE
from emulator.ledger.book import LedgerError
from emulator.ledger.models import Account, Business, Customer, Entry
from emulator.ledger.money import cents, shillings
from emulator.wiring import Emulator

PHONE = re.compile(r"254[17][0-9]{8}")


def business_view(b: Business) -> dict[str, Any]:
    from emulator.daraja.balance.rules import account_balance  # built with the initiator APIs

    return {
        "shortcode": b.shortcode,
        "kind": b.kind.value,
        "name": b.name,
        "accounts": {a.value: shillings(v) for a, v in b.balances.items()},  # all six, kept
        # exactly the AccountBalance an Account Balance result would carry now: the accounts
        # of the business's kind (a paybill's has no Merchant, a till's no Float)
        "balance_string": account_balance(b),
    }


def customer_view(c: Customer) -> dict[str, Any]:
    name = " ".join(part for part in (c.first_name, c.middle_name, c.last_name) if part)
    return {"phone": c.phone, "name": name, "first_name": c.first_name,
            "middle_name": c.middle_name, "last_name": c.last_name, "balance": shillings(c.balance)}


def entry_view(e: Entry) -> dict[str, Any]:
    return {"receipt": e.receipt, "kind": e.kind, "at": e.at.isoformat(), "phone": e.phone,
            "shortcode": e.shortcode, "account": e.account.value, "amount": shillings(e.amount),
            "charges": shillings(e.charges), "customer_balance": shillings(e.customer_balance),
            "business_balance": shillings(e.business_balance), "reference": e.reference}




def _amount(data: dict[str, Any], key: str = "balance") -> int:
    value = data.get(key)
    try:
        if isinstance(value, float):
            value = repr(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_BALANCE:
            raise ValueError("too large")
        amount = cents(value)  # type: ignore[arg-type]
    except (ValueError, TypeError, ArithmeticError):  # ArithmeticError: Decimal's 1e999999
        amount = -1
    if not 0 <= amount <= MAX_BALANCE * 100:
        raise AdminError(400, f"{key} must be shillings from 0 to {MAX_BALANCE:,}, as a number "
                         f"or text, e.g. 1500 or \"1500.50\"; got {str(value)[:40]!r}")
    return amount


async def business(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    code = request.path_params["shortcode"]
    if request.method == "PUT":
        data = await read_body(request, emu.settings.max_body_bytes)
        try:
            account = Account.named(str(data.get("account", "Utility Account")))
            found = emu.ledger.set_balance(code, account, _amount(data))
        except ValueError as exc:
            raise AdminError(400, str(exc)) from None
        except LedgerError as exc:
            raise AdminError(404, str(exc)) from None
        emu.events.publish("ledger")
        return JSONResponse(business_view(found))
    found = emu.ledger.peek_business(code)  # a look opens nothing
    if found is None:
        raise AdminError(404, f"no business with shortcode {code} (sandbox codes 600000-600999 "
                         "exist; others need --shortcode or --till)")
    return JSONResponse(business_view(found))


async def businesses(emu: Emulator, request: Request) -> Response:
    """The registered businesses and every sandbox code opened so far, by shortcode."""
    guard(emu.settings, request)
    return JSONResponse({"businesses": [business_view(b) for b in emu.ledger.known()],
                         "total": shillings(emu.ledger.total())})


async def customer(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    phone = request.path_params["phone"]
    if not PHONE.fullmatch(phone):
        raise AdminError(400, f"phone must be 2547XXXXXXXX or 2541XXXXXXXX, got {phone!r}")
    if request.method == "PUT":
        try:
            data = await read_body(request, emu.settings.max_body_bytes)
            found = emu.ledger.set_customer_balance(phone, _amount(data))
        except LedgerError as exc:
            raise AdminError(400, str(exc)) from None
        emu.events.publish("ledger")
        return JSONResponse(customer_view(found))
    return JSONResponse(customer_view(emu.ledger.peek_customer(phone)))  # opens nothing


async def entries(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    q = request.query_params
    limit = query_limit(q.get("limit"))
    found = emu.ledger.history(q.get("phone") or None, q.get("shortcode") or None)[:limit]
    return JSONResponse({"entries": [entry_view(e) for e in found],
                         "total": shillings(emu.ledger.total())})
