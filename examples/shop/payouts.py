"""Refunds (B2C) and the nightly reconciliation (Transaction Status, Account Balance).

    POST /api/orders/{number}/refund   pay a paid order back to the customer's phone
    GET  /api/orders/{number}/refund   the refund and how it ended
    POST /api/reconcile                the nightly run, now: Transaction Status for every
                                       refund without a result and every paid order's receipt,
                                       then the B2C shortcode's Account Balance
    GET  /api/reconciliation           what the last runs found
    POST /api/payouts/result/{kind}    Safaricom's results (b2c, status, balance)
    POST /api/payouts/timeout/{kind}   Safaricom's queue timeouts

A refund's result is applied once (a duplicate changes nothing). A result that never comes
leaves the refund `requested`; reconciliation asks Transaction Status by the refund's
OriginatorConversationID: Completed settles it (with the receipt), 2032 (no such payment)
fails it, so it may be tried again with a new id.
"""

import json
import logging
import sqlite3
import threading
import time

from mpesa_payouts import MPesaServiceWithPayouts, balances, result_parameters
from orders import Orders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logger = logging.getLogger("shop.payouts")
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
NOT_FOUND = 2032  # Transaction Status: the payment does not exist

SCHEMA = """
CREATE TABLE IF NOT EXISTS refunds (
    originator_id TEXT PRIMARY KEY,    -- ours, echoed by B2C v3: refund-<order>-<n>
    order_number TEXT NOT NULL,
    phone TEXT NOT NULL,
    amount INTEGER NOT NULL,
    conversation_id TEXT,              -- Safaricom's, from the acknowledgement
    status TEXT NOT NULL,              -- requested | refunded | failed
    result_code TEXT,
    result_desc TEXT,
    receipt TEXT,
    confirmed_by TEXT,                 -- result | status (Transaction Status)
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS queries (
    conversation_id TEXT PRIMARY KEY,  -- of the Transaction Status or Account Balance request
    kind TEXT NOT NULL,                -- refund | receipt | balance
    subject TEXT NOT NULL,             -- the refund's originator id, the receipt, the shortcode
    sent_at REAL NOT NULL,
    result_code TEXT,
    finding TEXT                       -- JSON: what the result said
);
"""


class Payouts:
    """Refunds and reconciliation queries, in the shop's SQLite file."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)

    def _one(self, sql: str, args: tuple) -> dict | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return dict(row) if row else None

    def _all(self, sql: str, args: tuple = ()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def _run(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def latest_refund(self, number: str) -> dict | None:
        return self._one("SELECT * FROM refunds WHERE order_number = ? ORDER BY created_at DESC"
                         " LIMIT 1", (number,))

    def refund_count(self, number: str) -> int:
        """Tries so far: each gets its own OriginatorConversationID (B2C v3 refuses a repeat)."""
        return len(self._all("SELECT 1 FROM refunds WHERE order_number = ?", (number,)))

    def refund_requested(self, originator_id: str, number: str, phone: str, amount: int,
                         conversation_id: str) -> None:
        self._run("INSERT INTO refunds (originator_id, order_number, phone, amount,"
                  " conversation_id, status, created_at) VALUES (?, ?, ?, ?, ?, 'requested', ?)",
                  (originator_id, number, phone, amount, conversation_id, time.time()))

    def settle_refund(self, originator_id: str, code: str, desc: str, receipt: str | None,
                      source: str) -> bool:
        """Apply a refund's outcome once: only a refund still `requested` changes."""
        status = "refunded" if code == "0" else "failed"
        return self._run(
            "UPDATE refunds SET status = ?, result_code = ?, result_desc = ?, receipt = ?,"
            " confirmed_by = ? WHERE originator_id = ? AND status = 'requested'",
            (status, code, desc, receipt, source, originator_id)) == 1

    def refund_by_conversation(self, conversation_id: str) -> dict | None:
        return self._one("SELECT * FROM refunds WHERE conversation_id = ?", (conversation_id,))

    def unsettled_refunds(self) -> list[dict]:
        return self._all("SELECT * FROM refunds WHERE status = 'requested'")

    def query_sent(self, conversation_id: str, kind: str, subject: str) -> None:
        self._run("INSERT INTO queries (conversation_id, kind, subject, sent_at)"
                  " VALUES (?, ?, ?, ?)", (conversation_id, kind, subject, time.time()))

    def query_answered(self, conversation_id: str, code: str, finding: dict) -> dict | None:
        """Record a query's result once; returns the query, or None (unknown or repeated)."""
        if self._run("UPDATE queries SET result_code = ?, finding = ? WHERE conversation_id = ?"
                     " AND result_code IS NULL", (code, json.dumps(finding), conversation_id)):
            return self._one("SELECT * FROM queries WHERE conversation_id = ?",
                             (conversation_id,))
        return None

    def verified_receipts(self) -> set[str]:
        rows = self._all("SELECT subject FROM queries WHERE kind = 'receipt'"
                         " AND result_code = '0'")
        return {r["subject"] for r in rows}

    def report(self) -> dict:
        queries = self._all("SELECT * FROM queries ORDER BY sent_at")
        for q in queries:
            q["finding"] = json.loads(q["finding"]) if q["finding"] else None
        balance = next((q["finding"] for q in reversed(queries)
                        if q["kind"] == "balance" and q["finding"]), None)
        return {"balance": balance, "queries": queries,
                "refunds": self._all("SELECT * FROM refunds ORDER BY created_at")}

    def close(self) -> None:
        self._db.close()


def routes(orders: Orders, payouts: Payouts, mpesa: MPesaServiceWithPayouts) -> list[Route]:
    async def refund(request: Request) -> JSONResponse:
        number = request.path_params["number"]
        order = orders.get(number)
        if order is None:
            return JSONResponse({"detail": "no such order"}, status_code=404)
        if order["status"] != "paid":
            return JSONResponse({"detail": f"order is {order['status']}"}, status_code=409)
        latest = payouts.latest_refund(number)
        if latest and latest["status"] in ("requested", "refunded"):
            return JSONResponse({"detail": f"refund {latest['status']}", "refund": latest},
                                status_code=409)
        originator_id = f"refund-{number}-{payouts.refund_count(number) + 1}"
        phone = str(order["customer"].get("phone", "")).lstrip("+")
        try:
            ack = await mpesa.b2c_payment(phone, order["total"], originator_id,
                                          f"Refund for order {number}")
        except Exception as e:
            logger.error(f"B2C refund for {number} failed: {e}")
            return JSONResponse({"detail": "M-Pesa refused the refund"}, status_code=502)
        payouts.refund_requested(originator_id, number, phone, order["total"],
                                 ack["ConversationID"])
        return JSONResponse(payouts.latest_refund(number), status_code=202)

    async def get_refund(request: Request) -> JSONResponse:
        latest = payouts.latest_refund(request.path_params["number"])
        if latest is None:
            return JSONResponse({"detail": "no refund"}, status_code=404)
        return JSONResponse(latest)

    async def result(request: Request) -> JSONResponse:
        try:
            body = (await request.json()).get("Result", {})
            kind = request.path_params["kind"]
            code = str(body.get("ResultCode"))
            if kind == "b2c":
                found = payouts.refund_by_conversation(str(body.get("ConversationID")))
                if found is not None:
                    receipt = body.get("TransactionID") if code == "0" else None
                    applied = payouts.settle_refund(found["originator_id"], code,
                                                    body.get("ResultDesc", ""), receipt,
                                                    "result")
                    logger.info(f"refund {found['originator_id']}: {code} "
                                f"({'applied' if applied else 'already settled'})")
            else:
                answered(str(body.get("ConversationID")), code, body)
        except Exception as e:
            logger.error(f"Error processing a payout result: {e}")
        return JSONResponse(ACCEPTED)

    def answered(conversation_id: str, code: str, body: dict) -> None:
        params = result_parameters(body)
        finding = {"code": code, "desc": body.get("ResultDesc", "")}
        if "AccountBalance" in params:
            finding["accounts"] = balances(params["AccountBalance"])
        for key in ("TransactionStatus", "ReceiptNo", "Amount"):
            if key in params:
                finding[key] = params[key]
        query = payouts.query_answered(conversation_id, code, finding)
        if query is None or query["kind"] != "refund":
            return
        if code == "0" and params.get("TransactionStatus") == "Completed":
            payouts.settle_refund(query["subject"], "0", "confirmed by Transaction Status",
                                  params.get("ReceiptNo"), "status")
        elif code == str(NOT_FOUND):  # M-Pesa never paid it: it may be tried again
            payouts.settle_refund(query["subject"], code, body.get("ResultDesc", ""), None,
                                  "status")

    async def timeout(request: Request) -> JSONResponse:
        logger.warning(f"queue timeout for a {request.path_params['kind']} request; "
                       "reconciliation will ask how it ended")
        return JSONResponse(ACCEPTED)

    async def reconcile(request: Request) -> JSONResponse:
        """The nightly run, on demand; also started by the shop's nightly task."""
        return JSONResponse({"queries": await reconcile_now(orders, payouts, mpesa)})

    async def report(request: Request) -> JSONResponse:
        return JSONResponse(payouts.report())

    return [
        Route("/api/orders/{number}/refund", refund, methods=["POST"]),
        Route("/api/orders/{number}/refund", get_refund, methods=["GET"]),
        Route("/api/reconcile", reconcile, methods=["POST"]),
        Route("/api/reconciliation", report, methods=["GET"]),
        Route("/api/payouts/result/{kind}", result, methods=["POST"]),
        Route("/api/payouts/timeout/{kind}", timeout, methods=["POST"]),
    ]


async def reconcile_now(orders: Orders, payouts: Payouts,
                        mpesa: MPesaServiceWithPayouts) -> int:
    """Ask Transaction Status about each refund without an outcome and each paid order's
    receipt not yet confirmed, and the Account Balance; returns how many queries went out."""
    asks = [("refund", r["originator_id"], {"original_conversation_id": r["originator_id"]})
            for r in payouts.unsettled_refunds()]
    verified = payouts.verified_receipts()
    asks += [("receipt", receipt, {"transaction_id": receipt})
             for receipt in orders.paid_receipts() if receipt not in verified]
    sent = 0
    for kind, subject, query in asks:
        try:
            ack = await mpesa.transaction_status(**query)
        except Exception as e:
            logger.warning(f"Transaction Status for {subject} failed: {e}")
            continue
        payouts.query_sent(ack["ConversationID"], kind, subject)
        sent += 1
    try:
        ack = await mpesa.account_balance()
        payouts.query_sent(ack["ConversationID"], "balance", mpesa.b2c_shortcode)
        sent += 1
    except Exception as e:
        logger.warning(f"Account Balance failed: {e}")
    return sent
