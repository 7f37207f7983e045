"""Daraja HTTP plumbing every family shares: bounded body reading, JSON in and out, the error
envelope and the request log. The kernel's starlette room."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from datetime import datetime
from typing import Any

import msgspec
import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from emulator.kernel.clock import Clock
from emulator.kernel.errors import DarajaError, InvalidPayload
from emulator.kernel.ids import IdSource
from emulator.kernel.logsafe import escape

log = logging.getLogger("emulator.http")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
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
    if type(value) is dict and _FLOAT_OR_NESTED.isdisjoint(map(type, value.values())):
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
    """Authorization, Content-Length and Content-Type (see scope_headers)."""
    return scope_headers(request.scope)


def scope_headers(scope: Scope) -> tuple[str, bytes, bytes]:
    """Authorization, Content-Length and Content-Type in one pass over the raw headers (ASGI
    servers lower-case names); three `request.headers` lookups cost more on every request."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _DARAJA_HEADERS and name not in found:  # the first one counts, as Starlette's
            found[name] = value
    return (
        found.get(b"authorization", b"").decode("latin-1"),
        found.get(b"content-length", b""),
        found.get(b"content-type", b""),
    )


def declares_json(content_type: bytes) -> bool:
    """Content-Type application/json (any parameters): Daraja reads no other body as JSON."""
    return content_type == b"application/json" or (
        content_type.split(b";", 1)[0].strip().lower() == b"application/json")


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
    """read_body_json for a Starlette Request."""
    return await read_body_json(
        request.scope, request.receive, limit, length, content_type, timeout
    )


async def read_body_json(
    scope: Scope,
    receive: Receive,
    limit: int,
    length: bytes,
    content_type: bytes,
    timeout: float | None = None,
) -> Any:
    """The body parsed as JSON (None when it is not JSON); bodies over `limit` bytes, or not
    complete within `timeout` seconds, fail as 400.002.05 Invalid Request Payload.

    A body not sent as application/json counts as not JSON, even when its bytes are: live Daraja
    then answers "Invalid BusinessShortCode" (reference 2.3, Python `data=` instead of `json=`).
    `length` and `content_type` are the raw header values (see scope_headers). An oversized
    body is drained up to drain_limit(limit) first, so the client can read the answer.
    """
    declared = int(length) if length.isdigit() else None
    if declared is not None and declared > limit:
        why = f"Content-Length {declared} is over --max-body-bytes {limit}"
        if declared <= drain_limit(limit) and b"expect" not in _header_names(scope):
            await _receive_all(receive, drain_limit(limit), timeout, why)
        raise InvalidPayload(why=why)
    return _parse_body(await _receive_all(receive, limit, timeout), content_type)


def _header_names(scope: Scope) -> set[bytes]:
    return {name for name, _ in scope["headers"]}


async def _receive_all(
    receive: Receive, limit: int, timeout: float | None, oversized: str = ""
) -> list[bytes]:
    """The body's chunks, read within `timeout` seconds in all. Over `limit` bytes raises
    InvalidPayload (after draining up to drain_limit, so the answer can be read); `oversized`
    set means the body is already known too large and is only being drained.

    The usual body arrives with its head, and receive() answers it without waiting; a timer per
    request (armed, then cancelled) would cost more than the rest of reading it. So the first
    receive() is stepped by hand: a body already complete is returned with no timer at all, and
    only a read that has to wait runs under the deadline (see _Deadline).
    """
    if timeout is not None:
        waiting = receive()
        step = getattr(waiting, "send", None)
        first: Awaitable[Message] = waiting
        if step is not None:  # a coroutine: run it up to its first wait, if any
            try:
                blocked_on = step(None)
            except StopIteration as done:
                message = done.value
                if not oversized and message["type"] == "http.request" and not message.get(
                    "more_body", False
                ):
                    chunk = message.get("body", b"")
                    if len(chunk) <= limit:
                        return [chunk]
                first = _ready(message)
            else:
                first = _Resumed(waiting, blocked_on)
        receive = _Deadline(receive, timeout, first).receive
    return await _receive_chunks(receive, limit, oversized)


async def _ready(message: Message) -> Message:
    return message


class _Deadline:
    """receive() within `timeout` seconds from now, in all: a read that has to wait gets a timer
    that cancels this task at the deadline, answered as 400.002.05."""

    __slots__ = ("_receive", "_timeout", "_at", "_first")

    def __init__(self, receive: Receive, timeout: float, first: Awaitable[Message]) -> None:
        self._receive = receive
        self._timeout = timeout
        self._at = asyncio.get_running_loop().time() + timeout
        self._first: Awaitable[Message] | None = first  # the first receive(), already begun

    async def receive(self) -> Message:
        waiting, self._first = self._first, None
        if waiting is None:
            waiting = self._receive()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            if task is not None:
                task.cancel()

        handle = loop.call_at(self._at, expire)
        try:
            return await waiting
        except asyncio.CancelledError:
            if not expired:
                raise  # cancelled from outside (shutdown): not ours to swallow
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+: the cancel was ours
            if uncancel is not None:
                uncancel()
            raise InvalidPayload(
                why=f"the body did not arrive within --body-timeout {self._timeout:g} s "
                "(a slow client)"
            ) from None
        finally:
            handle.cancel()


class _Resumed:
    """Awaiting a coroutine already stepped once (it yielded `blocked_on`): the task sees the
    same futures, values and exceptions as if it had awaited the coroutine from the start."""

    __slots__ = ("_coro", "_blocked_on")

    def __init__(self, coro: Any, blocked_on: Any) -> None:
        self._coro = coro
        self._blocked_on = blocked_on

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._blocked_on
        self._blocked_on = None
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task (a cancel): pass it on
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    return done.value


async def _receive_chunks(receive: Receive, limit: int, oversized: str) -> list[bytes]:
    chunks: list[bytes] = []
    size = 0
    while True:  # ASGI messages read directly: Request.stream()'s generator costs more than this
        message = await receive()
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
                await _receive_chunks(receive, drain_limit(limit) - size, why)
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


class AsgiEndpoint:
    """A Daraja handler `fn(scope, receive, send)` as a bare ASGI app for a Route: Starlette then
    skips its request_response wrapper (a Request, a second exception wrapper, a Response object)
    on every request. Routing, 404 and 405 stay Starlette's, and whatever the handler raises
    still reaches the app's exception handlers through ExceptionMiddleware."""

    def __init__(self, fn: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._fn = fn
        self.__name__ = fn.__name__  # the Route's name

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return self._fn(scope, receive, send)


async def send_json(send: Send, content: Any, status: int = 200) -> None:
    """A DarajaJSON answer sent straight to the server: the same status, headers and bytes as
    `await DarajaJSON(content, status)(scope, receive, send)`, without building a Response."""
    body = orjson.dumps(content)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-length", b"%d" % len(body)), (b"content-type", _JSON)],
    })
    await send({"type": "http.response.body", "body": body})


_JSON = b"application/json"


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
        self._plain_paths: set[str] = set()  # paths seen to need no escaping (bounded)

    def __call__(self, request: Request, status: int | None, detail: str) -> None:
        """Log a request's answer (status None: no answer was sent, the detail says why)."""
        self.add(request.scope, status, detail, self._clock.now())

    def add(self, scope: Scope, status: int | None, detail: str, at: datetime) -> None:
        """The same from an ASGI scope, at a time the handler already read."""
        path = scope["path"]
        if path not in self._plain_paths:  # a set lookup for the paths a shop calls
            if not _PLAIN_PATH.fullmatch(path):  # escaping or a leading // apply: Starlette's
                path = escape(Request(scope).url.path)
            elif len(self._plain_paths) < 256:
                self._plain_paths.add(path)
        if status == 404 and path.startswith("//"):
            detail += "; the path starts with //: does your base URL end with a slash?"
        detail = escape(detail)  # it quotes request data (a CallBackURL, say)
        method = scope["method"]
        log.info("%s %s -> %s %s", method, path, status or "-", detail)
        self.rows.append((at, method, path, status, detail))

    def clear(self) -> None:
        self.rows.clear()


class Plumbing(msgspec.Struct, frozen=True):
    """What every Daraja route needs of the kernel, handed to each family's route factory."""

    clock: Clock
    ids: IdSource
    log: RequestLog
    max_body_bytes: int
    body_timeout: float | None = None  # seconds a request body may take to arrive (None: no cap)

    def error(self, error: DarajaError) -> Response:
        """The error's envelope with a fresh requestId."""
        return envelope(error, self.ids.request_id())
