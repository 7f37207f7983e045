"""C2B, Dynamic QR and the initiator APIs are built on their first request (kernel/lazy.py): until
then their paths still answer as Daraja does (405, 404 beside them), and once built they serve
as if built at start-up. Real servers, real HTTP."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from emulator.config import Settings
from emulator.daraja import b2b, b2c, balance, c2b, qr, reversal, txstatus
from emulator.testing import EmulatorServer
from tests import initiator_client
from tests.c2b_receiver import MerchantReceiver
from tests.helpers import CallbackReceiver, Daraja, password

LAZY = ("c2b", "c2b_lifecycle", "qr", "initiators", "initiator_lifecycle")
INITIATORS = {"initiators", "initiator_lifecycle"}


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=1000, seed=3)) as running:
        yield running


@pytest.fixture
def daraja(server: EmulatorServer) -> Iterator[Daraja]:
    client = Daraja(server.url, "http://127.0.0.1:9/cb")
    yield client
    client.http.close()


def built(server: EmulatorServer) -> set[str]:
    return {name for name in LAZY if server.emulator._built(name)}


def test_start_up_builds_neither(server: EmulatorServer, daraja: Daraja) -> None:
    assert daraja.push().status_code == 200
    assert httpx.get(f"{server.url}/_emulator/health").status_code == 200
    httpx.post(f"{server.url}/_emulator/reset").raise_for_status()
    assert built(server) == set()


def test_a_wrong_method_is_405_before_and_after_building(server: EmulatorServer) -> None:
    url = f"{server.url}{b2c.V1_PATH}"
    before = httpx.get(url)
    assert built(server) == set()
    first = httpx.post(url, json={})  # no token: answered by the family, which it builds
    assert first.status_code == 404 and first.json()["errorCode"] == "404.001.03"
    assert built(server) == INITIATORS
    after = httpx.get(url)
    assert (before.status_code, before.headers.get("allow")) == (405, "POST")
    assert (after.status_code, after.headers.get("allow")) == (405, "POST")
    assert before.json()["errorCode"] == after.json()["errorCode"]


def test_the_first_request_builds_its_group_and_is_answered(
    server: EmulatorServer, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    bad = daraja.http.post(qr.PATH, json={}, headers=daraja.auth())
    assert bad.status_code == 400 and "errorCode" in bad.json()  # validated by the built family
    assert built(server) == {"qr"}
    answer = daraja.http.post(balance.PATH, headers=daraja.auth(),
                              json=initiator_client.body("balance", receiver))
    assert answer.status_code == 200, answer.text
    assert answer.json()["ResponseCode"] == "0"
    assert built(server) == {"qr"} | INITIATORS  # B2B tells C2B of a payee only once built


def test_c2b_is_built_by_its_first_request_and_then_confirms_pushes(
    receiver: CallbackReceiver,
) -> None:
    """A push before any C2B request builds nothing (no shortcode can have registered URLs
    yet); once a shortcode registers, a push to it is confirmed there as always."""
    settings = Settings(time_scale=0, seed=3, shortcodes={"600100": "pk"})
    merchant = MerchantReceiver()
    with EmulatorServer(settings) as running, contextlib.closing(merchant):
        shop = Daraja(running.url, receiver.url("/lazy-c2b"))

        def push() -> str:
            ts = datetime.now().strftime("%Y%m%d%H%M%S")
            r = shop.push(BusinessShortCode="600100", PartyB="600100", Timestamp=ts,
                          Password=password(ts, "600100", "pk"))
            assert r.status_code == 200, r.text
            [callback] = receiver.wait(r.json()["CheckoutRequestID"])
            items = callback["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
            return next(i["Value"] for i in items if i["Name"] == "MpesaReceiptNumber")

        push()
        assert built(running) == set()
        registered = shop.http.post(c2b.REGISTER_PATHS["v1"], headers=shop.auth(), json={
            "ShortCode": "600100", "ResponseType": "Completed",
            "ConfirmationURL": merchant.url("/confirm")})
        assert registered.status_code == 200, registered.text
        assert built(running) == {"c2b", "c2b_lifecycle"}
        receipt = push()
        [confirmation] = merchant.wait("/confirm", trans_id=receipt)
        assert confirmation["TransAmount"] == "1.00"
        shop.http.close()


def test_the_declared_paths_are_the_families_routes(server: EmulatorServer) -> None:
    emu = server.emulator
    c2b_paths = [route.path for route in emu._c2b_routes()]
    assert c2b_paths == list(c2b.PATHS)
    qr_paths = [route.path for route in emu._qr_routes()]
    initiator_paths = [route.path for route in emu._initiator_routes()]
    assert qr_paths == list(qr.PATHS)
    assert initiator_paths == [*b2c.PATHS, *b2b.PATHS, *reversal.PATHS, *txstatus.PATHS,
                               *balance.PATHS]
    served = {getattr(route, "path", None) for route in server.app.routes}
    assert set(c2b_paths + qr_paths + initiator_paths) <= served


def test_a_state_file_builds_them_at_start_up(tmp_path: Path) -> None:
    settings = Settings(time_scale=1000, state_file=tmp_path / "state.db")
    with EmulatorServer(settings) as running:
        assert built(running) == set(LAZY)  # their journals resume with the rest


def test_strict_credentials_are_made_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Their RSA key pair is made with the app, so a missing cryptography stops start-up
    instead of every initiator request answering 500."""
    from emulator.app import create_app
    from emulator.daraja.initiator.credential import NeedsCryptography

    app = create_app(Settings(strict_credentials=True))
    assert app.state.emulator._built("initiators")
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(NeedsCryptography):
        create_app(Settings(strict_credentials=True))


def test_every_admin_group_is_imported_by_its_first_request(server: EmulatorServer) -> None:
    """The admin API's groups are routed from start-up and imported when first asked (kernel/
    lazy.py `Later`): each answers its first request, a wrong method is a 405 before it is
    imported, and every handler the table names exists (a misspelt one fails here)."""
    from emulator.kernel.lazy import Later

    later = [route for route in server.app.routes if isinstance(getattr(route, "app", None), Later)]
    assert {route.app.module for route in later} == {
        f"emulator.admin.{name}" for name in
        ("core", "inbox", "faults", "ledger", "c2b", "qr", "initiators", "dashboard", "openapi")}
    url = server.url
    wrong = httpx.put(f"{url}/_emulator/c2b/payments")
    assert (wrong.status_code, set(wrong.headers["allow"].split(", "))) == (405, {"GET", "HEAD"})
    for path in ("/_emulator/transactions", "/_emulator/scenarios", "/_emulator/queue",
                 "/_emulator/time", "/_emulator/c2b/payments", "/_emulator/ledger/businesses",
                 "/_emulator/faults",
                 "/_emulator/requests", "/_emulator/qr", "/_emulator/initiators/results",
                 "/_emulator/inbox/shop", "/_emulator/openapi.json", "/_emulator/dashboard/"):
        assert httpx.get(f"{url}{path}").status_code == 200, path
    assert httpx.get(f"{url}/_emulator/dashboard/dashboard.js").status_code == 200
    assert httpx.get(f"{url}/_emulator/ledger/customers/254708374149").status_code == 200
    for route in later:
        route.app.resolve()
