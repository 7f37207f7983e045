"""Every admin number is checked (finite, bounded) before anything changes, over real HTTP:
issue #12's NaN time scale, `?limit=²`, 5000-digit limits and 1e20-second faults gave 500s or
nonsense; now each is a 400 naming the bounds. Hypothesis then throws arbitrary numbers, number
literals and texts at every numeric field: never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja

JSON = {"Content-Type": "application/json"}
# JSON number literals the stdlib parser accepts, beyond what json.dumps would write
LITERALS = ["NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e400", "1e20", "-0.0", "0",
            "1", "1000", "1000.0001", "86400", "86400.5", "10000", "10001", "300", "300.01",
            "0.5", "2.0", "1" + "0" * 4000, "-" + "9" * 300, "true", "null", '"5"', "[]", "{}"]


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, seed=13)) as s:
        yield s


@pytest.fixture(scope="module")
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def pending_id(server: EmulatorServer, receiver: CallbackReceiver) -> Iterator[str]:
    """A transaction that stays pending (a day away), for decide."""
    httpx.post(f"{server.url}/_emulator/time", json={"scale": 1000}).raise_for_status()
    daraja = Daraja(server.url, receiver.url())
    yield daraja.push("254708374149").json()["CheckoutRequestID"]
    daraja.close()


def _post(http: httpx.Client, path: str, text: str) -> httpx.Response:
    return http.post(f"/_emulator{path}", content=text.encode(), headers=JSON)


@pytest.mark.parametrize("scale", ["NaN", "Infinity", "-Infinity", "1e308", "1000.5", "-1",
                                   "1e400", "true", '"2"', "null"])
def test_time_scale_is_finite_and_bounded(http: httpx.Client, scale: str) -> None:
    before = http.get("/_emulator/time").json()["time_scale"]
    r = _post(http, "/time", f'{{"scale": {scale}}}')
    assert r.status_code == 400 and "from 0 to 1000" in r.json()["error"], scale
    assert http.get("/_emulator/time").json()["time_scale"] == before
    assert http.get("/_emulator/health").json()["time_scale"] == before


@pytest.mark.parametrize("scale", [0, 0.001, 1, 1000])
def test_time_scale_within_bounds_is_taken(http: httpx.Client, scale: float) -> None:
    assert _post(http, "/time", json.dumps({"scale": scale})).json()["time_scale"] == scale


@pytest.mark.parametrize("path", ["/transactions", "/requests"])
@pytest.mark.parametrize("limit", ["²", "٣", "5" * 5000, "0", "1000001", "-1", "+5", " 5", "1e3",
                                   "0x10", "5.0"])
def test_limit_is_ascii_digits_within_bounds(http: httpx.Client, path: str, limit: str) -> None:
    r = http.get(f"/_emulator{path}", params={"limit": limit})
    assert r.status_code == 400 and "1 to 1000000" in r.json()["error"], limit


@pytest.mark.parametrize("path", ["/transactions", "/requests"])
def test_limit_within_bounds_or_absent_works(http: httpx.Client, path: str) -> None:
    for params in ({"limit": "1"}, {"limit": "1000000"}, {"limit": ""}, {}):
        assert http.get(f"/_emulator{path}", params=params).status_code == 200


@pytest.mark.parametrize(("field", "value", "bound"), [
    ("seconds", "1e20", "at most 86400"), ("seconds", "NaN", "at most 86400"),
    ("seconds", "86401", "at most 86400"), ("seconds", "0", "over 0"),
    ("count", "1e20", "from 1 to 10000"), ("count", "10001", "from 1 to 10000"),
    ("count", "1" + "0" * 4000, "1 to 10000"), ("count", "2.5", "whole number"),
    ("count", "0", "from 1 to 10000"), ("delay", "1e9", "at most 300"),
    ("delay", "Infinity", "at most 300"), ("delay", "-1", "over 0"),
])
def test_fault_numbers_are_bounded(http: httpx.Client, field: str, value: str,
                                   bound: str) -> None:
    r = _post(http, "/faults", f'{{"fault": "slow", "{field}": {value}}}')
    assert r.status_code == 400 and bound in r.json()["error"], (field, value)
    assert http.get("/_emulator/faults").json()["rules"] == []


def test_fault_numbers_at_their_bounds_are_taken(http: httpx.Client) -> None:
    for body in ({"fault": "slow", "seconds": 86400, "delay": 300}, {"fault": "drop",
                                                                      "count": 10000}):
        assert _post(http, "/faults", json.dumps(body)).status_code == 200
    assert len(http.get("/_emulator/faults").json()["rules"]) == 2
    http.delete("/_emulator/faults", headers=JSON).raise_for_status()


@pytest.mark.parametrize("value", ["1e20", "1" + "0" * 30, "0", "1.5", "NaN"])
def test_rate_limit_is_bounded(http: httpx.Client, value: str) -> None:
    r = http.put("/_emulator/faults/rate-limit", content=f'{{"per_second": {value}}}',
                 headers=JSON)
    assert r.status_code == 400 and r.json()["error"].startswith("per_second")
    assert http.get("/_emulator/faults").json()["rate_limit"] is None


@pytest.mark.parametrize("body", [
    '{"result_code": ' + "9" * 4000 + ', "result_desc": "x"}',
    '{"result_code": 2147483648, "result_desc": "x"}',
    '{"result_code": "' + "7" * 65 + '", "result_desc": "x"}',
    '{"result_code": 0, "result_desc": "' + "d" * 1001 + '"}',
    '{"result_code": NaN}',
])
def test_decide_codes_are_bounded(http: httpx.Client, pending_id: str, body: str) -> None:
    r = _post(http, f"/transactions/{pending_id}/decide", body)
    assert r.status_code == 400, r.text
    assert http.get(f"/_emulator/transactions/{pending_id}").json()["state"] == "pending"


# --- property: never a 500 -----------------------------------------------------------------

NUMBER_TEXT = st.one_of(
    st.sampled_from(LITERALS),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=8).map(json.dumps),
)
FIELDS = {
    "/time": ["scale"],
    "/faults": ["seconds", "count", "delay"],
    "/faults/rate-limit": ["per_second"],
    "/queue": ["count"],
}
RELAXED = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


@RELAXED
@given(path=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_admin_numbers_never_give_a_500(http: httpx.Client, path: str,
                                        data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(FIELDS[path]), min_size=1, unique=True))
    values = [data.draw(NUMBER_TEXT, label=name) for name in names]
    pairs = ", ".join(f'"{n}": {v}' for n, v in zip(names, values, strict=True))
    extra = {"/faults": '"fault": "slow", ', "/queue": '"scenario": "success", '}.get(path, "")
    method = "PUT" if path == "/faults/rate-limit" else "POST"
    r = http.request(method, f"/_emulator{path}", content=f"{{{extra}{pairs}}}".encode(),
                     headers=JSON)
    assert r.status_code in (200, 400), (path, pairs, r.status_code, r.text)
    if r.status_code == 400:
        assert r.json()["error"]
    now = http.get("/_emulator/time").json()["time_scale"]
    assert 0 <= now <= 1000  # no NaN, no infinity ever taken
    http.post("/_emulator/reset")  # faults and queue go; the rate limit and time scale stay
    http.put("/_emulator/faults/rate-limit", json={"per_second": None})


@RELAXED
@given(limit=st.one_of(st.text(max_size=12), st.integers(min_value=-5, max_value=20_000).map(str),
                       st.sampled_from(["²", "5" * 5000, "1" * 7])))
def test_limits_never_give_a_500(http: httpx.Client, limit: str) -> None:
    for path in ("/transactions", "/requests"):
        r = http.get(f"/_emulator{path}", params={"limit": limit})
        assert r.status_code in (200, 400), (path, limit, r.text)
        digits = limit.isascii() and limit.isdigit() and len(limit) < 9
        ok = limit == "" or (digits and 1 <= int(limit) <= 1_000_000)
        assert (r.status_code == 200) == ok, (path, limit)
