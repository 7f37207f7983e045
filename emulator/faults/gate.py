"""Checking a Daraja request for faults: once on arrival (admin rules, rate limit) and once its
subject is known (fault scenarios matched by phone). Raises FaultTriggered; `responses.render`
turns it into what the client sees. Knows no API family: what it needs is handed to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request

from emulator.faults.book import FaultBook
from emulator.faults.model import DEFAULT_SLOW_SECONDS, Endpoint, FaultKind, FaultSpec
from emulator.kernel import auth
from emulator.kernel.clock import Clock
from emulator.kernel.events import EventBus

# the fault scenario for (endpoint, phone, amount, account reference): (name, spec), or None
FaultFinder = Callable[[Endpoint, str, "int | None", str], "tuple[str, FaultSpec] | None"]
ConsumerOf = Callable[[str], "str | None"]  # access token -> its consumer key, None if unknown


class FaultTriggered(Exception):
    def __init__(self, kind: FaultKind, why: str) -> None:
        self.kind, self.why = kind, why
        super().__init__(f"{kind.value} ({why})")


class FaultGate:
    def __init__(
        self,
        book: FaultBook,
        clock: Clock,
        events: EventBus,
        consumer_of: ConsumerOf,
        find: FaultFinder,
    ) -> None:
        self.book = book
        self._clock = clock
        self._events = events
        self._consumer_of = consumer_of
        self._find = find

    def _consumer_key(self, scope: MutableMapping[str, Any] | Request) -> str | None:
        """Whose request this is, for the rate limit: a token's app, or Basic's consumer key."""
        authorization = Headers(scope=getattr(scope, "scope", scope)).get("authorization")
        token = auth.bearer(authorization)
        if token is not None:
            return self._consumer_of(token)
        credentials = auth.basic(authorization)
        return credentials[0] if credentials else None

    @property
    def quiet(self) -> bool:
        """No admin fault and no rate limit: on_arrival would do nothing (the hot paths skip
        the call, and the coroutine it costs)."""
        return not self.book.rules and self.book.rate_limit is None

    async def on_arrival(
        self, scope: MutableMapping[str, Any] | Request, endpoint: Endpoint
    ) -> None:
        """Admin-set faults and the rate limit, before the request is even authenticated. Takes
        the request's ASGI scope (a bare ASGI handler builds no Request) or a Request."""
        book = self.book
        if not book.rules and book.rate_limit is None:
            return
        now = self._clock.now()
        if book.over_limit(self._consumer_key(scope), now):
            raise FaultTriggered(FaultKind.SPIKE_ARREST, f"over --rate-limit {book.rate_limit}/s")
        rule = book.take(endpoint, now)
        if rule is not None:
            self._events.publish("faults")  # watchers see the count go down
            await apply(rule.kind, rule.seconds, f"admin fault #{rule.id}")

    async def on_subject(
        self, endpoint: Endpoint, phone: str | None, amount: int | None, reference: str
    ) -> None:
        """Fault scenarios, matched by the phone (and amount, account reference) a family read
        leniently from the request; no phone, no match."""
        fault = self.subject_fault(endpoint, phone, amount, reference)
        if fault is not None:
            await apply(*fault)

    def subject_fault(
        self, endpoint: Endpoint, phone: str | None, amount: int | None, reference: str
    ) -> tuple[FaultKind, float, str] | None:
        """What on_subject would apply, if anything: (kind, seconds, why) for `apply`."""
        if phone is None:
            return None
        found = self._find(endpoint, phone, amount, reference)
        if found is None:
            return None
        name, spec = found
        kind = self.book.for_phone(name, spec, phone)
        return None if kind is None else (kind, spec.seconds, f"scenario '{name}'")


async def apply(kind: FaultKind, seconds: float, why: str) -> None:
    """Sleep (a slow fault) or raise FaultTriggered."""
    if kind is FaultKind.SLOW:
        await asyncio.sleep(seconds or DEFAULT_SLOW_SECONDS)
        return
    raise FaultTriggered(kind, why)
