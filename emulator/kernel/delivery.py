"""Posting result callbacks through httppost. It never raises: every outcome is a record."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any

import certifi

from emulator.daraja.stk.models import CallbackAttempt
from emulator.daraja.stk.wire import encode_callback
from emulator.kernel.clock import Clock
from emulator.kernel.hostmap import map_host, unreachable_hint
from emulator.kernel.httppost import ConnectFailed, Poster, PostError, PostTimeout

log = logging.getLogger("emulator.kernel.delivery")
MAX_RECORDED_BODY = 2048  # characters of a receiver's answer kept in the journal
HEADERS = "Content-Type: application/json\r\nUser-Agent: Daraja-Emulator\r\n"
MAX_IN_FLIGHT = 256  # posts at once; later ones wait their turn


def tls_context() -> ssl.SSLContext:
    """Verifying TLS against the public CAs (certifi), as httpx and most shops' clients do."""
    return ssl.create_default_context(cafile=certifi.where())


class CallbackSender:
    """One shared client for all callbacks, so keep-alive connections are reused."""

    def __init__(
        self,
        clock: Clock,
        timeout: float = 10.0,
        host_map: Mapping[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._host_map = host_map or {}  # CallBackURL host -> the host to post to instead
        self._poster = Poster(timeout, tls_context(), MAX_IN_FLIGHT)

    async def post(self, url: str, payload: dict[str, Any]) -> CallbackAttempt:
        """POST the payload once and record how it went; failures become the record's error."""
        url = map_host(url, self._host_map)
        at = self._clock.now()
        start = time.perf_counter()
        status: int | None = None
        error: str | None = None
        body = ""
        sent = encode_callback(payload)
        try:
            answer = await self._poster.post(url, sent, HEADERS)
            status = answer.status
            body = answer.body[: MAX_RECORDED_BODY * 4].decode("utf-8", "replace")
            body = body[:MAX_RECORDED_BODY]
        except PostTimeout as exc:
            error = f"timeout: the receiver did not answer in time ({exc})"
        except ConnectFailed as exc:
            error = f"connection failed: {exc} ({unreachable_hint(url)})"
        except PostError as exc:
            error = f"protocol error: {exc}"
        except Exception as exc:  # a receiver must never crash the emulator
            error = f"{type(exc).__name__}: {exc}"
        latency = (time.perf_counter() - start) * 1000
        attempt = CallbackAttempt(
            at, url, status, error, round(latency, 1), body, payload, sent.decode()
        )
        log.info(
            "callback %s -> %s %s (%.0f ms)",
            _checkout_id(payload),
            url,
            status if status is not None else error,
            latency,
        )
        return attempt

    async def aclose(self) -> None:
        await self._poster.aclose()


def _checkout_id(payload: dict[str, Any]) -> str:
    return str(payload.get("Body", {}).get("stkCallback", {}).get("CheckoutRequestID", "?"))
