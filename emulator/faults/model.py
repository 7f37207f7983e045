"""Fault kinds and rules: plain data, no I/O."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec


class FaultKind(str, enum.Enum):
    """Every way the emulator can fail a request, as Daraja or the network in front of it does."""

    SPIKE_ARREST = "spike-arrest"  # 500.003.02, Apigee's rate policy
    QUOTA = "quota"  # 500.003.03
    INTERNAL_ERROR = "internal-error"  # 500.003.1001
    MERCHANT_UNKNOWN = "merchant-unknown"  # 500.001.1001 Merchant does not exist
    INVALID_TOKEN = "invalid-token"  # 404.001.03, as if the token had expired
    EDGE_403 = "edge-403"  # the Incapsula/Imperva HTML page in front of Daraja
    UNAVAILABLE = "unavailable"  # HTTP 503 with an empty body
    GATEWAY_FAULT = "gateway-fault"  # the API gateway's JSON {"fault": ...} body
    SLOW = "slow"  # the normal answer, but only after `seconds`
    DROP = "drop"  # the connection closes before any answer
    DROP_MID_BODY = "drop-mid-body"  # headers and half the body, then the connection closes


class Endpoint(str, enum.Enum):
    """The Daraja endpoints a fault can be aimed at (admin rules, fault scenarios)."""

    OAUTH = "oauth"
    PUSH = "push"
    QUERY = "query"
    B2C = "b2c"
    B2B = "b2b"
    REVERSAL = "reversal"
    TXSTATUS = "txstatus"
    BALANCE = "balance"
    C2B_REGISTER = "c2b-register"  # /mpesa/c2b/v1|v2/registerurl
    C2B_SIMULATE = "c2b-simulate"  # /mpesa/c2b/v1|v2/simulate
    QR = "qr"  # /mpesa/qrcode/v1/generate


# endpoints whose requests carry no phone, so no fault scenario can match them (admin rules can)
UNMATCHABLE = frozenset({Endpoint.OAUTH, Endpoint.C2B_REGISTER})


# magic phone numbers of the bundled fault scenarios: 2547990000 + two digits
FAULT_NUMBERS: dict[FaultKind, str] = {
    FaultKind.SPIKE_ARREST: "254799000001",
    FaultKind.QUOTA: "254799000002",
    FaultKind.INTERNAL_ERROR: "254799000003",
    FaultKind.MERCHANT_UNKNOWN: "254799000004",
    FaultKind.INVALID_TOKEN: "254799000005",
    FaultKind.EDGE_403: "254799000006",
    FaultKind.UNAVAILABLE: "254799000007",
    FaultKind.GATEWAY_FAULT: "254799000008",
    FaultKind.SLOW: "254799000009",
    FaultKind.DROP: "254799000010",
    FaultKind.DROP_MID_BODY: "254799000011",
}
DEFAULT_SLOW_SECONDS = 15.0  # longer than the 5-10 s timeouts client libraries use


class FaultSpec(msgspec.Struct, frozen=True):
    """What a fault scenario does to the requests it matches."""

    kind: FaultKind
    endpoints: frozenset[Endpoint] = frozenset({Endpoint.PUSH})
    times: int | None = None  # only the first N matching requests per phone; None = always
    seconds: float = DEFAULT_SLOW_SECONDS  # for SLOW: how long the answer is held back


class FaultRule(msgspec.Struct):
    """A fault set through the admin API: the next `count` requests, or all until `until`."""

    kind: FaultKind
    endpoint: Endpoint | None  # None: every Daraja endpoint
    count: int | None = None  # requests still to fail; None when time-bound
    until: datetime | None = None  # wall-clock end; None when count-bound
    seconds: float = DEFAULT_SLOW_SECONDS
    id: int = msgspec.field(default=0)

    def applies(self, endpoint: Endpoint, now: datetime) -> bool:
        if self.endpoint is not None and self.endpoint is not endpoint:
            return False
        if self.until is not None:
            return now < self.until
        return (self.count or 0) > 0

    def spent(self, now: datetime) -> bool:
        return (self.until is not None and now >= self.until) or (
            self.until is None and (self.count or 0) <= 0)
