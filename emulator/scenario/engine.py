"""Choosing a scenario for a push: pure, deterministic, explained.

Precedence, first that applies:
1. an outcome queued for this phone, then one queued for any phone (FIFO);
2. scenarios whose `match` holds: user files before bundled ones, then those naming the phone,
   then those naming account references, then those naming amounts, then by name;
3. the default scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Scenario


class UnknownScenario(KeyError):
    """A scenario name that the loaded set does not have."""


@dataclass(frozen=True)
class Choice:
    scenario: Scenario
    reason: str  # shown in the journal: why this scenario


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
        ordered = sorted(scenarios, key=_rank)
        self._by_phone: dict[str, list[Scenario]] = {}  # maps MSISDN -> scenarios naming it
        self._general: list[Scenario] = []  # scenarios matching without a phone list
        for s in ordered:
            for phone in s.match.phones:
                self._by_phone.setdefault(phone, []).append(s)
            if not s.match.phones and not s.match.is_empty:
                self._general.append(s)

    def get(self, name: str) -> Scenario:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownScenario(name) from None

    def with_default(self, name: str) -> ScenarioSet:
        return ScenarioSet(list(self.by_name.values()), default=self.get(name).name)

    def choose(self, phone: str, amount: int, reference: str) -> Choice:
        candidates = [*self._by_phone.get(phone, ()), *self._general]
        hits = sorted(
            (s for s in candidates if s.match.matches(phone, amount, reference)), key=_rank
        )
        if hits:
            s = hits[0]
            return Choice(s, f"matched scenario '{s.name}' ({_describe(s)}) from {s.source}")
        return Choice(self.default, f"no scenario matched; default scenario '{self.default.name}'")


def _describe(s: Scenario) -> str:
    parts = []
    if s.match.phones:
        parts.append("phone")
    if s.match.account_references:
        parts.append("account reference")
    if s.match.has_amount:
        parts.append("amount")
    return " + ".join(parts)
