"""What the log and the request journal say (issue 12): the cause, not the wire's words; short
scenario sources; a hint for a doubled slash; the container hint only where it can help."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.kernel import hostmap
from emulator.scenario.loader import load_scenarios
from tests.helpers import CallbackReceiver, Daraja
from tests.test_callback_host_map import attempts

PUSH = "/mpesa/stkpush/v1/processrequest"


def journal(client: Daraja) -> list[dict]:
    return list(client.admin("GET", "/requests")["requests"])


def last_detail(client: Daraja) -> str:
    return str(journal(client)[0]["detail"])


# --------------------------------------------------------------------------- (a) sources


def test_bundled_and_user_sources_are_short(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("result_code: 1031\ndelay: 1\n")
    by_name = {s.name: s for s in load_scenarios([tmp_path])}
    assert by_name["cancelled"].source == "bundled: cancelled.yaml"
    assert by_name["mine"].source == "mine.yaml"


def test_timeline_and_admin_name_the_bundled_file(daraja: Daraja) -> None:
    answer = daraja.push("254700001032").json()  # claimed by the bundled cancelled.yaml
    record = daraja.admin("GET", f"/transactions/{answer['CheckoutRequestID']}")
    text = str(record)
    assert "from bundled: cancelled.yaml" in text
    assert "/share/" not in text and "scenarios/cancelled.yaml" not in text
    sources = {s["name"]: s["source"] for s in daraja.admin("GET", "/scenarios")["scenarios"]}
    assert sources["cancelled"] == "bundled: cancelled.yaml"


# --------------------------------------------------------------------------- (b) why


@pytest.mark.parametrize(
    ("field", "value", "message", "why"),
    [
        ("PartyA", "0711000002", "Invalid PartyA",
         "PartyA must be 2547XXXXXXXX or 2541XXXXXXXX (12 digits), got '0711000002' "
         "(write it as 254711000002)"),
        ("PhoneNumber", "+254708374149", "Invalid PhoneNumber", "(without the +)"),
        ("BusinessShortCode", "12", "Invalid BusinessShortCode",
         "BusinessShortCode must be a shortcode of 5 to 8 digits, got '12'"),
        ("Timestamp", "20241301000000", "Invalid Timestamp",
         "Timestamp must be YYYYMMDDHHmmss (14 digits, a real date and time)"),
        ("TransactionType", "PayBill", "Invalid TransactionType",
         "TransactionType must be CustomerPayBillOnline or CustomerBuyGoodsOnline, got 'PayBill'"),
        ("Amount", 4.99, "Invalid Amount", "Amount must be a string or a whole number"),
        ("Amount", "0", "Invalid Amount", "Amount must be a whole number of shillings"),
        ("PartyB", "x", "Invalid PartyB", "PartyB must be a shortcode of 5 to 8 digits"),
        ("CallBackURL", "https://<your-ngrok-url>/cb", "Invalid CallBackURL",
         "a placeholder left in?"),
        ("CallBackURL", "ftp://shop.example.com/cb", "Invalid CallBackURL",
         "CallBackURL must be an http(s) URL with a host"),
        ("AccountReference", " ", "Invalid AccountReference", "AccountReference is empty"),
        ("TransactionDesc", None, "Invalid Remarks", "TransactionDesc is missing"),
        ("Password", "", "Invalid Password", "Password is empty"),
    ],
)
def test_why_names_the_cause_and_the_wire_stays(
    daraja: Daraja, field: str, value: object, message: str, why: str
) -> None:
    r = daraja.push(**{field: value})
    assert r.status_code == 400
    assert r.json()["errorMessage"] == f"Bad Request - {message}"  # the wire as before
    assert why not in r.text
    detail = last_detail(daraja)
    assert why in detail, detail


def test_body_not_json_says_so(daraja: Daraja) -> None:
    r = daraja.http.post(PUSH, content=b"[1, 2]", headers={
        **daraja.auth(), "Content-Type": "application/json"})
    assert r.json()["errorMessage"] == "Bad Request - Invalid BusinessShortCode"
    assert "JSON but not an object" in last_detail(daraja)


def test_unknown_checkout_id_says_so(daraja: Daraja) -> None:
    r = daraja.query("ws_CO_nothing")
    assert r.json()["errorMessage"] == "Bad Request - Invalid CheckoutRequestID"
    assert "no transaction 'ws_CO_nothing'" in last_detail(daraja)


@pytest.fixture
def https_only(receiver: CallbackReceiver) -> Iterator[Daraja]:
    with EmulatorServer(Settings(time_scale=0, seed=2, require_https=True)) as server:
        client = Daraja(server.url, receiver.url())
        yield client
        client.close()


def test_plain_http_under_require_https_says_so(https_only: Daraja) -> None:
    r = https_only.push(CallBackURL="http://shop.example.com/cb")
    assert r.json()["errorMessage"] == "Bad Request - Invalid CallBackURL"
    assert "must be https under --require-https" in last_detail(https_only)


def test_missing_unknown_and_expired_tokens_read_differently(daraja: Daraja) -> None:
    body = daraja.push_body()
    whys = []
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}):
        r = daraja.http.post(PUSH, json=body, headers=headers)
        assert r.json()["errorMessage"] == "Invalid Access Token"
        whys.append(last_detail(daraja))
    daraja.token()
    daraja.admin("POST", "/tokens/expire")
    r = daraja.http.post(PUSH, json=body, headers=daraja.auth())
    assert r.json()["errorCode"] == "404.001.03"
    whys.append(last_detail(daraja))
    assert "no Authorization header" in whys[0]
    assert "not 'Bearer <token>'" in whys[1]
    assert "never issued by this emulator" in whys[2]
    assert "expired" in whys[3] and "/oauth/v1/generate" in whys[3]
    assert len(set(whys)) == 4


# --------------------------------------------------------------------------- (c) //


def test_doubled_slash_404_hints_at_the_base_url(daraja: Daraja) -> None:
    r = httpx.get(f"{daraja.http.base_url}//oauth/v1/generate?grant_type=client_credentials")
    assert r.status_code == 404 and r.json()["errorCode"] == "404.001.01"
    assert "the path starts with //: does your base URL end with a slash?" in last_detail(daraja)
    daraja.http.get("/oauth/v1/nothing")
    assert "//" not in last_detail(daraja)


# --------------------------------------------------------------------------- (d) containers


def test_host_map_hint_only_in_a_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostmap, "in_container", lambda: False)
    plain = hostmap.unreachable_hint("http://localhost:8000/cb")
    assert "--callback-host-map" not in plain and "localhost:8000" in plain
    monkeypatch.setattr(hostmap, "in_container", lambda: True)
    assert "--callback-host-map localhost=host.docker.internal" in hostmap.unreachable_hint(
        "http://localhost:8000/cb")


def test_container_detection_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    hostmap.in_container.cache_clear()
    try:
        monkeypatch.setenv("container", "podman")
        assert hostmap.in_container()
    finally:
        hostmap.in_container.cache_clear()


def test_no_host_map_hint_outside_a_container_over_http(
    daraja: Daraja, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hostmap, "in_container", lambda: False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = daraja.push(CallBackURL=f"http://localhost:{port}/cb").json()
    [attempt] = attempts(daraja, answer["CheckoutRequestID"])
    assert "could not reach callback host" in attempt["error"]
    assert "--callback-host-map" not in attempt["error"]
