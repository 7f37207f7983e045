"""Shared HTTP plumbing: bounded body reading and Daraja's error envelope."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import DarajaError, InvalidPayload

log = logging.getLogger("emulator.http")


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or None when it is not JSON (Daraja then blames the first field)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


async def read_json(request: Request, limit: int) -> Any:
    """The body parsed as JSON (None when it is not JSON); bodies over `limit` bytes fail fast."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidPayload()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidPayload()
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


def envelope(error: DarajaError, request_id: str) -> Response:
    """Daraja's {requestId, errorCode, errorMessage} with the status of the code's first part."""
    body = {
        "requestId": error.request_id or request_id,
        "errorCode": error.code,
        "errorMessage": error.message,
    }
    return JSONResponse(body, status_code=error.status)


def log_request(request: Request, status: int, detail: str) -> None:
    log.info("%s %s -> %s %s", request.method, request.url.path, status, detail)
