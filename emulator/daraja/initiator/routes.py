"""The one shape of every initiator endpoint, in Daraja's order: the gateway's faults, the
token, the body, the family's parsing, faults matched on the subject, then acceptance and the
ack. Families build their routes with `endpoint`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from emulator.daraja.initiator import wire
from emulator.daraja.initiator.lifecycle import InitiatorLifecycle
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint
from emulator.kernel.routing import Route
from emulator.kernel.web import DarajaJSON, Plumbing, daraja_headers, read_json

Parse = Callable[[Any], dict[str, str]]  # a family's body -> fields (raises BadRequest)


class BearerCheck(Protocol):
    """What the initiator APIs need of OAuth: raise InvalidAccessToken unless valid."""

    def check(self, authorization: str | None, now: datetime) -> object: ...


def endpoint(
    path: str, api: str, parse: Parse, lifecycle: InitiatorLifecycle, tokens: BearerCheck,
    web: Plumbing, gate: FaultGate, *, echo: bool = False,
) -> Route:
    """A POST route for `api`; `echo`: the client's OriginatorConversationID is the ack's
    (B2C v3), and a repeat is refused."""
    service = lifecycle.service
    fault_endpoint = Endpoint(api)

    async def handler(request: Request) -> Response:
        await gate.on_arrival(request, fault_endpoint)
        authorization, length, content_type = daraja_headers(request)
        tokens.check(authorization, web.clock.now())
        body = await read_json(request, web.max_body_bytes, length, content_type,
                               web.body_timeout)
        fields = parse(body)
        subject = service.apis[api].subject(fields)
        await gate.on_subject(fault_endpoint, subject.phone or None, subject.amount,
                              subject.reference)
        originator = fields["OriginatorConversationID"] if echo else None
        job = service.accept(api, fields, web.clock.now(), originator_id=originator)
        lifecycle.accepted(job)
        web.log(request, 200, f"{api} {job.conversation_id} by {job.initiator}: "
                f"{job.timeline[-1][1]}")
        return DarajaJSON(wire.ack(job.originator_id, job.conversation_id))

    return Route(path, handler, methods=["POST"])
