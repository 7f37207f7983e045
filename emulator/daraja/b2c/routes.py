"""B2C endpoints: v3 (echoes the client's OriginatorConversationID) and v1 (makes its own)."""

from __future__ import annotations

from starlette.routing import Route

from emulator.daraja.b2c import V1_PATH, V3_PATH, wire
from emulator.daraja.initiator.lifecycle import InitiatorLifecycle
from emulator.daraja.initiator.routes import BearerCheck, endpoint
from emulator.faults.gate import FaultGate
from emulator.kernel.web import Plumbing


def routes(lifecycle: InitiatorLifecycle, tokens: BearerCheck, web: Plumbing,
           gate: FaultGate) -> list[Route]:
    return [
        endpoint(V3_PATH, "b2c", lambda body: wire.parse(body, "v3"),
                 lifecycle, tokens, web, gate, echo=True),
        endpoint(V1_PATH, "b2c", lambda body: wire.parse(body, "v1"),
                 lifecycle, tokens, web, gate),
    ]
