"""Callback receivers on raw asyncio sockets: one fast enough for bursts, and broken ones.

Each receiver is an HTTP/1.1 listener on 127.0.0.1 running its own event loop in a daemon
thread. It reads every request completely (so it knows the CheckoutRequestID), then behaves as
its `mode` says:

    ok                  200 with a small JSON body, keep-alive (the fast, healthy receiver)
    slow                the same answer after `delay` seconds
    headers-then-close  a status line and headers promising a body, then the connection closes
    garbage             bytes that are not HTTP at all, then the connection closes
    hang                no answer ever; the connection stays open until the client gives up
    idle-close          like ok, but closes a keep-alive connection idle for `delay` seconds
                        (as uvicorn does after 5 s), so a client may post on a closed one
    close-on-reuse      answers a connection's first request; a later one on the same connection
                        (after it was idle) is read, then the connection closes without answer
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from typing import Any

MODES = ("ok", "slow", "headers-then-close", "garbage", "hang", "idle-close", "close-on-reuse")
OK_BODY = b'{"ResultCode":0,"ResultDesc":"Accepted"}'
OK_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(OK_BODY)).encode() + b"\r\n\r\n" + OK_BODY
)
HEADERS_ONLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 512\r\n\r\n"
GARBAGE = b"\x00\x9f\xffSSH-2.0-not-http \xde\xad\xbe\xef\r\n\r\n"
MAX_HEAD = 64 * 1024


def _checkout_id(body: bytes) -> str:
    try:
        return str(json.loads(body)["Body"]["stkCallback"]["CheckoutRequestID"])
    except (ValueError, KeyError, TypeError):
        return "?"


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class RawReceiver:
    """Records (monotonic arrival time, CheckoutRequestID) of every callback it reads, and how
    many connections it accepted and had open at most at once."""

    def __init__(self, mode: str = "ok", delay: float = 0.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode, self.delay = mode, delay
        self.counts: Counter[str] = Counter()
        self.arrivals: list[tuple[float, str]] = []
        self.connections = 0  # accepted so far
        self.open = 0  # open now
        self.max_open = 0  # open at most at once
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"raw-receiver-{mode}")
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def url(self, path: str = "/cb") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def total(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def snapshot(self) -> tuple[Counter[str], list[tuple[float, str]]]:
        with self._lock:
            return Counter(self.counts), list(self.arrivals)

    def wait_total(self, count: int, timeout: float) -> int:
        """Poll (bounded) until `count` callbacks have arrived; returns how many did."""
        deadline = time.monotonic() + timeout
        while self.total < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.total

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self.connections += 1
            self.open += 1
            self.max_open = max(self.max_open, self.open)
        served = 0
        try:
            while True:
                if self.mode == "idle-close" and served:
                    try:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.delay)
                    except asyncio.TimeoutError:
                        return  # idle too long: closed, as a server's keep-alive timeout does
                else:
                    head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEAD:
                    return
                body = await reader.readexactly(_content_length(head))
                with self._lock:
                    checkout_id = _checkout_id(body)
                    self.counts[checkout_id] += 1
                    self.arrivals.append((time.monotonic(), checkout_id))
                served += 1
                if self.mode == "close-on-reuse" and served > 1:
                    return
                if not await self._answer(reader, writer):
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                ValueError, asyncio.CancelledError):  # cancelled: close() is stopping it
            return
        finally:
            self._tasks.discard(task)
            with self._lock:
                self.open -= 1
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must end."""
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode in ("ok", "slow", "idle-close", "close-on-reuse"):
            writer.write(OK_ANSWER)
            await writer.drain()
            return True
        if self.mode == "headers-then-close":
            writer.write(HEADERS_ONLY)
        elif self.mode == "garbage":
            writer.write(GARBAGE)
        else:  # hang: wait for the client to give up and close (bounded by its timeout)
            await reader.read()
            return False
        await writer.drain()
        return False

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        try:
            self._call(stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()
