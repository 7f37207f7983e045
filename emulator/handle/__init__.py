"""EmulatorHandle: drive a running emulator through its admin API (/_emulator/).

It uses httpx only, so any test runner or script can use it; the pytest plugin hands one out as
the `daraja_emulator` fixture and the QA command line is built on it.

    with EmulatorHandle("http://127.0.0.1:8765") as emu:
        emu.queue("cancelled", phone="254708374149")

Exceptions:

    EmulatorError
     ├── EmulatorUnreachable   nothing (or not an emulator) answers at the URL
     ├── AdminAPIError         the admin API refused the request: .status, .message
     └── CallbackTimeout       wait_for_callback gave up; also an AssertionError
          └── ResultTimeout    wait_for_result (an initiator API's result) gave up

The initiator APIs' methods (initiator_results, wait_for_result, queue_initiator, ...) live in
emulator/handle/initiators.py.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import httpx

from emulator.handle.errors import (
    AdminAPIError,
    CallbackTimeout,
    EmulatorError,
    EmulatorUnreachable,
    ResultTimeout,
)
from emulator.handle.initiators import InitiatorControls

__all__ = [
    "AdminAPIError",
    "CallbackTimeout",
    "EmulatorError",
    "EmulatorHandle",
    "EmulatorUnreachable",
    "ResultTimeout",
]

ADMIN = "/_emulator"
POLL_SECONDS = 0.02  # how often wait_for_callback looks at the transaction
RECENT = 5  # transactions listed when a wait fails


class EmulatorHandle(InitiatorControls):
    """One emulator, seen from outside: the URL to give the shop plus its control plane."""

    def __init__(
        self,
        url: str,
        *,
        admin_token: str | None = None,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"X-Admin-Token": admin_token} if admin_token else {}
        self._client = client or httpx.Client(timeout=timeout, trust_env=False)
        self._headers = headers

    def admin(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        """Call /_emulator{path} and return its JSON (`raw`: its bytes); errors become
        EmulatorError subclasses."""
        headers = self._headers
        if method.upper() != "GET":  # the emulator refuses writes not sent as JSON (CSRF guard)
            headers = {**headers, "Content-Type": "application/json"}
        try:
            r = self._client.request(method, f"{self.url}{ADMIN}{path}", headers=headers, **kwargs)
        except httpx.TransportError as exc:
            refused = isinstance(exc, httpx.ConnectError)
            message = f"no emulator at {self.url} ({_reason(exc)})"
            raise EmulatorUnreachable(message, refused) from None
        if raw and r.status_code < 400:
            return r.content
        return _json(r, self.url)

    # --- reading ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.admin("GET", "/health")

    def scenarios(self) -> list[dict[str, Any]]:
        """Every loaded scenario; the default one has `"default": true`."""
        return self.admin("GET", "/scenarios")["scenarios"]

    def default_scenario(self) -> str:
        return self.admin("GET", "/scenarios")["default"]

    def transactions(
        self, phone: str | None = None, state: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Transaction summaries, newest first, optionally filtered by phone and state."""
        params = {k: v for k, v in (("phone", phone), ("state", state), ("limit", limit)) if v}
        return self.admin("GET", "/transactions", params=params)["transactions"]

    def transaction(self, checkout_id: str) -> dict[str, Any]:
        """One transaction with its request, timeline and callback attempts."""
        return self.admin("GET", f"/transactions/{checkout_id}")

    def queued(self) -> list[dict[str, Any]]:
        """Queued outcomes as [{"phone": P or None, "scenarios": [...]}]."""
        return self.admin("GET", "/queue")["queue"]

    def time_scale(self) -> float:
        return float(self.admin("GET", "/time")["time_scale"])

    # --- steering --------------------------------------------------------------------------

    def set_default_scenario(self, name: str) -> None:
        """The scenario for pushes that no other scenario (or queued outcome) matches."""
        self.admin("PUT", "/scenarios/default", json={"name": name})

    def queue(
        self, scenario: str, phone: str | None = None, count: int = 1
    ) -> list[dict[str, Any]]:
        """Make the next `count` pushes (to `phone`, or any phone) end as `scenario`."""
        body = {"scenario": scenario, "phone": phone, "count": count}
        return self.admin("POST", "/queue", json=body)["queue"]

    def clear_queue(self) -> None:
        self.admin("DELETE", "/queue")

    def decide(self, checkout_id: str, outcome: str) -> dict[str, Any]:
        """Press a button on the customer's phone: pay, cancel, wrong-pin,
        insufficient-balance or timeout. The callback follows as usual."""
        return self.admin("POST", f"/transactions/{checkout_id}/decide", json={"outcome": outcome})

    def fast_forward(self, checkout_id: str | None = None) -> int:
        """Bring the outcome of one pending transaction (or all) forward to now."""
        path = f"/transactions/{checkout_id}/fast-forward" if checkout_id else "/fast-forward"
        return int(self.admin("POST", path)["fast_forwarded"])

    def set_time_scale(self, scale: float) -> None:
        """Multiply scenario delays of later pushes by `scale` (0 = immediate)."""
        self.admin("POST", "/time", json={"scale": scale})

    def reset(self) -> None:
        """Forget transactions, queued outcomes and scheduled callbacks (tokens stay)."""
        self.admin("POST", "/reset")

    def fail(
        self, fault: str, endpoint: str = "any", count: int | None = None,
        seconds: float | None = None, delay: float | None = None,
    ) -> dict[str, Any]:
        """Make Daraja fail: the next `count` requests (default 1), or all for `seconds`.
        `fault` is e.g. spike-arrest, quota, unavailable, edge-403, slow, drop."""
        body: dict[str, Any] = {"fault": fault, "endpoint": endpoint}
        if seconds is not None:
            body["seconds"] = seconds
        else:
            body["count"] = count or 1
        if delay is not None:
            body["delay"] = delay
        return self.admin("POST", "/faults", json=body)

    def faults(self) -> dict[str, Any]:
        """Active fault rules, the rate limit, the fault kinds and fault scenarios."""
        return self.admin("GET", "/faults")

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def requests(self, limit: int = 50) -> list[dict[str, Any]]:
        """The request journal: every Daraja request with its status and why, newest first."""
        return self.admin("GET", f"/requests?limit={limit}")["requests"]

    def expire_tokens(self) -> int:
        """Expire every access token, to test the shop's token refresh."""
        return int(self.admin("POST", "/tokens/expire")["expired"])

    # --- money: the ledger and C2B ---------------------------------------------------------

    def business(self, shortcode: str) -> dict[str, Any]:
        """A shortcode's accounts: {"accounts": {"Utility Account": "1000000.00", ...}, ...}."""
        return self.admin("GET", f"/ledger/businesses/{shortcode}")

    def customer(self, phone: str) -> dict[str, Any]:
        """A customer's name and wallet balance ("100000.00")."""
        return self.admin("GET", f"/ledger/customers/{phone}")

    def set_balance(
        self, shortcode: str, balance: float | str, account: str = "Utility Account"
    ) -> dict[str, Any]:
        """Set one account of a business, e.g. an empty Utility Account."""
        body = {"account": account, "balance": balance}
        return self.admin("PUT", f"/ledger/businesses/{shortcode}", json=body)

    def set_customer_balance(self, phone: str, balance: float | str) -> dict[str, Any]:
        """Set a customer's wallet: a push larger than it ends as ResultCode 1."""
        return self.admin("PUT", f"/ledger/customers/{phone}", json={"balance": balance})

    def entries(
        self, phone: str | None = None, shortcode: str | None = None
    ) -> list[dict[str, Any]]:
        """Completed payments, newest first, each with its receipt and the balances after."""
        params = {k: v for k, v in (("phone", phone), ("shortcode", shortcode)) if v}
        return self.admin("GET", "/ledger/entries", params=params)["entries"]

    def c2b_pay(
        self, shortcode: str, phone: str, amount: int | str, bill_ref: str | None = None
    ) -> dict[str, Any]:
        """A customer pays a shortcode (as C2B simulate does); returns the payment. `amount`
        is whole shillings, a number or its text ("10"); AdminAPIError says what is wrong."""
        body = {"shortcode": shortcode, "phone": phone, "amount": amount, "bill_ref": bill_ref}
        return self.admin("POST", "/c2b/pay", json=body)

    def c2b_payments(
        self, phone: str | None = None, shortcode: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """C2B payments, newest first: from one phone, into one shortcode, the newest `limit`."""
        params = {k: str(v) for k, v in (("phone", phone), ("shortcode", shortcode),
                                         ("limit", limit)) if v}
        return self.admin("GET", "/c2b/payments", params=params)["payments"]

    def c2b_payment(self, trans_id: str) -> dict[str, Any]:
        """One C2B payment with its timeline and every validation and confirmation attempt."""
        return self.admin("GET", f"/c2b/payments/{trans_id}")

    def c2b_registrations(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/c2b/registrations")["registrations"]

    def set_c2b_validation(self, shortcode: str, enabled: bool) -> dict[str, Any]:
        """Turn external validation on or off for a shortcode with registered URLs."""
        body = {"external_validation": enabled}
        return self.admin("PUT", f"/c2b/registrations/{shortcode}", json=body)

    def queue_c2b(self, scenario: str, phone: str | None = None, count: int = 1) -> None:
        """Make the next `count` C2B payments (from `phone`, or any) play out as `scenario`."""
        body = {"scenario": scenario, "phone": phone, "count": count}
        self.admin("POST", "/c2b/queue", json=body)

    def wait_for_c2b(self, trans_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The C2B payment once it has ended and sent the confirmations it will send."""
        deadline = time.monotonic() + timeout
        while True:
            p = self.c2b_payment(trans_id)
            if p["state"] in ("rejected", "failed", "reversed") or (
                p["state"] == "completed" and (p["confirmations"] or not p["registration"]
                                               or p["scenario"] == "c2b-confirmation-lost")):
                return p
            if time.monotonic() >= deadline:
                raise CallbackTimeout(f"C2B payment {trans_id} still {p['state']} after "
                                      f"{timeout:g}s; timeline: {p['timeline']}")
            time.sleep(POLL_SECONDS)

    # --- waiting ---------------------------------------------------------------------------

    def wait_for_callback(
        self, checkout_id: str, timeout: float = 5.0, count: int = 1
    ) -> dict[str, Any]:
        """The transaction once `count` callbacks were posted (or it ended with none to post).

        Polls the admin record, so it works whatever receives the callbacks; on timeout it
        raises CallbackTimeout saying what happened instead.
        """
        deadline = time.monotonic() + timeout
        withheld: set[str] | None = None  # scenarios that post no callback, looked up once
        while True:
            txn = self._find(checkout_id)
            if txn is not None and len(txn["callback_attempts"]) >= count:
                return txn
            if txn is not None and txn["state"] == "completed":
                withheld = withheld if withheld is not None else self._silent_scenarios()
                if txn["scenario"] in withheld:
                    return txn
            if time.monotonic() >= deadline:
                raise CallbackTimeout(self._report(checkout_id, txn, count, timeout))
            time.sleep(POLL_SECONDS)

    def _find(self, checkout_id: str) -> dict[str, Any] | None:
        try:
            return self.transaction(checkout_id)
        except AdminAPIError as exc:
            if exc.status == 404:
                return None
            raise

    def _silent_scenarios(self) -> set[str]:
        return {s["name"] for s in self.scenarios() if s["callback"] == "never"}

    def _report(
        self, checkout_id: str, txn: dict[str, Any] | None, count: int, timeout: float
    ) -> str:
        wanted = "no callback" if count == 1 else f"fewer than {count} callbacks"
        lines = [f"{wanted} for {checkout_id} within {timeout:g}s."]
        if txn is None:
            lines.append("The emulator has no such transaction (was the push accepted?).")
        else:
            lines += describe_transaction(txn)
        recent = self.transactions(limit=RECENT)
        lines.append(f"Recent transactions (newest first, {len(recent)} shown):")
        lines += [f"  {summary_line(t)}" for t in recent] or ["  none"]
        return "\n".join(lines)

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmulatorHandle({self.url!r})"


def summary_line(t: dict[str, Any]) -> str:
    """One transaction summary on one line, for messages."""
    result = "-" if t["result_code"] is None else t["result_code"]
    return (
        f"{t['checkout_request_id']} phone={t['phone']} scenario={t['scenario']} "
        f"state={t['state']} result={result} callbacks={t['callbacks']}"
    )


def describe_transaction(txn: dict[str, Any]) -> list[str]:
    """State, due time, timeline and callback attempts of one transaction, as message lines."""
    lines = [f"Transaction: {summary_line(txn)}"]
    if txn["state"] != "completed" and txn.get("due_in") is not None:
        lines.append(
            f"Its outcome is due in {txn['due_in']}s: fast_forward() it, decide() it, "
            "or lower the time scale."
        )
    lines.append("Timeline:")
    lines += [f"  {e['at']}  {e['event']}" for e in txn["timeline"]] or ["  empty"]
    lines.append("Callback attempts:")
    lines += [f"  {attempt_line(a)}" for a in txn["callback_attempts"]] or ["  none"]
    return lines


def attempt_line(a: dict[str, Any]) -> str:
    outcome = a["status"] if a["status"] is not None else a["error"]
    return f"{a['at']}  POST {a['url']} -> {outcome} ({a['latency_ms']:.0f} ms)"


def _json(r: httpx.Response, url: str) -> Any:
    try:
        data = r.json()
    except ValueError:
        raise EmulatorUnreachable(
            f"{url} answered {r.status_code} without JSON: is it a Daraja Emulator?"
        ) from None
    if r.status_code >= 400:
        message = data.get("error") if isinstance(data, dict) else None
        raise AdminAPIError(r.status_code, str(message or data))
    return data


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"{type(exc).__name__}: {exc}"
