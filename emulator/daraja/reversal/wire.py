"""Reversal request validation. The identifier type's key must be spelt `RecieverIdentifierType`
(the correct spelling is refused); `11` is documented, `4` is what popular client libraries
hard-code, both are accepted (ledger reference 8)."""

from __future__ import annotations

import re
from typing import Any

from emulator.daraja.initiator import wire as w

_RECEIPT = re.compile(r"[A-Za-z0-9]{1,20}")


def parse(body: Any) -> dict[str, str]:
    fields = w.initiator(body)
    fields["CommandID"] = w.required(body, "CommandID", w.one_of("TransactionReversal"))
    fields["TransactionID"] = w.required(body, "TransactionID", _RECEIPT.fullmatch).upper()
    fields["Amount"] = w.required(body, "Amount", w.amount)
    fields["ReceiverParty"] = w.required(body, "ReceiverParty", w.SHORTCODE.fullmatch)
    fields["RecieverIdentifierType"] = w.required(body, "RecieverIdentifierType",
                                                  w.one_of("11", "4"))
    fields.update(w.urls(body))
    fields["Remarks"] = w.optional(body, "Remarks", w.words(100))
    fields["Occasion"] = w.first(body, "Occasion", "Occassion")
    return fields
