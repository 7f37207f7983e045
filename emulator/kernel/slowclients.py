"""A deadline on each request's arrival, which uvicorn does not have.

uvicorn times out idle keep-alive connections only after a response, and any byte received
cancels even that: a fresh connection that sends nothing, or a request head trickled a byte at a
time, stays open for ever. `guarded_protocol` wraps uvicorn's own HTTP protocol (h11 or
httptools, whichever it would pick) with one timer per connection: a new request's head must be
complete within `timeout` seconds of the connection opening (or of the previous answer), and its
body within `timeout` more; else the connection is closed. Daraja endpoints answer a slow body
themselves first (kernel.web.read_json, same timeout), so this only catches what they cannot.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

log = logging.getLogger("emulator.http")
GRACE = 1.0  # seconds past the body deadline, so read_json's 400 goes out before a close


def guarded_protocol(timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class, closing connections whose request is slower than
    `timeout` seconds to arrive (for uvicorn.Config(http=...))."""
    base: Any = AutoHTTPProtocol

    class Guarded(base):  # type: ignore[misc, valid-type]
        _guard: asyncio.TimerHandle | None = None
        _guard_at = 0.0  # loop time the timer is set for
        _deadline = 0.0  # loop time the current wait ends: the timer may be set earlier
        _guarded_cycle: object = None  # the request cycle current when the deadline was set
        _body_wait = False  # the deadline waits for a body, not a head

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(timeout, body=False)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm(timeout, body=False)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._guard is not None:
                self._guard.cancel()
                self._guard = None
            super().connection_lost(exc)

        def _arm(self, seconds: float, *, body: bool) -> None:
            """Move the deadline; the timer is only replaced when it would fire too late.
            Answers on a keep-alive connection come far faster than `timeout`, so most only
            move `_deadline`: a timer per answer (cancel, call_later) cost more than the check
            the timer makes when it fires."""
            self._deadline = deadline = self.loop.time() + seconds
            self._guarded_cycle = getattr(self, "cycle", None)
            self._body_wait = body
            if self._guard is None or deadline < self._guard_at:
                if self._guard is not None:
                    self._guard.cancel()
                self._guard_at = deadline
                self._guard = self.loop.call_at(deadline, self._fire)

        def _fire(self) -> None:
            self._guard = None
            if self._deadline - self.loop.time() > 0.01:  # moved since it was set: wait the rest
                self._guard_at = self._deadline
                self._guard = self.loop.call_at(self._deadline, self._fire)
                return
            self._expire()

        def _expire(self) -> None:
            self._guard = None
            transport = self.transport
            if transport is None or transport.is_closing():
                return
            cycle = getattr(self, "cycle", None)
            if cycle is None or cycle.response_complete:
                if cycle is self._guarded_cycle or cycle is None:  # no new request began
                    self._close("no complete request head")
                return
            if not getattr(cycle, "more_body", False):
                return  # the request arrived: the answer may take its time (a slow fault)
            if self._body_wait and cycle is self._guarded_cycle:
                self._close("request body still arriving")
            else:  # a head arrived; its body gets the same time, plus a grace for read_json
                self._arm(timeout + GRACE, body=True)

        def _close(self, what: str) -> None:
            peer = getattr(self, "client", None)
            log.info("closed a slow connection from %s: %s within --body-timeout %g s",
                     f"{peer[0]}:{peer[1]}" if peer else "?", what, timeout)
            self.transport.close()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded


KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open after an answer
MAX_HEAD = 16 * 1024  # bytes of request line and headers (h11's buffer for one event)
MAX_CONCURRENCY = 1000  # connections and tasks at once; more get uvicorn's 503
SHUTDOWN_GRACE = 5  # seconds open requests (the dashboard's event stream) get at shutdown


def server_limits(body_timeout: float) -> dict[str, Any]:
    """uvicorn.run / uvicorn.Config keyword arguments that bound what slow or many clients can
    hold: the serve command and EmulatorServer use the same ones."""
    return {
        "http": guarded_protocol(body_timeout),
        "timeout_keep_alive": KEEP_ALIVE,
        "h11_max_incomplete_event_size": MAX_HEAD,
        "limit_concurrency": MAX_CONCURRENCY,
        "timeout_graceful_shutdown": SHUTDOWN_GRACE,
    }
