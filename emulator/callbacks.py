"""Posting result callbacks: the only module that imports httpx. It never raises."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from .callback_hosts import map_host, unreachable_hint
from .clock import Clock
from .daraja.stk.models import CallbackAttempt
from .daraja.stk.wire import encode_callback

log = logging.getLogger("emulator.callbacks")
MAX_RECORDED_BODY = 2048  # characters of a receiver's answer kept in the journal
HEADERS = {"Content-Type": "application/json", "User-Agent": "Daraja-Emulator"}


class CallbackSender:
    """One shared HTTP client for all callbacks, so connections are reused."""

    def __init__(
        self,
        clock: Clock,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        host_map: Mapping[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._host_map = host_map or {}  # CallBackURL host -> the host to post to instead
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, pool=None),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            follow_redirects=False,
            trust_env=False,
        )

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
            response = await self._client.post(url, content=sent, headers=HEADERS)
            status, body = response.status_code, response.text[:MAX_RECORDED_BODY]
        except httpx.TimeoutException:
            error = "timeout: the receiver did not answer in time"
        except httpx.ConnectError as exc:
            error = f"connection failed: {exc or 'refused'} ({unreachable_hint(url)})"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
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
        if self._own_client:
            await self._client.aclose()


def _checkout_id(payload: dict[str, Any]) -> str:
    return str(payload.get("Body", {}).get("stkCallback", {}).get("CheckoutRequestID", "?"))
