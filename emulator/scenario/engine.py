"""Choosing a scenario for a push: pure, deterministic, explained.

Precedence, first that applies:
1. an outcome queued for this phone, then one queued for any phone (FIFO);
2. scenarios whose `match` holds: user files before bundled ones, then those naming the phone,
   then those naming account references, then those naming amounts, then by name;
3. the default scenario.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from emulator.faults.model import Endpoint
from emulator.scenario.model import Scenario


class UnknownScenario(KeyError):
    """A scenario name that the loaded set does not have."""


class Choice(msgspec.Struct, frozen=True):
    scenario: Scenario
    reason: str  # shown in the journal: why this scenario
    queued: bool = False  # an outcome queued through the admin API, not a match


def _rank(s: Scenario) -> tuple[bool, bool, bool, bool, str]:
    m = s.match
    return (s.bundled, not m.phones, not m.account_references, not m.has_amount, s.name)


class ScenarioSet:
    """The loaded scenarios, indexed for quick matching."""

    def __init__(self, scenarios: list[Scenario], default: str | None = None) -> None:
        self.by_name = {s.name: s for s in scenarios}
        name = default or next((s.name for s in scenarios if s.default), None)
        if name is None or name not in self.by_name:
            raise UnknownScenario(name)
        self.default = self.by_name[name]
        self._default_choice = Choice(
            self.default, f"no scenario matched; default scenario '{self.default.name}'"
        )
        self._matched: dict[str, Choice] = {}  # scenario name -> its Choice, made once
        ordered = sorted(scenarios, key=_rank)
        self._by_phone: dict[str, list[Scenario]] = {}  # maps MSISDN -> scenarios naming it
        self._general: list[Scenario] = []  # scenarios matching without a phone list
        self._faults_by_phone: dict[str, list[Scenario]] = {}  # the same, for fault scenarios
        self._general_faults: list[Scenario] = []
        self._c2b_by_phone: dict[str, list[Scenario]] = {}  # the same, for C2B scenarios
        self._c2b_general: list[Scenario] = []
        self._initiator_by_phone: dict[str, list[Scenario]] = {}  # the same, initiator APIs
        self._initiator_general: list[Scenario] = []
        for s in ordered:
            by_phone, general = self._partition(s)
            for phone in s.match.phones:
                by_phone.setdefault(phone, []).append(s)
            if not s.match.phones and not s.match.is_empty:
                general.append(s)

    def _partition(self, s: Scenario) -> tuple[dict[str, list[Scenario]], list[Scenario]]:
        if s.fault:
            return self._faults_by_phone, self._general_faults
        if s.c2b:
            return self._c2b_by_phone, self._c2b_general
        if s.initiator:
            return self._initiator_by_phone, self._initiator_general
        return self._by_phone, self._general

    def get(self, name: str) -> Scenario:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownScenario(name) from None

    def outcome(self, name: str) -> Scenario:
        """A scenario that ends a transaction (not a fault scenario), by name."""
        scenario = self.get(name)
        if scenario.fault is not None:
            raise UnknownScenario(f"{name} is a fault scenario; use the faults API for faults")
        if scenario.c2b is not None:
            raise UnknownScenario(f"{name} is a C2B scenario; queue it for C2B payments")
        if scenario.initiator is not None:
            raise UnknownScenario(f"{name} is an initiator scenario; queue it for B2C and co.")
        return scenario

    def initiator_outcome(self, name: str) -> Scenario:
        """An initiator scenario (B2C, B2B, Reversal, ...), by name."""
        scenario = self.get(name)
        if scenario.initiator is None:
            raise UnknownScenario(f"{name} is not an initiator scenario")
        return scenario

    def initiator_for(
        self, api: str, phone: str, amount: int | None, reference: str
    ) -> Scenario | None:
        """The initiator scenario for a request to `api` (same precedence as outcomes)."""
        by_phone = [s for s in self._initiator_by_phone.get(phone, ())
                    if s.initiator is not None and api in s.initiator.apis]
        general = [s for s in self._initiator_general
                   if s.initiator is not None and api in s.initiator.apis]
        return _first(by_phone, general, phone, amount, reference)

    def c2b_outcome(self, name: str) -> Scenario:
        """A C2B scenario, by name."""
        scenario = self.get(name)
        if scenario.c2b is None:
            raise UnknownScenario(f"{name} is not a C2B scenario")
        return scenario

    def c2b_for(self, phone: str, amount: int | None, reference: str) -> Scenario | None:
        """The C2B scenario matching a payment (same precedence as outcomes), if any."""
        return _first(self._c2b_by_phone.get(phone, ()), self._c2b_general, phone, amount,
                      reference)

    def with_default(self, name: str) -> ScenarioSet:
        return ScenarioSet(list(self.by_name.values()), default=self.outcome(name).name)

    def choose(self, phone: str, amount: int, reference: str) -> Choice:
        """The scenario for a push, and why; Choices are made once per scenario and shared (a
        pending push keeps its reason)."""
        hit = _first(self._by_phone.get(phone, ()), self._general, phone, amount, reference)
        if hit is None:
            return self._default_choice
        choice = self._matched.get(hit.name)
        if choice is None:
            why = f"matched scenario '{hit.name}' ({_describe(hit)}) from {hit.source}"
            choice = self._matched[hit.name] = Choice(hit, why)
        return choice

    def fault_for(
        self, endpoint: Endpoint, phone: str, amount: int | None = None, reference: str = ""
    ) -> Scenario | None:
        """The fault scenario matching a request to `endpoint`, if any (same precedence)."""
        if not self._general_faults and phone not in self._faults_by_phone:
            return None
        candidates = [
            s for s in (*self._faults_by_phone.get(phone, ()), *self._general_faults)
            if s.fault is not None and endpoint in s.fault.endpoints
        ]
        return _first(candidates, (), phone, amount, reference)


def _first(
    by_phone: Iterable[Scenario], general: Iterable[Scenario], phone: str, amount: int | None,
    reference: str,
) -> Scenario | None:
    hits = [s for s in (*by_phone, *general) if s.match.matches(phone, amount, reference)]
    return min(hits, key=_rank) if hits else None


def _describe(s: Scenario) -> str:
    parts = []
    if s.match.phones:
        parts.append("phone")
    if s.match.account_references:
        parts.append("account reference")
    if s.match.has_amount:
        parts.append("amount")
    return " + ".join(parts)
