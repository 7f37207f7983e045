"""Access tokens, and their JSON rows for the --state file."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class Token(NamedTuple):
    """An issued access token; a tuple of plain values, so the cyclic GC never tracks it (an
    hour of tokens under load is a hundred thousand of them)."""

    value: str
    consumer_key: str
    expires_at: datetime


class TokenCodec:
    kind = "token"

    def key(self, token: Token) -> str:
        return token.value

    def to_row(self, token: Token) -> dict[str, Any]:
        return {"value": token.value, "consumer_key": token.consumer_key,
                "expires_at": token.expires_at.isoformat()}

    def from_row(self, row: dict[str, Any]) -> Token:
        return Token(row["value"], row["consumer_key"], datetime.fromisoformat(row["expires_at"]))
