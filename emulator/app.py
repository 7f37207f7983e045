"""The ASGI application: routes of every API family, one error mapping, lifespan-owned state."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .admin.dashboard import routes as dashboard_routes
from .admin.routes import AdminError, admin_error
from .admin.routes import routes as admin_routes
from .clock import Clock
from .config import Settings
from .daraja.oauth.routes import routes as oauth_routes
from .daraja.stk.routes import routes as stk_routes
from .errors import DarajaError, InternalError, MethodNotAllowed, ResourceNotFound
from .http import envelope, log_request
from .instance import Emulator

log = logging.getLogger("emulator.app")


async def _daraja_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DarajaError)
    log_request(request, exc.status, f"{exc.code} {exc.message}")
    return envelope(exc, request.app.state.emulator.ids.request_id())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: DarajaError = MethodNotAllowed() if exc.status_code == 405 else ResourceNotFound()
    return await _daraja_error(request, error)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return await _daraja_error(request, InternalError())


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> Starlette:
    """Build an emulator app; scenario errors raise here, before any port is opened."""
    settings = settings or Settings()
    emulator = Emulator(settings, clock=clock, http_client=http_client)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pending = emulator.restore()
        if emulator.state_file is not None:
            log.info("state file %s: %d pending transactions resumed", settings.state_file, pending)
        yield
        await emulator.aclose()

    app = Starlette(
        routes=[*oauth_routes, *stk_routes, *admin_routes, *dashboard_routes],
        exception_handlers={
            DarajaError: _daraja_error,
            AdminError: admin_error,
            HTTPException: _http_error,
            Exception: _crash,
        },
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    return app
