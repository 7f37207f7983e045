"""Posting bytes to a URL through httppost: the kernel's only HTTP-client room.

It never raises: every outcome is an `Attempt`, a neutral record any family keeps as it likes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

from emulator.kernel.clock import Clock
from emulator.kernel.hostmap import map_host, unreachable_hint
from emulator.kernel.logsafe import escape

if TYPE_CHECKING:  # the client itself is imported by the first post (1-1.5 ms of start-up)
    from emulator.kernel.httppost import Poster

log = logging.getLogger("emulator.callbacks")
MAX_RECORDED_BODY = 2048  # characters of a receiver's answer kept in the journal
HEADERS = "Content-Type: application/json\r\nUser-Agent: Daraja-Emulator\r\n"
MAX_IN_FLIGHT = 256  # posts at once; later ones wait their turn


class Attempt(msgspec.Struct, frozen=True):
    """One POST, as it went."""

    at: datetime
    url: str  # where it went (after --callback-host-map)
    status: int | None  # HTTP status, None when no answer came
    error: str | None  # why no answer came (refused, timeout, ...)
    latency_ms: float
    response_body: str  # the receiver's answer, cut to MAX_RECORDED_BODY characters
    sent: str  # the exact text posted


@functools.cache  # one per process, made on the first https callback (it reads the CA bundle)
def tls_context() -> ssl.SSLContext:
    """Verifying TLS against the public CAs (certifi), as httpx and most shops' clients do."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _host(url: str) -> str | None:
    """The URL's host, lower case, without brackets or a trailing dot; None when unparsable."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


class Delivery:
    """One shared client for all posts, so keep-alive connections are reused."""

    def __init__(
        self,
        clock: Clock,
        timeout: float = 10.0,
        host_map: Mapping[str, str] | None = None,
        allow: frozenset[str] | None = None,
    ) -> None:
        self._clock = clock
        self._host_map = host_map or {}  # URL host -> the host to post to instead
        self._allow = allow  # --callback-allow: the only hosts posted to (None: any)
        self._timeout = timeout
        self._poster: Poster | None = None  # made by the first post
        self._held_until = 0.0  # monotonic time before which posts wait (see hold)

    def hold(self, seconds: float) -> None:
        """Posts begun in the next `seconds` wait until then. After a restart, what fell due
        while the emulator was down would otherwise be posted before its own server listens
        (uvicorn binds the port after the app's start-up), and a callback to the emulator's
        own inbox would be refused; Daraja never retries."""
        self._held_until = time.monotonic() + seconds  # real time: it waits for a socket

    async def post(self, url: str, body: bytes, label: str = "") -> Attempt:
        """POST the JSON body once and record how it went; failures become the record's error.
        `label` names what was posted in the log line (a CheckoutRequestID, say)."""
        held = self._held_until - time.monotonic()
        if held > 0:
            await asyncio.sleep(held)
        original, url = url, map_host(url, self._host_map)
        at = self._clock.now()
        refused = self._refusal(original, url)
        if refused is not None:
            log.warning("callback %s -> %s not posted: %s", label or "?", url, refused)
            return Attempt(at, url, None, refused, 0.0, "", body.decode())
        from emulator.kernel.httppost import ConnectFailed, PostError, PostTimeout

        poster = self._poster or self._client()
        start = time.perf_counter()
        status: int | None = None
        error: str | None = None
        answer_text = ""
        try:
            answer = await poster.post(url, body, HEADERS)
            status = answer.status
            answer_text = answer.body[: MAX_RECORDED_BODY * 4].decode("utf-8", "replace")
            answer_text = answer_text[:MAX_RECORDED_BODY]
        except PostTimeout as exc:
            error = f"timeout: the receiver did not answer in time ({exc})"
        except ConnectFailed as exc:
            error = f"connection failed: {exc} ({unreachable_hint(url)})"
        except PostError as exc:
            error = f"protocol error: {exc}"
        except Exception as exc:  # a receiver must never crash the emulator
            error = f"{type(exc).__name__}: {exc}"
        latency = (time.perf_counter() - start) * 1000
        log.info(  # the URL and the error text come from the push's CallBackURL: escaped
            "callback %s -> %s %s (%.0f ms)",
            escape(label or "?"),
            escape(url),
            status if status is not None else escape(str(error)),
            latency,
        )
        return Attempt(at, url, status, error, round(latency, 1), answer_text, body.decode())

    def _refusal(self, original: str, url: str) -> str | None:
        """Why a URL may not be posted to under --callback-allow, or None. Its host as given
        or as mapped by --callback-host-map (the operator's own choice) must be listed."""
        if self._allow is None or "*" in self._allow:
            return None
        hosts = {_host(original), _host(url)}
        if hosts & self._allow:
            return None
        shown = _host(original) or "?"
        return (f"not posted: callback host {shown} is not in --callback-allow "
                f"({', '.join(sorted(self._allow))})")

    def _client(self) -> Poster:
        from emulator.kernel.httppost import Poster

        self._poster = Poster(self._timeout, tls_context, MAX_IN_FLIGHT)
        return self._poster

    async def aclose(self) -> None:
        if self._poster is not None:
            await self._poster.aclose()
