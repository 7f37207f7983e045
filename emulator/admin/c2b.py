"""Admin endpoints for C2B: registrations and their validation switch, payments with every
validation and confirmation attempt, a payment started by QA, and queued C2B scenarios.
/_emulator/c2b/..."""

from __future__ import annotations

from itertools import islice
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.admin.auth import AdminError, guard, read_body
from emulator.admin.numbers import query_limit, queue_request
from emulator.admin.views import attempt
from emulator.daraja.c2b import wire
from emulator.daraja.c2b.models import Payment, Registration, State
from emulator.kernel import fields
from emulator.kernel.errors import BadRequest
from emulator.kernel.fields import MAX_AMOUNT
from emulator.kernel.formats import MSISDN, msisdn_why
from emulator.ledger.models import Entry, Kind
from emulator.ledger.money import shillings
from emulator.scenario.engine import UnknownScenario
from emulator.wiring import Emulator


def registration_view(r: Registration) -> dict[str, Any]:
    return {"shortcode": r.shortcode, "version": r.version, "response_type": r.response_type,
            "confirmation_url": r.confirmation_url, "validation_url": r.validation_url or None,
            "external_validation": r.external_validation,
            "registered_at": r.registered_at.isoformat()}


def reversal_of(emu: Emulator, p: Payment) -> Entry | None:
    """The ledger entry that gave a completed payment back (Reversal API), if any: C2B keeps
    no such state of its own, the ledger is where the reversal is booked."""
    return emu.ledger.reversal(p.trans_id) if p.state is State.COMPLETED else None


def payment_view(p: Payment, detail: bool = True, reversal: Entry | None = None) -> dict[str, Any]:
    """A payment as the admin API shows it; with its `reversal` it reads `reversed`."""
    view: dict[str, Any] = {
        "trans_id": p.trans_id, "originator_conversation_id": p.originator_id or None,
        "origin": p.origin, "shortcode": p.shortcode,
        "transaction_type": "Buy Goods" if p.till else "Pay Bill", "phone": p.phone,
        "amount": p.amount, "bill_ref": p.bill_ref,
        "state": "reversed" if reversal else p.state.value,
        "reversed_by": reversal.receipt if reversal else None,
        "reversed_at": reversal.at.isoformat() if reversal else None,
        "scenario": p.scenario or None, "outcome": p.outcome or None,
        "created_at": p.created_at.isoformat(),
        "completed_at": p.completed_at.isoformat() if p.completed_at else None,
        "org_balance": None if p.org_balance is None else shillings(p.org_balance),
        "third_party_trans_id": p.third_party_trans_id, "validations": len(p.validations),
        "confirmations": len(p.confirmations),
    }
    if detail:
        view["registration"] = registration_view(p.registration) if p.registration else None
        view["timeline"] = [{"at": at.isoformat(), "event": note} for at, note in p.timeline]
        if reversal:
            view["timeline"].append({"at": reversal.at.isoformat(), "event": (
                f"reversed by {reversal.receipt}: KES {shillings(reversal.amount)} back to "
                f"{reversal.phone}")})
        view["validation_attempts"] = [attempt(a) for a in p.validations]
        view["confirmation_attempts"] = [attempt(a) for a in p.confirmations]
    return view


async def registrations(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    if request.method == "DELETE":
        emu.c2b.registrations.reset()
    return JSONResponse({"registrations": [registration_view(r) for r in emu.c2b.registrations]})


async def validation_switch(emu: Emulator, request: Request) -> Response:
    """PUT {"external_validation": false}: Daraja stops (or starts) calling ValidationURL."""
    guard(emu.settings, request)
    enabled = (await read_body(request, emu.settings.max_body_bytes)).get("external_validation")
    if not isinstance(enabled, bool):
        raise AdminError(400, "external_validation must be true or false")
    code = request.path_params["shortcode"]
    found = emu.c2b.set_validation(code, enabled)
    if found is None:
        raise AdminError(404, f"shortcode {code} has registered no C2B URLs")
    return JSONResponse(registration_view(found))


async def payments(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    q = request.query_params
    limit = query_limit(q.get("limit"))
    phone, shortcode = q.get("phone"), q.get("shortcode")
    if phone and not MSISDN.fullmatch(phone):  # 07... would match nothing, silently
        raise AdminError(400, msisdn_why("phone", phone))
    found = (p for p in reversed(list(emu.c2b.payments))
             if (not phone or p.phone == phone) and (not shortcode or p.shortcode == shortcode))
    reversals = emu.ledger.reversals()
    rows = [payment_view(p, detail=False, reversal=reversals.get(p.trans_id))
            for p in islice(found, limit)]
    return JSONResponse({"payments": rows})


async def payment(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    trans_id = request.path_params["trans_id"]
    found = emu.c2b.payments.get(trans_id)
    if found is None:
        raise AdminError(404, f"no C2B payment {trans_id}")
    return JSONResponse(payment_view(found, reversal=reversal_of(emu, found)))


ORIGINS = ("admin", "phone")  # who started a QA payment: a script, or the dashboard's phone
_EXPECTED = {  # maps simulate's field -> the admin field's name and what it must be
    "Amount": ("amount", f"a whole number of shillings from 1 to {MAX_AMOUNT}"),
    "BillRefNumber": ("bill_ref", "at most 100 characters"),
    "CommandID": ("command_id", "CustomerPayBillOnline or CustomerBuyGoodsOnline"),
    "ShortCode": ("shortcode", "5 to 8 digits"),
}


def _why(field: str, value: object) -> str:
    """What is wrong with a field of a QA payment, what it must be, and what came."""
    if field == "Msisdn":
        text = fields.text(value)
        if text is None:
            return f"phone must be a string such as 254708374149, got {value!r:.40}"
        return msisdn_why("phone", text)  # STK's wording and hint (07... -> 2547...)
    name, expected = _EXPECTED.get(field, (field, "valid"))
    return f"{name} must be {expected}, got {value!r:.40}"


def start_payment(
    emu: Emulator, shortcode: str, phone: object, amount: object, bill_ref: object, *,
    origin: str, command: object = None,
) -> Payment:
    """A customer pays a business, as simulate does but without a token; the command fits the
    business (Buy Goods for a till) unless given. AdminError says what is wrong, in the admin
    API's own field names."""
    business = emu.ledger.business(shortcode)
    if business is None:
        raise AdminError(404, f"no business with shortcode {shortcode[:20]!r} (sandbox codes "
                         "600000-600999 exist; others need --shortcode or --till)")
    fits = "CustomerBuyGoodsOnline" if business.kind is Kind.TILL else "CustomerPayBillOnline"
    body = {"ShortCode": shortcode, "CommandID": command or fits, "Amount": amount,
            "Msisdn": phone, "BillRefNumber": bill_ref}
    try:
        p = emu.c2b.simulate(wire.parse_simulate(body), emu.clock.now(), origin=origin)
    except BadRequest as exc:
        if exc.field == "CommandID" and command is not None:
            raise AdminError(400, f"{shortcode} is a {business.kind.value}: {command} does not "
                             "fit it") from None
        raise AdminError(400, _why(exc.field, body.get(exc.field))) from None
    emu.c2b_lifecycle.started(p)
    return p


async def pay(emu: Emulator, request: Request) -> Response:
    """A customer pays a shortcode: {"shortcode", "phone", "amount", "bill_ref"?, "via"?};
    Buy Goods when the shortcode is a till. `via` "phone" marks the dashboard's phone."""
    guard(emu.settings, request)
    data = await read_body(request, emu.settings.max_body_bytes)
    via = data.get("via", "admin")
    if via not in ORIGINS:
        raise AdminError(400, f"via must be one of {', '.join(ORIGINS)}")
    p = start_payment(emu, str(data.get("shortcode", "")), data.get("phone"), data.get("amount"),
                      data.get("bill_ref"), origin=str(via), command=data.get("command_id"))
    return JSONResponse(payment_view(p), status_code=201)


async def queue(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    if request.method == "DELETE":
        emu.c2b.queued.clear()
    elif request.method == "POST":
        scenario, phone, count = queue_request(
            await read_body(request, emu.settings.max_body_bytes))
        try:
            emu.c2b.queue(scenario, phone, count)
        except UnknownScenario:
            raise AdminError(404, f"no C2B scenario named {scenario!r}") from None
    queued = emu.c2b.queued.items()
    return JSONResponse({"queue": [{"phone": p, "scenarios": list(n)} for p, n in queued if n]})
