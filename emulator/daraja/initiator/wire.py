"""JSON <-> domain pieces every initiator API uses: lenient field reading (numbers or strings,
`null` for an empty optional field, unknown fields ignored), the acknowledgement and the result
envelope with Daraja's XML-born shapes (ledger reference 0.1, 0.2)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson

from emulator.daraja.initiator.credential import well_formed
from emulator.kernel.clock import eat
from emulator.kernel.errors import BadRequest
from emulator.kernel.fields import MAX_AMOUNT as MAX_AMOUNT  # re-exported: the families read
from emulator.kernel.fields import amount as amount  # these as w.amount, w.text, w.url
from emulator.kernel.fields import text as text
from emulator.kernel.fields import url as url
from emulator.kernel.texts import INITIATOR_ACCEPTED
from emulator.ledger.money import Cents, shillings

SHORTCODE = re.compile(r"[0-9]{5,8}")
MSISDN = re.compile(r"254[71][0-9]{8}")
_NUMBER = re.compile(rb'"\\u0000n:(-?[0-9.]+)"')


class Num:
    """A value Daraja sends as a bare JSON number with its own digits (`5225.00`, `20240903093417`),
    which no float keeps; `encode` writes the text unquoted."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Num) and other.text == self.text

    def __repr__(self) -> str:
        return self.text


Item = tuple[str, Any]  # (Key, Value); Value None: the key alone, as XML's empty element


def money(amount: Cents) -> Num:
    """`1.00`, `-1980.00`: two decimals, as the funds and balances figures."""
    return Num(shillings(amount))


def whole_or_money(amount: Cents) -> Num:
    """`100` for whole shillings, else `100.50`: TransactionAmount and B2B's Amount."""
    return Num(str(amount // 100)) if amount % 100 == 0 else money(amount)


def stamp(at: datetime) -> Num:
    """`20240903093417` (EAT) as a number, as TransCompletedTime and BOCompletedTime come."""
    return Num(f"{eat(at):%Y%m%d%H%M%S}")


def numeric(text: str) -> Any:
    """Text that looks like a number becomes one on the wire (XML to JSON), else stays text."""
    return Num(text) if text.isdigit() and len(text) < 16 and not text.startswith("0") else text


def required(body: dict[str, Any], name: str, check: Callable[[str], object]) -> str:
    value = text(body.get(name))
    if value is None or not check(value):
        raise BadRequest(name)
    return value.strip() if check is not url else value


def optional(body: dict[str, Any], name: str, check: Callable[[str], object] = bool) -> str:
    """An optional field: missing, null or "" is empty; anything else must pass the check."""
    raw = body.get(name)
    if raw is None or raw == "":
        return ""
    return required(body, name, check)


def first(body: dict[str, Any], *names: str) -> str:
    """The first of several spellings given (`Occassion`, `Occasion`), as text or ""."""
    for name in names:
        value = text(body.get(name))
        if value:
            return value[:100]
    return ""


def words(limit: int) -> Callable[[str], bool]:
    return lambda value: 0 < len(value) <= limit


def one_of(*options: str) -> Callable[[str], bool]:
    return frozenset(options).__contains__


def ack(originator_id: str, conversation_id: str) -> dict[str, str]:
    """The synchronous answer of every initiator API: both ids and a string "0"."""
    return {"OriginatorConversationID": originator_id, "ConversationID": conversation_id,
            "ResponseCode": "0", "ResponseDescription": INITIATOR_ACCEPTED}


def items(pairs: Sequence[Item]) -> Any:
    """`[{"Key": k, "Value": v}, ...]`; an element occurring once is an object (XML to JSON)."""
    rows = [{"Key": k} if v is None else {"Key": k, "Value": v} for k, v in pairs]
    return rows[0] if len(rows) == 1 else rows


def result(
    *, code: int | str, desc: str, originator_id: str, conversation_id: str,
    transaction_id: str, parameters: Sequence[Item] | None, reference: Sequence[Item],
) -> dict[str, Any]:
    """The `{"Result": ...}` body posted to ResultURL (reference 0.2)."""
    body: dict[str, Any] = {
        "ResultType": 0, "ResultCode": code, "ResultDesc": desc,
        "OriginatorConversationID": originator_id, "ConversationID": conversation_id,
        "TransactionID": transaction_id,
    }
    if parameters:
        body["ResultParameters"] = {"ResultParameter": items(parameters)}
    body["ReferenceData"] = {"ReferenceItem": items(reference)}
    return {"Result": body}


def _default(value: Any) -> str:
    if isinstance(value, Num):
        return f"\u0000n:{value.text}"
    raise TypeError(f"not JSON: {type(value).__name__}")


def encode(body: Any) -> bytes:
    """Compact JSON with every Num written as a bare number."""
    return _NUMBER.sub(rb"\1", orjson.dumps(body, default=_default))


def plain(body: Any) -> Any:
    """The body as JSON values (Num as float or int), for the admin API and tests."""
    return orjson.loads(encode(body))


def initiator(body: Any, key: str = "Initiator") -> dict[str, str]:
    """The fields every initiator request opens with: the initiator (B2C calls it
    InitiatorName) and a well-formed SecurityCredential. A body that is no JSON object, or no
    initiator, is `Invalid InitiatorName`, the one captured text (ledger reference 1)."""
    if not isinstance(body, dict):
        raise BadRequest("InitiatorName")
    name = text(body.get(key))
    if not name or not name.strip() or len(name) > 100:
        raise BadRequest("InitiatorName")
    credential = text(body.get("SecurityCredential"))
    if credential is None or not well_formed(credential):
        raise BadRequest("SecurityCredential")
    return {"Initiator": name.strip(), "SecurityCredential": credential.strip()}


def urls(body: dict[str, Any]) -> dict[str, str]:
    """QueueTimeOutURL and ResultURL, both required, as Daraja checks them."""
    return {"QueueTimeOutURL": required(body, "QueueTimeOutURL", url),
            "ResultURL": required(body, "ResultURL", url)}
