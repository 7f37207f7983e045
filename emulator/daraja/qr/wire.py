"""JSON <-> domain for Dynamic QR (ledger reference 10): the request in the docs' field order
with Daraja's `400.002.02 Bad Request - Invalid <Field>`, and the synchronous answer as the 2025
and 2026 sandbox captures have it: ResponseCode "00", no RequestID (reference 14).

As elsewhere on Daraja, numbers may come as JSON numbers or strings, unknown fields are ignored.
No capture shows a QR error, so each field's rule is the emulator's (README, "Decisions").
"""

from __future__ import annotations

import re
from typing import Any

from emulator.daraja.qr.models import DEFAULT_SIZE, TRX_CODES, QrRequest
from emulator.daraja.qr.payload import MAX_VALUE
from emulator.kernel import fields
from emulator.kernel.errors import BadRequest
from emulator.kernel.fields import text as _text
from emulator.kernel.formats import MSISDN
from emulator.kernel.texts import QR_DESCRIPTIONS, QR_RESPONSE_CODE

MIN_SIZE, MAX_SIZE = 100, 1000  # pixels: room for any code's modules; no 16 MB canvases
_NUMBER = re.compile(r"[0-9]{5,8}")  # till, paybill, agent or business number
_SIZE = re.compile(r"[0-9]{1,5}")


def _name(value: str | None) -> bool:
    """Printable text of 1 to MAX_VALUE characters (a TLV value of the payload)."""
    return value is not None and 0 < len(value.strip()) and len(value) <= MAX_VALUE \
        and value.isprintable()


def parse_generate(body: Any) -> QrRequest:
    """MerchantName, RefNo, Amount, TrxCode, CPI, then Size (optional, 300 by default)."""
    if not isinstance(body, dict):
        raise BadRequest("MerchantName")
    name = _text(body.get("MerchantName"))
    if not _name(name):
        raise BadRequest("MerchantName")
    ref = _text(body.get("RefNo"))
    if not _name(ref):
        raise BadRequest("RefNo")
    amount = _text(body.get("Amount"))
    if amount is None or not fields.amount(amount):
        raise BadRequest("Amount")
    trx = _text(body.get("TrxCode"))
    if trx not in TRX_CODES:
        raise BadRequest("TrxCode")
    cpi = _text(body.get("CPI"))
    if cpi is None or not (MSISDN if trx == "SM" else _NUMBER).fullmatch(cpi):
        raise BadRequest("CPI")
    size = DEFAULT_SIZE
    if body.get("Size") not in (None, ""):
        raw = _text(body.get("Size"))
        if raw is None or not _SIZE.fullmatch(raw) or not MIN_SIZE <= int(raw) <= MAX_SIZE:
            raise BadRequest("Size")
        size = int(raw)
    assert name is not None and ref is not None
    return QrRequest(name, ref, int(amount.split(".")[0]), trx, cpi, size)


def answer(image_base64: str, wording: str) -> dict[str, str]:
    """The synchronous answer, keys in the captured order."""
    return {"ResponseCode": QR_RESPONSE_CODE, "ResponseDescription": QR_DESCRIPTIONS[wording],
            "QRCode": image_base64}


def subject(body: Any) -> tuple[str | None, int | None, str]:
    """(phone, amount, reference) read leniently for fault scenarios: a Send Money code's CPI
    is a phone; others carry none."""
    if not isinstance(body, dict):
        return None, None, ""
    cpi = _text(body.get("CPI"))
    phone = cpi if cpi is not None and MSISDN.fullmatch(cpi) else None
    amount = _text(body.get("Amount"))
    whole = int(amount) if amount is not None and amount.isascii() and amount.isdigit() \
        and len(amount) < 10 else None
    return phone, whole, _text(body.get("RefNo")) or ""
