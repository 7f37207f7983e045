"""kernel/routing.Route: a literal path is compared, not matched by a compiled regex, and
answers exactly as Starlette's own Route would (start-up compiles no pattern per route)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette import routing as starlette_routing
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from emulator.app import create_app
from emulator.config import Settings
from emulator.kernel.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {dict(request.path_params)}")


def test_a_literal_route_answers_as_starlettes_own() -> None:
    ours = Starlette(routes=[Route("/mpesa/x/v1/go", hello, methods=["POST"]),
                             Route("/items/{id}", hello, methods=["GET"])])
    theirs = Starlette(routes=[starlette_routing.Route("/mpesa/x/v1/go", hello, methods=["POST"]),
                               starlette_routing.Route("/items/{id}", hello, methods=["GET"])])
    ours.router.redirect_slashes = theirs.router.redirect_slashes = False
    async def ask(app: Starlette, method: str, path: str
                  ) -> tuple[int, str, frozenset[str] | None]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.request(method, path)
        allow = answer.headers.get("allow")  # ours in alphabetical order, theirs a set's
        return answer.status_code, answer.text, None if allow is None else \
            frozenset(allow.split(", "))

    for method, path in [("POST", "/mpesa/x/v1/go"), ("GET", "/mpesa/x/v1/go"),
                         ("POST", "/mpesa/x/v1/go/"), ("POST", "/mpesa/x/v1/g"),
                         ("POST", "/MPESA/x/v1/go"), ("POST", "/mpesa/x/v1/go%0A"),
                         ("GET", "/mpesa/x/v1/go%0A"), ("POST", "/mpesa/x/v1/go%0A%0A"),
                         ("GET", "/items/7"), ("HEAD", "/items/7"), ("GET", "/items/7%0A"),
                         ("POST", "/items/7"), ("GET", "/items/")]:
        assert asyncio.run(ask(ours, method, path)) == asyncio.run(ask(theirs, method, path)), \
            (method, path)


@given(st.text(st.characters(codec="ascii", exclude_characters="{}"), max_size=30))
def test_literal_matching_is_equality(tail: str) -> None:
    path = "/" + tail
    route = Route(path, hello, methods=["GET"])
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    assert route.matches(scope)[0] is starlette_routing.Match.FULL
    assert route.matches({**scope, "path": path + "x"})[0] is starlette_routing.Match.NONE
    theirs_too = starlette_routing.Route(path, hello, methods=["GET"])
    for other in (path + "\n", path + "\n\n", path[:-1], path.upper()):
        assert route.matches({**scope, "path": other})[0] is \
            theirs_too.matches({**scope, "path": other})[0], repr(other)
    theirs = starlette_routing.Route(path, hello, methods=["GET"])
    assert route.url_path_for("hello") == theirs.url_path_for("hello")


def test_a_path_must_start_with_a_slash() -> None:
    with pytest.raises(ValueError, match="starts with '/'"):
        Route("mpesa/x", hello)


def test_the_app_compiles_no_pattern_at_start_up_and_each_compiles_when_used() -> None:
    app = create_app(Settings(port=0))
    routes = [r for r in app.routes if isinstance(r, starlette_routing.Route)]
    assert all(isinstance(r, Route) for r in routes)
    assert len(routes) > 40
    assert not [r.path for r in routes if isinstance(r.path_regex, re.Pattern)]
    for route in routes:  # a bad parameterised path fails here, not at a first request
        assert isinstance(route, Route)
        route.compile()
        theirs = starlette_routing.Route(route.path, hello)
        assert (route.path_format, route.param_convertors.keys()) == \
            (theirs.path_format, theirs.param_convertors.keys())


def test_a_parameterised_path_is_compiled_by_its_first_request_or_url() -> None:
    for build_url_first in (False, True):
        route = Route("/items/{id:int}/x", hello, methods=["GET"])
        assert not isinstance(route.path_regex, re.Pattern)
        if build_url_first:
            assert route.url_path_for("hello", id=7) == "/items/7/x"
        scope = {"type": "http", "method": "GET", "path": "/items/42/x", "root_path": ""}
        match, child = route.matches(scope)
        assert match is starlette_routing.Match.FULL and child["path_params"] == {"id": 42}
        assert isinstance(route.path_regex, re.Pattern)
        assert route.matches({**scope, "path": "/items/x/x"})[0] is starlette_routing.Match.NONE


def test_a_405_lists_the_methods_in_alphabetical_order() -> None:
    app = Starlette(routes=[Route("/q", hello, methods=["POST", "GET", "DELETE"]),
                            Route("/q/{id}", hello, methods=["PUT", "GET"])])

    async def allow(path: str) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.patch(path)).headers["allow"]

    assert asyncio.run(allow("/q")) == "DELETE, GET, HEAD, POST"
    assert asyncio.run(allow("/q/7")) == "GET, HEAD, PUT"
