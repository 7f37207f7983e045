"""Orders in SQLite. A payment result is applied once: only an order still awaiting that very
push changes, so a duplicate callback, or a callback after a query settled it, changes nothing.
And each M-Pesa receipt is applied once, whether the STK callback or a C2B confirmation brings
it (an STK push to a paybill with registered URLs brings both, with the same receipt)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT UNIQUE,
    customer TEXT NOT NULL,            -- JSON: name, phone, ...
    items TEXT NOT NULL,               -- JSON list
    total INTEGER NOT NULL,            -- KES, whole shillings as M-Pesa takes them
    status TEXT NOT NULL,              -- pending_payment | awaiting_payment | paid | payment_failed
    checkout_request_id TEXT UNIQUE,   -- the current STK push
    merchant_request_id TEXT,
    push_sent_at REAL,
    result_code INTEGER,
    result_desc TEXT,
    receipt TEXT,                      -- MpesaReceiptNumber (unknown when settled by a query)
    confirmed_by TEXT,                 -- callback | query
    callbacks_received INTEGER NOT NULL DEFAULT 0,
    amount_paid INTEGER NOT NULL DEFAULT 0,  -- KES received for it, each receipt counted once
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (  -- every M-Pesa receipt the shop has applied
    receipt TEXT PRIMARY KEY,
    order_number TEXT,                 -- NULL: paid to an unknown account number
    amount INTEGER NOT NULL,
    source TEXT NOT NULL,              -- callback | c2b
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    order_number TEXT NOT NULL,
    at REAL NOT NULL,
    what TEXT NOT NULL
);
"""

# What the customer is told for the results the shop sees most (the guide's "common error codes").
CUSTOMER_MESSAGES = {
    0: "Paid. Thank you!",
    1: "Your M-Pesa balance is not enough for this order.",
    1032: "You cancelled the payment on your phone.",
    1037: "Your phone could not be reached, or the prompt was not answered in time.",
    2001: "The M-Pesa PIN was wrong.",
}


class Orders:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(orders)")}
            if "amount_paid" not in columns:  # a shop.db from before paybill payments
                self._db.execute(
                    "ALTER TABLE orders ADD COLUMN amount_paid INTEGER NOT NULL DEFAULT 0")

    def _event(self, number: str, what: str) -> None:
        self._db.execute("INSERT INTO events VALUES (?, ?, ?)", (number, time.time(), what))

    def create(self, customer: dict[str, Any], items: list[Any], total: int) -> str:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO orders (customer, items, total, status, created_at)"
                " VALUES (?, ?, ?, 'pending_payment', ?)",
                (json.dumps(customer), json.dumps(items), total, time.time()),
            )
            number = f"LX-{datetime.now():%Y%m%d}-{cur.lastrowid:04d}"
            self._db.execute("UPDATE orders SET number = ? WHERE id = ?", (number, cur.lastrowid))
            self._event(number, "order placed")
        return number

    def get(self, number: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM orders WHERE number = ?", (number,)).fetchone()
            events = self._db.execute(
                "SELECT at, what FROM events WHERE order_number = ? ORDER BY rowid", (number,)
            ).fetchall()
        if row is None:
            return None
        order = dict(row)
        order.pop("id")
        order["customer"] = json.loads(order["customer"])
        order["items"] = json.loads(order["items"])
        order["message"] = _message(order)
        order["events"] = [dict(e) for e in events]
        return order

    def push_sent(self, number: str, checkout_id: str, merchant_id: str) -> None:
        """A new STK push for this order; a retry after a failed payment starts over."""
        with self._lock:
            self._db.execute(
                "UPDATE orders SET status = 'awaiting_payment', checkout_request_id = ?,"
                " merchant_request_id = ?, push_sent_at = ?, result_code = NULL,"
                " result_desc = NULL, receipt = NULL, confirmed_by = NULL WHERE number = ?",
                (checkout_id, merchant_id, time.time(), number),
            )
            self._event(number, f"STK push sent ({checkout_id})")

    def apply_result(
        self, checkout_id: str, code: int, desc: str, receipt: str | None, source: str
    ) -> str | None:
        """Settle the order awaiting this push; returns its number, or None if nothing changed."""
        status = "paid" if code == 0 else "payment_failed"
        with self._lock:
            row = self._db.execute(
                "SELECT number, status, total FROM orders WHERE checkout_request_id = ?",
                (checkout_id,),
            ).fetchone()
            if row is None:
                return None
            if code == 0 and receipt:  # a C2B confirmation with this receipt changes nothing now
                self._db.execute("INSERT OR IGNORE INTO receipts VALUES (?, ?, ?, ?, ?)",
                                 (receipt, row["number"], row["total"], source, time.time()))
            if source == "callback":
                self._db.execute(
                    "UPDATE orders SET callbacks_received = callbacks_received + 1"
                    " WHERE number = ?",
                    (row["number"],),
                )
            cur = self._db.execute(
                "UPDATE orders SET status = ?, result_code = ?, result_desc = ?, receipt = ?,"
                " confirmed_by = ?, amount_paid = amount_paid + ?"
                " WHERE checkout_request_id = ? AND status = 'awaiting_payment'",
                (status, code, desc, receipt, source, row["total"] if code == 0 else 0,
                 checkout_id),
            )
            if cur.rowcount == 0:
                self._event(row["number"], f"{source} for a settled order ignored ({code})")
                return None
            self._event(row["number"], f"{status} by {source}: {code} {desc}")
        return row["number"]

    def refusal(self, number: str, amount: int | None) -> str | None:
        """Why a paybill payment to account `number` should be refused (a C2B reject code), or
        None to accept it: an unknown order, one already paid, or not its total."""
        with self._lock:
            row = self._db.execute(
                "SELECT status, total FROM orders WHERE number = ?", (number,)).fetchone()
        if row is None:
            return "C2B00012"  # Invalid Account Number
        if row["status"] == "paid":
            return "C2B00016"  # Other Error: nothing is owed
        if amount != row["total"]:
            return "C2B00013"  # Invalid Amount
        return None

    def apply_receipt(self, receipt: str, number: str, amount: int, source: str) -> str:
        """Money came with this receipt for order `number`: counted once, however often it is
        told. Returns what happened: duplicate, unmatched, matched, overpaid, partial or paid."""
        now = time.time()
        with self._lock:
            row = self._db.execute(
                "SELECT number, status, total, receipt FROM orders WHERE number = ?", (number,)
            ).fetchone()
            cur = self._db.execute("INSERT OR IGNORE INTO receipts VALUES (?, ?, ?, ?, ?)",
                                   (receipt, row["number"] if row else None, amount, source, now))
            if cur.rowcount == 0:
                if row is not None:
                    self._event(number, f"{source} for receipt {receipt} ignored: already applied")
                return "duplicate"
            if row is None:
                return "unmatched"  # kept in receipts for reconciliation by hand
            if row["status"] == "paid":
                if row["receipt"] is None:  # settled by STK Query, which gives no receipt
                    self._db.execute("UPDATE orders SET receipt = ? WHERE number = ?",
                                     (receipt, number))
                    self._event(number, f"receipt {receipt} ({source}) matched to the paid push")
                    return "matched"
                self._db.execute("UPDATE orders SET amount_paid = amount_paid + ? WHERE number = ?",
                                 (amount, number))
                self._event(number, f"second payment {receipt} of KES {amount}: refund it")
                return "overpaid"
            self._db.execute("UPDATE orders SET amount_paid = amount_paid + ? WHERE number = ?",
                             (amount, number))
            if amount < row["total"]:
                self._event(number, f"part payment {receipt} of KES {amount} ({source})")
                return "partial"
            self._db.execute(
                "UPDATE orders SET status = 'paid', result_code = 0, result_desc = ?,"
                " receipt = ?, confirmed_by = ? WHERE number = ?",
                ("Paid by M-Pesa paybill", receipt, source, number),
            )
            self._event(number, f"paid by {source}: receipt {receipt} KES {amount}")
        return "paid"

    def awaiting(self, older_than: float) -> list[str]:
        """CheckoutRequestIDs of pushes with no result for longer than `older_than` seconds."""
        with self._lock:
            rows = self._db.execute(
                "SELECT checkout_request_id FROM orders"
                " WHERE status = 'awaiting_payment' AND push_sent_at < ?",
                (time.time() - older_than,),
            ).fetchall()
        return [r[0] for r in rows]

    def paid_receipts(self) -> list[str]:
        """The receipts of paid orders, for reconciliation (an order paid by STK Query alone
        has none)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT receipt FROM orders WHERE status = 'paid' AND receipt IS NOT NULL"
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self._db.close()


def _message(order: dict[str, Any]) -> str:
    if order["status"] == "pending_payment":
        return "Waiting for you to pay."
    if order["status"] == "awaiting_payment":
        return "Check your phone and enter your M-Pesa PIN."
    code = order["result_code"]
    return CUSTOMER_MESSAGES.get(code, f"The payment did not go through: {order['result_desc']}")
