"""Balances set through the admin API are bounded and exact: any number literal or text is a
200 or a 400 naming the bounds, never a 500 (Decimal's 1e999999 and 5000-digit integers were)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import EmulatorServer, Settings
from tests.test_admin_numbers import JSON, LITERALS

PATHS = ["/_emulator/ledger/customers/254708374149", "/_emulator/ledger/businesses/600000"]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with EmulatorServer(Settings(time_scale=0, seed=17)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("literal", [*LITERALS, '"1e999999"', '"1.005"', '"-5"', "1e12",
                                     "1000000000001", '"abc"'])
def test_balance_literals_are_answered(http: httpx.Client, literal: str) -> None:
    r = http.put(PATHS[0], content=f'{{"balance": {literal}}}', headers=JSON)
    assert r.status_code in (200, 400), (literal, r.text)
    if r.status_code == 400:
        assert "must be shillings from 0 to" in r.json()["error"]


def test_a_balance_is_set_exactly(http: httpx.Client) -> None:
    r = http.put(PATHS[0], json={"balance": "1500.50"})
    assert r.status_code == 200 and r.json()["balance"] == "1500.50"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                       st.decimals(allow_nan=False).map(str)))
def test_any_balance_is_a_200_or_a_400(http: httpx.Client, value: object) -> None:
    for path in PATHS:
        body = json.dumps({"balance": value, "account": "Utility"})  # NaN and all
        r = http.put(path, content=body, headers=JSON)
        assert r.status_code in (200, 400, 404), (path, value, r.text)
