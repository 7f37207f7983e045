"""Initiator requests survive a restart with --state: a result still owed is decided and posted
once after the restart, a finished one is not posted again, B2C v3 still refuses a repeated
OriginatorConversationID, and no SecurityCredential is written to the file. Also
`--initiator NAME:PASSWORD` as the command line and DARAJA_INITIATOR read it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from emulator import EmulatorServer, Settings
from emulator.cli import serve_parser, settings_from
from emulator.handle import EmulatorHandle
from tests.helpers import CallbackReceiver, Daraja
from tests.initiator_client import CREDENTIAL, call, results, wait_result


def test_pending_results_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    slow = Settings(time_scale=1000, seed=3, state_file=state)  # results due in 17-50 minutes
    receiver = CallbackReceiver()
    try:
        with EmulatorServer(Settings(time_scale=0, seed=3, state_file=state)) as first:
            shop = Daraja(first.url, receiver.url())
            done = call(shop, receiver, "balance").json()["ConversationID"]
            wait_result(receiver, done)
            shop.close()
        with EmulatorServer(slow) as second, EmulatorHandle(second.url) as emu:
            shop = Daraja(second.url, receiver.url())
            emu.queue_initiator("initiator-invalid", api="txstatus")
            refund = call(shop, receiver, "b2c", OriginatorConversationID="refund-LX-7",
                          Amount=250).json()["ConversationID"]
            status = call(shop, receiver, "txstatus", TransactionID="UAB0000000").json()[
                "ConversationID"]
            assert {r["conversation_id"] for r in emu.initiator_results(state="pending")} == {
                refund, status}
            utility = emu.business("600992")["accounts"]["Utility Account"]
            shop.close()
        assert CREDENTIAL.encode() not in state.read_bytes()
        with sqlite3.connect(state) as db:  # the WAL was checkpointed on close; be sure anyway
            rows = db.execute("SELECT * FROM rows").fetchall() if _has(db, "rows") else []
        assert all(CREDENTIAL not in str(row) for row in rows)
        with EmulatorServer(Settings(time_scale=0, seed=3, state_file=state)) as third, \
                EmulatorHandle(third.url) as emu:
            shop = Daraja(third.url, receiver.url())
            [paid] = wait_result(receiver, refund)
            assert paid["ResultCode"] == 0 and paid["OriginatorConversationID"] == "refund-LX-7"
            [failed] = wait_result(receiver, status)
            assert failed["ResultCode"] == 2001  # the queued outcome was kept with the request
            job = emu.wait_for_result(refund)
            assert job["state"] == "completed" and len(job["attempts"]) == 1
            assert float(emu.business("600992")["accounts"]["Utility Account"]) == float(
                utility) - 250
            again = call(shop, receiver, "b2c", OriginatorConversationID="refund-LX-7")
            assert again.status_code == 500 and again.json()["errorCode"] == "500.002.1001"
            time.sleep(0.2)
            assert len(results(receiver, done)) == 1  # finished before: not posted again
            assert emu.initiator_result(done)["state"] == "completed"
            shop.close()
    finally:
        receiver.close()


def _has(db: sqlite3.Connection, table: str) -> bool:
    found = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (table,)).fetchone()
    return found is not None


def _settings(argv: list[str], env: dict[str, str] | None = None) -> Settings:
    return settings_from(serve_parser(env or {}).parse_args(argv))


def test_initiator_flag_repeats_and_keeps_the_password_whole() -> None:
    s = _settings(["--initiator", "shop:Sh0p#&%$", "--initiator", "ops:pa:ss",
                   "--strict-credentials"])
    assert s.initiators == {"shop": "Sh0p#&%$", "ops": "pa:ss"}
    assert s.strict_credentials


def test_initiator_variable() -> None:
    s = _settings([], {"DARAJA_INITIATOR": "shop:one, ops:two"})
    assert s.initiators == {"shop": "one", "ops": "two"}
    assert _settings(["--initiator", "cli:three"], {"DARAJA_INITIATOR": "shop:one"}
                     ).initiators == {"shop": "one", "cli": "three"}  # as --app: both count


@pytest.mark.parametrize("given", ["shop", "shop:", ":pw", ""])
def test_initiator_without_name_or_password_is_refused(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _settings(["--initiator", given])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--initiator" in err and "expected KEY:VALUE" in err and "Traceback" not in err


def test_a_flag_initiator_is_known_to_strict_credentials() -> None:
    pytest.importorskip("cryptography")
    settings = _settings(["--initiator", "shop:Sh0p#1", "--strict-credentials",
                          "--time-scale", "0"])
    receiver = CallbackReceiver()
    try:
        with EmulatorServer(settings) as server, EmulatorHandle(server.url) as emu:
            shop = Daraja(server.url, receiver.url())
            good = emu.security_credential("Sh0p#1")
            ack = call(shop, receiver, "balance", Initiator="shop", SecurityCredential=good)
            job = emu.wait_for_result(ack.json()["ConversationID"])
            assert job["result_code"] == 0 and "decrypts to the initiator's password" in job[
                "credential"]
            shop.close()
    finally:
        receiver.close()
