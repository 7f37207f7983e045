"""Admin endpoints for faults and the request journal: /_emulator/faults, /_emulator/requests."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.admin.auth import AdminError, guard, read_body
from emulator.admin.numbers import (
    MAX_FAULT_COUNT,
    MAX_FAULT_SECONDS,
    MAX_RATE_LIMIT,
    MAX_SLOW_DELAY,
    number,
    query_limit,
)
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
        "endpoints": ["any", *[e.value for e in Endpoint]],
        "scenarios": [s.name for s in emu.scenarios.by_name.values() if s.fault],
    }


def parse_rule(data: dict[str, Any], emu: Emulator) -> FaultRule:
    """A rule from {"fault", "endpoint", "count" | "seconds", "delay"}; count defaults to 1.
    Every number is checked (finite, bounded) before the rule is made."""
    kinds = [k.value for k in FaultKind]
    if data.get("fault") not in kinds:
        raise AdminError(400, f"fault must be one of {kinds}")
    endpoint = data.get("endpoint", "any")
    if endpoint not in ("any", *[e.value for e in Endpoint]):
        names = ", ".join(["any", *[e.value for e in Endpoint]])
        raise AdminError(400, f"endpoint must be one of {names}")
    if data.get("count") is not None and data.get("seconds") is not None:
        raise AdminError(400, "give count or seconds, not both")
    seconds: float | None = None
    count: int | None = None
    delay: float | None = None
    if data.get("seconds") is not None:
        seconds = number(data["seconds"], "seconds", MAX_FAULT_SECONDS, above_low=True)
    if data.get("count") is not None:
        count = int(number(data["count"], "count", MAX_FAULT_COUNT, low=1, whole=True))
    if data.get("delay") is not None:
        delay = number(data["delay"], "delay", MAX_SLOW_DELAY, above_low=True)
    until = emu.clock.now() + timedelta(seconds=seconds) if seconds else None
    return FaultRule(
        FaultKind(data["fault"]), None if endpoint == "any" else Endpoint(endpoint),
        count=None if until else (count or 1), until=until,
        seconds=delay or DEFAULT_SLOW_SECONDS,
    )


async def faults(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    limit = emu.settings.max_body_bytes
    if request.method == "POST":
        emu.faults.book.add(parse_rule(await read_body(request, limit), emu))
    elif request.method == "DELETE":
        emu.faults.book.clear()
    if request.method != "GET":
        emu.events.publish("faults")
    return JSONResponse(listing(emu))


async def rate_limit(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    value = (await read_body(request, emu.settings.max_body_bytes)).get("per_second")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not 1 <= value <= MAX_RATE_LIMIT):
        raise AdminError(
            400, f"per_second must be a whole number from 1 to {MAX_RATE_LIMIT}, or null for no "
            "limit")
    emu.faults.book.rate_limit = value
    emu.events.publish("faults")
    return JSONResponse(listing(emu))


async def requests(emu: Emulator, request: Request) -> Response:
    """The request journal: every Daraja request with its status and why, newest first."""
    guard(emu.settings, request)
    limit = query_limit(request.query_params.get("limit"))
    newest = itertools.islice(reversed(emu.requests.rows), limit)
    rows = [
        {"at": at.isoformat(), "method": method, "path": path, "status": status, "detail": detail}
        for at, method, path, status, detail in newest
    ]
    return JSONResponse({"requests": rows})
