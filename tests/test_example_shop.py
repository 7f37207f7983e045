"""examples/shop, a real server in its own process, paying through the emulator for every outcome.

The shop uses the integration guide's MPesaService (base URL from MPESA_BASE_URL); the emulator's
callbacks reach it over HTTP; a lost callback is recovered by the shop's STK Query. A second shop
on the sandbox paybill 600100 registers its C2B URLs at start and takes paybill payments: unknown
order numbers refused (C2B00012), and each receipt applied once when an STK push brings both the
callback and the C2B confirmation.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE

ROOT = Path(__file__).resolve().parent.parent
SHOP_DIR = ROOT / "examples" / "shop"
TIME_SCALE = 0.01  # a 60 s timeout takes 0.6 s
B2C_SHORTCODE = "600992"  # a sandbox shortcode the emulator funds
SECURITY_CREDENTIAL = base64.b64encode(bytes(256)).decode()  # well-formed (lenient mode)
QUERY_AFTER = 2.0  # seconds the shop waits for a callback before it queries
PAYBILL = "600100"  # a sandbox paybill, here also an STK shortcode (174379 cannot take C2B URLs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Shop:
    """examples/shop under uvicorn in a subprocess, configured as its README says."""

    def __init__(self, emulator_url: str, db: Path, log: Path,
                 shortcode: str = SANDBOX_SHORTCODE) -> None:
        self.log = log
        self.shortcode = shortcode
        for _ in range(3):  # the port may be taken between choosing and binding it
            port = _free_port()
            self.url = f"http://127.0.0.1:{port}"
            self.proc = self._start(port, emulator_url, db)
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"the example shop did not start:\n{self.log.read_text()}")

    def _start(self, port: int, emulator_url: str, db: Path) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "MPESA_CONSUMER_KEY": "shop-key",
            "MPESA_CONSUMER_SECRET": "shop-secret",
            "MPESA_SHORTCODE": self.shortcode,
            "MPESA_PASSKEY": SANDBOX_PASSKEY,
            "MPESA_CALLBACK_URL": f"{self.url}/api/mpesa/callback",
            "MPESA_ENVIRONMENT": "sandbox",
            "MPESA_BASE_URL": emulator_url,
            "MPESA_QUERY_AFTER": str(QUERY_AFTER),
            "MPESA_RECONCILE_INTERVAL": "0.2",
            "MPESA_RETRY_DELAY": "0.1",
            "MPESA_B2C_SHORTCODE": B2C_SHORTCODE,  # refunds and reconciliation
            "MPESA_SECURITY_CREDENTIAL": SECURITY_CREDENTIAL,
            "SHOP_DB": str(db),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        cmd = [sys.executable, "-m", "uvicorn", "server:app", "--app-dir", str(SHOP_DIR),
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        with self.log.open("ab") as out:
            return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def _wait_ready(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    settings = Settings(time_scale=TIME_SCALE, seed=2026,  # 174379 stays, 600100 joins
                        shortcodes={SANDBOX_SHORTCODE: SANDBOX_PASSKEY, PAYBILL: SANDBOX_PASSKEY})
    with EmulatorServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def shop(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    tmp = tmp_path_factory.mktemp("shop")
    running = Shop(emulator.url, tmp / "shop.db", tmp / "shop.log")
    yield running
    running.stop()


@pytest.fixture
def client(shop: Shop) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.url, timeout=10, trust_env=False) as http:
        yield http


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout}s")


def checkout(client: httpx.Client, phone: str) -> tuple[str, str]:
    """Place an order and start paying for it, as the shop's frontend does."""
    placed = client.post(
        "/api/orders",
        json={"customer": {"name": "Wanjiru", "phone": phone},
              "items": [{"name": "Silk scarf", "price": 1500, "quantity": 1}]},
    )
    assert placed.status_code == 201, placed.text
    number = placed.json()["number"]
    started = client.post(
        "/api/mpesa/initiate",
        json={"phone": f"+{phone}", "amount": 1500, "order_number": number},
    )
    assert started.status_code == 200, started.text
    assert started.json()["ResponseCode"] == "0"
    return number, started.json()["CheckoutRequestID"]


def settled(client: httpx.Client, number: str, timeout: float = 10.0) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        order = client.get(f"/api/orders/{number}").json()
        return order if order["status"] not in ("pending_payment", "awaiting_payment") else None

    return wait_for(check, timeout, f"order {number} settled")


def emulator_record(emulator: EmulatorServer, checkout_id: str) -> dict[str, Any]:
    return httpx.get(f"{emulator.url}/_emulator/transactions/{checkout_id}").json()


@pytest.mark.parametrize(
    ("phone", "code", "status"),
    [
        ("254708374149", 0, "paid"),
        ("254700001032", 1032, "payment_failed"),
        ("254700001037", 1037, "payment_failed"),
        ("254700000001", 1, "payment_failed"),
        ("254700002001", 2001, "payment_failed"),
    ],
    ids=["paid", "cancelled", "timed-out", "insufficient-balance", "wrong-pin"],
)
def test_callback_settles_the_order(
    client: httpx.Client, emulator: EmulatorServer, phone: str, code: int, status: str
) -> None:
    number, checkout_id = checkout(client, phone)
    order = settled(client, number)
    assert (order["status"], order["result_code"], order["confirmed_by"]) == (
        status, code, "callback"
    )
    assert order["checkout_request_id"] == checkout_id
    assert order["callbacks_received"] == 1
    record = emulator_record(emulator, checkout_id)
    assert order["receipt"] == record["receipt"]  # None unless paid
    assert record["callback_attempts"][0]["status"] == 200
    if code:
        assert order["receipt"] is None and order["message"] != "Paid. Thank you!"
    else:
        assert order["receipt"] and order["message"] == "Paid. Thank you!"


def test_lost_callback_is_recovered_by_query(
    client: httpx.Client, emulator: EmulatorServer
) -> None:
    number, checkout_id = checkout(client, "254710000001")
    order = settled(client, number, timeout=QUERY_AFTER + 8)
    assert (order["status"], order["result_code"], order["confirmed_by"]) == (
        "paid", 0, "query"
    )
    assert order["callbacks_received"] == 0
    record = emulator_record(emulator, checkout_id)
    assert record["state"] == "completed" and record["callback_attempts"] == []


def test_duplicate_callback_is_applied_once(
    client: httpx.Client, emulator: EmulatorServer
) -> None:
    number, checkout_id = checkout(client, "254710000002")
    wait_for(
        lambda: len(emulator_record(emulator, checkout_id)["callback_attempts"]) == 2,
        10, "two callback posts",
    )
    order = wait_for(
        lambda: (o := client.get(f"/api/orders/{number}").json())["callbacks_received"] == 2
        and o,
        5, "two callbacks received by the shop",
    )
    assert (order["status"], order["confirmed_by"]) == ("paid", "callback")
    events = [e["what"] for e in order["events"]]
    assert sum(e.startswith("paid by callback") for e in events) == 1
    assert sum("settled order ignored" in e for e in events) == 1
    assert all(a["status"] == 200 for a in emulator_record(emulator, checkout_id)[
        "callback_attempts"])


def test_customer_retries_after_cancelling(client: httpx.Client, emulator: EmulatorServer) -> None:
    phone = "254700001032"  # cancels, unless an outcome is queued for it
    number, _ = checkout(client, phone)
    assert settled(client, number)["result_code"] == 1032
    queued = httpx.post(f"{emulator.url}/_emulator/queue",
                        json={"scenario": "success", "phone": phone})
    assert queued.status_code < 300, queued.text
    retry = client.post("/api/mpesa/initiate",
                        json={"phone": phone, "amount": 1500, "order_number": number})
    assert retry.status_code == 200, retry.text
    order = settled(client, number)
    assert (order["status"], order["result_code"]) == ("paid", 0)
    assert order["checkout_request_id"] == retry.json()["CheckoutRequestID"]


def test_daraja_refusal_is_reported(client: httpx.Client) -> None:
    placed = client.post("/api/orders", json={"items": [], "total": 10})
    answer = client.post("/api/mpesa/initiate",
                         json={"phone": "12345", "order_number": placed.json()["number"]})
    assert answer.status_code == 502
    assert answer.json()["mpesa"]["errorCode"] == "400.002.02"


SEED_GUIDE = ROOT.parent / "shared" / "seed"  # the integration guide this project grew from


def _service_class(source: str) -> str:
    """MPesaService's code, docstrings and formatting aside, as a comparable AST dump."""
    import ast

    tree = ast.parse(source)
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MPesaService"]
    for node in ast.walk(cls):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(getattr(body[0], "value", None), ast.Constant):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(cls)


def test_shop_uses_the_seed_guides_service_unchanged() -> None:
    """The example's MPesaService is the guide's, but for its one base URL line."""
    guides = sorted(SEED_GUIDE.glob("*.txt")) if SEED_GUIDE.is_dir() else []
    if not guides:
        pytest.skip(f"the seed guide is not beside this checkout ({SEED_GUIDE})")
    guide = guides[0].read_text()
    start = guide.index("```python\nimport httpx") + len("```python\n")
    seed = guide[start: guide.index("```", start)].replace(
        "self.base_url = 'https://sandbox.safaricom.co.ke'",
        "self.base_url = os.getenv('MPESA_BASE_URL', 'https://sandbox.safaricom.co.ke')",
    )
    ours = (SHOP_DIR / "mpesa_service.py").read_text()
    assert _service_class(ours) == _service_class(seed)


def test_shop_retries_through_a_spike_arrest_and_recovers(
    client: httpx.Client, emulator: EmulatorServer
) -> None:
    """254799000021: Daraja's spike arrest twice, then it pays; the guide's backoff gets there."""
    number, checkout_id = checkout(client, "254799000021")
    order = settled(client, number)
    assert (order["status"], order["result_code"]) == ("paid", 0)
    with httpx.Client(base_url=emulator.url) as admin:
        journal = admin.get("/_emulator/requests", params={"limit": 50}).json()["requests"]
    pushes = [r for r in journal if r["path"] == "/mpesa/stkpush/v1/processrequest"
              and ("254799000021" in r["detail"] or "spike-arrest" in r["detail"])]
    assert [r["status"] for r in reversed(pushes)][-3:] == [500, 500, 200]


def test_shop_gives_up_politely_when_mpesa_stays_down(
    client: httpx.Client, emulator: EmulatorServer
) -> None:
    """The edge's HTML 403 on every try: three attempts, then a clear message, not a crash."""
    placed = client.post("/api/orders", json={"items": [], "total": 20})
    number = placed.json()["number"]
    answer = client.post("/api/mpesa/initiate",
                         json={"phone": "254799000006", "order_number": number})
    assert answer.status_code == 503
    assert "try again" in answer.json()["detail"]
    with httpx.Client(base_url=emulator.url) as admin:
        journal = admin.get("/_emulator/requests", params={"limit": 10}).json()["requests"]
    assert sum("fault edge-403" in r["detail"] for r in journal) == 3


# ----------------------------------------------------------------- paybill (C2B) payments


@pytest.fixture(scope="module")
def paybill_shop(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Shop]:
    tmp = tmp_path_factory.mktemp("paybill-shop")
    running = Shop(emulator.url, tmp / "shop.db", tmp / "shop.log", shortcode=PAYBILL)
    wait_for(lambda: httpx.get(f"{running.url}/api/health").json()["c2b"]["registered"],
             10, "the shop registered its C2B URLs")
    yield running
    running.stop()


@pytest.fixture
def paybill_client(paybill_shop: Shop) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=paybill_shop.url, timeout=10, trust_env=False) as http:
        yield http


def place(client: httpx.Client, total: int = 1500) -> str:
    placed = client.post("/api/orders", json={"items": [], "total": total})
    assert placed.status_code == 201, placed.text
    return placed.json()["number"]


def pay_bill(emulator: EmulatorServer, phone: str, amount: int, reference: str) -> dict[str, Any]:
    """The customer pays the paybill from the phone's menu; returns the payment once it ended."""
    with httpx.Client(base_url=f"{emulator.url}/_emulator") as admin:
        started = admin.post("/c2b/pay", json={"shortcode": PAYBILL, "phone": phone,
                                               "amount": amount, "bill_ref": reference})
        assert started.status_code == 201, started.text
        trans_id = started.json()["trans_id"]
        return wait_for(lambda: (p := admin.get(f"/c2b/payments/{trans_id}").json())["state"]
                        in ("completed", "rejected", "failed") and p, 10, "the payment ended")


def test_both_shops_register_c2b_urls_at_start(
    emulator: EmulatorServer, paybill_shop: Shop, shop: Shop
) -> None:
    registrations = httpx.get(f"{emulator.url}/_emulator/c2b/registrations").json()
    [mine] = [r for r in registrations["registrations"] if r["shortcode"] == PAYBILL]
    assert mine["confirmation_url"] == f"{paybill_shop.url}/api/payments/c2b/confirmation"
    assert mine["validation_url"] == f"{paybill_shop.url}/api/payments/c2b/validation"
    assert mine["external_validation"] is True
    refused = wait_for(lambda: (c := httpx.get(f"{shop.url}/api/health").json()["c2b"])[
        "registered"] is False and c, 10, "174379's refusal")
    assert "500" in refused["detail"]  # the gateway's SOAP fault: 174379 holds no C2B product


def test_paybill_payment_settles_its_order(
    paybill_client: httpx.Client, emulator: EmulatorServer
) -> None:
    number = place(paybill_client)
    payment = pay_bill(emulator, "254712000010", 1500, number)
    assert payment["state"] == "completed", payment
    order = settled(paybill_client, number)
    assert (order["status"], order["confirmed_by"], order["receipt"], order["amount_paid"]) == (
        "paid", "c2b", payment["trans_id"], 1500)
    assert order["message"] == "Paid. Thank you!"


@pytest.mark.parametrize(("reference", "amount", "code"), [
    ("LX-20990101-9999", 1500, "C2B00012"),  # no such order
    (None, 999, "C2B00013"),  # not the order's total
])
def test_paybill_payment_the_shop_cannot_match_is_refused(
    paybill_client: httpx.Client, emulator: EmulatorServer, reference: str | None, amount: int,
    code: str,
) -> None:
    number = place(paybill_client)
    phone = "254712000011"
    before = httpx.get(f"{emulator.url}/_emulator/ledger/customers/{phone}").json()["balance"]
    payment = pay_bill(emulator, phone, amount, reference or number)
    assert payment["state"] == "rejected" and code in payment["outcome"], payment
    assert payment["confirmation_attempts"] == []
    after = httpx.get(f"{emulator.url}/_emulator/ledger/customers/{phone}").json()["balance"]
    assert after == before  # nothing moved
    assert paybill_client.get(f"/api/orders/{number}").json()["status"] == "pending_payment"


def test_stk_to_the_paybill_brings_one_receipt_twice_and_it_counts_once(
    paybill_client: httpx.Client, emulator: EmulatorServer
) -> None:
    """The duplicate-handling trap: the STK callback and the C2B confirmation carry the same
    receipt; a shop that credits both has been paid twice on its books."""
    number, checkout_id = checkout(paybill_client, "254712000012")
    receipt = wait_for(lambda: emulator_record(emulator, checkout_id)["receipt"], 10,
                       "the push paid")
    with httpx.Client(base_url=f"{emulator.url}/_emulator") as admin:
        confirmation = wait_for(
            lambda: (p := admin.get(f"/c2b/payments/{receipt}")).status_code == 200
            and p.json()["confirmation_attempts"] and p.json(), 10, "the C2B confirmation")
    assert confirmation["origin"] == "stk" and confirmation["bill_ref"] == number
    assert confirmation["confirmation_attempts"][0]["status"] == 200
    order = wait_for(lambda: (o := paybill_client.get(f"/api/orders/{number}").json())
                     ["callbacks_received"] == 1 and any("ignored" in e["what"]
                                                         for e in o["events"]) and o,
                     10, "both the callback and the confirmation handled")
    assert (order["status"], order["receipt"], order["amount_paid"]) == ("paid", receipt, 1500)
    events = [e["what"] for e in order["events"]]
    assert sum(e.startswith("paid by") for e in events) == 1, events
    assert sum("ignored" in e for e in events) == 1, events
