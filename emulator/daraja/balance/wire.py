"""Account Balance request validation (ledger reference 7)."""

from __future__ import annotations

from typing import Any

from emulator.daraja.initiator import wire as w


def parse(body: Any) -> dict[str, str]:
    fields = w.initiator(body)
    fields["CommandID"] = w.required(body, "CommandID", w.one_of("AccountBalance"))
    fields["PartyA"] = w.required(body, "PartyA", w.SHORTCODE.fullmatch)
    fields["IdentifierType"] = w.required(body, "IdentifierType", w.one_of("1", "2", "4"))
    fields["Remarks"] = w.optional(body, "Remarks", w.words(100))
    fields.update(w.urls(body))
    return fields
