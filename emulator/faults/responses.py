"""What a client sees for each fault: Daraja envelopes, gateway pages, broken connections."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulator.faults.gate import FaultTriggered
from emulator.faults.model import FaultKind
from emulator.kernel.errors import (
    MERCHANT_UNKNOWN,
    DarajaError,
    InternalError,
    InvalidAccessToken,
    ProcessingError,
    QuotaViolation,
    SpikeArrest,
)
from emulator.kernel.texts import EDGE_403_HTML, GATEWAY_FAULT
from emulator.kernel.web import envelope

log = logging.getLogger("emulator.faults")




# maps a fault answered in Daraja's own envelope -> the error it raises
ENVELOPE_FAULTS: dict[FaultKind, type[DarajaError] | DarajaError] = {
    FaultKind.SPIKE_ARREST: SpikeArrest,
    FaultKind.QUOTA: QuotaViolation,
    FaultKind.INTERNAL_ERROR: InternalError,
    FaultKind.INVALID_TOKEN: InvalidAccessToken,
    FaultKind.MERCHANT_UNKNOWN: ProcessingError(MERCHANT_UNKNOWN),
}




def envelope_error(kind: FaultKind) -> DarajaError | None:
    """The DarajaError a fault answers with, when it is one of Daraja's own errors."""
    error = ENVELOPE_FAULTS.get(kind)
    if error is None:
        return None
    return error if isinstance(error, DarajaError) else error()


def _transport(receive: Receive) -> Any:
    """The connection's asyncio transport: uvicorn's receive is a bound method of the request
    cycle that holds it. Closing it is the only way to drop a connection from inside ASGI."""
    return getattr(getattr(receive, "__self__", None), "transport", None)


class DropConnection(Response):
    """Close the connection before any byte of an answer is sent."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _transport(receive)
        if transport is None:  # not uvicorn: the nearest honest thing is an error
            raise ConnectionAbortedError("fault: drop (no transport to close)")
        transport.abort()


class DropMidBody(Response):
    """Send the status line, headers and half of a Daraja-looking body, then close."""

    def __init__(self, body: dict[str, str], status: int) -> None:
        super().__init__(json.dumps(body).encode(), status, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _transport(receive)
        await send(
            {"type": "http.response.start", "status": self.status_code,
             "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2],
                    "more_body": True})
        if transport is not None:
            transport.abort()
        else:
            raise ConnectionAbortedError("fault: drop-mid-body (no transport to close)")


def gateway_response(kind: FaultKind) -> Response:
    """Answers from the layers in front of Daraja, which do not use its envelope."""
    if kind is FaultKind.EDGE_403:
        return Response(EDGE_403_HTML, status_code=403, media_type="text/html")
    if kind is FaultKind.UNAVAILABLE:
        return Response(b"", status_code=503, media_type="text/plain")
    if kind is FaultKind.GATEWAY_FAULT:
        return Response(json.dumps(GATEWAY_FAULT), status_code=503, media_type="application/json")
    if kind is FaultKind.DROP:
        return DropConnection()
    raise ValueError(f"{kind} is not a gateway fault")


def render(fault: FaultTriggered, request_id: str) -> tuple[Response, int | None, str]:
    """What the client sees for a fault, with the status and detail for the request log
    (status None: no answer at all). The one place a fault becomes a response."""
    kind, why = fault.kind, fault.why
    error = envelope_error(kind)
    if error is not None:
        detail = f"fault {kind.value} ({why}): {error.code}"
        return envelope(error, request_id), error.status, detail
    if kind is FaultKind.DROP_MID_BODY:
        body = {"requestId": request_id, "errorCode": InternalError.code,
                "errorMessage": InternalError.message}
        return DropMidBody(body, 500), 500, f"fault {kind.value} ({why}): closed mid-body"
    response = gateway_response(kind)
    if kind is FaultKind.DROP:
        return response, None, f"fault drop ({why}): connection closed, no answer"
    return response, response.status_code, f"fault {kind.value} ({why})"
