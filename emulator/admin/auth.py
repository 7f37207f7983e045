"""The admin API's guard and errors: the admin token, JSON bodies, the error shape."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.config import Settings
from emulator.kernel.web import parse_json


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


def guard(settings: Settings, request: Request) -> None:
    """Refuse the request unless it carries the admin token (when one is set)."""
    expected = settings.admin_token
    if expected:
        given = request.headers.get("x-admin-token") or request.query_params.get("token") or ""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and not given:
            given = value.strip()
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise AdminError(401, "admin token required (X-Admin-Token header or ?token=)")


async def read_raw(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and refused (413) as soon as it passes `limit` bytes, so a
    huge body never sits in memory whole (the guard already refused a declared one)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise AdminError(413, f"the body is over --max-body-bytes {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object ({} when empty); anything else is the caller's 400."""
    raw = await read_raw(request, limit)
    data = parse_json(raw) if raw else {}
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


async def admin_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return JSONResponse({"error": exc.message}, status_code=exc.status)
