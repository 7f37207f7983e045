"""B2B request validation (ledger reference 9)."""

from __future__ import annotations

from typing import Any

from emulator.daraja.initiator import wire as w
from emulator.kernel.errors import BadRequest

COMMANDS = ("BusinessPayBill", "BusinessBuyGoods")


def parse(body: Any) -> dict[str, str]:
    """AccountReference is required for BusinessPayBill (up to 13 characters)."""
    fields = w.initiator(body)
    fields["CommandID"] = w.required(body, "CommandID", w.one_of(*COMMANDS))
    fields["SenderIdentifierType"] = w.optional(body, "SenderIdentifierType")
    fields["RecieverIdentifierType"] = w.optional(body, "RecieverIdentifierType")
    fields["Amount"] = w.required(body, "Amount", w.amount)
    fields["PartyA"] = w.required(body, "PartyA", w.SHORTCODE.fullmatch)
    fields["PartyB"] = w.required(body, "PartyB", w.SHORTCODE.fullmatch)
    fields["AccountReference"] = w.optional(body, "AccountReference", w.words(13))
    if fields["CommandID"] == "BusinessPayBill" and not fields["AccountReference"]:
        raise BadRequest("AccountReference")
    fields["Requester"] = w.optional(body, "Requester", w.MSISDN.fullmatch)
    fields["Remarks"] = w.optional(body, "Remarks", w.words(100))
    fields.update(w.urls(body))
    fields["Occassion"] = w.first(body, "Occassion", "Occasion")
    return fields
