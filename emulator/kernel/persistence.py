"""The --state file: transactions and tokens in SQLite, so a restart (even kill -9) loses nothing.

Each change is one committed write in WAL mode: a killed process leaves the last committed state,
never half a record. Records are pickled dataclasses; the file is local, trusted data.
"""

from __future__ import annotations

import pickle
import sqlite3
from datetime import datetime
from pathlib import Path

from emulator.daraja.stk.models import Transaction
from emulator.kernel.store import Token

SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (id TEXT PRIMARY KEY, seq INTEGER, record BLOB);
CREATE TABLE IF NOT EXISTS tokens (value TEXT PRIMARY KEY, consumer_key TEXT, expires_at TEXT);
"""


class StateFile:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM transactions").fetchone()[0]

    def save(self, txn: Transaction) -> None:
        self._seq += 1
        self._db.execute(
            "INSERT INTO transactions (id, seq, record) VALUES (?, ?, ?) ON CONFLICT(id) "
            "DO UPDATE SET record = excluded.record",
            (txn.checkout_request_id, self._seq, pickle.dumps(txn, pickle.HIGHEST_PROTOCOL)),
        )

    def remove(self, checkout_ids: list[str]) -> None:
        self._db.executemany("DELETE FROM transactions WHERE id = ?", [(i,) for i in checkout_ids])

    def clear(self) -> None:
        self._db.execute("DELETE FROM transactions")

    def save_token(self, token: Token) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
            (token.value, token.consumer_key, token.expires_at.isoformat()),
        )

    def transactions(self) -> list[Transaction]:
        """Every stored transaction, oldest first."""
        rows = self._db.execute("SELECT record FROM transactions ORDER BY seq")
        return [pickle.loads(record) for (record,) in rows]

    def tokens(self, now: datetime) -> list[Token]:
        """Tokens still valid at `now`; expired ones are dropped from the file."""
        self._db.execute("DELETE FROM tokens WHERE expires_at <= ?", (now.isoformat(),))
        rows = self._db.execute(  # in expiry order, as OAuthBackend's pruning expects
            "SELECT value, consumer_key, expires_at FROM tokens ORDER BY expires_at"
        )
        return [Token(v, k, datetime.fromisoformat(e)) for v, k, e in rows]

    def close(self) -> None:
        self._db.close()
