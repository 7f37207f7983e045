"""The exact-path table in front of Starlette (kernel/direct.py, issue 13) answers every request
exactly as Starlette's full path does: the same statuses, headers and bodies for successes,
Daraja errors, faults, crashes, wrong methods and near-miss paths. Both run as real servers."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.config import Settings
from emulator.kernel.direct import DirectRoutes
from emulator.testing import EmulatorServer
from tests.helpers import Daraja

_IDS = re.compile(
    rb"ws_CO_\d+|[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d+|\"[A-Za-z0-9]{28}\""
)


def _mask(body: bytes) -> bytes:
    return _IDS.sub(b"<id>", body)


@pytest.fixture()
def pair() -> Iterator[tuple[EmulatorServer, EmulatorServer]]:
    """One server as built, one with an empty table: everything takes Starlette's path."""
    direct = EmulatorServer(Settings(time_scale=1000, seed=7))
    full = EmulatorServer(Settings(time_scale=1000, seed=7))
    full.app.direct = DirectRoutes([], {})  # type: ignore[attr-defined]
    with direct, full:
        yield direct, full


def _exchange(server: EmulatorServer) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """The same requests, in order, to one server: what a shop and a careless shop send."""
    d = Daraja(server.url, "http://127.0.0.1:9/cb")
    answers: list[httpx.Response] = []
    c = d.http
    answers.append(c.get("/oauth/v1/generate?grant_type=client_credentials", auth=("k", "s")))
    answers.append(c.get("/oauth/v1/generate?grant_type=client_credentials"))  # no Basic
    answers.append(c.get("/oauth/v1/generate?grant_type=password", auth=("k", "s")))
    answers.append(c.head("/oauth/v1/generate?grant_type=client_credentials", auth=("k", "s")))
    answers.append(c.post("/oauth/v1/generate?grant_type=client_credentials", auth=("k", "s")))
    answers.append(d.push("254708374149"))
    answers.append(d.push("254708374149"))  # the subscriber lock
    answers.append(d.push("0708374149"))  # Invalid PartyA
    answers.append(d.push("254799000001"))  # a magic fault number: spike arrest
    answers.append(c.post("/mpesa/stkpush/v1/processrequest", content=b"not json",
                          headers={**d.auth(), "Content-Type": "application/json"}))
    answers.append(c.post("/mpesa/stkpush/v1/processrequest", json={}))  # no token
    answers.append(c.post("/mpesa/stkpush/v1/processrequest", json={},
                          headers={"Authorization": "Bearer nope"}))
    answers.append(c.get("/mpesa/stkpush/v1/processrequest", headers=d.auth()))  # 405
    answers.append(c.post("/mpesa/stkpush/v1/processrequest/", json={}, headers=d.auth()))
    answers.append(c.post("/mpesa/stkpush/v1/processrequest?x=1", json=d.push_body("254708374150"),
                          headers=d.auth()))
    first = answers[5].json()["CheckoutRequestID"]
    answers.append(d.query(first))
    answers.append(d.query("ws_CO_unknown"))
    d.close()
    return [(r.status_code, sorted((k, v) for k, v in r.headers.items()
                                   if k not in ("date", "content-length")), _mask(r.content))
            for r in answers]


def test_every_answer_is_the_same_as_starlettes(
    pair: tuple[EmulatorServer, EmulatorServer],
) -> None:
    direct, full = pair
    got, want = _exchange(direct), _exchange(full)
    assert len(got) == len(want) == 17
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"request {index}"
    assert [s for s, _, _ in got][:9] == [200, 400, 400, 200, 405, 200, 500, 400, 500]


def test_a_crash_on_the_direct_path_is_a_daraja_500_logged_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kaboom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("kaboom")

    with EmulatorServer(Settings(time_scale=1000)) as server:
        d = Daraja(server.url, "http://127.0.0.1:9/cb")
        d.token()
        monkeypatch.setattr(server.emulator.stk, "push", kaboom)
        with caplog.at_level(logging.ERROR):
            r = d.push("254708374149")
        d.close()
    assert r.status_code == 500
    assert r.json()["errorCode"] == "500.003.1001" and set(r.json()) == {
        "requestId", "errorCode", "errorMessage"}
    crashes = [rec for rec in caplog.records if "kaboom" in str(rec.exc_info)]
    assert len(crashes) == 1 and crashes[0].name == "emulator.app"


def test_only_fixed_bare_endpoints_are_in_the_table() -> None:
    with EmulatorServer(Settings(time_scale=1000)) as server:
        table = server.app.direct._table  # type: ignore[attr-defined]
    assert ("POST", "/mpesa/stkpush/v1/processrequest") in table
    assert ("POST", "/mpesa/stkpushquery/v1/query") in table
    assert ("GET", "/oauth/v1/generate") in table
    assert not any(path.startswith("/_emulator") for _, path in table)
