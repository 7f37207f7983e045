"""Initiator requests as JSON rows for the --state file, and back. The credential is never
stored (the job's fields leave it out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulator.daraja.initiator.models import Job, State
from emulator.kernel.delivery import Attempt
from emulator.scenario.model import Delay, InitiatorSpec, ResultMode

Row = dict[str, Any]
_PLAIN = ("api", "originator_id", "conversation_id", "initiator", "fields", "result_url",
          "queue_timeout_url", "scenario", "credential", "credential_code", "result_code",
          "result_text", "receipt")
_ATTEMPT = ("url", "status", "error", "latency_ms", "response_body", "sent")


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class JobCodec:
    kind = "initiator.job"

    def key(self, job: Job) -> str:
        return job.conversation_id

    def to_row(self, job: Job) -> Row:
        s = job.spec
        return {
            **{n: getattr(job, n) for n in _PLAIN},
            "created_at": _time(job.created_at), "completed_at": _time(job.completed_at),
            "state": job.state.value,
            "spec": {"result_code": s.result_code, "result_desc": s.result_desc,
                     "result": s.result.value, "delay": [s.delay.low, s.delay.high],
                     "duplicate_gap": s.duplicate_gap, "apis": sorted(s.apis)},
            "posts": [{"at": _time(a.at), **{n: getattr(a, n) for n in _ATTEMPT}}
                      for a in job.posts],
            "timeline": [[_time(at), note] for at, note in job.timeline],
        }

    def from_row(self, row: Row) -> Job:
        s = row["spec"]
        spec = InitiatorSpec(s["result_code"], s["result_desc"], ResultMode(s["result"]),
                             Delay(*s["delay"]), s["duplicate_gap"], frozenset(s["apis"]))
        return Job(
            **{n: row[n] for n in _PLAIN},
            created_at=_parse(row["created_at"]),  # type: ignore[arg-type]
            completed_at=_parse(row["completed_at"]), state=State(row["state"]), spec=spec,
            posts=[Attempt(at=_parse(a["at"]), **{n: a[n] for n in _ATTEMPT})  # type: ignore[arg-type]
                   for a in row["posts"]],
            timeline=[(_parse(at), note) for at, note in row["timeline"]],  # type: ignore[misc]
        )
