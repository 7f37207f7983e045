"""The initiator APIs over real HTTP: B2C v1/v3, Transaction Status, Account Balance, Reversal
and B2B on the ledger, results at a real listener."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from emulator import EmulatorServer
from tests.c2b_receiver import MerchantReceiver
from tests.helpers import CallbackReceiver, Daraja, password
from tests.initiator_client import call, params, raw_for, results, wait_result

ACK_KEYS = ["OriginatorConversationID", "ConversationID", "ResponseCode", "ResponseDescription"]
AG = re.compile(r"AG_\d{8}_0100[a-z0-9]{16}")


def balance_of(shop: Daraja, shortcode: str, account: str = "Utility Account") -> float:
    return float(shop.admin("GET", f"/ledger/businesses/{shortcode}")["accounts"][account])


def wallet(shop: Daraja, phone: str) -> float:
    return float(shop.admin("GET", f"/ledger/customers/{phone}")["balance"])


def test_b2c_v3_pays_and_reports(daraja: Daraja, receiver: CallbackReceiver) -> None:
    utility, customer = balance_of(daraja, "600992"), wallet(daraja, "254705912645")
    ack = call(daraja, receiver, "b2c", OriginatorConversationID="UWW-1", Unknown="x",
               Occasion="Xmas")
    assert ack.status_code == 200, ack.text
    assert list(ack.json()) == ACK_KEYS
    assert ack.json()["OriginatorConversationID"] == "UWW-1"
    assert ack.json()["ResponseCode"] == "0"
    assert ack.json()["ResponseDescription"] == "Accept the service request successfully."
    assert AG.fullmatch(ack.json()["ConversationID"])
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    p = params(result)
    assert list(p) == ["TransactionAmount", "TransactionReceipt", "ReceiverPartyPublicName",
                       "TransactionCompletedDateTime", "B2CUtilityAccountAvailableFunds",
                       "B2CWorkingAccountAvailableFunds", "B2CRecipientIsRegisteredCustomer",
                       "B2CChargesPaidAccountAvailableFunds"]
    assert p["TransactionAmount"] == 100 and p["TransactionReceipt"] == result["TransactionID"]
    assert p["ReceiverPartyPublicName"] == "254705912645 - NICHOLAS JOHN SONGOK"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", p["TransactionCompletedDateTime"])
    assert p["B2CUtilityAccountAvailableFunds"] == utility - 100
    assert balance_of(daraja, "600992") == utility - 100
    assert wallet(daraja, "254705912645") == customer + 100
    raw = raw_for(receiver, ack.json()["ConversationID"])
    assert re.search(rb'"B2CUtilityAccountAvailableFunds","Value":\d+\.\d\d}', raw)
    assert result["ReferenceData"]["ReferenceItem"] == {
        "Key": "QueueTimeoutURL",
        "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"}
    again = call(daraja, receiver, "b2c", OriginatorConversationID="UWW-1")
    assert again.status_code == 500
    assert again.json()["errorCode"] == "500.002.1001"
    assert again.json()["errorMessage"] == "Duplicate OriginatorConversationID."


def test_b2c_v1_makes_its_own_originator_id(daraja: Daraja, receiver: CallbackReceiver) -> None:
    ack = call(daraja, receiver, "b2c-v1", OriginatorConversationID="mine",
               CommandID="SalaryPayment")
    assert ack.status_code == 200 and ack.json()["OriginatorConversationID"] != "mine"
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    assert result["OriginatorConversationID"] == ack.json()["OriginatorConversationID"]


def test_b2c_over_the_utility_balance_ends_as_1(daraja: Daraja, receiver: CallbackReceiver
                                                ) -> None:
    daraja.admin("PUT", "/ledger/businesses/600993",
                 json={"account": "Utility", "balance": "50"})
    ack = call(daraja, receiver, "b2c", PartyA="600993", Amount=51)
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    assert result["ResultCode"] == 1 and "ResultParameters" not in result
    assert result["ResultDesc"] == "The balance is insufficient for the transaction."
    assert re.fullmatch(r"[A-Z][A-L][1-9A-V]0000000", result["TransactionID"])
    assert balance_of(daraja, "600993") == 50


@pytest.mark.parametrize(("phone", "code"), [("254712002001", 2001), ("254712008006", 8006),
                                             ("254712090003", "SFC_IC0003"), ("254712000011", 11)])
def test_b2c_magic_numbers(daraja: Daraja, receiver: CallbackReceiver, phone: str,
                           code: Any) -> None:
    before = wallet(daraja, phone)
    ack = call(daraja, receiver, "b2c", PartyB=phone)
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    assert result["ResultCode"] == code and "ResultParameters" not in result
    assert wallet(daraja, phone) == before


def test_lost_twice_and_queue_timeout(daraja: Daraja, receiver: CallbackReceiver) -> None:
    twice = call(daraja, receiver, "b2c", PartyB="254712090002").json()["ConversationID"]
    first, second = wait_result(receiver, twice, count=2)
    assert first == second
    lost = call(daraja, receiver, "b2c", PartyB="254712090001").json()["ConversationID"]
    job = wait_job(daraja, lost)
    assert job["result_code"] == 0 and job["posts"] == 0 and results(receiver, lost) == []
    daraja.admin("POST", "/initiators/queue", json={"scenario": "initiator-queue-timeout",
                                                    "api": "balance"})
    timeout = call(daraja, receiver, "balance").json()["ConversationID"]
    job = wait_job(daraja, timeout)
    deadline = time.monotonic() + 5
    while not any(c.get("Result", {}).get("ConversationID") == timeout and
                  c["Result"]["ResultType"] == 1 for c in receiver.received):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert job["result_code"] == "queue-timeout"


def wait_job(shop: Daraja, conversation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job = shop.admin("GET", f"/initiators/results/{conversation_id}")
        if job["state"] == "completed":
            return job
        time.sleep(0.01)
    raise AssertionError(f"{conversation_id} did not complete")


def test_transaction_status_of_a_b2c_and_unknown(daraja: Daraja, receiver: CallbackReceiver
                                                 ) -> None:
    paid = call(daraja, receiver, "b2c", OriginatorConversationID="ts-1")
    [b2c] = wait_result(receiver, paid.json()["ConversationID"])
    ack = call(daraja, receiver, "txstatus", TransactionID=b2c["TransactionID"])
    [ts] = wait_result(receiver, ack.json()["ConversationID"])
    p = params(ts)
    assert len(p) == 13 and p["ReceiptNo"] == b2c["TransactionID"]
    assert p["ReasonType"] == "Business Payment to Customer via API"
    assert p["DebitAccountType"] == "Utility Account"
    assert p["CreditPartyName"] == "254705912645 - NICHOLAS JOHN SONGOK"
    assert p["OriginatorConversationID"] == "ts-1" and p["Amount"] == 100
    assert ts["TransactionID"].endswith("0000000")
    assert ts["ReferenceData"]["ReferenceItem"] == {"Key": "Occasion", "Value": "Query"}
    by_id = call(daraja, receiver, "txstatus", OriginalConversationID="ts-1")
    [again] = wait_result(receiver, by_id.json()["ConversationID"])
    assert params(again)["ReceiptNo"] == b2c["TransactionID"]
    unknown = call(daraja, receiver, "txstatus", TransactionID="OEI2AK4Q16", Occasion=None)
    [missing] = wait_result(receiver, unknown.json()["ConversationID"])
    assert missing["ResultCode"] == 2032 and "ResultParameters" not in missing
    assert missing["ReferenceData"]["ReferenceItem"] == {"Key": "Occasion"}


def test_account_balance_reads_the_ledger(daraja: Daraja, receiver: CallbackReceiver) -> None:
    ack = call(daraja, receiver, "balance")
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    p = params(result)
    assert p["ActionType"] == "AccountBalance" and isinstance(p["BOCompletedTime"], int)
    names = [part.split("|")[0] for part in p["AccountBalance"].split("&")]
    assert names == ["Working Account", "Float Account", "Utility Account",
                     "Charges Paid Account", "Organization Settlement Account"]
    assert "Utility Account|KES|1000000.00|1000000.00|0.00|0.00" in p["AccountBalance"]


@pytest.mark.parametrize("shortcode", ["600995", "5212399"])  # a paybill, a till
def test_the_admin_balance_string_is_what_account_balance_sends(
    daraja: Daraja, receiver: CallbackReceiver, server: EmulatorServer, shortcode: str
) -> None:
    server.emulator.ledger.till("5212399")  # white-box: a till (a sandbox code is a paybill)
    daraja.admin("PUT", f"/ledger/businesses/{shortcode}",
                 json={"account": "Merchant Account", "balance": "7"})
    ack = call(daraja, receiver, "balance", PartyA=shortcode)
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    view = daraja.admin("GET", f"/ledger/businesses/{shortcode}")
    assert view["balance_string"] == params(result)["AccountBalance"]
    assert len(view["accounts"]) == 6  # the ledger's every account, reported or not


def test_reversal_of_a_c2b_payment(daraja: Daraja, receiver: CallbackReceiver) -> None:
    paid = daraja.admin("POST", "/c2b/pay", json={"shortcode": "600992", "phone":
                                                  "254708374149", "amount": 40})
    deadline = time.monotonic() + 5
    while daraja.admin("GET", f"/c2b/payments/{paid['trans_id']}")["state"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    before = wallet(daraja, "254708374149")
    ack = call(daraja, receiver, "reversal", TransactionID=paid["trans_id"], Amount=40,
               RecieverIdentifierType=4)
    [result] = wait_result(receiver, ack.json()["ConversationID"])
    p = params(result)
    assert result["ResultCode"] == 0 and p["OriginalTransactionID"] == paid["trans_id"]
    assert p["CreditPartyPublicName"] == "254708374149 - JOHN DOE"
    assert p["DebitPartyPublicName"] == "600992 - Safaricom Daraja 992"
    assert wallet(daraja, "254708374149") == before + 40
    twice = call(daraja, receiver, "reversal", TransactionID=paid["trans_id"])
    [again] = wait_result(receiver, twice.json()["ConversationID"])
    assert again["ResultCode"] == "R000001"
    unknown = call(daraja, receiver, "reversal", TransactionID="OEI2AK4Q16")
    [missing] = wait_result(receiver, unknown.json()["ConversationID"])
    assert missing["ResultCode"] == "R000002"
    assert missing["ResultDesc"] == "The OriginalTransactionID is invalid."
    wrong = call(daraja, receiver, "reversal", TransactionID=paid["trans_id"],
                 RecieverIdentifierType=None, ReceiverIdentifierType="11")
    assert wrong.json()["errorMessage"] == "Bad Request - Invalid RecieverIdentifierType"


def test_a_reversed_stk_payment_reads_reversed_in_the_c2b_view(
    daraja: Daraja, receiver: CallbackReceiver, server: EmulatorServer
) -> None:
    code, phone = "600994", "254708374149"
    emu = server.emulator
    emu.stk._merchants = {**emu.stk._merchants, code: "passkey"}  # white-box: a passkey
    merchant = MerchantReceiver()
    try:
        r = daraja.http.post("/mpesa/c2b/v1/registerurl", headers=daraja.auth(), json={
            "ShortCode": code, "ResponseType": "Completed",
            "ConfirmationURL": merchant.url("/confirm")})
        assert r.status_code == 200, r.text
        ts = "20260115103000"
        push = daraja.push(phone, Amount=25, BusinessShortCode=code, PartyB=code,
                           Password=password(ts, code, "passkey"), Timestamp=ts)
        [callback] = receiver.wait(push.json()["CheckoutRequestID"])
        receipt = next(i["Value"] for i in callback["Body"]["stkCallback"]["CallbackMetadata"]
                       ["Item"] if i["Name"] == "MpesaReceiptNumber")
        merchant.wait("/confirm", trans_id=receipt)
        assert daraja.admin("GET", f"/c2b/payments/{receipt}")["state"] == "completed"
        ack = call(daraja, receiver, "reversal", TransactionID=receipt, ReceiverParty=code,
                   Amount=25)
        [result] = wait_result(receiver, ack.json()["ConversationID"])
        assert result["ResultCode"] == 0
        view = daraja.admin("GET", f"/c2b/payments/{receipt}")
        assert (view["state"], view["reversed_by"]) == ("reversed", result["TransactionID"])
        assert view["timeline"][-1]["event"] == (
            f"reversed by {result['TransactionID']}: KES 25.00 back to {phone}")
        [row] = daraja.admin("GET", f"/c2b/payments?shortcode={code}")["payments"]
        assert (row["state"], row["reversed_by"]) == ("reversed", result["TransactionID"])
        [entry] = [e for e in daraja.admin("GET", f"/ledger/entries?shortcode={code}")["entries"]
                   if e["kind"] == "reversal"]
        assert entry["receipt"] == result["TransactionID"]
    finally:
        merchant.close()


def test_b2b_paybill_confirms_to_the_payee(daraja: Daraja, receiver: CallbackReceiver) -> None:
    merchant = MerchantReceiver()
    try:
        r = daraja.http.post("/mpesa/c2b/v1/registerurl", headers=daraja.auth(), json={
            "ShortCode": "600000", "ResponseType": "Completed",
            "ConfirmationURL": merchant.url("/confirm")})
        assert r.status_code == 200
        working, utility = balance_of(daraja, "600999", "Working Account"), \
            balance_of(daraja, "600000")
        ack = call(daraja, receiver, "b2b")
        [result] = wait_result(receiver, ack.json()["ConversationID"])
        p = params(result)
        assert result["ResultCode"] == 0 and p["Amount"] == 239
        assert p["DebitPartyAffectedAccountBalance"].startswith(
            f"Working Account|KES|{working - 239:.2f}|")
        assert p["DebitAccountCurrentBalance"] == (
            f"{{Amount={{CurrencyCode=KES, MinimumAmount={int((working - 239) * 100)}, "
            f"BasicAmount={working - 239:.2f}}}}}")
        assert result["ReferenceData"]["ReferenceItem"][0] == {
            "Key": "BillReferenceNumber", "Value": 353353}
        assert result["ReferenceData"]["ReferenceItem"][2] == {"Key": "Occassion"}
        assert balance_of(daraja, "600000") == utility + 239
        [confirmation] = merchant.wait("/confirm", trans_id=result["TransactionID"])
        assert confirmation["TransAmount"] == "239.00"
        assert confirmation["BillRefNumber"] == "353353"
    finally:
        merchant.close()


@pytest.mark.parametrize(("api", "fields", "message"), [
    ("b2c", {"SecurityCredential": None}, "Bad Request - Invalid SecurityCredential"),
    ("b2c", {"SecurityCredential": "Safaricom999!*!"}, "Bad Request - Invalid SecurityCredential"),
    ("b2c", {"InitiatorName": None}, "Bad Request - Invalid InitiatorName"),
    ("b2c", {"OriginatorConversationID": None}, "Bad Request - Invalid OriginatorConversationID"),
    ("b2c", {"PartyB": "243810000000"}, "Bad Request - Invalid PartyB"),
    ("txstatus", {"Initiator": ""}, "Bad Request - Invalid InitiatorName"),
    ("balance", {"PartyA": "12ab"}, "Bad Request - Invalid PartyA"),
    ("b2b", {"AccountReference": None}, "Bad Request - Invalid AccountReference"),
])
def test_bad_input_gets_daraja_envelope(daraja: Daraja, receiver: CallbackReceiver, api: str,
                                        fields: dict[str, Any], message: str) -> None:
    r = call(daraja, receiver, api, **fields)
    assert r.status_code == 400 and r.json()["errorCode"] == "400.002.02"
    assert r.json()["errorMessage"] == message
