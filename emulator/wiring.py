"""One emulator: the kernel, the API families and the fault gate, wired together by type.

Several can live in one process (each app owns its own), which the test fixtures rely on. Adding
an API family is one more block here: build its backend from the kernel parts and add its routes.
"""

from __future__ import annotations

from collections import deque

from starlette.routing import BaseRoute

from emulator.config import Settings
from emulator.daraja.oauth import routes as oauth_routes
from emulator.daraja.oauth.backend import OAuthBackend
from emulator.daraja.stk import routes as stk_routes
from emulator.daraja.stk.codec import TransactionCodec
from emulator.daraja.stk.lifecycle import StkLifecycle
from emulator.daraja.stk.models import Transaction
from emulator.daraja.stk.rules import StkBackend
from emulator.faults.book import FaultBook
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint, FaultSpec
from emulator.kernel.clock import Clock, SystemClock
from emulator.kernel.delivery import Delivery
from emulator.kernel.events import EventBus
from emulator.kernel.ids import IdSource
from emulator.kernel.persistence import StateFile
from emulator.kernel.store import Records
from emulator.kernel.web import Plumbing, RequestLog
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.loader import load_scenarios


def load_scenario_set(settings: Settings) -> ScenarioSet:
    """Bundled plus user scenarios; raises ScenarioError naming file, line and field."""
    scenarios = load_scenarios(settings.scenario_dirs, include_bundled=settings.bundled_scenarios)
    return ScenarioSet(scenarios, default=settings.default_scenario)


class Emulator:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.ids = IdSource(settings.seed)
        self.events = EventBus()
        self.requests = RequestLog(self.clock, settings.journal_size)
        self.state_file = StateFile(settings.state_file) if settings.state_file else None
        self.scenarios = load_scenario_set(settings)  # replaced whole on reload or a new default
        self._default_set = settings.default_scenario is not None  # a default chosen at runtime
        self.delivery = Delivery(self.clock, settings.callback_timeout, settings.callback_host_map,
                                 allow=frozenset(settings.callback_allow) or None)
        self.web = Plumbing(self.clock, self.ids, self.requests, settings.max_body_bytes)
        # maps inbox name -> (received at, bytes kept, cut) per callback; see admin/inbox.py
        self.inbox: dict[str, deque[tuple[str, bytes, bool]]] = {}

        self.oauth = OAuthBackend(self.ids, settings.apps, settings.token_lifetime,
                                  self.state_file)
        self.faults = FaultGate(FaultBook(settings.rate_limit), self.clock, self.events,
                                self.oauth.consumer_of, self._fault_for)
        self.stk = StkBackend(
            Records[Transaction](TransactionCodec(), settings.journal_size, self.state_file),
            self.ids,
            lambda: self.scenarios,
            settings.shortcodes,
            legacy_pending=settings.pending_query == "legacy",
        )
        self.lifecycle = StkLifecycle(self.stk, self.delivery, self.clock, self.events,
                                      settings.time_scale)

    def routes(self) -> list[BaseRoute]:
        """Every Daraja family's routes (the admin API adds its own in app.py)."""
        return [
            *oauth_routes.routes(self.oauth, self.web, self.faults),
            *stk_routes.routes(self.stk, self.lifecycle, self.oauth, self.web, self.faults,
                               require_https=self.settings.require_https,
                               query_wording=self.settings.query_wording),
        ]

    def _fault_for(
        self, endpoint: Endpoint, phone: str, amount: int | None, reference: str
    ) -> tuple[str, FaultSpec] | None:
        scenario = self.scenarios.fault_for(endpoint, phone, amount, reference)
        if scenario is None or scenario.fault is None:
            return None
        return scenario.name, scenario.fault

    @property
    def time_scale(self) -> float:
        return self.lifecycle.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        self.lifecycle.time_scale = value

    def restore(self) -> int:
        """Load the --state file (inside the running loop, since it schedules): tokens, then
        transactions, whose outcomes and callbacks resume. Returns how many were pending."""
        if self.state_file is None:
            return 0
        self.oauth.restore(self.clock.now())
        txns = self.stk.records.restore()
        self.stk.restore(txns)
        self.lifecycle.restore(txns)
        return sum(not t.is_final for t in txns)

    def reload_scenarios(self) -> None:
        """Read the scenario files again; on any error the old set stays in force."""
        fresh = load_scenario_set(self.settings)
        current = self.scenarios.default.name
        if self._default_set and current in fresh.by_name:
            fresh = fresh.with_default(current)
        self.scenarios = fresh
        self.events.publish("scenarios")

    def set_default(self, name: str) -> None:
        self.scenarios = self.scenarios.with_default(name)
        self._default_set = True
        self.events.publish("scenarios")

    def reset(self) -> None:
        """Transactions, locks, queued outcomes, scheduled callbacks, faults and the request log
        go; tokens, the default scenario and the rate limit stay."""
        self.lifecycle.reset()
        self.stk.reset()
        self.faults.book.reset()
        self.requests.clear()
        self.inbox.clear()
        self.events.publish("reset")

    async def aclose(self) -> None:
        await self.lifecycle.drain()
        self.lifecycle.reset()
        await self.delivery.aclose()
        if self.state_file is not None:
            self.state_file.close()
