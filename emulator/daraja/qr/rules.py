"""What Dynamic QR decides: a code for each valid request, kept for the admin API and the
dashboard (which lists them and lets a phone "scan" one). Pure: `now` is passed in."""

from __future__ import annotations

import base64
from datetime import datetime

from emulator.daraja.qr import image, payload
from emulator.daraja.qr.models import QrCode, QrRequest
from emulator.kernel.errors import BadRequest
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records


class QrBackend:
    def __init__(self, codes: Records[QrCode], ids: IdSource) -> None:
        self.codes = codes  # maps id -> code, the newest `keep` of them
        self.ids = ids
        self._images: dict[str, str] = {}  # maps id -> base64 PNG, made on first use

    def generate(self, req: QrRequest, now: datetime) -> QrCode:
        text = payload.encode(req.merchant_name, req.ref_no, req.amount, req.trx_code, req.cpi)
        if not image.fits(text, req.size):  # a long name in a small square
            raise BadRequest("Size", why=f"{req.size} px is too small for this code's modules")
        code = QrCode(self.ids.request_id(), req, text, now)
        self.codes.add(code)
        self.codes.finish(code)  # a code is final at once: it joins the bounded history
        return code

    def image(self, code: QrCode) -> str:
        """The code's PNG as base64, made once per code and kept while the code is."""
        found = self._images.get(code.id)
        if found is None:
            found = base64.b64encode(image.png(code.payload, code.request.size)).decode()
            if len(self._images) >= max(self.codes.keep, 1):
                self._images.clear()  # cheap bound: images are made again on demand
            self._images[code.id] = found
        return found

    def reset(self) -> None:
        self.codes.reset()
        self._images.clear()
