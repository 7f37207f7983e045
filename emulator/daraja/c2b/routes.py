"""C2B endpoints: register URL and simulate, v1 and v2. Parse, one backend call, serialise."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.daraja.c2b import REGISTER_PATHS, SIMULATE_PATHS, wire
from emulator.daraja.c2b.lifecycle import C2BLifecycle
from emulator.daraja.c2b.models import Refused, Version
from emulator.daraja.c2b.rules import C2BBackend
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint
from emulator.kernel.routing import Route
from emulator.kernel.texts import C2B_URL_VAULT_FAULT
from emulator.kernel.web import DarajaJSON, Plumbing, daraja_headers, read_json

REFUSED_STATUS = 500  # the gateway's status for a failed ServiceCallout


class BearerCheck(Protocol):
    """What C2B needs of OAuth: raise InvalidAccessToken unless the Bearer token is valid."""

    def check(self, authorization: str | None, now: datetime) -> object: ...


def routes(
    c2b: C2BBackend, lifecycle: C2BLifecycle, tokens: BearerCheck, web: Plumbing,
    gate: FaultGate,
) -> list[Route]:
    async def authorised_body(request: Request, endpoint: Endpoint) -> tuple[Any, datetime]:
        """As STK does, in Daraja's order: the gateway's faults, the token, the body, then
        fault scenarios matched on the payer's phone (simulate only: register has none)."""
        await gate.on_arrival(request, endpoint)
        authorization, length, content_type = daraja_headers(request)
        tokens.check(authorization, web.clock.now())
        body = await read_json(request, web.max_body_bytes, length, content_type,
                               web.body_timeout)
        if endpoint is Endpoint.C2B_SIMULATE:
            await gate.on_subject(endpoint, *wire.subject(body))
        return body, web.clock.now()  # after the faults: a slow one may have slept

    def register(version: Version):  # noqa: ANN202
        async def handler(request: Request) -> Response:
            body, now = await authorised_body(request, Endpoint.C2B_REGISTER)
            req = wire.parse_register(body)
            try:
                reg = c2b.register(req, version, now)
            except Refused:
                web.log(request, REFUSED_STATUS, f"{req.shortcode} holds no C2B product "
                        "(SCO-AddURLVault 409); use a sandbox shortcode 600000-600999")
                return JSONResponse(C2B_URL_VAULT_FAULT, status_code=REFUSED_STATUS)
            validation = "on" if reg.external_validation else "off"
            web.log(request, 200, f"{reg.shortcode} registered ({version}, {reg.response_type}, "
                    f"validation {validation})")
            return DarajaJSON(wire.register_ack(version, web.ids.request_id()))

        return handler

    async def simulate(request: Request) -> Response:
        body, now = await authorised_body(request, Endpoint.C2B_SIMULATE)
        p = c2b.simulate(wire.parse_simulate(body), now)
        lifecycle.started(p)
        web.log(request, 200, f"{p.trans_id}: {p.phone} pays {p.shortcode} KES {p.amount}")
        return DarajaJSON(wire.simulate_ack(p.originator_id))

    return [
        *(Route(path, register(version), methods=["POST"])
          for version, path in REGISTER_PATHS.items()),
        *(Route(path, simulate, methods=["POST"]) for path in SIMULATE_PATHS),
    ]
