"""Starlette's Route without a regular expression for a path that has no parameters.

Starlette compiles a regex for every route as the app is built: for the emulator's 57 routes
that was 5 ms of every start-up (measured), for paths that are all literal but 12. A literal
path here is matched by string equality instead; everything else (methods, the 405 with its
Allow header, the endpoint wrapping, names) is Starlette's own Route, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from starlette import routing

__all__ = ["Route"]


class _Literal:
    """Stands in for the compiled pattern of a literal path: `match` is string equality."""

    __slots__ = ("pattern", "_path")

    def __init__(self, path: str) -> None:
        self.pattern = f"^{re.escape(path)}$"  # what Starlette would have compiled, for repr
        self._path = path

    def match(self, path: str) -> _Matched | None:
        return _Matched() if path == self._path else None


class _Matched:
    """A match of a literal path: no parameters."""

    __slots__ = ()

    def groupdict(self) -> dict[str, str]:
        return {}


class Route(routing.Route):
    """A Starlette Route; a path with no `{parameter}` is compared, not matched by a regex."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *,
                 methods: Collection[str] | None = None, name: str | None = None) -> None:
        if "{" in path:
            super().__init__(path, endpoint, methods=methods, name=name)
            return
        # built on "/", whose pattern re compiles once and then serves from its cache
        super().__init__("/", endpoint, methods=methods, name=name)
        if not path.startswith("/"):
            raise ValueError(f"a routed path starts with '/': {path!r}")
        self.path = self.path_format = path
        self.path_regex = _Literal(path)  # type: ignore[assignment]
