"""The QA dashboard: plain HTML, CSS and JavaScript served by the emulator itself.

The page and its assets are open; the admin API they call keeps its token. `GET /` sends a
browser to the dashboard and answers anything else with Daraja's 404, as live Daraja does.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from emulator._version import __version__
from emulator.daraja.stk.rules import BUSINESS_NAME
from emulator.kernel.errors import ResourceNotFound

STATIC = Path(__file__).with_name("static")
PREFIX = "/_emulator/dashboard"
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
}


async def root(request: Request) -> Response:
    if "text/html" not in request.headers.get("accept", ""):
        raise ResourceNotFound()  # an API client probing `/` gets what Daraja answers
    return RedirectResponse(f"{PREFIX}/", status_code=302)


async def to_slash(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=302)


async def page(request: Request) -> Response:
    text = (STATIC / "dashboard.html").read_text(encoding="utf-8")
    text = text.replace("{{business}}", html.escape(BUSINESS_NAME))
    text = text.replace("{{version}}", html.escape(__version__))
    return HTMLResponse(text, headers=HEADERS)


static = StaticFiles(directory=STATIC)  # the page's scripts and styles, under PREFIX
