"""A burst of 10,000 pushes to distinct phones ends in exactly 10,000 callbacks.

Real sockets all the way: an httpx.AsyncClient sends the pushes 50 at a time to a real
EmulatorServer (time scale 0, so every outcome is due at once), and a raw asyncio receiver
counts the callbacks by CheckoutRequestID: none lost, none doubled. One more push goes to the
duplicate-callback phone, whose callback must arrive exactly twice.

The server runs in this process; the client and the receiver run in a child process, so that
they get the machine's other core instead of sharing this process's GIL with the server.
Measured on the shared 2-core machine: about 30 s for the whole burst (pushes and callbacks;
the httpx client sending the pushes is the slowest part).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_SHORTCODE
from tests.helpers import password
from tests.raw_receivers import RawReceiver

pytestmark = pytest.mark.slow  # CI runs these; `scripts/test -m 'not slow'` skips them

PUSHES = 10_000
CONCURRENCY = 50
DUPLICATE_PHONE = "254710000002"  # the bundled duplicate-callback scenario
BUDGET = 240.0  # seconds for the whole burst: a bound against hanging, not a performance target


@dataclass
class Burst:
    """What the child process saw: every push's CheckoutRequestID and the callbacks per id."""

    ids: dict[str, str]  # phone -> CheckoutRequestID
    counts: dict[str, int]  # CheckoutRequestID -> callbacks received
    pushed_after: float  # seconds from the first push to the last answer
    delivered_after: float  # seconds from the first push to the last expected callback


@pytest.fixture(scope="module")
def burst_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, journal_size=20_000, seed=5)) as server:
        yield server


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
    # keep-alive shorter than uvicorn's 5 s, so no request goes out on a connection it is closing
    limits = httpx.Limits(
        max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY, keepalive_expiry=2.0)
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


def burst(base_url: str, numbers: list[str], expected_callbacks: int) -> Burst:
    """In the child: receiver up, all pushes, then wait (bounded) for the callbacks."""
    receiver = RawReceiver("ok")
    try:
        start = time.monotonic()
        ids = asyncio.run(push_all(base_url, receiver.url(), numbers))
        pushed_after = time.monotonic() - start
        receiver.wait_total(expected_callbacks, timeout=max(BUDGET - pushed_after, 10.0))
        delivered_after = time.monotonic() - start
        time.sleep(0.5)  # anything doubled would come now
        counts, _ = receiver.snapshot()
        return Burst(ids, dict(counts), pushed_after, delivered_after)
    finally:
        receiver.close()


def test_burst_of_10000_pushes_gets_every_callback_exactly_once(
    burst_server: EmulatorServer,
) -> None:
    numbers = [*phones(), DUPLICATE_PHONE]
    expected = PUSHES + 2  # one callback per push, two for the duplicate-callback phone
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        seen = child.submit(burst, burst_server.url, numbers, expected).result(BUDGET + 60)
    print(f"\n{PUSHES + 1} pushes answered in {seen.pushed_after:.1f} s; "
          f"{sum(seen.counts.values())} callbacks by {seen.delivered_after:.1f} s")

    assert len(seen.ids) == PUSHES + 1 and len(set(seen.ids.values())) == PUSHES + 1
    duplicate_id = seen.ids.pop(DUPLICATE_PHONE)
    assert seen.counts.get(duplicate_id) == 2
    lost = [i for i in seen.ids.values() if i not in seen.counts]
    doubled = [i for i in seen.ids.values() if seen.counts.get(i, 0) > 1]
    assert not lost and not doubled, f"{len(lost)} lost, {len(doubled)} doubled"
    assert set(seen.counts) == {*seen.ids.values(), duplicate_id}  # nothing unknown either
    assert sum(seen.counts.values()) == expected

    with httpx.Client(base_url=burst_server.url) as admin:
        health = admin.get("/_emulator/health").json()
        assert health["pending"] == 0 and health["transactions"] == PUSHES + 1
        completed = admin.get(
            "/_emulator/transactions", params={"state": "completed", "limit": 20_000}
        ).json()["transactions"]
        assert len(completed) == PUSHES + 1
        assert sum(t["callbacks"] for t in completed) == expected
