"""JSON <-> domain for C2B: request validation with Daraja's messages, the acks, and the
validation and confirmation bodies (ledger reference 2-4).

As on the rest of Daraja, numbers may come as JSON numbers or strings, `null` is an empty
optional field and unknown fields are ignored. The bodies Daraja sends to the merchant carry
every value as a JSON string.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from emulator.daraja.c2b.models import (
    Payment,
    RegisterRequest,
    SimulateRequest,
    Version,
)
from emulator.kernel.clock import eat
from emulator.kernel.errors import BadRequest, InvalidUrl
from emulator.kernel.fields import amount as _amount
from emulator.kernel.fields import text as _text
from emulator.kernel.fields import url as _url
from emulator.kernel.texts import (
    C2B_ORIGINATOR_KEY,
    C2B_REGISTER_CODE,
    C2B_REGISTER_DESC,
    C2B_REJECT_CODES,
    C2B_SIMULATE_ACCEPTED,
    C2B_TRANSACTION_TYPES,
    C2B_URL_WORD_ERROR,
    C2B_URL_WORDS,
)
from emulator.ledger.money import shillings

COMMANDS = frozenset({"CustomerPayBillOnline", "CustomerBuyGoodsOnline"})
RESPONSE_TYPES = frozenset({"Completed", "Cancelled"})
_SHORTCODE = re.compile(r"[0-9]{5,8}")
_MSISDN = re.compile(r"254[71][0-9]{8}")


def _required(body: dict[str, Any], name: str, check: Callable[[str], object]) -> str:
    value = _text(body.get(name))
    if value is None or not check(value):
        raise BadRequest(name)
    return value


def _optional(body: dict[str, Any], name: str, check: Callable[[str], object]) -> str:
    """An optional field: missing, null or "" is empty; anything else must pass the check."""
    raw = body.get(name)
    if raw is None or raw == "":
        return ""
    return _required(body, name, check)


def _word(url: str) -> str | None:
    lowered = url.lower()
    return next((w for w in C2B_URL_WORDS if w in lowered), None)


def parse_register(body: Any) -> RegisterRequest:
    """Validate a registerurl body: ShortCode, ResponseType, ConfirmationURL, ValidationURL,
    then the word filter (ValidationURL first, as the one capture names it)."""
    if not isinstance(body, dict):
        raise BadRequest("ShortCode")
    shortcode = _required(body, "ShortCode", _SHORTCODE.fullmatch)
    response_type = _required(body, "ResponseType", RESPONSE_TYPES.__contains__)
    confirmation = _required(body, "ConfirmationURL", _url)
    validation = _optional(body, "ValidationURL", _url)
    for name, url in (("ValidationURL", validation), ("ConfirmationURL", confirmation)):
        word = _word(url)
        if word is not None:
            raise InvalidUrl(C2B_URL_WORD_ERROR.format(field=name, word=word.upper()))
    return RegisterRequest(shortcode, response_type, confirmation, validation)


def parse_simulate(body: Any) -> SimulateRequest:
    """Validate a simulate body in its field order; BillRefNumber is optional (Buy Goods)."""
    if not isinstance(body, dict):
        raise BadRequest("ShortCode")
    shortcode = _required(body, "ShortCode", _SHORTCODE.fullmatch)
    command = _required(body, "CommandID", COMMANDS.__contains__)
    amount = _required(body, "Amount", _amount)
    msisdn = _required(body, "Msisdn", _MSISDN.fullmatch)
    bill_ref = _optional(body, "BillRefNumber", lambda text: len(text) <= 100)
    return SimulateRequest(shortcode, command, int(amount.split(".")[0]), msisdn, bill_ref)


def subject(body: Any) -> tuple[str | None, int | None, str]:
    """(phone, amount, BillRefNumber) read leniently from a simulate body, for fault scenarios
    matched by the payer's phone; a body too broken to read matches none."""
    if not isinstance(body, dict):
        return None, None, ""
    phone = _text(body.get("Msisdn"))
    amount = _text(body.get("Amount"))
    whole = int(amount) if amount is not None and amount.isascii() and amount.isdigit() \
        and len(amount) < 10 else None
    return (phone if phone and _MSISDN.fullmatch(phone) else None), whole, \
        _text(body.get("BillRefNumber")) or ""


def register_ack(version: Version, originator_id: str) -> dict[str, str]:
    return {C2B_ORIGINATOR_KEY: originator_id, "ResponseCode": C2B_REGISTER_CODE[version],
            "ResponseDescription": C2B_REGISTER_DESC[version]}


def simulate_ack(originator_id: str) -> dict[str, str]:
    return {C2B_ORIGINATOR_KEY: originator_id, "ResponseCode": "0",
            "ResponseDescription": C2B_SIMULATE_ACCEPTED}


def msisdn(phone: str, version: Version) -> str:
    """v1: lower-case hex SHA-256 of the 12 digits; v2: masked `2547 ***** 126` (ref. 4.2)."""
    if version == "v1":
        return hashlib.sha256(phone.encode()).hexdigest()
    return f"{phone[:4]} ***** {phone[-3:]}"


def notification(
    p: Payment, names: tuple[str, str, str], *, confirmation: bool, name_fields: str = "auto"
) -> dict[str, str]:
    """The validation or confirmation body: every value a string, in the captured key order.
    `name_fields`: all (First/Middle/Last), first (FirstName only), auto (v1 all, v2 first)."""
    version = p.registration.version if p.registration else "v2"
    balance = "" if not confirmation or p.org_balance is None else shillings(p.org_balance)
    body = {
        "TransactionType": C2B_TRANSACTION_TYPES["till" if p.till else "paybill"],
        "TransID": p.trans_id,
        "TransTime": f"{eat(p.created_at):%Y%m%d%H%M%S}",
        "TransAmount": f"{p.amount}.00",
        "BusinessShortCode": p.shortcode,
        "BillRefNumber": p.bill_ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": p.third_party_trans_id if confirmation else "",
        "MSISDN": msisdn(p.phone, version) if p.phone else "",
        "FirstName": names[0],
    }
    if name_fields == "all" or (name_fields == "auto" and version == "v1"):
        body["MiddleName"], body["LastName"] = names[1], names[2]
    return body


def read_answer(status: int | None, text: str) -> tuple[bool | None, str, str]:
    """A validation answer as (accepted, ThirdPartyTransID, why). accepted is None when no
    usable answer came (error, timeout, not JSON, unknown code): ResponseType decides."""
    if status is None:
        return None, "", "no answer"
    if not 200 <= status < 300:
        return None, "", f"HTTP {status}"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return None, "", "the answer is not a JSON object"
    code = data.get("ResultCode")
    third = _text(data.get("ThirdPartyTransID")) or ""
    if code == "0" or (type(code) is int and code == 0):  # many clients send the number
        return True, third, "accepted (ResultCode 0)"
    if isinstance(code, str) and code in C2B_REJECT_CODES:
        return False, "", f"rejected: {code} {C2B_REJECT_CODES[code]}"
    return None, "", f"unreadable ResultCode {code!r}"
