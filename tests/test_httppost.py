"""The callback client over real sockets: framing, keep-alive, and every way an answer can fail.

Every test runs with both parsers: httptools (llhttp) when installed, and h11, the fallback.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from emulator.kernel import httppost
from emulator.kernel.clock import FakeClock
from emulator.kernel.delivery import Delivery, tls_context
from emulator.kernel.httppost import (
    MAX_BODY,
    MAX_HEAD,
    MAX_PER_ORIGIN,
    ConnectFailed,
    Poster,
    PostTimeout,
    ProtocolError,
    parse_target,
)
from emulator.tls import ensure_tls
from tests.raw_receivers import RawReceiver


@pytest.fixture(autouse=True, params=["httptools", "h11"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test with each parser; new connections pick theirs up from _new_parser."""
    if request.param == "httptools":
        pytest.importorskip("httptools")
        monkeypatch.setattr(httppost, "_new_parser", httppost._llhttp_parser)
    else:
        monkeypatch.setattr(httppost, "_new_parser", httppost._h11_parser)
    return str(request.param)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes, bytes], Awaitable[bool]]


class Server:
    """A raw asyncio server; `handler` writes the answer and says whether to keep the connection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []  # (head, body)
        self.tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    def url(self, path: str = "/cb") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                if not await self.handler(reader, writer, head, body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.tasks.discard(task)
            writer.close()


def answer(raw: bytes, keep: bool = True) -> Handler:
    async def handler(reader: Any, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep

    return handler


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def poster(timeout: float = 2.0) -> Poster:
    return Poster(timeout, ssl.create_default_context())


def test_the_request_is_a_plain_http11_post() -> None:
    async def main() -> None:
        async with Server(answer(OK)) as srv:
            p = poster()
            got = await p.post(srv.url("/cb/x?order=1"), b'{"a":1}', "Content-Type: a/b\r\n")
            assert (got.status, got.body) == (200, b"ok")
            head, body = srv.requests[0]
            lines = head.decode().split("\r\n")
            assert lines[0] == "POST /cb/x?order=1 HTTP/1.1"
            assert f"Host: 127.0.0.1:{srv.port}" in lines
            assert "Content-Type: a/b" in lines and "Content-Length: 7" in lines
            assert body == b'{"a":1}'
            await p.aclose()

    run(main())


def test_keep_alive_reuses_one_connection_and_close_does_not() -> None:
    async def main() -> None:
        async with Server(answer(OK)) as srv:
            p = poster()
            for _ in range(5):
                assert (await p.post(srv.url(), b"{}")).status == 200
            assert srv.connections == 1
            await p.aclose()
        closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        async with Server(answer(closing, keep=False)) as srv:
            p = poster()
            for _ in range(3):
                assert (await p.post(srv.url(), b"{}")).status == 200
            assert srv.connections == 3
            await p.aclose()

    run(main())


def test_concurrent_posts_each_get_their_own_answer() -> None:
    async def echo(reader: Any, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        await asyncio.sleep(0.01)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        return True

    async def main() -> None:
        async with Server(echo) as srv:
            p = poster()
            bodies = [f'{{"n":{i}}}'.encode() for i in range(50)]
            answers = await asyncio.gather(*(p.post(srv.url(), b) for b in bodies))
            assert [a.body for a in answers] == bodies
            assert srv.connections <= 50
            await p.aclose()

    run(main())


def test_a_connection_the_receiver_closed_while_idle_is_not_reused() -> None:
    async def main() -> None:
        async with Server(answer(OK, keep=False)) as srv:  # closes after each answer, silently
            p = poster()
            assert (await p.post(srv.url(), b"{}")).status == 200
            await asyncio.sleep(0.05)  # the close reaches us while the connection is idle
            assert (await p.post(srv.url(), b"{}")).status == 200
            assert srv.connections == 2
            await p.aclose()

    run(main())


@pytest.mark.parametrize(
    "raw, status, body",
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\n"
         b"Trailer: t\r\n\r\n", 200, b"abcde"),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
         201, b"x"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, b""),
        (b"HTTP/1.0 500 Oops\r\ncontent-length: 4\r\n\r\nfail", 500, b"fail"),
    ],
)
def test_answer_framings(raw: bytes, status: int, body: bytes) -> None:
    async def main() -> None:
        async with Server(answer(raw)) as srv:
            p = poster()
            got = await p.post(srv.url(), b"{}")
            assert (got.status, got.body) == (status, body)
            again = await p.post(srv.url(), b"{}")  # the framing left the connection clean
            assert again.status == status
            await p.aclose()

    run(main())


def test_a_body_without_length_runs_to_the_close() -> None:
    async def main() -> None:
        async with Server(answer(b"HTTP/1.1 200 OK\r\n\r\nall of it", keep=False)) as srv:
            p = poster()
            got = await p.post(srv.url(), b"{}")
            assert (got.status, got.body) == (200, b"all of it")
            await p.aclose()

    run(main())


def test_a_body_without_length_is_read_to_the_close_even_in_pieces() -> None:
    async def pieces(reader: Any, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(b'HTTP/1.0 200 OK\r\n\r\n{"a":')
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"1}")
        return False

    async def main() -> None:
        async with Server(pieces) as srv:
            p = poster()
            assert (await p.post(srv.url(), b"{}")).body == b'{"a":1}'
            await p.aclose()

    run(main())


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n{}",  # a body where none may be
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\xc3\xa9\xc3\xa9",  # length in characters
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\n"
        b"Content-Length: 0\r\n\r\n",
    ],
)
def test_a_connection_with_doubtful_framing_is_not_reused(raw: bytes) -> None:
    async def main() -> None:
        async with Server(answer(raw)) as srv:
            p = poster()
            for _ in range(3):
                got = await p.post(srv.url(), b"{}")
                assert got.status in (200, 204)
            assert srv.connections == 3  # each answer on a fresh connection, none misread
            await p.aclose()

    run(main())


def test_idle_connections_are_bounded_over_all_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("emulator.kernel.httppost.MAX_IDLE_TOTAL", 3)

    async def main() -> None:
        servers = [Server(answer(OK)) for _ in range(6)]
        for srv in servers:
            await srv.__aenter__()
        p = poster()
        for srv in servers:
            assert (await p.post(srv.url(), b"{}")).status == 200
        assert sum(len(idle) for idle in p._idle.values()) <= 3
        assert p._idle_count <= 3
        await p.aclose()
        for srv in servers:
            await srv.__aexit__()

    run(main())


def test_a_huge_answer_is_cut_and_its_connection_dropped() -> None:
    big = b"x" * (MAX_BODY + 10)
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)

    async def main() -> None:
        async with Server(answer(raw)) as srv:
            p = poster()
            got = await p.post(srv.url(), b"{}")
            assert got.status == 200 and len(got.body) == MAX_BODY
            assert (await p.post(srv.url(), b"{}")).status == 200
            assert srv.connections == 2
            await p.aclose()

    run(main())


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "closed the connection without answering"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "closed the connection inside the headers"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "inside the body of its HTTP 200"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "illegal status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "illegal header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "illegal Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "illegal chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "illegal chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
         "longer than its declared size"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
         "conflicting Content-Length"),
        # llhttp stops at the 17th digit (illegal chunk size), h11 at its line limit (longer than)
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 70_000,
         "illegal chunk size|longer than"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"x" * 70_000, f"longer than {MAX_HEAD} bytes"),
        (b"HTTP/1.1 100 Continue\r\n\r\n", "after an interim HTTP 100 answer"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
         "switched protocols"),
    ],
)
def test_broken_answers_are_protocol_errors(raw: bytes, message: str) -> None:
    async def main() -> None:
        async with Server(answer(raw, keep=False)) as srv:
            p = poster()
            with pytest.raises(ProtocolError, match=message):
                await p.post(srv.url(), b"{}")
            await p.aclose()

    run(main())


def test_a_receiver_that_never_answers_times_out() -> None:
    async def hang(reader: asyncio.StreamReader, writer: Any, head: bytes, body: bytes) -> bool:
        await reader.read()
        return False

    async def main() -> None:
        async with Server(hang) as srv:
            p = poster(timeout=0.2)
            with pytest.raises(PostTimeout, match="no answer within 0.2 s"):
                await p.post(srv.url(), b"{}")
            await p.aclose()

    run(main())


def test_refused_and_unknown_hosts_fail_to_connect() -> None:
    async def main() -> None:
        p = poster()
        srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        srv.close()
        await srv.wait_closed()
        with pytest.raises(ConnectFailed):
            await p.post(f"http://127.0.0.1:{port}/cb", b"{}")
        with pytest.raises(ConnectFailed):
            await p.post("http://no-such-host.invalid/cb", b"{}")
        with pytest.raises(ConnectFailed, match="not an http"):
            await p.post("ftp://example.com/cb", b"{}")
        await p.aclose()

    run(main())


def test_https_is_verified(tmp_path: Path) -> None:
    """A receiver with a certificate from an unknown CA is refused; trusting the CA, it works."""
    pytest.importorskip("cryptography")
    files = ensure_tls(tmp_path, ["localhost", "127.0.0.1"])
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(files.cert, files.key)
    trusting = ssl.create_default_context(cafile=str(files.ca))

    async def main() -> None:
        srv = Server(answer(OK))
        srv.server = await asyncio.start_server(srv._serve, "127.0.0.1", 0, ssl=server_tls)
        port = srv.server.sockets[0].getsockname()[1]
        url = f"https://localhost:{port}/cb"
        public_only = Poster(2.0, tls_context())
        with pytest.raises(ConnectFailed, match="TLS handshake failed: CERTIFICATE_VERIFY_FAILED"):
            await public_only.post(url, b"{}")
        ours = Poster(2.0, trusting)
        assert (await ours.post(url, b"{}")).body == b"ok"
        assert (await ours.post(url, b"{}")).body == b"ok"
        assert srv.connections == 1  # (a refused handshake never reaches the handler)
        await public_only.aclose()
        await ours.aclose()
        await srv.__aexit__()

    run(main())


def test_targets() -> None:
    t = parse_target("https://user:pw@[::1]:8443/a/b?c=d#frag")
    assert (t.scheme, t.host, t.port, t.host_header, t.path) == (
        "https", "::1", 8443, "[::1]:8443", "/a/b?c=d"
    )
    assert parse_target("http://shop.example").path == "/"
    idn = parse_target("https://bücher.example/pfad/ü?q=ä")
    assert (idn.host, idn.host_header, idn.path) == (
        "xn--bcher-kva.example", "xn--bcher-kva.example", "/pfad/%C3%BC?q=%C3%A4"
    )
    assert parse_target("http://shop.example").port == 80
    with pytest.raises(ValueError):
        parse_target("mailto:x@example.com")


def test_without_httptools_h11_parses() -> None:
    """httptools is optional: without it the client loads and parses with h11."""
    code = (
        "import sys; sys.modules['httptools'] = None\n"
        "from emulator.kernel import httppost\n"
        "assert httppost.PARSER == 'h11' and httppost._new_parser is httppost._h11_parser\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# A pooled connection the receiver has closed: the post goes once more, on a fresh connection.


def test_idle_connections_are_kept_less_long_than_servers_keep_them() -> None:
    assert httppost.IDLE_SECONDS < 5.0  # uvicorn's and Node's default keep-alive timeout


def test_a_connection_the_receiver_closed_as_idle_does_not_lose_the_post() -> None:
    """The receiver closes connections idle for 1 s. First the client notices the close while
    idle; then it is too busy to notice (the loop blocked), so the post goes out on the closed
    connection, gets no answer, and goes once more on a fresh one."""
    receiver = RawReceiver("idle-close", delay=1.0)

    async def main() -> None:
        p = poster()
        assert (await p.post(receiver.url(), b"{}")).status == 200
        await asyncio.sleep(1.3)  # closed by the receiver, and the client sees it
        assert (await p.post(receiver.url(), b"{}")).status == 200
        assert receiver.connections == 2
        time.sleep(1.3)  # closed by the receiver while the client's loop is busy
        assert (await p.post(receiver.url(), b"{}")).status == 200
        assert receiver.connections == 3
        assert (await p.post(receiver.url(), b"{}")).status == 200  # the fresh one is reused
        assert receiver.connections == 3
        await p.aclose()

    try:
        run(main())
        assert receiver.total == 4  # the post on the closed connection never reached it
    finally:
        receiver.close()


def test_a_receiver_closing_when_a_request_arrives_on_an_idle_connection() -> None:
    receiver = RawReceiver("close-on-reuse")

    async def main() -> None:
        p = poster()
        for _ in range(3):
            assert (await p.post(receiver.url(), b"{}")).status == 200
            await asyncio.sleep(0.1)
        await p.aclose()

    try:
        run(main())
        # each post after the first: once on the idle connection (read, closed), once fresh
        assert receiver.connections == 3 and receiver.total == 5
    finally:
        receiver.close()


def test_a_fresh_connection_is_not_posted_on_twice() -> None:
    """Only a reused connection is retried, and only once: a receiver that closes every later
    connection without answering costs one post on the pooled connection and one fresh one."""
    served = 0

    async def first_only(reader: Any, writer: asyncio.StreamWriter, h: bytes, b: bytes) -> bool:
        nonlocal served
        served += 1
        if served > 1:
            return False  # read, then closed without a word
        writer.write(OK)
        return True

    async def main() -> None:
        async with Server(first_only) as srv:
            p = poster()
            assert (await p.post(srv.url(), b"{}")).status == 200
            with pytest.raises(ProtocolError, match="closed the connection without answering"):
                await p.post(srv.url(), b"{}")
            assert len(srv.requests) == 3 and srv.connections == 2
            with pytest.raises(ProtocolError, match="without answering"):
                await p.post(srv.url(), b"{}")  # fresh: nothing pooled
            assert len(srv.requests) == 4 and srv.connections == 3
            await p.aclose()

    run(main())


def test_no_second_post_once_any_byte_of_the_answer_arrived() -> None:
    served = 0

    async def then_half(reader: Any, writer: asyncio.StreamWriter, h: bytes, b: bytes) -> bool:
        nonlocal served
        served += 1
        writer.write(OK if served == 1 else b"HTTP/1.1 200 OK\r\nContent-Le")
        return served == 1

    async def main() -> None:
        async with Server(then_half) as srv:
            p = poster()
            assert (await p.post(srv.url(), b"{}")).status == 200
            with pytest.raises(ProtocolError, match="inside the headers"):
                await p.post(srv.url(), b"{}")
            assert len(srv.requests) == 2 and srv.connections == 1
            await p.aclose()

    run(main())


# One receiver that hangs delays only its own callbacks.


@pytest.mark.parametrize("max_in_flight", [256, MAX_PER_ORIGIN + 4])
def test_a_hanging_receiver_delays_only_itself(max_in_flight: int) -> None:
    """100 posts to a receiver that never answers hold at most MAX_PER_ORIGIN connections to it,
    even when the overall bound is barely larger; posts to a healthy one go straight through."""
    hanging, healthy = RawReceiver("hang"), RawReceiver("ok")
    timeout = 0.3

    async def main() -> None:
        p = Poster(timeout, ssl.create_default_context(), max_in_flight)
        stuck = [asyncio.ensure_future(p.post(hanging.url(), b"{}")) for _ in range(100)]
        await asyncio.sleep(0.05)  # all of them started: 32 sent, the rest waiting their turn
        start = time.monotonic()
        answers = await asyncio.gather(*(p.post(healthy.url(), b"{}") for _ in range(5)))
        took = time.monotonic() - start
        assert [a.status for a in answers] == [200] * 5
        assert took < 0.2, f"healthy posts took {took:.2f} s"
        results = await asyncio.wait_for(asyncio.gather(*stuck, return_exceptions=True), 10)
        assert all(isinstance(r, PostTimeout) for r in results)
        took = time.monotonic() - start
        rounds = -(-100 // MAX_PER_ORIGIN)
        assert took < rounds * timeout + 1.0  # bounded: each round costs one timeout
        await p.aclose()

    try:
        run(main())
        assert hanging.max_open <= MAX_PER_ORIGIN
        assert hanging.total == 100
    finally:
        hanging.close()
        healthy.close()


def test_callbacks_to_a_healthy_receiver_pass_260_to_a_hanging_one(parser: str) -> None:
    """The report's case through the delivery's own bounds: 260 callbacks to a receiver that
    never answers made one to a healthy receiver wait 9.6 s (a whole timeout, 10 s by default)."""
    if parser != "httptools":
        pytest.skip("the pool's bounds, not parsing: once is enough (4.5 s)")
    hanging, healthy = RawReceiver("hang"), RawReceiver("ok")
    payload = b'{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_1","ResultCode":0}}}'

    async def main() -> None:
        sender = Delivery(FakeClock(), timeout=0.5)
        stuck = [asyncio.ensure_future(sender.post(hanging.url(), payload)) for _ in range(260)]
        await asyncio.sleep(0.05)
        start = time.monotonic()
        attempt = await sender.post(healthy.url(), payload)
        assert attempt.status == 200 and attempt.error is None
        took = time.monotonic() - start
        assert took < 0.25, f"the healthy callback took {took:.2f} s"  # not a whole timeout
        attempts = await asyncio.wait_for(asyncio.gather(*stuck), 15)
        assert all(a.error and a.error.startswith("timeout") for a in attempts)
        await sender.aclose()

    try:
        run(main())
    finally:
        hanging.close()
        healthy.close()


def test_bytes_arriving_on_an_idle_connection_retire_it() -> None:
    """Bytes nobody asked for (here a second answer, late) must never be read as the next
    post's answer: the connection that got them is closed and the next post goes fresh."""

    async def twice(reader: Any, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(OK)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 500 Stale\r\nContent-Length: 0\r\n\r\n")
        return True

    async def main() -> None:
        async with Server(twice) as srv:
            p = poster()
            assert (await p.post(srv.url(), b"{}")).body == b"ok"
            await asyncio.sleep(0.15)  # the stray answer arrives while the connection is idle
            assert (await p.post(srv.url(), b"{}")).body == b"ok"
            assert srv.connections == 2
            await p.aclose()

    run(main())
