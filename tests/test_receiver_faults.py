"""Broken callback receivers over real sockets: each failure is recorded, nothing else waits.

The receivers (tests/raw_receivers.py) close the connection after the headers, answer with
bytes that are not HTTP, answer slowly but within the timeout, or never answer. With a callback
timeout of 0.5 s, every attempt must be in the transaction's journal with its status or error,
STK Query must still answer the outcome, and a healthy receiver among them must get its
callbacks on time.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import Settings
from tests.helpers import Daraja
from tests.raw_receivers import RawReceiver

ON_TIME = 1.0  # seconds after its due time by which a healthy receiver has its callback


@pytest.fixture
def settings() -> Settings:
    return Settings(time_scale=0, callback_timeout=0.5)


@pytest.fixture
def receivers() -> Iterator[dict[str, RawReceiver]]:
    made = {
        "healthy": RawReceiver("ok"),
        "slow": RawReceiver("slow", delay=0.2),  # well within the 0.5 s timeout
        "headers-then-close": RawReceiver("headers-then-close"),
        "garbage": RawReceiver("garbage"),
        "hang": RawReceiver("hang"),
    }
    yield made
    for receiver in made.values():
        receiver.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def push(daraja: Daraja, phone: str, url: str) -> str:
    r = daraja.push(phone, CallBackURL=url)
    assert r.status_code == 200, r.text
    return str(r.json()["CheckoutRequestID"])


def attempts(daraja: Daraja, checkout_id: str, count: int = 1, timeout: float = 10.0) -> list:
    """The recorded callback attempts once `count` are there (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        txn = daraja.admin("GET", f"/transactions/{checkout_id}")
        if len(txn["callback_attempts"]) >= count:
            return list(txn["callback_attempts"])
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} callback attempts for {checkout_id}: {txn}")


# maps receiver mode -> (recorded HTTP status, how the recorded error starts)
EXPECTED: dict[str, tuple[int | None, str | None]] = {
    "healthy": (200, None),
    "slow": (200, None),
    "headers-then-close": (None, "protocol error: the receiver closed the connection inside"),
    "garbage": (None, "protocol error: not an HTTP answer: illegal status line"),
    "hang": (None, "timeout"),
    "refused": (None, "connection failed"),
}


def check_attempt(attempt: dict[str, Any], mode: str, url: str) -> None:
    status, error = EXPECTED[mode]
    assert attempt["url"] == url
    assert attempt["status"] == status, (mode, attempt)
    if error is None:
        assert attempt["error"] is None and attempt["response_body"], (mode, attempt)
    else:
        assert attempt["error"].startswith(error), (mode, attempt)
    assert attempt["payload"]["Body"]["stkCallback"]["CheckoutRequestID"]


@pytest.mark.parametrize("mode", ["headers-then-close", "garbage", "slow"])
def test_each_broken_receiver_is_recorded_and_the_query_still_answers(
    daraja: Daraja, receivers: dict[str, RawReceiver], mode: str
) -> None:
    receiver = receivers[mode]
    checkout_id = push(daraja, "254700001032", receiver.url())  # cancelled
    [attempt] = attempts(daraja, checkout_id)
    check_attempt(attempt, mode, receiver.url())
    if mode == "slow":
        assert attempt["latency_ms"] >= 190  # it did wait for the slow answer
    assert receiver.snapshot()[0][checkout_id] == 1  # the whole callback was read, once
    assert daraja.query(checkout_id).json()["ResultCode"] == "1032"


def test_a_healthy_receiver_gets_its_callbacks_on_time_among_broken_ones(
    daraja: Daraja, receivers: dict[str, RawReceiver]
) -> None:
    """Twenty-odd callbacks due within the same second, most to receivers that break or hang
    for the whole timeout: the healthy receiver's still arrive within ON_TIME of their due time,
    every attempt is journalled, and every query answers its transaction's own outcome."""
    daraja.admin("POST", "/time", json={"scale": 0.05})  # outcomes due 0.25-1.5 s after a push
    urls = {mode: r.url(f"/cb/{mode}") for mode, r in receivers.items()}
    urls["refused"] = f"http://127.0.0.1:{closed_port()}/cb"
    outcomes = [("success", "0"), ("cancelled", "1032"), ("wrong-pin", "2001")]
    plan: list[tuple[str, str, str]] = []  # (mode, phone, expected ResultCode)
    for round_ in range(4):
        for n, mode in enumerate(urls):
            scenario, code = outcomes[(round_ + n) % len(outcomes)]
            phone = f"2547300{round_:02d}{n:03d}"
            daraja.admin("POST", "/queue", json={"scenario": scenario, "phone": phone})
            plan.append((mode, phone, code))

    pushed: list[tuple[str, str, str, float]] = []  # (mode, checkout id, code, monotonic due)
    for mode, phone, code in plan:
        checkout_id = push(daraja, phone, urls[mode])
        asked = time.monotonic()
        due_in = daraja.admin("GET", f"/transactions/{checkout_id}")["due_in"]
        assert due_in is not None, "the outcome was due before we asked; use a larger scale"
        pushed.append((mode, checkout_id, code, asked + due_in))

    for mode, checkout_id, code, _ in pushed:
        [attempt] = attempts(daraja, checkout_id)
        check_attempt(attempt, mode, urls[mode])
        assert daraja.query(checkout_id).json()["ResultCode"] == code, (mode, checkout_id)

    healthy = receivers["healthy"]
    counts, arrivals = healthy.snapshot()
    first_arrival = {}
    for at, checkout_id in arrivals:
        first_arrival.setdefault(checkout_id, at)
    for mode, checkout_id, _, due in pushed:
        if mode != "healthy":
            continue
        assert counts[checkout_id] == 1
        late = first_arrival[checkout_id] - due
        assert late < ON_TIME, f"{checkout_id} arrived {late:.2f} s after it was due"
    for mode in ("slow", "headers-then-close", "garbage", "hang"):
        assert receivers[mode].total == 4, mode  # each broken receiver did get its 4 requests
