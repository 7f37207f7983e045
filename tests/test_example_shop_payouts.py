"""examples/shop's refunds (B2C) and nightly reconciliation (Transaction Status, Account
Balance) against a real emulator, the shop in its own process on real sockets: a refund that
pays, one refused with 2001 and tried again, one whose result is lost and that reconciliation
recovers, one that timed out in the queue and never happened (2032), and the balance.

Kept beside tests/test_example_shop.py (whose Shop and helpers it uses) so each file stays
readable; the shop is the same one, configured the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from emulator.handle import EmulatorHandle
from tests.test_example_shop import (
    B2C_SHORTCODE,
    TIME_SCALE,
    Shop,
    checkout,
    settled,
    wait_for,
)

PHONE = "254708374149"  # pays (the success scenario)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    settings = Settings(time_scale=TIME_SCALE, seed=2027,
                        shortcodes={SANDBOX_SHORTCODE: SANDBOX_PASSKEY})
    with EmulatorServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def shop(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    tmp = tmp_path_factory.mktemp("payouts")
    running = Shop(emulator.url, tmp / "shop.db", tmp / "shop.log")
    yield running
    running.stop()


@pytest.fixture
def client(shop: Shop) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.url, timeout=10, trust_env=False) as http:
        yield http


@pytest.fixture
def emu(emulator: EmulatorServer) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(emulator.url) as handle:
        handle.clear_initiator_queue()
        yield handle


def paid_order(client: httpx.Client) -> dict[str, Any]:
    number, _ = checkout(client, PHONE)
    order = settled(client, number)
    assert order["status"] == "paid", order
    return order


def refund(client: httpx.Client, number: str) -> dict[str, Any]:
    r = client.post(f"/api/orders/{number}/refund")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "requested"
    return r.json()


def refund_ended(client: httpx.Client, number: str, timeout: float = 10.0) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found = client.get(f"/api/orders/{number}/refund").json()
        return found if found["status"] != "requested" else None

    return wait_for(check, timeout, f"the refund of {number} settled")


def wallet(emu: EmulatorHandle) -> float:
    return float(emu.customer(PHONE)["balance"])


def test_refund_pays_the_customer_back(client: httpx.Client, emu: EmulatorHandle) -> None:
    order = paid_order(client)
    before, utility = wallet(emu), float(
        emu.business(B2C_SHORTCODE)["accounts"]["Utility Account"])
    asked = refund(client, order["number"])
    assert asked["originator_id"] == f"refund-{order['number']}-1"
    done = refund_ended(client, order["number"])
    assert (done["status"], done["result_code"], done["confirmed_by"]) == (
        "refunded", "0", "result")
    job = emu.wait_for_result(asked["conversation_id"])
    assert done["receipt"] == job["receipt"] == job["result"]["Result"]["TransactionID"]
    assert job["attempts"][0]["status"] == 200  # the shop took the result
    assert wallet(emu) == before + 1500
    assert float(emu.business(B2C_SHORTCODE)["accounts"]["Utility Account"]) == utility - 1500
    again = client.post(f"/api/orders/{order['number']}/refund")
    assert again.status_code == 409 and again.json()["detail"] == "refund refunded"


def test_refused_refund_2001_can_be_tried_again(
    client: httpx.Client, emu: EmulatorHandle
) -> None:
    order = paid_order(client)
    before = wallet(emu)
    emu.queue_initiator("initiator-invalid", api="b2c")
    refund(client, order["number"])
    failed = refund_ended(client, order["number"])
    assert (failed["status"], failed["result_code"]) == ("failed", "2001")
    assert failed["result_desc"] == "The initiator information is invalid."
    assert wallet(emu) == before  # no money moved
    retry = refund(client, order["number"])
    assert retry["originator_id"].endswith("-2")
    assert refund_ended(client, order["number"])["status"] == "refunded"
    assert wallet(emu) == before + 1500


def test_lost_result_is_recovered_by_nightly_transaction_status(
    client: httpx.Client, emu: EmulatorHandle
) -> None:
    order = paid_order(client)
    before = wallet(emu)
    emu.queue_initiator("initiator-result-lost", api="b2c")
    asked = refund(client, order["number"])
    job = emu.wait_for_result(asked["conversation_id"])
    assert job["result_mode"] == "never" and job["attempts"] == []  # paid, never told
    assert wallet(emu) == before + 1500
    assert client.get(f"/api/orders/{order['number']}/refund").json()["status"] == "requested"
    assert client.post("/api/reconcile").json()["queries"] >= 2
    done = refund_ended(client, order["number"])
    assert (done["status"], done["confirmed_by"]) == ("refunded", "status")
    assert done["receipt"] == job["receipt"]
    [status] = [r for r in emu.initiator_results(api="txstatus")
                if r["conversation_id"] in {q["conversation_id"] for q in queries(client)
                                            if q["subject"] == asked["originator_id"]}]
    detail = emu.initiator_result(status["conversation_id"])
    assert detail["request"]["OriginalConversationID"] == asked["originator_id"]


def test_a_refund_that_never_happened_fails_on_reconciliation(
    client: httpx.Client, emu: EmulatorHandle
) -> None:
    order = paid_order(client)
    before = wallet(emu)
    emu.queue_initiator("initiator-queue-timeout", api="b2c")
    asked = refund(client, order["number"])
    job = emu.wait_for_result(asked["conversation_id"])
    assert job["attempts"][0]["url"].endswith("/api/payouts/timeout/b2c")
    client.post("/api/reconcile")
    failed = refund_ended(client, order["number"])
    assert (failed["status"], failed["result_code"], failed["confirmed_by"]) == (
        "failed", "2032", "status")
    assert wallet(emu) == before
    assert refund(client, order["number"])["originator_id"].endswith("-2")  # safe to retry
    assert refund_ended(client, order["number"])["status"] == "refunded"


def queries(client: httpx.Client) -> list[dict[str, Any]]:
    return client.get("/api/reconciliation").json()["queries"]


def test_reconciliation_confirms_receipts_and_reads_the_balance(
    client: httpx.Client, emu: EmulatorHandle
) -> None:
    order = paid_order(client)
    assert client.post("/api/reconcile").json()["queries"] >= 2

    def answered() -> list[dict[str, Any]] | None:
        rows = queries(client)
        return rows if all(q["result_code"] is not None for q in rows) else None

    rows = wait_for(answered, 10, "every reconciliation query answered")
    [mine] = [q for q in rows if q["kind"] == "receipt" and q["subject"] == order["receipt"]]
    assert mine["finding"]["TransactionStatus"] == "Completed"
    assert mine["finding"]["ReceiptNo"] == order["receipt"]
    assert mine["finding"]["Amount"] == 1500
    report = client.get("/api/reconciliation").json()
    accounts = emu.business(B2C_SHORTCODE)["accounts"]
    assert report["balance"]["accounts"]["Utility Account"] == accounts["Utility Account"]
    before = len(queries(client))
    client.post("/api/reconcile")  # confirmed receipts are not asked about again
    rows = queries(client)[before:]
    assert all(q["subject"] != order["receipt"] for q in rows)
