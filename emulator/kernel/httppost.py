"""A small HTTP/1.1 client that does one thing: POST a callback and read the answer.

Why not httpx: a callback through httpx cost about 1.4 ms of CPU (its request and response
models, httpcore's pool, anyio streams), three times the emulator's whole push, so under
sustained load the callbacks, not the API, capped the emulator. This client keeps idle
keep-alive connections per origin on asyncio transports and hands the answer's framing to a
well-kept parser: httptools (llhttp, the parser of uvicorn's fast stack) or, when httptools is
not installed, h11 (always installed with uvicorn; kernel/h11parser.py, imported only then).
Anything it cannot read is an error for the record, never an exception for the caller to guess
at.

Why a protocol and not asyncio's streams: a StreamReader shows no public way to tell whether
bytes arrived on a connection nobody is reading, and such bytes (a body longer than declared, a
receiver's stray answer) would be misread as the next post's answer. A protocol sees every byte
as it arrives, and sees a receiver close an idle connection at once, so neither reaches a post.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import msgspec

try:
    import httptools
except ImportError:  # an optional speed-up (the "fast" extra); h11 parses the same answers
    httptools = None

MAX_HEAD = 64 * 1024  # bytes of status line and headers accepted
MAX_BODY = 1024 * 1024  # bytes of an answer read; a longer one is cut and its connection closed
MAX_IDLE = 32  # idle keep-alive connections kept per origin
MAX_IDLE_TOTAL = 256  # and over all origins (throwaway receivers must not pile up sockets)
# An idle connection older than this is closed, not reused. Servers close idle keep-alive
# connections on their own clock (uvicorn and Node after 5 s, Apache after 5 s, gunicorn's async
# workers after 2 s), and a post written as the receiver closes is lost on the wire. Staying
# below the common 5 s avoids most of those races; the one retry in Poster covers the rest.
IDLE_SECONDS = 4.0
# Posts in flight to one origin. A receiver that hangs holds at most this many (each until the
# timeout); the others wait their turn without holding any of Poster's overall slots, so a bad
# receiver delays only its own callbacks. Equal to MAX_IDLE: every connection can go back idle.
MAX_PER_ORIGIN = 32
# Bytes on the wire for one answer before its body is cut even if it has not reached MAX_BODY
# (tiny chunks, endless chunk extensions or trailers): framing may not outweigh a capped body.
_MAX_WIRE = MAX_HEAD + 2 * MAX_BODY

_PATH_SAFE = "/?#[]@!$&'()*+,;=:%~-._"  # reserved and unreserved characters stay as they are
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] [0-9]{3}(?: [^\r\n]*)?")
_FIELD_LINE = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+:[^\r\n]*")

# the stages of one exchange: before the answer's first byte, inside a head, inside a body, done
_START, _HEAD, _BODY, _DONE = 0, 1, 2, 3


class PostError(Exception):
    """The callback got no usable answer; str() says why, for the journal."""


class ConnectFailed(PostError):
    """No connection: refused, unknown host, unreachable, TLS handshake failed."""


class PostTimeout(PostError):
    """No complete answer within the timeout."""


class ProtocolError(PostError):
    """An answer that is not HTTP/1.x, or a connection closed part-way through it."""


class _NoAnswer(ProtocolError):
    """The connection ended before any byte of the answer: on a reused connection, the receiver
    had most likely closed it as idle while the post was on its way, so the post may go again."""


class _ParseError(Exception):
    """The parser stopped: a broken answer, or one of our callbacks ending the parse on purpose."""


class _Stop(_ParseError):
    """Raised from a parser callback to stop parsing: the answer is complete or cut."""


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes  # at most MAX_BODY bytes


class Target(msgspec.Struct, frozen=True):
    """Where a URL points: the origin to connect to and the request line's parts."""

    scheme: str
    host: str  # for connecting (IPv6 without brackets)
    port: int
    host_header: str
    path: str  # path and query, as sent in the request line

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


@functools.lru_cache(maxsize=1024)  # a shop posts to one or a few callback URLs
def parse_target(url: str) -> Target:
    """The parts of an http(s) URL; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), _PATH_SAFE)
    host, netloc = parts.hostname, parts.netloc.rpartition("@")[2]
    if not host.isascii():  # an internationalised name: its ASCII (punycode) form on the wire
        ascii_host = host.encode("idna").decode("ascii")
        host, netloc = ascii_host, netloc.lower().replace(parts.hostname, ascii_host)
    return Target(parts.scheme, host, port, netloc, path)


class _Parser(Protocol):
    """What a connection needs of a response parser: httptools' HttpResponseParser's methods."""

    def feed_data(self, data: bytes) -> None: ...
    def get_status_code(self) -> int: ...
    def should_keep_alive(self) -> bool: ...


def _llhttp_parser(conn: _Connection) -> _Parser:
    return httptools.HttpResponseParser(conn)  # type: ignore[no-any-return]


def _h11_parser(conn: _Connection) -> _Parser:
    from emulator.kernel.h11parser import H11Parser  # only where httptools is missing

    return H11Parser(conn, MAX_HEAD)


# the parser each new connection gets; tests switch it to compare the two
_new_parser = _h11_parser if httptools is None else _llhttp_parser
PARSER = "h11" if httptools is None else "httptools"  # which one is in use, for the record


def _expire(waiter: asyncio.Future[Any], timeout: float) -> None:
    if not waiter.done():
        waiter.set_exception(PostTimeout(f"no answer within {timeout:g} s"))


class _Connection(asyncio.Protocol):
    """One keep-alive connection; feeds what arrives to its parser and settles one exchange."""

    __slots__ = (
        "transport", "idle_since", "_parser", "_alive", "_waiter", "_stage", "_received",
        "_head", "_status", "_interim", "_keep", "_framed", "_declares_body", "_parts", "_size",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0  # loop time it went back to the pool
        self._parser: _Parser | None = _new_parser(self)
        self._alive = True
        self._waiter: asyncio.Future[tuple[Answer, bool]] | None = None
        self._stage = _START
        self._received = 0
        self._head: list[bytes] = []
        self._status = self._interim = 0
        self._keep = self._framed = self._declares_body = False
        self._parts: list[bytes] = []
        self._size = 0

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # unasked-for bytes would be misread as the next answer
            self.abort()
            return
        self._received += len(data)
        if self._stage < _BODY:
            self._head.append(data)
        try:
            self._parser.feed_data(data)  # type: ignore[union-attr]
        except Exception as exc:  # the parser's complaint, or our callbacks stopping it
            if self._stage != _DONE:
                self._fail(ProtocolError(self._describe(str(exc))))
                return
            self._keep = False  # bytes after the answer, or a cut answer: the connection is spent
        if self._stage == _DONE:
            self._finish()
        elif self._stage < _BODY and self._received > MAX_HEAD:
            self._fail(ProtocolError(f"an answer head longer than {MAX_HEAD} bytes"))
        elif self._received > _MAX_WIRE:
            self._keep = False
            self._finish()

    def eof_received(self) -> None:
        return None  # the transport closes; connection_lost settles what is pending

    def connection_lost(self, exc: Exception | None) -> None:
        self._alive = False
        self._parser = None  # the parser holds our bound methods: no cycle left for the GC
        if self._waiter is None or self._waiter.done():
            self._waiter = None
            return
        if self._stage == _BODY and not self._framed:  # a body that runs until the close
            self._keep = False
            self._finish()
            return
        detail = f" ({exc})" if exc else ""
        error: ProtocolError
        if self._received == 0:
            error = _NoAnswer(f"the receiver closed the connection without answering{detail}")
        elif self._stage == _BODY:
            error = ProtocolError(
                "the receiver closed the connection inside the body of its "
                f"HTTP {self._status} answer{detail}"
            )
        elif self._stage == _HEAD or not self._interim:  # (h11 tells of no head until it ends)
            error = ProtocolError(f"the receiver closed the connection inside the headers{detail}")
        else:
            error = ProtocolError(
                f"the receiver closed the connection after an interim HTTP {self._interim} "
                f"answer, without a final one{detail}"
            )
        self._fail(error)

    # the parser's side (httptools' callback names; h11parser.H11Parser calls the same)

    def on_message_begin(self) -> None:
        if self._stage == _DONE:
            raise _Stop  # the start of another answer: bytes nobody asked for
        self._stage = _HEAD
        self._framed = self._declares_body = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._stage != _HEAD:
            return  # a chunked body's trailer fields
        size = len(name)
        if size == 14 and name.lower() == b"content-length":
            self._framed = True
            self._declares_body = self._declares_body or value.strip() != b"0"
        elif size == 17 and name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            self._framed = self._declares_body = True

    def on_headers_complete(self) -> None:
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:  # informational (100 Continue, 103 Early Hints): the answer follows
            self._interim = status
            if status == 101:  # what follows is another protocol, never our answer
                raise _Stop
            return
        self._status = status
        self._stage = _BODY
        # a 204 or 304 has no body whatever its headers say; one declared spoils the connection
        self._keep = parser.should_keep_alive() and not (
            self._declares_body and status in (204, 304)
        )

    def on_body(self, body: bytes) -> None:
        self._parts.append(body)
        self._size += len(body)
        if self._size > MAX_BODY:
            self._stage = _DONE
            self._keep = False
            raise _Stop

    def on_message_complete(self) -> None:
        self._stage = _DONE if self._stage == _BODY else _START  # else an informational one

    # the client's side

    @property
    def usable(self) -> bool:
        """Open, with no exchange pending and nothing unread (data_received drops such)."""
        return self._alive and self.transport is not None and not self.transport.is_closing()

    def begin(self, waiter: asyncio.Future[tuple[Answer, bool]]) -> None:
        """Start an exchange: the next answer settles `waiter` with (answer, reusable)."""
        self._waiter = waiter
        self._stage = _START
        self._received = self._size = 0
        self._head = []
        self._parts = []
        self._keep = False
        self._interim = 0

    def _finish(self) -> None:
        waiter, self._waiter = self._waiter, None
        parts = self._parts
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        if len(body) > MAX_BODY:
            body = body[:MAX_BODY]
        if waiter is not None and not waiter.done():
            waiter.set_result((Answer(self._status, body), self._keep))

    def _fail(self, error: PostError) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.abort()

    def _describe(self, reason: str) -> str:
        """The journal's words for a parser's complaint, naming the line at fault."""
        lowered = reason.lower()
        if "buffer too long" in lowered:  # h11's cap, which is MAX_HEAD
            return f"an answer line longer than {MAX_HEAD} bytes"
        if self._interim == 101 or "upgrade" in lowered:  # h11 refuses a 101 it did not ask for
            return "the receiver switched protocols (HTTP 101) instead of answering"
        if self._stage == _BODY:
            where = f"in the body of its HTTP {self._status} answer ({reason})"
            if "chunk size" in lowered or "chunk header" in lowered:
                return f"illegal chunk size {where}"
            if "after chunk data" in lowered or "chunk footer" in lowered:
                return "a chunk longer than its declared size"
            return f"a broken body {where}"
        lines = b"".join(self._head).lstrip(b"\r\n").split(b"\r\n")
        if not _STATUS_LINE.fullmatch(lines[0]):
            return f"not an HTTP answer: illegal status line {lines[0][:80]!r}"
        fields = lines[1 : lines.index(b"") if b"" in lines else len(lines)]
        if "content-length" in lowered:
            values = [
                line.partition(b":")[2].strip()
                for line in fields
                if line.partition(b":")[0].strip().lower() == b"content-length"
            ]
            if len(set(values)) > 1:
                return "conflicting Content-Length headers"
            if len(values) > 1:
                return "a repeated Content-Length header"
            return f"illegal Content-Length {values[0][:40] if values else b''!r}"
        bad = next((line for line in fields if not _FIELD_LINE.fullmatch(line)), None)
        if bad is not None:
            return f"not an HTTP answer: illegal header line {bad[:80]!r}"
        return f"not an HTTP answer: {reason}"

    def close(self) -> None:
        self._alive = False
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Close at once, unsent bytes dropped: frees the socket even from a stuck receiver
        (a TLS close would wait for the receiver's close_notify)."""
        self._alive = False
        if self.transport is not None:
            self.transport.abort()


class _Gate:
    """The posts in flight to one origin (a semaphore), and how many posts use it."""

    __slots__ = ("slots", "users")

    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        self.users = 0


class Poster:
    """POSTs with keep-alive connections per origin, a bound on posts in flight per origin and
    one over all origins (sockets: up to max_in_flight in flight plus MAX_IDLE_TOTAL idle)."""

    def __init__(
        self,
        timeout: float,
        tls: ssl.SSLContext | Callable[[], ssl.SSLContext],
        max_in_flight: int = 256,
        per_origin: int = MAX_PER_ORIGIN,
    ) -> None:
        self._timeout = timeout
        # an SSLContext, or a function making one on the first https POST: loading the CA
        # bundle is a sixth of the emulator's start-up, and most receivers are plain http
        self._tls = tls
        self._slots = asyncio.Semaphore(max_in_flight)
        self._per_origin = per_origin
        self._gates: dict[tuple[str, str, int], _Gate] = {}
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._idle_count = 0
        self._swept = 0.0  # loop time of the last sweep of idle connections

    def _tls_context(self) -> ssl.SSLContext:
        tls = self._tls
        if not isinstance(tls, ssl.SSLContext):
            tls = self._tls = tls()
        return tls

    async def post(self, url: str, body: bytes, headers: str = "") -> Answer:
        """POST `body` to `url`; `headers` are extra header lines, each ending in CRLF.

        Raises PostError (ConnectFailed, PostTimeout, ProtocolError) when no answer came.
        """
        try:
            target = parse_target(url)
        except ValueError as exc:
            raise ConnectFailed(str(exc)) from None
        request = (
            f"POST {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1", "replace") + body
        origin = target.origin
        gate = self._gates.get(origin)
        if gate is None:
            gate = self._gates[origin] = _Gate(self._per_origin)
        gate.users += 1
        try:
            async with gate.slots, self._slots:  # always in this order: no deadlock
                return await self._exchange(target, request)
        finally:
            gate.users -= 1
            if not gate.users:  # no post waits for this origin: forget it
                del self._gates[origin]

    async def _exchange(self, target: Target, request: bytes) -> Answer:
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + self._timeout
        conn = self._take_idle(target.origin, now)
        if conn is not None:
            try:
                return await self._send(conn, request, target.origin, deadline)
            except _NoAnswer:
                pass  # closed by the receiver as idle while the post was on its way: once more
        conn = await self._connect(target, deadline)
        return await self._send(conn, request, target.origin, deadline)

    async def _send(
        self, conn: _Connection, request: bytes, origin: tuple[str, str, int], deadline: float
    ) -> Answer:
        """One request and its answer on `conn`, within `deadline` (loop time).

        A timer rather than asyncio.wait_for: no task per post, which is most of the saving.
        No drain: one small request per connection at a time cannot pile up in its buffer.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[Answer, bool]] = loop.create_future()
        conn.begin(waiter)
        assert conn.transport is not None
        conn.transport.write(request)
        timer = loop.call_at(deadline, _expire, waiter, self._timeout)
        try:
            answer, reusable = await waiter
        except BaseException:  # timed out or cancelled included: the connection is spent
            conn.abort()
            raise
        finally:
            timer.cancel()
        if reusable and conn.usable:
            self._give_back(origin, conn, loop.time())
        else:
            conn.close()
        return answer

    def _take_idle(self, origin: tuple[str, str, int], now: float) -> _Connection | None:
        idle = self._idle.get(origin)
        found = None
        while idle and found is None:
            conn = idle.pop()  # the most recently used is the least likely to have timed out
            self._idle_count -= 1
            if conn.usable and now - conn.idle_since < IDLE_SECONDS:
                found = conn
            else:
                conn.close()
        if idle is not None and not idle:
            del self._idle[origin]
        return found

    def _give_back(self, origin: tuple[str, str, int], conn: _Connection, now: float) -> None:
        if self._idle_count >= MAX_IDLE_TOTAL or now - self._swept > IDLE_SECONDS:
            self._sweep(now)
        idle = self._idle.get(origin)
        if self._idle_count >= MAX_IDLE_TOTAL or (idle is not None and len(idle) >= MAX_IDLE):
            conn.close()
            return
        conn.idle_since = now
        self._idle.setdefault(origin, deque()).append(conn)
        self._idle_count += 1

    def _sweep(self, now: float) -> None:
        """Close idle connections that are dead or old; drop origins left with none."""
        self._swept = now
        for origin, idle in list(self._idle.items()):
            keep: deque[_Connection] = deque()
            for conn in idle:
                if conn.usable and now - conn.idle_since < IDLE_SECONDS:
                    keep.append(conn)
                else:
                    conn.close()
                    self._idle_count -= 1
            if keep:
                self._idle[origin] = keep
            else:
                del self._idle[origin]

    async def _connect(self, target: Target, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        https = target.scheme == "https"
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    _Connection,
                    target.host,
                    target.port,
                    ssl=self._tls_context() if https else None,
                    server_hostname=target.host if https else None,
                ),
                max(deadline - loop.time(), 0.0),
            )
        except asyncio.TimeoutError as exc:
            if getattr(exc, "errno", None) is None:  # wait_for's, not the system's ETIMEDOUT
                raise PostTimeout(f"no answer within {self._timeout:g} s") from None
            raise ConnectFailed(exc.strerror or str(exc)) from None
        except ssl.SSLError as exc:
            raise ConnectFailed(f"TLS handshake failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise ConnectFailed(exc.strerror or str(exc) or type(exc).__name__) from None
        except (UnicodeError, ValueError) as exc:  # a host name no resolver accepts
            raise ConnectFailed(f"invalid host name {target.host!r}: {exc}") from None
        return conn

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        self._idle_count = 0
