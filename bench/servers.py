"""The processes the benchmark starts, each on a uvicorn stack it chooses.

    python bench/servers.py emulator LOOP HTTP EMULATOR-ARGS...   # python -m emulator, forced stack
    python bench/servers.py ceiling LOOP HTTP PORT                # bare Starlette, same JSON
    python bench/servers.py receiver PORT                         # fast callback receiver

LOOP is asyncio or uvloop, HTTP is h11 or httptools. The emulator runs exactly as
`python -m emulator` does; only its event loop and the HTTP parser under its slow-client guard
(emulator/kernel/slowclients.py, which wraps whichever parser uvicorn would pick) are fixed, so
both stacks can be measured in one run whatever is installed.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
import time
from typing import Any


def _force_stack(loop: str, http: str) -> None:
    import uvicorn

    from emulator.kernel import slowclients

    if http == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol as protocol
    else:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as protocol
    # the guard subclasses uvicorn's AutoHTTPProtocol when the emulator builds it: give it the
    # chosen parser instead, so the emulator keeps its own per-connection costs
    slowclients.AutoHTTPProtocol = protocol  # type: ignore[misc]
    real_run = uvicorn.run

    def run(app: Any, **kwargs: Any) -> None:
        kwargs["loop"] = loop
        if not isinstance(kwargs.get("http"), type):  # no guard given: the parser by name
            kwargs["http"] = http
        real_run(app, **kwargs)

    uvicorn.run = run  # type: ignore[assignment]


def emulator(loop: str, http: str, args: list[str]) -> None:
    _force_stack(loop, http)
    sys.argv = ["emulator", *args]
    runpy.run_module("emulator", run_name="__main__", alter_sys=True)


# The same bodies the emulator answers, built once: the framework's ceiling does nothing else.
PUSH_ANSWER = {
    "MerchantRequestID": "6e86-45dd-91ac-fd5d4178ab523005761",
    "CheckoutRequestID": "ws_CO_26112026131800123708374149",
    "ResponseCode": "0",
    "ResponseDescription": "Success. Request accepted for processing",
    "CustomerMessage": "Success. Request accepted for processing",
}
QUERY_ANSWER = {
    "ResponseCode": "0",
    "ResponseDescription": "The service request has been accepted successsfully",
    "MerchantRequestID": "6e86-45dd-91ac-fd5d4178ab523005761",
    "CheckoutRequestID": "ws_CO_26112026131800123708374149",
    "ResultCode": "0",
    "ResultDesc": "The service request is processed successfully.",
}
OAUTH_ANSWER = {"access_token": "c9SQxWWhmdVRlyh0zh8gZDTkubVF", "expires_in": "3599"}


def ceiling_app() -> Any:
    """Bare Starlette: read the body, answer the emulator's JSON for the path. Nothing else."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def push(request: Request) -> Response:
        await request.body()
        return JSONResponse(PUSH_ANSWER)

    async def query(request: Request) -> Response:
        await request.body()
        return JSONResponse(QUERY_ANSWER)

    async def oauth(request: Request) -> Response:
        return JSONResponse(OAUTH_ANSWER)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/mpesa/stkpush/v1/processrequest", push, methods=["POST"]),
            Route("/mpesa/stkpushquery/v1/query", query, methods=["POST"]),
            Route("/oauth/v1/generate", oauth, methods=["GET"]),
            Route("/_emulator/health", health, methods=["GET"]),
        ]
    )


def ceiling(loop: str, http: str, port: int) -> None:
    import uvicorn

    # the emulator's own call in emulator/cli.py serve() (less its slow-client guard and
    # limits), at the benchmark's log level
    uvicorn.run(
        ceiling_app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        log_config=None,
        interface="asgi3",
        lifespan="on",
        ws="none",
        loop=loop,
        http=http,
    )


class _Receiver(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for callbacks: records (CheckoutRequestID, time).

    Times are time.monotonic(), the clock the emulator's scheduler (asyncio loop.time()) uses;
    on Linux it is one clock for every process. Control paths: GET /_stats, GET /_dump (every
    record), POST /_reset.
    """

    records: list[tuple[str, float]] = []
    unparsed = 0
    ANSWER = b'{"ResultCode":0,"ResultDesc":"Accepted"}'

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path = head.split(" ", 2)[:2]
            self._reply(self._handle(method, path, body))

    def _handle(self, method: str, path: str, body: bytes) -> bytes:
        cls = _Receiver
        if path == "/_stats":
            ids = {r[0] for r in cls.records}
            return json.dumps(
                {"received": len(cls.records), "unique": len(ids), "unparsed": cls.unparsed}
            ).encode()
        if path == "/_dump":
            return json.dumps(cls.records).encode()
        if path == "/_reset":
            cls.records, cls.unparsed = [], 0
            return b"{}"
        now = time.monotonic()
        start = body.find(b'"CheckoutRequestID":"')
        if start < 0:
            cls.unparsed += 1
        else:
            start += len(b'"CheckoutRequestID":"')
            cls.records.append((body[start : body.find(b'"', start)].decode(), now))
        return cls.ANSWER

    def _reply(self, body: bytes) -> None:
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        )


def receiver(port: int) -> None:
    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Receiver, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def main(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "emulator":
        emulator(rest[0], rest[1], rest[2:])
    elif kind == "ceiling":
        ceiling(rest[0], rest[1], int(rest[2]))
    elif kind == "receiver":
        receiver(int(rest[0]))
    else:
        raise SystemExit(f"unknown process kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
