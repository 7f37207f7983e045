"""Dynamic QR records: the request as read and each code generated (plain data, no I/O)."""

from __future__ import annotations

from datetime import datetime

import msgspec

# maps TrxCode -> what the customer's phone does on scanning it (ledger reference 10)
TRX_CODES: dict[str, str] = {
    "BG": "Buy Goods",
    "WA": "Withdraw cash at agent till",
    "PB": "Paybill",
    "SM": "Send Money",
    "SB": "Send to Business",
}
DEFAULT_SIZE = 300  # pixels a side: both captured images were 300x300


class QrRequest(msgspec.Struct, frozen=True):
    merchant_name: str
    ref_no: str
    amount: int  # whole shillings
    trx_code: str  # one of TRX_CODES
    cpi: str  # the credit party: till, paybill, agent or business number, or the MSISDN for SM
    size: int  # the image's width and height in pixels


class QrCode(msgspec.Struct):
    """A code Daraja generated: the request and the text the image encodes. The PNG is made
    again from the text when asked (segno is deterministic), so the journal keeps no images."""

    id: str
    request: QrRequest
    payload: str  # the text inside the QR (see payload.py)
    created_at: datetime
