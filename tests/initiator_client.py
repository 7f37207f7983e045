"""A shop's calls to the initiator APIs, and waiting for their results at a real listener."""

from __future__ import annotations

import base64
import os
import time
from typing import Any

from tests.helpers import CallbackReceiver, Daraja

CREDENTIAL = base64.b64encode(os.urandom(256)).decode()  # well-formed: 344 characters


def body(api: str, receiver: CallbackReceiver, credential: str = CREDENTIAL,
         **fields: Any) -> dict[str, Any]:
    urls = {"ResultURL": receiver.url(f"/result/{api}"),
            "QueueTimeOutURL": receiver.url(f"/timeout/{api}")}
    base: dict[str, dict[str, Any]] = {
        "b2c": {"InitiatorName": "testapi", "CommandID": "BusinessPayment", "Amount": 100,
                "PartyA": 600992, "PartyB": "254705912645", "Remarks": "refund",
                "Occassion": None, "OriginatorConversationID": f"shop-{time.monotonic_ns()}"},
        "txstatus": {"Initiator": "testapi", "CommandID": "TransactionStatusQuery",
                     "PartyA": "600992", "IdentifierType": "4", "Remarks": "ok",
                     "Occasion": "Query"},
        "balance": {"Initiator": "testapi", "CommandID": "AccountBalance", "PartyA": "600992",
                    "IdentifierType": 4, "Remarks": "ok"},
        "reversal": {"Initiator": "testapi", "CommandID": "TransactionReversal", "Amount": "1",
                     "ReceiverParty": "600992", "RecieverIdentifierType": "11",
                     "Remarks": "reverse"},
        "b2b": {"Initiator": "testapi", "CommandID": "BusinessPayBill", "Amount": "239",
                "PartyA": "600999", "PartyB": "600000", "AccountReference": "353353",
                "SenderIdentifierType": "4", "RecieverIdentifierType": "4", "Remarks": "OK"},
    }
    return {"SecurityCredential": credential, **base[api], **urls, **fields}


PATHS = {"b2c": "/mpesa/b2c/v3/paymentrequest", "b2c-v1": "/mpesa/b2c/v1/paymentrequest",
         "txstatus": "/mpesa/transactionstatus/v1/query",
         "balance": "/mpesa/accountbalance/v1/query", "reversal": "/mpesa/reversal/v1/request",
         "b2b": "/mpesa/b2b/v1/paymentrequest"}


def call(shop: Daraja, receiver: CallbackReceiver, api: str, **fields: Any) -> Any:
    path = PATHS[api]
    return shop.http.post(path, json=body(api.split("-")[0], receiver, **fields),
                          headers=shop.auth())


def results(receiver: CallbackReceiver, conversation_id: str) -> list[dict[str, Any]]:
    return [r["Result"] for r in list(receiver.received)
            if isinstance(r, dict) and isinstance(r.get("Result"), dict)
            and r["Result"].get("ConversationID") == conversation_id]


def wait_result(receiver: CallbackReceiver, conversation_id: str, count: int = 1,
                timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = results(receiver, conversation_id)
        if len(got) >= count:
            return got
        time.sleep(0.01)
    raise AssertionError(f"{len(results(receiver, conversation_id))} of {count} results for "
                         f"{conversation_id}")


def params(result: dict[str, Any]) -> dict[str, Any]:
    rows = result["ResultParameters"]["ResultParameter"]
    rows = rows if isinstance(rows, list) else [rows]
    return {row["Key"]: row.get("Value") for row in rows}


def raw_for(receiver: CallbackReceiver, conversation_id: str) -> bytes:
    return next(raw for raw in reversed(receiver.raw) if conversation_id.encode() in raw)
