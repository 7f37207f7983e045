"""h11 behind httptools' response-parser interface: the callback client's parser where httptools
is not installed (kernel/httppost.py imports this module on the first connection that needs it,
so a server on the default stack never imports h11: about 17 ms of start-up)."""

from __future__ import annotations

from typing import Protocol

import h11


class Callbacks(Protocol):
    """What the parser calls on its connection: httptools' callback names."""

    def on_message_begin(self) -> None: ...
    def on_header(self, name: bytes, value: bytes) -> None: ...
    def on_headers_complete(self) -> None: ...
    def on_body(self, body: bytes) -> None: ...
    def on_message_complete(self) -> None: ...


class ParseError(Exception):
    """h11 refused the answer; str() is h11's reason, which the connection puts in words."""


class H11Parser:
    """h11 behind httptools' interface, calling the same callbacks on the connection.

    h11 is a state machine for both directions, so it is told that a POST went out before each
    answer; the request bytes on the wire are still the connection's own.
    """

    __slots__ = ("_h11", "_conn", "_status", "_keep")

    def __init__(self, conn: Callbacks, max_head: int) -> None:
        self._conn = conn
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head)
        self._status = 0
        self._keep = False
        self._expect_answer()

    def _expect_answer(self) -> None:
        self._h11.send(_REQUEST)
        self._h11.send(h11.EndOfMessage())

    def get_status_code(self) -> int:
        return self._status

    def should_keep_alive(self) -> bool:
        return self._keep

    def feed_data(self, data: bytes) -> None:
        parser, conn = self._h11, self._conn
        parser.receive_data(data)
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as exc:
                raise ParseError(str(exc)) from None
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, (h11.Response, h11.InformationalResponse)):
                conn.on_message_begin()
                self._status = event.status_code
                self._keep = event.http_version == b"1.1"
                for name, value in event.headers:
                    if name == b"connection" and b"close" in value.lower():
                        self._keep = False
                    conn.on_header(name, value)
                conn.on_headers_complete()
                if isinstance(event, h11.InformationalResponse):
                    conn.on_message_complete()
            elif isinstance(event, h11.Data):
                conn.on_body(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                conn.on_message_complete()
                if parser.their_state is not h11.DONE:  # must close: not reused
                    return
                leftover = parser.trailing_data[0]
                parser.start_next_cycle()
                self._expect_answer()
                if leftover:  # bytes after the answer
                    conn.on_message_begin()  # which ends the parse, as with llhttp
            else:  # ConnectionClosed: never fed (an EOF is the connection's to handle)
                return


_REQUEST = h11.Request(
    method="POST", target="/", headers=[("Host", "callback"), ("Content-Length", "0")]
)
