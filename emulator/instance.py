"""One emulator: settings, state and the backends that act on it, wired together.

Several can live in one process (each app owns its own), which the test fixtures rely on.
"""

from __future__ import annotations

import httpx

from .callbacks import CallbackSender
from .clock import Clock, SystemClock
from .config import Settings
from .daraja.oauth.backend import OAuthBackend
from .daraja.stk.backend import StkBackend
from .ids import IdSource
from .runtime import Runtime
from .scenario.engine import ScenarioSet
from .scenario.loader import load_scenarios
from .store import Store


def load_scenario_set(settings: Settings) -> ScenarioSet:
    """Bundled plus user scenarios; raises ScenarioError naming file, line and field."""
    scenarios = load_scenarios(settings.scenario_dirs, include_bundled=settings.bundled_scenarios)
    return ScenarioSet(scenarios, default=settings.default_scenario)


class Emulator:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.ids = IdSource(settings.seed)
        self.store = Store(settings.journal_size)
        self.oauth = OAuthBackend(self.store, self.ids, settings.apps, settings.token_lifetime)
        self.stk = StkBackend(
            self.store,
            self.ids,
            load_scenario_set(settings),
            settings.shortcodes,
            legacy_pending=settings.pending_query == "legacy",
        )
        sender = CallbackSender(self.clock, settings.callback_timeout, http_client)
        self.sender = sender
        self.runtime = Runtime(self.stk, sender, self.clock, settings.time_scale)
        self._default_set = settings.default_scenario is not None  # a default chosen at runtime

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

    async def aclose(self) -> None:
        await self.runtime.drain()
        self.runtime.reset()
        await self.sender.aclose()
