"""B2C request validation, in Daraja's field order (ledger reference 5.1)."""

from __future__ import annotations

from typing import Any

from emulator.daraja.initiator import wire as w
from emulator.kernel.errors import BadRequest

COMMANDS = ("BusinessPayment", "SalaryPayment", "PromotionPayment")


def parse(body: Any, version: str) -> dict[str, str]:
    """v3 requires the client's OriginatorConversationID (echoed); v1 ignores it. Both
    spellings of the occasion are accepted: `Occassion` (documented) and `Occasion`."""
    fields = w.initiator(body, "InitiatorName")
    fields["Version"] = version
    if version == "v3":
        originator = w.text(body.get("OriginatorConversationID"))
        if not originator or not originator.strip() or len(originator) > 100:
            raise BadRequest("OriginatorConversationID")
        fields["OriginatorConversationID"] = originator
    fields["CommandID"] = w.required(body, "CommandID", w.one_of(*COMMANDS))
    fields["Amount"] = w.required(body, "Amount", w.amount)
    fields["PartyA"] = w.required(body, "PartyA", w.SHORTCODE.fullmatch)
    fields["PartyB"] = w.required(body, "PartyB", w.MSISDN.fullmatch)
    fields["Remarks"] = w.required(body, "Remarks", w.words(100))
    fields.update(w.urls(body))
    fields["Occassion"] = w.first(body, "Occassion", "Occasion")
    return fields
