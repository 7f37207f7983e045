"""The --state file's format: JSON rows, private to the user, no Password, old files refused."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from emulator.cli import main
from emulator.config import Settings
from emulator.kernel.persistence import StateFile, StateFileError
from emulator.wiring import Emulator
from tests.test_stateful import push_request

PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


def test_a_file_of_the_pickle_era_is_refused_with_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE transactions (id TEXT PRIMARY KEY, seq INTEGER, record BLOB)")
        db.execute("INSERT INTO transactions VALUES ('x', 1, ?)", (b"\x80\x05N.",))
    with pytest.raises(StateFileError, match="older version.*delete it or start without --state"):
        StateFile(old)
    assert main(["--state", str(old), "--port", "0"], env={}) == 2
    assert "older version" in capsys.readouterr().err


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StateFileError, match="not a Daraja Emulator state file"):
        StateFile(junk)


def test_rows_are_json_private_and_hold_no_password(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def main_() -> None:
        emu = Emulator(Settings(state_file=path, seed=3))
        txn = emu.stk.push(push_request("254708374149", 10, "REF", "20260115103000", PASSKEY),
                           emu.clock.now())
        emu.lifecycle.accepted(txn)
        await emu.aclose()

    asyncio.run(main_())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        rows = [row for (row,) in db.execute("SELECT row FROM rows WHERE kind = 'stk'")]
    assert len(rows) == 1 and rows[0].startswith("{")
    password = push_request("254708374149", 10, "REF", "20260115103000", PASSKEY).password
    assert password not in rows[0] and PASSKEY not in rows[0]
    restored = StateFile(path).rows("stk")[0]
    assert restored["request"]["phone"] == "254708374149" and "password" not in restored["request"]
