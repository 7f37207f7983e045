"""Admin endpoints for Dynamic QR: the codes Daraja generated (with their images), and a phone
"scanning" one: the code's text is read back and the C2B payment it asks for starts.
/_emulator/qr/..."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.admin.auth import AdminError, guard, read_body
from emulator.admin.c2b import payment_view, start_payment
from emulator.admin.numbers import query_limit
from emulator.wiring import Emulator

if TYPE_CHECKING:
    from emulator.daraja.qr.models import QrCode

# maps TrxCode -> the C2B CommandID a scan starts; Send Money and agent withdrawals move money
# between people, which the ledger does not keep
C2B_COMMANDS = {"BG": "CustomerBuyGoodsOnline", "PB": "CustomerPayBillOnline",
                "SB": "CustomerPayBillOnline"}
MAX_PAYLOAD = 1000  # characters of scanned text (a code's text is a few hundred at most)


def qr_view(emu: Emulator, code: QrCode, image: bool = True) -> dict[str, Any]:
    from emulator.daraja.qr.models import TRX_CODES  # Dynamic QR is built on first use

    r = code.request
    view: dict[str, Any] = {
        "id": code.id, "created_at": code.created_at.isoformat(), "merchant_name": r.merchant_name,
        "ref_no": r.ref_no, "amount": r.amount, "trx_code": r.trx_code,
        "trx": TRX_CODES[r.trx_code], "cpi": r.cpi, "size": r.size,
        "payable": r.trx_code in C2B_COMMANDS, "payload": code.payload,
    }
    if image:
        view["image"] = "data:image/png;base64," + emu.qr.image(code)
    return view


async def codes(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    limit = query_limit(request.query_params.get("limit"))
    found = list(reversed(list(emu.qr.codes)))[:limit]
    return JSONResponse({"codes": [qr_view(emu, c) for c in found]})


async def code(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    found = emu.qr.codes.get(request.path_params["id"])
    if found is None:
        raise AdminError(404, f"no QR code {request.path_params['id'][:60]!r}")
    return JSONResponse(qr_view(emu, found))


async def scan(emu: Emulator, request: Request) -> Response:
    """{"payload": the code's text, "phone": the payer}: the phone reads the code and pays what
    it asks, through C2B (validation and confirmation as for any C2B payment)."""
    guard(emu.settings, request)
    data = await read_body(request, emu.settings.max_body_bytes)
    text = data.get("payload")
    if not isinstance(text, str) or not 0 < len(text) <= MAX_PAYLOAD:
        raise AdminError(400, "payload must be the QR code's text (GET /_emulator/qr lists it)")
    from emulator.daraja.qr.models import TRX_CODES
    from emulator.daraja.qr.payload import PayloadError, decode

    try:
        asked = decode(text)
    except PayloadError as exc:
        raise AdminError(422, f"not a Dynamic QR this emulator made: {exc}") from None
    command = C2B_COMMANDS.get(asked.trx_code)
    if command is None:
        what = TRX_CODES.get(asked.trx_code, asked.trx_code)
        raise AdminError(422, f"a {what} code ({asked.trx_code}) pays a person or an agent, "
                         "which the emulator's ledger does not keep; only BG, PB and SB pay")
    p = start_payment(emu, asked.cpi, data.get("phone"), asked.amount, asked.ref_no,
                      origin="qr", command=command)
    return JSONResponse(payment_view(p), status_code=201)
