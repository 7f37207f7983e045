"""A burst of 10,000 pushes to distinct phones ends in exactly 10,000 callbacks.

Real sockets all the way: an httpx.AsyncClient sends the pushes 50 at a time to a real
EmulatorServer (time scale 0, so every outcome is due at once), and a raw asyncio receiver
counts the callbacks by CheckoutRequestID: none lost, none doubled. One more push goes to the
duplicate-callback phone, whose callback must arrive exactly twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_SHORTCODE
from tests.helpers import password
from tests.raw_receivers import RawReceiver

PUSHES = 10_000
CONCURRENCY = 50
DUPLICATE_PHONE = "254710000002"  # the bundled duplicate-callback scenario
BUDGET = 120.0  # seconds for the whole burst, pushes and callbacks (generous: 2 shared cores)


@pytest.fixture(scope="module")
def burst_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, journal_size=20_000, seed=5)) as server:
        yield server


@pytest.fixture
def fast_receiver() -> Iterator[RawReceiver]:
    r = RawReceiver("ok")
    yield r
    r.close()


def phones() -> list[str]:
    """Distinct numbers that no bundled scenario names: all take the default (success)."""
    return [f"2547200{i:05d}" for i in range(PUSHES)]


async def push_all(base_url: str, callback_url: str, numbers: list[str]) -> dict[str, str]:
    """Push to every number, CONCURRENCY at a time; returns phone -> CheckoutRequestID."""
    timestamp = datetime.now().strftime("%Y%m%d%H%M%S")
    template = {
        "BusinessShortCode": SANDBOX_SHORTCODE, "Password": password(timestamp),
        "Timestamp": timestamp, "TransactionType": "CustomerPayBillOnline", "Amount": 1,
        "PartyB": SANDBOX_SHORTCODE, "CallBackURL": callback_url,
        "AccountReference": "BURST", "TransactionDesc": "Burst test",
    }
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    ids: dict[str, str] = {}
    queue = iter(numbers)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        r = await client.get(
            "/oauth/v1/generate?grant_type=client_credentials", auth=("burst", "secret"))
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

        async def worker() -> None:
            for phone in queue:  # the workers share one iterator: each phone is pushed once
                body = {**template, "PartyA": phone, "PhoneNumber": phone}
                answer = await client.post(
                    "/mpesa/stkpush/v1/processrequest", json=body, headers=headers)
                assert answer.status_code == 200, (phone, answer.text)
                ids[phone] = answer.json()["CheckoutRequestID"]

        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(CONCURRENCY))), BUDGET)
    return ids


def test_burst_of_10000_pushes_gets_every_callback_exactly_once(
    burst_server: EmulatorServer, fast_receiver: RawReceiver
) -> None:
    start = time.monotonic()
    ids = asyncio.run(push_all(burst_server.url, fast_receiver.url(), phones()))
    pushed = time.monotonic() - start
    duplicate = asyncio.run(push_all(burst_server.url, fast_receiver.url(), [DUPLICATE_PHONE]))
    duplicate_id = duplicate[DUPLICATE_PHONE]
    assert len(set(ids.values())) == PUSHES and duplicate_id not in ids.values()

    expected = PUSHES + 2
    left = max(BUDGET - (time.monotonic() - start), 10.0)
    arrived = fast_receiver.wait_total(expected, timeout=left)
    delivered = time.monotonic() - start
    time.sleep(0.5)  # anything doubled would come now
    counts, _ = fast_receiver.snapshot()
    print(f"\n{PUSHES} pushes in {pushed:.1f} s; {arrived} callbacks by {delivered:.1f} s")

    assert sum(counts.values()) == expected, f"{sum(counts.values())} callbacks, not {expected}"
    assert counts[duplicate_id] == 2
    lost = [i for i in ids.values() if counts[i] == 0]
    doubled = [i for i in ids.values() if counts[i] > 1]
    assert not lost and not doubled, (len(lost), len(doubled))
    assert set(counts) == {*ids.values(), duplicate_id}  # nothing unknown either

    with httpx.Client(base_url=burst_server.url) as admin:
        health = admin.get("/_emulator/health").json()
        assert health["pending"] == 0 and health["transactions"] == PUSHES + 1
        completed = admin.get(
            "/_emulator/transactions", params={"state": "completed", "limit": 20_000}
        ).json()["transactions"]
        assert len(completed) == PUSHES + 1
        assert sum(t["callbacks"] for t in completed) == expected
