"""Callback receivers that fail: every attempt recorded, nothing else delayed, query still right."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from emulator import Settings
from tests.helpers import CallbackReceiver, Daraja


@pytest.fixture
def settings() -> Settings:
    return Settings(time_scale=0, callback_timeout=0.5)


@pytest.fixture
def slow_receiver() -> Iterator[CallbackReceiver]:
    r = CallbackReceiver()
    r.delay = 2.0
    yield r
    r.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkout(daraja: Daraja, phone: str, url: str) -> str:
    r = daraja.push(phone, CallBackURL=url)
    assert r.status_code == 200, r.text
    return r.json()["CheckoutRequestID"]


def attempts(daraja: Daraja, checkout_id: str, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        txn = daraja.admin("GET", f"/transactions/{checkout_id}")
        if txn["callback_attempts"]:
            return txn["callback_attempts"]
        time.sleep(0.02)
    raise AssertionError(f"no callback attempt recorded for {checkout_id}")


def test_refused_connection_is_recorded(daraja: Daraja) -> None:
    url = f"http://127.0.0.1:{closed_port()}/cb"
    checkout_id = checkout(daraja, "254700001032", url)
    [attempt] = attempts(daraja, checkout_id)
    assert attempt["status"] is None and "connection failed" in attempt["error"]
    assert attempt["url"] == url
    assert attempt["payload"]["Body"]["stkCallback"]["ResultCode"] == 1032
    assert daraja.query(checkout_id).json()["ResultCode"] == "1032"


def test_receiver_answering_500_is_recorded(daraja: Daraja) -> None:
    failing = CallbackReceiver()
    failing.status = 500
    try:
        checkout_id = checkout(daraja, "254708374149", failing.url())
        [attempt] = attempts(daraja, checkout_id)
        assert attempt["status"] == 500 and attempt["error"] is None
        assert attempt["response_body"] == '{"ResultCode":0,"ResultDesc":"Accepted"}'
        assert len(failing.wait(checkout_id)) == 1  # Safaricom does not retry
        assert daraja.query(checkout_id).json()["ResultCode"] == "0"
    finally:
        failing.close()


def test_hanging_receiver_times_out_without_delaying_others(
    daraja: Daraja, receiver: CallbackReceiver, slow_receiver: CallbackReceiver
) -> None:
    slow_ids = [checkout(daraja, f"25471100000{i}", slow_receiver.url()) for i in range(5)]
    start = time.monotonic()
    fast_id = checkout(daraja, "254722000001", receiver.url())
    receiver.wait(fast_id, timeout=2)
    assert time.monotonic() - start < 0.4  # not queued behind the hanging ones
    for slow_id in slow_ids:
        [attempt] = attempts(daraja, slow_id)
        assert attempt["error"].startswith("timeout") and attempt["latency_ms"] >= 450
        assert daraja.query(slow_id).json()["ResultCode"] == "0"
    assert daraja.admin("GET", "/health")["status"] == "ok"


def test_reset_cancels_scheduled_callbacks(daraja: Daraja, receiver: CallbackReceiver) -> None:
    daraja.admin("POST", "/time", json={"scale": 0.05})  # success takes 0.5-1.5 s
    checkout_id = checkout(daraja, "254708374149", receiver.url())
    daraja.admin("POST", "/reset")
    time.sleep(2.0)
    assert receiver.for_id(checkout_id) == []
    assert daraja.query(checkout_id).status_code == 400  # forgotten


def test_the_exact_text_sent_is_kept_where_amount_reads_1_00(daraja: Daraja) -> None:
    """Parsed JSON shows 1.0; the attempt's `sent` and the inbox's `raw` keep Daraja's 1.00."""
    inbox = f"{daraja.http.base_url}/_emulator/inbox/exact".replace("//_", "/_")
    checkout_id = checkout(daraja, "254708374149", inbox)  # the sandbox number pays
    [attempt] = attempts(daraja, checkout_id)
    assert attempt["status"] == 200
    assert '{"Name":"Amount","Value":1.00}' in attempt["sent"]
    deadline = time.monotonic() + 5
    while not (box := daraja.admin("GET", "/inbox/exact")["callbacks"]):
        assert time.monotonic() < deadline, "the inbox got nothing"
        time.sleep(0.02)
    assert box[0]["raw"] == attempt["sent"]
    assert box[0]["body"]["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_id
    txn = daraja.admin("GET", f"/transactions/{checkout_id}")
    assert f"callback posted to {inbox}: 200" in str(txn["timeline"])


def test_an_undelivered_callback_reads_so_in_the_timeline(daraja: Daraja) -> None:
    url = f"http://127.0.0.1:{closed_port()}/cb"
    checkout_id = checkout(daraja, "254700001032", url)
    attempts(daraja, checkout_id)
    txn = daraja.admin("GET", f"/transactions/{checkout_id}")
    assert f"callback to {url} not delivered: connection failed" in str(txn["timeline"])
