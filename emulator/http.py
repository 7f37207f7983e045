"""Shared HTTP plumbing: bounded body reading and Daraja's error envelope."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from .errors import DarajaError, InvalidPayload

log = logging.getLogger("emulator.http")
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9/_.~-]*")  # request.url.path is the path itself


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or None when it is not JSON (Daraja then blames the first field)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def declares_json(request: Request) -> bool:
    """Content-Type application/json (any parameters): Daraja reads no other body as JSON."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json"


async def read_json(request: Request, limit: int) -> Any:
    """The body parsed as JSON (None when it is not JSON); bodies over `limit` bytes fail fast.

    A body not sent as application/json counts as not JSON, even when its bytes are: live Daraja
    then answers "Invalid BusinessShortCode" (reference 2.3, Python `data=` instead of `json=`).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidPayload()
    chunks: list[bytes] = []
    size = 0
    while True:  # ASGI messages read directly: Request.stream()'s generator costs more than this
        message = await request.receive()
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise InvalidPayload()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if not declares_json(request):
        log.info("body not sent as Content-Type: application/json; Daraja does not read it")
        return None
    return parse_json(b"".join(chunks))


def envelope(error: DarajaError, request_id: str) -> Response:
    """Daraja's {requestId, errorCode, errorMessage} with the status of the code's first part."""
    body = {
        "requestId": error.request_id or request_id,
        "errorCode": error.code,
        "errorMessage": error.message,
    }
    return JSONResponse(body, status_code=error.status)


def log_request(request: Request, status: int | None, detail: str) -> None:
    """One log line per Daraja request, also kept in the request journal (status None: no
    answer was sent, the detail says why)."""
    path = request.scope["path"]
    if not _PLAIN_PATH.fullmatch(path):  # escaping or a leading // apply: let Starlette do it
        path = request.url.path
    log.info("%s %s -> %s %s", request.method, path, status or "-", detail)
    emu = request.app.state.emulator
    emu.store.requests.append((emu.clock.now(), request.method, path, status, detail))
