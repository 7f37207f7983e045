"""POST /mpesa/qrcode/v1/generate: the gateway's faults, the token, the body, one backend call,
the answer. Synchronous: no callback follows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response

from emulator.daraja.qr import PATH, wire
from emulator.daraja.qr.models import TRX_CODES
from emulator.daraja.qr.rules import QrBackend
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint
from emulator.kernel.events import EventBus
from emulator.kernel.routing import Route
from emulator.kernel.web import DarajaJSON, Plumbing, daraja_headers, read_json


class BearerCheck(Protocol):
    """What Dynamic QR needs of OAuth: raise InvalidAccessToken unless the token is valid."""

    def check(self, authorization: str | None, now: datetime) -> object: ...


def routes(
    qr: QrBackend, tokens: BearerCheck, web: Plumbing, gate: FaultGate, events: EventBus,
    *, wording: str,
) -> list[Route]:
    async def generate(request: Request) -> Response:
        await gate.on_arrival(request, Endpoint.QR)
        authorization, length, content_type = daraja_headers(request)
        tokens.check(authorization, web.clock.now())
        body = await read_json(request, web.max_body_bytes, length, content_type,
                               web.body_timeout)
        await gate.on_subject(Endpoint.QR, *wire.subject(body))
        req = wire.parse_generate(body)
        code = qr.generate(req, web.clock.now())
        answer = wire.answer(qr.image(code), wording)
        web.log(request, 200, f"QR {code.id}: {TRX_CODES[req.trx_code]} KES {req.amount} to "
                f"{req.cpi} ({req.merchant_name!r}, RefNo {req.ref_no!r}), {req.size} px")
        events.publish("qr", code.id)
        return DarajaJSON(answer)

    return [Route(PATH, generate, methods=["POST"])]
