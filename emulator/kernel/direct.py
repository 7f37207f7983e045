"""Straight to the hot Daraja endpoints: one dict lookup by exact method and path, ahead of
Starlette's middleware and router.

Profiled under load, Starlette's stack in front of an STK push (ServerErrorMiddleware, the admin
guard, ExceptionMiddleware, the router's scan of every route, each wrapping `send` again) cost a
quarter of the emulator's own CPU per push: 25-35 us of work that, for a path known exactly,
a dict lookup replaces. What such an endpoint raises is answered by the app's own exception
handlers, the same ones Starlette would have called; every other request (other paths, other
methods and so 405, 404, the admin API, a request under a root_path) goes to Starlette as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from emulator.kernel.web import AsgiEndpoint, Receive, Scope, Send

log = logging.getLogger("emulator.http")
Handler = Callable[[Request, Exception], Awaitable[Response]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class DirectRoutes:
    """The bare ASGI endpoints (`AsgiEndpoint`) of fixed paths, by (method, path)."""

    __slots__ = ("_table", "_handlers")

    def __init__(self, routes: Iterable[BaseRoute], handlers: Mapping[type, Any]) -> None:
        self._table: dict[tuple[str, str], App] = {}
        for route in routes:
            if (isinstance(route, Route) and isinstance(route.app, AsgiEndpoint)
                    and "{" not in route.path):  # a parameterised path is no exact key
                for method in route.methods or ():
                    self._table[(method, route.path)] = route.app
        self._handlers: Mapping[type, Handler] = handlers

    def get(self, scope: Scope) -> App | None:
        """The endpoint for this request, or None: let the full app answer it."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        return self._table.get((scope["method"], scope["path"]))

    async def serve(self, endpoint: App, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await endpoint(scope, receive, send)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Handler | None:
        """The handler Starlette would pick: the nearest class in the exception's MRO."""
        for kind in type(exc).__mro__:
            handler = self._handlers.get(kind)
            if handler is not None:
                return handler
        return None
