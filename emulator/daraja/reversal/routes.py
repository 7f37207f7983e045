"""Reversal endpoint."""

from __future__ import annotations

from starlette.routing import Route

from emulator.daraja.initiator.lifecycle import InitiatorLifecycle
from emulator.daraja.initiator.routes import BearerCheck, endpoint
from emulator.daraja.reversal import PATH, wire
from emulator.faults.gate import FaultGate
from emulator.kernel.web import Plumbing


def routes(lifecycle: InitiatorLifecycle, tokens: BearerCheck, web: Plumbing,
           gate: FaultGate) -> list[Route]:
    return [endpoint(PATH, "reversal", wire.parse, lifecycle, tokens, web, gate)]
