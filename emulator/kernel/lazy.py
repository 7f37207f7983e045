"""Routes whose API families are built on their first request.

The app routes to every endpoint from start-up (so a wrong method is a 405 and an unknown path a
404 as always), but a family that rarely serves the first request (C2B, B2C, B2B, Reversal,
Transaction Status, Account Balance, Dynamic QR) is imported and built when a request first
reaches one of its paths: start-up then imports only what its first requests need
(docs/performance.md, "where start-up goes").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from importlib import import_module
from typing import Any

from starlette import routing
from starlette.routing import BaseRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.kernel.routing import Route

__all__ = ["LazyRoutes", "Later"]


class LazyRoutes:
    """One group of routes, built together by `build` on the first request to any of them."""

    def __init__(self, build: Callable[[], Sequence[BaseRoute]]) -> None:
        self._build = build
        self._apps: dict[str, ASGIApp] | None = None

    def routes(self, paths: Iterable[str], methods: Sequence[str] = ("POST",)) -> list[Route]:
        """Stand-in routes for `paths`: what the built routes answer, once built."""
        return [Route(path, _Endpoint(self, path), methods=list(methods)) for path in paths]

    def app(self, path: str) -> ASGIApp:
        if self._apps is None:  # synchronous: two first requests cannot both build
            built = self._build()
            self._apps = {route.path: route.app for route in built
                          if isinstance(route, routing.Route)}
        return self._apps[path]


class _Endpoint:
    """An ASGI app (a class, so Starlette calls it with scope, receive, send rather than
    wrapping it as a request handler) that hands the request to the built route."""

    def __init__(self, group: LazyRoutes, path: str) -> None:
        self._group, self._path = group, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._group.app(self._path)(scope, receive, send)


class Later:
    """A route's endpoint named by module and attribute, imported when a request first reaches
    it: `module.name(*args, request)` as a request handler, or with `asgi=True` the attribute
    itself as an ASGI app. Every admin handler but health (the core's, then C2B, ledger, faults,
    QR, initiators, the inbox, the dashboard, the OpenAPI document) is routed from start-up but
    imported by its first request (5-6 ms of start-up)."""

    def __init__(self, module: str, name: str, *args: Any, asgi: bool = False) -> None:
        self.module, self.name = module, name
        self._args, self._asgi = args, asgi
        self._app: ASGIApp | None = None

    def resolve(self) -> ASGIApp:
        """Import the module and make the app (what the first request does)."""
        if self._app is None:
            target = getattr(import_module(self.module), self.name)
            self._app = target if self._asgi else request_response(
                partial(target, *self._args) if self._args else target)
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (self._app or self.resolve())(scope, receive, send)
