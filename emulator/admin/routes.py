"""Admin endpoints under /_emulator/."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__


async def health(request: Request) -> Response:
    emu = request.app.state.emulator
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "pending": len(emu.store.locks),
            "transactions": len(emu.store.transactions),
            "scenarios": len(emu.stk.scenarios.by_name),
            "default_scenario": emu.stk.scenarios.default.name,
            "time_scale": emu.runtime.time_scale,
        }
    )


routes = [Route("/_emulator/health", health, methods=["GET"])]
