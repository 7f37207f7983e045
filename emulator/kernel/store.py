"""All mutable emulator state in one object; `reset()` empties it, tokens excepted.

An optional `Journal` (the --state file) is told of every change, so state survives a restart.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import NamedTuple, Protocol

from emulator.daraja.stk.models import Transaction


class Token(NamedTuple):
    """An issued access token; a tuple of plain values, so the cyclic GC never tracks it (an
    hour of tokens under load is a hundred thousand of them)."""

    value: str
    consumer_key: str
    expires_at: datetime


RequestRecord = tuple[datetime, str, str, "int | None", str]


class Journal(Protocol):
    """Where changes are written for durability; see persistence.StateFile."""

    def save(self, txn: Transaction) -> None: ...
    def remove(self, checkout_ids: list[str]) -> None: ...
    def clear(self) -> None: ...
    def save_token(self, token: Token) -> None: ...


class Store:
    """Plain data; behaviour lives in the backends that own the rules."""

    def __init__(self, journal_size: int = 10_000, journal: Journal | None = None) -> None:
        self.journal_size = journal_size
        self.journal = journal
        self.tokens: dict[str, Token] = {}  # maps access token -> its app and expiry
        self._empty()

    def reset(self) -> None:
        self._empty()
        if self.journal is not None:
            self.journal.clear()

    def _empty(self) -> None:
        self.transactions: dict[str, Transaction] = {}  # maps CheckoutRequestID -> transaction
        self.locks: dict[str, str] = {}  # maps MSISDN -> CheckoutRequestID pending on that phone
        self.completed: deque[str] = deque()  # CheckoutRequestIDs in completion order
        self.inbox: dict[str, deque[dict[str, object]]] = {}  # maps inbox name -> its callbacks
        self.queued: dict[str | None, deque[str]] = {}  # maps MSISDN (None: any) -> scenarios
        # (at, method, path, status, detail), newest last: plain tuples, which GC does not track
        self.requests: deque[RequestRecord] = deque(maxlen=self.journal_size)

    def add(self, txn: Transaction) -> None:
        self.transactions[txn.checkout_request_id] = txn
        if not txn.is_final:
            self.locks[txn.phone] = txn.checkout_request_id
        else:
            self.completed.append(txn.checkout_request_id)
        self.save(txn)

    def save(self, txn: Transaction) -> None:
        """Record a change to a transaction (new state, a callback attempt)."""
        if self.journal is not None:
            self.journal.save(txn)

    def add_token(self, token: Token) -> None:
        self.tokens[token.value] = token
        if self.journal is not None:
            self.journal.save_token(token)

    def finish(self, txn: Transaction) -> None:
        """Release the phone's lock and keep the journal within its bound (oldest first)."""
        if self.locks.get(txn.phone) == txn.checkout_request_id:
            del self.locks[txn.phone]
        self.completed.append(txn.checkout_request_id)
        self.save(txn)
        evicted = []
        while len(self.completed) > self.journal_size:
            evicted.append(self.completed.popleft())
            self.transactions.pop(evicted[-1], None)
        if evicted and self.journal is not None:
            self.journal.remove(evicted)
