"""C2B registrations and payments as JSON rows for the --state file, and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulator.daraja.c2b.models import Payment, Registration, State
from emulator.kernel.delivery import Attempt
from emulator.scenario.model import C2BSpec, Delay, Delivery, Validation

Row = dict[str, Any]
_ATTEMPT = ("url", "status", "error", "latency_ms", "response_body", "sent")
_REGISTRATION = ("shortcode", "version", "response_type", "confirmation_url", "validation_url",
                 "external_validation")
_PAYMENT = ("trans_id", "originator_id", "origin", "shortcode", "till", "phone", "amount",
            "bill_ref", "scenario", "outcome", "third_party_trans_id", "org_balance")


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _attempts(rows: list[Row]) -> list[Attempt]:
    return [Attempt(at=_parse(a["at"]), **{n: a[n] for n in _ATTEMPT})  # type: ignore[arg-type]
            for a in rows]


def _attempt_rows(attempts: list[Attempt]) -> list[Row]:
    return [{"at": _time(a.at), **{n: getattr(a, n) for n in _ATTEMPT}} for a in attempts]


class RegistrationCodec:
    kind = "c2b.registration"

    def key(self, r: Registration) -> str:
        return r.shortcode

    def to_row(self, r: Registration) -> Row:
        row = {n: getattr(r, n) for n in _REGISTRATION}
        return {**row, "registered_at": _time(r.registered_at)}

    def from_row(self, row: Row) -> Registration:
        return Registration(registered_at=_parse(row["registered_at"]),  # type: ignore[arg-type]
                            **{n: row[n] for n in _REGISTRATION})


class PaymentCodec:
    kind = "c2b.payment"

    def key(self, p: Payment) -> str:
        return p.trans_id

    def to_row(self, p: Payment) -> Row:
        s = p.spec
        return {
            **{n: getattr(p, n) for n in _PAYMENT},
            "created_at": _time(p.created_at),
            "completed_at": _time(p.completed_at),
            "state": p.state.value,
            "spec": {"validation": s.validation.value, "confirmation": s.confirmation.value,
                     "delay": [s.delay.low, s.delay.high], "duplicate_gap": s.duplicate_gap},
            "registration": RegistrationCodec().to_row(p.registration) if p.registration else None,
            "validations": _attempt_rows(p.validations),
            "confirmations": _attempt_rows(p.confirmations),
            "timeline": [[_time(at), note] for at, note in p.timeline],
            "payer": p.payer,
        }

    def from_row(self, row: Row) -> Payment:
        s = row["spec"]
        spec = C2BSpec(Validation(s["validation"]), Delivery(s["confirmation"]),
                       Delay(*s["delay"]), s["duplicate_gap"])
        registration = row["registration"]
        return Payment(
            **{n: row[n] for n in _PAYMENT},
            created_at=_parse(row["created_at"]),  # type: ignore[arg-type]
            completed_at=_parse(row["completed_at"]),
            state=State(row["state"]),
            spec=spec,
            registration=RegistrationCodec().from_row(registration) if registration else None,
            validations=_attempts(row["validations"]),
            confirmations=_attempts(row["confirmations"]),
            timeline=[(_parse(at), note) for at, note in row["timeline"]],  # type: ignore[misc]
            payer=row.get("payer", ""),
        )
