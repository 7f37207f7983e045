"""Golden payloads: what the emulator sends on the wire, byte for byte, after masking ids and
times (style.md habit 8). The files in tests/golden/ are the reference; a change on the wire
fails here. DARAJA_UPDATE_GOLDEN=1 rewrites them (then read the diff before committing)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.c2b_receiver import MerchantReceiver
from tests.helpers import CallbackReceiver, Daraja

GOLDEN = Path(__file__).with_name("golden")
MASKS = [  # (pattern, replacement) applied to the raw bytes
    (rb'"(MerchantRequestID|CheckoutRequestID|requestId)":"[^"]*"', rb'"\1":"<\1>"'),
    (rb'"access_token":"[A-Za-z0-9]{28}"', rb'"access_token":"<token>"'),
    (rb'"MpesaReceiptNumber","Value":"[A-Z0-9]{10}"', rb'"MpesaReceiptNumber","Value":"<receipt>"'),
    (rb'"TransactionDate","Value":\d{14}', rb'"TransactionDate","Value":20260115093000'),
    (rb'"OriginatorCoversationID":"[^"]*"', rb'"OriginatorCoversationID":"<id>"'),
    (rb'"TransID":"[A-Z0-9]{10}"', rb'"TransID":"<receipt>"'),
    (rb'"TransTime":"\d{14}"', rb'"TransTime":"20260115123000"'),
    (rb'"QRCode":"iVBORw0KGgo[A-Za-z0-9+/=]+"', rb'"QRCode":"<base64 PNG>"'),
]


def masked(raw: bytes) -> bytes:
    for pattern, replacement in MASKS:
        raw = re.sub(pattern, replacement, raw)
    return raw


def check(name: str, raw: bytes) -> None:
    path = GOLDEN / f"{name}.json"
    got = masked(raw)
    if os.environ.get("DARAJA_UPDATE_GOLDEN") == "1":
        path.write_bytes(got + b"\n")
    assert got == path.read_bytes().rstrip(b"\n"), f"{name}: the wire changed"


@pytest.fixture(scope="module")
def golden_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, seed=11)) as s:
        yield s


@pytest.fixture
def shop(golden_server: EmulatorServer, receiver: CallbackReceiver) -> Iterator[Daraja]:
    receiver.status, receiver.delay = 200, 0.0
    client = Daraja(golden_server.url, receiver.url("/golden"))
    yield client
    client.close()


def raw_for(receiver: CallbackReceiver, checkout_id: str) -> bytes:
    """The exact bytes of the callback for one transaction (others may share the receiver)."""
    return next(raw for raw in reversed(receiver.raw) if checkout_id.encode() in raw)


def queue(shop: Daraja, scenario: str, phone: str) -> None:
    shop.admin("POST", "/queue", json={"scenario": scenario, "phone": phone})


def test_oauth_and_error_envelopes(golden_server: EmulatorServer, shop: Daraja) -> None:
    r = shop.http.get("/oauth/v1/generate?grant_type=client_credentials", auth=("k", "s"))
    check("oauth_token", r.content)
    check("error_invalid_amount", shop.push(Amount=0).content)
    check("error_wrong_credentials", shop.push(Password="d3Jvbmc=").content)
    r = httpx.post(f"{golden_server.url}/mpesa/stkpush/v1/processrequest", json={},
                   headers={"Authorization": "Bearer nope"})
    check("error_invalid_token", r.content)
    check("error_not_found", shop.http.get("/mpesa/nothing/here").content)


def test_push_query_and_callbacks(shop: Daraja, receiver: CallbackReceiver) -> None:
    queue(shop, "manual", "254708374149")
    ack = shop.push("254708374149")
    check("push_ack", ack.content)
    waiting = ack.json()["CheckoutRequestID"]
    check("query_pending", shop.query(waiting).content)
    shop.admin("POST", f"/transactions/{waiting}/decide", json={"outcome": "cancel"})
    receiver.wait(waiting)
    check("callback_cancelled", raw_for(receiver, waiting))
    check("query_cancelled", shop.query(waiting).content)

    queue(shop, "success", "254708374150")
    paid = shop.push("254708374150").json()["CheckoutRequestID"]
    receiver.wait(paid)
    check("callback_success", raw_for(receiver, paid))
    check("query_success", shop.query(paid).content)


def test_c2b_acks_and_payloads(shop: Daraja) -> None:
    """Register v1/v2, simulate, and the v1 validation and confirmation bodies (ledger
    reference 2-4): the misspelt OriginatorCoversationID, "0" vs "00000000", strings only."""
    merchant = MerchantReceiver()
    try:
        urls = {"ConfirmationURL": merchant.url("/c"), "ValidationURL": merchant.url("/v")}
        for version in ("v2", "v1"):
            r = shop.http.post(f"/mpesa/c2b/{version}/registerurl", headers=shop.auth(), json={
                "ShortCode": "600777", "ResponseType": "Completed", **urls})
            check(f"c2b_register_{version}", r.content)
        r = shop.http.post("/mpesa/c2b/v1/simulate", headers=shop.auth(), json={
            "ShortCode": 600777, "CommandID": "CustomerPayBillOnline", "Amount": 1,
            "Msisdn": 254705912645, "BillRefNumber": "UM001"})
        check("c2b_simulate_ack", r.content)
        merchant.wait("/c")
        check("c2b_validation_v1", merchant.raw("/v")[0])
        check("c2b_confirmation_v1", merchant.raw("/c")[0])
        r = shop.http.post("/mpesa/c2b/v1/registerurl", headers=shop.auth(), json={
            "ShortCode": "174379", "ResponseType": "Completed", **urls})
        check("c2b_register_174379", r.content)
    finally:
        merchant.close()


def test_qr_answer(shop: Daraja) -> None:
    """Dynamic QR's synchronous answer as both sandbox captures have it (ledger reference 10,
    14): ResponseCode "00", no RequestID, the PNG as base64 (masked: test_qr.py reads it)."""
    body = {"MerchantName": "TEST SUPERMARKET", "RefNo": "Invoice Test", "Amount": 1,
            "TrxCode": "BG", "CPI": "373132", "Size": "300"}
    r = shop.http.post("/mpesa/qrcode/v1/generate", headers=shop.auth(), json=body)
    check("qr_generate", r.content)
    check("error_qr_trx_code", shop.http.post("/mpesa/qrcode/v1/generate", headers=shop.auth(),
                                              json={**body, "TrxCode": "XX"}).content)


INITIATOR_MASKS = [
    (rb'"(OriginatorConversationID|ConversationID)":"[^"]*"', rb'"\1":"<\1>"'),
    (rb'"(TransactionID|TransactionReceipt)"(:|,"Value":)"[A-Z0-9]{10}"', rb'"\1"\2"<receipt>"'),
    (rb'"TransactionCompletedDateTime","Value":"[^"]*"',
     rb'"TransactionCompletedDateTime","Value":"15.01.2026 12:30:00"'),
    (rb'"(BOCompletedTime|TransCompletedTime)","Value":\d{14}', rb'"\1","Value":20260115123000'),
    (rb'Account\|KES\|[^&"]*', rb'Account|KES|<balance>'),
    (rb'"B2C(\w+)AccountAvailableFunds","Value":[-0-9.]+',
     rb'"B2C\1AccountAvailableFunds","Value":0.00'),
]


def test_initiator_acks_and_results(shop: Daraja, receiver: CallbackReceiver) -> None:
    """B2C, Account Balance and an unknown Transaction Status and Reversal: the ack and the
    result envelopes (ledger reference 0, 5-8), numbers where Daraja sends numbers."""
    from tests.initiator_client import call, raw_for, wait_result

    for api, name, fields in [("b2c", "b2c", {}), ("balance", "balance", {}),
                              ("txstatus", "txstatus_unknown", {"TransactionID": "OEI2AK4Q16"}),
                              ("reversal", "reversal_unknown", {"TransactionID": "OEI2AK4Q16"})]:
        ack = call(shop, receiver, api, **fields)
        conversation = ack.json()["ConversationID"]
        wait_result(receiver, conversation)
        if api == "b2c":
            check("initiator_ack", masked(_mask_all(ack.content)))
        check(f"result_{name}", masked(_mask_all(raw_for(receiver, conversation))))


def _mask_all(raw: bytes) -> bytes:
    for pattern, replacement in INITIATOR_MASKS:
        raw = re.sub(pattern, replacement, raw)
    return raw
