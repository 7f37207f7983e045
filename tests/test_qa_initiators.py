"""The initiator QA subcommands (results, result, queue-initiator, fast-forward-result, unlock,
certificate) against a real server, as test_qa_cli.py runs the STK ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from emulator import EmulatorServer, Settings
from emulator.cli import main
from emulator.handle import EmulatorHandle
from tests.helpers import CallbackReceiver, Daraja
from tests.initiator_client import call

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(server: EmulatorServer, capsys: pytest.CaptureFixture[str]) -> Run:
    """daraja-emulator ARGS... against the test's server: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--url", server.url], {})
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_results_and_one_result(run: Run, daraja: Daraja, receiver: CallbackReceiver) -> None:
    ack = call(daraja, receiver, "b2c", OriginatorConversationID="refund-LX-1").json()
    with EmulatorHandle(str(daraja.http.base_url)) as emu:
        emu.wait_for_result(ack["ConversationID"])
    call(daraja, receiver, "txstatus", TransactionID="UAB0000000")
    code, out, _ = run("results")
    header, *rows = out.splitlines()
    assert code == 0 and header.split() == ["CONVERSATION", "ID", "CREATED", "API", "INITIATOR",
                                            "SCENARIO", "STATE", "RESULT", "POSTS"]
    assert len(rows) == 2 and rows[1].startswith(ack["ConversationID"])
    assert rows[1].split()[2:] == ["b2c", "testapi", "-", "completed", "0", "1"]
    assert run("results", "--api", "txstatus")[1].count("AG_") == 1
    code, out, _ = run("result", "refund-LX-1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ConversationID", ack["ConversationID"]]
    assert "OriginatorConversationID  refund-LX-1" in out
    assert "result                    0 The service request is processed successfully." in out
    assert "credential                any well-formed SecurityCredential is accepted" in out
    assert "result posts (1):" in out and "-> 200" in out
    assert '"api": "b2c"' in run("result", ack["ConversationID"], "--json")[1]
    assert run("result", "AG_nope")[2] == "daraja-emulator: no initiator request AG_nope\n"


def test_queue_initiator_list_and_clear(
    run: Run, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    code, out, _ = run("queue-initiator", "initiator-invalid", "--api", "b2c", "--count", "2")
    assert code == 0
    assert "the next 2 request(s) to b2c end as initiator-invalid" in out
    assert "b2c  initiator-invalid, initiator-invalid" in out
    code, out, _ = run("queue-initiator", "initiator-result-lost")
    assert "to any initiator API end as initiator-result-lost" in out
    assert "any  initiator-result-lost" in out
    conversation_id = call(daraja, receiver, "b2c").json()["ConversationID"]
    with EmulatorHandle(str(daraja.http.base_url)) as emu:
        assert emu.wait_for_result(conversation_id)["result_code"] == 2001
    assert "b2c  initiator-invalid\n" in run("queue-initiator", "--list")[1]
    assert run("queue-initiator", "--clear")[:2] == (0, "initiator queue cleared\n")
    assert run("queue-initiator")[1] == "initiator queue: empty\n"
    code, _, err = run("queue-initiator", "success")
    assert code == 1 and "no initiator scenario named 'success'" in err
    assert run("queue-initiator", "x", "--count", "0")[2].startswith(
        "daraja-emulator: count must be a whole number from 1 to 10000")


def test_pending_results_show_when_due_and_fast_forward(
    run: Run, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    daraja.admin("POST", "/time", json={"scale": 1000})
    first = call(daraja, receiver, "balance").json()["ConversationID"]
    call(daraja, receiver, "balance")
    out = run("results", "--state", "pending")[1]
    assert out.count("pending (due in") == 2
    assert run("fast-forward-result", first)[1] == (
        "fast-forwarded 1 initiator request(s): their results are due now\n")
    assert run("fast-forward-result")[1].startswith("fast-forwarded 1 ")
    assert run("results", "--state", "pending")[1] == "no initiator requests\n"


def test_unlock_and_certificate_lenient(run: Run) -> None:
    assert run("unlock", "testapi")[:2] == (0, "testapi: was not locked\n")
    code, _, err = run("certificate")
    assert code == 1 and "--strict-credentials" in err


def test_unlock_and_certificate_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], receiver: CallbackReceiver
) -> None:
    pytest.importorskip("cryptography")
    settings = Settings(time_scale=0, strict_credentials=True)
    with EmulatorServer(settings) as server, EmulatorHandle(server.url) as emu:
        def qa(*args: str) -> tuple[int, str]:
            capsys.readouterr()
            code = main([*args, "--url", server.url], {})
            return code, capsys.readouterr().out

        code, out = qa("certificate")
        assert code == 0 and out.startswith("-----BEGIN CERTIFICATE-----")
        assert qa("certificate", "--out", str(tmp_path / "emulator.cer"))[0] == 0
        assert (tmp_path / "emulator.cer").read_text() == out
        daraja = Daraja(server.url, receiver.url())
        wrong = emu.security_credential("guess")
        for _ in range(3):
            ack = call(daraja, receiver, "balance", SecurityCredential=wrong).json()
            emu.wait_for_result(ack["ConversationID"])
        daraja.close()
        assert qa("unlock", "testapi") == (0, "testapi: unlocked\n")
