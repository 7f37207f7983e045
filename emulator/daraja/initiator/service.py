"""The initiator APIs' backend: accept a request (credential, scenario, journal), and when its
result falls due, decide it (scenario code, else the family acting on the ledger) and build the
`{"Result": ...}` body. Pure domain: `now` is passed in, no I/O."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from emulator.daraja.initiator import wire
from emulator.daraja.initiator.credential import Credentials
from emulator.daraja.initiator.models import Api, Job
from emulator.kernel.errors import DarajaError
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Records
from emulator.kernel.texts import DUPLICATE_ORIGINATOR, describe_initiator
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.model import InitiatorSpec

log = logging.getLogger("emulator.initiator")
SUCCESS = InitiatorSpec()  # no scenario matched: the family decides, after one to three seconds


class DuplicateOriginator(DarajaError):
    """B2C v3: an OriginatorConversationID seen before (500.002.1001)."""

    code = "500.002.1001"
    message = DUPLICATE_ORIGINATOR


class InitiatorService:
    def __init__(
        self,
        jobs: Records[Job],
        apis: dict[str, Api],
        credentials: Credentials,
        ids: IdSource,
        scenarios: Callable[[], ScenarioSet],
    ) -> None:
        self.jobs = jobs  # maps ConversationID -> job (the journal)
        self.apis = apis  # maps API name -> its family
        self.credentials = credentials
        self.ids = ids
        self._scenarios = scenarios
        self.queued: dict[str | None, deque[str]] = {}  # maps API (None: any) -> scenario names
        self._originators: dict[str, str] = {}  # B2C v3: OriginatorConversationID -> ConvID
        self._restored_originators: set[str] = set()  # ids of the run before a restart

    def accept(
        self, api: str, fields: dict[str, str], now: datetime, *, originator_id: str | None = None
    ) -> Job:
        """A valid request: checked at the door, journaled, its outcome chosen. `originator_id`
        is the client's own (B2C v3), refused when seen before."""
        family = self.apis[api]
        family.check(fields)
        if originator_id is not None and originator_id in self._originators:
            raise DuplicateOriginator(why=f"{originator_id} was used by "
                                      f"{self._originators[originator_id]}")
        verdict = self.credentials.check(fields["Initiator"], fields["SecurityCredential"])
        name, spec, why = self._choose(api, family, fields)
        job = Job(api, originator_id or self._fresh_originator(), self._fresh_conversation(now),
                  fields["Initiator"], {k: v for k, v in fields.items()
                                        if k != "SecurityCredential"},
                  fields["ResultURL"], fields.get("QueueTimeOutURL", ""), now, spec, name,
                  verdict.why, verdict.code)
        job.timeline.append((now, f"accepted; {why}; credential: {verdict.why}"))
        if originator_id is not None:
            self._originators[originator_id] = job.conversation_id
        self.jobs.add(job)
        return job

    def _fresh_conversation(self, now: datetime) -> str:
        """A ConversationID the journal does not hold: with --seed and --state, a restarted
        emulator draws the ids of the run before, which would overwrite its requests."""
        while (key := self.ids.conversation_id(now)) in self.jobs.by_key:
            pass
        return key

    def _fresh_originator(self) -> str:
        """An OriginatorConversationID no journaled request has (see _fresh_conversation)."""
        while (key := self.ids.request_id()) in self._restored_originators:
            pass
        return key

    def _choose(self, api: str, family: Api, fields: dict[str, str]
                ) -> tuple[str, InitiatorSpec, str]:
        for key in (api, None):
            queue = self.queued.get(key)
            if queue:
                name = queue.popleft()
                spec = self._scenarios().initiator_outcome(name).initiator or SUCCESS
                return name, spec, f"queued scenario '{name}'"
        s = family.subject(fields)
        found = self._scenarios().initiator_for(api, s.phone, s.amount, s.reference)
        if found is not None and found.initiator is not None:
            return found.name, found.initiator, f"matched scenario '{found.name}'"
        return "", SUCCESS, "no scenario matched: the ledger decides"

    def queue(self, scenario: str, api: str | None = None, count: int = 1) -> None:
        self._scenarios().initiator_outcome(scenario)  # unknown names fail now
        self.queued.setdefault(api, deque()).extend([scenario] * count)

    def decide(self, job: Job, now: datetime) -> bytes:
        """The result falls due: credential first, then the scenario, then the family. Returns
        the bytes to post; the job is final."""
        family = self.apis[job.api]
        code: int | str | None = job.credential_code or (
            None if job.spec.succeeds else job.spec.result_code)
        if code is None:
            settled = family.settle(job, now)
            code, transaction_id, parameters = (settled.code, settled.transaction_id,
                                                settled.parameters)
            note = settled.note
            job.receipt = transaction_id if parameters and code == 0 else ""
        else:
            transaction_id = self.ids.placeholder_receipt(now)
            parameters = family.failure_parameters(job, code, now)
            note = job.credential if job.credential_code else f"scenario '{job.scenario}'"
        desc = (job.spec.result_desc if code == job.spec.result_code and job.spec.result_desc
                else describe_initiator(code) or "")
        body = wire.result(code=code, desc=desc, originator_id=job.originator_id,
                           conversation_id=job.conversation_id, transaction_id=transaction_id,
                           parameters=parameters, reference=family.reference(job))
        raw = wire.encode(body)
        job.result_text = raw.decode()
        job.complete(now, code, f"result {code}: {note}")
        self.jobs.finish(job)
        return raw

    def restore(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.jobs.put(job, finished=job.is_final)
            self._restored_originators.add(job.originator_id)
            if job.api == "b2c" and job.fields.get("Version") == "v3":
                self._originators[job.originator_id] = job.conversation_id

    def reset(self) -> None:
        self.jobs.reset()
        self.queued.clear()
        self._originators.clear()
        self._restored_originators.clear()
        self.credentials.reset()
