"""One emulator: the kernel, the API families and the fault gate, wired together by type.

Several can live in one process (each app owns its own), which the test fixtures rely on. Adding
an API family is one more block here: build its backend from the kernel parts and add its routes.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from emulator.config import SANDBOX_SHORTCODE, Settings
from emulator.daraja import b2b as b2b_api
from emulator.daraja import b2c as b2c_api
from emulator.daraja import balance as balance_api
from emulator.daraja import c2b as c2b_api
from emulator.daraja import qr as qr_api
from emulator.daraja import reversal as reversal_api
from emulator.daraja import txstatus as txstatus_api
from emulator.daraja.oauth import routes as oauth_routes
from emulator.daraja.oauth.backend import OAuthBackend
from emulator.daraja.stk import routes as stk_routes
from emulator.daraja.stk.codec import TransactionCodec
from emulator.daraja.stk.lifecycle import StkLifecycle
from emulator.daraja.stk.models import Payment, Transaction
from emulator.daraja.stk.rules import StkBackend
from emulator.faults.book import FaultBook
from emulator.faults.gate import FaultGate
from emulator.faults.model import Endpoint, FaultSpec
from emulator.kernel.clock import Clock, SystemClock
from emulator.kernel.delivery import Delivery
from emulator.kernel.events import EventBus
from emulator.kernel.ids import IdSource
from emulator.kernel.lazy import LazyRoutes
from emulator.kernel.persistence import StateFile
from emulator.kernel.store import Records
from emulator.kernel.web import Plumbing, RequestLog
from emulator.ledger.book import InsufficientFunds, Ledger, LedgerError
from emulator.ledger.codec import BusinessCodec, CustomerCodec, EntryCodec
from emulator.ledger.models import Business, Customer, Entry, Kind, Opening
from emulator.scenario.engine import ScenarioSet
from emulator.scenario.loader import load_scenarios

if TYPE_CHECKING:
    from emulator.daraja.c2b.lifecycle import C2BLifecycle
    from emulator.daraja.c2b.rules import C2BBackend
    from emulator.daraja.initiator.lifecycle import InitiatorLifecycle
    from emulator.daraja.initiator.service import InitiatorService
    from emulator.daraja.qr.rules import QrBackend

log = logging.getLogger("emulator.ledger")

# seconds after a restart's reads before what fell due while the emulator was down is posted:
# uvicorn binds the port after the app's start-up (a few ms), and a callback may be to the
# emulator's own inbox
RESTART_GRACE = 0.5


def build_ledger(settings: Settings, state_file: StateFile | None) -> Ledger:
    """The book: 174379 and every --shortcode a paybill, every --till a till."""
    registered = {SANDBOX_SHORTCODE: Kind.PAYBILL}
    registered.update(dict.fromkeys(settings.shortcodes, Kind.PAYBILL))
    registered.update(dict.fromkeys(settings.tills, Kind.TILL))
    opening = Opening(customer=settings.customer_balance * 100,
                      business=settings.business_balance * 100)
    return Ledger(
        Records[Business](BusinessCodec(), settings.journal_size, state_file),
        Records[Customer](CustomerCodec(), settings.journal_size, state_file),
        Records[Entry](EntryCodec(), settings.journal_size, state_file),
        opening,
        registered,
    )


class StkOnLedger:
    """STK's Settlement: the ledger moves a successful push's money, and a shortcode with
    registered C2B URLs gets its confirmation (the same receipt) through `confirm`, unless
    turned off (None)."""

    def __init__(self, ledger: Ledger, confirm: Callable[[Entry, bool], None] | None) -> None:
        self._ledger, self._confirm = ledger, confirm

    def settle(self, payment: Payment) -> bool:
        try:
            entry = self._ledger.pay(
                phone=payment.phone, shortcode=payment.shortcode, amount=payment.amount * 100,
                kind="stk", receipt=payment.receipt, at=payment.at, reference=payment.reference,
                till=payment.buy_goods)
        except InsufficientFunds as exc:
            log.info("STK %s: %s", payment.receipt, exc)
            return False
        except LedgerError as exc:  # a shortcode the book does not know: the push still pays
            log.warning("STK %s not booked: %s", payment.receipt, exc)
            return True
        if self._confirm is not None:
            self._confirm(entry, payment.buy_goods)
        return True


class C2BNotices:
    """C2B's confirmations of payments other families make (an STK push, B2B's PayeeNotice) to
    a shortcode with registered URLs. C2B is built on its first request (or by a state file's
    restore), and before that no shortcode can have registered any: nothing to tell until then."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def _lifecycle(self) -> C2BLifecycle | None:
        emulator = self._emulator
        return emulator.c2b_lifecycle if emulator._built("c2b_lifecycle") else None

    def stk_paid(self, entry: Entry, till: bool) -> None:
        if (lifecycle := self._lifecycle()) is not None:
            lifecycle.stk_paid(entry, till)

    def business_paid(self, entry: Entry, till: bool) -> None:
        if (lifecycle := self._lifecycle()) is not None:
            lifecycle.business_paid(entry, till)


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
        self.web = Plumbing(self.clock, self.ids, self.requests, settings.max_body_bytes,
                            settings.body_timeout)
        # maps inbox name -> (received at, bytes kept, cut) per callback; see admin/inbox.py
        self.inbox: dict[str, deque[tuple[str, bytes, bool]]] = {}

        self.oauth = OAuthBackend(self.ids, settings.apps, settings.token_lifetime,
                                  self.state_file)
        self.faults = FaultGate(FaultBook(settings.rate_limit), self.clock, self.events,
                                self.oauth.consumer_of, self._fault_for)
        self.ledger = build_ledger(settings, self.state_file)
        self.notices = C2BNotices(self)
        self.stk = StkBackend(
            Records[Transaction](TransactionCodec(), settings.journal_size, self.state_file),
            self.ids,
            lambda: self.scenarios,
            settings.shortcodes,
            legacy_pending=settings.pending_query == "legacy",
            settlement=StkOnLedger(
                self.ledger, None if settings.no_stk_confirmation else self.notices.stk_paid),
        )
        self.lifecycle = StkLifecycle(self.stk, self.delivery, self.clock, self.events,
                                      settings.time_scale)
        # C2B, Dynamic QR and the initiator APIs are built on first use (see kernel/lazy.py), except
        # that strict credentials make their RSA key pair now: without cryptography installed,
        # start-up stops with the reason instead of every initiator request answering 500
        if settings.strict_credentials:
            self.initiators  # noqa: B018 - built for its side effects

    def _built(self, name: str) -> bool:
        """Whether a family built on first use (c2b, c2b_lifecycle, qr, initiators,
        initiator_lifecycle) exists."""
        return name in self.__dict__

    @cached_property
    def c2b(self) -> C2BBackend:
        """C2B's URL registrations and payments, on the ledger."""
        from emulator.daraja.c2b.codec import PaymentCodec, RegistrationCodec
        from emulator.daraja.c2b.models import Payment as C2BPayment
        from emulator.daraja.c2b.models import Registration
        from emulator.daraja.c2b.rules import C2BBackend

        settings = self.settings
        return C2BBackend(
            Records[Registration](RegistrationCodec(), settings.journal_size, self.state_file),
            Records[C2BPayment](PaymentCodec(), settings.journal_size, self.state_file),
            self.ledger,
            self.ids,
            lambda: self.scenarios,
            stk_only=frozenset({SANDBOX_SHORTCODE}),
            register_once=settings.c2b_register_once,
        )

    @cached_property
    def c2b_lifecycle(self) -> C2BLifecycle:
        """C2B's validation and confirmation POSTs; validation has a Delivery of its own (its
        own timeout)."""
        from emulator.daraja.c2b.lifecycle import C2BLifecycle

        settings = self.settings
        return C2BLifecycle(self.c2b, self.delivery, self._validation_delivery, self.clock,
                            self.events, lambda: self.time_scale, settings.c2b_names)

    @cached_property
    def _validation_delivery(self) -> Delivery:
        settings = self.settings
        return Delivery(self.clock, settings.c2b_validation_timeout, settings.callback_host_map,
                        allow=frozenset(settings.callback_allow) or None)


    @cached_property
    def qr(self) -> QrBackend:
        """Dynamic QR: synchronous, a bounded journal of the codes made (for the dashboard)."""
        from emulator.daraja.qr.codec import QrCodec
        from emulator.daraja.qr.models import QrCode
        from emulator.daraja.qr.rules import QrBackend

        return QrBackend(
            Records[QrCode](QrCodec(), self.settings.journal_size, self.state_file), self.ids)

    @cached_property
    def initiators(self) -> InitiatorService:
        """The initiator APIs: one service, one Api per family, on the ledger."""
        from emulator.daraja.b2b.rules import B2BApi
        from emulator.daraja.b2c.rules import B2CApi
        from emulator.daraja.balance.rules import BalanceApi
        from emulator.daraja.initiator.codec import JobCodec
        from emulator.daraja.initiator.credential import Credentials
        from emulator.daraja.initiator.models import Api, Job
        from emulator.daraja.initiator.service import InitiatorService
        from emulator.daraja.reversal.rules import ReversalApi
        from emulator.daraja.txstatus.rules import TxStatusApi

        settings = self.settings
        apis: dict[str, Api] = {
            "b2c": B2CApi(self.ledger, self.ids),
            "b2b": B2BApi(self.ledger, self.ids, self.notices),
            "reversal": ReversalApi(self.ledger, self.ids),
            "txstatus": TxStatusApi(self.ledger, self.ids),
            "balance": BalanceApi(self.ledger, self.ids),
        }
        return InitiatorService(
            Records[Job](JobCodec(), settings.journal_size, self.state_file), apis,
            Credentials(settings.strict_credentials, settings.initiators), self.ids,
            lambda: self.scenarios)

    @cached_property
    def initiator_lifecycle(self) -> InitiatorLifecycle:
        from emulator.daraja.initiator.lifecycle import InitiatorLifecycle

        return InitiatorLifecycle(self.initiators, self.delivery, self.clock, self.events,
                                  lambda: self.time_scale)

    def routes(self) -> list[BaseRoute]:
        """Every Daraja family's routes (the admin API adds its own in app.py)."""
        return [
            *oauth_routes.routes(self.oauth, self.web, self.faults),
            *stk_routes.routes(self.stk, self.lifecycle, self.oauth, self.web, self.faults,
                               require_https=self.settings.require_https,
                               query_wording=self.settings.query_wording),
            *LazyRoutes(self._c2b_routes).routes(c2b_api.PATHS),
            *LazyRoutes(self._qr_routes).routes(qr_api.PATHS),
            *LazyRoutes(self._initiator_routes).routes(
                [*b2c_api.PATHS, *b2b_api.PATHS, *reversal_api.PATHS, *txstatus_api.PATHS,
                 *balance_api.PATHS]),
        ]

    def _c2b_routes(self) -> list[BaseRoute]:
        from emulator.daraja.c2b import routes as c2b_routes

        return c2b_routes.routes(self.c2b, self.c2b_lifecycle, self.oauth, self.web,
                                 self.faults)

    def _qr_routes(self) -> list[BaseRoute]:
        from emulator.daraja.qr import routes as qr_routes

        return qr_routes.routes(self.qr, self.oauth, self.web, self.faults, self.events,
                                wording=self.settings.qr_wording)

    def _initiator_routes(self) -> list[BaseRoute]:
        from emulator.daraja.b2b import routes as b2b_routes
        from emulator.daraja.b2c import routes as b2c_routes
        from emulator.daraja.balance import routes as balance_routes
        from emulator.daraja.reversal import routes as reversal_routes
        from emulator.daraja.txstatus import routes as txstatus_routes

        return [route for family in (b2c_routes, b2b_routes, reversal_routes, txstatus_routes,
                                     balance_routes)
                for route in family.routes(self.initiator_lifecycle, self.oauth, self.web,
                                           self.faults)]

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
        self.ledger.restore()
        payments = self.c2b.payments.restore()
        self.c2b.restore(self.c2b.registrations.restore(), payments)
        self.c2b_lifecycle.restore(payments)
        for code in self.qr.codes.restore():
            self.qr.codes.put(code, finished=True)
        txns = self.stk.records.restore()
        self.stk.restore(txns)
        self.lifecycle.restore(txns)
        jobs = self.initiators.jobs.restore()
        self.initiators.restore(jobs)
        self.initiator_lifecycle.restore(jobs)
        # nothing posts before this returns (the loop is ours); the port opens just after
        for delivery in (self.delivery, self._validation_delivery):  # both built by now
            delivery.hold(RESTART_GRACE)
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
        """Transactions, locks, queued outcomes, scheduled callbacks, C2B payments, QR codes,
        faults and the request log go and balances return to their opening values; tokens, C2B URL
        registrations, the default scenario and the rate limit stay."""
        self.lifecycle.reset()
        self.stk.reset()
        if self._built("c2b_lifecycle"):
            self.c2b_lifecycle.reset()
        if self._built("c2b"):
            self.c2b.reset()
        if self._built("qr"):
            self.qr.reset()
        if self._built("initiator_lifecycle"):
            self.initiator_lifecycle.reset()
        if self._built("initiators"):
            self.initiators.reset()
        self.ledger.reset()
        self.faults.book.reset()
        self.requests.clear()
        self.inbox.clear()
        self.events.publish("reset")

    async def aclose(self) -> None:
        await self.lifecycle.drain()
        if self._built("c2b_lifecycle"):
            await self.c2b_lifecycle.drain()
        if self._built("initiator_lifecycle"):
            await self.initiator_lifecycle.drain()
            self.initiator_lifecycle.reset()
        self.lifecycle.reset()
        if self._built("c2b_lifecycle"):
            self.c2b_lifecycle.reset()
        await self.delivery.aclose()
        if self._built("_validation_delivery"):
            await self._validation_delivery.aclose()
        if self.state_file is not None:
            self.state_file.close()
