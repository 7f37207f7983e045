"""The ASGI application: routes of every API family, one error mapping, lifespan-owned state."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from emulator.admin.dashboard import routes as dashboard_routes
from emulator.admin.faults import routes as fault_routes
from emulator.admin.openapi import routes as openapi_routes
from emulator.admin.routes import AdminError, admin_error
from emulator.admin.routes import routes as admin_routes
from emulator.config import Settings
from emulator.daraja.oauth.routes import routes as oauth_routes
from emulator.daraja.stk.routes import routes as stk_routes
from emulator.faults.gate import FaultTriggered
from emulator.faults.model import FaultKind
from emulator.faults.responses import DropMidBody, envelope_error, gateway_response
from emulator.kernel.clock import Clock
from emulator.kernel.errors import DarajaError, InternalError, MethodNotAllowed, ResourceNotFound
from emulator.kernel.web import envelope, log_request
from emulator.wiring import Emulator

log = logging.getLogger("emulator.app")


async def _daraja_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DarajaError)
    why = f" ({exc.why})" if exc.why else ""
    log_request(request, exc.status, f"{exc.code} {exc.message}{why}")
    return envelope(exc, request.app.state.emulator.ids.request_id())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: DarajaError = MethodNotAllowed() if exc.status_code == 405 else ResourceNotFound()
    response = await _daraja_error(request, error)
    if exc.status_code == 405 and exc.headers and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


async def _fault(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FaultTriggered)
    error = envelope_error(exc.kind)
    if error is not None:
        log_request(request, error.status, f"fault {exc.kind.value} ({exc.why}): {error.code}")
        return envelope(error, request.app.state.emulator.ids.request_id())
    if exc.kind is FaultKind.DROP_MID_BODY:
        log_request(request, 500, f"fault {exc.kind.value} ({exc.why}): closed mid-body")
        body = {"requestId": request.app.state.emulator.ids.request_id(),
                "errorCode": InternalError.code, "errorMessage": InternalError.message}
        return DropMidBody(body, 500)
    response = gateway_response(exc.kind)
    if exc.kind is FaultKind.DROP:
        log_request(request, None, f"fault drop ({exc.why}): connection closed, no answer")
    else:
        log_request(request, response.status_code, f"fault {exc.kind.value} ({exc.why})")
    return response


async def _gone(request: Request, exc: Exception) -> Response:
    """The client hung up (a timeout during a slow fault, say): nobody is left to answer."""
    log_request(request, None, "client gone: it closed the connection before the answer")
    return Response(b"", status_code=499)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return await _daraja_error(request, InternalError())


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
) -> Starlette:
    """Build an emulator app; scenario errors raise here, before any port is opened."""
    settings = settings or Settings()
    emulator = Emulator(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pending = emulator.restore()
        if emulator.state_file is not None:
            log.info("state file %s: %d pending transactions resumed", settings.state_file, pending)
        yield
        await emulator.aclose()

    app = Starlette(
        routes=[*oauth_routes, *stk_routes, *admin_routes, *fault_routes, *dashboard_routes,
                *openapi_routes],
        exception_handlers={
            DarajaError: _daraja_error,
            AdminError: admin_error,
            FaultTriggered: _fault,
            ClientDisconnect: _gone,
            HTTPException: _http_error,
            Exception: _crash,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # Daraja answers 404 for a trailing slash, not 307
    app.state.emulator = emulator
    return app
