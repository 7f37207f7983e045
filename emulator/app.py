"""The ASGI application: the wired emulator's routes, the admin API, one error mapping, and
lifespan-owned state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulator.admin import routes as admin
from emulator.admin.auth import AdminError, admin_error
from emulator.admin.guard import PREFIX as ADMIN_PREFIX
from emulator.admin.guard import AdminGuard
from emulator.config import Settings
from emulator.faults.gate import FaultTriggered
from emulator.kernel.clock import Clock
from emulator.kernel.direct import DirectRoutes
from emulator.kernel.errors import DarajaError, InternalError, MethodNotAllowed, ResourceNotFound
from emulator.kernel.logsafe import escape
from emulator.wiring import Emulator

log = logging.getLogger("emulator.app")
NAMES_WARMUP_AFTER = 0.5  # seconds after start-up: health answers first, then faker loads


def _handlers(emu: Emulator) -> dict[type[Exception], object]:
    """Every exception a route may raise, mapped to what a client sees, in one place."""
    web = emu.web

    async def daraja_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DarajaError)
        why = f" ({exc.why})" if exc.why else ""
        web.log(request, exc.status, f"{exc.code} {exc.message}{why}")
        return web.error(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith(ADMIN_PREFIX):  # the admin API's own error shape
            text = "method not allowed here" if exc.status_code == 405 else "no such admin path"
            response = await admin_error(request, AdminError(exc.status_code, text))
            if exc.headers and "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        error: DarajaError = MethodNotAllowed() if exc.status_code == 405 else ResourceNotFound()
        response = await daraja_error(request, error)
        if exc.status_code == 405 and exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response

    async def fault(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FaultTriggered)
        from emulator.faults import responses as fault_responses  # with the first fault only

        response, status, detail = fault_responses.render(exc, emu.ids.request_id())
        web.log(request, status, detail)
        return response

    async def gone(request: Request, exc: Exception) -> Response:
        """The client hung up (a timeout during a slow fault, say): nobody is left to answer."""
        web.log(request, None, "client gone: it closed the connection before the answer")
        return Response(b"", status_code=499)

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, escape(request.url.path))
        return await daraja_error(request, InternalError())

    return {
        DarajaError: daraja_error,
        AdminError: admin_error,
        FaultTriggered: fault,
        ClientDisconnect: gone,
        HTTPException: http_error,
        Exception: crash,
    }


class EmulatorApp(Starlette):
    """Starlette, with the hot Daraja endpoints served straight from an exact-path table (see
    kernel/direct.py); everything else takes Starlette's full path."""

    direct: DirectRoutes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.direct.get(scope)
        if endpoint is None:
            await super().__call__(scope, receive, send)
        else:
            await self.direct.serve(endpoint, scope, receive, send)


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
            log.info("state file %s: %d pending transaction%s resumed", settings.state_file,
                     pending, "" if pending == 1 else "s")
        # customers' names (faker) are loaded in a thread once serving has begun, not by the
        # first success of a new phone, which would stall every callback due meanwhile
        warm = asyncio.get_running_loop().call_later(NAMES_WARMUP_AFTER,
                                                     emulator.ledger.names.warm_in_background)
        yield
        warm.cancel()
        await emulator.aclose()

    handlers = _handlers(emulator)
    daraja_routes = emulator.routes()
    app = EmulatorApp(
        routes=[*daraja_routes, *admin.routes(emulator)],
        exception_handlers=handlers,  # type: ignore[arg-type]
        middleware=[Middleware(AdminGuard, settings=settings)],  # Host/CSRF checks, /_emulator
        lifespan=lifespan,
    )
    app.direct = DirectRoutes(daraja_routes, handlers)
    app.router.redirect_slashes = False  # Daraja answers 404 for a trailing slash, not 307
    app.state.emulator = emulator  # for white-box tests only; no handler reads it
    return app
