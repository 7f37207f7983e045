"""STK endpoints: parse, one backend call, serialise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.daraja.stk import wire
from emulator.faults import gate as faults
from emulator.faults.model import Endpoint
from emulator.kernel.web import DarajaJSON, daraja_headers, log_request, read_json


async def _authorised_body(
    request: Request, endpoint: Endpoint
) -> tuple[Any, Any, datetime]:
    """What both STK endpoints do first, in Daraja's order: the gateway's faults, the token,
    the body, then faults matched on the body. Returns (emulator, body, the request's time)."""
    emu = request.app.state.emulator
    await faults.on_arrival(request, endpoint)
    authorization, length, content_type = daraja_headers(request)
    emu.oauth.check(authorization, emu.clock.now())
    body = await read_json(request, emu.settings.max_body_bytes, length, content_type)
    await faults.on_body(request, endpoint, body)  # may sleep (a slow fault): read time after
    return emu, body, emu.clock.now()


async def process_request(request: Request) -> Response:
    emu, body, now = await _authorised_body(request, Endpoint.PUSH)
    push = wire.parse_push(body, require_https=emu.settings.require_https)
    txn = emu.stk.push(push, now)
    emu.runtime.accepted(txn)
    log_request(
        request,
        200,
        f"accepted {txn.checkout_request_id} phone {push.phone} KES {push.amount}: {txn.reason}",
    )
    return DarajaJSON(wire.push_response(txn))


async def query(request: Request) -> Response:
    emu, body, now = await _authorised_body(request, Endpoint.QUERY)
    txn = emu.stk.query(wire.parse_query(body), now)
    answer = wire.query_response(txn, emu.settings.query_wording)
    log_request(request, 200, f"{txn.checkout_request_id} ResultCode {answer['ResultCode']}")
    return DarajaJSON(answer)


routes = [
    Route("/mpesa/stkpush/v1/processrequest", process_request, methods=["POST"]),
    Route("/mpesa/stkpushquery/v1/query", query, methods=["POST"]),
]
