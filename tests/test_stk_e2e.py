"""The whole STK flow over real HTTP: token, push, callback at a real listener, query."""

from __future__ import annotations

import re

import pytest

from tests.helpers import CallbackReceiver, Daraja

CHECKOUT_ID = re.compile(r"ws_CO_\d{14}\d{1,3}\d{9}")
MERCHANT_ID = re.compile(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d+")

# phone -> (ResultCode in the callback, exact ResultDesc)
BUNDLED_OUTCOMES = {
    "254708374149": (0, "The service request is processed successfully."),
    "254711222333": (0, "The service request is processed successfully."),  # any ordinary number
    "254700001032": (1032, "Request cancelled by user"),
    "254700001037": (1037, "DS timeout user cannot be reached"),
    "254700000001": (1, "The balance is insufficient for the transaction"),
    "254700002001": (2001, "The initiator information is invalid."),
    "254700001019": (1019, "Transaction has expired"),
    "254700000017": (17, "Rule limited."),
    "254700008006": (8006, "The security credential is locked."),
    "254700001025": (1025, "An error occurred while sending a push request."),
    "254700002028": (2028, "The request is not permitted according to product assignment."),
}


def push_ok(daraja: Daraja, phone: str, **fields: object) -> str:
    r = daraja.push(phone, **fields)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == "Success. Request accepted for processing"
    assert body["CustomerMessage"] == "Success. Request accepted for processing"
    assert MERCHANT_ID.fullmatch(body["MerchantRequestID"])
    assert CHECKOUT_ID.fullmatch(body["CheckoutRequestID"])
    assert body["CheckoutRequestID"].endswith(phone[-9:])
    return body["CheckoutRequestID"]


@pytest.mark.parametrize("phone", sorted(BUNDLED_OUTCOMES))
def test_bundled_scenario_callback_and_query_agree(
    daraja: Daraja, receiver: CallbackReceiver, phone: str
) -> None:
    code, desc = BUNDLED_OUTCOMES[phone]
    checkout_id = push_ok(daraja, phone, Amount="10")
    [callback] = receiver.wait(checkout_id)
    stk = callback["Body"]["stkCallback"]
    assert stk["ResultCode"] == code and isinstance(stk["ResultCode"], int)
    assert stk["ResultDesc"] == desc
    assert ("CallbackMetadata" in stk) == (code == 0)
    q = daraja.query(checkout_id)
    assert q.status_code == 200
    assert q.json() == {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": stk["MerchantRequestID"],
        "CheckoutRequestID": checkout_id,
        "ResultCode": str(code),
        "ResultDesc": desc,
    }


def test_success_callback_metadata_matches_daraja(
    daraja: Daraja, receiver: CallbackReceiver
) -> None:
    checkout_id = push_ok(daraja, "254708374149", Amount=250)
    [callback] = receiver.wait(checkout_id)
    raw = next(r for r in receiver.raw if checkout_id.encode() in r)
    assert b'{"Name":"Amount","Value":250.00}' in raw  # two decimals on the wire
    items = callback["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    assert [i["Name"] for i in items] == [
        "Amount",
        "MpesaReceiptNumber",
        "Balance",
        "TransactionDate",
        "PhoneNumber",
    ]
    values = {i["Name"]: i.get("Value") for i in items}
    assert "Value" not in items[2]
    assert re.fullmatch(r"[L-Z][A-L][1-9A-V][A-Z0-9]{7}", values["MpesaReceiptNumber"])
    assert isinstance(values["TransactionDate"], int) and len(str(values["TransactionDate"])) == 14
    assert values["PhoneNumber"] == 254708374149


def test_lost_callback_is_recovered_by_query(daraja: Daraja, receiver: CallbackReceiver) -> None:
    checkout_id = push_ok(daraja, "254710000001")
    txn = daraja.wait_final(checkout_id)
    assert txn["callback_attempts"] == []
    assert daraja.query(checkout_id).json()["ResultCode"] == "0"
    assert receiver.for_id(checkout_id) == []


def test_duplicate_callback_arrives_twice(daraja: Daraja, receiver: CallbackReceiver) -> None:
    checkout_id = push_ok(daraja, "254710000002")
    first, second = receiver.wait(checkout_id, count=2)
    assert first == second


def test_pending_query_reports_4999(daraja: Daraja) -> None:
    daraja.admin("POST", "/time", json={"scale": 1000})  # keep it pending
    checkout_id = push_ok(daraja, "254708374149")
    body = daraja.query(checkout_id).json()
    assert body["ResultCode"] == "4999"
    assert body["ResultDesc"] == "The transaction is still under processing"
    assert body["ResponseCode"] == "0"


def test_subscriber_lock_until_transaction_ends(
    daraja: Daraja, receiver: CallbackReceiver, server
) -> None:  # noqa: ANN001
    daraja.admin("POST", "/time", json={"scale": 1000})
    checkout_id = push_ok(daraja, "254700001032")
    r = daraja.push("254700001032")
    assert r.status_code == 500
    assert r.json()["errorCode"] == "500.001.1001"
    assert r.json()["errorMessage"] == (
        "Unable to lock subscriber, a transaction is already in process for the current subscriber"
    )
    other = push_ok(daraja, "254711000111")  # other phones are unaffected
    assert other != checkout_id
    daraja.admin("POST", f"/transactions/{checkout_id}/fast-forward")
    receiver.wait(checkout_id)
    push_ok(daraja, "254700001032")  # retry right after the callback: lock released


def test_seed_push_is_accepted(daraja: Daraja) -> None:
    """The seed guide's own push: 16-char reference, 34-char description, 'mpesa' in the URL."""
    reference = "LX-20260115-0042"
    desc = f"Payment for order {reference}"
    assert (len(reference), len(desc)) == (16, 34)
    push_ok(daraja, "254708374149", AccountReference=reference, TransactionDesc=desc)


def test_buy_goods_till(daraja: Daraja) -> None:
    push_ok(daraja, "254708374149", TransactionType="CustomerBuyGoodsOnline", PartyB="5212345")


def test_too_long_prompt_ends_as_1025(daraja: Daraja, receiver: CallbackReceiver) -> None:
    checkout_id = push_ok(daraja, "254708374149", AccountReference="R" * 150)
    [callback] = receiver.wait(checkout_id)
    assert callback["Body"]["stkCallback"]["ResultCode"] == 1025


def test_same_phone_same_millisecond_gets_unique_ids(server) -> None:  # noqa: ANN001
    from emulator.kernel.clock import FakeClock
    from emulator.kernel.ids import IdSource

    ids, now = IdSource(1), FakeClock().now()
    seen = {ids.checkout_request_id(now, "254708374149") for _ in range(50)}
    assert len(seen) == 50
