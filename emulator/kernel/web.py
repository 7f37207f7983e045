"""Daraja HTTP plumbing every family shares: bounded body reading, JSON in and out, the error
envelope and the request log. The kernel's starlette room."""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from emulator.kernel.clock import Clock
from emulator.kernel.errors import DarajaError, InvalidPayload
from emulator.kernel.ids import IdSource

log = logging.getLogger("emulator.http")
_FLOAT_OR_NESTED = frozenset({float, dict, list})
_DARAJA_HEADERS = frozenset({b"authorization", b"content-length", b"content-type"})
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9/_.~-]*")  # request.url.path is the path itself


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or None when it is not JSON (Daraja then blames the first field).

    orjson first, at a quarter of the stdlib's time. What it refuses goes to json.loads, and so
    does anything holding a float, since orjson turns integers past 64 bits into floats: the
    result is exactly the stdlib's (NaN, 1e400, lone surrogates, huge integers, UTF-16 and
    BOM-prefixed bodies included).
    """
    try:
        value = orjson.loads(raw)
        if not _has_float(value):
            return value
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _has_float(value: Any) -> bool:
    if type(value) is dict and not {type(v) for v in value.values()} & _FLOAT_OR_NESTED:
        return False  # the usual Daraja body: one flat object of strings and integers
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
    return False


class DarajaJSON(JSONResponse):
    """Starlette's JSONResponse bytes (compact, UTF-8, unescaped non-ASCII) from orjson, for the
    Daraja answers, whose values are all strings; a twentieth of json.dumps's time."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def daraja_headers(request: Request) -> tuple[str, bytes, bytes]:
    """Authorization, Content-Length and Content-Type in one pass over the raw headers (ASGI
    servers lower-case names); three `request.headers` lookups cost more on every request."""
    found: dict[bytes, bytes] = {}
    for name, value in request.scope["headers"]:
        if name in _DARAJA_HEADERS and name not in found:  # the first one counts, as Starlette's
            found[name] = value
    return (
        found.get(b"authorization", b"").decode("latin-1"),
        found.get(b"content-length", b""),
        found.get(b"content-type", b""),
    )


def declares_json(content_type: bytes) -> bool:
    """Content-Type application/json (any parameters): Daraja reads no other body as JSON."""
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


async def read_json(request: Request, limit: int, length: bytes, content_type: bytes) -> Any:
    """The body parsed as JSON (None when it is not JSON); bodies over `limit` bytes fail fast.

    A body not sent as application/json counts as not JSON, even when its bytes are: live Daraja
    then answers "Invalid BusinessShortCode" (reference 2.3, Python `data=` instead of `json=`).
    `length` and `content_type` are the raw header values (see daraja_headers).
    """
    if length.isdigit() and int(length) > limit:
        raise InvalidPayload(why=f"Content-Length {int(length)} is over --max-body-bytes {limit}")
    chunks: list[bytes] = []
    size = 0
    while True:  # ASGI messages read directly: Request.stream()'s generator costs more than this
        message = await request.receive()
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise InvalidPayload(why=f"body over --max-body-bytes {limit}")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if not declares_json(content_type):
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
    return DarajaJSON(body, status_code=error.status)


RequestRecord = tuple[datetime, str, str, "int | None", str]  # (at, method, path, status, detail)


class RequestLog:
    """One log line per Daraja request, also kept (bounded, newest last) for /_emulator/requests.

    Rows are plain tuples, which the garbage collector does not track, formatted when read.
    """

    def __init__(self, clock: Clock, size: int) -> None:
        self._clock = clock
        self.rows: deque[RequestRecord] = deque(maxlen=size)

    def __call__(self, request: Request, status: int | None, detail: str) -> None:
        """Log a request's answer (status None: no answer was sent, the detail says why)."""
        path = request.scope["path"]
        if not _PLAIN_PATH.fullmatch(path):  # escaping or a leading // apply: let Starlette
            path = request.url.path
        log.info("%s %s -> %s %s", request.method, path, status or "-", detail)
        self.rows.append((self._clock.now(), request.method, path, status, detail))

    def clear(self) -> None:
        self.rows.clear()


@dataclass(frozen=True)
class Plumbing:
    """What every Daraja route needs of the kernel, handed to each family's route factory."""

    clock: Clock
    ids: IdSource
    log: RequestLog
    max_body_bytes: int

    def error(self, error: DarajaError) -> Response:
        """The error's envelope with a fresh requestId."""
        return envelope(error, self.ids.request_id())
