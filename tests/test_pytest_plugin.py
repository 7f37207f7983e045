"""The pytest plugin as users meet it: pytest in a subprocess, the plugin loaded by entry point."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import EmulatorServer, Settings
from emulator.handle import EmulatorHandle

pytest_plugins = ["pytester"]

STRICT_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest -p no:faker -p no:anyio
filterwarnings = error
"""  # other installed plugins are switched off: they only slow each inner run down
HELPERS = Path(__file__).with_name("helpers.py").read_text()
CONFTEST = """
import pytest
from helpers import CallbackReceiver, Daraja

@pytest.fixture
def receiver():
    r = CallbackReceiver()
    yield r
    r.close()

@pytest.fixture
def daraja(daraja_emulator, receiver):
    client = Daraja(daraja_emulator.url, receiver.url())
    yield client
    client.close()
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with strict settings, a Daraja client and a callback receiver fixture."""
    pytester.makeini(STRICT_INI)
    pytester.makepyfile(helpers=HELPERS)
    pytester.makeconftest(CONFTEST)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-v", *args, timeout=120)


def test_one_server_per_session_reset_before_each_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import threading

        URLS = []

        def servers():
            return [t for t in threading.enumerate() if t.name.startswith("daraja-emulator:")]

        def test_first(daraja_emulator, daraja, receiver):
            URLS.append(daraja_emulator.url)
            checkout_id = daraja.push("254708374149").json()["CheckoutRequestID"]
            txn = daraja_emulator.wait_for_callback(checkout_id, timeout=2)
            assert txn["result_code"] == 0 and txn["callback_attempts"][0]["status"] == 200
            assert receiver.for_id(checkout_id)
            daraja_emulator.set_default_scenario("cancelled")
            daraja_emulator.set_time_scale(5)
            daraja_emulator.queue("timeout")

        def test_second(daraja_emulator):
            assert daraja_emulator.url == URLS[0]
            assert daraja_emulator.transactions() == []
            assert daraja_emulator.queued() == []
            assert daraja_emulator.default_scenario() == "success"
            assert daraja_emulator.time_scale() == 0.001
            assert len(servers()) == 1
        """
    )
    run(inner).assert_outcomes(passed=2)


def test_settings_fixture_can_be_overridden(inner: pytest.Pytester) -> None:
    inner.makeconftest(
        CONFTEST
        + """
from emulator import Settings

@pytest.fixture(scope="session")
def daraja_emulator_settings():
    return Settings(time_scale=0, default_scenario="wrong-pin")
"""
    )
    inner.makepyfile(
        """
        def test_settings(daraja_emulator, daraja_emulator_server):
            assert daraja_emulator.time_scale() == 0
            assert daraja_emulator.default_scenario() == "wrong-pin"
            assert daraja_emulator.url == daraja_emulator_server.url
        """
    )
    run(inner).assert_outcomes(passed=1)


def test_marker_sets_scenario_and_time_scale_for_one_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.daraja(scenario="cancelled", time_scale=0)
        def test_marked(daraja_emulator, daraja):
            assert daraja_emulator.time_scale() == 0
            checkout_id = daraja.push("254711222333").json()["CheckoutRequestID"]
            assert daraja_emulator.wait_for_callback(checkout_id)["result_code"] == 1032

        @pytest.mark.daraja("insufficient-balance")
        def test_positional(daraja_emulator):
            assert daraja_emulator.default_scenario() == "insufficient-balance"
            assert daraja_emulator.time_scale() == 0.001

        def test_unmarked_gets_the_defaults_back(daraja_emulator):
            assert daraja_emulator.default_scenario() == "success"
            assert daraja_emulator.time_scale() == 0.001

        @pytest.mark.daraja(scenario="no-such")
        def test_unknown_scenario(daraja_emulator):
            pass

        @pytest.mark.daraja(speed=3)
        def test_unknown_option(daraja_emulator):
            pass
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_unknown_scenario*",
            "@pytest.mark.daraja: no*scenario named 'no-such'*",
            "*ERROR at setup of test_unknown_option*",
            "@pytest.mark.daraja: unknown option(s) ['speed']; use ['scenario', 'time_scale', "
            "'balances', 'initiator']",
        ]
    )


def test_marker_is_registered_for_strict_markers(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.daraja(scenario=None, time_scale=None, balances=None, initiator=None):*"])


def test_marker_sets_wallets_and_the_handle_reads_the_ledger(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.daraja(balances={"254722000123": 5})
        def test_poor(daraja_emulator, daraja):
            assert daraja_emulator.customer("254722000123")["balance"] == "5.00"
            checkout_id = daraja.push("254722000123", Amount=10).json()["CheckoutRequestID"]
            assert daraja_emulator.wait_for_callback(checkout_id)["result_code"] == 1

        def test_qa_payment(daraja_emulator):
            assert daraja_emulator.customer("254722000123")["balance"] == "100000.00"
            p = daraja_emulator.c2b_pay("600000", "254722000123", 7, "ACC")
            done = daraja_emulator.wait_for_c2b(p["trans_id"])
            assert done["state"] == "completed"
            [entry] = daraja_emulator.entries(phone="254722000123")
            assert entry["amount"] == "7.00" and entry["receipt"] == p["trans_id"]
            assert daraja_emulator.business("600000")["accounts"]["Utility Account"] == "1000007.00"
        """
    )
    run(inner).assert_outcomes(passed=2)


INITIATOR_TESTS = """
import time

import pytest

def b2c(daraja, credential, **fields):
    body = {"InitiatorName": "testapi", "SecurityCredential": credential,
            "CommandID": "BusinessPayment", "Amount": 100, "PartyA": "600992",
            "PartyB": "254705912645", "Remarks": "refund", "Occassion": "",
            "OriginatorConversationID": f"refund-{time.monotonic_ns()}",
            "QueueTimeOutURL": daraja.callback_url, "ResultURL": daraja.callback_url, **fields}
    r = daraja.http.post("/mpesa/b2c/v3/paymentrequest", json=body, headers=daraja.auth())
    assert r.status_code == 200, r.text
    return r.json()["ConversationID"]

@pytest.mark.daraja(initiator={"b2c": ["initiator-invalid", "initiator-result-lost"]})
def test_queued_per_api(daraja_emulator, daraja, daraja_security_credential):
    assert len(daraja_security_credential) == 344
    first = daraja_emulator.wait_for_result(b2c(daraja, daraja_security_credential))
    assert first["result_code"] == 2001 and first["attempts"][0]["status"] == 200
    lost = daraja_emulator.wait_for_result(b2c(daraja, daraja_security_credential))
    assert lost["result_mode"] == "never" and lost["attempts"] == []
    assert daraja_emulator.initiator_queue() == []

@pytest.mark.daraja(initiator="initiator-locked")
def test_queued_for_any_api(daraja_emulator):
    assert daraja_emulator.initiator_queue() == [
        {"api": None, "scenarios": ["initiator-locked"]}]

def test_unmarked_has_no_queue_and_results_are_reset(daraja_emulator):
    assert daraja_emulator.initiator_queue() == []
    assert daraja_emulator.initiator_results() == []

@pytest.mark.daraja(time_scale=1000)
def test_wait_says_what_happened(daraja_emulator, daraja, daraja_security_credential):
    daraja_emulator.wait_for_result(b2c(daraja, daraja_security_credential), timeout=0.1)

@pytest.mark.daraja(initiator="success")
def test_not_an_initiator_scenario(daraja_emulator):
    pass

@pytest.mark.daraja(initiator={"b2c": 3})
def test_malformed(daraja_emulator):
    pass
"""


def test_marker_queues_initiator_outcomes(inner: pytest.Pytester) -> None:
    inner.makepyfile(INITIATOR_TESTS)
    result = run(inner)
    result.assert_outcomes(passed=3, failed=1, errors=2)
    result.stdout.fnmatch_lines([
        "E*ResultTimeout: no result for AG_* within 0.1s.",
        "E*Request: AG_* api=b2c initiator=testapi scenario=- state=pending result=- posts=0",
        "E*Its result is due in *s: fast_forward_result() it or lower the time scale.",
        "E*Recent initiator requests (newest first, 1 shown):",
    ])
    result.stdout.fnmatch_lines([
        "*ERROR at setup of test_not_an_initiator_scenario*",
        "@pytest.mark.daraja: no initiator scenario named 'success'",
        "*ERROR at setup of test_malformed*",
        "@pytest.mark.daraja: initiator must be a scenario name or {api: scenario or "
        "[scenarios]}",
    ])


def test_security_credential_under_strict_credentials(inner: pytest.Pytester) -> None:
    pytest.importorskip("cryptography")
    inner.makeconftest(CONFTEST + """
from emulator import Settings

@pytest.fixture(scope="session")
def daraja_emulator_settings():
    return Settings(time_scale=0, strict_credentials=True)
""")
    inner.makepyfile(INITIATOR_TESTS.split("@pytest.mark")[0] + """
def test_strict(daraja_emulator, daraja, daraja_security_credential):
    assert daraja_emulator.wait_for_result(b2c(daraja, daraja_security_credential))[
        "result_code"] == 0
    wrong = daraja_emulator.security_credential("not the password")
    failed = daraja_emulator.wait_for_result(b2c(daraja, wrong))
    assert failed["result_code"] == 2001 and "not the initiator's password" in failed[
        "credential"]
""")
    run(inner).assert_outcomes(passed=1)


EXTERNAL_TEST = """
import threading

def test_external(daraja_emulator, daraja):
    assert daraja_emulator.url == "{url}"
    assert not [t for t in threading.enumerate() if t.name.startswith("daraja-emulator:")]
    daraja_emulator.set_default_scenario("cancelled")
    checkout_id = daraja.push("254711000333").json()["CheckoutRequestID"]
    assert daraja_emulator.wait_for_callback(checkout_id)["result_code"] == 1032
"""


@pytest.fixture(scope="module")
def external() -> Iterator[EmulatorServer]:
    """An emulator running already, as in CI. Module scope starts it before pytester snapshots
    sys.modules, so what it imports lazily (httpcore) is not unloaded under httpx's feet."""
    with EmulatorServer(Settings(time_scale=0)) as server:
        yield server


@pytest.mark.parametrize("how", ["option", "env"])
def test_external_server_instead_of_starting_one(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, external: EmulatorServer, how: str
) -> None:
    inner.makepyfile(EXTERNAL_TEST.format(url=external.url))
    if how == "env":
        monkeypatch.setenv("DARAJA_EMULATOR_URL", external.url)
        result = run(inner)
    else:
        result = run(inner, f"--daraja-url={external.url}")
    result.assert_outcomes(passed=1)
    with EmulatorHandle(external.url) as emu:
        [txn] = emu.transactions(phone="254711000333")  # the push reached this server
        assert txn["result_code"] == 1032
        assert emu.default_scenario() == "success"  # the shared server is left as found


def test_external_server_that_is_not_there(inner: pytest.Pytester) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    inner.makepyfile("def test_it(daraja_emulator):\n    pass\n")
    result = run(inner, f"--daraja-url={url}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*daraja_emulator: no emulator at {url}*"])


def test_wait_for_callback_says_what_happened_instead(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.daraja(time_scale=1000)
        def test_slow(daraja_emulator, daraja):
            daraja.push("254700001032")
            checkout_id = daraja.push("254708374149").json()["CheckoutRequestID"]
            daraja_emulator.wait_for_callback(checkout_id, timeout=0.2)

        def test_unknown(daraja_emulator):
            daraja_emulator.wait_for_callback("ws_CO_nope", timeout=0.1)
        """
    )
    result = run(inner)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E*CallbackTimeout: no callback for ws_CO_*708374149 within 0.2s.",
            "E*Transaction: ws_CO_* phone=254708374149 scenario=success state=pending*",
            "E*Its outcome is due in *s: fast_forward() it, decide() it, or lower the time scale.",
            "E*Timeline:",
            "E*push accepted; matched scenario 'success'*",
            "E*Callback attempts:",
            "E*none",
            "E*Recent transactions (newest first, 2 shown):",
            "E*phone=254708374149*",
            "E*phone=254700001032 scenario=cancelled state=pending*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E*no callback for ws_CO_nope within 0.1s.",
            "E*The emulator has no such transaction (was the push accepted?).",
            "E*Recent transactions (newest first, 0 shown):",
        ]
    )


def test_server_errors_fail_the_test_that_caused_them(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import time
        import httpx

        def kaboom(*args, **kwargs):
            raise RuntimeError("kaboom")

        def test_request_crash(daraja_emulator, daraja_emulator_server, monkeypatch):
            monkeypatch.setattr(daraja_emulator_server.emulator.oauth, "issue", kaboom)
            r = httpx.get(f"{daraja_emulator.url}/oauth/v1/generate?grant_type=client_credentials")
            assert r.status_code == 500  # the test's own assertions pass

        def test_next_test_is_clean(daraja_emulator):
            pass

        def test_scheduled_job_crash(daraja_emulator, daraja_emulator_server, daraja, monkeypatch):
            monkeypatch.setattr(daraja_emulator_server.emulator.stk, "complete", kaboom)
            daraja.push("254708374149")
            time.sleep(0.3)

        def test_failing_test_shows_them_too(daraja_emulator, daraja_emulator_server, monkeypatch):
            monkeypatch.setattr(daraja_emulator_server.emulator.oauth, "issue", kaboom)
            httpx.get(f"{daraja_emulator.url}/oauth/v1/generate?grant_type=client_credentials")
            assert False, "own failure"
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ test_request_crash _*",
            "the Daraja Emulator logged errors during this test:",
            "ERROR emulator.app: internal error on GET /oauth/v1/generate",
            "Traceback*",
            "RuntimeError: kaboom",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_scheduled_job_crash _*",
            "the Daraja Emulator logged errors during this test:",
            "ERROR emulator.scheduler: scheduled job ws_CO_* failed",
            "*RuntimeError: kaboom",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_failing_test_shows_them_too _*",
            "*AssertionError: own failure*",
            "*daraja emulator errors*",
            "ERROR emulator.app: internal error on GET /oauth/v1/generate",
        ]
    )


def test_nothing_starts_without_the_fixture(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import threading

        def test_plugin_is_loaded(pytestconfig):
            assert pytestconfig.pluginmanager.hasplugin("daraja_emulator")

        def test_no_server_thread():
            names = [t.name for t in threading.enumerate()]
            assert not [n for n in names if n.startswith("daraja-emulator")], names
        """
    )
    run(inner).assert_outcomes(passed=2)
