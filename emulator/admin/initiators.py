"""Admin endpoints for the initiator APIs (B2C, B2B, Reversal, Transaction Status, Account
Balance): their results, queued outcomes, fast-forward, initiator unlocks and the strict-mode
certificate. /_emulator/initiators/..."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.admin.auth import AdminError, guard, read_body
from emulator.admin.numbers import number, query_limit
from emulator.admin.views import attempt
from emulator.scenario.engine import UnknownScenario
from emulator.scenario.model import INITIATOR_APIS
from emulator.wiring import Emulator

if TYPE_CHECKING:
    from emulator.daraja.initiator.models import Job

MAX_QUEUED = 10_000  # outcomes one POST may queue
STATES = ("pending", "completed")


def job_view(job: Job, detail: bool = True, due_in: float | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "api": job.api, "conversation_id": job.conversation_id,
        "originator_conversation_id": job.originator_id, "initiator": job.initiator,
        "state": job.state.value, "scenario": job.scenario or None,
        "result_code": job.result_code, "receipt": job.receipt or None,
        "created_at": job.created_at.isoformat(),
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "posts": len(job.posts), "result_mode": job.spec.result.value,
        "due_in": None if due_in is None else round(due_in, 3),
    }
    if detail:
        view.update(request=job.fields, credential=job.credential, result=job.result,
                    timeline=[{"at": at.isoformat(), "event": note} for at, note in job.timeline],
                    attempts=[attempt(a) for a in job.posts])
    return view


async def results(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    q = request.query_params
    limit = query_limit(q.get("limit"))
    api, state = q.get("api") or None, q.get("state") or None
    if api is not None and api not in INITIATOR_APIS:
        raise AdminError(400, f"api must be one of {', '.join(INITIATOR_APIS)}")
    if state is not None and state not in STATES:
        raise AdminError(400, f"state must be one of {', '.join(STATES)}")
    rows = []
    for job in reversed(list(emu.initiators.jobs)):
        if (api and job.api != api) or (state and job.state.value != state):
            continue
        rows.append(job_view(job, detail=False, due_in=_due_in(emu, job)))
        if len(rows) >= limit:
            break
    return JSONResponse({"results": rows})


def _due_in(emu: Emulator, job: Job) -> float | None:
    """Seconds until a pending result is decided (None once final)."""
    return None if job.is_final else emu.initiator_lifecycle.scheduler.due_in(
        job.conversation_id)


async def result(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    key = request.path_params["conversation_id"]
    found = emu.initiators.jobs.get(key) or next(
        (j for j in emu.initiators.jobs if j.originator_id == key), None)
    if found is None:
        raise AdminError(404, f"no initiator request {key}")
    return JSONResponse(job_view(found, due_in=_due_in(emu, found)))


async def fast_forward(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    key = request.path_params["conversation_id"]
    if not emu.initiator_lifecycle.run_now(key):
        raise AdminError(404, f"no pending initiator request {key}")
    return JSONResponse({"conversation_id": key, "fast_forwarded": True})


async def fast_forward_all(emu: Emulator, request: Request) -> Response:
    """Every pending result decided now, instead of after its delay."""
    guard(emu.settings, request)
    lifecycle = emu.initiator_lifecycle
    pending = [j.conversation_id for j in emu.initiators.jobs if not j.is_final]
    return JSONResponse({"fast_forwarded": sum(lifecycle.run_now(key) for key in pending)})


async def queue(emu: Emulator, request: Request) -> Response:
    """POST {"scenario", "api"?, "count"?}: the next request(s) to `api` (any when absent)
    end as that initiator scenario says."""
    guard(emu.settings, request)
    service = emu.initiators
    if request.method == "DELETE":
        service.queued.clear()
    elif request.method == "POST":
        data = await read_body(request, emu.settings.max_body_bytes)
        api, scenario = data.get("api"), data.get("scenario")
        if api is not None and api not in INITIATOR_APIS:
            raise AdminError(400, f"api must be one of {', '.join(INITIATOR_APIS)}")
        if not isinstance(scenario, str) or not scenario:
            raise AdminError(400, "scenario must be an initiator scenario's name")
        given = data.get("count")
        count = int(number(1 if given is None else given, "count", MAX_QUEUED, low=1,
                           whole=True))
        try:
            service.queue(scenario, api, count)
        except UnknownScenario:
            raise AdminError(404, f"no initiator scenario named {scenario!r}") from None
    return JSONResponse({"queue": [{"api": a, "scenarios": list(n)}
                                   for a, n in service.queued.items() if n]})


async def unlock(emu: Emulator, request: Request) -> Response:
    guard(emu.settings, request)
    name = request.path_params["name"]
    return JSONResponse({"initiator": name, "was_locked": emu.initiators.credentials.unlock(name)})


async def certificate(emu: Emulator, request: Request) -> Response:
    """The PEM certificate to encrypt initiator passwords with (--strict-credentials)."""
    guard(emu.settings, request)
    pem = emu.initiators.credentials.certificate
    if not pem:
        raise AdminError(404, "no certificate: start the emulator with --strict-credentials")
    return Response(pem, media_type="application/x-pem-file")
