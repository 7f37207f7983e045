"""Which fault, if any, a request gets: admin rules first (FIFO), then the rate limit.

Scenario-file faults need the request's phone, so the gate asks for them separately, once the
body is read (see `FaultBook.for_phone`).
"""

from __future__ import annotations

from datetime import datetime

from emulator.faults.model import Endpoint, FaultKind, FaultRule, FaultSpec


class FaultBook:
    def __init__(self, rate_limit: int | None = None) -> None:
        self.rate_limit = rate_limit  # requests per second per consumer key; None = unlimited
        self.reset()

    def reset(self) -> None:
        self.rules: list[FaultRule] = []  # active admin rules, oldest first
        self._next_id = 1
        self._window: tuple[int, dict[str, int]] = (0, {})  # (second, consumer key -> requests)
        self._used: dict[tuple[str, str], int] = {}  # maps (scenario, phone) -> faults given

    def add(self, rule: FaultRule) -> FaultRule:
        rule.id = self._next_id
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def active(self, now: datetime) -> list[FaultRule]:
        self.rules = [r for r in self.rules if not r.spent(now)]
        return list(self.rules)

    def take(self, endpoint: Endpoint, now: datetime) -> FaultRule | None:
        """The admin rule this request falls under, consuming one of its count."""
        for rule in self.rules:
            if rule.applies(endpoint, now):
                if rule.count is not None:
                    rule.count -= 1
                return rule
        return None

    def over_limit(self, consumer_key: str | None, now: datetime) -> bool:
        """Count the request against its consumer key's one-second window."""
        if self.rate_limit is None or consumer_key is None:
            return False
        second = int(now.timestamp())
        current, counts = self._window
        if second != current:
            counts = {}
            self._window = (second, counts)
        counts[consumer_key] = counts.get(consumer_key, 0) + 1
        return counts[consumer_key] > self.rate_limit

    def for_phone(self, name: str, spec: FaultSpec, phone: str) -> FaultKind | None:
        """Fault scenario `name`'s kind if it still applies to this phone (`times` not used up)."""
        times = spec.times
        key = (name, phone)
        if times is not None:
            if self._used.get(key, 0) >= times:
                return None
            self._used[key] = self._used.get(key, 0) + 1
        return spec.kind
