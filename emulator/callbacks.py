"""Posting result callbacks: the only module that imports httpx. It never raises."""

from __future__ import annotations

import asyncio
import contextlib
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
POOLS, POOL_SIZE = 32, 8  # connection pools, connections each: 256 posts in flight at most


class CallbackSender:
    """Shared HTTP clients for all callbacks, so connections are reused.

    Up to 256 posts are in flight; later ones wait their turn, as they would in one pool of 256
    connections. The connections are spread over small pools because httpcore's pool does work
    quadratic in its connections on every request: with one pool, a backlog of callbacks (a
    fast-forward of thousands) stalled the event loop for minutes.
    """

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
        self._clients = [client] if client else _new_clients(timeout)
        self._busy = [0] * len(self._clients)  # posts in flight, per client
        self._slots = asyncio.Semaphore(POOLS * POOL_SIZE) if client is None else None

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
            async with self._slots or contextlib.nullcontext():
                response = await self._send(url, sent)
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

    async def _send(self, url: str, content: bytes) -> httpx.Response:
        i = self._busy.index(min(self._busy))  # the least busy pool; ties go to the first
        self._busy[i] += 1
        try:
            return await self._clients[i].post(url, content=content, headers=HEADERS)
        finally:
            self._busy[i] -= 1

    async def aclose(self) -> None:
        if self._own_client:
            for client in self._clients:
                await client.aclose()


def _new_clients(timeout: float) -> list[httpx.AsyncClient]:
    tls = httpx.create_ssl_context(trust_env=False)  # what each client would build (~20 ms)
    return [
        httpx.AsyncClient(
            verify=tls,
            timeout=httpx.Timeout(timeout, pool=None),
            # keep-alive = size: httpcore closes idle connections when the pool holds more than
            # max_keepalive_connections in all, busy ones included (reconnecting on every post)
            limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE),
            follow_redirects=False,
            trust_env=False,
        )
        for _ in range(POOLS)
    ]


def _checkout_id(payload: dict[str, Any]) -> str:
    return str(payload.get("Body", {}).get("stkCallback", {}).get("CheckoutRequestID", "?"))
