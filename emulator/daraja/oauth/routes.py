"""GET /oauth/v1/generate: thin handler over OAuthBackend."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.daraja.oauth.backend import EXPIRES_IN, GRANT_TYPE
from emulator.faults import gate as faults
from emulator.faults.model import Endpoint
from emulator.kernel.errors import UnknownCredentials
from emulator.kernel.web import DarajaJSON, log_request

_USUAL_QUERY = f"grant_type={GRANT_TYPE}".encode()


def _grant_type(request: Request) -> str | None:
    """The grant_type parameter; the query every client sends is known without parsing it."""
    if request.scope["query_string"] == _USUAL_QUERY:
        return GRANT_TYPE
    return request.query_params.get("grant_type")


async def generate(request: Request) -> Response:
    emu = request.app.state.emulator
    await faults.on_arrival(request, Endpoint.OAUTH)
    try:
        token = emu.oauth.issue(
            request.headers.get("authorization"),
            _grant_type(request),
            emu.clock.now(),
        )
    except UnknownCredentials:
        log_request(request, 400, "unknown consumer key/secret (empty body, as Daraja)")
        return Response(b"", status_code=400, media_type="text/plain")
    log_request(request, 200, f"token issued to consumer key {token.consumer_key!r}")
    return DarajaJSON({"access_token": token.value, "expires_in": EXPIRES_IN})


routes = [Route("/oauth/v1/generate", generate, methods=["GET"])]
