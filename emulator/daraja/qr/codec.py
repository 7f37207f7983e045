"""Dynamic QR codes as JSON rows for the --state file, and back (the image is made again)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec.structs import asdict

from emulator.daraja.qr.models import QrCode, QrRequest

Row = dict[str, Any]


class QrCodec:
    kind = "qr.code"

    def key(self, code: QrCode) -> str:
        return code.id

    def to_row(self, code: QrCode) -> Row:
        return {"id": code.id, "request": asdict(code.request), "payload": code.payload,
                "created_at": code.created_at.isoformat()}

    def from_row(self, row: Row) -> QrCode:
        return QrCode(row["id"], QrRequest(**row["request"]), row["payload"],
                      datetime.fromisoformat(row["created_at"]))
