"""Daraja HTTP plumbing every family shares: bounded body reading, JSON in and out, the error
envelope and the request log. The kernel's starlette room."""

from __future__ import annotations

import asyncio
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
from emulator.kernel.logsafe import escape

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


DRAIN_FLOOR = 4 * 1024 * 1024  # bytes an oversized body is read (and dropped) to answer it


def drain_limit(limit: int) -> int:
    """How much of an oversized body is read and dropped before the 400 goes out: answering
    while the client still sends makes the server close, and the client sees a broken pipe
    instead of Daraja's envelope. Past this the connection is closed instead."""
    return max(4 * limit, DRAIN_FLOOR)


async def read_json(
    request: Request,
    limit: int,
    length: bytes,
    content_type: bytes,
    timeout: float | None = None,
) -> Any:
    """The body parsed as JSON (None when it is not JSON); bodies over `limit` bytes, or not
    complete within `timeout` seconds, fail as 400.002.05 Invalid Request Payload.

    A body not sent as application/json counts as not JSON, even when its bytes are: live Daraja
    then answers "Invalid BusinessShortCode" (reference 2.3, Python `data=` instead of `json=`).
    `length` and `content_type` are the raw header values (see daraja_headers). An oversized
    body is drained up to drain_limit(limit) first, so the client can read the answer.
    """
    declared = int(length) if length.isdigit() else None
    if declared is not None and declared > limit:
        why = f"Content-Length {declared} is over --max-body-bytes {limit}"
        if declared <= drain_limit(limit) and b"expect" not in _header_names(request):
            await _receive_all(request, drain_limit(limit), timeout, why)
        raise InvalidPayload(why=why)
    return _parse_body(await _receive_all(request, limit, timeout), content_type)


def _header_names(request: Request) -> set[bytes]:
    return {name for name, _ in request.scope["headers"]}


async def _receive_all(
    request: Request, limit: int, timeout: float | None, oversized: str = ""
) -> list[bytes]:
    """The body's chunks, read within `timeout` seconds in all. Over `limit` bytes raises
    InvalidPayload (after draining up to drain_limit, so the answer can be read); `oversized`
    set means the body is already known too large and is only being drained."""
    if timeout is None:
        return await _receive_chunks(request, limit, oversized)
    task = asyncio.current_task()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        if task is not None:
            task.cancel()

    handle = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        return await _receive_chunks(request, limit, oversized)
    except asyncio.CancelledError:
        if not expired:
            raise  # cancelled from outside (shutdown): not ours to swallow
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+: the cancel was ours
        if uncancel is not None:
            uncancel()
        raise InvalidPayload(
            why=f"the body did not arrive within --body-timeout {timeout:g} s (a slow client)"
        ) from None
    finally:
        handle.cancel()


async def _receive_chunks(request: Request, limit: int, oversized: str) -> list[bytes]:
    chunks: list[bytes] = []
    size = 0
    while True:  # ASGI messages read directly: Request.stream()'s generator costs more than this
        message = await request.receive()
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        more = message.get("more_body", False)
        if oversized:  # only draining: keep nothing
            if size > limit:
                raise InvalidPayload(why=f"{oversized}; not read past {limit} bytes")
        elif size > limit:
            why = f"body over --max-body-bytes {limit}"
            if more:
                await _receive_chunks(request, drain_limit(limit) - size, why)
            raise InvalidPayload(why=why)
        else:
            chunks.append(chunk)
        if not more:
            return chunks


def _parse_body(chunks: list[bytes], content_type: bytes) -> Any:
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
            path = escape(request.url.path)
        if status == 404 and path.startswith("//"):
            detail += "; the path starts with //: does your base URL end with a slash?"
        detail = escape(detail)  # it quotes request data (a CallBackURL, say)
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
    body_timeout: float | None = None  # seconds a request body may take to arrive (None: no cap)

    def error(self, error: DarajaError) -> Response:
        """The error's envelope with a fresh requestId."""
        return envelope(error, self.ids.request_id())
