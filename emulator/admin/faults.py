"""Admin endpoints for faults and the request journal: /_emulator/faults, /_emulator/requests."""

from __future__ import annotations

import itertools
from datetime import timedelta
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from emulator.admin.auth import AdminError, guard, read_body
from emulator.faults.model import DEFAULT_SLOW_SECONDS, Endpoint, FaultKind, FaultRule
from emulator.wiring import Emulator


def _rule(rule: FaultRule) -> dict[str, Any]:
    return {
        "id": rule.id, "fault": rule.kind.value,
        "endpoint": rule.endpoint.value if rule.endpoint else "any",
        "remaining": rule.count, "until": rule.until.isoformat() if rule.until else None,
        "delay": rule.seconds if rule.kind is FaultKind.SLOW else None,
    }


def listing(emu: Emulator) -> dict[str, Any]:
    return {
        "rules": [_rule(r) for r in emu.faults.book.active(emu.clock.now())],
        "rate_limit": emu.faults.book.rate_limit,
        "kinds": [k.value for k in FaultKind],
        "scenarios": [s.name for s in emu.scenarios.by_name.values() if s.fault],
    }


def _number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise AdminError(400, f"{key} must be a number > 0")
    return float(value)


def parse_rule(data: dict[str, Any], emu: Emulator) -> FaultRule:
    """A rule from {"fault", "endpoint", "count" | "seconds", "delay"}; count defaults to 1."""
    kinds = [k.value for k in FaultKind]
    if data.get("fault") not in kinds:
        raise AdminError(400, f"fault must be one of {kinds}")
    endpoint = data.get("endpoint", "any")
    if endpoint not in ("any", *[e.value for e in Endpoint]):
        raise AdminError(400, "endpoint must be one of any, oauth, push, query")
    count, seconds = _number(data, "count"), _number(data, "seconds")
    if count is not None and seconds is not None:
        raise AdminError(400, "give count or seconds, not both")
    if count is not None and not float(count).is_integer():
        raise AdminError(400, "count must be a whole number")
    until = emu.clock.now() + timedelta(seconds=seconds) if seconds else None
    return FaultRule(
        FaultKind(data["fault"]), None if endpoint == "any" else Endpoint(endpoint),
        count=None if until else int(count or 1), until=until,
        seconds=_number(data, "delay") or DEFAULT_SLOW_SECONDS,
    )


async def faults(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    if request.method == "POST":
        emu.faults.book.add(parse_rule(await read_body(request), emu))
    elif request.method == "DELETE":
        emu.faults.book.clear()
    if request.method != "GET":
        emu.events.publish("faults")
    return JSONResponse(listing(emu))


async def rate_limit(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    value = (await read_body(request)).get("per_second")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise AdminError(400, "per_second must be a whole number >= 1, or null for no limit")
    emu.faults.book.rate_limit = value
    emu.events.publish("faults")
    return JSONResponse(listing(emu))


async def requests(emu: Emulator, request: Request) -> Response:
    """The request journal: every Daraja request with its status and why, newest first."""
    guard(emu.settings, request)
    limit = request.query_params.get("limit", "")
    newest = itertools.islice(reversed(emu.requests.rows), int(limit) if limit.isdigit() else 200)
    rows = [
        {"at": at.isoformat(), "method": method, "path": path, "status": status, "detail": detail}
        for at, method, path, status, detail in newest
    ]
    return JSONResponse({"requests": rows})


P = "/_emulator"


def routes(emu: Emulator) -> list[BaseRoute]:
    return [
        Route(f"{P}/faults", partial(faults, emu), methods=["GET", "POST", "DELETE"]),
        Route(f"{P}/faults/rate-limit", partial(rate_limit, emu), methods=["PUT"]),
        Route(f"{P}/requests", partial(requests, emu), methods=["GET"]),
    ]
