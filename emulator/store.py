"""All mutable emulator state in one object; `reset()` empties it, tokens excepted."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from .daraja.stk.models import Transaction


@dataclass(frozen=True)
class Token:
    value: str
    consumer_key: str
    expires_at: datetime


class Store:
    """Plain data; behaviour lives in the backends that own the rules."""

    def __init__(self, journal_size: int = 10_000) -> None:
        self.journal_size = journal_size
        self.tokens: dict[
            str, Token
        ] = {}  # maps access token -> its app and expiry; survives reset
        self.reset()

    def reset(self) -> None:
        self.transactions: dict[str, Transaction] = {}  # maps CheckoutRequestID -> transaction
        self.locks: dict[str, str] = {}  # maps MSISDN -> CheckoutRequestID pending on that phone
        self.completed: deque[str] = (
            deque()
        )  # CheckoutRequestIDs in completion order (journal bound)
        # maps inbox name -> the latest callbacks posted to /_emulator/inbox/<name>
        self.inbox: dict[str, deque[dict[str, object]]] = {}
        self.queued: dict[str | None, deque[str]] = {}  # maps MSISDN (None: any) -> scenario names

    def add(self, txn: Transaction) -> None:
        self.transactions[txn.checkout_request_id] = txn
        self.locks[txn.phone] = txn.checkout_request_id

    def finish(self, txn: Transaction) -> None:
        """Release the phone's lock and keep the journal within its bound (oldest first)."""
        if self.locks.get(txn.phone) == txn.checkout_request_id:
            del self.locks[txn.phone]
        self.completed.append(txn.checkout_request_id)
        while len(self.completed) > self.journal_size:
            self.transactions.pop(self.completed.popleft(), None)
