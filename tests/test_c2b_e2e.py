"""C2B over real HTTP: register URL v1/v2, simulate, the validation and confirmation POSTs at a
real merchant listener, the ledger behind them, and STK into a registered paybill."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import EmulatorServer
from tests.c2b_receiver import MerchantReceiver
from tests.helpers import CallbackReceiver, Daraja

CONFIRM, VALIDATE = "/c2b/confirmation", "/c2b/validation"
FINAL = {"completed", "rejected", "failed"}
KEYS_V1 = ["TransactionType", "TransID", "TransTime", "TransAmount", "BusinessShortCode",
           "BillRefNumber", "InvoiceNumber", "OrgAccountBalance", "ThirdPartyTransID", "MSISDN",
           "FirstName", "MiddleName", "LastName"]


@pytest.fixture(scope="module")
def merchant() -> Iterator[MerchantReceiver]:
    m = MerchantReceiver()
    yield m
    m.close()


@pytest.fixture
def shop(daraja: Daraja, merchant: MerchantReceiver) -> Daraja:
    merchant.clear()
    return daraja


def register(shop: Daraja, merchant: MerchantReceiver, shortcode: str = "600984",
             version: str = "v1", response_type: str = "Completed",
             validation: bool = True) -> Any:
    body = {"ShortCode": int(shortcode), "ResponseType": response_type,
            "ConfirmationURL": merchant.url(CONFIRM),
            "ValidationURL": merchant.url(VALIDATE) if validation else None}
    return shop.http.post(f"/mpesa/c2b/{version}/registerurl", json=body, headers=shop.auth())


def simulate(shop: Daraja, shortcode: str = "600984", phone: str = "254708374149",
             amount: Any = 10, version: str = "v1", **extra: Any) -> Any:
    body = {"ShortCode": shortcode, "CommandID": "CustomerPayBillOnline", "Amount": amount,
            "Msisdn": int(phone), "BillRefNumber": "INV-42", **extra}
    return shop.http.post(f"/mpesa/c2b/{version}/simulate", json=body, headers=shop.auth())


def payment(shop: Daraja, originator: str, timeout: float = 5.0) -> dict[str, Any]:
    """The C2B payment a simulate ack named, once it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in shop.admin("GET", "/c2b/payments")["payments"]:
            if p["originator_conversation_id"] == originator and p["state"] in FINAL:
                return shop.admin("GET", f"/c2b/payments/{p['trans_id']}")
        time.sleep(0.01)
    raise AssertionError(f"no final payment for {originator}")


def utility(shop: Daraja, shortcode: str) -> str:
    return shop.admin("GET", f"/ledger/businesses/{shortcode}")["accounts"]["Utility Account"]


def test_register_acks_per_version(shop: Daraja, merchant: MerchantReceiver) -> None:
    v1 = register(shop, merchant, version="v1")
    assert v1.status_code == 200
    assert list(v1.json()) == ["OriginatorCoversationID", "ResponseCode", "ResponseDescription"]
    assert (v1.json()["ResponseCode"], v1.json()["ResponseDescription"]) == ("0", "success")
    v2 = register(shop, merchant, version="v2")
    assert (v2.json()["ResponseCode"], v2.json()["ResponseDescription"]) == ("00000000", "Success")
    assert re.fullmatch(r"[0-9a-f-]{27}\d+", v2.json()["OriginatorCoversationID"])


@pytest.mark.parametrize(("body", "status", "code", "message"), [
    ({"ResponseType": "completed"}, 400, "400.002.02", "Bad Request - Invalid ResponseType"),
    ({"ShortCode": "12ab"}, 400, "400.002.02", "Bad Request - Invalid ShortCode"),
    ({"ShortCode": "123456"}, 400, "400.002.02", "Bad Request - Invalid ShortCode"),
    ({"ConfirmationURL": "not a url"}, 400, "400.002.02", "Bad Request - Invalid ConfirmationURL"),
    ({"ValidationURL": "http://x.example/mpesa/validate"}, 400, "400.003.02",
     "Bad Request - Invalid ValidationURL - URL has the word MPESA"),
    ({"ConfirmationURL": "http://x.example/api/query"}, 400, "400.003.02",
     "Bad Request - Invalid ConfirmationURL - URL has the word QUERY"),
])
def test_register_errors(shop: Daraja, body: dict[str, Any], status: int, code: str,
                         message: str) -> None:
    full = {"ShortCode": "600984", "ResponseType": "Completed",
            "ConfirmationURL": "http://x.example/c", "ValidationURL": "http://x.example/v", **body}
    r = shop.http.post("/mpesa/c2b/v1/registerurl", json=full, headers=shop.auth())
    assert r.status_code == status
    assert (r.json()["errorCode"], r.json()["errorMessage"]) == (code, message)


def test_the_stk_shortcode_cannot_register(shop: Daraja, merchant: MerchantReceiver) -> None:
    r = register(shop, merchant, shortcode="174379")
    assert r.status_code == 500
    fault = r.json()["Envelope"]["Body"]["Fault"]
    assert "SCO-AddURLVault" in fault["faultstring"] and "409" in fault["faultstring"]


def test_validation_then_confirmation_move_the_money(
    shop: Daraja, merchant: MerchantReceiver
) -> None:
    register(shop, merchant, shortcode="600984", version="v1")
    merchant.answers[VALIDATE] = (200, b'{"ResultCode":0,"ResultDesc":"Accepted",'
                                  b'"ThirdPartyTransID":"shop-77"}', 0.0)
    before = utility(shop, "600984")
    ack = simulate(shop, amount="25", Unknown="ignored")
    assert ack.status_code == 200, ack.text
    assert ack.json()["ResponseDescription"] == "Accept the service request successfully."
    p = payment(shop, ack.json()["OriginatorCoversationID"])
    assert p["state"] == "completed" and p["third_party_trans_id"] == "shop-77"
    [validation] = merchant.wait(VALIDATE, trans_id=p["trans_id"])
    [confirmation] = merchant.wait(CONFIRM, trans_id=p["trans_id"])
    assert list(confirmation) == KEYS_V1
    assert all(isinstance(v, str) for v in confirmation.values())
    assert validation["OrgAccountBalance"] == "" and validation["ThirdPartyTransID"] == ""
    assert confirmation["TransactionType"] == "Pay Bill"
    assert confirmation["TransAmount"] == "25.00" and confirmation["BillRefNumber"] == "INV-42"
    assert confirmation["ThirdPartyTransID"] == "shop-77"
    assert confirmation["MSISDN"] == hashlib.sha256(b"254708374149").hexdigest()
    assert (confirmation["FirstName"], confirmation["LastName"]) == ("JOHN", "DOE")
    after = utility(shop, "600984")
    assert float(after) == float(before) + 25 == float(confirmation["OrgAccountBalance"])
    assert shop.admin("GET", "/ledger/customers/254708374149")["balance"] == "99975.00"
    [entry] = shop.admin("GET", "/ledger/entries?shortcode=600984")["entries"]
    assert entry["receipt"] == confirmation["TransID"] and entry["kind"] == "c2b"
    detail = p["validation_attempts"][0]
    assert detail["sent"].encode() == merchant.raw(VALIDATE)[-1]  # the exact bytes kept
    assert "shop-77" in detail["response_body"]


def test_v2_masks_the_msisdn_and_sends_the_first_name_only(
    shop: Daraja, merchant: MerchantReceiver
) -> None:
    register(shop, merchant, shortcode="600985", version="v2", validation=False)
    ack = simulate(shop, shortcode="600985", phone="254711222126", version="v2",
                   BillRefNumber=None)
    p = payment(shop, ack.json()["OriginatorCoversationID"])
    [confirmation] = merchant.wait(CONFIRM, trans_id=p["trans_id"])
    assert confirmation["MSISDN"] == "2547 ***** 126"
    assert "MiddleName" not in confirmation and confirmation["FirstName"].isupper()
    assert confirmation["BillRefNumber"] == "" and merchant.bodies(VALIDATE) == []


@pytest.mark.parametrize("code", ["C2B00011", "C2B00012", "C2B00016"])
def test_a_rejecting_merchant_stops_the_payment(
    shop: Daraja, merchant: MerchantReceiver, code: str
) -> None:
    register(shop, merchant, shortcode="600986")
    merchant.answers[VALIDATE] = (200, f'{{"ResultCode":"{code}","ResultDesc":"Rejected"}}'
                                  .encode(), 0.0)
    before = utility(shop, "600986")
    p = payment(shop, simulate(shop, shortcode="600986").json()["OriginatorCoversationID"])
    assert p["state"] == "rejected" and code in p["outcome"]
    assert merchant.bodies(CONFIRM) == [] and utility(shop, "600986") == before


@pytest.mark.parametrize(("response_type", "state"), [("Completed", "completed"),
                                                      ("Cancelled", "rejected")])
def test_an_unreadable_answer_leaves_it_to_response_type(
    shop: Daraja, merchant: MerchantReceiver, response_type: str, state: str
) -> None:
    register(shop, merchant, shortcode="600987", response_type=response_type)
    merchant.answers[VALIDATE] = (200, b"<html>oops</html>", 0.0)
    p = payment(shop, simulate(shop, shortcode="600987").json()["OriginatorCoversationID"])
    assert p["state"] == state and f"ResponseType {response_type} decides" in p["outcome"]
    if state == "completed":  # the payment is final before its confirmation has arrived
        merchant.wait(CONFIRM, trans_id=p["trans_id"])
    assert len(merchant.bodies(CONFIRM)) == (1 if state == "completed" else 0)


def test_validation_off_for_a_shortcode(shop: Daraja, merchant: MerchantReceiver) -> None:
    register(shop, merchant, shortcode="600988")
    shop.admin("PUT", "/c2b/registrations/600988", json={"external_validation": False})
    p = payment(shop, simulate(shop, shortcode="600988").json()["OriginatorCoversationID"])
    assert p["state"] == "completed" and p["validations"] == 0
    merchant.wait(CONFIRM, trans_id=p["trans_id"])


@pytest.mark.parametrize(("phone", "confirmations"), [
    ("254711000002", 0),  # c2b-confirmation-lost
    ("254711000003", 2),  # c2b-confirmation-twice
])
def test_scenarios_choose_the_confirmations(
    shop: Daraja, merchant: MerchantReceiver, phone: str, confirmations: int
) -> None:
    shop.admin("POST", "/time", json={"scale": 0.01})
    register(shop, merchant, shortcode="600989", validation=False)
    p = payment(shop, simulate(shop, shortcode="600989", phone=phone)
                .json()["OriginatorCoversationID"])
    assert p["state"] == "completed"
    if confirmations:
        first, second = merchant.wait(CONFIRM, count=2, trans_id=p["trans_id"])
        assert first == second
    else:
        time.sleep(0.1)
        assert merchant.bodies(CONFIRM) == []


def test_the_validation_timeout_scenario_ignores_the_answer(
    shop: Daraja, merchant: MerchantReceiver
) -> None:
    register(shop, merchant, shortcode="600990", response_type="Cancelled")
    p = payment(shop, simulate(shop, shortcode="600990", phone="254711000001")
                .json()["OriginatorCoversationID"])
    assert p["state"] == "rejected" and p["validations"] == 1
    assert "ResponseType Cancelled decides" in p["outcome"]


def test_simulate_refuses_what_daraja_refuses(shop: Daraja, merchant: MerchantReceiver) -> None:
    for fields, name in [({"Amount": 0}, "Amount"), ({"Msisdn": "0712345678"}, "Msisdn"),
                         ({"CommandID": "CustomerBuyGoodsOnline"}, "CommandID"),
                         ({"CommandID": None}, "CommandID"), ({"Amount": 1.5}, "Amount")]:
        r = simulate(shop, **fields)
        assert r.status_code == 400, (fields, r.text)
        assert r.json()["errorMessage"] == f"Bad Request - Invalid {name}"
    r = shop.http.post("/mpesa/c2b/v1/simulate", content=b"nope", headers=shop.auth())
    assert r.json()["errorMessage"] == "Bad Request - Invalid ShortCode"


def test_a_customer_short_of_money_pays_nothing(shop: Daraja, merchant: MerchantReceiver) -> None:
    register(shop, merchant, shortcode="600991")
    shop.admin("PUT", "/ledger/customers/254722000111", json={"balance": "5.00"})
    p = payment(shop, simulate(shop, shortcode="600991", phone="254722000111", amount=10)
                .json()["OriginatorCoversationID"])
    assert p["state"] == "failed" and merchant.posts == []
    assert p["outcome"] == ("the customer's balance is too small: M-PESA refuses the payment "
                            "itself, before any validation POST, and nobody is told")


def test_qa_pays_through_the_admin_api(shop: Daraja, merchant: MerchantReceiver) -> None:
    register(shop, merchant, shortcode="600992", validation=False)
    p = shop.admin("POST", "/c2b/pay", json={"shortcode": "600992", "phone": "254708374149",
                                             "amount": 3, "bill_ref": "QA"})
    assert p["origin"] == "admin"
    [confirmation] = merchant.wait(CONFIRM, trans_id=p["trans_id"])
    assert confirmation["TransAmount"] == "3.00" and confirmation["BillRefNumber"] == "QA"


def test_stk_moves_money_and_confirms_to_a_registered_paybill(
    shop: Daraja, merchant: MerchantReceiver, receiver: CallbackReceiver, server: EmulatorServer
) -> None:
    emu = server.emulator
    registered = "600993"
    emu.stk._merchants = {**emu.stk._merchants, registered: "passkey"}  # white-box: a passkey
    register(shop, merchant, shortcode=registered, version="v2")
    before = utility(shop, registered)
    from tests.helpers import password
    ts = "20260115103000"
    r = shop.push("254708374149", Amount=40, BusinessShortCode=registered, PartyB=registered,
                  Password=password(ts, registered, "passkey"), Timestamp=ts)
    assert r.status_code == 200, r.text
    [callback] = receiver.wait(r.json()["CheckoutRequestID"])
    items = {i["Name"]: i.get("Value") for i in
             callback["Body"]["stkCallback"]["CallbackMetadata"]["Item"]}
    [confirmation] = merchant.wait(CONFIRM, trans_id=items["MpesaReceiptNumber"])
    assert confirmation["TransAmount"] == "40.00" and confirmation["MSISDN"] == "2547 ***** 149"
    assert merchant.bodies(VALIDATE) == []  # STK payments are not validated
    assert float(utility(shop, registered)) == float(before) + 40
    assert confirmation["OrgAccountBalance"] == utility(shop, registered)


def test_stk_larger_than_the_wallet_ends_as_1(
    shop: Daraja, receiver: CallbackReceiver
) -> None:
    shop.admin("PUT", "/ledger/customers/254722333444", json={"balance": 9})
    r = shop.push("254722333444", Amount=10)
    [callback] = receiver.wait(r.json()["CheckoutRequestID"])
    stk = callback["Body"]["stkCallback"]
    assert (stk["ResultCode"], stk["ResultDesc"]) == (
        1, "The balance is insufficient for the transaction")
    assert shop.admin("GET", "/ledger/customers/254722333444")["balance"] == "9.00"
    ok = shop.push("254722333444", Amount=9)
    receiver.wait(ok.json()["CheckoutRequestID"])
    assert shop.admin("GET", "/ledger/customers/254722333444")["balance"] == "0.00"
