"""Starlette's Route without compiling a regular expression for every route at start-up.

Starlette compiles a regex for each route as the app is built: for the emulator's 57 routes
that was 7 ms of every start-up (measured), though 45 of the paths are literal. A literal path
here is matched by string equality; a path with `{parameters}` is compiled by Starlette's own
`compile_path` when a request first reaches it (or a URL is first built from it). Everything
else (methods, the 405, HEAD for GET, the endpoint wrapping, names) is Starlette's Route; the
405's Allow header lists the methods in alphabetical order instead of a set's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from typing import Any

from starlette import routing
from starlette.datastructures import URLPath

__all__ = ["Route"]


class Route(routing.Route):
    """A Starlette Route whose path is compared (literal) or compiled on first use."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *,
                 methods: Collection[str] | None = None, name: str | None = None) -> None:
        if not path.startswith("/"):
            raise ValueError(f"a routed path starts with '/': {path!r}")
        # built on "/", whose pattern re compiles once and then serves from its cache
        super().__init__("/", endpoint, methods=methods, name=name)
        self.path = self.path_format = path
        self.path_regex = (_Deferred(self) if "{" in path  # type: ignore[assignment]
                           else _Literal(path))
        if self.methods is not None:
            self.methods = _Methods(self.methods)  # type: ignore[assignment]

    def compile(self) -> None:
        """Compile a parameterised path now (what the first request to it does)."""
        if isinstance(self.path_regex, _Deferred):
            self.path_regex, self.path_format, self.param_convertors = \
                routing.compile_path(self.path)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        self.compile()
        return super().url_path_for(name, **path_params)


class _Methods(frozenset[str]):
    """A route's methods in a fixed (alphabetical) order, so a 405's Allow header reads the same
    on every run: Starlette joins a set, whose order follows the process's hash seed."""

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(frozenset.__iter__(self)))


class _Literal:
    """Stands in for the compiled pattern of a literal path: `match` is string equality."""

    __slots__ = ("pattern", "_path")

    def __init__(self, path: str) -> None:
        self.pattern = f"^{re.escape(path)}$"  # what Starlette would have compiled, for repr
        self._path = path

    def match(self, path: str) -> _Matched | None:
        # `$` in Starlette's pattern also matches before one final newline (a `%0A` at the end)
        if path == self._path or (path[-1:] == "\n" and path[:-1] == self._path):
            return _Matched()
        return None


class _Matched:
    """A match of a literal path: no parameters."""

    __slots__ = ()

    def groupdict(self) -> dict[str, str]:
        return {}


class _Deferred:
    """Stands in for a parameterised path's pattern until its first `match` compiles it."""

    __slots__ = ("_route",)

    def __init__(self, route: Route) -> None:
        self._route = route

    def match(self, path: str) -> re.Match[str] | None:
        route = self._route
        route.compile()
        return route.path_regex.match(path)
