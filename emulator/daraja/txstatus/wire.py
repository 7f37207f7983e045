"""Transaction Status request validation: TransactionID or OriginalConversationID, either
alone or both (ledger reference 6)."""

from __future__ import annotations

import re
from typing import Any

from emulator.daraja.initiator import wire as w
from emulator.kernel.errors import BadRequest

_RECEIPT = re.compile(r"[A-Za-z0-9]{1,20}")
_PARTY = re.compile(r"[0-9]{5,12}")  # a shortcode, a till or an MSISDN (IdentifierType 1)


def parse(body: Any) -> dict[str, str]:
    fields = w.initiator(body)
    fields["CommandID"] = w.required(body, "CommandID", w.one_of("TransactionStatusQuery"))
    fields["TransactionID"] = w.optional(body, "TransactionID", _RECEIPT.fullmatch)
    fields["OriginalConversationID"] = w.optional(body, "OriginalConversationID", w.words(100))
    if not fields["TransactionID"] and not fields["OriginalConversationID"]:
        raise BadRequest("TransactionID")
    fields["PartyA"] = w.required(body, "PartyA", _PARTY.fullmatch)
    fields["IdentifierType"] = w.required(body, "IdentifierType", w.one_of("1", "2", "4"))
    fields.update(w.urls(body))
    fields["Remarks"] = w.optional(body, "Remarks", w.words(100))
    fields["Occasion"] = w.first(body, "Occasion", "Occassion")
    return fields
