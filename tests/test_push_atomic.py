"""A push is accepted all or nothing (issue 12): a failure after the phone is locked must not
leave the phone locked, or a transaction nobody was told about, behind."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja


@pytest.fixture
def fresh(receiver: CallbackReceiver) -> Iterator[tuple[EmulatorServer, Daraja]]:
    with EmulatorServer(Settings(time_scale=1, seed=3)) as server:
        client = Daraja(server.url, receiver.url())
        yield server, client
        client.close()


def _fail_once(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> None:
    original = getattr(target, name)
    calls = {"n": 0}

    def broken(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom after the lock")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, broken)


@pytest.mark.parametrize("where", ["scheduler", "events", "log"])
def test_failure_after_lock_releases_phone(
    fresh: tuple[EmulatorServer, Daraja], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    server, daraja = fresh
    emu = server.emulator
    daraja.token()  # before anything breaks
    target, name = {
        "scheduler": (emu.lifecycle.scheduler, "after"),
        "events": (emu.lifecycle.events, "publish"),
        "log": (emu.requests, "add"),
    }[where]
    _fail_once(monkeypatch, target, name)

    phone = "254708374149"
    first = daraja.push(phone)
    assert first.status_code == 500, first.text
    assert first.json()["errorCode"] == "500.003.1001"
    assert phone not in emu.stk.locks
    assert len(emu.stk.records) == 0
    # uvicorn closes a connection whose request raised (even after the 500 went out)
    daraja.http.close()
    daraja.http = httpx.Client(base_url=server.url, timeout=10)
    second = daraja.push(phone)
    assert second.status_code == 200, second.text
    assert emu.stk.locks[phone] == second.json()["CheckoutRequestID"]
    assert len(emu.stk.records) == 1


def test_withdrawn_push_gives_its_queued_outcome_back(
    fresh: tuple[EmulatorServer, Daraja], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, daraja = fresh
    emu = server.emulator
    emu.stk.queue("cancelled", "254708374149")
    _fail_once(monkeypatch, emu.lifecycle.scheduler, "after")
    daraja.token()
    assert daraja.push().status_code == 500
    assert list(emu.stk.queued["254708374149"]) == ["cancelled"]
    daraja.http.close()
    daraja.http = httpx.Client(base_url=server.url, timeout=10)
    r = daraja.push()
    assert r.status_code == 200
    txn = emu.stk.records.get(r.json()["CheckoutRequestID"])
    assert txn is not None and txn.scenario.name == "cancelled"
