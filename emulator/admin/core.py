"""The admin API's core handlers (transactions, decisions, fast-forward, reset, scenarios, the
queue, time, tokens, the event stream): thin handlers over the emulator's backends, imported by
the first request to one of them (routes.py routes every admin path from start-up)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from emulator.admin import views
from emulator.admin.auth import AdminError, guard, read_body
from emulator.admin.numbers import number, query_limit, queue_request
from emulator.config import MAX_TIME_SCALE
from emulator.daraja.stk.models import State
from emulator.kernel.texts import describe
from emulator.scenario.engine import UnknownScenario
from emulator.scenario.loader import ScenarioError
from emulator.wiring import Emulator

# maps a button on the customer's phone -> the result code it produces
DECISIONS: dict[str, int] = {
    "pay": 0,
    "wrong-pin": 2001,
    "cancel": 1032,
    "insufficient-balance": 1,
    "timeout": 1037,
}
MAX_RESULT_CODE = 2**31 - 1  # a 32-bit code is more than any Daraja result code needs
MAX_TEXT = 64  # characters of a result code given as text
MAX_DESC = 1000  # characters of a result_desc


def _ok(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AdminError(400, f"since must be an ISO date-time, got {text!r}") from None
    if moment.tzinfo is None:
        raise AdminError(400, "since must carry a time zone, e.g. 2026-01-15T09:30:00+03:00")
    return moment


async def transactions(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    q = request.query_params
    phone, state, since = q.get("phone"), q.get("state"), _since(q.get("since"))
    if state and state not in {s.value for s in State}:
        raise AdminError(400, f"state must be one of {[s.value for s in State]}")
    limit = query_limit(q.get("limit"))
    rows: list[dict[str, Any]] = []
    for txn in reversed(list(emu.stk.records.by_key.values())):
        if len(rows) >= limit:
            break
        if (phone and txn.phone != phone) or (state and txn.state.value != state):
            continue
        if since and txn.created_at < since:
            continue
        rows.append(views.summary(txn, emu.lifecycle.due_in(txn.checkout_request_id)))
    return _ok({"transactions": rows})


def _txn(emu: Emulator, request: Request):  # noqa: ANN202
    checkout_id = request.path_params["checkout_id"]
    txn = emu.stk.records.by_key.get(checkout_id)
    if txn is None:
        raise AdminError(404, f"no transaction {checkout_id}")
    return txn


async def transaction(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    txn = _txn(emu, request)
    return _ok(views.detail(txn, emu.lifecycle.due_in(txn.checkout_request_id)))


def _outcome(data: dict[str, Any]) -> tuple[int | str, str]:
    if "outcome" in data:
        if data["outcome"] not in DECISIONS:
            raise AdminError(400, f"outcome must be one of {sorted(DECISIONS)}")
        code: int | str = DECISIONS[data["outcome"]]
    elif isinstance(data.get("result_code"), (int, str)) and not isinstance(
        data.get("result_code"), bool
    ):
        code = data["result_code"]
        if isinstance(code, int) and not -MAX_RESULT_CODE <= code <= MAX_RESULT_CODE:
            raise AdminError(400, f"result_code must be within ±{MAX_RESULT_CODE}")
        if isinstance(code, str) and not 0 < len(code) <= MAX_TEXT:
            raise AdminError(400, f"result_code text must be 1 to {MAX_TEXT} characters")
    else:
        raise AdminError(400, "give 'outcome' (pay, cancel, ...) or 'result_code'")
    desc = data.get("result_desc") or describe(code)
    if not isinstance(desc, str):
        raise AdminError(400, f"result code {code!r} is not in the catalogue: give result_desc")
    if len(desc) > MAX_DESC:
        raise AdminError(400, f"result_desc must be at most {MAX_DESC} characters")
    return code, desc


async def decide(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    txn = _txn(emu, request)
    code, desc = _outcome(await read_body(request, emu.settings.max_body_bytes))
    if emu.lifecycle.decide(txn.checkout_request_id, code, desc) is None:
        raise AdminError(409, f"{txn.checkout_request_id} has already ended ({txn.result_code})")
    return _ok(views.detail(txn))


async def fast_forward(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    checkout_id = request.path_params.get("checkout_id")
    if checkout_id:
        txn = _txn(emu, request)
        if txn.is_final:
            raise AdminError(409, f"{checkout_id} has already ended")
    return _ok({"fast_forwarded": emu.lifecycle.fast_forward(checkout_id)})


async def reset(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    emu.reset()
    return _ok({"reset": True})


def _scenario_list(emu: Emulator) -> dict[str, Any]:
    default = emu.scenarios.default.name
    return {
        "default": default,
        "scenarios": [
            views.scenario(s, s.name == default) for s in emu.scenarios.by_name.values()
        ],
    }


async def scenarios(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    return _ok(_scenario_list(emu))


async def reload_scenarios(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    try:
        emu.reload_scenarios()
    except (ScenarioError, UnknownScenario) as exc:
        raise AdminError(422, f"scenarios not reloaded, the old set stays: {exc}") from None
    return _ok(_scenario_list(emu))


async def set_default(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    name = (await read_body(request, emu.settings.max_body_bytes)).get("name")
    try:
        emu.set_default(str(name))
    except UnknownScenario:
        hint = "fault scenarios are set through /_emulator/faults"
        raise AdminError(404, f"no outcome scenario named {name!r} ({hint})") from None
    return _ok(_scenario_list(emu))


async def queue(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    if request.method == "DELETE":
        emu.stk.queued.clear()
    elif request.method == "POST":
        scenario, phone, count = queue_request(
            await read_body(request, emu.settings.max_body_bytes))
        try:
            emu.stk.queue(scenario, phone, count)
        except UnknownScenario:
            raise AdminError(404, f"no outcome scenario named {scenario!r}") from None
    if request.method != "GET":
        emu.events.publish("queue")
    return _ok(_queue_list(emu))


def _queue_list(emu: Emulator) -> dict[str, Any]:
    queued = emu.stk.queued.items()
    return {"queue": [{"phone": p, "scenarios": list(names)} for p, names in queued if names]}


async def time_state(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    if request.method == "POST":
        scale = (await read_body(request, emu.settings.max_body_bytes)).get("scale")
        emu.time_scale = number(scale, "scale", MAX_TIME_SCALE)
    sched = emu.lifecycle.scheduler
    return _ok(
        {
            "now": emu.clock.now().isoformat(),
            "time_scale": emu.time_scale,
            "scheduled": sorted(
                ({"key": _job(k), "due_in": round(sched.due_in(k) or 0.0, 3)}
                 for k in sched.keys()),
                key=lambda j: j["due_in"],
            )[:1000],
        }
    )


def _job(key: object) -> str:
    """A scheduler key as the admin API has always shown it ("dup:" + id for a duplicate)."""
    return f"dup:{key[1]}" if isinstance(key, tuple) else str(key)


async def expire_tokens(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    return _ok({"expired": emu.oauth.expire_all(emu.clock.now())})


KEEPALIVE = 15.0  # seconds between comment lines that keep proxies from closing the stream


def _event_data(emu: Emulator, kind: str, checkout_id: str | None) -> dict[str, Any] | None:
    if kind == "transaction":
        txn = emu.stk.records.by_key.get(checkout_id or "")
        if txn is None:
            return None
        return views.detail(txn, emu.lifecycle.due_in(txn.checkout_request_id))
    if kind == "scenarios":
        return _scenario_list(emu)
    if kind == "queue":
        return _queue_list(emu)
    if kind == "faults":
        from emulator.admin.faults import listing  # the admin groups load when first used

        return listing(emu)
    if kind == "c2b":  # a C2B payment changed: its summary (the dashboard's balances follow)
        from emulator.admin import c2b as c2b_admin

        payment = emu.c2b.payments.get(checkout_id or "")
        if payment is None:
            return None
        return c2b_admin.payment_view(payment, detail=False,
                                      reversal=c2b_admin.reversal_of(emu, payment))
    if kind == "qr":
        from emulator.admin import qr as qr_admin

        code = emu.qr.codes.get(checkout_id or "")
        return None if code is None else qr_admin.qr_view(emu, code)
    return {}


async def _stream(emu: Emulator) -> AsyncIterator[str]:
    queue = emu.events.subscribe()
    try:
        yield "retry: 1000\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except asyncio.TimeoutError:
                yield ": keepalive\n\n"
                continue
            data = _event_data(emu, event.kind, event.checkout_id)
            if data is not None:
                yield f"event: {event.kind}\ndata: {json.dumps(data)}\n\n"
    finally:
        emu.events.unsubscribe(queue)


async def events(emu: Emulator, request: Request) -> Response:
    """Server-sent events: every journal change as it happens (the dashboard's live feed)."""
    guard(emu.settings, request)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(_stream(emu), media_type="text/event-stream", headers=headers)
