"""JSON <-> domain for STK: field validation with Daraja's exact messages, and wire bodies.

Validation follows live Daraja (reference 2.1, 2.3, 8): numbers may arrive as JSON numbers or
strings and are compared as text; unknown fields are ignored; checks run in Daraja's field order,
so a body that is not JSON at all fails on BusinessShortCode first.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from emulator.daraja.stk.models import PushRequest, QueryRequest, Transaction
from emulator.faults.model import Endpoint
from emulator.kernel.clock import eat
from emulator.kernel.errors import BadRequest
from emulator.kernel.formats import MSISDN, is_timestamp, msisdn_why
from emulator.kernel.texts import (
    ACCEPTED,
    PENDING_QUERY_CODE,
    PENDING_QUERY_DESC,
    QUERY_ACCEPTED,
)

TRANSACTION_TYPES = frozenset({"CustomerPayBillOnline", "CustomerBuyGoodsOnline"})
MAX_AMOUNT = 250_000  # KES per transaction today [DOCS FAQ]
_SHORTCODE = re.compile(r"[0-9]{5,8}")
_AMOUNT = re.compile(r"[0-9]+(\.0+)?")
_URL_FORBIDDEN = re.compile(r"[\s<>{}\"'`|\\^]")



def _text(value: Any) -> str | None:
    """A JSON string or whole number as text; anything else (bool, null, list, 4.5) is None."""
    kind = type(value)  # exact types: json.loads makes no subclasses, and bool is not int here
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else None
    return None


def _nonempty(text: str) -> bool:
    return bool(text.strip())


def _valid_amount(text: str) -> bool:
    if not _AMOUNT.fullmatch(text):
        return False
    whole = text.split(".", 1)[0].lstrip("0") or "0"
    # too many digits is too much money; int() of > 4300 digits would raise, not answer 400
    return len(whole) <= len(str(MAX_AMOUNT)) and 1 <= int(whole) <= MAX_AMOUNT


@functools.lru_cache(maxsize=256)  # a shop has one or a few callback URLs
def valid_callback_url(url: str, *, require_https: bool) -> bool:
    """Placeholders, stray spaces and non-URLs fail at request time, as on live Daraja; so do
    control characters (DEL and the other non-printables too), which no URL may hold."""
    if not url or len(url) > 2048 or not url.isprintable() or _URL_FORBIDDEN.search(url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    schemes = ("https",) if require_https else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        return False
    return port is None or 0 < port < 65536


def _valid_url(text: str) -> bool:
    return valid_callback_url(text, require_https=False)


def _valid_https_url(text: str) -> bool:
    return valid_callback_url(text, require_https=True)


def _shown(value: Any) -> str:
    """A value for a `why`: repr (which escapes control characters), cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _msisdn_why(field: str) -> Callable[[str], str]:
    return functools.partial(msisdn_why, field)


def _url_why(require_https: bool) -> Callable[[str], str]:
    def why(text: str) -> str:
        if not text:
            return "CallBackURL is empty"
        if len(text) > 2048:
            return f"CallBackURL is {len(text)} characters long (over 2048)"
        if not text.isprintable():
            return f"CallBackURL holds a control or other non-printable character: {_shown(text)}"
        if _URL_FORBIDDEN.search(text):
            return (f"CallBackURL holds a space or one of <>{{}}\"'`|\\^ (a placeholder left "
                    f"in?): {_shown(text)}")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            return f"CallBackURL has an invalid port: {_shown(text)}"
        if require_https and parts.scheme == "http":
            return f"CallBackURL must be https under --require-https, got {_shown(text)}"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"CallBackURL must be an http(s) URL with a host, got {_shown(text)}"
        return f"CallBackURL has an invalid port: {_shown(text)}"

    return why


def _is(field: str, wanted: str) -> Callable[[str], str]:
    return lambda text: f"{field} must be {wanted}, got {_shown(text)}"


def _blank(field: str, alias: str = "") -> Callable[[str], str]:
    return lambda text: f"{field} is empty{alias}"


# (JSON field, name in the error, check, why it failed: for the log and journal only)
Rule = tuple[str, str, Callable[[str], object], Callable[[str], str]]

# Daraja's order of checks, and the name each error gives (TransactionDesc fails as "Remarks")
_PUSH_RULES: tuple[Rule, ...] = (
    ("BusinessShortCode", "BusinessShortCode", _SHORTCODE.fullmatch,
     _is("BusinessShortCode", "a shortcode of 5 to 8 digits")),
    ("Password", "Password", _nonempty, _blank("Password")),  # never shown: it is a secret
    ("Timestamp", "Timestamp", is_timestamp,
     _is("Timestamp", "YYYYMMDDHHmmss (14 digits, a real date and time)")),
    ("TransactionType", "TransactionType", TRANSACTION_TYPES.__contains__,
     _is("TransactionType", "CustomerPayBillOnline or CustomerBuyGoodsOnline")),
    ("Amount", "Amount", _valid_amount,
     _is("Amount", f"a whole number of shillings from 1 to {MAX_AMOUNT}")),
    ("PartyA", "PartyA", MSISDN.fullmatch, _msisdn_why("PartyA")),
    ("PartyB", "PartyB", _SHORTCODE.fullmatch, _is("PartyB", "a shortcode of 5 to 8 digits")),
    ("PhoneNumber", "PhoneNumber", MSISDN.fullmatch, _msisdn_why("PhoneNumber")),
    ("CallBackURL", "CallBackURL", _valid_url, _url_why(False)),
    ("AccountReference", "AccountReference", _nonempty, _blank("AccountReference")),
    ("TransactionDesc", "Remarks", _nonempty,
     _blank("TransactionDesc", " (Daraja names it Remarks in the error)")),
)
_PUSH_RULES_HTTPS = tuple(
    (name, label, _valid_https_url, _url_why(True)) if check is _valid_url
    else (name, label, check, why)
    for name, label, check, why in _PUSH_RULES
)
_QUERY_RULES: tuple[Rule, ...] = (
    *_PUSH_RULES[:3],
    ("CheckoutRequestID", "CheckoutRequestID", _nonempty, _blank("CheckoutRequestID")),
)


def _not_text(name: str, value: Any) -> str:
    if value is None:
        return f"{name} is missing (or null)"
    kind = {bool: "true/false", dict: "an object", list: "a list", float: "a fraction"}
    shown = "" if isinstance(value, (dict, list)) else f" {_shown(value)}"
    return (f"{name} must be a string or a whole number, got "
            f"{kind.get(type(value), type(value).__name__)}{shown}")


def _fields(body: Any, rules: tuple[Rule, ...]) -> list[str]:
    """Each rule's field as text, in order; the first that fails raises BadRequest naming it
    (and, for the log, why: the wire says only "Invalid <Field>")."""
    if not isinstance(body, dict):  # not JSON, or not an object: the first field is blamed
        what = "not JSON" if body is None else f"JSON but not an object ({type(body).__name__})"
        raise BadRequest(rules[0][1], why=f"the body is {what}, so Daraja blames the first "
                         f"field, {rules[0][0]}")
    values = []
    get = body.get
    for name, label, check, explain in rules:
        raw = get(name)
        value = raw if type(raw) is str else _text(raw)  # most fields are strings already
        if value is None:
            raise BadRequest(label, why=_not_text(name, raw))
        if not check(value):
            raise BadRequest(label, why=explain(value))
        values.append(value)
    return values


def parse_push(body: Any, *, require_https: bool = False) -> PushRequest:
    """Validate a processrequest body in Daraja's order; raises BadRequest naming the field.

    What a shop repeats in every push (shortcode, Password, Timestamp, callback URL, account
    reference...) is interned: a pending push holds one copy of each, shared, and its phone."""
    push = _parse_usual_push(body, require_https)
    if push is not None:
        return push
    return _parse_push_by_rules(body, require_https)


def _parse_push_by_rules(body: Any, require_https: bool) -> PushRequest:
    """parse_push by the rule table: the first failing field in Daraja's order raises."""
    (shortcode, password, timestamp, kind, amount, party_a, party_b, phone, url, reference,
     remarks) = _fields(body, _PUSH_RULES_HTTPS if require_https else _PUSH_RULES)
    return PushRequest(
        _intern(shortcode),
        _intern(password),
        _intern(timestamp),
        _intern(kind),
        int(amount.split(".", 1)[0].lstrip("0")),  # valid, so 1..250000 once zeros go
        phone if party_a == phone else party_a,
        _intern(party_b),
        phone,
        _intern(url),
        _intern(reference),
        _intern(remarks),
    )


def _is_shortcode(text: str) -> bool:
    """_SHORTCODE.fullmatch(text), at half its cost: 5 to 8 ASCII digits."""
    return 5 <= len(text) <= 8 and text.isascii() and text.isdigit()


def _is_msisdn(text: str) -> bool:
    """MSISDN.fullmatch(text), at half its cost: 2547 or 2541 and 8 more ASCII digits."""
    return len(text) == 12 and text.isascii() and text.isdigit() and text[:4] in _MSISDN_HEADS


_MSISDN_HEADS = frozenset({"2547", "2541"})


def _parse_usual_push(body: Any, require_https: bool) -> PushRequest | None:
    """The push almost every shop sends (every field a string, Amount a JSON number, all valid)
    checked in one pass without the rule table's per-field calls: half its time. Anything else,
    a failure included, gives None and goes through the rules, which name the failing field;
    the two agree on every body (tests/test_request_path.py checks it under hypothesis)."""
    if type(body) is not dict:
        return None
    get = body.get
    shortcode, password, timestamp = get("BusinessShortCode"), get("Password"), get("Timestamp")
    kind, amount, party_a = get("TransactionType"), get("Amount"), get("PartyA")
    party_b, phone, url = get("PartyB"), get("PhoneNumber"), get("CallBackURL")
    reference, remarks = get("AccountReference"), get("TransactionDesc")
    if not (
        type(shortcode) is str and type(password) is str and type(timestamp) is str
        and type(kind) is str and type(amount) is int and type(party_a) is str
        and type(party_b) is str and type(phone) is str and type(url) is str
        and type(reference) is str and type(remarks) is str
        and 1 <= amount <= MAX_AMOUNT and kind in TRANSACTION_TYPES
        and _is_shortcode(shortcode) and _is_shortcode(party_b)
        and _is_msisdn(party_a) and _is_msisdn(phone) and is_timestamp(timestamp)
        and password.strip() and reference.strip() and remarks.strip()
        and valid_callback_url(url, require_https=require_https)
    ):
        return None
    return PushRequest(
        _intern(shortcode), _intern(password), _intern(timestamp), _intern(kind), amount,
        phone if party_a == phone else party_a, _intern(party_b), phone, _intern(url),
        _intern(reference), _intern(remarks),
    )


_intern = sys.intern  # CPython drops an interned string once nothing else holds it


def parse_query(body: Any) -> QueryRequest:
    return QueryRequest(*_fields(body, _QUERY_RULES))


def push_response(txn: Transaction) -> dict[str, str]:
    return {
        "MerchantRequestID": txn.merchant_request_id,
        "CheckoutRequestID": txn.checkout_request_id,
        "ResponseCode": "0",
        "ResponseDescription": ACCEPTED,
        "CustomerMessage": ACCEPTED,
    }


def query_response(txn: Transaction, wording: str = "typo") -> dict[str, str]:
    """The six-field query body; a pending transaction reports ResultCode "4999"."""
    if txn.is_final:
        code, desc = str(txn.result_code), str(txn.result_desc)
    else:
        code, desc = PENDING_QUERY_CODE, PENDING_QUERY_DESC
    return {
        "ResponseCode": "0",
        "ResponseDescription": QUERY_ACCEPTED[wording],
        "MerchantRequestID": txn.merchant_request_id,
        "CheckoutRequestID": txn.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": desc,
    }


class _Amount(float):
    """A float that `encode_callback` renders with two decimals, as Daraja's bytes show (`1.00`)."""


def callback_payload(txn: Transaction) -> dict[str, Any]:
    """The stkCallback body: CallbackMetadata on success only; ResultCode a number when numeric."""
    callback: dict[str, Any] = {
        "MerchantRequestID": txn.merchant_request_id,
        "CheckoutRequestID": txn.checkout_request_id,
        "ResultCode": txn.result_code,
        "ResultDesc": txn.result_desc,
    }
    if txn.result_code == 0 and txn.completed_at is not None:
        callback["CallbackMetadata"] = {"Item": _success_items(txn, txn.completed_at)}
    return {"Body": {"stkCallback": callback}}


def _success_items(txn: Transaction, at: datetime) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"Name": "Amount", "Value": _Amount(txn.request.amount)},
        {"Name": "MpesaReceiptNumber", "Value": txn.receipt},
    ]
    if txn.scenario.balance.value == "empty":
        items.append({"Name": "Balance"})
    items.append({"Name": "TransactionDate", "Value": int(f"{eat(at):%Y%m%d%H%M%S}")})
    items.append({"Name": "PhoneNumber", "Value": int(txn.request.phone)})
    return items


def encode_callback(payload: dict[str, Any]) -> bytes:
    """Compact JSON in which the success Amount keeps its two decimals (`"Value":1.00`).

    orjson with the Amount as a ready-made fragment: a twentieth of the stdlib's time per
    callback. Its bytes are the stdlib's (`separators=(",", ":")`) for ASCII text; a payload
    with other text (a scenario's own ResultDesc, say) keeps the stdlib's \\u escapes."""
    try:
        body = orjson.dumps(payload, default=_amount_fragment)
    except TypeError:  # orjson refuses what the stdlib writes: ints past 64 bits, surrogates
        return _encode_callback_stdlib(payload)
    if body.isascii() and b"\x7f" not in body:  # DEL is ASCII; the stdlib escapes it
        return body
    return _encode_callback_stdlib(payload)


def _amount_fragment(value: Any) -> Any:
    if type(value) is _Amount:
        return orjson.Fragment(b"%.2f" % value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _encode_callback_stdlib(payload: dict[str, Any]) -> bytes:
    amounts: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, _Amount):
            amounts.append(f"{value:.2f}")
            return _AMOUNT_MARK
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(payload), separators=(",", ":"))
    for amount in amounts:
        text = text.replace(_AMOUNT_JSON, amount, 1)
    return text.encode()


_AMOUNT_MARK = "\u0001amount\u0001"  # a control character json escapes: no plain text collides
_AMOUNT_JSON = json.dumps(_AMOUNT_MARK)


def subject(
    body: Any, endpoint: Endpoint, lookup: Callable[[str], Transaction | None]
) -> tuple[str | None, int | None, str]:
    """Phone, amount and account reference a fault scenario may match on, read leniently (the
    body is not validated yet); a query's are its transaction's."""
    if not isinstance(body, dict):
        return None, None, ""
    if endpoint is Endpoint.QUERY:
        txn = lookup(str(body.get("CheckoutRequestID")))
        if txn is None:
            return None, None, ""
        return txn.phone, txn.request.amount, txn.request.account_reference
    return (str(body.get("PhoneNumber")), _lenient_amount(body.get("Amount")),
            str(body.get("AccountReference", "")))


def _lenient_amount(value: Any) -> int | None:
    """A plausible whole amount, or None (never an exception)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None
