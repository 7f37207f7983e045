"""Daraja failing on demand, over real sockets: exactly what a client sees for each fault."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja

ENVELOPE_FAULTS = {  # phone -> (status, errorCode, errorMessage)
    "254799000001": (500, "500.003.02", "Error Occurred: Spike Arrest Violation"),
    "254799000002": (500, "500.003.03", "Quota Violation"),
    "254799000003": (500, "500.003.1001", "Internal Server Error"),
    "254799000004": (500, "500.001.1001", "Merchant does not exist"),
    "254799000005": (404, "404.001.03", "Invalid Access Token"),
}


@pytest.mark.parametrize("phone", sorted(ENVELOPE_FAULTS))
def test_daraja_error_faults_use_the_envelope(daraja: Daraja, phone: str) -> None:
    status, code, message = ENVELOPE_FAULTS[phone]
    r = daraja.push(phone)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert (body["errorCode"], body["errorMessage"]) == (code, message)
    assert daraja.admin("GET", "/transactions", params={"phone": phone})["transactions"] == []


def test_edge_403_is_an_html_page(daraja: Daraja) -> None:
    r = daraja.push("254799000006")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert '<META NAME="ROBOTS"' in r.text and "Incapsula incident ID" in r.text
    with pytest.raises(ValueError):
        r.json()


def test_unavailable_is_an_empty_503(daraja: Daraja) -> None:
    r = daraja.push("254799000007")
    assert r.status_code == 503 and r.content == b""


def test_gateway_fault_json(daraja: Daraja) -> None:
    r = daraja.push("254799000008")
    assert r.status_code == 503
    assert r.json()["fault"]["detail"]["errorcode"] == (
        "messaging.adaptors.http.flow.ServiceUnavailable")


def test_drop_closes_before_any_answer(daraja: Daraja) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        daraja.push("254799000010")
    assert daraja.admin("GET", "/health")["status"] == "ok"


def test_drop_mid_body(daraja: Daraja) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        daraja.push("254799000011")


def test_slow_fault_is_a_timeout_for_a_5s_client(daraja: Daraja) -> None:
    daraja.admin("POST", "/faults", json={"fault": "slow", "endpoint": "push", "delay": 6})
    body = daraja.push_body("254708374149")
    start = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        daraja.http.post("/mpesa/stkpush/v1/processrequest", json=body, headers=daraja.auth(),
                         timeout=5)
    assert 4.9 < time.monotonic() - start < 6


def test_slow_answer_arrives_after_the_delay(daraja: Daraja) -> None:
    daraja.admin("POST", "/faults", json={"fault": "slow", "endpoint": "oauth", "delay": 0.4})
    start = time.monotonic()
    r = daraja.http.get("/oauth/v1/generate?grant_type=client_credentials", auth=("k", "s"))
    assert r.status_code == 200 and time.monotonic() - start >= 0.4


def test_next_n_requests_to_one_endpoint(daraja: Daraja) -> None:
    listing = daraja.admin("POST", "/faults",
                           json={"fault": "spike-arrest", "endpoint": "push", "count": 2})
    assert listing["rules"][0]["remaining"] == 2
    ok = daraja.query("ws_CO_unknown")  # other endpoints unaffected
    assert ok.json()["errorCode"] == "400.002.02"
    codes = [daraja.push(f"25471100010{i}").status_code for i in range(3)]
    assert codes == [500, 500, 200]
    assert daraja.admin("GET", "/faults")["rules"] == []


def test_fault_for_t_seconds(daraja: Daraja) -> None:
    daraja.token()
    daraja.admin("POST", "/faults", json={"fault": "unavailable", "seconds": 0.5})
    assert daraja.push("254711000201").status_code == 503
    assert daraja.query("ws_CO_x").status_code == 503  # endpoint defaults to any
    time.sleep(0.6)
    assert daraja.push("254711000202").status_code == 200


def test_expire_every_token_now(daraja: Daraja) -> None:
    daraja.token()
    daraja.admin("POST", "/tokens/expire")
    assert daraja.push().json()["errorCode"] == "404.001.03"
    daraja._token = None  # the client refreshes its token and carries on
    assert daraja.push().status_code == 200


def test_flaky_phone_recovers_on_retry(daraja: Daraja, receiver: CallbackReceiver) -> None:
    statuses = []
    for _ in range(3):
        r = daraja.push("254799000021")
        statuses.append(r.status_code)
    assert statuses == [500, 500, 200]
    receiver.wait(r.json()["CheckoutRequestID"])
    daraja.admin("POST", "/reset")  # the count starts again
    assert daraja.push("254799000021").status_code == 500


def test_faults_are_in_the_request_journal(daraja: Daraja) -> None:
    daraja.push("254799000001")
    with pytest.raises(httpx.RemoteProtocolError):
        daraja.push("254799000010")
    rows = daraja.admin("GET", "/requests", params={"limit": 2})["requests"]
    assert "fault drop" in rows[0]["detail"] and rows[0]["status"] is None
    assert "fault spike-arrest" in rows[1]["detail"] and rows[1]["status"] == 500


def test_reset_clears_fault_rules(daraja: Daraja) -> None:
    daraja.admin("POST", "/faults", json={"fault": "quota", "count": 5})
    daraja.admin("POST", "/reset")
    assert daraja.admin("GET", "/faults")["rules"] == []


@pytest.mark.parametrize("body", [
    {"fault": "meltdown"}, {"fault": "quota", "endpoint": "c2b"},
    {"fault": "quota", "count": 0}, {"fault": "quota", "count": 1.5},
    {"fault": "quota", "count": 1, "seconds": 2}, {"fault": "slow", "delay": "long"}])
def test_bad_fault_requests_are_refused(daraja: Daraja, body: dict) -> None:
    r = daraja.http.post("/_emulator/faults", json=body)
    assert r.status_code == 400 and r.json()["error"]


def test_rate_limit_per_consumer_key(receiver: CallbackReceiver) -> None:
    with EmulatorServer(Settings(time_scale=0, rate_limit=3)) as server:
        other = Daraja(server.url, receiver.url())
        daraja = Daraja(server.url, receiver.url())
        daraja.token(), other.token()
        # align to the start of a second so all requests share one window
        time.sleep(1 - (time.time() % 1) + 0.01)
        codes = [daraja.query("ws_CO_x").json()["errorCode"] for _ in range(5)]
        assert codes[:3] == ["400.002.02"] * 3
        assert codes[3:] == ["500.003.02"] * 2
        r = other.http.get("/oauth/v1/generate?grant_type=client_credentials",
                           auth=("another-key", "s"))
        assert r.status_code == 200  # another consumer key has its own budget
        daraja.close(), other.close()


def test_fault_scenario_file_with_times(receiver: CallbackReceiver, tmp_path: Path) -> None:
    (tmp_path / "q.yaml").write_text(
        "name: query-down\nfault:\n  kind: internal-error\n  endpoints: [query]\n  times: 1\n"
        "match:\n  phones: ['254722000999']\n")
    with EmulatorServer(Settings(time_scale=0, scenario_dirs=(tmp_path,))) as server:
        daraja = Daraja(server.url, receiver.url())
        checkout_id = daraja.push("254722000999").json()["CheckoutRequestID"]  # push unaffected
        assert daraja.query(checkout_id).json()["errorCode"] == "500.003.1001"
        assert daraja.query(checkout_id).json()["ResultCode"] in ("0", "4999")
        daraja.close()


def test_fault_scenario_cannot_be_default_or_queued(daraja: Daraja) -> None:
    assert daraja.http.put("/_emulator/scenarios/default",
                           json={"name": "fault-quota"}).status_code == 404
    assert daraja.http.post("/_emulator/queue", json={"scenario": "fault-quota"}).status_code == 404
