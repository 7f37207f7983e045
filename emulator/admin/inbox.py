"""/_emulator/inbox/{name}: a callback receiver for demos and trials without a shop backend.

Open to any poster (the emulator posts callbacks to it, by whatever name the CallBackURL used),
so everything it keeps is bounded: names (64 characters of [A-Za-z0-9._-]), inboxes
(MAX_INBOXES; a new one drops the one written to least recently), callbacks per inbox
(INBOX_SIZE, oldest dropped) and the bytes kept of each (MESSAGE_BYTES, parsed when read). Only
a POST creates an inbox; reading or clearing an unknown name answers an empty list.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.admin.auth import AdminError, read_raw
from emulator.kernel.web import parse_json
from emulator.wiring import Emulator

INBOX_SIZE = 200  # callbacks kept per inbox name
MAX_INBOXES = 100  # inboxes kept; a new one drops the least recently written
MESSAGE_BYTES = 4096  # bytes kept of each callback (an STK callback is under 1 KB)
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")

Kept = tuple[str, bytes, bool]  # (received at, the first MESSAGE_BYTES, whether cut)


def _box(emu: Emulator, name: str) -> deque[Any]:
    """The inbox `name`, made the most recent; a new one may drop the least recent."""
    inboxes = emu.inbox
    box = inboxes.pop(name, None)
    if box is None:
        box = deque(maxlen=INBOX_SIZE)
        while len(inboxes) >= MAX_INBOXES:
            del inboxes[next(iter(inboxes))]  # dicts keep insertion order: the oldest first
    inboxes[name] = box
    return box


def _shown(at: str, raw: bytes, cut: bool) -> dict[str, Any]:
    text = raw.decode("utf-8", "replace")
    body = None if cut else parse_json(raw)
    return {
        "at": at,
        "body": body if body is not None else text,
        # the exact text received: "body" is parsed JSON, where 1.00 reads as 1.0
        "raw": text,
        "truncated": cut,
    }


async def inbox(emu: Emulator, request: Request) -> Response:
    name = request.path_params["name"]
    if not NAME.fullmatch(name):
        raise AdminError(400, "an inbox name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'")
    if request.method == "POST":
        raw = await read_raw(request, emu.settings.max_body_bytes)
        kept: Kept = (emu.clock.now().isoformat(), raw[:MESSAGE_BYTES], len(raw) > MESSAGE_BYTES)
        _box(emu, name).append(kept)
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})
    if request.method == "DELETE":
        emu.inbox.pop(name, None)
        return JSONResponse({"name": name, "callbacks": []})
    return JSONResponse({"name": name, "callbacks": [_shown(*m) for m in emu.inbox.get(name, ())]})
