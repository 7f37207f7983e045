"""EmulatorHandle's initiator methods (B2C, B2B, Reversal, Transaction Status, Account Balance):
results as the emulator journaled and posted them, waiting for one, queued outcomes, unlocks.

A mixin, so the handle stays one object for the tester while each API's controls live in their
own room; it needs only the handle's `admin` call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from emulator.handle.errors import AdminAPIError, ResultTimeout

POLL_SECONDS = 0.02  # how often wait_for_result looks at the journal
RECENT = 5  # results listed when a wait fails
# how many POSTs a result mode makes at most (queue-timeout: one, to QueueTimeOutURL)
POSTS_BY_MODE = {"once": 1, "twice": 2, "never": 0, "queue-timeout": 1}


class InitiatorControls:
    """The initiator half of EmulatorHandle."""

    admin: Callable[..., Any]  # EmulatorHandle.admin(method, path, **kwargs): the handle's own

    # --- reading ---------------------------------------------------------------------------

    def initiator_results(
        self, api: str | None = None, state: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Initiator requests, newest first; `api` is b2c, b2b, reversal, txstatus or
        balance, `state` pending or completed."""
        params = {k: v for k, v in (("api", api), ("state", state), ("limit", limit)) if v}
        return self.admin("GET", "/initiators/results", params=params)["results"]

    def initiator_result(self, conversation_id: str) -> dict[str, Any]:
        """One request by ConversationID or OriginatorConversationID: the request, the
        credential verdict, the result as posted (`result`), its timeline and every POST."""
        return self.admin("GET", f"/initiators/results/{conversation_id}")

    def initiator_queue(self) -> list[dict[str, Any]]:
        """Queued initiator outcomes as [{"api": API or None, "scenarios": [...]}]."""
        return self.admin("GET", "/initiators/queue")["queue"]

    # --- steering --------------------------------------------------------------------------

    def queue_initiator(
        self, scenario: str, api: str | None = None, count: int = 1
    ) -> list[dict[str, Any]]:
        """Make the next `count` requests to `api` (or to any initiator API) end as the
        initiator scenario `scenario`, e.g. initiator-invalid or initiator-result-lost."""
        body = {"scenario": scenario, "api": api, "count": count}
        return self.admin("POST", "/initiators/queue", json=body)["queue"]

    def clear_initiator_queue(self) -> None:
        self.admin("DELETE", "/initiators/queue")

    def fast_forward_result(self, conversation_id: str | None = None) -> int:
        """Decide one pending result (or all) now instead of after its delay."""
        if conversation_id is None:
            return int(self.admin("POST", "/initiators/fast-forward")["fast_forwarded"])
        self.admin("POST", f"/initiators/results/{conversation_id}/fast-forward")
        return 1

    def unlock_initiator(self, name: str) -> bool:
        """Unlock an initiator that wrong passwords locked (strict credentials); True when it
        was locked."""
        return bool(self.admin("POST", f"/initiators/{name}/unlock")["was_locked"])

    def initiator_certificate(self) -> bytes:
        """The PEM certificate to encrypt initiator passwords with (--strict-credentials)."""
        return self.admin("GET", "/initiators/certificate", raw=True)

    def security_credential(self, password: str) -> str:
        """A SecurityCredential for `password`, encrypted with the emulator's certificate as a
        client library would (needs the cryptography package)."""
        from emulator.daraja.initiator.credential import encrypt

        return encrypt(self.initiator_certificate(), password)

    # --- waiting ---------------------------------------------------------------------------

    def wait_for_result(
        self, conversation_id: str, timeout: float = 5.0, count: int = 1
    ) -> dict[str, Any]:
        """The request once `count` results were posted, or once it ended with fewer to post
        (a lost result posts none). Polls the journal, so it works whatever receives the
        results; on timeout raises ResultTimeout saying what happened instead."""
        deadline = time.monotonic() + timeout
        while True:
            job = self._find_result(conversation_id)
            if job is not None and len(job["attempts"]) >= count:
                return job
            if job is not None and job["state"] == "completed" and len(
                    job["attempts"]) >= min(count, POSTS_BY_MODE.get(job["result_mode"], 1)):
                return job
            if time.monotonic() >= deadline:
                raise ResultTimeout(self._result_report(conversation_id, job, count, timeout))
            time.sleep(POLL_SECONDS)

    def _find_result(self, conversation_id: str) -> dict[str, Any] | None:
        try:
            return self.initiator_result(conversation_id)
        except AdminAPIError as exc:
            if exc.status == 404:
                return None
            raise

    def _result_report(
        self, conversation_id: str, job: dict[str, Any] | None, count: int, timeout: float
    ) -> str:
        wanted = "no result" if count == 1 else f"fewer than {count} results"
        lines = [f"{wanted} for {conversation_id} within {timeout:g}s."]
        if job is None:
            lines.append("The emulator has no such initiator request (was it acknowledged?).")
        else:
            lines += describe_result(job)
        recent = self.initiator_results(limit=RECENT)
        lines.append(f"Recent initiator requests (newest first, {len(recent)} shown):")
        lines += [f"  {result_line(r)}" for r in recent] or ["  none"]
        return "\n".join(lines)


def result_line(r: dict[str, Any]) -> str:
    """One initiator request on one line, for messages."""
    code = "-" if r["result_code"] is None else r["result_code"]
    return (f"{r['conversation_id']} api={r['api']} initiator={r['initiator']} "
            f"scenario={r['scenario'] or '-'} state={r['state']} result={code} "
            f"posts={r['posts']}")


def describe_result(job: dict[str, Any]) -> list[str]:
    """State, due time, credential, timeline and POSTs of one initiator request."""
    lines = [f"Request: {result_line({**job, 'posts': len(job['attempts'])})}"]
    if job["state"] != "completed" and job.get("due_in") is not None:
        lines.append(f"Its result is due in {job['due_in']}s: fast_forward_result() it or "
                     "lower the time scale.")
    if job["result_mode"] == "never":
        lines.append("Its scenario withholds the result: reconcile with Transaction Status.")
    lines.append(f"Credential: {job['credential']}")
    lines.append("Timeline:")
    lines += [f"  {e['at']}  {e['event']}" for e in job["timeline"]] or ["  empty"]
    lines.append("Result posts:")
    lines += [f"  {_attempt(a)}" for a in job["attempts"]] or ["  none"]
    return lines


def _attempt(a: dict[str, Any]) -> str:
    outcome = a["status"] if a["status"] is not None else a["error"]
    return f"{a['at']}  POST {a['url']} -> {outcome} ({a['latency_ms']:.0f} ms)"
