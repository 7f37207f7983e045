"""Admin endpoints under /_emulator/: every path routed from start-up; health answered here,
every other handler imported by its first request (core.py and the groups)."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount

from emulator._version import __version__
from emulator.kernel.lazy import Later
from emulator.kernel.routing import Route
from emulator.wiring import Emulator


async def health(emu: Emulator, request: Request) -> Response:
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "pending": len(emu.stk.locks),
            "transactions": len(emu.stk.records.by_key),
            "scenarios": len(emu.scenarios.by_name),
            "default_scenario": emu.scenarios.default.name,
            "time_scale": emu.time_scale,
        }
    )


P = "/_emulator"


def _later(path: str, module: str, name: str, methods: list[str], *args: Any) -> Route:
    """A route to `emulator.admin.<module>.<name>`, imported on the route's first request."""
    return Route(path, Later(f"emulator.admin.{module}", name, *args), methods=methods,
                 name=name)


def routes(emu: Emulator) -> list[BaseRoute]:
    """The control plane under /_emulator/, the dashboard and the OpenAPI document; each
    handler is handed the emulator it works on. Every admin path is here; every handler but
    health (the core's in core.py, then faults, ledger, C2B, QR, initiators, the inbox, the
    dashboard, the OpenAPI document) is imported by its first request, not at start-up."""
    c2b, ledger, qr, initiators = f"{P}/c2b", f"{P}/ledger", f"{P}/qr", f"{P}/initiators"
    dashboard = f"{P}/dashboard"
    return [
        Route(f"{P}/health", partial(health, emu), methods=["GET"]),
        _later(f"{P}/transactions", "core", "transactions", ["GET"], emu),
        _later(f"{P}/transactions/{{checkout_id}}", "core", "transaction", ["GET"], emu),
        _later(f"{P}/transactions/{{checkout_id}}/decide", "core", "decide", ["POST"], emu),
        _later(f"{P}/transactions/{{checkout_id}}/fast-forward", "core", "fast_forward",
               ["POST"], emu),
        _later(f"{P}/fast-forward", "core", "fast_forward", ["POST"], emu),
        _later(f"{P}/reset", "core", "reset", ["POST"], emu),
        _later(f"{P}/scenarios", "core", "scenarios", ["GET"], emu),
        _later(f"{P}/scenarios/reload", "core", "reload_scenarios", ["POST"], emu),
        _later(f"{P}/scenarios/default", "core", "set_default", ["PUT", "POST"], emu),
        _later(f"{P}/queue", "core", "queue", ["GET", "POST", "DELETE"], emu),
        _later(f"{P}/time", "core", "time_state", ["GET", "POST"], emu),
        _later(f"{P}/tokens/expire", "core", "expire_tokens", ["POST"], emu),
        _later(f"{P}/events", "core", "events", ["GET"], emu),
        _later(f"{P}/inbox/{{name}}", "inbox", "inbox", ["GET", "POST", "DELETE"], emu),
        _later(f"{P}/faults", "faults", "faults", ["GET", "POST", "DELETE"], emu),
        _later(f"{P}/faults/rate-limit", "faults", "rate_limit", ["PUT"], emu),
        _later(f"{P}/requests", "faults", "requests", ["GET"], emu),
        _later(f"{ledger}/businesses", "ledger", "businesses", ["GET"], emu),
        _later(f"{ledger}/businesses/{{shortcode}}", "ledger", "business", ["GET", "PUT"], emu),
        _later(f"{ledger}/customers/{{phone}}", "ledger", "customer", ["GET", "PUT"], emu),
        _later(f"{ledger}/entries", "ledger", "entries", ["GET"], emu),
        _later(f"{c2b}/registrations", "c2b", "registrations", ["GET", "DELETE"], emu),
        _later(f"{c2b}/registrations/{{shortcode}}", "c2b", "validation_switch", ["PUT"], emu),
        _later(f"{c2b}/payments", "c2b", "payments", ["GET"], emu),
        _later(f"{c2b}/payments/{{trans_id}}", "c2b", "payment", ["GET"], emu),
        _later(f"{c2b}/pay", "c2b", "pay", ["POST"], emu),
        _later(f"{c2b}/queue", "c2b", "queue", ["GET", "POST", "DELETE"], emu),
        _later(qr, "qr", "codes", ["GET"], emu),
        _later(f"{qr}/scan", "qr", "scan", ["POST"], emu),
        _later(f"{qr}/{{id}}", "qr", "code", ["GET"], emu),
        _later(f"{initiators}/results", "initiators", "results", ["GET"], emu),
        _later(f"{initiators}/results/{{conversation_id}}", "initiators", "result", ["GET"],
               emu),
        _later(f"{initiators}/results/{{conversation_id}}/fast-forward", "initiators",
               "fast_forward", ["POST"], emu),
        _later(f"{initiators}/fast-forward", "initiators", "fast_forward_all", ["POST"], emu),
        _later(f"{initiators}/queue", "initiators", "queue", ["GET", "POST", "DELETE"], emu),
        _later(f"{initiators}/certificate", "initiators", "certificate", ["GET"], emu),
        _later(f"{initiators}/{{name}}/unlock", "initiators", "unlock", ["POST"], emu),
        _later("/", "dashboard", "root", ["GET"]),
        _later(dashboard, "dashboard", "to_slash", ["GET"]),
        _later(f"{dashboard}/", "dashboard", "page", ["GET"]),
        Mount(dashboard, app=Later("emulator.admin.dashboard", "static", asgi=True),
              name="dashboard-static"),
        _later(f"{P}/openapi.json", "openapi", "openapi", ["GET"]),
    ]
