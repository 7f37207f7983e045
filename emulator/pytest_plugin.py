"""pytest fixtures and the `daraja` marker; the only module that imports pytest.

Loaded through the `pytest11` entry point, it starts nothing until a test asks for
`daraja_emulator`: then one emulator serves the whole session (or the one at --daraja-url),
reset before each test. Errors the in-process server logs fail the test that caused them.

    def test_pay(daraja_emulator):
        shop = Shop(daraja_url=daraja_emulator.url)
        ...

    @pytest.mark.daraja(scenario="cancelled", time_scale=0)
    def test_cancel(daraja_emulator): ...

    @pytest.mark.daraja(balances={"254708374149": 5})   # wallets (KES) before the test
    def test_too_poor(daraja_emulator): ...

    @pytest.mark.daraja(initiator={"b2c": "initiator-result-lost"})  # the next B2C result
    def test_refund_recovered(daraja_emulator, daraja_security_credential): ...
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from emulator.config import Settings
from emulator.handle import AdminAPIError, EmulatorHandle, EmulatorUnreachable

if TYPE_CHECKING:
    from emulator.testing import EmulatorServer

FAST_TIME_SCALE = 0.001  # a 90-second scenario ends in 90 ms
URL_ENV, TOKEN_ENV = "DARAJA_EMULATOR_URL", "DARAJA_ADMIN_TOKEN"
MARKER_OPTIONS = ("scenario", "time_scale", "balances", "initiator")
SANDBOX_PASSWORD = "Safaricom999!*!"  # testapi's, known to every emulator (strict or not)


class ServerErrors(logging.Handler):
    """Collects ERROR records logged in one server thread, for the test running against it."""

    def __init__(self, thread_name: str) -> None:
        super().__init__(logging.ERROR)
        self.thread_name = thread_name
        self.records: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName == self.thread_name:
            self.records.append(self.format(record))

    def drain(self) -> str:
        """Everything recorded since the last drain, as text ('' when nothing)."""
        self.acquire()
        try:
            text, self.records = "\n".join(self.records), []
        finally:
            self.release()
        return text


# loggers whose errors count: the emulator's own, and asyncio's for failed scheduled jobs
WATCHED_LOGGERS = ("emulator", "asyncio")
ERRORS_KEY = pytest.StashKey[ServerErrors]()


@contextmanager
def _watching(errors: ServerErrors | None) -> Iterator[None]:
    if errors is None:
        yield
        return
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for logger in loggers:
        logger.addHandler(errors)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(errors)


@dataclass(frozen=True)
class _Session:
    handle: EmulatorHandle
    errors: ServerErrors | None  # None for an external server: its logs are not ours
    baseline: tuple[str, float]  # default scenario and time scale when the session began


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("daraja-emulator", "Daraja Emulator")
    group.addoption(
        "--daraja-url",
        metavar="URL",
        help=f"use the Daraja Emulator running at URL instead of starting one [env {URL_ENV}]",
    )
    group.addoption(
        "--daraja-admin-token",
        metavar="TOKEN",
        help=f"admin token of the emulator at --daraja-url [env {TOKEN_ENV}]",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "daraja(scenario=None, time_scale=None, balances=None, initiator=None): default "
        "scenario, time scale, customer wallets ({phone: KES}) and queued initiator outcomes "
        "(a scenario for the next request to any initiator API, or {api: scenario or "
        "[scenarios]}) of the daraja_emulator for this test",
    )


def _option(config: pytest.Config, name: str, env: str) -> str | None:
    return config.getoption(name) or os.environ.get(env) or None


@pytest.fixture(scope="session")
def daraja_emulator_settings() -> Settings:
    """Settings of the in-process server; override this fixture to change them."""
    return Settings(time_scale=FAST_TIME_SCALE)


@pytest.fixture(scope="session")
def daraja_emulator_server(
    request: pytest.FixtureRequest, daraja_emulator_settings: Settings
) -> Iterator[EmulatorServer | None]:
    """The session's in-process server, or None when --daraja-url names one already running."""
    if _option(request.config, "daraja_url", URL_ENV):
        yield None
        return
    from emulator.testing import EmulatorServer

    with EmulatorServer(daraja_emulator_settings) as server:
        yield server


@pytest.fixture(scope="session")
def _daraja_emulator_session(
    request: pytest.FixtureRequest, daraja_emulator_server: EmulatorServer | None
) -> Iterator[_Session]:
    server = daraja_emulator_server
    if server is None:
        url = str(_option(request.config, "daraja_url", URL_ENV))
        token = _option(request.config, "daraja_admin_token", TOKEN_ENV)
        errors = None
    else:
        url, token = server.url, server.settings.admin_token
        errors = ServerErrors(f"daraja-emulator:{server.port}")
    with EmulatorHandle(url, admin_token=token) as handle, _watching(errors):
        session = _Session(handle, errors, _baseline(handle))
        yield session
        _restore(handle, session.baseline)  # leave a shared server as it was found


def _baseline(handle: EmulatorHandle) -> tuple[str, float]:
    try:
        health = handle.health()
    except (EmulatorUnreachable, AdminAPIError) as exc:
        problem = str(exc)
    else:
        return health["default_scenario"], float(health["time_scale"])
    pytest.fail(f"daraja_emulator: {problem}", pytrace=False)


@pytest.fixture
def daraja_emulator(
    request: pytest.FixtureRequest, _daraja_emulator_session: _Session
) -> Iterator[EmulatorHandle]:
    """The session's emulator, reset, with this test's `daraja` marker applied."""
    session = _daraja_emulator_session
    handle = session.handle
    handle.reset()
    _restore(handle, session.baseline)
    _apply_marker(handle, request.node.get_closest_marker("daraja"))
    if session.errors is not None:
        session.errors.drain()
        request.node.stash[ERRORS_KEY] = session.errors
    yield handle
    if session.errors is not None and (late := session.errors.drain()):
        pytest.fail(f"the Daraja Emulator logged errors after the test:\n{late}", pytrace=False)


@pytest.fixture
def daraja_security_credential(daraja_emulator: EmulatorHandle) -> str:
    """A SecurityCredential the emulator accepts for the initiator `testapi`: its password
    encrypted with the emulator's certificate under --strict-credentials, else any
    well-formed one (344 characters), as lenient mode asks no more."""
    try:
        return daraja_emulator.security_credential(SANDBOX_PASSWORD)
    except AdminAPIError as exc:
        if exc.status != 404:  # 404: no certificate, so lenient mode
            raise
    return base64.b64encode(os.urandom(256)).decode()


def _restore(handle: EmulatorHandle, baseline: tuple[str, float]) -> None:
    """Undo an earlier test's default scenario and time scale, which reset() keeps."""
    if _baseline(handle) == baseline:
        return
    scenario, scale = baseline
    handle.set_default_scenario(scenario)
    handle.set_time_scale(scale)


def _marker_options(marker: pytest.Mark) -> dict[str, Any]:
    options = dict(marker.kwargs)
    if len(marker.args) > 1 or (marker.args and "scenario" in options):
        pytest.fail("@pytest.mark.daraja takes one scenario name at most", pytrace=False)
    if marker.args:
        options["scenario"] = marker.args[0]
    unknown = sorted(set(options) - set(MARKER_OPTIONS))
    if unknown:
        pytest.fail(
            f"@pytest.mark.daraja: unknown option(s) {unknown}; use {list(MARKER_OPTIONS)}",
            pytrace=False,
        )
    return options


def _apply_marker(handle: EmulatorHandle, marker: pytest.Mark | None) -> None:
    options = _marker_options(marker) if marker is not None else {}
    problem = None
    try:
        if options.get("scenario") is not None:
            handle.set_default_scenario(options["scenario"])
        if options.get("time_scale") is not None:
            handle.set_time_scale(options["time_scale"])
        for phone, balance in (options.get("balances") or {}).items():
            handle.set_customer_balance(str(phone), balance)
        for api, scenario in _initiator_outcomes(options.get("initiator")):
            handle.queue_initiator(scenario, api)
    except AdminAPIError as exc:
        problem = exc.message
    if problem:  # failed outside the except block, so the report shows no chained traceback
        pytest.fail(f"@pytest.mark.daraja: {problem}", pytrace=False)


def _initiator_outcomes(option: object) -> list[tuple[str | None, str]]:
    """The marker's `initiator` as (api or None, scenario) pairs, in queue order."""
    if option is None:
        return []
    if isinstance(option, str):
        return [(None, option)]
    if isinstance(option, dict):
        pairs: list[tuple[str | None, str]] = []
        for api, scenarios in option.items():
            names = [scenarios] if isinstance(scenarios, str) else scenarios
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
                break
            pairs += [(str(api), name) for name in names]
        else:
            return pairs
    pytest.fail("@pytest.mark.daraja: initiator must be a scenario name or {api: scenario or "
                "[scenarios]}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a passing test whose server logged errors; add them to a failing test's report."""
    errors = item.stash.get(ERRORS_KEY, None)
    try:
        result = yield
    except BaseException:
        if errors is not None and (text := errors.drain()):
            item.add_report_section("call", "daraja emulator errors", text)
        raise
    if errors is not None and (text := errors.drain()):
        pytest.fail(f"the Daraja Emulator logged errors during this test:\n{text}", pytrace=False)
    return result
