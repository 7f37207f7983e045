"""One emulator: settings, state and the backends that act on it, wired together.

Several can live in one process (each app owns its own), which the test fixtures rely on.
"""

from __future__ import annotations

from emulator.config import Settings
from emulator.daraja.oauth.backend import OAuthBackend
from emulator.daraja.stk.lifecycle import Runtime
from emulator.daraja.stk.rules import StkBackend
from emulator.faults.book import FaultBook
from emulator.kernel.clock import Clock, SystemClock
from emulator.kernel.delivery import CallbackSender
from emulator.kernel.ids import IdSource
from emulator.kernel.persistence import StateFile
from emulator.kernel.store import Store
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.loader import load_scenarios


def load_scenario_set(settings: Settings) -> ScenarioSet:
    """Bundled plus user scenarios; raises ScenarioError naming file, line and field."""
    scenarios = load_scenarios(settings.scenario_dirs, include_bundled=settings.bundled_scenarios)
    return ScenarioSet(scenarios, default=settings.default_scenario)


class Emulator:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.ids = IdSource(settings.seed)
        self.state_file = StateFile(settings.state_file) if settings.state_file else None
        self.store = Store(settings.journal_size, self.state_file)
        self.oauth = OAuthBackend(self.store, self.ids, settings.apps, settings.token_lifetime)
        self.stk = StkBackend(
            self.store,
            self.ids,
            load_scenario_set(settings),
            settings.shortcodes,
            legacy_pending=settings.pending_query == "legacy",
        )
        sender = CallbackSender(
            self.clock, settings.callback_timeout, settings.callback_host_map
        )
        self.sender = sender
        self.runtime = Runtime(self.stk, sender, self.clock, settings.time_scale)
        self.faults = FaultBook(settings.rate_limit)
        self._default_set = settings.default_scenario is not None  # a default chosen at runtime

    def restore(self) -> int:
        """Load the --state file (inside the running loop, since it schedules): tokens, then
        transactions, whose outcomes and callbacks resume. Returns how many were pending."""
        if self.state_file is None:
            return 0
        for token in self.state_file.tokens(self.clock.now()):
            self.store.tokens[token.value] = token
        txns = self.state_file.transactions()
        for txn in txns:
            self.store.add(txn)
        if txns:
            self.ids.resume_after(txns[-1].merchant_request_id)
        self.runtime.restore(txns)
        return sum(not t.is_final for t in txns)

    def reload_scenarios(self) -> None:
        """Read the scenario files again; on any error the old set stays in force."""
        fresh = load_scenario_set(self.settings)
        current = self.stk.scenarios.default.name
        if self._default_set and current in fresh.by_name:
            fresh = fresh.with_default(current)
        self.stk.scenarios = fresh
        self.runtime.events.publish("scenarios")

    def set_default(self, name: str) -> None:
        self.stk.scenarios = self.stk.scenarios.with_default(name)
        self._default_set = True
        self.runtime.events.publish("scenarios")

    def reset(self) -> None:
        """Transactions, locks, queued outcomes and scheduled callbacks go; tokens stay."""
        self.runtime.reset()
        self.store.reset()
        self.faults.reset()

    async def aclose(self) -> None:
        await self.runtime.drain()
        self.runtime.reset()
        await self.sender.aclose()
        if self.state_file is not None:
            self.state_file.close()
