"""The --state file: rows of plain JSON in SQLite, so a restart (even kill -9) loses nothing.

Each change is one committed write in WAL mode: a killed process leaves the last committed state,
never half a record. Rows are JSON that each family's codec reads back (no pickles: a class
change cannot break the file and a writable file cannot run code). The file is made 0600.
sqlite3 is imported when a file is opened, so a server without --state never loads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

FORMAT = "2"  # the row format; files of format 1 held pickles
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS rows (
    kind TEXT, key TEXT, seq INTEGER, row TEXT, PRIMARY KEY (kind, key));
"""


class StateFileError(Exception):
    """The state file cannot be used; the message says what to do."""


class StateFile:
    def __init__(self, path: Path) -> None:
        import sqlite3

        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # a new folder is made, as documented
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)  # new files: for the user only
            os.close(fd)
        except OSError as exc:
            raise StateFileError(f"state file {path} cannot be opened: {exc.strerror}") from None
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._check_format(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
            os.chmod(path, 0o600)  # ours now: an older file made readable by others is closed
        except sqlite3.DatabaseError as exc:
            raise StateFileError(
                f"state file {path} is not a Daraja Emulator state file ({exc}); "
                "give another path or start without --state") from None
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM rows").fetchone()[0]

    def _check_format(self, path: Path) -> None:
        tables = {name for (name,) in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        found = None
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
            found = row[0] if row else None
        if "transactions" in tables or (found is not None and found != FORMAT):
            raise StateFileError(
                f"state file {path} was written by an older version of the emulator; "
                "delete it or start without --state")
        if tables - {"meta", "rows"}:
            raise StateFileError(
                f"state file {path} is not a Daraja Emulator state file; "
                "give another path or start without --state")

    def save(self, kind: str, key: str, row: dict[str, Any]) -> None:
        self._seq += 1
        self._db.execute(
            "INSERT INTO rows (kind, key, seq, row) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, key) DO UPDATE SET row = excluded.row",
            (kind, key, self._seq, orjson.dumps(row).decode()),
        )

    def remove(self, kind: str, keys: list[str]) -> None:
        self._db.executemany(
            "DELETE FROM rows WHERE kind = ? AND key = ?", [(kind, k) for k in keys])

    def clear(self, kind: str) -> None:
        self._db.execute("DELETE FROM rows WHERE kind = ?", (kind,))

    def rows(self, kind: str) -> list[dict[str, Any]]:
        """Every row of a kind, oldest first."""
        cursor = self._db.execute("SELECT row FROM rows WHERE kind = ? ORDER BY seq", (kind,))
        return [orjson.loads(row) for (row,) in cursor]

    def close(self) -> None:
        self._db.close()
