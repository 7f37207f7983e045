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
import re
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MAX_HEAD = 64 * 1024  # bytes of status line and headers accepted
MAX_BODY = 1024 * 1024  # bytes of an answer read; a longer one is cut and its connection closed
MAX_IDLE = 32  # idle keep-alive connections kept per origin
MAX_IDLE_TOTAL = 256  # and over all origins (throwaway receivers must not pile up sockets)
IDLE_SECONDS = 30.0  # an idle connection older than this is closed, not reused


_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_PATH_SAFE = "/?#[]@!$&'()*+,;=:%~-._"  # reserved and unreserved characters stay as they are


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
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), _PATH_SAFE)
    host, netloc = parts.hostname, parts.netloc.rpartition("@")[2]
    if not host.isascii():  # an internationalised name: its ASCII (punycode) form on the wire
        ascii_host = host.encode("idna").decode("ascii")
        host, netloc = ascii_host, netloc.lower().replace(parts.hostname, ascii_host)
    return Target(parts.scheme, host, port, netloc, path)


class _Connection:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = 0.0  # loop time it went back to the pool

    @property
    def usable(self) -> bool:
        """Open at both ends, with nothing unread: a receiver closes idle keep-alive connections,
        and bytes beyond a declared length (a Content-Length counting characters, a 204 with a
        body) would be misread as the next answer."""
        buffered = len(getattr(self.reader, "_buffer", b""))  # StreamReader has no public peek
        return not self.writer.is_closing() and not self.reader.at_eof() and not buffered

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
        self._idle_count = 0
        self._swept = 0.0  # loop time of the last sweep of idle connections

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
        found = None
        while idle and found is None:
            conn = idle.pop()  # the most recently used is the least likely to have timed out
            self._idle_count -= 1
            if conn.usable:
                found = conn
            else:
                conn.close()
        if idle is not None and not idle:
            del self._idle[origin]
        return found

    def _give_back(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        now = asyncio.get_running_loop().time()
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
        except (UnicodeError, ValueError) as exc:  # a host name no resolver accepts
            raise ConnectFailed(f"invalid host name {target.host!r}: {exc}") from None
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        self._idle_count = 0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One answer (informational 1xx ones skipped) and whether the connection may be reused."""
    try:
        return await _read_framed(reader)
    except asyncio.LimitOverrunError:
        raise ProtocolError(f"an answer line longer than {MAX_HEAD} bytes") from None


async def _read_framed(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            where = "inside the headers" if exc.partial else "without answering"
            raise ProtocolError(f"the receiver closed the connection {where}") from None
        status, version, fields = _parse_head(head)
        if not 100 <= status < 200:
            break
    keep = version == b"HTTP/1.1" and b"close" not in fields.get(b"connection", b"").lower()
    chunked = b"chunked" in fields.get(b"transfer-encoding", b"").lower()
    if status in (204, 304):  # no body, whatever the headers say; one sent spoils the connection
        declared = fields.get(b"content-length", b"0") not in (b"0", b"") or chunked
        return Answer(status, b""), keep and not declared
    try:
        if chunked:
            body, complete = await _read_chunked(reader)
        elif b"content-length" in fields:
            length = _content_length(fields[b"content-length"])
            body = await reader.readexactly(min(length, MAX_BODY))
            complete = length <= MAX_BODY
        else:  # no framing: the body runs until the receiver closes the connection
            body, complete, keep = await _read_to_close(reader), True, False
    except asyncio.IncompleteReadError:
        raise ProtocolError(
            f"the receiver closed the connection inside the body of its HTTP {status} answer"
        ) from None
    return Answer(status, body), keep and complete


async def _read_to_close(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < MAX_BODY:
        part = await reader.read(MAX_BODY - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


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
        name, value = name.lower(), value.strip()
        if name in fields:  # a repeated field is one comma-separated list (RFC 9110 5.3)
            if name == b"content-length" and value != fields[name]:
                raise ProtocolError("conflicting Content-Length headers")
            value = fields[name] if name == b"content-length" else fields[name] + b", " + value
        fields[name] = value
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
        if not _HEX.fullmatch(digits):
            raise ProtocolError(f"illegal chunk size {digits[:20]!r}")
        chunk = int(digits, 16)
        if chunk == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, if any
                pass
            return b"".join(parts), True
        if size + chunk > MAX_BODY:
            return b"".join(parts), False
        parts.append(await reader.readexactly(chunk))
        size += chunk
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("a chunk longer than its declared size")
