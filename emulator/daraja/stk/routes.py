"""STK endpoints: parse, one backend call, serialise."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.daraja.stk import wire
from emulator.daraja.stk.lifecycle import StkLifecycle
from emulator.daraja.stk.rules import StkBackend
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint
from emulator.kernel.web import DarajaJSON, Plumbing, daraja_headers, read_json


class BearerCheck(Protocol):
    """What STK needs of OAuth: raise InvalidAccessToken unless the Bearer token is valid."""

    def check(self, authorization: str | None, now: datetime) -> object: ...


def routes(
    stk: StkBackend,
    lifecycle: StkLifecycle,
    tokens: BearerCheck,
    web: Plumbing,
    gate: FaultGate,
    *,
    require_https: bool,
    query_wording: str,
) -> list[Route]:
    async def authorised_body(request: Request, endpoint: Endpoint) -> tuple[Any, datetime]:
        """What both endpoints do first, in Daraja's order: the gateway's faults, the token,
        the body, then faults matched on it. Returns the body and the request's time."""
        await gate.on_arrival(request, endpoint)
        authorization, length, content_type = daraja_headers(request)
        tokens.check(authorization, web.clock.now())
        body = await read_json(request, web.max_body_bytes, length, content_type,
                               web.body_timeout)
        await gate.on_subject(endpoint, *wire.subject(body, endpoint, stk.records.get))
        return body, web.clock.now()  # after the faults: a slow one may have slept

    async def process_request(request: Request) -> Response:
        body, now = await authorised_body(request, Endpoint.PUSH)
        push = wire.parse_push(body, require_https=require_https)
        txn = stk.push(push, now)
        try:  # all or nothing: whatever fails after the lock leaves neither lock nor record
            lifecycle.accepted(txn)
            web.log(
                request,
                200,
                f"accepted {txn.checkout_request_id} phone {push.phone} KES {push.amount}: "
                f"{txn.reason}",
            )
            answer = DarajaJSON(wire.push_response(txn))
        except BaseException:
            lifecycle.withdraw(txn)
            raise
        return answer

    async def query(request: Request) -> Response:
        body, now = await authorised_body(request, Endpoint.QUERY)
        txn = stk.query(wire.parse_query(body), now)
        answer = wire.query_response(txn, query_wording)
        web.log(request, 200, f"{txn.checkout_request_id} ResultCode {answer['ResultCode']}")
        return DarajaJSON(answer)

    return [
        Route("/mpesa/stkpush/v1/processrequest", process_request, methods=["POST"]),
        Route("/mpesa/stkpushquery/v1/query", query, methods=["POST"]),
    ]
