"""The control plane under /_emulator/, over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja


def pending(daraja: Daraja, phone: str) -> str:
    r = daraja.push(phone)
    assert r.status_code == 200, r.text
    return r.json()["CheckoutRequestID"]


@pytest.fixture
def slow(daraja: Daraja) -> Daraja:
    daraja.admin("POST", "/time", json={"scale": 1000})
    return daraja


def test_transactions_list_and_filters(slow: Daraja) -> None:
    a = pending(slow, "254700001032")
    b = pending(slow, "254708374149")
    rows = slow.admin("GET", "/transactions")["transactions"]
    assert [r["checkout_request_id"] for r in rows] == [b, a]  # newest first
    assert rows[1]["scenario"] == "cancelled" and rows[1]["state"] == "pending"
    assert rows[1]["due_in"] > 100
    only = slow.admin("GET", "/transactions", params={"phone": "254700001032"})["transactions"]
    assert [r["checkout_request_id"] for r in only] == [a]
    slow.admin("POST", f"/transactions/{a}/fast-forward")
    done = slow.wait_final(a)
    assert done["result_code"] == 1032
    assert [r["checkout_request_id"] for r in slow.admin(
        "GET", "/transactions", params={"state": "completed"})["transactions"]] == [a]
    future = "2999-01-01T00:00:00+00:00"
    assert slow.admin("GET", "/transactions", params={"since": future})["transactions"] == []
    r = slow.http.get("/_emulator/transactions", params={"state": "bogus"})
    assert r.status_code == 400 and "state" in r.json()["error"]


def test_transaction_detail_explains_itself(slow: Daraja, receiver: CallbackReceiver) -> None:
    checkout_id = pending(slow, "254700001032")
    detail = slow.admin("GET", f"/transactions/{checkout_id}")
    assert "matched scenario 'cancelled'" in detail["reason"]
    assert detail["request"]["PhoneNumber"] == "254700001032"
    assert "Password" not in detail["request"]
    slow.admin("POST", f"/transactions/{checkout_id}/fast-forward")
    receiver.wait(checkout_id)
    detail = slow.wait_final(checkout_id)
    for _ in range(100):
        detail = slow.admin("GET", f"/transactions/{checkout_id}")
        if detail["callback_attempts"]:
            break
        time.sleep(0.01)
    [attempt] = detail["callback_attempts"]
    assert attempt["status"] == 200 and attempt["latency_ms"] >= 0
    assert attempt["payload"]["Body"]["stkCallback"]["ResultCode"] == 1032
    assert [e["event"].split(";")[0].split(":")[0] for e in detail["timeline"]][:2] == [
        "push accepted", "outcome due"]
    assert slow.http.get("/_emulator/transactions/ws_CO_nope").status_code == 404


@pytest.mark.parametrize(("outcome", "code"), [
    ("pay", 0), ("cancel", 1032), ("wrong-pin", 2001), ("insufficient-balance", 1),
    ("timeout", 1037)])
def test_decide_a_pending_push(slow: Daraja, receiver: CallbackReceiver, outcome: str,
                               code: int) -> None:
    checkout_id = pending(slow, "254708374149")
    slow.admin("POST", f"/transactions/{checkout_id}/decide", json={"outcome": outcome})
    [callback] = receiver.wait(checkout_id)
    assert callback["Body"]["stkCallback"]["ResultCode"] == code
    assert slow.query(checkout_id).json()["ResultCode"] == str(code)
    again = slow.http.post(f"/_emulator/transactions/{checkout_id}/decide",
                           json={"outcome": "pay"})
    assert again.status_code == 409  # terminal states are final


def test_decide_rejects_nonsense(slow: Daraja) -> None:
    checkout_id = pending(slow, "254708374149")
    for body in ({"outcome": "explode"}, {}, {"result_code": 424242}, {"result_code": True}):
        r = slow.http.post(f"/_emulator/transactions/{checkout_id}/decide", json=body)
        assert r.status_code == 400, body
    r = slow.http.post(f"/_emulator/transactions/{checkout_id}/decide", content=b"[1]",
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_manual_scenario_waits_in_real_seconds_then_times_out(
    receiver: CallbackReceiver, tmp_path: Path
) -> None:
    (tmp_path / "manual.yaml").write_text(
        "name: manual\nresult_code: 0\ndelay: 0\nmanual: true\nmanual_timeout: 0.5\n"
        "match:\n  phones: ['254710000003']\n")
    settings = Settings(time_scale=0, scenario_dirs=(tmp_path,))
    with EmulatorServer(settings) as server:
        daraja = Daraja(server.url, receiver.url())
        checkout_id = pending(daraja, "254710000003")
        time.sleep(0.2)  # time scale 0 does not end a manual wait
        assert daraja.admin("GET", f"/transactions/{checkout_id}")["state"] == "waiting"
        [callback] = receiver.wait(checkout_id, timeout=3)
        assert callback["Body"]["stkCallback"]["ResultCode"] == 1037
        decided = pending(daraja, "254710000003")
        daraja.admin("POST", f"/transactions/{decided}/decide", json={"outcome": "pay"})
        assert receiver.wait(decided)[0]["Body"]["stkCallback"]["ResultCode"] == 0
        daraja.close()


def test_queue_outcomes_fifo_per_phone_then_global(daraja: Daraja, receiver: CallbackReceiver
                                                  ) -> None:
    daraja.admin("POST", "/queue", json={"scenario": "timeout", "phone": "254711111111"})
    daraja.admin("POST", "/queue", json={"scenario": "wrong-pin", "count": 2})
    queue = daraja.admin("GET", "/queue")["queue"]
    assert queue == [{"phone": "254711111111", "scenarios": ["timeout"]},
                     {"phone": None, "scenarios": ["wrong-pin", "wrong-pin"]}]
    codes = []
    for phone in ("254711111111", "254711111111", "254722222222", "254722222222"):
        checkout_id = pending(daraja, phone)
        codes.append(receiver.wait(checkout_id)[-1]["Body"]["stkCallback"]["ResultCode"])
    assert codes == [1037, 2001, 2001, 0]
    r = daraja.http.post("/_emulator/queue", json={"scenario": "nope"})
    assert r.status_code == 404
    daraja.admin("POST", "/queue", json={"scenario": "timeout"})
    assert daraja.admin("DELETE", "/queue") == {"queue": []}


def test_default_scenario_at_runtime(daraja: Daraja, receiver: CallbackReceiver) -> None:
    listing = daraja.admin("PUT", "/scenarios/default", json={"name": "insufficient-balance"})
    assert listing["default"] == "insufficient-balance"
    checkout_id = pending(daraja, "254733333333")
    assert receiver.wait(checkout_id)[0]["Body"]["stkCallback"]["ResultCode"] == 1
    assert daraja.http.put("/_emulator/scenarios/default", json={"name": "x"}).status_code == 404


def test_scenarios_say_what_each_kind_does(daraja: Daraja) -> None:
    found = {s["name"]: s for s in daraja.admin("GET", "/scenarios")["scenarios"]}
    shown = {name: (s["kind"], s["result_code"], s["delay"], s["callback"])
             for name, s in found.items()}
    assert shown["cancelled"] == ("stk", 1032, [5.0, 15.0], "once")
    assert shown["c2b-slow"] == ("c2b", None, [20.0, 40.0], "once")
    assert shown["c2b-confirmation-lost"][3] == "never"
    assert shown["initiator-result-lost"] == ("initiator", 0, [1.0, 3.0], "never")
    assert shown["b2c-initiator-invalid"] == ("initiator", 2001, [1.0, 3.0], "once")
    assert shown["fault-slow"] == ("fault", None, None, None)
    assert found["initiator-invalid"]["result_desc"] == "The initiator information is invalid."
    assert found["b2c-initiator-invalid"]["initiator"] == {
        "result_code": 2001, "result_desc": "The initiator information is invalid.",
        "result": "once", "delay": [1.0, 3.0], "duplicate_gap": 1.0, "apis": ["b2c"]}
    assert found["c2b-slow"]["c2b"]["validation"] == "answer"
    assert found["cancelled"]["c2b"] is None and found["cancelled"]["initiator"] is None


def test_reload_keeps_old_set_on_error(receiver: CallbackReceiver, tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nresult_code: 1032\ndelay: 1\n")
    with EmulatorServer(Settings(time_scale=0, scenario_dirs=(tmp_path,))) as server, \
            httpx.Client(base_url=server.url) as http:
        names = {s["name"] for s in http.get("/_emulator/scenarios").json()["scenarios"]}
        assert "mine" in names and "success" in names
        (tmp_path / "more.yaml").write_text("name: more\nresult_code: 1\ndelay: 2\n")
        assert http.post("/_emulator/scenarios/reload").status_code == 200
        (tmp_path / "broken.yaml").write_text("name: broken\nresult_code: 1\ndelay: [3, 1]\n")
        r = http.post("/_emulator/scenarios/reload")
        assert r.status_code == 422 and "broken.yaml:3" in r.json()["error"]
        names = {s["name"] for s in http.get("/_emulator/scenarios").json()["scenarios"]}
        assert "more" in names and "broken" not in names


def test_reset_keeps_tokens(daraja: Daraja) -> None:
    checkout_id = pending(daraja, "254708374149")
    daraja.admin("POST", "/reset")
    assert daraja.admin("GET", "/transactions")["transactions"] == []
    assert daraja.query(checkout_id).status_code == 400
    assert pending(daraja, "254708374149")  # same token, lock gone


def test_time_state_visible(slow: Daraja) -> None:
    checkout_id = pending(slow, "254708374149")
    state = slow.admin("GET", "/time")
    assert state["time_scale"] == 1000
    assert state["scheduled"][0]["key"] == checkout_id and state["scheduled"][0]["due_in"] > 1000
    assert slow.admin("POST", "/fast-forward")["fast_forwarded"] == 1
    slow.wait_final(checkout_id)
    r = slow.http.post("/_emulator/time", json={"scale": -1})
    assert r.status_code == 400


def test_expire_tokens(daraja: Daraja) -> None:
    daraja.token()
    assert daraja.admin("POST", "/tokens/expire")["expired"] >= 1
    r = daraja.push("254708374149")
    assert r.status_code == 404 and r.json()["errorCode"] == "404.001.03"


def test_inbox_records_callbacks(server: EmulatorServer, daraja: Daraja) -> None:
    url = f"{server.url}/_emulator/inbox/demo"
    r = daraja.push("254700001032", CallBackURL=url)
    checkout_id = r.json()["CheckoutRequestID"]
    for _ in range(200):
        box = daraja.admin("GET", "/inbox/demo")["callbacks"]
        if box:
            break
        time.sleep(0.01)
    assert box[0]["body"]["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_id
    assert daraja.admin("DELETE", "/inbox/demo")["callbacks"] == []


def test_admin_token_guards_the_control_plane(receiver: CallbackReceiver) -> None:
    with EmulatorServer(Settings(time_scale=0, admin_token="s3cret")) as server, \
            httpx.Client(base_url=server.url) as http:
        assert http.get("/_emulator/health").status_code == 200  # open
        assert http.post("/_emulator/inbox/x", json={}).status_code == 200  # open
        assert http.get("/_emulator/transactions").status_code == 401
        assert http.get("/_emulator/transactions",
                        headers={"X-Admin-Token": "wrong"}).status_code == 401
        assert http.get("/_emulator/transactions",
                        headers={"X-Admin-Token": "s3cret"}).status_code == 200
        assert http.get("/_emulator/transactions?token=s3cret").status_code == 200
        daraja = Daraja(server.url, receiver.url())
        token = daraja.token()
        r = http.get("/_emulator/transactions", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401  # a Daraja token is not an admin token
        r = http.post("/mpesa/stkpush/v1/processrequest", json=daraja.push_body(),
                      headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 404 and r.json()["errorCode"] == "404.001.03"
        daraja.close()


def test_journal_is_bounded(receiver: CallbackReceiver) -> None:
    with EmulatorServer(Settings(time_scale=0, journal_size=5)) as server:
        daraja = Daraja(server.url, receiver.url())
        ids = [pending(daraja, f"2547220000{i:02d}") for i in range(12)]
        receiver.wait(ids[-1])
        time.sleep(0.1)
        kept = daraja.admin("GET", "/transactions")["transactions"]
        assert len(kept) == 5
        assert {k["checkout_request_id"] for k in kept} == set(ids[-5:])
        daraja.close()
