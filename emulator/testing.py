"""EmulatorServer: a real emulator on a free port in a background thread, for any test framework.

with EmulatorServer(Settings(time_scale=0)) as server:
    httpx.get(server.url + "/_emulator/health")
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from emulator.app import create_app
from emulator.config import Settings
from emulator.kernel.slowclients import server_limits
from emulator.tls import TlsFiles, ensure_tls, server_names


def _bind(host: str) -> socket.socket:
    """A port-0 listening socket. It names IPPROTO_TCP explicitly: asyncio only disables Nagle
    on accepted sockets whose proto is TCP, and without that every keep-alive answer waits
    ~40 ms for a delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class EmulatorServer:
    """Binds port 0 before starting, so `.url` is known without races."""

    def __init__(self, settings: Settings | None = None, *, host: str = "127.0.0.1") -> None:
        self.settings = settings or Settings(time_scale=0)
        self.app = create_app(self.settings)
        self.tls: TlsFiles | None = None  # with Settings(tls=True): the TlsFiles; trust self.tls.ca
        ssl: dict[str, str] = {}
        if self.settings.tls:
            self.tls = ensure_tls(self.settings.tls_dir, server_names(host))
            ssl = {"ssl_certfile": str(self.tls.cert), "ssl_keyfile": str(self.tls.key)}
        config = uvicorn.Config(
            self.app, host=host, port=0, log_level="warning", access_log=False, lifespan="on",
            log_config=None, **server_limits(self.settings.body_timeout),
            **ssl,  # type: ignore[arg-type]
        )
        self._socket = _bind(host)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def emulator(self):  # noqa: ANN201 - the in-process Emulator, for white-box tests
        return self.app.state.emulator

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name=f"daraja-emulator:{self.port}",
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
