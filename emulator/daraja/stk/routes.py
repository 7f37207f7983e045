"""STK endpoints: parse, one backend call, serialise."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from emulator.daraja.stk import wire
from emulator.daraja.stk.lifecycle import StkLifecycle
from emulator.daraja.stk.rules import StkBackend
from emulator.faults.gate import FaultGate
from emulator.faults.gate import apply as apply_fault
from emulator.faults.model import Endpoint
from emulator.kernel.routing import Route
from emulator.kernel.web import (
    AsgiEndpoint,
    Plumbing,
    Receive,
    Scope,
    Send,
    read_body_json,
    scope_headers,
    send_json,
)


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
    clock, journal = web.clock, web.log

    async def authorised_body(
        scope: Scope, receive: Receive, endpoint: Endpoint
    ) -> tuple[Any, datetime]:
        """What both endpoints do first, in Daraja's order: the gateway's faults, the token,
        the body, then faults matched on it. Returns the body and the request's time."""
        if not gate.quiet:
            await gate.on_arrival(scope, endpoint)
        authorization, length, content_type = scope_headers(scope)
        tokens.check(authorization, clock.now())
        body = await read_body_json(scope, receive, web.max_body_bytes, length, content_type,
                                    web.body_timeout)
        fault = gate.subject_fault(endpoint, *wire.subject(body, endpoint, stk.records.get))
        if fault is not None:
            await apply_fault(*fault)
        return body, clock.now()  # after the body and the faults: a slow one may have slept

    async def process_request(scope: Scope, receive: Receive, send: Send) -> None:
        body, now = await authorised_body(scope, receive, Endpoint.PUSH)
        push = wire.parse_push(body, require_https=require_https)
        txn = stk.push(push, now)
        try:  # all or nothing: whatever fails after the lock leaves neither lock nor record
            lifecycle.accepted(txn)
            journal.add(
                scope,
                200,
                f"accepted {txn.checkout_request_id} phone {push.phone} KES {push.amount}: "
                f"{txn.reason}",
                now,
            )
            answer = wire.push_response(txn)
        except BaseException:
            lifecycle.withdraw(txn)
            raise
        await send_json(send, answer)

    async def query(scope: Scope, receive: Receive, send: Send) -> None:
        body, now = await authorised_body(scope, receive, Endpoint.QUERY)
        txn = stk.query(wire.parse_query(body), now)
        answer = wire.query_response(txn, query_wording)
        journal.add(scope, 200, f"{txn.checkout_request_id} ResultCode {answer['ResultCode']}",
                    now)
        await send_json(send, answer)

    return [
        Route("/mpesa/stkpush/v1/processrequest", AsgiEndpoint(process_request),
              methods=["POST"]),
        Route("/mpesa/stkpushquery/v1/query", AsgiEndpoint(query), methods=["POST"]),
    ]
