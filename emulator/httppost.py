"""A small HTTP/1.1 client that does one thing: POST a callback and read the answer.

Why not httpx: a callback through httpx cost about 1.4 ms of CPU (its request and response
models, httpcore's pool, anyio streams), three times the emulator's whole push, so under
sustained load the callbacks, not the API, capped the emulator. This client keeps idle
keep-alive connections per origin on asyncio streams and parses answers directly: status line,
headers, then a Content-Length, chunked or read-to-close body. Anything it cannot read is an
error for the record, never an exception for the caller to guess at.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # bytes of status line and headers accepted
MAX_BODY = 1024 * 1024  # bytes of an answer read; a longer one is cut and its connection closed
MAX_IDLE = 32  # idle keep-alive connections kept per origin


class PostError(Exception):
    """The callback got no usable answer; str() says why, for the journal."""


class ConnectFailed(PostError):
    """No connection: refused, unknown host, unreachable, TLS handshake failed."""


class PostTimeout(PostError):
    """No complete answer within the timeout."""


class ProtocolError(PostError):
    """An answer that is not HTTP/1.x, or a connection closed part-way through it."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most MAX_BODY bytes


@dataclass(frozen=True)
class Target:
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
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, parts.netloc.rpartition("@")[2], path)


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @property
    def usable(self) -> bool:
        """Still open at both ends (a receiver closes idle keep-alive connections)."""
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class Poster:
    """POSTs with keep-alive connections per origin and a bound on posts in flight."""

    def __init__(
        self, timeout: float, tls: ssl.SSLContext, max_in_flight: int = 256
    ) -> None:
        self._timeout = timeout
        self._tls = tls
        self._slots = asyncio.Semaphore(max_in_flight)
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}

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
        async with self._slots:
            try:
                return await asyncio.wait_for(self._exchange(target, request), self._timeout)
            except asyncio.TimeoutError:
                raise PostTimeout(f"no answer within {self._timeout:g} s") from None

    async def _exchange(self, target: Target, request: bytes) -> Answer:
        conn = self._take_idle(target.origin) or await self._connect(target)
        try:
            conn.writer.write(request)
            await conn.writer.drain()
            answer, reusable = await _read_answer(conn.reader)
        except BaseException as exc:  # cancelled (timeout) included: the connection is spent
            conn.close()
            if isinstance(exc, (ConnectionError, OSError)):
                raise ProtocolError(f"connection lost: {exc}") from None
            raise
        if reusable and conn.usable:
            self._give_back(target.origin, conn)
        else:
            conn.close()
        return answer

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()  # the most recently used is the least likely to have timed out
            if conn.usable:
                return conn
            conn.close()
        return None

    def _give_back(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, deque())
        if len(idle) >= MAX_IDLE:
            idle.popleft().close()
        idle.append(conn)

    async def _connect(self, target: Target) -> _Connection:
        https = target.scheme == "https"
        try:
            reader, writer = await asyncio.open_connection(
                target.host,
                target.port,
                ssl=self._tls if https else None,
                server_hostname=target.host if https else None,
                limit=MAX_HEAD,
            )
        except ssl.SSLError as exc:
            raise ConnectFailed(f"TLS handshake failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise ConnectFailed(exc.strerror or str(exc) or type(exc).__name__) from None
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One answer (informational 1xx ones skipped) and whether the connection may be reused."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            where = "inside the headers" if exc.partial else "without answering"
            raise ProtocolError(f"the receiver closed the connection {where}") from None
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"answer headers longer than {MAX_HEAD} bytes") from None
        status, version, fields = _parse_head(head)
        if not 100 <= status < 200:
            break
    keep = version == b"HTTP/1.1" and b"close" not in fields.get(b"connection", b"").lower()
    if status in (204, 304):
        return Answer(status, b""), keep
    try:
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            body, complete = await _read_chunked(reader)
        elif b"content-length" in fields:
            length = _content_length(fields[b"content-length"])
            body = await reader.readexactly(min(length, MAX_BODY))
            complete = length <= MAX_BODY
        else:  # no framing: the body runs until the receiver closes the connection
            body, complete, keep = await reader.read(MAX_BODY), True, False
    except asyncio.IncompleteReadError:
        raise ProtocolError(
            f"the receiver closed the connection inside the body of its HTTP {status} answer"
        ) from None
    return Answer(status, body), keep and complete


def _parse_head(head: bytes) -> tuple[int, bytes, dict[bytes, bytes]]:
    lines = head[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ProtocolError(f"not an HTTP answer: illegal status line {lines[0][:80]!r}")
    fields: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"not an HTTP answer: illegal header line {line[:80]!r}")
        fields[name.lower()] = value.strip()
    return int(code), version, fields


def _content_length(value: bytes) -> int:
    if not value.isdigit():
        raise ProtocolError(f"illegal Content-Length {value[:40]!r}")
    return int(value)


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """A chunked body, up to MAX_BODY bytes; (body, whether it was read to its end)."""
    parts: list[bytes] = []
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        digits = line.split(b";", 1)[0].strip()
        try:
            chunk = int(digits, 16)
        except ValueError:
            raise ProtocolError(f"illegal chunk size {digits[:20]!r}") from None
        if chunk == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, if any
                pass
            return b"".join(parts), True
        if size + chunk > MAX_BODY:
            return b"".join(parts), False
        parts.append(await reader.readexactly(chunk))
        size += chunk
        await reader.readexactly(2)
