"""GET /_emulator/openapi.json: the OpenAPI 3 description of the emulated Daraja endpoints.

The document is package data (`emulator/openapi.json`), served as it is stored. Like health and
the inbox it stays open without the admin token: it describes Safaricom's public API only.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response


@lru_cache(maxsize=1)
def document() -> bytes:
    """The stored document's bytes (read once)."""
    from importlib.resources import files  # on the first request: 2-3 ms of start-up

    return files("emulator").joinpath("openapi.json").read_bytes()


async def openapi(request: Request) -> Response:
    return Response(
        document(), media_type="application/json", headers={"Cache-Control": "no-cache"}
    )
