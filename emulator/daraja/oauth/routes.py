"""GET /oauth/v1/generate: a thin handler over OAuthBackend."""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.responses import Response

from emulator.daraja.oauth.backend import EXPIRES_IN, GRANT_TYPE, OAuthBackend
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint
from emulator.kernel.errors import UnknownCredentials
from emulator.kernel.routing import Route
from emulator.kernel.web import AsgiEndpoint, Plumbing, Receive, Scope, Send, send_json

_USUAL_QUERY = f"grant_type={GRANT_TYPE}".encode()


def _grant_type(scope: Scope) -> str | None:
    """The grant_type parameter; the query every client sends is known without parsing it."""
    query: bytes = scope["query_string"]
    if query == _USUAL_QUERY:
        return GRANT_TYPE
    return QueryParams(query).get("grant_type")


def _authorization(scope: Scope) -> str | None:
    """The first Authorization header, as Starlette's `request.headers.get` reads it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def routes(oauth: OAuthBackend, web: Plumbing, gate: FaultGate) -> list[Route]:
    clock, journal = web.clock, web.log

    async def generate(scope: Scope, receive: Receive, send: Send) -> None:
        if not gate.quiet:
            await gate.on_arrival(scope, Endpoint.OAUTH)
        now = clock.now()
        try:
            token = oauth.issue(_authorization(scope), _grant_type(scope), now)
        except UnknownCredentials:
            journal.add(scope, 400, "unknown consumer key/secret (empty body, as Daraja)", now)
            await Response(b"", status_code=400, media_type="text/plain")(scope, receive, send)
            return
        journal.add(scope, 200, f"token issued to consumer key {token.consumer_key!r}", now)
        await send_json(send, {"access_token": token.value, "expires_in": EXPIRES_IN})

    return [Route("/oauth/v1/generate", AsgiEndpoint(generate), methods=["GET"])]
