"""GET /oauth/v1/generate: a thin handler over OAuthBackend."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.daraja.oauth.backend import EXPIRES_IN, GRANT_TYPE, OAuthBackend
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint
from emulator.kernel.errors import UnknownCredentials
from emulator.kernel.web import DarajaJSON, Plumbing

_USUAL_QUERY = f"grant_type={GRANT_TYPE}".encode()


def _grant_type(request: Request) -> str | None:
    """The grant_type parameter; the query every client sends is known without parsing it."""
    if request.scope["query_string"] == _USUAL_QUERY:
        return GRANT_TYPE
    return request.query_params.get("grant_type")


def routes(oauth: OAuthBackend, web: Plumbing, gate: FaultGate) -> list[Route]:
    async def generate(request: Request) -> Response:
        await gate.on_arrival(request, Endpoint.OAUTH)
        try:
            token = oauth.issue(
                request.headers.get("authorization"), _grant_type(request), web.clock.now()
            )
        except UnknownCredentials:
            web.log(request, 400, "unknown consumer key/secret (empty body, as Daraja)")
            return Response(b"", status_code=400, media_type="text/plain")
        web.log(request, 200, f"token issued to consumer key {token.consumer_key!r}")
        return DarajaJSON({"access_token": token.value, "expires_in": EXPIRES_IN})

    return [Route("/oauth/v1/generate", generate, methods=["GET"])]
